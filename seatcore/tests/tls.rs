//! TLS to PostgreSQL: a throwaway cluster with its own CA and server certificate.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use seatcore::{ErrorKind, Options, SeatCore};

struct Cluster {
    dir: std::path::PathBuf,
    port: u16,
}

fn pg_sh(cluster: &Cluster, verb: &str) -> std::process::Output {
    Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg.sh"))
        .arg(verb)
        .env("SEATCORE_PGDATA", &cluster.dir)
        .env("SEATCORE_PG_PORT", cluster.port.to_string())
        .env("SEATCORE_PG_SSL", "1")
        .output()
        .unwrap()
}

impl Cluster {
    fn start() -> Cluster {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // under /tmp and world-searchable, so the postgres user can own a folder inside
        let dir = std::env::temp_dir().join(format!("seatcore-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cluster = Cluster { dir: dir.join("data"), port };
        let out = pg_sh(&cluster, "start");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        cluster
    }

    fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://postgres@{host}:{}/seatcore?{params}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        pg_sh(self, "stop");
        let _ = std::fs::remove_dir_all(self.dir.parent().unwrap());
    }
}

fn works(url: &str) -> seatcore::Result<()> {
    let opts = Options { min_idle: 1, checkout_timeout: std::time::Duration::from_secs(2), ..Options::default() };
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
    let cluster = Cluster::start();
    let ca = cluster.dir.join("ca.crt");
    let ca = ca.to_str().unwrap();
    // encrypted, certificate not checked
    works(&cluster.url("127.0.0.1", "sslmode=require")).unwrap();
    // chain and host name checked against our CA
    works(&cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={ca}"))).unwrap();
    works(&cluster.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"))).unwrap();
    // the sessions really are encrypted
    let mut c = postgres::Client::connect(&cluster.url("127.0.0.1", ""), postgres::NoTls).unwrap();
    let core = SeatCore::connect(&cluster.url("127.0.0.1", "sslmode=require&application_name=tlsprobe"), Options::default()).unwrap();
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
    let other = cluster.dir.parent().unwrap().join("other-ca.crt");
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other"])
        .arg("-keyout")
        .arg(cluster.dir.parent().unwrap().join("other-ca.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(made.status.success());
    let err = works(&cluster.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", other.to_str().unwrap()),
    ))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}
