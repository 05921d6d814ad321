//! TLS to PostgreSQL from the server: `--database-url` with `sslmode=require` and with
//! `sslmode=verify-full&sslrootcert=...`, against a throwaway cluster with its own CA.

mod support;

use std::process::Command;

use seatcore::testing::{prerequisite_missing, Cluster};
use support::*;

#[test]
fn server_talks_tls_to_postgresql() {
    if !Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success()) {
        return prerequisite_missing("server_talks_tls_to_postgresql", "no openssl command");
    }
    let cluster = Cluster::start("http-tls", true);
    let ca = cluster.ca_cert();
    let urls = [
        ("require", cluster.url("127.0.0.1", "sslmode=require&application_name=srv_tls_require")),
        (
            "verify_full",
            cluster.url(
                "localhost",
                &format!(
                    "sslmode=verify-full&sslrootcert={}&application_name=srv_tls_verify_full",
                    ca.display()
                ),
            ),
        ),
    ];
    let mut probe = postgres::Client::connect(&cluster.url("127.0.0.1", ""), postgres::NoTls).unwrap();
    for (mode, url) in &urls {
        // The URL comes by flag; the environment's DATABASE_URL must not win.
        let srv = Server::start("postgres://nobody@127.0.0.1:1/none", &["--no-demo", "--database-url", url]);
        let show = format!("tls_{mode}");
        srv.show(&show, &["A1", "A2"]);
        let hold = srv.post(&format!("/shows/{show}/hold"), r#"{"seat_ids": ["A1"]}"#).expect(201);
        let booking =
            srv.post_json(&format!("/shows/{show}/book"), &json!({"hold_id": hold["hold_id"]})).expect(200);
        assert_eq!(booking["seat_ids"], json!(["A1"]));
        assert_eq!(srv.get("/health").expect(200)["database"], "connected");
        let (sessions, encrypted): (i64, bool) = {
            let row = probe
                .query_one(
                    "SELECT count(*), coalesce(bool_and(s.ssl), false) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                     WHERE a.application_name = $1",
                    &[&format!("srv_tls_{mode}")],
                )
                .unwrap();
            (row.get(0), row.get(1))
        };
        assert!(sessions > 0, "{mode}: no server session found");
        assert!(encrypted, "{mode}: a server session is not encrypted");
        assert!(!srv.log().contains("sslrootcert"), "the log repeats the URL");
    }
}
