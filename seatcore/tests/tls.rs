//! TLS to PostgreSQL: a throwaway cluster with its own CA and server certificate.

use seatcore::testing::Cluster;
use seatcore::{ErrorKind, Options, SeatCore};

fn works(url: &str) -> seatcore::Result<()> {
    let opts =
        Options { min_idle: 1, checkout_timeout: std::time::Duration::from_secs(2), ..Options::default() };
    let core = SeatCore::connect(url, opts)?;
    let show = format!("tls{}", seatcore::Uuid::new_v4().simple());
    core.initialize_show(&show, &["A1", "A2"])?;
    let hold = core.hold(&show, &["A1"], 60)?;
    core.book(&show, &hold.hold_id.to_string())?;
    assert_eq!(core.seat_status(&show)?.counts.booked, 1);
    Ok(())
}

#[test]
fn tls_modes_behave_like_libpq() {
    let cluster = Cluster::start("tls", true);
    let ca = cluster.ca_cert();
    let ca = ca.to_str().unwrap();
    // encrypted, certificate not checked
    works(&cluster.url("127.0.0.1", "sslmode=require")).unwrap();
    // chain and host name checked against our CA
    works(&cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={ca}"))).unwrap();
    works(&cluster.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"))).unwrap();
    // the sessions really are encrypted
    let mut c = postgres::Client::connect(&cluster.url("127.0.0.1", ""), postgres::NoTls).unwrap();
    let core = SeatCore::connect(
        &cluster.url("127.0.0.1", "sslmode=require&application_name=tlsprobe"),
        Options::default(),
    )
    .unwrap();
    core.health().unwrap();
    let encrypted: bool = c
        .query_one(
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'tlsprobe'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(encrypted);
    // a CA that did not sign the server's certificate is refused
    let other = cluster.foreign_ca_cert();
    let err = works(
        &cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={}", other.to_str().unwrap())),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}
