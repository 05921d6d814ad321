//! A small HTTP load generator for seatcore-server (a benchmark, not a test).
//!
//! ```text
//! cargo run --release -p seatcore-server --example load -- http://127.0.0.1:5000 holds 16 10
//! cargo run --release -p seatcore-server --example load -- http://127.0.0.1:5000 storm 16 10
//! ```
//!
//! `holds`: each connection holds distinct seats, one per request, of a fresh show.
//! `storm`: every connection asks for the same seat of a fresh show; exactly one may win.
//! Keep-alive HTTP/1.1 over plain sockets, so the client costs little next to the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).expect("connecting");
        s.set_nodelay(true).unwrap();
        Conn { reader: BufReader::new(s.try_clone().unwrap()), writer: s }
    }

    /// Sends one request and returns (status, body).
    fn call(&mut self, method: &str, path: &str, body: &str) -> (u16, String) {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.writer.write_all(req.as_bytes()).expect("sending");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((n, v)) = l.split_once(':') {
                if n.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap();
                }
            }
        }
        let mut buf = vec![0; length];
        self.reader.read_exact(&mut buf).expect("body");
        (status, String::from_utf8_lossy(&buf).into_owned())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: load BASE_URL holds|storm CONNECTIONS SECONDS");
        std::process::exit(2);
    }
    let addr = args[1].trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mode = args[2].clone();
    let conns: usize = args[3].parse().expect("CONNECTIONS");
    let seconds: u64 = args[4].parse().expect("SECONDS");
    let show = format!("bench_{}_{}", mode, std::process::id());
    let per_conn = 8_000usize;

    let mut admin = Conn::open(&addr);
    let seats: Vec<String> = match mode.as_str() {
        "holds" => (0..conns * per_conn).map(|i| format!("S{i}")).collect(),
        "storm" => vec!["HOT".into()],
        _ => panic!("mode must be holds or storm"),
    };
    let body = serde_json::json!({ "seat_ids": seats }).to_string();
    let (status, text) = admin.call("POST", &format!("/shows/{show}/initialize"), &body);
    assert_eq!(status, 201, "initialize: {text}");

    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(conns + 1));
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let (addr, show, stop, barrier, mode) =
                (addr.clone(), show.clone(), Arc::clone(&stop), Arc::clone(&barrier), mode.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::open(&addr);
                let path = format!("/shows/{show}/hold");
                let (mut ok, mut refused, mut other) = (0u64, 0u64, 0u64);
                let mut latencies = Vec::with_capacity(100_000);
                barrier.wait();
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) && i < per_conn {
                    let seat = if mode == "storm" { "HOT".to_string() } else { format!("S{}", c * per_conn + i) };
                    let t = Instant::now();
                    let (status, _) = conn.call("POST", &path, &format!(r#"{{"seat_ids":["{seat}"]}}"#));
                    latencies.push(t.elapsed());
                    match status {
                        201 => ok += 1,
                        409 => refused += 1,
                        _ => other += 1,
                    }
                    i += 1;
                }
                (ok, refused, other, latencies)
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let (mut ok, mut refused, mut other, mut lat) = (0, 0, 0, Vec::new());
    for t in threads {
        let (a, b, c, l) = t.join().unwrap();
        ok += a;
        refused += b;
        other += c;
        lat.extend(l);
    }
    let took = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or_default();
    println!(
        "{mode}: {conns} connections, {took:.1} s: {} requests ({:.0}/s); 201: {ok} ({:.0}/s), 409: {refused} ({:.0}/s), other: {other}; \
         latency p50 {:.2} ms, p99 {:.2} ms",
        ok + refused + other,
        (ok + refused + other) as f64 / took,
        ok as f64 / took,
        refused as f64 / took,
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
    if mode == "storm" {
        println!("storm: winners: {ok} (must be 1)");
    }
}
