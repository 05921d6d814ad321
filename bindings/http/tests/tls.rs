//! TLS to PostgreSQL from the server: `--database-url` with `sslmode=require` and with
//! `sslmode=verify-full&sslrootcert=...`, against a throwaway cluster with its own CA.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use support::*;

struct Cluster {
    dir: std::path::PathBuf,
    port: u16,
}

impl Cluster {
    fn pg_sh(&self, verb: &str) -> std::process::Output {
        Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg.sh"))
            .arg(verb)
            .env("SEATCORE_PGDATA", &self.dir)
            .env("SEATCORE_PG_PORT", self.port.to_string())
            .env("SEATCORE_PG_SSL", "1")
            .output()
            .unwrap()
    }

    fn start() -> Cluster {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("seatcore-http-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cluster = Cluster { dir: dir.join("data"), port };
        let out = cluster.pg_sh("start");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        cluster
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/seatcore?{query}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.pg_sh("stop");
        let _ = std::fs::remove_dir_all(self.dir.parent().unwrap());
    }
}

#[test]
fn server_talks_tls_to_postgresql() {
    if Command::new("openssl").arg("version").output().map_or(true, |o| !o.status.success()) {
        eprintln!("skipping server_talks_tls_to_postgresql: no openssl command");
        return;
    }
    let cluster = Cluster::start();
    let ca = cluster.dir.join("ca.crt");
    let urls = [
        ("require", cluster.url("127.0.0.1", "sslmode=require&application_name=srv_tls_require")),
        (
            "verify_full",
            cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={}&application_name=srv_tls_verify_full", ca.display())),
        ),
    ];
    let mut probe = postgres::Client::connect(&cluster.url("127.0.0.1", ""), postgres::NoTls).unwrap();
    for (mode, url) in &urls {
        // The URL comes by flag; the environment's DATABASE_URL must not win.
        let srv = Server::start("postgres://nobody@127.0.0.1:1/none", &["--no-demo", "--database-url", url]);
        let show = format!("tls_{mode}");
        srv.show(&show, &["A1", "A2"]);
        let hold = srv.post(&format!("/shows/{show}/hold"), r#"{"seat_ids": ["A1"]}"#).expect(201);
        let booking = srv.post_json(&format!("/shows/{show}/book"), &json!({"hold_id": hold["hold_id"]})).expect(200);
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
