//! Test support (feature `test-support`): a throwaway schema per test on a real PostgreSQL.
//!
//! The server is `DATABASE_URL` when set; otherwise the project's private cluster, started
//! (or reused) through `scripts/pg.sh start`. Each [`TestDb`] is a fresh schema in that
//! database, reached through a URL whose `search_path` points at it, and dropped afterwards.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The project's `scripts/pg.sh`.
pub const PG_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg.sh");

/// The URL of the database tests run against.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if !url.is_empty() {
                return url;
            }
        }
        let script = PG_SH;
        let out = Command::new("bash")
            .args([script, "start"])
            .output()
            .unwrap_or_else(|e| panic!("running {script}: {e}"));
        assert!(out.status.success(), "{script} start failed:\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("pg.sh prints a URL").trim().to_owned()
    })
}

/// A fresh, empty schema for one test.
pub struct TestDb {
    /// The schema's name.
    pub schema: String,
    /// A URL that reaches the schema (through `options=-c search_path=...`).
    pub url: String,
}

impl TestDb {
    /// Creates a schema named after `label`, the process and a counter.
    pub fn new(label: &str) -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let clean: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .take(30)
            .collect();
        let schema = format!("t_{clean}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(server_url(), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to the test database {}: {e}", server_url()));
        admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
            .expect("creating the test schema");
        let url = with_search_path(server_url(), &schema);
        TestDb { schema, url }
    }

    /// A plain client on the schema, for checking invariants behind the core's back.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connecting to the test schema")
    }

    /// The show ids the planner's statistics of the schema's seats know of (their most
    /// common values, as PostgreSQL's array text), or `None` while the table has none.
    pub fn shows_in_statistics(&self) -> Option<String> {
        let row = self
            .client()
            .query_opt(
                "SELECT most_common_vals::text FROM pg_stats
                 WHERE schemaname = $1 AND tablename = 'seats' AND attname = 'show_id'",
                &[&self.schema],
            )
            .expect("reading pg_stats");
        row.map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
    }

    /// Every record of `show` in the change log (of `seat_id` only, when given), oldest first,
    /// once the log shows each one committed so far. The log shows a record once no
    /// transaction older than it is still open anywhere in the cluster, and other tests'
    /// transactions can delay that: this reads until every committed record is there.
    pub fn settled_history(
        &self,
        core: &crate::SeatCore,
        show: &str,
        seat_id: Option<&str>,
    ) -> Vec<crate::Change> {
        use std::time::{Duration, Instant};
        let committed: i64 = self
            .client()
            .query_one(
                "SELECT count(*) FROM changes WHERE show_id = $1 AND ($2::text IS NULL OR $2 = ANY (seat_ids))",
                &[&show, &seat_id],
            )
            .expect("counting the show's records")
            .get(0);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut all = Vec::new();
            let mut after = 0;
            loop {
                let query = crate::HistoryQuery {
                    after,
                    limit: crate::MAX_CHANGE_PAGE,
                    seat_id: seat_id.map(str::to_owned),
                };
                let page = core.history(show, &query).expect("reading the show's history");
                let done = page.changes.is_empty();
                all.extend(page.changes);
                if done {
                    break;
                }
                after = page.next;
            }
            if all.len() as i64 >= committed {
                return all;
            }
            assert!(Instant::now() < deadline, "the log never showed all {committed} records of {show}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(server_url(), postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// `url` with its search path set to `schema` (a plain identifier).
pub fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// A throwaway PostgreSQL cluster of a test's own, for tests that stop, crash or reconfigure
/// the server (never the shared one): `scripts/pg.sh` in a fresh folder under the temp dir,
/// on a free port. With `ssl`, the cluster has its own CA ([`Cluster::ca_cert`]) and a server
/// certificate for `localhost` and `127.0.0.1`. Stopped and removed on drop.
pub struct Cluster {
    /// The data folder.
    pub dir: PathBuf,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    ssl: bool,
    /// For a hot standby: the port of the cluster it streams from.
    primary: Option<u16>,
}

impl Cluster {
    /// Starts a new cluster; `label` names its folder.
    pub fn start(label: &str, ssl: bool) -> Cluster {
        Cluster::make(label, ssl, None)
    }

    /// Starts a hot standby of this cluster: a copy (pg_basebackup) that streams from it and
    /// answers reads. Its `seatcore` database is this cluster's.
    pub fn standby(&self, label: &str) -> Cluster {
        Cluster::make(label, self.ssl, Some(self.port))
    }

    fn make(label: &str, ssl: bool, primary: Option<u16>) -> Cluster {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // under the temp dir and world-searchable, so the postgres user (as root) can own
        // the data folder inside
        let parent = std::env::temp_dir().join(format!("seatcore-{label}-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cluster = Cluster { dir: parent.join("data"), port, ssl, primary };
        cluster.up();
        cluster
    }

    /// A plain client on the cluster's `seatcore` database, for looking behind the core's back.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url("127.0.0.1", "sslmode=disable"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to the cluster on port {}: {e}", self.port))
    }

    /// Waits until `standby` has replayed everything this cluster has written so far.
    pub fn wait_replayed(&self, standby: &Cluster) {
        let lsn: String = self.client().query_one("SELECT pg_current_wal_lsn()::text", &[]).unwrap().get(0);
        let mut s = standby.client();
        let started = std::time::Instant::now();
        while !s
            .query_one("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", &[&lsn])
            .unwrap()
            .get::<_, bool>(0)
        {
            assert!(started.elapsed().as_secs() < 60, "the standby did not replay up to {lsn} in 60 s");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Runs `scripts/pg.sh VERB` on this cluster.
    pub fn pg_sh(&self, verb: &str) -> Output {
        Command::new("bash")
            .args([PG_SH, verb])
            .env("SEATCORE_PGDATA", &self.dir)
            .env("SEATCORE_PG_PORT", self.port.to_string())
            .env("SEATCORE_PG_SSL", if self.ssl { "1" } else { "0" })
            .env("SEATCORE_PG_PRIMARY", self.primary.map(|p| p.to_string()).unwrap_or_default())
            .output()
            .unwrap()
    }

    /// Starts the cluster (again, after [`Cluster::crash`] or a stop).
    pub fn up(&self) {
        let out = self.pg_sh("start");
        assert!(out.status.success(), "pg.sh start: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Stops the server at once, without a checkpoint (`pg_ctl -m immediate`).
    pub fn crash(&self) {
        let out = self.pg_sh("crash");
        assert!(out.status.success(), "pg.sh crash: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A URL of the `seatcore` database on `host` with query `params` (may be empty).
    pub fn url(&self, host: &str, params: &str) -> String {
        let q = if params.is_empty() { String::new() } else { format!("?{params}") };
        format!("postgres://postgres@{host}:{}/seatcore{q}", self.port)
    }

    /// The CA certificate that signed the server's (with `ssl`).
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// A CA certificate that did not sign the server's: made on first call, next to the
    /// data folder. A `verify-ca`/`verify-full` connection trusting it must be refused.
    pub fn foreign_ca_cert(&self) -> PathBuf {
        let parent = self.dir.parent().expect("the data folder has a parent");
        let cert = parent.join("foreign-ca.crt");
        if !cert.exists() {
            let made = Command::new("openssl")
                .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"])
                .args(["-subj", "/CN=a CA nobody trusts"])
                .arg("-keyout")
                .arg(parent.join("foreign-ca.key"))
                .arg("-out")
                .arg(&cert)
                .output()
                .expect("running openssl");
            assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
        }
        cert
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.pg_sh("stop");
        if let Some(parent) = self.dir.parent() {
            let _ = std::fs::remove_dir_all(parent);
        }
    }
}

/// Whether the tests run under CI (`CI` set, and not to `false` or `0`).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A test's prerequisite is missing: under CI the test fails; elsewhere it says why it
/// did not run, and the caller returns.
pub fn prerequisite_missing(test: &str, what: &str) {
    assert!(!under_ci(), "{test}: {what} (CI is set: every prerequisite must be there)");
    eprintln!("skipping {test}: {what}");
}

/// The `host:port` of the test database, as its URL names it, for a proxy to take its place
/// in the URL. `None` (the prerequisite missing for `test`) when the database is not
/// reached over TCP or its URL does not name host:port.
pub fn database_host_port(db: &TestDb, test: &str) -> Option<String> {
    let cfg: postgres::Config = db.url.parse().unwrap();
    let hostport = match (cfg.get_hosts().first(), cfg.get_ports().first()) {
        (Some(postgres::config::Host::Tcp(h)), Some(p)) => format!("{h}:{p}"),
        _ => {
            prerequisite_missing(test, "the test database is not reached over TCP (a proxy goes between)");
            return None;
        }
    };
    if !db.url.contains(&hostport) {
        prerequisite_missing(test, "the test database's URL does not name host:port (a proxy goes between)");
        return None;
    }
    Some(hostport)
}

/// A TCP forwarder in front of PostgreSQL that, once armed with a piece of SQL, lets the next
/// statement containing it reach the database but throws its reply away, and holds that
/// connection until the test cuts it: the statement commits, the caller never hears.
pub struct LossyProxy {
    pub addr: String,
    armed: Arc<Mutex<Option<Vec<u8>>>>,
    /// Connections whose reply is being thrown away: (client side, database side).
    held: Arc<Mutex<Vec<(TcpStream, TcpStream)>>>,
}

impl LossyProxy {
    pub fn start(target: String) -> LossyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let armed: Arc<Mutex<Option<Vec<u8>>>> = Arc::new(Mutex::new(None));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (armed2, held2) = (Arc::clone(&armed), Arc::clone(&held));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let lost = Arc::new(AtomicBool::new(false));
                // database -> client, dropped once this connection's reply is to be lost
                {
                    let (mut from, mut to, lost) =
                        (server.try_clone().unwrap(), client.try_clone().unwrap(), Arc::clone(&lost));
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        while let Ok(n @ 1..) = from.read(&mut buf) {
                            if !lost.load(Ordering::SeqCst) && to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
                // client -> database, watching for the armed SQL
                let (armed, held) = (Arc::clone(&armed2), Arc::clone(&held2));
                std::thread::spawn(move || {
                    let (mut from, mut to) = (client, server);
                    let mut buf = [0u8; 16384];
                    let mut window: Vec<u8> = Vec::new();
                    while let Ok(n @ 1..) = from.read(&mut buf) {
                        window.extend_from_slice(&buf[..n]);
                        let hit = {
                            let mut a = armed.lock().unwrap();
                            let hit =
                                a.as_ref().is_some_and(|p| window.windows(p.len()).any(|w| w == &p[..]));
                            if hit {
                                *a = None;
                            }
                            hit
                        };
                        let keep = window.len().saturating_sub(256);
                        window.drain(..keep);
                        if hit {
                            // From here on the database's answers are thrown away; the
                            // connection is cut when the test says so.
                            lost.store(true, Ordering::SeqCst);
                            held.lock().unwrap().push((from.try_clone().unwrap(), to.try_clone().unwrap()));
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(Shutdown::Both);
                });
            }
        });
        LossyProxy { addr, armed, held }
    }

    /// The next statement containing `sql` reaches the database, but its reply is lost.
    pub fn lose_reply_to(&self, sql: &str) {
        *self.armed.lock().unwrap() = Some(sql.as_bytes().to_vec());
    }

    /// Hangs up both sides of every connection whose reply is being lost; returns how many.
    pub fn cut(&self) -> usize {
        let held: Vec<_> = self.held.lock().unwrap().drain(..).collect();
        for (client, server) in &held {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
        held.len()
    }
}
