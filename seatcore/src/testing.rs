//! Test support (feature `test-support`): a throwaway schema per test on a real PostgreSQL.
//!
//! The server is `DATABASE_URL` when set; otherwise the project's private cluster, started
//! (or reused) through `scripts/pg.sh start`. Each [`TestDb`] is a fresh schema in that
//! database, reached through a URL whose `search_path` points at it, and dropped afterwards.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The URL of the database tests run against.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if !url.is_empty() {
                return url;
            }
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg.sh");
        let out = Command::new("bash")
            .args([script, "start"])
            .output()
            .unwrap_or_else(|e| panic!("running {script}: {e}"));
        assert!(
            out.status.success(),
            "{script} start failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
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
        let schema = format!(
            "t_{clean}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
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
