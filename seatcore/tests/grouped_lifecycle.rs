//! Grouped extensions, partial releases and releases of whole holds against a real
//! PostgreSQL: requests forced into one group, each with the outcome it has alone (missing
//! holds, holds near their expiry, two requests for one hold, a seat not in the hold); a
//! group whose seat does not carry its hold writes nothing; threads whose requests the core
//! groups by itself. The rows are
//! checked by the audit, and the log by its transactions.

use std::collections::HashMap;
use std::sync::{Arc, Barrier};

use seatcore::testing::TestDb;
use seatcore::{Error, ErrorKind, Options, SeatCore, Uuid};

fn core(db: &TestDb) -> SeatCore {
    SeatCore::connect(&db.url, Options { pool_size: 4, ..Options::default() }).unwrap()
}

fn seats(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("S{i}")).collect()
}

fn kind<T: std::fmt::Debug>(r: &seatcore::Result<T>) -> Option<ErrorKind> {
    r.as_ref().err().map(Error::kind)
}

fn assert_audit(core: &SeatCore, show: &str) {
    let audit = core.audit(Some(show)).unwrap();
    assert!(audit.ok, "{:#?}", audit.problems);
}

/// The show's records of `kind`, by hold: the transaction that wrote each (its change id's
/// high bits), and how many records each hold has.
fn records(db: &TestDb, show: &str, kind: &str) -> HashMap<Uuid, Vec<i64>> {
    let mut out: HashMap<Uuid, Vec<i64>> = HashMap::new();
    let rows = db
        .client()
        .query(
            "SELECT hold_id, id >> 20 FROM changes WHERE show_id = $1 AND kind = $2 ORDER BY id",
            &[&show, &kind],
        )
        .unwrap();
    for r in rows {
        out.entry(r.get(0)).or_default().push(r.get(1));
    }
    out
}

fn expiry(db: &TestDb, hold_id: Uuid) -> Option<seatcore::DateTime<seatcore::Utc>> {
    db.client()
        .query_opt("SELECT expires_at FROM holds WHERE hold_id = $1", &[&hold_id])
        .unwrap()
        .map(|r| r.get(0))
}

#[test]
fn extensions_in_one_group_each_have_the_outcome_they_have_alone() {
    let db = TestDb::new("group_extend");
    let core = core(&db);
    core.initialize_show("g", &seats(10)).unwrap();
    let a = core.hold("g", &["S1", "S2"], 60).unwrap();
    let b = core.hold("g", &["S3"], 60).unwrap();
    // Near its expiry (closer than the statement timeout): made alone, after the group.
    let near = core.hold("g", &["S4"], 5).unwrap();
    let gone = core.hold("g", &["S5"], 60).unwrap();
    core.release("g", &gone.hold_id.to_string()).unwrap();
    let other_show = {
        core.initialize_show("h", &seats(2)).unwrap();
        core.hold("h", &["S1"], 60).unwrap()
    };

    let (a_id, b_id, near_id, gone_id, other_id) = (
        a.hold_id.to_string(),
        b.hold_id.to_string(),
        near.hold_id.to_string(),
        gone.hold_id.to_string(),
        other_show.hold_id.to_string(),
    );
    let answers = core.extend_together(
        "g",
        &[
            (&a_id, 600),        // 0: extended in the group
            (&gone_id, 600),     // 1: released before: not found
            (&b_id, 300),        // 2: extended in the group
            ("not-a-uuid", 600), // 3: not found, never sent
            (&near_id, 120),     // 4: near its expiry: extended alone
            (&a_id, 900),        // 5: a second request for hold 0: made alone, after
            (&other_id, 600),    // 6: another show's hold: not found
            (&b_id, 0),          // 7: bad duration: its own error
        ],
    );
    let kinds: Vec<Option<ErrorKind>> = answers.iter().map(kind).collect();
    assert_eq!(
        kinds,
        vec![
            None,
            Some(ErrorKind::HoldNotFound),
            None,
            Some(ErrorKind::HoldNotFound),
            None,
            None,
            Some(ErrorKind::HoldNotFound),
            Some(ErrorKind::InvalidInput)
        ]
    );
    let extended = |i: usize| answers[i].as_ref().unwrap();
    assert_eq!(extended(0).seat_ids, vec!["S1", "S2"]);
    assert_eq!(extended(2).seat_ids, vec!["S3"]);
    // What each answer says is what the rows say; the second request for A came last.
    assert_eq!(expiry(&db, a.hold_id), Some(extended(5).expires_at));
    assert!(extended(5).expires_at > extended(0).expires_at);
    assert_eq!(expiry(&db, b.hold_id), Some(extended(2).expires_at));
    assert_eq!(expiry(&db, near.hold_id), Some(extended(4).expires_at));
    assert!(extended(4).expires_at > near.expires_at + chrono::Duration::seconds(60));
    assert_eq!(expiry(&db, other_show.hold_id), Some(other_show.expires_at));
    for (i, hold) in [(5, &a), (2, &b), (4, &near)] {
        let status = core.seat_status("g").unwrap();
        for seat in &hold.seat_ids {
            let s = status.seats.iter().find(|s| &s.seat_id == seat).unwrap();
            assert_eq!(s.hold_expires_at, Some(extended(i).expires_at), "{seat}");
        }
    }

    // One record per extension; those made in the group share its transaction.
    let log = records(&db, "g", "extended");
    assert_eq!(log[&a.hold_id].len(), 2);
    assert_eq!(log[&b.hold_id].len(), 1);
    assert_eq!(log[&near.hold_id].len(), 1);
    assert_eq!(log[&a.hold_id][0], log[&b.hold_id][0], "A and B were extended by one transaction");
    assert_ne!(log[&a.hold_id][1], log[&a.hold_id][0]);
    assert_ne!(log[&near.hold_id][0], log[&a.hold_id][0]);
    assert!(!log.contains_key(&gone.hold_id));
    assert_audit(&core, "g");
    assert_audit(&core, "h");
}

#[test]
fn partial_releases_in_one_group_each_have_the_outcome_they_have_alone() {
    let db = TestDb::new("group_release");
    let core = core(&db);
    core.initialize_show("g", &seats(20)).unwrap();
    let a = core.hold("g", &["S1", "S2", "S3"], 60).unwrap();
    let b = core.hold("g", &["S4", "S5", "S6"], 60).unwrap();
    let c = core.hold("g", &["S7", "S8"], 60).unwrap();
    let d = core.hold("g", &["S9", "S10"], 60).unwrap();
    let near = core.hold("g", &["S11", "S12"], 5).unwrap();
    let (a_id, b_id, c_id, d_id, near_id) = (
        a.hold_id.to_string(),
        b.hold_id.to_string(),
        c.hold_id.to_string(),
        d.hold_id.to_string(),
        near.hold_id.to_string(),
    );
    let answers = core.release_seats_together(
        "g",
        &[
            (&a_id, &["S2"]),         // 0: released in the group
            (&b_id, &["S6", "S4"]),   // 1: two seats, in the group
            (&c_id, &["S8", "S7"]),   // 2: every seat: the hold goes
            (&d_id, &["S1"]),         // 3: not D's: nothing released
            (&near_id, &["S12"]),     // 4: near its expiry: released alone
            (&a_id, &["S3"]),         // 5: a second request for A: made alone, after
            (&d_id, &["S9", "NOPE"]), // 6: a seat not on the map: not in the hold
            (&a_id, &["S1", " S1"]),  // 7: duplicate: its own error
        ],
    );
    let kinds: Vec<Option<ErrorKind>> = answers.iter().map(kind).collect();
    assert_eq!(
        kinds,
        vec![
            None,
            None,
            None,
            Some(ErrorKind::SeatsNotInHold),
            None,
            None,
            Some(ErrorKind::SeatsNotInHold),
            Some(ErrorKind::InvalidInput)
        ]
    );
    let released = |i: usize| answers[i].as_ref().unwrap();
    assert_eq!(released(0).seat_ids, vec!["S2"]);
    assert_eq!(released(1).remaining_seat_ids, vec!["S5"]);
    assert!(released(2).remaining_seat_ids.is_empty());
    assert_eq!(released(4).remaining_seat_ids, vec!["S11"]);
    assert_eq!(released(5).remaining_seat_ids, vec!["S1"]);
    match &answers[3] {
        Err(Error::SeatsNotInHold { seat_ids }) => assert_eq!(seat_ids, &vec!["S1".to_string()]),
        other => panic!("{other:?}"),
    }

    let status = core.seat_status("g").unwrap();
    let state = |seat: &str| status.seats.iter().find(|s| s.seat_id == seat).unwrap().state;
    for seat in ["S2", "S3", "S4", "S6", "S7", "S8", "S12"] {
        assert_eq!(state(seat), seatcore::SeatState::Available, "{seat}");
    }
    for seat in ["S1", "S5", "S9", "S10", "S11"] {
        assert_eq!(state(seat), seatcore::SeatState::Held, "{seat}");
    }
    // Booking afterwards books what each hold kept; the hold that gave up every seat is gone.
    assert_eq!(core.book("g", &a_id).unwrap().seat_ids, vec!["S1"]);
    assert_eq!(core.book("g", &b_id).unwrap().seat_ids, vec!["S5"]);
    assert_eq!(kind(&core.book("g", &c_id)), Some(ErrorKind::HoldNotFound));

    let log = records(&db, "g", "released");
    assert_eq!(log[&a.hold_id].len(), 2);
    assert_eq!(log[&a.hold_id][0], log[&b.hold_id][0], "A and B were released by one transaction");
    assert_eq!(log[&a.hold_id][0], log[&c.hold_id][0]);
    assert_ne!(log[&a.hold_id][1], log[&a.hold_id][0]);
    assert!(!log.contains_key(&d.hold_id));
    assert_audit(&core, "g");
}

#[test]
fn releases_of_whole_holds_in_one_group_each_have_the_outcome_they_have_alone() {
    let db = TestDb::new("group_release_holds");
    let core = core(&db);
    core.initialize_show("g", &seats(10)).unwrap();
    core.initialize_show("h", &seats(2)).unwrap();
    let a = core.hold("g", &["S1", "S2"], 60).unwrap();
    let b = core.hold("g", &["S3"], 60).unwrap();
    let c = core.hold("g", &["S5", "S4"], 60).unwrap();
    let gone = core.hold("g", &["S6"], 60).unwrap();
    core.release("g", &gone.hold_id.to_string()).unwrap();
    let other = core.hold("h", &["S1"], 60).unwrap();
    let (a_id, b_id, c_id, gone_id, other_id, unknown) = (
        a.hold_id.to_string(),
        b.hold_id.to_string(),
        c.hold_id.to_string(),
        gone.hold_id.to_string(),
        other.hold_id.to_string(),
        Uuid::new_v4().to_string(),
    );
    let answers = core.release_together(
        "g",
        &[
            &a_id,        // 0: released in the group
            &b_id,        // 1: released in the group
            "not-a-uuid", // 2: not found, by its own check
            &a_id,        // 3: a second request for A: made alone, after: not found
            &unknown,     // 4: no such hold
            &other_id,    // 5: another show's hold
            &c_id,        // 6: released in the group
            &gone_id,     // 7: released before
        ],
    );
    let kinds: Vec<Option<ErrorKind>> = answers.iter().map(kind).collect();
    let not_found = Some(ErrorKind::HoldNotFound);
    assert_eq!(kinds, vec![None, None, not_found, not_found, not_found, not_found, None, not_found]);
    let status = core.seat_status("g").unwrap();
    assert!(status.seats.iter().all(|s| s.state == seatcore::SeatState::Available));
    assert_eq!(core.seat_status("h").unwrap().counts.held, 1, "another show's hold stays");
    let log = records(&db, "g", "released");
    for hold in [a.hold_id, b.hold_id, c.hold_id] {
        assert_eq!(log[&hold].len(), 1, "one record per released hold");
        assert_eq!(log[&hold][0], log[&a.hold_id][0], "one transaction released A, B and C");
    }
    assert_ne!(log[&gone.hold_id][0], log[&a.hold_id][0]);
    assert_eq!(kind(&core.book("g", &a_id)), not_found);
    assert_audit(&core, "g");
}

#[test]
fn threads_holding_and_releasing_at_once_have_their_releases_grouped() {
    const THREADS: usize = 16;
    const CYCLES: usize = 20;
    let db = TestDb::new("group_release_threads");
    let core = core(&db);
    let map = seats(THREADS * 2);
    core.initialize_show("t", &map).unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (core, barrier) = (core.clone(), Arc::clone(&barrier));
            let mine = [map[2 * t].clone(), map[2 * t + 1].clone()];
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..CYCLES {
                    let h = core.hold("t", &mine, 600).unwrap();
                    core.release("t", &h.hold_id.to_string()).unwrap();
                    assert_eq!(
                        kind(&core.release("t", &h.hold_id.to_string())),
                        Some(ErrorKind::HoldNotFound)
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let status = core.seat_status("t").unwrap();
    assert_eq!(status.counts.available, map.len() as u64);
    let log = records(&db, "t", "released");
    assert_eq!(log.len(), THREADS * CYCLES, "one hold released per cycle");
    assert!(log.values().all(|r| r.len() == 1), "each hold released once");
    let mut txs: Vec<i64> = log.values().map(|r| r[0]).collect();
    txs.sort_unstable();
    txs.dedup();
    assert!(txs.len() < THREADS * CYCLES, "no two releases were ever made by one transaction");
    assert_audit(&core, "t");
}

#[test]
fn a_group_whose_seat_does_not_carry_its_hold_writes_nothing_and_each_goes_alone() {
    let db = TestDb::new("group_broken");
    let core = core(&db);
    core.initialize_show("g", &seats(10)).unwrap();
    let a = core.hold("g", &["S1", "S2"], 60).unwrap();
    let b = core.hold("g", &["S3", "S4"], 60).unwrap();
    // Behind the core's back: S2 no longer carries A (what no statement of the core does).
    db.client()
        .execute("UPDATE seats SET hold_id = NULL, hold_expires_at = NULL WHERE seat_id = 'S2'", &[])
        .unwrap();
    let (a_id, b_id) = (a.hold_id.to_string(), b.hold_id.to_string());

    let answers = core.extend_together("g", &[(&a_id, 600), (&b_id, 600)]);
    assert_eq!(kind(&answers[0]), Some(ErrorKind::HoldInvalidated));
    assert!(answers[1].is_ok(), "{:?}", answers[1]);
    assert_eq!(expiry(&db, a.hold_id), Some(a.expires_at));
    assert_eq!(expiry(&db, b.hold_id), Some(answers[1].as_ref().unwrap().expires_at));

    let answers = core.release_seats_together("g", &[(&a_id, &["S2"]), (&b_id, &["S3"])]);
    assert_eq!(kind(&answers[0]), Some(ErrorKind::HoldInvalidated));
    assert_eq!(answers[1].as_ref().unwrap().remaining_seat_ids, vec!["S4"]);
    let log = records(&db, "g", "extended");
    assert!(!log.contains_key(&a.hold_id));
    assert_eq!(log[&b.hold_id].len(), 1);
    let log = records(&db, "g", "released");
    assert!(!log.contains_key(&a.hold_id));
    assert_eq!(log[&b.hold_id].len(), 1);
}

#[test]
fn threads_extending_and_releasing_at_once_are_grouped_and_every_answer_is_the_rows() {
    const THREADS: usize = 16;
    const HOLDS_PER_THREAD: usize = 8;
    const SEATS_PER_HOLD: usize = 6;
    let db = TestDb::new("group_lifecycle_threads");
    let core = SeatCore::connect(&db.url, Options { pool_size: 4, ..Options::default() }).unwrap();
    let map = seats(THREADS * HOLDS_PER_THREAD * SEATS_PER_HOLD);
    core.initialize_show("t", &map).unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (core, barrier) = (core.clone(), Arc::clone(&barrier));
            let mine: Vec<String> = map
                [t * HOLDS_PER_THREAD * SEATS_PER_HOLD..(t + 1) * HOLDS_PER_THREAD * SEATS_PER_HOLD]
                .to_vec();
            std::thread::spawn(move || {
                let holds: Vec<_> =
                    mine.chunks(SEATS_PER_HOLD).map(|chunk| core.hold("t", chunk, 600).unwrap()).collect();
                barrier.wait();
                // Each hold: extended, one seat released, extended again; until one seat is left.
                let mut kept: Vec<Vec<String>> = holds.iter().map(|h| h.seat_ids.clone()).collect();
                let mut last_expiry = HashMap::new();
                for _ in 0..SEATS_PER_HOLD - 1 {
                    for (h, seats) in holds.iter().zip(kept.iter_mut()) {
                        let id = h.hold_id.to_string();
                        let e = core.extend("t", &id, 600).unwrap();
                        assert_eq!(&e.seat_ids, seats);
                        last_expiry.insert(h.hold_id, e.expires_at);
                        let seat = seats.pop().unwrap();
                        let r = core.release_seats("t", &id, &[&seat]).unwrap();
                        assert_eq!(&r.remaining_seat_ids, seats);
                    }
                }
                (holds, kept, last_expiry)
            })
        })
        .collect();
    let mut grouped_txs = 0;
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let status = core.seat_status("t").unwrap();
    let by_seat: HashMap<&str, &seatcore::Seat> =
        status.seats.iter().map(|s| (s.seat_id.as_str(), s)).collect();
    for (holds, kept, last_expiry) in &results {
        for (h, seats) in holds.iter().zip(kept) {
            assert_eq!(seats.len(), 1);
            let s = by_seat[seats[0].as_str()];
            assert_eq!(s.state, seatcore::SeatState::Held);
            assert_eq!(s.hold_expires_at, Some(last_expiry[&h.hold_id]));
            for seat in &h.seat_ids[1..] {
                assert_eq!(by_seat[seat.as_str()].state, seatcore::SeatState::Available, "{seat}");
            }
        }
    }
    // Every answer has its record, and some transactions wrote several: requests were grouped.
    let rows = db
        .client()
        .query(
            "SELECT kind, count(*), count(DISTINCT id >> 20) FROM changes WHERE show_id = 't' GROUP BY kind",
            &[],
        )
        .unwrap();
    let expected = (THREADS * HOLDS_PER_THREAD * (SEATS_PER_HOLD - 1)) as i64;
    for r in rows {
        let (k, n, txs): (String, i64, i64) = (r.get(0), r.get(1), r.get(2));
        match k.as_str() {
            "extended" | "released" => {
                assert_eq!(n, expected, "{k}");
                grouped_txs += n - txs;
            }
            _ => {}
        }
    }
    assert!(grouped_txs > 0, "no two requests were ever made by one transaction");
    assert_audit(&core, "t");
}
