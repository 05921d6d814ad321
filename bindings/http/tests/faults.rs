//! Fault injection against the real `seatcore-server` binary.
//!
//! Each test drives the server with concurrent HTTP clients, injects one fault, and then
//! checks the promises: every acknowledged booking is still booked (with the same seats),
//! the core's audit finds every invariant holding (no seat booked twice or in two live
//! holds, the counts add up), every answer during the fault is a clean one (2xx/4xx or a
//! 503 JSON body) that arrives before the client's timeout (so nothing hangs), and the
//! server recovers without a restart. Each step waits for the event it needs (bookings
//! acknowledged, a commit visible), never for a fixed time, so a busy machine only makes
//! the tests slower.
//!
//! The database crash and the outage with a full queue each run on a throwaway cluster of
//! their own (other tests share the private one); the other faults touch only their own
//! schema and connections.
//! Figures (requests, acknowledgements, recovery times) are printed on stderr as
//! `faults: ...` lines; `docs/faults.md` quotes them.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use seatcore::testing::{database_host_port, Cluster, LossyProxy};
use support::*;

/// Longer than any answer may take (the pool timeout is at most 5 s); a request that gets no
/// answer within it counts as hung.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(12);
/// The longest wait for an event (a commit, acknowledged bookings, recovery) before a test
/// gives up: far beyond what it takes, even on a busy machine.
const PATIENCE: Duration = Duration::from_secs(60);
const CLIENTS: usize = 8;
const SEATS: usize = 2000;

// ---------------------------------------------------------------------------------------
// The load: clients that hold two seats, then book, release or abandon the hold.

/// What the clients saw. Only acknowledged results (a 201 hold, a 200 booking) go into
/// `holds` and `bookings`.
#[derive(Default)]
struct Ledger {
    requests: u64,
    statuses: BTreeMap<u16, u64>,
    /// Requests that got no HTTP answer (refused, reset, timed out).
    transport_errors: Vec<String>,
    /// Answers that break the promises: a 5xx other than 503, a 503 without a JSON error.
    bad: Vec<String>,
    slowest: Duration,
    holds: Vec<(String, Vec<String>)>,
    bookings: Vec<(String, Vec<String>, Instant)>,
    /// Holds retried with the same Idempotency-Key after a 503 or a lost answer.
    key_retries: u64,
}

impl Ledger {
    fn merge(&mut self, o: Ledger) {
        self.requests += o.requests;
        for (s, n) in o.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.transport_errors.extend(o.transport_errors);
        self.bad.extend(o.bad);
        self.slowest = self.slowest.max(o.slowest);
        self.holds.extend(o.holds);
        self.bookings.extend(o.bookings);
        self.key_retries += o.key_retries;
    }

    fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// One request; `None` when no HTTP answer came. Records and checks the answer.
    fn call(
        &mut self,
        agent: &ureq::Agent,
        url: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Option<(u16, Value)> {
        let mut req = agent.post(url).set("Content-Type", "application/json");
        if let Some(k) = key {
            req = req.set("Idempotency-Key", k);
        }
        let started = Instant::now();
        let res = req.send_string(&body.to_string());
        self.requests += 1;
        self.slowest = self.slowest.max(started.elapsed());
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => {
                self.transport_errors.push(format!("{url}: {e} after {:?}", started.elapsed()));
                return None;
            }
        };
        let status = resp.status();
        *self.statuses.entry(status).or_default() += 1;
        let text = resp.into_string().unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let clean_error = json["error"].is_string();
        match status {
            200 | 201 => {}
            400 | 404 | 409 | 503 if clean_error => {}
            _ => self.bad.push(format!("{url}: {status} {text}")),
        }
        Some((status, json))
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(CLIENT_TIMEOUT).build()
}

fn seat_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("S{i}")).collect()
}

fn make_show(srv: &Server, show: &str) {
    let r = srv.post_json(&format!("/shows/{show}/initialize"), &json!({ "seat_ids": seat_names(SEATS) }));
    assert_eq!(r.status, 201, "{}", r.body);
}

/// One client until `stop`: hold two random seats for `hold_secs` (retrying with the same
/// key after a 503 or a lost answer), then book (half the time), release (a quarter) or
/// walk away (the rest). Bookings are retried after a 503: booking is idempotent.
fn client(
    base: String,
    show: String,
    id: u64,
    hold_secs: u64,
    stop: Arc<AtomicBool>,
    booked: Arc<AtomicU64>,
) -> Ledger {
    let agent = agent();
    let mut l = Ledger::default();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (id + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let a = next() as usize % SEATS;
        let b = (a + 1 + next() as usize % (SEATS - 1)) % SEATS;
        let seats = vec![format!("S{}", a + 1), format!("S{}", b + 1)];
        let key = format!("client{id}-req{n}");
        let body = json!({ "seat_ids": seats, "hold_duration_seconds": hold_secs });
        let mut held = None;
        for attempt in 0..3 {
            if attempt > 0 {
                l.key_retries += 1;
                thread::sleep(Duration::from_millis(200));
            }
            match l.call(&agent, &format!("{base}/shows/{show}/hold"), Some(&key), &body) {
                Some((201, v)) => {
                    held = Some(v);
                    break;
                }
                Some((503, _)) | None => continue,
                Some(_) => break,
            }
        }
        let Some(hold) = held else { continue };
        let hold_id = hold["hold_id"].as_str().unwrap().to_owned();
        let mut got: Vec<String> =
            hold["seat_ids"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
        got.sort();
        let mut want = seats.clone();
        want.sort();
        if got != want {
            l.bad.push(format!("hold {hold_id} has seats {got:?}, asked for {want:?}"));
        }
        l.holds.push((hold_id.clone(), got.clone()));
        match next() % 4 {
            0 | 1 => {
                for attempt in 0..3 {
                    if attempt > 0 {
                        thread::sleep(Duration::from_millis(200));
                    }
                    let r = l.call(
                        &agent,
                        &format!("{base}/shows/{show}/book"),
                        None,
                        &json!({ "hold_id": hold_id }),
                    );
                    match r {
                        Some((200, v)) => {
                            if v["booking_id"] != json!(hold_id) {
                                l.bad.push(format!("booking {} for hold {hold_id}", v["booking_id"]));
                            }
                            l.bookings.push((hold_id.clone(), got.clone(), Instant::now()));
                            booked.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        Some((503, _)) | None => continue,
                        Some(_) => break,
                    }
                }
            }
            2 => {
                l.call(
                    &agent,
                    &format!("{base}/shows/{show}/release-hold"),
                    None,
                    &json!({ "hold_id": hold_id }),
                );
            }
            _ => {}
        }
    }
    l
}

struct Load {
    stop: Arc<AtomicBool>,
    /// Bookings acknowledged so far.
    booked: Arc<AtomicU64>,
    threads: Vec<thread::JoinHandle<Ledger>>,
}

impl Load {
    fn start(srv: &Server, show: &str, hold_secs: u64) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let booked = Arc::new(AtomicU64::new(0));
        let threads = (0..CLIENTS as u64)
            .map(|id| {
                let (base, show) = (srv.base.clone(), show.to_owned());
                let (stop, booked) = (Arc::clone(&stop), Arc::clone(&booked));
                thread::spawn(move || client(base, show, id, hold_secs, stop, booked))
            })
            .collect();
        Load { stop, booked, threads }
    }

    /// How many bookings the clients have had acknowledged.
    fn booked(&self) -> u64 {
        self.booked.load(Ordering::SeqCst)
    }

    /// Waits until the clients have had `n` bookings acknowledged in all.
    fn wait_for_bookings(&self, n: u64) {
        wait_until(&format!("{n} bookings acknowledged (got {})", self.booked()), || self.booked() >= n);
    }

    fn finish(self) -> Ledger {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Ledger::default();
        for t in self.threads {
            all.merge(t.join().expect("a client panicked"));
        }
        all
    }
}

// ---------------------------------------------------------------------------------------
// The promises, checked after the fact.

/// Checks the promises after the fact: every acknowledged booking is still there with its
/// seats (the clients' ledger, read behind the server's back), and the core's audit finds
/// every invariant holding. Returns how many acknowledged bookings were found.
fn check_promises(db: &mut postgres::Client, srv: &Server, show: &str, ledger: &Ledger) -> usize {
    // Acknowledged bookings never share a seat...
    let mut seen = HashSet::new();
    for (id, seats, _) in &ledger.bookings {
        for s in seats {
            assert!(seen.insert(s.clone()), "seat {s} is in two acknowledged bookings (one is {id})");
        }
    }
    // ...and each is still booked, with its seats.
    let mut found = 0;
    for (id, seats, _) in &ledger.bookings {
        let row = db
            .query_opt(
                "SELECT seat_ids FROM bookings WHERE booking_id::text = $1 AND show_id = $2",
                &[id, &show],
            )
            .unwrap();
        let mut stored: Vec<String> =
            row.unwrap_or_else(|| panic!("acknowledged booking {id} is gone")).get(0);
        stored.sort();
        assert_eq!(&stored, seats, "booking {id}");
        found += 1;
    }
    // Every invariant of the rows, by the core's audit; the status read agrees with it.
    let audit = srv.audit_ok(show);
    assert_eq!(audit["seats"], SEATS, "{audit}");
    assert!(audit["booked"].as_u64().unwrap() as usize >= seen.len(), "{audit}");
    let v = srv.get(&format!("/shows/{show}/seats")).expect(200);
    assert_eq!(v["invariants_valid"], true);
    assert_eq!(v["booked_seats"], audit["booked"]);
    found
}

fn summary(name: &str, l: &Ledger, found: usize, extra: &str) {
    eprintln!(
        "faults: {name}: {} requests {:?}, {} holds and {} bookings acknowledged, {found} bookings found, \
         {} key retries, {} transport errors, slowest answer {} ms{extra}",
        l.requests,
        l.statuses,
        l.holds.len(),
        l.bookings.len(),
        l.key_retries,
        l.transport_errors.len(),
        l.slowest.as_millis()
    );
}

/// Polls until the server answers /health with 200 and grants a hold; returns how long it
/// took. Fails when that takes longer than `limit`.
fn time_to_recover(srv: &Server, show: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    let agent = agent();
    let mut l = Ledger::default();
    let mut n = 0;
    loop {
        n += 1;
        let healthy = matches!(agent.get(&srv.url("/health")).call(), Ok(r) if r.status() == 200);
        if healthy {
            let body = json!({ "seat_ids": [format!("S{}", SEATS - n % 10)], "hold_duration_seconds": 1 });
            if let Some((201, v)) = l.call(&agent, &srv.url(&format!("/shows/{show}/hold")), None, &body) {
                let _ = l.call(
                    &agent,
                    &srv.url(&format!("/shows/{show}/release-hold")),
                    None,
                    &json!({"hold_id": v["hold_id"]}),
                );
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < limit,
            "no normal answer {limit:?} after the fault ended; last: {:?}",
            l.statuses
        );
        thread::sleep(Duration::from_millis(25));
    }
}

fn assert_clean(name: &str, l: &Ledger) {
    assert!(
        l.bad.is_empty(),
        "{name}: answers that break the contract: {:#?}",
        &l.bad[..l.bad.len().min(10)]
    );
    assert!(l.slowest < CLIENT_TIMEOUT, "{name}: an answer took {:?}", l.slowest);
    assert!(!l.bookings.is_empty(), "{name}: no booking was acknowledged; the load did nothing");
}

// ---------------------------------------------------------------------------------------

#[test]
fn database_crash_under_load() {
    let cluster = Cluster::start("faults-crash", false);
    let srv = Server::start(
        &cluster.url("127.0.0.1", ""),
        &["--no-demo", "--min-hold-seconds", "1", "--pool-timeout-seconds", "2"],
    );
    make_show(&srv, "crash");
    let load = Load::start(&srv, "crash", 5);
    load.wait_for_bookings(10);

    let crashed = Instant::now();
    cluster.crash();
    // During the outage every answer is a prompt 503 with a JSON error.
    let agent = agent();
    let mut probes = Ledger::default();
    let started = Instant::now();
    let r = agent.get(&srv.url("/health")).call();
    let Err(ureq::Error::Status(503, r)) = r else { panic!("/health during the outage: {r:?}") };
    let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert_eq!((v["status"].as_str(), v["database"].as_str()), (Some("unhealthy"), Some("disconnected")));
    let health_ms = started.elapsed().as_millis();
    for (path, body) in [
        ("/shows/crash/hold", json!({"seat_ids": ["S1"]})),
        ("/shows/crash/book", json!({"hold_id": "00000000-0000-0000-0000-000000000000"})),
        ("/shows/crash/release-hold", json!({"hold_id": "00000000-0000-0000-0000-000000000000"})),
    ] {
        let r = probes.call(&agent, &srv.url(path), None, &body);
        let Some((503, v)) = r else { panic!("{path} during the outage: {r:?}") };
        assert!(v["error"].is_string());
    }
    let outage_probe_ms = probes.slowest.as_millis();

    cluster.up();
    let back = Instant::now();
    let outage = back - crashed;
    let recovery = time_to_recover(&srv, "crash", PATIENCE);
    load.wait_for_bookings(load.booked() + 10);
    let ledger = load.finish();

    assert_clean("crash", &ledger);
    assert!(ledger.transport_errors.is_empty(), "hung or dropped requests: {:#?}", ledger.transport_errors);
    assert!(ledger.count(503) > 0, "the clients never saw the outage");
    let before = ledger.bookings.iter().filter(|b| b.2 < crashed).count();
    let after = ledger.bookings.iter().filter(|b| b.2 > back).count();
    assert!(before > 0 && after > 0, "bookings before the crash: {before}, after: {after}");
    let mut db = postgres::Client::connect(&cluster.url("127.0.0.1", ""), postgres::NoTls).unwrap();
    let found = check_promises(&mut db, &srv, "crash", &ledger);
    summary(
        "database crash (pg_ctl -m immediate)",
        &ledger,
        found,
        &format!(
            ", outage {} ms, /health answered 503 in {health_ms} ms, other outage probes 503 in <= {outage_probe_ms} ms, \
             normal answers {} ms after the database was back, {before} bookings before the crash, {after} after",
            outage.as_millis(),
            recovery.as_millis()
        ),
    );
}

/// The durations (ms) of the log lines `METHOD PATH STATUS 123.45ms`.
fn logged_durations(log: &str, prefix: &str) -> Vec<f64> {
    log.lines().filter_map(|l| l.strip_prefix(prefix)?.strip_suffix("ms")?.parse().ok()).collect()
}

/// The value of a labelled line of the metrics, e.g. `name{labels}`.
fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in the metrics:\n{text}"))
}

#[test]
fn every_request_queued_in_an_outage_is_answered_by_its_deadline() {
    let cluster = Cluster::start("faults-deadline", false);
    // 8 workers, pool timeout 2 s: the requests' deadline is 3 s (the pool timeout plus 1 s).
    let srv = Server::start(&cluster.url("127.0.0.1", ""), &["--no-demo", "--pool-timeout-seconds", "2"]);
    let deadline = Duration::from_secs(3);
    let margin = Duration::from_secs(1);
    srv.show("late", &["A1"]);
    cluster.crash();

    // 100 clients send a hold at once, each on its own connection, 12 times the workers:
    // most wait in the queue for a worker, which waits for a connection that never comes.
    const CLIENTS: usize = 100;
    let go = Arc::new(std::sync::Barrier::new(CLIENTS));
    let url = srv.url("/shows/late/hold");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (go, url) = (Arc::clone(&go), url.clone());
            thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
                go.wait();
                let started = Instant::now();
                let r = agent
                    .post(&url)
                    .set("Content-Type", "application/json")
                    .send_string(r#"{"seat_ids":["A1"]}"#);
                let took = started.elapsed();
                match r {
                    Err(ureq::Error::Status(status, r)) => {
                        let retry = r.header("Retry-After").map(str::to_owned);
                        Ok((status, retry, r.into_string().unwrap_or_default(), took))
                    }
                    Ok(r) => Ok((r.status(), None, r.into_string().unwrap_or_default(), took)),
                    Err(e) => Err(format!("no answer after {took:?}: {e}")),
                }
            })
        })
        .collect();
    let mut took: Vec<Duration> = Vec::new();
    for c in clients {
        let (status, retry, body, t) =
            c.join().unwrap().unwrap_or_else(|e| panic!("a hold during the outage: {e}"));
        assert_eq!(
            (status, retry.as_deref(), serde_json::from_str::<Value>(&body).ok()),
            (503, Some("1"), Some(json!({"error": "database unavailable, try again"}))),
            "a hold during the outage"
        );
        took.push(t);
    }
    took.sort();
    let slowest = *took.last().unwrap();
    assert!(slowest <= deadline + margin, "a request was answered {slowest:?} after it was sent");

    // The server counts each request from its arrival, time in the queue included: each
    // logged duration is its client's wait, less the trip (at most the margin).
    let log = srv.log_once(|log| logged_durations(log, "POST /shows/late/hold 503 ").len() >= CLIENTS);
    let mut logged = logged_durations(&log, "POST /shows/late/hold 503 ");
    assert_eq!(logged.len(), CLIENTS, "{log}");
    logged.sort_by(f64::total_cmp);
    for (server, client) in logged.iter().zip(&took) {
        let client = client.as_secs_f64() * 1e3;
        assert!(
            *server >= client - margin.as_secs_f64() * 1e3,
            "logged {server} ms for a wait of {client} ms"
        );
    }
    let queued = logged.iter().filter(|&&ms| ms >= 2500.0).count();
    let metrics = srv.get("/metrics").body;
    let labels = r#"route="/shows/{show_id}/hold",method="POST""#;
    let count = metric(&metrics, &format!("seatcore_http_request_duration_seconds_count{{{labels}}}"));
    let sum = metric(&metrics, &format!("seatcore_http_request_duration_seconds_sum{{{labels}}}"));
    let under =
        metric(&metrics, &format!(r#"seatcore_http_request_duration_seconds_bucket{{{labels},le="2.5"}}"#));
    let logged_sum: f64 = logged.iter().sum::<f64>() / 1e3;
    assert_eq!(count, CLIENTS as f64);
    assert!((sum - logged_sum).abs() < 0.1, "histogram sum {sum} s, logs {logged_sum} s");
    assert_eq!(under, (CLIENTS - queued) as f64, "{metrics}");

    cluster.up();
    wait_until("/health 200 after the outage", || srv.get("/health").status == 200);
    eprintln!(
        "faults: outage deadline: {CLIENTS} concurrent holds with PostgreSQL stopped, 8 workers, pool timeout 2 s, \
         deadline 3 s: all 503 JSON, the fastest in {:.2} s, the median {:.2} s, the slowest {:.2} s; \
         {queued} logged at 2.5 s or more (time in the queue counted)",
        took[0].as_secs_f64(),
        took[CLIENTS / 2].as_secs_f64(),
        slowest.as_secs_f64()
    );
}

#[test]
fn killed_connections_give_clean_errors_and_the_pool_heals() {
    let db = TestDb::new("faults_terminate");
    let app = format!("faults_term_{}", std::process::id());
    let url = format!("{}&application_name={app}", db.url);
    let srv = Server::start(&url, &["--no-demo", "--min-hold-seconds", "1", "--pool-timeout-seconds", "2"]);
    make_show(&srv, "term");
    let load = Load::start(&srv, "term", 5);
    load.wait_for_bookings(5);

    // Kill the server's connections every 100 ms for 3 s, and on until 30 were killed.
    let kills = Arc::new(AtomicU64::new(0));
    let mut admin = db.client();
    let killing = Instant::now();
    while killing.elapsed() < Duration::from_secs(3) || kills.load(Ordering::Relaxed) < 30 {
        assert!(killing.elapsed() < PATIENCE, "only {kills:?} connections could be killed");
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
                &[&app],
            )
            .unwrap()
            .get(0);
        kills.fetch_add(n as u64, Ordering::Relaxed);
        thread::sleep(Duration::from_millis(100));
    }
    let heal = time_to_recover(&srv, "term", PATIENCE);
    load.wait_for_bookings(load.booked() + 5);
    let ledger = load.finish();

    let kills = kills.load(Ordering::Relaxed);
    assert!(kills > 20, "only {kills} connections were terminated");
    assert_clean("terminate", &ledger);
    assert!(ledger.transport_errors.is_empty(), "hung or dropped requests: {:#?}", ledger.transport_errors);
    // No worker is stuck: twice as many concurrent requests as workers all come back.
    let base = srv.base.clone();
    let all: Vec<_> = (0..16)
        .map(|_| {
            let base = base.clone();
            thread::spawn(move || {
                agent().get(&format!("{base}/health")).call().map(|r| r.status()).map_err(|e| e.to_string())
            })
        })
        .collect();
    for t in all {
        assert_eq!(t.join().unwrap(), Ok(200));
    }
    // The pool reopened its connections.
    let open: i64 = admin
        .query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", &[&app])
        .unwrap()
        .get(0);
    assert!(open > 0, "no pooled connection after healing");
    let found = check_promises(&mut admin, &srv, "term", &ledger);
    summary(
        "connections killed (pg_terminate_backend every 100 ms for 3 s)",
        &ledger,
        found,
        &format!(", {kills} backends terminated, normal answers {} ms after the killing stopped, {open} pooled connections after", heal.as_millis()),
    );
}

#[test]
fn server_killed_mid_load_restarts_consistent_and_holds_expire() {
    let db = TestDb::new("faults_kill9");
    let flags = ["--no-demo", "--min-hold-seconds", "1", "--sweep-interval-ms", "1000"];
    let first = Server::start(&db.url, &flags);
    make_show(&first, "k9");
    // Holds of 8 s: some are surely still live when the server is killed.
    let load = Load::start(&first, "k9", 8);
    load.wait_for_bookings(5);
    let mut c = db.client();
    let live_holds =
        "SELECT hold_id::text, expires_at FROM holds WHERE show_id = 'k9' AND expires_at > now()";
    wait_until("a live hold", || !c.query(live_holds, &[]).unwrap().is_empty());
    let killed = Instant::now();
    drop(first); // SIGKILL (Child::kill), then reaped
    let live: Vec<(String, chrono::DateTime<chrono::Utc>)> =
        c.query(live_holds, &[]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(!live.is_empty(), "no hold was in flight at the kill");
    let mut ledger = load.finish();
    let in_flight_errors = ledger.transport_errors.len();
    ledger.transport_errors.clear(); // requests cut off by the kill are unacknowledged, by design

    let second = Server::start(&db.url, &flags);
    let restart_ms = killed.elapsed().as_millis();
    assert_clean("kill -9", &ledger);
    let found = check_promises(&mut c, &second, "k9", &ledger);

    // The holds in flight simply expire: their seats come free at expires_at, by the
    // database's clock, and the restarted server's sweeper deletes them.
    let last = live.iter().map(|h| h.1).max().unwrap();
    let wait = seconds_until(&seatcore::iso8601(&last), db_now(&db)) + 0.2;
    if wait > 0.0 {
        thread::sleep(Duration::from_secs_f64(wait));
    }
    let v = second.get("/shows/k9/seats").expect(200);
    assert_eq!(v["held_seats"], 0, "holds outlived their expiry");
    let ids: Vec<String> = live.iter().map(|h| h.0.clone()).collect();
    let left = |c: &mut postgres::Client| -> i64 {
        c.query_one("SELECT count(*) FROM holds WHERE hold_id::text = ANY ($1)", &[&ids]).unwrap().get(0)
    };
    wait_until("the expired holds to be swept", || left(&mut c) == 0);
    let r = second.post_json("/shows/k9/book", &json!({ "hold_id": live[0].0 }));
    assert_eq!((r.status, r.json()), (400, json!({"error": "hold not found or expired"})));
    check_promises(&mut c, &second, "k9", &ledger);
    summary(
        "server killed (kill -9) and restarted",
        &ledger,
        found,
        &format!(
            ", {in_flight_errors} requests cut off by the kill, {} holds in flight expired and were swept, restart answered {restart_ms} ms after the kill",
            live.len()
        ),
    );
}

#[test]
fn lost_hold_reply_retried_with_the_same_key_gets_the_same_hold() {
    let db = TestDb::new("faults_lost");
    // No background sweep: the test sweeps when it wants to.
    let srv =
        Server::start(&db.url, &["--no-demo", "--min-hold-seconds", "1", "--sweep-interval-ms", "86400000"]);
    srv.show("lost", &["A1", "A2", "A3"]);
    let holds = |db: &TestDb| -> Vec<String> {
        db.client().query("SELECT hold_id::text FROM holds", &[]).unwrap().iter().map(|r| r.get(0)).collect()
    };

    // The request arrives, the client hangs up before the reply: the hold is made, the reply lost.
    let body = r#"{"seat_ids": ["A1", "A2"], "hold_duration_seconds": 2}"#;
    let req = format!(
        "POST /shows/lost/hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: kiosk7-req1\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    s.shutdown(Shutdown::Both).unwrap();
    drop(s);
    wait_until("the hold whose reply was lost", || !holds(&db).is_empty());
    let made = holds(&db);
    assert_eq!(made.len(), 1);

    let key = [("Content-Type", "application/json"), ("Idempotency-Key", "kiosk7-req1")];
    let retry = srv.request("POST", "/shows/lost/hold", &key, Some(body.as_bytes())).expect(201);
    assert_eq!(retry["hold_id"], json!(made[0]), "the retry made a second hold");
    assert_eq!(holds(&db), made);
    // the same seats in another order are the same request
    let reordered =
        srv.request("POST", "/shows/lost/hold", &key, Some(br#"{"seat_ids": ["A2", "A1"]}"#)).expect(201);
    assert_eq!(reordered, retry);

    // Lifetime: after expiry the key still names the same (expired) hold, until the sweep.
    let wait = seconds_until(retry["expires_at"].as_str().unwrap(), db_now(&db)) + 0.2;
    thread::sleep(Duration::from_secs_f64(wait.max(0.0)));
    let late = srv.request("POST", "/shows/lost/hold", &key, Some(body.as_bytes())).expect(201);
    assert_eq!(late, retry);
    let v = srv.post_json("/shows/lost/book", &json!({ "hold_id": made[0] })).expect(400);
    assert_eq!(v, json!({"error": "hold expired"}));
    let core = seatcore::SeatCore::connect(&db.url, seatcore::Options::default()).unwrap();
    assert_eq!(core.sweep_expired().unwrap(), 1);
    let fresh = srv.request("POST", "/shows/lost/hold", &key, Some(body.as_bytes())).expect(201);
    assert_ne!(fresh["hold_id"], retry["hold_id"], "after the sweep the key is free again");
    // Booking ends the key's life too: a repeat is then refused as seats unavailable.
    srv.post_json("/shows/lost/book", &json!({ "hold_id": fresh["hold_id"] })).expect(200);
    let after = srv.request("POST", "/shows/lost/hold", &key, Some(body.as_bytes()));
    assert_eq!(after.status, 409, "{}", after.body);
    // Scope: the key is per show.
    srv.show("lost2", &["A1", "A2"]);
    let other_show = srv.request("POST", "/shows/lost2/hold", &key, Some(body.as_bytes())).expect(201);
    assert_ne!(other_show["hold_id"], fresh["hold_id"]);
}

#[test]
fn lost_database_replies_are_retried_without_double_effects() {
    let db = TestDb::new("faults_lostdb");
    let Some(hostport) = database_host_port(&db, "lost_database_replies_are_retried_without_double_effects")
    else {
        return;
    };
    let proxy = LossyProxy::start(hostport.clone());
    let srv = Server::start(&db.url.replacen(&hostport, &proxy.addr, 1), &["--no-demo"]);
    srv.show("ld", &["A1", "A2", "A3"]);
    let count = |sql: &str| -> i64 { db.client().query_one(sql, &[]).unwrap().get(0) };
    // Sends a request whose database reply the proxy loses; once `committed` shows the
    // statement's effect, cuts the connection, and returns the server's answer.
    let with_lost_reply = |sql: &str, path: &str, body: String, committed: &str| -> Resp {
        proxy.lose_reply_to(sql);
        let url = srv.url(path);
        let request = thread::spawn(move || {
            call("POST", &url, &[("Content-Type", "application/json")], Some(body.as_bytes()))
        });
        wait_until(&format!("the statement of {path} to commit"), || count(committed) > 0);
        assert_eq!(proxy.cut(), 1, "{path}: one connection lost its reply");
        request.join().unwrap()
    };

    // A hold commits, its reply is lost: the core retries on a new connection, finds the hold
    // by the id it chose, and answers with it. One hold, not two, and no 409 against itself.
    let r = with_lost_reply(
        "seatcore_hold_many(",
        "/shows/ld/hold",
        r#"{"seat_ids": ["A1", "A2"]}"#.into(),
        "SELECT count(*) FROM holds",
    );
    let hold = r.expect(201);
    let stored: Vec<String> =
        db.client().query("SELECT hold_id::text FROM holds", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(stored, vec![hold["hold_id"].as_str().unwrap().to_owned()]);

    // The same for a booking: the retry finds the committed booking and returns it.
    let r = with_lost_reply(
        "seatcore_book(",
        "/shows/ld/book",
        json!({ "hold_id": hold["hold_id"] }).to_string(),
        "SELECT count(*) FROM bookings",
    );
    let booking = r.expect(200);
    assert_eq!(booking["booking_id"], hold["hold_id"]);
    assert_eq!(count("SELECT count(*) FROM bookings"), 1);
    assert_eq!(count("SELECT count(*) FROM seats WHERE booking_id IS NOT NULL"), 2);
    let again = srv.post_json("/shows/ld/book", &json!({ "hold_id": hold["hold_id"] })).expect(200);
    assert_eq!(again, booking);

    // A release is not retried (a repeat of a committed release would say "not found"): the
    // caller gets a 503, the release did happen, and the caller's retry then gets 404.
    let h3 = srv.post("/shows/ld/hold", r#"{"seat_ids": ["A3"]}"#).expect(201);
    let r = with_lost_reply(
        "seatcore_release(",
        "/shows/ld/release-hold",
        json!({ "hold_id": h3["hold_id"] }).to_string(),
        "SELECT (count(*) = 0)::int::int8 FROM holds",
    );
    assert_eq!((r.status, r.json()), (503, json!({"error": "database unavailable, try again"})));
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(count("SELECT count(*) FROM holds"), 0, "the release did not commit");
    let r = srv.post_json("/shows/ld/release-hold", &json!({ "hold_id": h3["hold_id"] }));
    assert_eq!((r.status, r.json()), (404, json!({"error": "hold not found"})));

    let v = srv.get("/shows/ld/seats").expect(200);
    assert_eq!(
        (v["available_seats"].as_i64(), v["held_seats"].as_i64(), v["booked_seats"].as_i64()),
        (Some(1), Some(0), Some(2))
    );
    assert_eq!(srv.audit_ok("ld")["booked"], 2);
    eprintln!("faults: lost database replies: hold, booking and release each committed with the reply cut; hold and booking answered once by the core's retry, release answered 503 then 404");
}
