//! Hostile clients and a hostile environment: slow clients (slowloris, trickled bodies),
//! descriptor exhaustion, and database errors that must not leak into responses.
//! Figures are printed (`cargo test -p seatcore-server --test hostile -- --nocapture`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use seatcore::testing::prerequisite_missing;
use support::*;

/// One request on a fresh connection; the status line's code and the time it took.
fn fresh_request(addr: &str, request: &str) -> Result<(u16, Duration), String> {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).map_err(|e| format!("write: {e}"))?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&out);
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line in {text:?}"))?;
    Ok((code, started.elapsed()))
}

/// Raises this process's descriptor limit (the server inherits it) as far as allowed;
/// returns the new soft limit.
fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        let want = lim.rlim_max.min(8192);
        if lim.rlim_cur < want {
            lim.rlim_cur = want;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1).min(sorted.len() - 1)]
}

#[test]
fn a_thousand_slow_clients_do_not_starve_normal_ones() {
    // Both this process and the server hold one descriptor per slow client.
    let nofile = raise_nofile();
    let slow_count = 1000usize.min(nofile.saturating_sub(300) as usize);
    assert!(slow_count >= 500, "descriptor limit {nofile} too low for this test");
    let db = TestDb::new("hostile_slow");
    let srv = Server::start(&db.url, &["--no-demo", "--request-timeout-seconds", "6"]);
    srv.show(
        "s",
        &(1..=400)
            .map(|i| format!("S{i}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );

    // 500 never finish their head (slowloris); 500 send a whole head announcing a 4 KiB
    // body and trickle it (upstream tiny_http handed such requests to a worker at once,
    // which then sat reading the body).
    let slow_n = slow_count;
    let mut slow: Vec<TcpStream> = Vec::with_capacity(slow_n);
    for i in 0..slow_n {
        let mut s = TcpStream::connect(&srv.addr).expect("a slow client connects");
        let head = if i % 2 == 0 {
            "POST /shows/s/hold HTTP/1.1\r\nHost: x\r\n".to_owned()
        } else {
            "POST /shows/s/hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{".to_owned()
        };
        s.write_all(head.as_bytes()).unwrap();
        s.set_nonblocking(true).unwrap();
        slow.push(s);
    }
    let trickle_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickler = {
        let stop = std::sync::Arc::clone(&trickle_stop);
        let mut socks = std::mem::take(&mut slow);
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for (i, s) in socks.iter_mut().enumerate() {
                    let _ = s.write(if i % 2 == 0 { b"X" } else { b" " });
                }
                std::thread::sleep(Duration::from_millis(300));
            }
            socks
        })
    };

    // Normal clients, each request on a new connection: the server must still accept and
    // answer promptly.
    let mut took = Vec::new();
    let normal_started = Instant::now();
    for i in 0..300 {
        let request = if i % 3 == 0 {
            let body = format!(r#"{{"seat_ids": ["S{}"]}}"#, i / 3 + 1);
            format!(
                "POST /shows/s/hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        } else {
            "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_owned()
        };
        let (code, t) =
            fresh_request(&srv.addr, &request).unwrap_or_else(|e| panic!("normal request {i}: {e}"));
        assert_eq!(code, if i % 3 == 0 { 201 } else { 200 }, "normal request {i}");
        took.push(t);
    }
    let normal_elapsed = normal_started.elapsed();
    took.sort();
    let (p50, p99, max) = (percentile(&took, 0.50), percentile(&took, 0.99), *took.last().unwrap());
    println!(
        "slow clients: {slow_n} trickling, 300 normal requests in {:.2}s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        normal_elapsed.as_secs_f64(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?} with {slow_n} slow clients");
    assert_eq!(srv.get("/shows/s/seats").expect(200)["held_seats"], 100);

    // The slow clients are cut off once the request deadline passes: 408, then closed.
    std::thread::sleep(Duration::from_secs(7).saturating_sub(normal_elapsed));
    trickle_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let slow = trickler.join().unwrap();
    let mut timed_out = 0;
    for mut s in slow.into_iter().step_by(50) {
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        if String::from_utf8_lossy(&out).starts_with("HTTP/1.1 408") {
            timed_out += 1;
        }
    }
    assert_eq!(timed_out, slow_n.div_ceil(50), "every sampled slow client got 408 and was closed");
    // Not one slow client's hold was made.
    assert_eq!(srv.get("/shows/s/seats").expect(200)["held_seats"], 100);
}

#[test]
fn a_body_trickled_in_is_cut_off_at_the_request_timeout() {
    let db = TestDb::new("hostile_trickle");
    let srv = Server::start(&db.url, &["--no-demo", "--request-timeout-seconds", "1"]);
    // A body over 1 MiB is read by the worker that handles the request: a byte every 50 ms
    // never lets the socket fall idle, and 2 MB would take more than a day.
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.write_all(
        b"POST /shows/drip/initialize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 2000000\r\n\r\n{\"seat_ids\": [",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    loop {
        assert!(started.elapsed() < Duration::from_secs(60), "a trickling client held its worker a minute");
        if s.write_all(b" ").is_err() {
            break; // the server closed the connection
        }
        match s.read_to_end(&mut answer) {
            Ok(_) => break,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if !answer.is_empty() {
                    break;
                }
            }
            Err(_) => break, // reset
        }
    }
    println!("trickled body: cut off after {:.2} s", started.elapsed().as_secs_f64());
    let text = String::from_utf8_lossy(&answer);
    assert!(text.is_empty() || !text.starts_with("HTTP/1.1 2"), "{text}");
    assert_eq!(srv.get("/shows/drip/seats").status, 404);
    assert_eq!(srv.get("/health").status, 200);
}

#[test]
fn connections_over_the_cap_get_503_and_the_server_goes_on() {
    let db = TestDb::new("hostile_cap");
    let srv = Server::start(&db.url, &["--no-demo", "--max-connections", "20"]);
    // 20 keep-alive connections, each known to the server: each got an answer and stays open.
    let idle: Vec<TcpStream> = (0..20).map(|_| answered_keep_alive(&srv.addr)).collect();
    // The refusal comes at once, before any request (sending one could race the close).
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 503"), "the 21st connection is refused with 503: {text:?}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(serde_json::from_str::<Value>(body).unwrap(), json!({"error": "too many connections, retry"}));
    assert!(head.contains("Access-Control-Allow-Origin: *"), "{head}");
    assert!(head.contains(&format!("Content-Length: {}", body.len())), "{head}");
    assert!(head.contains("Retry-After: 1"), "{head}");
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match fresh_request(&srv.addr, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") {
            Ok((200, _)) => break,
            other => {
                assert!(Instant::now() < deadline, "not served again after the idle clients left: {other:?}")
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn descriptor_exhaustion_does_not_kill_the_listener() {
    let db = TestDb::new("hostile_fds");
    // The server under a 64-descriptor limit (prlimit from util-linux).
    if !Command::new("prlimit").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
        return prerequisite_missing(
            "descriptor_exhaustion_does_not_kill_the_listener",
            "no prlimit (util-linux)",
        );
    }
    let srv = Server::start_with(
        "prlimit",
        &["--nofile=64:64", "--", env!("CARGO_BIN_EXE_seatcore-server")],
        &db.url,
        &["--no-demo", "--workers", "2"],
    );
    assert_eq!(srv.get("/health").status, 200);

    // 150 idle connections: far more than the server has descriptors left.
    let mut errors = Vec::new();
    let hogs: Vec<TcpStream> = (0..150)
        .filter_map(|_| {
            TcpStream::connect_timeout(&srv.addr.parse().unwrap(), Duration::from_secs(2))
                .map_err(|e| errors.push(e.to_string()))
                .ok()
        })
        .collect();
    println!("descriptor exhaustion: {} connections opened, errors: {:?}", hogs.len(), errors.first());
    assert!(hogs.len() >= 100, "only {} connections opened", hogs.len());
    std::thread::sleep(Duration::from_millis(500));
    let log = srv.log();
    assert!(srv_alive(&srv), "the server died under descriptor exhaustion; log:\n{log}");

    drop(hogs);
    // Once descriptors are free again, the same listener serves again.
    let deadline = Instant::now() + Duration::from_secs(60);
    let recovered = loop {
        match fresh_request(&srv.addr, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") {
            Ok((200, t)) => break t,
            other => assert!(Instant::now() < deadline, "not served after descriptors came back: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    println!(
        "descriptor exhaustion: 150 connections against nofile=64; served again, request took {:.1} ms",
        recovered.as_secs_f64() * 1e3
    );
    srv.show("f", &["A1"]);
    srv.post("/shows/f/hold", r#"{"seat_ids": ["A1"]}"#).expect(201);
}

/// A connection that sent one request and read its whole answer, and stays open.
fn answered_keep_alive(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).expect("an answer on a kept-alive connection");
        assert!(n > 0, "closed before the answer: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
                })
                .expect("a Content-Length");
            if body.len() >= length {
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                return s;
            }
        }
    }
}

fn srv_alive(srv: &Server) -> bool {
    srv.pid().is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// Words that would betray SQL text or internals in a response body.
const LEAKS: &[&str] = &[
    "select",
    "insert",
    "update ",
    "delete",
    "relation",
    "sqlstate",
    "db error",
    "postgres",
    "syntax",
    "column",
    "table",
    "panicked",
    "stack",
    "127.0.0.1",
    "error:",
    "search_path",
];

fn assert_no_leak(what: &str, body: &str) {
    let lower = body.to_lowercase();
    for w in LEAKS {
        assert!(!lower.contains(w), "{what}: body leaks {w:?}: {body}");
    }
}

#[test]
fn database_errors_never_reach_the_client() {
    let (db, srv) = serve("hostile_leak");
    srv.show("l", &["A1", "A2"]);
    let hold = srv.post("/shows/l/hold", r#"{"seat_ids": ["A1"]}"#).expect(201);
    let hold_id = hold["hold_id"].as_str().unwrap().to_owned();

    // Break the schema under the running server: every statement now fails in PostgreSQL
    // with an error naming the missing relation.
    db.client()
        .batch_execute("DROP TABLE seats CASCADE; DROP TABLE holds CASCADE; DROP TABLE bookings CASCADE")
        .unwrap();

    let calls: Vec<(&str, String, String)> = vec![
        ("POST", "/shows/l/hold".into(), r#"{"seat_ids": ["A2"]}"#.into()),
        ("POST", "/shows/l/book".into(), format!(r#"{{"hold_id": "{hold_id}"}}"#)),
        ("POST", "/shows/l/release-hold".into(), format!(r#"{{"hold_id": "{hold_id}"}}"#)),
        ("GET", "/shows/l/seats".into(), String::new()),
        ("POST", "/shows/m/initialize".into(), r#"{"seat_ids": ["A1"]}"#.into()),
        ("POST", "/reset".into(), String::new()),
    ];
    let mut failures = 0;
    for (method, path, body) in &calls {
        let r = srv.request(
            method,
            path,
            &[("Content-Type", "application/json")],
            (!body.is_empty()).then_some(body.as_bytes()),
        );
        assert!(r.status >= 400, "{method} {path} succeeded on a broken schema: {}", r.body);
        if r.status >= 500 {
            failures += 1;
        }
        assert!(r.json().is_object(), "{method} {path}: not a JSON object: {}", r.body);
        assert_no_leak(&format!("{method} {path}"), &r.body);
    }
    assert!(failures >= 5, "database failures must be 5xx");
    let r = srv.get("/reset");
    assert_no_leak("GET /reset", &r.body);
    // Health reports the failure without the database's words.
    let r = srv.get("/health");
    assert_no_leak("GET /health", &r.body);
    let r = srv.request(
        "POST",
        "/shows/l/hold",
        &[("Content-Type", "application/json")],
        Some(b"{\"seat_ids\": [\"A2\"]}"),
    );
    assert_eq!(r.json(), json!({"error": "internal error"}));
}
