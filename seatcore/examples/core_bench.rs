//! Measures the core against a real PostgreSQL (not a test: figures, not verdicts).
//!
//!     cargo run --release -p seatcore --features test-support --example core_bench \
//!         [-- --seats 200000 --threads 16 --secs 5 --sweep 100000]
//!
//! Uses DATABASE_URL, or the private cluster (scripts/pg.sh), in a throwaway schema.
//! Prints one line per figure: initialize and status of a big show, sweeping expired holds,
//! hold throughput with N threads on distinct seats, and, measured against it, extensions of
//! those holds and partial releases; `RESULT {json}` lines for bench/run.sh.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seatcore::testing::TestDb;
use seatcore::{Options, SeatCore};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let seats = arg("--seats", 200_000) as usize;
    let threads = arg("--threads", 16) as usize;
    let secs = arg("--secs", 5);
    let sweep_n = arg("--sweep", 100_000) as usize;
    let db = TestDb::new("core_bench");
    let core = SeatCore::connect(
        &db.url,
        Options { pool_size: threads as u32 + 2, min_idle: threads as u32, ..Options::default() },
    )
    .unwrap();
    let map: Vec<String> = (0..seats).map(|i| format!("R{}S{}", i / 100, i % 100)).collect();

    let mut init = Vec::new();
    let mut status = Vec::new();
    for run in 0..3 {
        let show = format!("big{run}");
        let t = Instant::now();
        core.initialize_show(&show, &map).unwrap();
        init.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let st = core.seat_status(&show).unwrap();
        status.push(t.elapsed().as_secs_f64());
        assert_eq!(st.seats.len(), seats);
    }
    println!("initialize {seats} seats: median {:.3} s of {:?}", median(init.clone()), init);
    println!("status of {seats} seats: median {:.3} s of {:?}", median(status.clone()), status);
    for (rep, (i, s)) in init.iter().zip(&status).enumerate() {
        println!("RESULT {{\"scenario\":\"core_initialize_{seats}\",\"rep\":{rep},\"seconds\":{i:.4}}}");
        println!("RESULT {{\"scenario\":\"core_status_{seats}\",\"rep\":{rep},\"seconds\":{s:.4}}}");
    }

    // Sweep: sweep_n one-seat holds expire, then one sweep removes them.
    let sweep_map: Vec<String> = (0..sweep_n).map(|i| format!("X{i}")).collect();
    core.initialize_show("sweep", &sweep_map).unwrap();
    {
        let mut c = db.client();
        // Made in bulk behind the core's back: the figure is about the sweep, not the holds.
        c.batch_execute(
            "WITH h AS (
                 INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at, created_at)
                 SELECT gen_random_uuid(), 'sweep', ARRAY[seat_no], ARRAY[seat_id],
                        now() - interval '1 minute', now() - interval '2 minutes'
                 FROM seats WHERE show_id = 'sweep'
                 RETURNING hold_id, seat_nos[1] AS seat_no, expires_at)
             UPDATE seats s SET hold_id = h.hold_id, hold_expires_at = h.expires_at
             FROM h WHERE s.show_id = 'sweep' AND s.seat_no = h.seat_no",
        )
        .unwrap();
        c.batch_execute("VACUUM ANALYZE holds").unwrap();
        c.batch_execute("VACUUM ANALYZE seats").unwrap();
    }
    let t = Instant::now();
    let swept = core.sweep_expired().unwrap();
    let took = t.elapsed().as_secs_f64();
    println!("sweep {swept} expired holds: {took:.3} s");
    println!("RESULT {{\"scenario\":\"core_sweep_{swept}\",\"rep\":0,\"seconds\":{took:.4}}}");

    // Hold throughput: each thread holds its own seats one at a time, in a fresh show.
    let per_thread = 20_000usize;
    let hold_map: Vec<String> = (0..threads * per_thread).map(|i| format!("H{i}")).collect();
    core.initialize_show("holds", &hold_map).unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let lat = Arc::new(std::sync::Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (core, done, lat) = (core.clone(), done.clone(), lat.clone());
            let mine: Vec<String> = hold_map[t * per_thread..(t + 1) * per_thread].to_vec();
            std::thread::spawn(move || {
                let mut local = Vec::new();
                let mut held = Vec::new();
                for seat in mine {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let t0 = Instant::now();
                    held.push(core.hold("holds", &[seat], 600).unwrap().hold_id.to_string());
                    local.push(t0.elapsed().as_secs_f64() * 1000.0);
                    done.fetch_add(1, Ordering::Relaxed);
                }
                lat.lock().unwrap().extend(local);
                held
            })
        })
        .collect();
    let held: Vec<Vec<String>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let elapsed = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    let mut l = lat.lock().unwrap().clone();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (rate, p50, p99) = (n as f64 / elapsed, l[l.len() / 2], l[l.len() * 99 / 100]);
    println!("holds, {threads} threads, distinct seats: {rate:.0} holds/s (p50 {p50:.2} ms, p99 {p99:.2} ms, n={n})");
    println!(
        "RESULT {{\"scenario\":\"core_holds_t{threads}\",\"rep\":0,\"per_s\":{rate:.1},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3}}}"
    );

    // Extensions: each thread extends the holds it made above, in turn, for as long.
    let (rate, p50, p99, n) = timed(threads, secs, |t, i| {
        let mine = &held[t];
        core.extend("holds", &mine[i % mine.len()], 600).unwrap();
    });
    println!("extend-hold, {threads} threads: {rate:.0}/s (p50 {p50:.2} ms, p99 {p99:.2} ms, n={n})");
    println!(
        "RESULT {{\"scenario\":\"core_extend_t{threads}\",\"rep\":0,\"per_s\":{rate:.1},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3}}}"
    );

    // Partial releases: each thread holds 20 of its own seats, then releases them one by one
    // (the last one releases the hold), and again. The holds' time counts: each is timed with
    // the release that follows it.
    const SEATS_PER_HOLD: usize = 20;
    let partial_map: Vec<String> = (0..threads * per_thread).map(|i| format!("P{i}")).collect();
    core.initialize_show("partial", &partial_map).unwrap();
    let (rate, p50, p99, n) = timed(threads, secs, |t, i| {
        let round = i / SEATS_PER_HOLD;
        let first = t * per_thread + (round * SEATS_PER_HOLD) % per_thread;
        let seats = &partial_map[first..first + SEATS_PER_HOLD];
        thread_local! { static HOLD: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) }; }
        if i % SEATS_PER_HOLD == 0 {
            let hold = core.hold("partial", seats, 600).unwrap();
            HOLD.with(|h| *h.borrow_mut() = hold.hold_id.to_string());
        }
        let seat = &seats[i % SEATS_PER_HOLD];
        HOLD.with(|h| core.release_seats("partial", &h.borrow(), &[seat]).unwrap());
    });
    println!("partial release, {threads} threads: {rate:.0}/s (p50 {p50:.2} ms, p99 {p99:.2} ms, n={n})");
    println!(
        "RESULT {{\"scenario\":\"core_partial_release_t{threads}\",\"rep\":0,\"per_s\":{rate:.1},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3}}}"
    );
}

/// Runs `op(thread, i)` for i = 0, 1, ... on `threads` threads for `secs` seconds; returns the
/// rate, p50 and p99 latency (ms) and count of the operations.
fn timed(threads: usize, secs: u64, op: impl Fn(usize, usize) + Sync) -> (f64, f64, f64, u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let lat: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let op = &op;
                scope.spawn(move || {
                    let mut local = Vec::new();
                    let mut i = 0;
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        op(t, i);
                        local.push(t0.elapsed().as_secs_f64() * 1000.0);
                        i += 1;
                    }
                    local
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut l: Vec<f64> = lat.into_iter().flatten().collect();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = l.len() as u64;
    (n as f64 / elapsed, l[l.len() / 2], l[l.len() * 99 / 100], n)
}
