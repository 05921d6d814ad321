//! Grouped holds against a real PostgreSQL: conflicting holds forced into one group, each
//! hold still all-or-none and independent; many threads whose holds the core groups by
//! itself, with the rows checked by the audit and every grant by the change log.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use seatcore::testing::TestDb;
use seatcore::{ChangeKind, Error, ErrorKind, Options, SeatCore, MAX_GROUP, ONE_CALL_SEATS};

fn core(db: &TestDb, pool: u32, group_holds: bool) -> SeatCore {
    SeatCore::connect(&db.url, Options { pool_size: pool, group_holds, ..Options::default() }).unwrap()
}

fn seats(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("S{i}")).collect()
}

fn kind<T: std::fmt::Debug>(r: &seatcore::Result<T>) -> Option<ErrorKind> {
    r.as_ref().err().map(Error::kind)
}

#[test]
fn a_group_decides_in_order_and_a_refusal_refuses_nothing_else() {
    let db = TestDb::new("group_order");
    let core = core(&db, 2, true);
    core.initialize_show("g", &seats(20)).unwrap();
    core.hold("g", &["S11"], 60).unwrap(); // taken before the group

    let requests: Vec<(&[&str], i64)> = vec![
        (&["S1", "S2"], 60),   // 0: wins
        (&["S2", "S3"], 60),   // 1: S2 went to 0
        (&["S4"], 90),         // 2: wins
        (&["S5", "NOPE"], 60), // 3: a seat not on the map
        (&["S3"], 60),         // 4: wins: 1 lost, so S3 is free
        (&["S10", "S11"], 60), // 5: S11 was taken before
        (&["S10"], 60),        // 6: wins: 5 lost
        (&["S6"], 0),          // 7: bad duration: its own error
        (&["S6"], 60),         // 8: wins
        (&["S4"], 60),         // 9: S4 went to 2
    ];
    let answers = core.hold_together("g", &requests);
    let kinds: Vec<Option<ErrorKind>> = answers.iter().map(kind).collect();
    use ErrorKind::*;
    assert_eq!(
        kinds,
        [
            None,
            Some(SeatsUnavailable),
            None,
            Some(InvalidSeatIds),
            None,
            Some(SeatsUnavailable),
            None,
            Some(InvalidInput),
            None,
            Some(SeatsUnavailable)
        ]
    );
    assert_eq!(answers[1].as_ref().unwrap_err().unavailable_seats(), ["S2"]);
    assert_eq!(answers[5].as_ref().unwrap_err().unavailable_seats(), ["S11"]);
    assert_eq!(answers[9].as_ref().unwrap_err().unavailable_seats(), ["S4"]);
    let held: Vec<&seatcore::Hold> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
    assert_eq!(held[0].seat_ids, ["S1", "S2"]);
    assert!(held[1].expires_at > held[0].expires_at, "each hold keeps its own duration");

    // The rows say the same, and each winner has its record in the log, in group order.
    let status = core.seat_status("g").unwrap();
    let rows = db.client().query("SELECT seat_id, hold_id FROM seats WHERE show_id = 'g'", &[]).unwrap();
    let held_by: HashMap<String, Option<seatcore::Uuid>> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for h in &held {
        for s in &h.seat_ids {
            assert_eq!(held_by[s], Some(h.hold_id), "{s}");
        }
    }
    assert_eq!(status.counts.held, 1 + 2 + 1 + 1 + 1 + 1); // S11 and the five winners' seats
    let log = db.settled_history(&core, "g", None);
    let grants: Vec<seatcore::Uuid> =
        log.iter().filter(|c| c.kind == ChangeKind::Held).filter_map(|c| c.hold_id).collect();
    let mut expected = vec![];
    expected.extend(held.iter().map(|h| h.hold_id));
    assert_eq!(&grants[1..], expected, "one record per winner, in group order, after S11's");
    assert!(core.audit(Some("g")).unwrap().summary.ok);
    // Each of the group's holds is like any other: book one, release another.
    core.book("g", &held[0].hold_id.to_string()).unwrap();
    core.release("g", &held[1].hold_id.to_string()).unwrap();
    assert!(core.audit(Some("g")).unwrap().summary.ok);
}

#[test]
fn a_group_too_big_for_one_call_decides_the_same_way() {
    let db = TestDb::new("group_big");
    let core = core(&db, 2, true);
    let all = seats(ONE_CALL_SEATS + 100);
    core.initialize_show("g", &all).unwrap();
    core.hold("g", &["S11"], 60).unwrap(); // taken before the group
                                           // One big hold first (more seats than one call takes), then the conflicts.
    let big: Vec<&str> = all[20..].iter().map(String::as_str).collect();
    let requests: Vec<(&[&str], i64)> = vec![
        (&big, 60),            // 0: wins
        (&["S1", "S2"], 60),   // 1: wins
        (&["S2", "S3"], 60),   // 2: S2 went to 1
        (&["S5", "NOPE"], 60), // 3: a seat not on the map
        (&["S10", "S11"], 60), // 4: S11 was taken before
        (&["S3", "S30"], 60),  // 5: S30 went to 0
        (&["S3"], 60),         // 6: wins
    ];
    let answers = core.hold_together("g", &requests);
    let kinds: Vec<Option<ErrorKind>> = answers.iter().map(kind).collect();
    use ErrorKind::*;
    assert_eq!(
        kinds,
        [
            None,
            None,
            Some(SeatsUnavailable),
            Some(InvalidSeatIds),
            Some(SeatsUnavailable),
            Some(SeatsUnavailable),
            None
        ]
    );
    assert_eq!(answers[2].as_ref().unwrap_err().unavailable_seats(), ["S2"]);
    assert_eq!(answers[4].as_ref().unwrap_err().unavailable_seats(), ["S11"]);
    assert_eq!(answers[5].as_ref().unwrap_err().unavailable_seats(), ["S30"]);
    let status = core.seat_status("g").unwrap();
    assert_eq!(status.counts.held as usize, 1 + big.len() + 2 + 1);
    let audit = core.audit(Some("g")).unwrap();
    assert!(audit.summary.ok, "{audit:?}");
}

#[test]
fn a_hot_seat_in_one_group_has_exactly_one_winner() {
    let db = TestDb::new("group_hot_seat");
    let core = core(&db, 2, true);
    core.initialize_show("hot", &seats(3)).unwrap();
    let requests: Vec<(&[&str], i64)> = (0..50).map(|_| (&["S2"][..], 60)).collect();
    let answers = core.hold_together("hot", &requests);
    assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 1);
    assert!(answers[0].is_ok(), "the first in the group wins");
    for a in &answers[1..] {
        assert_eq!(a.as_ref().unwrap_err().unavailable_seats(), ["S2"]);
    }
    let stats = core.stats();
    assert_eq!((stats.holds_granted, stats.holds_refused), (1, 49));
    assert_eq!(stats.hold_groups[5], 1, "one group of 32 to 63 holds: {:?}", stats.hold_groups);
    assert!(core.audit(Some("hot")).unwrap().summary.ok);
}

/// A session that locks `seat` of `show` (as a long transaction elsewhere would) until it
/// is dropped; and its backend's pid.
fn lock_seat(db: &TestDb, show: &str, seat: &str) -> (postgres::Client, i32) {
    let mut c = db.client();
    c.batch_execute("BEGIN").unwrap();
    let locked = c
        .execute("SELECT 1 FROM seats WHERE show_id = $1 AND seat_id = $2 FOR UPDATE", &[&show, &seat])
        .unwrap();
    assert_eq!(locked, 1);
    let pid = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    (c, pid)
}

/// A show `g` of `n` seats, a core whose connections wait `lock_timeout` for a lock, and a
/// session that keeps `seat` locked (with its pid).
fn locked_show(
    label: &str,
    n: usize,
    seat: &str,
    lock_timeout: Duration,
) -> (TestDb, SeatCore, postgres::Client, i32) {
    let db = TestDb::new(label);
    let core =
        SeatCore::connect(&db.url, Options { pool_size: 2, lock_timeout, ..Options::default() }).unwrap();
    core.initialize_show("g", &seats(n)).unwrap();
    let (locker, pid) = lock_seat(&db, "g", seat);
    (db, core, locker, pid)
}

/// A seat another transaction keeps locked past the lock timeout fails only the holds that
/// want it (busy, nothing of them held); the group's other holds are made.
#[test]
fn a_seat_locked_elsewhere_fails_only_the_holds_that_want_it() {
    let (_db, core, locker, _) = locked_show("group_locked_seat", 6, "S3", Duration::from_millis(200));
    let requests: Vec<(&[&str], i64)> =
        vec![(&["S1"], 60), (&["S3", "S4"], 60), (&["S2"], 60), (&["S3"], 60), (&["S4", "S5"], 60)];
    let answers = core.hold_together("g", &requests);
    use ErrorKind::*;
    let kinds: Vec<Option<ErrorKind>> = answers.iter().map(kind).collect();
    assert_eq!(kinds, [None, Some(Busy), None, Some(Busy), None]);
    drop(locker);
    let status = core.seat_status("g").unwrap();
    let state: HashMap<&str, seatcore::SeatState> =
        status.seats.iter().map(|s| (s.seat_id.as_str(), s.state)).collect();
    use seatcore::SeatState::{Available, Held};
    assert_eq!(
        [state["S1"], state["S2"], state["S3"], state["S4"], state["S5"], state["S6"]],
        [Held, Held, Available, Held, Held, Available],
        "the busy holds held nothing"
    );
    assert!(core.audit(Some("g")).unwrap().summary.ok);
}

/// While another transaction has a seat locked, the group's other holds are made and
/// durable at once; the hold that wants the seat waits for the lock alone and is made once
/// the lock goes.
#[test]
fn a_hold_whose_seat_is_locked_waits_alone_after_its_group() {
    let (db, core, mut locker, pid) = locked_show("group_waits_alone", 4, "S2", Duration::from_secs(60));
    let done = AtomicBool::new(false);
    let answers = std::thread::scope(|s| {
        let group = s.spawn(|| {
            let answers =
                core.hold_together("g", &[(&["S1"][..], 60), (&["S2", "S3"][..], 60), (&["S4"][..], 60)]);
            done.store(true, Ordering::SeqCst);
            answers
        });
        common::wait_for_a_waiter(&db, pid, || done.load(Ordering::SeqCst));
        assert!(!done.load(Ordering::SeqCst), "the group did not wait for the locked seat");
        // A hold alone waits for S2; the group's others are committed already.
        let mut seen = db.client();
        let held: Vec<String> = seen
            .query(
                "SELECT seat_id FROM seats WHERE show_id = 'g' AND hold_id IS NOT NULL ORDER BY seat_no",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(held, ["S1", "S4"], "held while the lock is kept");
        locker.batch_execute("ROLLBACK").unwrap();
        group.join().unwrap()
    });
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(answers[1].as_ref().unwrap().seat_ids, ["S2", "S3"]);
    assert_eq!(core.seat_status("g").unwrap().counts.held, 4);
    assert!(core.audit(Some("g")).unwrap().summary.ok);
}

/// Holds the core groups by itself: of a group formed in the show's queue, the hold whose
/// seat another transaction has locked is made alone by its own caller, after the group;
/// the group's other callers have their answers while it waits for the lock.
#[test]
fn a_queued_hold_whose_seat_is_locked_waits_without_holding_up_its_group() {
    let db = TestDb::new("group_queue_alone");
    let (wait, pool_size) = (Duration::from_secs(120), 4);
    let options = Options { pool_size, lock_timeout: wait, statement_timeout: wait, ..Options::default() };
    let core = SeatCore::connect(&db.url, options).unwrap();
    core.initialize_show("g", &seats(6)).unwrap();
    let (mut first_lock, first_pid) = lock_seat(&db, "g", "S5");
    let (mut second_lock, second_pid) = lock_seat(&db, "g", "S6");
    let (mut seat_lock, seat_pid) = lock_seat(&db, "g", "S2");
    let hold = |seat: &'static str| {
        let core = core.clone();
        std::thread::spawn(move || core.hold("g", &[seat], 60))
    };
    // Two holds alone, each waiting for a lock: the show's two groups are taken.
    let first = hold("S5");
    common::wait_for_a_waiter(&db, first_pid, || first.is_finished());
    let second = hold("S6");
    common::wait_for_a_waiter(&db, second_pid, || second.is_finished());
    // Three more queue; the next group takes them all once the first is done.
    let locked = hold("S2");
    let (free, also_free) = (hold("S1"), hold("S3"));
    common::wait_until("three holds queued", || core.holds_queued("g") == 3);
    first_lock.batch_execute("ROLLBACK").unwrap();
    common::wait_until("the group's free holds answered", || free.is_finished() && also_free.is_finished());
    assert_eq!(free.join().unwrap().unwrap().seat_ids, ["S1"]);
    assert_eq!(also_free.join().unwrap().unwrap().seat_ids, ["S3"]);
    // S2's hold waits for its lock alone, on its own connection, outside any group.
    common::wait_for_a_waiter(&db, seat_pid, || locked.is_finished());
    assert!(!locked.is_finished(), "the hold of the locked seat did not wait for it");
    seat_lock.batch_execute("ROLLBACK").unwrap();
    second_lock.batch_execute("ROLLBACK").unwrap();
    for (h, seat) in [(locked, "S2"), (first, "S5"), (second, "S6")] {
        assert_eq!(h.join().unwrap().unwrap().seat_ids, [seat]);
    }
    assert_eq!(core.stats().hold_groups[1], 1, "one group of 2 or 3: {:?}", core.stats().hold_groups);
    assert_eq!(core.seat_status("g").unwrap().counts.held, 5);
    assert!(core.audit(Some("g")).unwrap().summary.ok);
}

/// A hold whose connection is lost while its statement waits for a lock: the core retries
/// on a new connection, finds no hold yet, and waits behind the lost statement for a seat's
/// lock; the lost statement then makes the hold and commits. The retry answers with that
/// hold, never with a refusal for the hold's own seats. Made alone (grouping off, and on
/// with the hold arriving alone), as the hold of a group that waits alone after it, and in
/// a group whose own statement was lost (waiting to record its winners), whose retry finds
/// the seats locked by the lost group.
#[test]
fn a_retry_that_waited_behind_its_lost_attempt_answers_with_its_hold() {
    const TEST: &str = "a_retry_that_waited_behind_its_lost_attempt_answers_with_its_hold";
    const SEAT: &str = "SELECT 1 FROM seats WHERE show_id = 'r' AND seat_id = 'S1' FOR UPDATE";
    const RECORDS: &str = "LOCK TABLE changes IN SHARE MODE";
    for (case, group_holds, together, lost, blocker) in [
        ("alone", false, false, "seatcore_hold_many(", SEAT),
        ("arrived alone", true, false, "seatcore_hold_many(", SEAT),
        ("alone after its group", true, true, "seatcore_hold_many(", SEAT),
        ("group", true, true, "seatcore_hold_group(", RECORDS),
    ] {
        let db = TestDb::new("group_lost_retry");
        let Some(hostport) = seatcore::testing::database_host_port(&db, TEST) else {
            return;
        };
        let proxy = seatcore::testing::LossyProxy::start(hostport.clone());
        let app = format!("{}_core", db.schema);
        let url = format!("{}&application_name={app}", db.url.replacen(&hostport, &proxy.addr, 1));
        let core = SeatCore::connect(
            &url,
            Options {
                pool_size: 2,
                group_holds,
                lock_timeout: Duration::from_secs(60),
                ..Options::default()
            },
        )
        .unwrap();
        core.initialize_show("r", &seats(4)).unwrap();
        let mut watch = db.client();
        let mut waiting = || -> i64 {
            watch
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                    &[&app],
                )
                .unwrap()
                .get(0)
        };
        let mut locker = db.client();
        locker.batch_execute(&format!("BEGIN; {blocker}")).unwrap();
        proxy.lose_reply_to(lost);
        let answers = std::thread::scope(|s| {
            let holding = s.spawn(|| {
                if together {
                    core.hold_together("r", &[(&["S1", "S2"][..], 60), (&["S4"][..], 60)])
                } else {
                    vec![core.hold("r", &["S1", "S2"], 60)]
                }
            });
            common::wait_until("the hold's statement to wait for a lock", || waiting() == 1);
            assert_eq!(proxy.cut(), 1, "{case}: one connection lost its reply");
            common::wait_until("the retry to wait behind the lost statement", || waiting() == 2);
            locker.batch_execute("ROLLBACK").unwrap();
            holding.join().unwrap()
        });
        let hold = answers[0].as_ref().unwrap_or_else(|e| panic!("{case}: {e:?}"));
        let stored: Vec<seatcore::Uuid> = db
            .client()
            .query("SELECT hold_id FROM holds WHERE show_id = 'r' AND 'S1' = ANY (seat_ids)", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(stored, [hold.hold_id], "{case}: one hold of S1, the one answered");
        assert!(answers.iter().all(Result::is_ok), "{case}: {answers:?}");
        assert!(core.audit(Some("r")).unwrap().summary.ok, "{case}");
    }
}

#[test]
fn a_group_for_an_unknown_show_or_bad_input_writes_nothing() {
    let db = TestDb::new("group_bad");
    let core = core(&db, 2, true);
    let answers = core.hold_together("nope", &[(&["S1"][..], 60), (&["S2"][..], 60)]);
    assert!(answers.iter().all(|a| kind(a) == Some(ErrorKind::ShowNotFound)));
    let answers = core.hold_together("", &[(&["S1"][..], 60)]);
    assert_eq!(kind(&answers[0]), Some(ErrorKind::InvalidInput));
    core.initialize_show("g", &seats(4)).unwrap();
    let too_many: Vec<(&[&str], i64)> = (0..=MAX_GROUP).map(|_| (&["S1"][..], 60)).collect();
    let answers = core.hold_together("g", &too_many);
    assert!(answers.iter().all(|a| kind(a) == Some(ErrorKind::InvalidInput)));
    let answers = core.hold_together("g", &[(&[][..], 60), (&["S1", "S1"][..], 60)]);
    assert!(answers.iter().all(|a| kind(a) == Some(ErrorKind::InvalidInput)));
    let status = core.seat_status("g").unwrap();
    assert_eq!(status.counts.available, 4);
    assert!(db.settled_history(&core, "g", None).iter().all(|c| c.kind != ChangeKind::Held));
}

/// Many threads hold at once, the core grouping their holds by itself: distinct seats all
/// granted once, a hot seat granted once per release, and the audit clean.
#[test]
fn threads_holding_at_once_are_grouped_and_every_grant_is_sound() {
    let db = TestDb::new("group_threads");
    let core = core(&db, 4, true);
    let n_seats = 2_000;
    core.initialize_show("busy", &seats(n_seats)).unwrap();
    let threads = 32;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (core, barrier) = (core.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                let mut hot = 0;
                for i in 0..40 {
                    // Distinct seats: thread t takes S(t*40+i+1); and everyone wants S2000.
                    let seat = format!("S{}", t * 40 + i + 1);
                    let h = core.hold("busy", &[seat.as_str()], 60).expect("a distinct seat");
                    mine.push(h);
                    if let Ok(h) = core.hold("busy", &["S2000"], 60) {
                        hot += 1;
                        core.release("busy", &h.hold_id.to_string()).unwrap();
                    }
                }
                (mine, hot)
            })
        })
        .collect();
    let mut granted = HashSet::new();
    let mut hot_wins = 0;
    for h in handles {
        let (mine, hot) = h.join().unwrap();
        for hold in mine {
            for s in hold.seat_ids {
                assert!(granted.insert(s.clone()), "{s} granted twice");
            }
        }
        hot_wins += hot;
    }
    assert_eq!(granted.len(), threads * 40);
    assert!(hot_wins >= 1);
    let stats = core.stats();
    assert!(
        stats.hold_groups[1..].iter().sum::<u64>() > 0,
        "no group of two or more: {:?}",
        stats.hold_groups
    );
    let status = core.seat_status("busy").unwrap();
    assert_eq!(status.counts.held as usize, threads * 40);
    // Every grant of the hot seat is in the log, each released before the next.
    let log = db.settled_history(&core, "busy", Some("S2000"));
    let held = log.iter().filter(|c| c.kind == ChangeKind::Held).count();
    let released = log.iter().filter(|c| c.kind == ChangeKind::Released).count();
    assert_eq!((held, released), (hot_wins, hot_wins));
    // Replayed in id order with the log's rule (a release frees only seats that still carry
    // its hold), the records end where the rows are: S2000 free. Two holds of the seat whose
    // transactions overlapped may come in either order.
    let mut holder = None;
    let mut per_hold: HashMap<seatcore::Uuid, (usize, usize)> = HashMap::new();
    for c in &log {
        let Some(h) = c.hold_id else {
            assert_eq!(c.kind, ChangeKind::Initialized);
            continue;
        };
        match c.kind {
            ChangeKind::Held => {
                holder = Some(h);
                per_hold.entry(h).or_default().0 += 1;
            }
            ChangeKind::Released => {
                if holder == Some(h) {
                    holder = None;
                }
                per_hold.entry(h).or_default().1 += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(holder, None);
    assert!(per_hold.values().all(|&n| n == (1, 1)), "each hold once held and once released");
    assert!(core.audit(None).unwrap().summary.ok);
}

/// The same load with grouping off gives the same guarantees (the option is honoured: no
/// group of two or more is made).
#[test]
fn holds_made_alone_when_grouping_is_off() {
    let db = TestDb::new("group_off");
    let core = core(&db, 4, false);
    core.initialize_show("alone", &seats(200)).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let core = core.clone();
            std::thread::spawn(move || {
                for i in 0..20 {
                    core.hold("alone", &[format!("S{}", t * 20 + i + 1)], 60).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(core.stats().hold_groups, [0; seatcore::GROUP_SIZE_BUCKETS]);
    assert_eq!(core.seat_status("alone").unwrap().counts.held, 160);
    assert!(core.audit(None).unwrap().summary.ok);
}
