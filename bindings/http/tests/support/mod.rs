//! Starts the real `seatcore-server` binary on a free loopback port and talks HTTP to it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

pub use seatcore::testing::TestDb;
pub use serde_json::{json, Value};

/// A running server; killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the binary against `db_url` with extra flags (plus `--bind 127.0.0.1:0`).
    pub fn start(db_url: &str, args: &[&str]) -> Server {
        Server::start_with(env!("CARGO_BIN_EXE_seatcore-server"), &[], db_url, args)
    }

    /// Starts the binary through a wrapper, `program prefix...` (e.g. `prlimit ... --`).
    pub fn start_with(program: &str, prefix: &[&str], db_url: &str, args: &[&str]) -> Server {
        let mut cmd = Command::new(program);
        cmd.args(prefix)
            .args(["--bind", "127.0.0.1:0", "--workers", "8"])
            .args(args)
            .env("DATABASE_URL", db_url)
            .env_remove("SEATCORE_ADMIN_TOKEN");
        Server::spawn(cmd)
    }

    /// Starts `cmd` (the binary, its flags and environment as the caller set them) and
    /// waits until it listens.
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child =
            cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("starting seatcore-server");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    {
                        // logged before the address is handed out: a caller sees the line
                        let mut l = log.lock().unwrap();
                        l.push_str(&line);
                        l.push('\n');
                    }
                    if let Some(i) = line.find("listening on http://") {
                        let addr =
                            line[i + "listening on http://".len()..].split(' ').next().unwrap().to_owned();
                        let _ = tx.send(addr);
                    }
                }
            });
        }
        // The address comes when the server listens; the channel closes if it exits first.
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not start; its log:\n{}", log.lock().unwrap());
            }
        };
        Server { child: Some(child), base: format!("http://{addr}"), addr, log }
    }

    /// The process id, while the child is held.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once `done` holds of it (a request's line is written after its response is
    /// handed over, so it can come after the client has its answer); as it is after 30 s
    /// otherwise, for the caller's assertion to show.
    pub fn log_once(&self, done: impl Fn(&str) -> bool) -> String {
        let until = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.log();
            if done(&log) || std::time::Instant::now() >= until {
                return log;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.as_ref().unwrap().id();
        let ok = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success();
        assert!(ok, "kill -TERM {pid}");
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().unwrap();
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The exit status, if the process has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().unwrap().try_wait().unwrap()
    }

    // --- HTTP helpers ---

    pub fn get(&self, path: &str) -> Resp {
        call("GET", &self.url(path), &[], None)
    }

    /// POST with `Content-Type: application/json`.
    pub fn post(&self, path: &str, body: &str) -> Resp {
        call("POST", &self.url(path), &[("Content-Type", "application/json")], Some(body.as_bytes()))
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.post(path, &body.to_string())
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
        call(method, &self.url(path), headers, body)
    }

    /// The core's audit of `show` through `GET /audit`, asserted clean: every invariant
    /// holds. Returns the audit document.
    pub fn audit_ok(&self, show: &str) -> Value {
        let v = self.get(&format!("/audit?show_id={show}")).expect(200);
        assert_eq!(v["ok"], true, "the audit of {show} found problems: {v:#}");
        assert_eq!(v["problems"], json!([]), "{v:#}");
        v
    }

    /// Makes a show through the API.
    pub fn show<S: AsRef<str>>(&self, show_id: &str, seats: &[S]) {
        let seats: Vec<&str> = seats.iter().map(AsRef::as_ref).collect();
        let r = self.post_json(&format!("/shows/{show_id}/initialize"), &json!({ "seat_ids": seats }));
        assert_eq!(r.status, 201, "initialize {show_id}: {}", r.body);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A fresh schema and a server on it, without the demo show.
pub fn serve(label: &str) -> (TestDb, Server) {
    let db = TestDb::new(label);
    let srv = Server::start(&db.url, &["--no-demo"]);
    (db, srv)
}

/// Polls `done` until it holds; fails after a minute, naming `what` it waited for.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The program to start the server: the binary cargo built for these tests.
pub fn server_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seatcore-server"))
}

/// A response, whatever its status.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// Asserts the status and returns the JSON body.
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        self.json()
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).max_idle_connections_per_host(64).build()
    })
}

/// One request with ureq; 4xx and 5xx come back as a [`Resp`] too.
pub fn call(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
    let mut req = agent().request(method, url);
    for (n, v) in headers {
        req = req.set(n, v);
    }
    let res = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: transport error: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.header(&n).unwrap_or("").to_owned();
            (n, v)
        })
        .collect();
    let mut body = String::new();
    resp.into_reader().read_to_string(&mut body).expect("reading the body");
    Resp { status, headers, body }
}

/// Sends raw bytes on a fresh connection and returns everything the server answers.
pub fn raw(addr: &str, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `now()` of the database, for checking expiry times against the clock that set them.
pub fn db_now(db: &TestDb) -> chrono::DateTime<chrono::Utc> {
    db.client().query_one("SELECT now()", &[]).unwrap().get(0)
}

pub fn seconds_until(iso: &str, now: chrono::DateTime<chrono::Utc>) -> f64 {
    let t = chrono::DateTime::parse_from_rfc3339(iso).expect("an ISO 8601 time");
    (t.with_timezone(&chrono::Utc) - now).num_milliseconds() as f64 / 1000.0
}

/// The 50 seats of the demo layout.
pub fn demo_seats() -> Vec<String> {
    ["A", "B", "C", "D", "E"].iter().flat_map(|r| (1..=10).map(move |n| format!("{r}{n}"))).collect()
}
