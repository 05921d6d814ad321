//! Many readers of one show's event stream, and how long a change takes to reach them:
//! `make bench` (bench/run.sh) runs it against a release seatcore-server.
//!
//! ```text
//! cargo run --release -p seatcore-server --example event_readers -- \
//!     --base http://127.0.0.1:5055 --show watch --readers 10000 --changes 40 \
//!     --interval-ms 250 [--hold-seconds N] [--server-pid PID]
//! ```
//!
//! Opens `--readers` streams of `--show` (a show of at least `--changes` seats S1..SN, with
//! nothing else happening on it), all on one `mio` event loop, then makes `--changes` holds
//! of one seat each, `--interval-ms` apart, and times each `held` event at each reader from
//! the moment its hold was sent (before the commit, so the figures are upper bounds). With
//! `--hold-seconds`, the streams then stay open that much longer (for a load run beside).
//! Prints one JSON object: readers connected, how long connecting took, the latencies
//! (p50, p99, max), the share within 250 ms, events missing, and the server's resident
//! memory (`VmRSS`, `VmHWM`) with every stream open, when `--server-pid` is given.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

const NEEDLE: &[u8] = b"event: held\n";

struct Args {
    base: String,
    show: String,
    readers: usize,
    changes: usize,
    interval: Duration,
    hold_open: Duration,
    server_pid: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        base: "http://127.0.0.1:5055".into(),
        show: "watch".into(),
        readers: 1000,
        changes: 20,
        interval: Duration::from_millis(250),
        hold_open: Duration::ZERO,
        server_pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || value.parse::<u64>().unwrap_or_else(|_| panic!("{flag}: not a number: {value}"));
        match flag.as_str() {
            "--base" => a.base = value.clone(),
            "--show" => a.show = value.clone(),
            "--readers" => a.readers = number() as usize,
            "--changes" => a.changes = number() as usize,
            "--interval-ms" => a.interval = Duration::from_millis(number()),
            "--hold-seconds" => a.hold_open = Duration::from_secs(number()),
            "--server-pid" => a.server_pid = Some(number() as u32),
            _ => panic!("unknown flag {flag}"),
        }
    }
    a
}

/// One stream: bytes seen so far that may still hold the start of a needle, and the
/// `held` events counted.
struct Reader {
    socket: TcpStream,
    head: Vec<u8>,
    started: bool,
    tail: Vec<u8>,
    seen: usize,
}

fn main() {
    let a = args();
    let addr: SocketAddr = a.base.trim_start_matches("http://").parse().expect("--base http://IP:PORT");
    let request = format!(
        "GET /shows/{}/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        a.show, addr
    );
    let mut poll = Poll::new().expect("an event loop");
    let mut events = Events::with_capacity(4096);
    let mut readers: HashMap<Token, Reader> = HashMap::new();

    // Connect in waves, each complete (its heads read) before the next starts.
    let connecting = Instant::now();
    const WAVE: usize = 500;
    let mut opened = 0;
    while opened < a.readers {
        let wave = WAVE.min(a.readers - opened);
        for i in opened..opened + wave {
            let std = std::net::TcpStream::connect(addr).expect("connecting");
            std.set_nodelay(true).ok();
            (&std).write_all(request.as_bytes()).expect("sending the request");
            std.set_nonblocking(true).unwrap();
            let mut socket = TcpStream::from_std(std);
            poll.registry().register(&mut socket, Token(i), Interest::READABLE).unwrap();
            readers.insert(
                Token(i),
                Reader { socket, head: Vec::new(), started: false, tail: Vec::new(), seen: 0 },
            );
        }
        opened += wave;
        let deadline = Instant::now() + Duration::from_secs(30);
        while readers.values().filter(|r| r.started).count() < opened {
            assert!(Instant::now() < deadline, "streams did not open in 30 s");
            poll.poll(&mut events, Some(Duration::from_millis(100))).unwrap();
            for e in events.iter() {
                read_ready(readers.get_mut(&e.token()).unwrap(), &[], None);
            }
        }
    }
    let connect_s = connecting.elapsed().as_secs_f64();
    eprintln!("event_readers: {} streams open", readers.len());

    // The holds, from a thread of their own; each records when it was sent.
    let base = Instant::now();
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..a.changes).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));
    let holder = {
        let (sent, done, url, interval, n) = (
            Arc::clone(&sent),
            Arc::clone(&done),
            format!("{}/shows/{}/hold", a.base, a.show),
            a.interval,
            a.changes,
        );
        std::thread::spawn(move || {
            let agent = ureq::AgentBuilder::new().build();
            for (k, at) in sent.iter().enumerate().take(n) {
                std::thread::sleep(interval);
                at.store(base.elapsed().as_nanos() as u64 + 1, Ordering::Release);
                let body = format!("{{\"seat_ids\": [\"S{}\"]}}", k + 1);
                let r = agent.post(&url).set("Content-Type", "application/json").send_string(&body);
                if !matches!(r, Ok(ref r) if r.status() == 201) {
                    eprintln!("event_readers: hold {k} was not made: {r:?}");
                    std::process::exit(1);
                }
            }
            done.store(true, Ordering::Release);
        })
    };

    let mut latencies: Vec<f64> = Vec::with_capacity(a.readers * a.changes);
    let until = |readers: &HashMap<Token, Reader>| readers.values().all(|r| r.seen >= a.changes);
    let mut finished_at: Option<Instant> = None;
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(50))).unwrap();
        let now = base.elapsed().as_nanos() as u64;
        for e in events.iter() {
            if let Some(r) = readers.get_mut(&e.token()) {
                read_ready(r, &sent, Some((now, &mut latencies)));
            }
        }
        if done.load(Ordering::Acquire) {
            if until(&readers) {
                break;
            }
            // Events still missing 5 s after the last hold are counted as missing.
            let f = *finished_at.get_or_insert_with(Instant::now);
            if f.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
    }
    holder.join().unwrap();
    let (rss, hwm) = a.server_pid.map_or((0.0, 0.0), memory_mb);
    let missing: usize = readers.values().map(|r| a.changes.saturating_sub(r.seen)).sum();
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
    };
    let within = latencies.iter().filter(|&&ms| ms <= 250.0).count() as f64 / (a.readers * a.changes) as f64;
    println!(
        "{{\"readers\":{},\"changes\":{},\"connect_s\":{connect_s:.2},\"p50_ms\":{:.1},\"p99_ms\":{:.1},\
         \"max_ms\":{:.1},\"within_250ms\":{within:.4},\"missing\":{missing},\"server_rss_mb\":{rss:.1},\
         \"server_peak_mb\":{hwm:.1}}}",
        readers.len(),
        a.changes,
        pick(0.5).copied().unwrap_or(f64::NAN),
        pick(0.99).copied().unwrap_or(f64::NAN),
        latencies.last().copied().unwrap_or(f64::NAN),
    );
    let _ = io::stdout().flush();
    // Keep the streams open for a load run beside.
    let open_until = Instant::now() + a.hold_open;
    while Instant::now() < open_until {
        poll.poll(&mut events, Some(Duration::from_millis(200))).unwrap();
        for e in events.iter() {
            if let Some(r) = readers.get_mut(&e.token()) {
                read_ready(r, &[], None);
            }
        }
    }
}

/// Reads what a stream has; counts its `held` events, timing each against when its hold
/// was sent when `timing` is given.
fn read_ready(r: &mut Reader, sent: &[AtomicU64], mut timing: Option<(u64, &mut Vec<f64>)>) {
    let mut buf = [0u8; 16 << 10];
    loop {
        let n = match r.socket.read(&mut buf) {
            Ok(0) => panic!("a stream ended"),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("reading a stream: {e}"),
        };
        let mut data = &buf[..n];
        if !r.started {
            r.head.extend_from_slice(data);
            let Some(end) = r.head.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            assert!(r.head.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&r.head));
            r.started = true;
            let rest = r.head.split_off(end + 4);
            r.tail = rest;
            data = &[];
        }
        r.tail.extend_from_slice(data);
        let mut from = 0;
        while let Some(at) = r.tail[from..].windows(NEEDLE.len()).position(|w| w == NEEDLE) {
            if let Some((now, latencies)) = timing.as_mut() {
                if let Some(at) = sent.get(r.seen).map(|s| s.load(Ordering::Acquire)).filter(|&t| t > 0) {
                    latencies.push(now.saturating_sub(at - 1) as f64 / 1e6);
                }
            }
            r.seen += 1;
            from += at + NEEDLE.len();
        }
        // Keep what may be the start of the next needle.
        let keep = r.tail.len().saturating_sub(from.max(r.tail.len().saturating_sub(NEEDLE.len() - 1)));
        let cut = r.tail.len() - keep;
        r.tail.drain(..cut);
    }
}

/// The server's resident memory now and at its peak, in MB.
fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
