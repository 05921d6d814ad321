//! How the cost of a hold grows with seats per show, shows per database and concurrent
//! clients (not a test: figures for docs/scaling.md).
//!
//!     cargo run --release -p seatcore --features test-support --example scaling [-- --secs 3]
//!
//! Uses DATABASE_URL, or the private cluster, in a throwaway schema. Each line: one setting,
//! holds granted per second and p50 / p99 hold latency, for one-seat and four-seat holds on
//! distinct seats; each hold is released right after (not timed), so small shows never fill.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seatcore::testing::TestDb;
use seatcore::{Options, SeatCore};

fn secs_arg() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == "--secs").and_then(|i| args.get(i + 1)).map_or(3, |v| v.parse().unwrap())
}

/// Runs `threads` threads for `secs`, each taking the next free block of `per_hold` seats
/// of the next show in turn; returns (holds/s, p50 ms, p99 ms).
fn run(
    core: &SeatCore,
    shows: &[String],
    seats: usize,
    threads: usize,
    per_hold: usize,
    secs: u64,
) -> (f64, f64, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let lat = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let blocks_per_show = seats / per_hold;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (core, next, lat, shows) = (core.clone(), next.clone(), lat.clone(), shows.to_vec());
            std::thread::spawn(move || {
                let mut local = Vec::new();
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let show = &shows[n % shows.len()];
                    let block = (n / shows.len()) % blocks_per_show;
                    let want: Vec<String> =
                        (0..per_hold).map(|i| format!("S{}", block * per_hold + i + 1)).collect();
                    let t = Instant::now();
                    match core.hold(show, &want, 600) {
                        Ok(hold) => {
                            local.push(t.elapsed().as_secs_f64() * 1000.0);
                            // free the seats again so small shows never run out
                            core.release(show, &hold.hold_id.to_string()).unwrap();
                        }
                        // another thread's block wrapped round onto ours: not a hold
                        Err(seatcore::Error::SeatsUnavailable { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                lat.lock().unwrap().extend(local);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut l = lat.lock().unwrap().clone();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (l.len() as f64 / start.elapsed().as_secs_f64(), l[l.len() / 2], l[l.len() * 99 / 100])
}

fn main() {
    let secs = secs_arg();
    let db = TestDb::new("scaling");
    let core =
        SeatCore::connect(&db.url, Options { pool_size: 64, min_idle: 16, ..Options::default() }).unwrap();
    let mut made = 0usize;
    let mut make = |n_shows: usize, seats: usize| -> Vec<String> {
        let map: Vec<String> = (1..=seats).map(|i| format!("S{i}")).collect();
        (0..n_shows)
            .map(|_| {
                made += 1;
                let id = format!("show{made}");
                core.initialize_show(&id, &map).unwrap();
                id
            })
            .collect()
    };
    println!(
        "| dimension | setting | one-seat holds/s | p50 ms | p99 ms | four-seat holds/s | p50 ms | p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let line = |dim: &str, setting: String, shows: &[String], seats: usize, threads: usize| {
        let (r1, a1, b1) = run(&core, shows, seats, threads, 1, secs);
        let (r4, a4, b4) = run(&core, shows, seats, threads, 4, secs);
        println!("| {dim} | {setting} | {r1:.0} | {a1:.2} | {b1:.2} | {r4:.0} | {a4:.2} | {b4:.2} |");
    };
    for seats in [1_000usize, 20_000, 200_000] {
        let shows = make(1, seats);
        line("seats per show", format!("{seats} (1 show, 8 clients)"), &shows, seats, 8);
    }
    for n in [1usize, 100, 1_000] {
        let shows = make(n, 400);
        line("shows per database", format!("{n} shows of 400 seats (8 clients)"), &shows, 400, 8);
    }
    let shows = make(1, 200_000);
    for threads in [1usize, 4, 16, 64] {
        line("concurrent clients", format!("{threads} (1 show of 200,000)"), &shows, 200_000, threads);
    }
}
