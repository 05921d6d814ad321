//! Measures the core against a real PostgreSQL (not a test: figures, not verdicts).
//!
//!     cargo run --release -p seatcore --features test-support --example core_bench \
//!         [-- --seats 200000 --threads 16 --secs 5 --sweep 100000]
//!
//! Uses DATABASE_URL, or the private cluster (scripts/pg.sh), in a throwaway schema.
//! Prints one line per figure: initialize and status of a big show, sweeping expired holds,
//! hold throughput with N threads on distinct seats, and, measured against it, extensions of
//! those holds and partial releases; best-available holds of 4 seats on a 20,000-seat show
//! that is 70 % taken (1 thread, then N); `RESULT {json}` lines for bench/run.sh. `--only
//! best` runs the last alone.

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
    let only_best = std::env::args().any(|a| a == "best");
    if !only_best {
        everything_but_best(&db, &core, seats, threads, secs, sweep_n);
    }
    best_available(&db, &core, 1, secs);
    best_available(&db, &core, threads, secs);
}

/// The other way to choose: one SQL query finding the runs of free seats of every row (gaps
/// and islands over the seat map) and the best block of 4 in them, no orphan first, then
/// the lowest rank sum. Timed alone (no hold), as often as it fits in `secs` seconds.
fn sql_select(db: &TestDb, show: &str, secs: u64) {
    const QUERY: &str = "
WITH free AS (
    SELECT m.section, m.row_label, m.position, m.rank,
           m.position - row_number() OVER (PARTITION BY m.section, m.row_label ORDER BY m.position) AS grp
    FROM seat_map m JOIN seats s ON s.show_id = m.show_id AND s.seat_no = m.seat_no
    WHERE m.show_id = $1 AND m.row_label IS NOT NULL AND s.booking_id IS NULL
      AND s.block_reason IS NULL AND (s.hold_expires_at IS NULL OR s.hold_expires_at <= now())
), w AS (
    SELECT section, row_label, position, sum(rank) OVER r4 AS cost, count(*) OVER r4 AS n,
           min(position) OVER g AS lo, max(position) OVER g AS hi
    FROM free
    WINDOW r4 AS (PARTITION BY section, row_label, grp ORDER BY position ROWS BETWEEN CURRENT ROW AND 3 FOLLOWING),
           g AS (PARTITION BY section, row_label, grp)
)
SELECT section, row_label, position FROM w WHERE n = 4
ORDER BY (position - lo = 1 OR hi - (position + 3) = 1), cost
LIMIT 1";
    let mut c = db.client();
    let statement = c.prepare(QUERY).unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs.min(5));
    let mut lat = Vec::new();
    while Instant::now() < deadline {
        let t0 = Instant::now();
        let rows = c.query(&statement, &[&show]).unwrap();
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(rows.len(), 1, "the query found no block");
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (p50, p99) = (lat[lat.len() / 2], lat[lat.len() * 99 / 100]);
    println!(
        "best 4 of 20000 seats chosen by one SQL query (no hold): p50 {p50:.2} ms, p99 {p99:.2} ms, n={}",
        lat.len()
    );
    println!(
        "RESULT {{\"scenario\":\"core_best4_sql_select\",\"rep\":0,\"per_s\":{:.1},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3}}}",
        1000.0 / p50
    );
}

/// A 20,000-seat show (20 sections of 25 rows of 40), 70 % taken, the front rows most;
/// `threads` threads each hold the best 4 seats and release them, for `secs` seconds.
fn best_available(db: &TestDb, core: &SeatCore, threads: usize, secs: u64) {
    let show = format!("best{threads}");
    let mut seats = Vec::new();
    for section in 0..20 {
        for row in 0..25 {
            for position in 1..=40 {
                seats.push(seatcore::seat_map::MapSeat {
                    seat_id: format!("S{section}R{row}P{position}"),
                    section: Some(format!("S{section}")),
                    row: Some(format!("R{row}")),
                    position: Some(position),
                    ..Default::default()
                });
            }
        }
    }
    core.initialize_map(&show, &seats).unwrap();
    {
        // Booked behind the core's back, the way an on-sale night leaves a hall: the front
        // rows nearly full, the back rows emptier, lone gaps everywhere.
        let mut c = db.client();
        c.execute(
            "WITH picked AS (
                 SELECT s.seat_no FROM seats s JOIN seat_map m USING (show_id, seat_no)
                 WHERE s.show_id = $1
                   AND abs(hashtext(s.seat_id)) % 1000 < 1000 * (0.97 - 0.55 * (substr(m.row_label, 2)::int / 24.0))),
             b AS (INSERT INTO bookings (booking_id, show_id, seat_nos, seat_ids, booked_at)
                   VALUES (gen_random_uuid(), $1, ARRAY[0], ARRAY['x'], now()) RETURNING booking_id)
             UPDATE seats s SET booking_id = b.booking_id FROM b, picked p
             WHERE s.show_id = $1 AND s.seat_no = p.seat_no",
            &[&show],
        )
        .unwrap();
        c.batch_execute("VACUUM ANALYZE seats").unwrap();
    }
    let st = core.seat_status(&show).unwrap();
    let taken = st.counts.booked as f64 / st.counts.total as f64;
    if threads == 1 {
        sql_select(db, &show, secs);
    }
    let filters = seatcore::BestFilters::default();
    // warm: the first call loads the show
    let h = core.hold_best(&show, 4, &filters, 600).unwrap();
    core.release(&show, &h.hold_id.to_string()).unwrap();
    let (f, _) = run(threads, secs, |_, _| {
        let (h, ms) = clock(|| core.hold_best(&show, 4, &filters, 600).unwrap());
        core.release(&show, &h.hold_id.to_string()).unwrap();
        Some((ms, ()))
    });
    println!(
        "best 4 of 20000 seats ({:.0} % taken), {threads} threads: {:.0} holds/s {}; each followed by a release)",
        taken * 100.0,
        f.rate,
        f.latencies()
    );
    println!("{}", f.result(&format!("core_best4_t{threads}"), 0));
}

fn everything_but_best(
    db: &TestDb,
    core: &SeatCore,
    seats: usize,
    threads: usize,
    secs: u64,
    sweep_n: usize,
) {
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

    for round in 0..LIFECYCLE_ROUNDS {
        lifecycle_round(core, threads, secs, round);
    }
}

/// Throughput and latency of one measured operation.
struct Figures {
    /// operations a second
    rate: f64,
    /// median and 99th percentile latency, ms
    p50: f64,
    p99: f64,
    /// how many were made
    n: u64,
}

impl Figures {
    /// The latencies and count for people: "(p50 … ms, p99 … ms, n=…", left open for a note.
    fn latencies(&self) -> String {
        format!("(p50 {:.2} ms, p99 {:.2} ms, n={}", self.p50, self.p99, self.n)
    }

    /// The `RESULT {json}` line of `scenario`, repetition `rep`, for bench/run.sh.
    fn result(&self, scenario: &str, rep: usize) -> String {
        format!(
            "RESULT {{\"scenario\":\"{scenario}\",\"rep\":{rep},\"per_s\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
            self.rate, self.p50, self.p99
        )
    }
}

/// What `f` returns, and how long it took (ms).
fn clock<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t0 = Instant::now();
    let out = f();
    (out, t0.elapsed().as_secs_f64() * 1000.0)
}

/// Runs `op(thread, i)` for i = 0, 1, ... on `threads` threads for `secs` seconds, or until
/// it returns `None`; each call returns the latency it measured (ms) and a result, kept by
/// thread. Returns the figures and each thread's results.
fn run<R: Send>(
    threads: usize,
    secs: u64,
    op: impl Fn(usize, usize) -> Option<(f64, R)> + Sync,
) -> (Figures, Vec<Vec<R>>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let per_thread: Vec<(Vec<f64>, Vec<R>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let op = &op;
                scope.spawn(move || {
                    let (mut latencies, mut results) = (Vec::new(), Vec::new());
                    let mut i = 0;
                    while Instant::now() < deadline {
                        let Some((ms, r)) = op(t, i) else { break };
                        latencies.push(ms);
                        results.push(r);
                        i += 1;
                    }
                    (latencies, results)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let (latencies, results): (Vec<Vec<f64>>, Vec<Vec<R>>) = per_thread.into_iter().unzip();
    let mut l: Vec<f64> = latencies.into_iter().flatten().collect();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = l.len() as u64;
    (Figures { rate: n as f64 / elapsed, p50: l[l.len() / 2], p99: l[l.len() * 99 / 100], n }, results)
}

/// [`run`] of an operation timed whole, with nothing to keep.
fn timed(threads: usize, secs: u64, op: impl Fn(usize, usize) + Sync) -> Figures {
    run(threads, secs, |t, i| Some((clock(|| op(t, i)).1, ()))).0
}

/// Rounds of the hold lifecycle: holds, then extensions of them, then partial releases, each
/// measured against the holds run just before it (drift between rounds cancels out).
const LIFECYCLE_ROUNDS: usize = 3;

/// One round: hold throughput, then extend-hold and partial releases, in fresh shows.
fn lifecycle_round(core: &SeatCore, threads: usize, secs: u64, round: usize) {
    // Hold throughput: each thread holds its own seats one at a time, in a fresh show.
    let per_thread = 20_000usize;
    let (holds_show, partial_show) = (format!("holds{round}"), format!("partial{round}"));
    let hold_map: Vec<String> = (0..threads * per_thread).map(|i| format!("H{i}")).collect();
    core.initialize_show(&holds_show, &hold_map).unwrap();
    let (f, held) = run(threads, secs, |t, i| {
        let seat = hold_map[t * per_thread..(t + 1) * per_thread].get(i)?;
        let (h, ms) = clock(|| core.hold(&holds_show, &[seat], 600).unwrap());
        Some((ms, h.hold_id.to_string()))
    });
    println!("holds, {threads} threads, distinct seats: {:.0} holds/s {})", f.rate, f.latencies());
    println!("{}", f.result(&format!("core_holds_t{threads}"), round));

    // Extensions: each thread extends the holds it made above, in turn, for as long.
    let f = timed(threads, secs, |t, i| {
        let mine = &held[t];
        core.extend(&holds_show, &mine[i % mine.len()], 600).unwrap();
    });
    println!("extend-hold, {threads} threads: {:.0}/s {})", f.rate, f.latencies());
    println!("{}", f.result(&format!("core_extend_t{threads}"), round));

    // Partial releases: each thread first holds 20 of its own seats at a time, HELD_AHEAD
    // times (not timed), then releases one seat of those holds after another (the last seat
    // of each releases the hold); a thread that runs out holds again, timed.
    const SEATS_PER_HOLD: usize = 20;
    const HELD_AHEAD: usize = 250;
    let partial_map: Vec<String> = (0..threads * per_thread).map(|i| format!("P{i}")).collect();
    core.initialize_show(&partial_show, &partial_map).unwrap();
    let seats_of = |t: usize, round: usize| {
        let first = t * per_thread + (round * SEATS_PER_HOLD) % per_thread;
        &partial_map[first..first + SEATS_PER_HOLD]
    };
    let ahead: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (core, partial_show, seats_of) = (&core, &partial_show, &seats_of);
                scope.spawn(move || {
                    (0..HELD_AHEAD)
                        .map(|round| {
                            core.hold(partial_show, seats_of(t, round), 600).unwrap().hold_id.to_string()
                        })
                        .collect::<Vec<String>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let f = timed(threads, secs, |t, i| {
        let round = i / SEATS_PER_HOLD;
        let seats = seats_of(t, round);
        thread_local! { static HOLD: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) }; }
        if i % SEATS_PER_HOLD == 0 {
            let id = match ahead[t].get(round) {
                Some(id) => id.clone(),
                None => core.hold(&partial_show, seats, 600).unwrap().hold_id.to_string(),
            };
            HOLD.with(|h| *h.borrow_mut() = id);
        }
        let seat = &seats[i % SEATS_PER_HOLD];
        HOLD.with(|h| core.release_seats(&partial_show, &h.borrow(), &[seat]).unwrap());
    });
    println!("partial release, {threads} threads: {:.0}/s {})", f.rate, f.latencies());
    println!("{}", f.result(&format!("core_partial_release_t{threads}"), round));
}
