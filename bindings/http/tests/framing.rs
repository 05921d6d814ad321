//! The HTTP layer under hostile and malformed input, over real sockets against the real
//! binary: a connection that never reads holds no worker, a reply must be written within
//! its deadline, ambiguous framing (request smuggling, RFC 9112 §6.3) is refused before any
//! hidden request can run, and every reply the HTTP library makes by itself is JSON with
//! the CORS header.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

/// How long a client waits for an answer that must come at once. The server takes
/// milliseconds; a request timeout (10 s by default) must not be what ends the wait.
const AT_ONCE: Duration = Duration::from_secs(5);

/// A reply read off a socket.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: String,
    /// Everything received until the server closed the connection (or `AT_ONCE` passed).
    all: String,
    /// Whether the server closed the connection.
    closed: bool,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// How many responses came: status lines, `HTTP/1.1 ddd `.
    fn responses(&self) -> usize {
        statuses(&self.all).len()
    }

    /// Asserts a refusal made by the HTTP library: this status, a JSON `{"error": ...}`
    /// body with the CORS header, one response only, and the connection closed.
    fn refused(&self, status: u16, what: &str) -> String {
        assert_eq!(self.status, status, "{what}: {}", self.all);
        assert_eq!(self.header("Access-Control-Allow-Origin"), Some("*"), "{what}: {}", self.head);
        assert_eq!(self.header("Content-Type"), Some("application/json"), "{what}: {}", self.head);
        let v: Value =
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{what}: {e}: {:?}", self.body));
        let error = v["error"].as_str().unwrap_or_else(|| panic!("{what}: no error in {v}")).to_owned();
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{what}: {v}");
        assert_eq!(self.responses(), 1, "{what}: more than one response: {}", self.all);
        assert!(self.closed, "{what}: the connection stayed open after the refusal");
        error
    }
}

/// The status of every response in `text`, in order.
fn statuses(text: &str) -> Vec<u16> {
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| {
            let code = text.get(i + 9..i + 13)?;
            code.ends_with(' ').then(|| code[..3].parse().ok()).flatten()
        })
        .collect()
}

/// Sends `bytes` on a fresh connection and reads until the server closes it or `AT_ONCE`
/// passes without a byte.
fn exchange(addr: &str, bytes: &[u8]) -> Raw {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(AT_ONCE)).unwrap();
    s.write_all(bytes).unwrap();
    read_reply(&mut s)
}

fn read_reply(s: &mut TcpStream) -> Raw {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                break false
            }
            // a reset after the reply: closed as well
            Err(_) => break true,
        }
    };
    let all = String::from_utf8_lossy(&out).into_owned();
    let (head, rest) = all.split_once("\r\n\r\n").unwrap_or((&all, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let head = head.to_owned();
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(rest.len())
        .min(rest.len());
    let body = rest[..length].to_owned();
    Raw { status, head, body, all, closed }
}

/// The state (`/proc/net/tcp` code: 1 is ESTABLISHED) and send queue of the server's side
/// of the connection from `client_port`; `None` once the socket is gone.
fn server_side(server_port: u16, client_port: u16) -> Option<(u8, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("reading /proc/net/tcp (Linux)");
    let port = |field: &str| field.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 || port(f[1])? != server_port || port(f[2])? != client_port {
            return None;
        }
        let state = u8::from_str_radix(f[3], 16).ok()?;
        let tx_queue = u64::from_str_radix(f[4].split(':').next()?, 16).ok()?;
        Some((state, tx_queue))
    })
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

/// `GET /health` on a fresh connection; its status and how long it took.
fn health(addr: &str, limit: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(limit)).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| format!("no answer within {limit:?}: {e}"))?;
    let text = String::from_utf8_lossy(&out);
    if !text.starts_with("HTTP/1.1 200") {
        return Err(format!("answered {text:?}"));
    }
    Ok(started.elapsed())
}

/// Makes show `big`, 200,000 seats, in-process (making it is not what these tests are
/// about, and a debug build on a busy machine parses the 2.6 MB request slowly); returns
/// the size of its status document as the core writes it.
fn big_show(db: &TestDb) -> usize {
    let options = seatcore::Options {
        pool_size: 1,
        min_idle: 0,
        statement_timeout: Duration::from_secs(120),
        ..seatcore::Options::DEFAULT
    };
    let core = seatcore::SeatCore::connect(&db.url, options).expect("connecting");
    let seats: Vec<String> = (0..200_000).map(|i| format!("S{i:06}")).collect();
    core.initialize_show("big", &seats).expect("making the show");
    serde_json::to_vec(&core.seat_status("big").unwrap()).unwrap().len()
}

fn assert_audit_ok(db: &TestDb) {
    let core = seatcore::SeatCore::connect(&db.url, seatcore::Options::DEFAULT).expect("connecting");
    let audit = core.audit(None).expect("the audit runs");
    assert!(audit.summary.ok, "invariants broken: {:?}", audit.problems);
}

#[test]
fn a_body_cut_before_its_declared_length_is_refused() {
    let (_db, srv) = serve("framing_cut_body");
    // Declared lengths read ahead by the connection (up to 1 MiB), read whole by the
    // handler (up to 4 MiB) and parsed as they arrive (past 4 MiB): each body is a whole
    // JSON object, cut short of its declared length by the client's end of sending.
    for (show, declared) in [("ahead", 1_000), ("whole", 2_000_000), ("streamed", 5_000_000)] {
        let mut s = TcpStream::connect(&srv.addr).unwrap();
        let body = r#"{"seat_ids": ["A1"]}"#;
        write!(
            s,
            "POST /shows/{show}/initialize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {declared}\r\n\r\n{body}"
        )
        .unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        assert!(!out.starts_with("HTTP/1.1 2"), "{show}: {out}");
        assert_eq!(srv.get(&format!("/shows/{show}/seats")).status, 404, "{show}: {out}");
    }
    srv.show("after", &["A1"]);
}

#[test]
fn a_client_that_pipelines_and_never_reads_holds_no_worker() {
    let db = TestDb::new("framing_pipeline");
    let srv = Server::start(&db.url, &["--workers", "4"]);
    let (server_port, one) =
        (port_of(&srv.addr), "GET /shows/avengers_2026_7pm/seats HTTP/1.1\r\nHost: x\r\n\r\n");
    let requests = one.repeat(3000);

    // One client sends 3,000 status requests in one go and never reads a reply.
    let greedy = TcpStream::connect(&srv.addr).unwrap();
    let client_port = greedy.local_addr().unwrap().port();
    let writer = {
        let mut greedy = greedy.try_clone().unwrap();
        std::thread::spawn(move || greedy.write_all(requests.as_bytes()).is_ok())
    };

    // Meanwhile /health, on fresh connections, answers within 1 s every time: while the
    // replies pile up, and for 20 requests after the server is stuck writing to that client
    // (over 1 MiB of replies queued on its socket).
    let (mut checks, mut stuck_since, mut worst) = (0, None, Duration::ZERO);
    let started = Instant::now();
    while stuck_since.is_none_or(|n| checks < n + 20) {
        let took = health(&srv.addr, Duration::from_secs(1))
            .unwrap_or_else(|e| panic!("/health, check {checks}, while one client pipelines: {e}"));
        worst = worst.max(took);
        checks += 1;
        if stuck_since.is_none() && server_side(server_port, client_port).is_some_and(|(_, tx)| tx >= 1 << 20)
        {
            stuck_since = Some(checks);
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the replies never piled up");
    }
    println!(
        "pipelining client: {checks} /health checks, the slowest {:.1} ms; the server got stuck writing after {}",
        worst.as_secs_f64() * 1e3,
        stuck_since.unwrap()
    );
    // The pipelined requests are served one after another, as the client's socket takes the
    // replies: not all of them, as it takes none.
    let served = srv.log().matches("GET /shows/avengers_2026_7pm/seats 200").count();
    assert!((1..3000).contains(&served), "{served} status requests served");

    greedy.shutdown(Shutdown::Both).unwrap();
    let _ = writer.join();
    assert_eq!(srv.get("/health").status, 200);
    assert_audit_ok(&db);
}

#[test]
fn a_reply_must_be_written_within_its_deadline() {
    let (db, srv) = serve("framing_deadline");
    // A status of about 8 MB: more than the socket buffers of both ends hold.
    big_show(&db);

    let mut slow = TcpStream::connect(&srv.addr).unwrap();
    let client_port = slow.local_addr().unwrap().port();
    let started = Instant::now();
    slow.write_all(b"GET /shows/big/seats HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // The client reads 1 KiB every 20 ms (50 KiB/s): every write the server makes goes
    // through in time, but the whole reply would take minutes.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut got = 0usize;
            let mut buf = [0u8; 1024];
            while !stop.load(Ordering::Relaxed) {
                match slow.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            got
        })
    };
    // The event: the server gives up on the connection (its socket leaves ESTABLISHED).
    let server_port = port_of(&srv.addr);
    let closed_after = loop {
        match server_side(server_port, client_port) {
            Some((1, _)) => {}
            _ => break started.elapsed(),
        }
        assert!(health(&srv.addr, Duration::from_secs(1)).is_ok(), "/health while a client reads slowly");
        assert!(started.elapsed() < Duration::from_secs(60), "the slow reader's connection was never closed");
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.store(true, Ordering::Relaxed);
    let got = reader.join().unwrap();
    println!(
        "slow reader: the server closed the connection {:.2} s after the request ({got} bytes read by then)",
        closed_after.as_secs_f64()
    );
    // The write deadline (10 s) runs from the start of the reply, whatever the progress.
    assert!(closed_after >= Duration::from_secs(10), "closed after {closed_after:?}");
    assert!(closed_after < Duration::from_secs(20), "closed after {closed_after:?}");
    assert_audit_ok(&db);
}

/// `POST /reset` (no admin token is configured): if it ever runs, the hold is gone.
const HIDDEN: &str = "POST /reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";

#[test]
fn smuggled_requests_never_run() {
    let (db, srv) = serve("framing_smuggling");
    srv.show("s", &["A1", "A2"]);
    srv.post("/shows/s/hold", r#"{"seat_ids": ["A1"]}"#).expect(201);

    let n = |body: &str| body.len();
    let chunked_then_hidden = format!("0\r\n\r\n{HIDDEN}");
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "Content-Length and Transfer-Encoding",
            format!(
                "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{chunked_then_hidden}",
                n(&chunked_then_hidden)
            ),
            400,
        ),
        (
            "Transfer-Encoding and Content-Length",
            format!(
                "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: {}\r\n\r\n{chunked_then_hidden}",
                n(&chunked_then_hidden)
            ),
            400,
        ),
        (
            "two different Content-Lengths",
            format!("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: {}\r\n\r\n{HIDDEN}", n(HIDDEN)),
            400,
        ),
        (
            "a list of different Content-Lengths",
            format!("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0, {}\r\n\r\n{HIDDEN}", n(HIDDEN)),
            400,
        ),
        ("Content-Length with a sign", format!("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n{HIDDEN}"), 400),
        ("a negative Content-Length", format!("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{HIDDEN}"), 400),
        ("a Content-Length not a number", format!("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0x\r\n\r\n{HIDDEN}"), 400),
        (
            "an overflowing Content-Length",
            format!("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{HIDDEN}"),
            400,
        ),
        (
            "Transfer-Encoding folded into the line before",
            format!(
                "GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: 1\r\n Transfer-Encoding: chunked\r\n\r\n{chunked_then_hidden}"
            ),
            400,
        ),
        (
            "a coding after chunked",
            format!("GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n{chunked_then_hidden}"),
            400,
        ),
        (
            "a coding that only looks like chunked",
            format!("GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n{chunked_then_hidden}"),
            400,
        ),
        (
            "Transfer-Encoding in HTTP/1.0",
            format!("GET /health HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{chunked_then_hidden}"),
            400,
        ),
        (
            "a space before the colon",
            format!("GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n{chunked_then_hidden}"),
            400,
        ),
    ];
    for (what, bytes, status) in &cases {
        let reply = exchange(&srv.addr, bytes.as_bytes());
        let held = srv.get("/shows/s/seats").expect(200)["held_seats"].as_u64();
        assert_eq!(held, Some(1), "{what}: the hidden POST /reset ran; the replies:\n{}", reply.all);
        reply.refused(*status, what);
    }
    assert!(!srv.log().contains("POST /reset"), "a hidden request reached the router:\n{}", srv.log());
    assert_audit_ok(&db);
}

#[test]
fn transfer_codings_other_than_chunked_are_answered_at_once() {
    let (db, srv) = serve("framing_codings");
    for (coding, status) in
        [("gzip, chunked", 501), ("deflate, chunked", 501), ("gzip", 400), ("identity", 400)]
    {
        let started = Instant::now();
        let reply = exchange(
            &srv.addr,
            format!("POST /reset HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n\r\n").as_bytes(),
        );
        reply.refused(status, coding);
        assert!(started.elapsed() < AT_ONCE, "{coding}: answered after {:?}", started.elapsed());
    }
    // chunked alone is read, small or larger than what is read ahead of the handler
    srv.show("c", &["A1"]);
    for pad in [0usize, 2 << 20] {
        let body = format!(r#"{{"seat_ids": ["A1"], "pad": "{}"}}"#, "x".repeat(pad));
        let mut chunked = String::new();
        for piece in body.as_bytes().chunks(100_000) {
            chunked.push_str(&format!("{:x}\r\n{}\r\n", piece.len(), String::from_utf8_lossy(piece)));
        }
        let reply = exchange(
            &srv.addr,
            format!(
                "POST /shows/c/hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunked}0\r\n\r\n"
            )
            .as_bytes(),
        );
        let expected = if pad == 0 { 201 } else { 413 };
        assert_eq!(reply.status, expected, "{}", &reply.all[..reply.all.len().min(300)]);
    }
    let reply = exchange(
        &srv.addr,
        b"POST /shows/c/hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    );
    reply.refused(400, "a malformed chunk");
    assert_audit_ok(&db);
}

#[test]
fn bare_lf_line_endings_are_accepted() {
    let (db, srv) = serve("framing_lf");
    srv.show("l", &["A1"]);
    let started = Instant::now();
    let reply = exchange(&srv.addr, b"GET /health HTTP/1.1\nHost: x\nConnection: close\n\n");
    assert_eq!(reply.status, 200, "{}", reply.all);
    let body = r#"{"seat_ids": ["A1"]}"#;
    let reply = exchange(
        &srv.addr,
        format!(
            "POST /shows/l/hold HTTP/1.1\nHost: x\nContent-Type: application/json\r\nContent-Length: {}\nConnection: close\n\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(reply.status, 201, "{}", reply.all);
    assert!(started.elapsed() < AT_ONCE, "answered after {:?}", started.elapsed());
    assert_audit_ok(&db);
}

#[test]
fn malformed_heads_get_a_json_400_at_once() {
    let (_db, srv) = serve("framing_malformed");
    let cases: &[(&str, &[u8])] = &[
        ("a non-ASCII byte in the path", b"GET /sh\xc3\xb6ws HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("a non-ASCII byte in a header value", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Name: J\xf6rg\r\n\r\n"),
        ("a non-ASCII byte in a header name", b"GET /health HTTP/1.1\r\nHost: x\r\nX-\xff: 1\r\n\r\n"),
        ("a NUL in a header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Name: a\x00b\r\n\r\n"),
        ("a bare CR", b"GET /health HTTP/1.1\r\nHost: x\rX-Name: 1\r\n\r\n"),
        ("a folded header line", b"GET /health HTTP/1.1\r\nHost: x\r\n\tmore\r\n\r\n"),
        ("a header line without a colon", b"GET /health HTTP/1.1\r\nHost x\r\n\r\n"),
        ("a header without a name", b"GET /health HTTP/1.1\r\n: x\r\n\r\n"),
        ("a request line of one word", b"BLAH\r\n\r\n"),
        ("a request line of four words", b"GET /health HTTP/1.1 x\r\n\r\n"),
        ("an empty target", b"GET  HTTP/1.1\r\n\r\n"),
        ("an unknown version", b"GET /health HTTP/1.2\r\n\r\n"),
    ];
    for (what, bytes) in cases {
        let started = Instant::now();
        let error = exchange(&srv.addr, bytes).refused(400, what);
        assert!(started.elapsed() < AT_ONCE, "{what}: answered after {:?}", started.elapsed());
        println!("{what}: 400 {error:?}");
    }
    assert_eq!(srv.get("/health").status, 200);
}

#[test]
fn every_reply_of_the_http_library_is_json_with_cors() {
    let db = TestDb::new("framing_library");
    let srv = Server::start(&db.url, &["--no-demo", "--request-timeout-seconds", "1"]);
    let long = "x".repeat(20 * 1024);
    let many: String = (0..101).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let cases: Vec<(&str, String, u16)> = vec![
        ("HTTP/2.0", "GET /health HTTP/2.0\r\nHost: x\r\n\r\n".into(), 505),
        ("HTTP/0.9", "GET /health HTTP/0.9\r\n\r\n".into(), 505),
        ("a 20 KiB request line", format!("GET /{long} HTTP/1.1\r\nHost: x\r\n\r\n"), 414),
        ("a 20 KiB header line", format!("GET /health HTTP/1.1\r\nX-Long: {long}\r\n\r\n"), 431),
        ("101 header lines", format!("GET /health HTTP/1.1\r\n{many}\r\n"), 431),
        (
            "an unknown expectation",
            "POST /reset HTTP/1.1\r\nHost: x\r\nExpect: the-unexpected\r\n\r\n".into(),
            417,
        ),
    ];
    for (what, bytes, status) in &cases {
        exchange(&srv.addr, bytes.as_bytes()).refused(*status, what);
    }
    // A head that never ends: 408 once the request timeout (1 s here) passes.
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(AT_ONCE)).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
    read_reply(&mut s).refused(408, "an unfinished head");
}

#[test]
fn expect_100_continue_and_pipelined_requests_are_served_in_order() {
    let (db, srv) = serve("framing_order");
    srv.show("o", &["A1", "A2", "A3"]);

    // Expect: 100-continue: the interim reply comes before the body is sent.
    let body = r#"{"seat_ids": ["A1"]}"#;
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(AT_ONCE)).unwrap();
    let head = format!(
        "POST /shows/o/hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        s.read_exact(&mut byte).expect("an interim reply before the body is sent");
        interim.push(byte[0]);
    }
    assert!(interim.starts_with(b"HTTP/1.1 100 Continue\r\n"), "{}", String::from_utf8_lossy(&interim));
    s.write_all(body.as_bytes()).unwrap();
    assert_eq!(read_reply(&mut s).status, 201);

    // Pipelined requests of every kind, one write: the replies come in order.
    let post = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let mut pipeline = String::new();
    let mut expected = Vec::new();
    for i in 0..30 {
        let (request, status) = match i % 5 {
            0 => ("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(), 200),
            1 => (post("/shows/o/hold", r#"{"seat_ids": ["A1"]}"#), 409),
            2 => ("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(), 404),
            3 => (post("/shows/o/hold", "not json"), 400),
            _ => ("GET /shows/o/seats HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(), 200),
        };
        pipeline.push_str(&request);
        expected.push(status);
    }
    pipeline.push_str("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expected.push(200);
    let reply = exchange(&srv.addr, pipeline.as_bytes());
    assert!(reply.closed, "the connection closes after the last request");
    assert_eq!(statuses(&reply.all), expected);
    assert_audit_ok(&db);
}

#[test]
fn a_body_left_unread_is_never_read_whole() {
    let (db, mut srv) = serve("framing_unread_body");
    srv.show("u", &["A1"]);
    let hold = |framing: &str| {
        format!("POST /shows/u/hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n")
    };
    let too_large = json!({"error": format!("request body must be at most {} bytes", 256 * 1024)});

    // A body declared 100 GB long and never sent: 413, and the connection ends at once (the
    // rest is not waited for, and no buffer of its length is made).
    let huge = hold("Content-Length: 100000000000\r\n");
    let reply = exchange(&srv.addr, huge.as_bytes());
    assert_eq!((reply.status, reply.header("Connection")), (413, Some("close")), "{}", reply.all);
    assert_eq!(serde_json::from_str::<Value>(&reply.body).unwrap(), too_large);
    assert!(reply.closed && reply.responses() == 1, "{}", reply.all);

    // The same, with 2 MiB of it sent: read and thrown away while the connection closes.
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(AT_ONCE)).unwrap();
    s.write_all(huge.as_bytes()).unwrap();
    let sender = {
        let mut s = s.try_clone().unwrap();
        std::thread::spawn(move || s.write_all(&vec![b' '; 2 << 20]).is_ok())
    };
    let reply = read_reply(&mut s);
    assert_eq!((reply.status, reply.header("Connection")), (413, Some("close")), "{}", reply.all);
    assert!(reply.closed, "{}", reply.all);
    drop(s);
    let _ = sender.join();

    // A chunked body over the limit: what is left of it after the handler (up to 1 MiB) is
    // read, and the connection serves its next request; a longer rest closes it.
    let chunked = |len: usize| {
        let body = format!(r#"{{"seat_ids": ["A1"], "pad": "{}"}}"#, "x".repeat(len));
        let mut out = hold("Transfer-Encoding: chunked\r\n");
        for piece in body.as_bytes().chunks(64 * 1024) {
            out.push_str(&format!("{:x}\r\n{}\r\n", piece.len(), String::from_utf8_lossy(piece)));
        }
        out + "0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    };
    let reply = exchange(&srv.addr, chunked(1100 * 1024).as_bytes());
    assert_eq!(statuses(&reply.all), [413, 200], "{}", &reply.all[..reply.all.len().min(600)]);
    let reply = exchange(&srv.addr, chunked(3 << 20).as_bytes());
    assert_eq!(statuses(&reply.all), [413], "{}", &reply.all[..reply.all.len().min(600)]);
    assert!(reply.closed);

    // The server lives on.
    assert_eq!(srv.get("/health").status, 200);
    assert!(srv.exited().is_none(), "the server died: {}", srv.log());
    assert_audit_ok(&db);
}

/// The value of an unlabelled (or fully labelled) line of the metrics.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in the metrics:\n{text}"))
}

/// The resident memory of process `pid`, in bytes (Linux).
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc/PID/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

#[test]
fn clients_that_never_read_a_large_status_hold_no_database_connection() {
    let db = TestDb::new("framing_status_hoard");
    // 8 workers and database connections, so 2 large status reads at once; a 16 MiB buffer;
    // a reply may wait 5 minutes for its client, far longer than any read takes.
    let srv =
        Server::start(&db.url, &["--no-demo", "--status-buffer-mib", "16", "--write-timeout-seconds", "300"]);
    let (reads, buffer) = (2.0, 16.0 * 1024.0 * 1024.0);
    let document = big_show(&db) as f64;
    let pid = srv.pid().unwrap();
    let resident_before = resident_bytes(pid);
    let metrics = || srv.get("/metrics").body;
    let served = || srv.log().matches("GET /shows/big/seats ").count();

    // 20 clients ask for the 200,000-seat status (about 8 MB each) and never read.
    let hoarders: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(&srv.addr).unwrap();
            s.write_all(b"GET /shows/big/seats HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            s
        })
        .collect();

    // /health, on fresh connections, answers within 1 s all along: while the hoarders wait,
    // and after they leave until every one of them is answered and the memory their replies
    // held is back. While they wait, their replies are kept with no database connection in
    // use (the reads that made them are over), and the status memory stays within its bound.
    let started = Instant::now();
    let (mut checks, mut worst, mut peak_buffer, mut peak_resident) = (0, Duration::ZERO, 0.0f64, 0u64);
    let mut hoarders = Some(hoarders);
    loop {
        let took = health(&srv.addr, Duration::from_secs(1)).unwrap_or_else(|e| {
            panic!("/health, check {checks}, while 20 clients hoard: {e}\n{}", srv.log())
        });
        worst = worst.max(took);
        checks += 1;
        let m = metrics();
        let buffered = metric(&m, "seatcore_status_buffer_bytes");
        let in_use = metric(&m, r#"seatcore_pool_connections{state="in_use"}"#);
        peak_buffer = peak_buffer.max(buffered);
        peak_resident = peak_resident.max(resident_bytes(pid));
        if hoarders.is_some() && buffered > 0.0 && in_use == 0.0 {
            // Replies waiting in memory for clients that do not read, and every database
            // connection back: now the clients leave.
            drop(hoarders.take());
        }
        if hoarders.is_none() && served() == 20 && buffered == 0.0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{}",
            if hoarders.is_some() {
                "the database connections were not all back while the replies waited"
            } else {
                "the replies of the clients that left were never given up"
            }
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = srv.log();
    let (ok, busy) =
        (log.matches("GET /shows/big/seats 200 ").count(), log.matches("GET /shows/big/seats 503 ").count());
    println!(
        "status hoarders: 20 clients never reading a {:.1} MB status: {ok} answered 200, {busy} 503; \
         /health {checks} checks, the slowest {:.1} ms; status buffer peak {:.1} MiB; resident memory \
         {:.1} MiB before, peak {:.1} MiB",
        document / 1e6,
        worst.as_secs_f64() * 1e3,
        peak_buffer / 1048576.0,
        resident_before as f64 / 1048576.0,
        peak_resident as f64 / 1048576.0,
    );
    assert_eq!(ok + busy, 20, "{log}");
    assert!(ok >= 2, "fewer hoarders served than large reads allowed at once: {log}");
    // The bound: the buffer, plus the reads admitted while it was not full yet.
    let bound = buffer + reads * (document + 65_536.0);
    assert!(peak_buffer <= bound, "status buffer {peak_buffer} over {bound}");
    assert!(
        (peak_resident as f64) <= resident_before as f64 + bound + 32.0 * 1048576.0,
        "resident memory grew from {resident_before} to {peak_resident}"
    );
    assert_audit_ok(&db);
}
