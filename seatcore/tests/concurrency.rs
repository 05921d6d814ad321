//! Concurrency against a real PostgreSQL: many threads and many processes at once, with the
//! invariants checked in the database afterwards.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use seatcore::testing::TestDb;
use seatcore::{BestFilters, Error, Options, SeatCore};

use common::{in_threads, reported};

fn seat_map(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("R{}S{}", (i - 1) / 10 + 1, (i - 1) % 10 + 1)).collect()
}

fn wide(db: &TestDb, pool: u32) -> SeatCore {
    SeatCore::connect(&db.url, Options { pool_size: pool, min_idle: 1, ..Options::default() }).unwrap()
}

/// A fresh schema with the show `show` of `n` seats (returned), and a core with a pool of
/// `pool` connections.
fn setup(label: &str, pool: u32, n: usize) -> (TestDb, SeatCore, Vec<String>) {
    let db = TestDb::new(label);
    let core = wide(&db, pool);
    let map = seat_map(n);
    core.initialize_show("show", &map).unwrap();
    (db, core, map)
}

/// `n` different seats of `map`, picked at random.
fn distinct_seats(rng: &mut fastrand::Rng, map: &[String], n: usize) -> Vec<String> {
    let mut want: Vec<String> = Vec::new();
    while want.len() < n {
        let s = map[rng.usize(..map.len())].clone();
        if !want.contains(&s) {
            want.push(s);
        }
    }
    want
}

/// Checks the rows with the core's audit (no seat in two live holds or two bookings, every
/// held or booked seat backed by its hold or booking, the seat map whole) and the status
/// counts adding up.
fn assert_consistent(core: &SeatCore, show: &str) {
    let audit = core.audit(Some(show)).unwrap();
    assert!(audit.summary.ok, "{:#?}", audit.problems);
    let st = core.seat_status(show).unwrap();
    assert!(st.counts.invariants_valid);
    assert_eq!(st.counts.available + st.counts.held + st.counts.booked, st.counts.total);
    assert_eq!(st.counts.booked, audit.summary.booked, "bookings are final");
}

#[test]
fn last_seat_race_has_one_winner() {
    let (_db, core, map) = setup("lastseat", 64, 10);
    let sold = core.hold("show", &map[..9], 600).unwrap();
    core.book("show", &sold.hold_id.to_string()).unwrap();
    for round in 0..3 {
        let results = in_threads(64, |_, barrier| {
            barrier.wait();
            core.hold("show", &map[9..], 600)
        });
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {} winners", winners.len());
        for r in &results {
            match r {
                Ok(_) | Err(Error::SeatsUnavailable { .. }) => {}
                Err(e) => panic!("unexpected error: {e:?}"),
            }
        }
        assert_consistent(&core, "show");
        core.release("show", &winners[0].hold_id.to_string()).unwrap();
    }
}

#[test]
fn overlapping_multi_seat_holds_never_collide() {
    let (_db, core, map) = setup("overlap", 32, 80);
    let deadline = Instant::now() + Duration::from_secs(4);
    // each thread: how many of its holds were granted, and how many refused
    let counts = in_threads(32, |t, _| {
        let (mut granted, mut refused) = (0u64, 0u64);
        let mut rng = fastrand::Rng::with_seed(t as u64);
        while Instant::now() < deadline {
            let n = rng.usize(2..=6);
            let want = distinct_seats(&mut rng, &map, n);
            // a quarter of the holds are abandoned and expire during the run, so
            // expired seats are taken over under contention too
            let fate = rng.u8(..20);
            let secs = if fate >= 15 { 1 } else { 60 };
            match core.hold("show", &want, secs) {
                Ok(h) => {
                    granted += 1;
                    let id = h.hold_id.to_string();
                    match fate {
                        0 => {
                            core.book("show", &id).unwrap();
                        }
                        1..=14 => core.release("show", &id).unwrap(),
                        _ => {} // abandoned
                    }
                }
                Err(Error::SeatsUnavailable { seat_ids }) => {
                    assert!(!seat_ids.is_empty() && seat_ids.iter().all(|s| want.contains(s)));
                    refused += 1;
                }
                Err(e) => panic!("thread {t}: unexpected error (deadlock?): {e:?}"),
            }
        }
        (granted, refused)
    });
    let (granted, refused) = counts.iter().fold((0, 0), |(g, r), &(tg, tr)| (g + tg, r + tr));
    assert!(granted >= 20 && refused > 0, "granted {granted}, refused {refused}");
    assert_consistent(&core, "show");
}

#[test]
fn concurrent_repeats_of_one_booking_agree() {
    let (db, core, _) = setup("rebook", 16, 10);
    let hold = core.hold("show", &["R1S3", "R1S4"], 600).unwrap();
    let id = hold.hold_id.to_string();
    let results = in_threads(16, |_, barrier| {
        barrier.wait();
        core.book("show", &id).expect("every repeat succeeds")
    });
    assert!(results.iter().all(|b| *b == results[0]), "all repeats return the same booking");
    assert_eq!(results[0].booking_id, hold.hold_id);
    let n: i64 = db.client().query_one("SELECT count(*) FROM bookings", &[]).unwrap().get(0);
    assert_eq!(n, 1);
    assert_eq!(core.stats().bookings, 1, "one call made the booking, the rest repeated it");
    assert_consistent(&core, "show");
}

#[test]
fn concurrent_requests_with_one_key_make_one_hold() {
    let (db, core, map) = setup("onekey", 32, 100);
    // best-available needs rows: ids of letters then digits
    let row: Vec<String> = (1..=40).map(|i| format!("A{i}")).collect();
    core.initialize_show("row", &row).unwrap();
    let any = BestFilters::default();
    let named = in_threads(16, |_, barrier| {
        barrier.wait();
        core.hold_with_key("show", &map[..4], 600, Some("named")).expect("every repeat succeeds")
    });
    let best = in_threads(16, |_, barrier| {
        barrier.wait();
        core.hold_best_with_key("row", 4, &any, 600, Some("best")).expect("every repeat succeeds")
    });
    for answers in [&named, &best] {
        assert!(answers.iter().all(|h| *h == answers[0]), "every repeat gets the key's one hold");
    }
    assert_ne!(named[0].hold_id, best[0].hold_id);
    let holds: i64 = db.client().query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    assert_eq!(holds, 2, "one hold per key");
    for show in ["show", "row"] {
        assert_eq!(core.seat_status(show).unwrap().counts.held, 4, "{show}");
        assert_consistent(&core, show);
    }
}

/// A second initialize of a show that another transaction is making waits for it to end,
/// however long past the lock timeout: the show exists then (or, had the first failed, the
/// second makes it).
#[test]
fn an_initialize_behind_one_in_flight_answers_show_exists() {
    let db = TestDb::new("init_race");
    let core = SeatCore::connect(
        &db.url,
        Options { pool_size: 2, min_idle: 1, lock_timeout: Duration::from_millis(1), ..Options::default() },
    )
    .unwrap();
    // the first initialize, in flight: its show row written, not committed
    let mut first = db.client();
    let pid: i32 = first.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    first
        .batch_execute("BEGIN; INSERT INTO shows (show_id, seat_count, map_derived) VALUES ('s', 1, true)")
        .unwrap();
    let second = {
        let core = core.clone();
        std::thread::spawn(move || core.initialize_show("s", &["A1", "A2"]))
    };
    common::wait_for_a_waiter(&db, pid, || second.is_finished());
    first
        .batch_execute(
            "INSERT INTO seats (show_id, seat_no, seat_id) VALUES ('s', 1, 'B1'); \
             INSERT INTO changes (id, kind, show_id, seat_ids) VALUES (seatcore_change_id(0), 'initialized', 's', '{B1}'); \
             COMMIT",
        )
        .unwrap();
    assert!(matches!(second.join().unwrap(), Err(Error::ShowExists)));
    let seats: Vec<String> = core.seat_status("s").unwrap().seats.into_iter().map(|s| s.seat_id).collect();
    assert_eq!(seats, ["B1"], "the first initialize's show, untouched");
}

#[test]
fn concurrent_sweepers_share_the_work() {
    let db = TestDb::new("sweepers");
    let core = SeatCore::connect(&db.url, Options { sweep_batch: 50, ..Options::default() }).unwrap();
    let map = seat_map(600);
    core.initialize_show("show", &map).unwrap();
    for chunk in map.chunks(2) {
        core.hold("show", chunk, 1).unwrap();
    }
    std::thread::sleep(Duration::from_millis(1100));
    // meanwhile customers take some of the expired seats
    let fresh: Vec<_> = map.iter().step_by(7).cloned().collect();
    let taker = {
        let (core, fresh) = (core.clone(), fresh.clone());
        std::thread::spawn(move || {
            for chunk in fresh.chunks(3) {
                core.hold("show", chunk, 600).unwrap();
            }
            fresh.chunks(3).count()
        })
    };
    let sweepers: Vec<_> = (0..4)
        .map(|_| {
            let core = core.clone();
            std::thread::spawn(move || core.sweep_expired().unwrap())
        })
        .collect();
    let swept: u64 = sweepers.into_iter().map(|h| h.join().unwrap()).sum();
    let taken = taker.join().unwrap();
    assert_eq!(swept, 300, "each expired hold swept exactly once");
    assert_consistent(&core, "show");
    let st = core.seat_status("show").unwrap();
    assert_eq!(st.counts.held as usize, fresh.len());
    assert_eq!(taken, fresh.chunks(3).count());
}

/// The body of a child process started by the multi-process tests below (with
/// `--ignored`); on its own it has nothing to do.
#[test]
#[ignore = "the body of a child process of the multi-process tests, which run it"]
fn child_process_body() {
    let url = std::env::var("SEATCORE_CHILD_URL").expect("started by a multi-process test");
    let role = std::env::var("SEATCORE_CHILD_ROLE").expect("started by a multi-process test");
    let core = SeatCore::connect(&url, Options { pool_size: 4, min_idle: 1, ..Options::default() })
        .expect("child connects (and migrates)");
    if role == "migrate" {
        core.health().unwrap();
        return;
    }
    let seed: u64 = std::env::var("SEATCORE_CHILD_SEED").unwrap().parse().unwrap();
    let mut rng = fastrand::Rng::with_seed(seed);
    let map = seat_map(30);
    let mut booked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let n = rng.usize(1..=4);
        let want = distinct_seats(&mut rng, &map, n);
        match core.hold("show", &want, 60) {
            Ok(h) => {
                if rng.bool() {
                    let b = core.book("show", &h.hold_id.to_string()).unwrap();
                    booked.push(b.booking_id.to_string());
                } else {
                    core.release("show", &h.hold_id.to_string()).unwrap();
                }
            }
            Err(Error::SeatsUnavailable { .. }) => {}
            Err(e) => panic!("child {seed}: {e:?}"),
        }
    }
    // the parent checks that every booking this child was told about exists
    println!("\nBOOKED {}", booked.join(","));
}

fn spawn_child(url: &str, role: &str, seed: u64) -> std::process::Child {
    let seed = seed.to_string();
    common::spawn_child(
        "child_process_body",
        &[("SEATCORE_CHILD_URL", url), ("SEATCORE_CHILD_ROLE", role), ("SEATCORE_CHILD_SEED", &seed)],
    )
}

#[test]
fn eight_processes_migrate_an_empty_database_at_once() {
    let db = TestDb::new("procmigrate");
    let children: Vec<_> = (0..8).map(|i| spawn_child(&db.url, "migrate", i)).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a child failed to start on the empty database");
    }
    let n: i64 = db.client().query_one("SELECT count(*) FROM seatcore_migrations", &[]).unwrap().get(0);
    assert_eq!(n, seatcore::migrate::MIGRATIONS.len() as i64);
}

#[test]
fn several_processes_share_one_show() {
    let (db, core, _) = setup("procs", 4, 30);
    let children: Vec<_> = (0..4).map(|i| spawn_child(&db.url, "work", 100 + i)).collect();
    let mut acknowledged = HashSet::new();
    for child in children {
        acknowledged.extend(reported(child, "BOOKED "));
    }
    assert!(!acknowledged.is_empty());
    let mut c = db.client();
    for id in &acknowledged {
        let id: seatcore::Uuid = id.parse().unwrap();
        let n: i64 =
            c.query_one("SELECT count(*) FROM bookings WHERE booking_id = $1", &[&id]).unwrap().get(0);
        assert_eq!(n, 1, "acknowledged booking {id} is missing");
    }
    assert_consistent(&core, "show");
}
