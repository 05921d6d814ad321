//! Grouped extensions, partial releases and releases of whole holds against a real
//! PostgreSQL: requests forced into one group, each with the outcome it has alone (missing
//! holds, holds near their expiry, two requests for one hold, a seat not in the hold); a
//! group whose seat does not carry its hold writes nothing; threads whose requests the core
//! groups by itself. The rows are
//! checked by the audit, and the log by its transactions.

mod common;

use std::collections::HashMap;

use seatcore::testing::TestDb;
use seatcore::{Error, ErrorKind, Options, SeatCore, Uuid};

use common::in_threads;

fn seats(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("S{i}")).collect()
}

/// A fresh schema with one show, `show`, of `n` seats (S1 to Sn).
fn setup(label: &str, show: &str, n: usize) -> (TestDb, SeatCore) {
    let db = TestDb::new(label);
    let core = SeatCore::connect(&db.url, Options { pool_size: 4, ..Options::default() }).unwrap();
    core.initialize_show(show, &seats(n)).unwrap();
    (db, core)
}

/// A hold, with its id as the core's calls take it.
struct Held {
    hold: seatcore::Hold,
    id: String,
}

impl Held {
    fn id(&self) -> &str {
        &self.id
    }
}

impl std::ops::Deref for Held {
    type Target = seatcore::Hold;
    fn deref(&self) -> &seatcore::Hold {
        &self.hold
    }
}

fn hold(core: &SeatCore, show: &str, seats: &[&str], seconds: i64) -> Held {
    let hold = core.hold(show, seats, seconds).unwrap();
    Held { id: hold.hold_id.to_string(), hold }
}

/// One hold of each of `seats`, in order.
fn holds<const N: usize>(core: &SeatCore, show: &str, seconds: i64, seats: [&[&str]; N]) -> [Held; N] {
    seats.map(|seats| hold(core, show, seats, seconds))
}

fn kind<T: std::fmt::Debug>(r: &seatcore::Result<T>) -> Option<ErrorKind> {
    r.as_ref().err().map(Error::kind)
}

/// Makes `requests` through `together`, asserts that each answer is an error of the kind
/// given with its request (or no error), and returns the answers.
fn answered<R: Copy, T: std::fmt::Debug>(
    requests: &[(R, Option<ErrorKind>)],
    together: impl FnOnce(&[R]) -> Vec<seatcore::Result<T>>,
) -> Vec<seatcore::Result<T>> {
    let answers = together(&requests.iter().map(|&(r, _)| r).collect::<Vec<R>>());
    let kinds: Vec<Option<ErrorKind>> = answers.iter().map(kind).collect();
    assert_eq!(kinds, requests.iter().map(|&(_, k)| k).collect::<Vec<_>>());
    answers
}

fn assert_audit(core: &SeatCore, show: &str) {
    let audit = core.audit(Some(show)).unwrap();
    assert!(audit.summary.ok, "{:#?}", audit.problems);
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

/// The transactions that wrote each of `holds`' records of `kind`, in the order of the
/// records, numbered from 0 in the order they first appear (the holds in the order given):
/// `[[0, 1], [0], []]` says the first two holds each have a record from one transaction,
/// the first one a second record from another, and the third hold has none.
fn transactions(db: &TestDb, show: &str, kind: &str, holds: &[&Held]) -> Vec<Vec<usize>> {
    let log = records(db, show, kind);
    let mut seen: Vec<i64> = Vec::new();
    let mut number = |tx: i64| match seen.iter().position(|&t| t == tx) {
        Some(i) => i,
        None => {
            seen.push(tx);
            seen.len() - 1
        }
    };
    holds
        .iter()
        .map(|h| log.get(&h.hold_id).map_or(&[][..], Vec::as_slice).iter().map(|&tx| number(tx)).collect())
        .collect()
}

fn expiry(db: &TestDb, hold_id: Uuid) -> Option<seatcore::DateTime<seatcore::Utc>> {
    db.client()
        .query_opt("SELECT expires_at FROM holds WHERE hold_id = $1", &[&hold_id])
        .unwrap()
        .map(|r| r.get(0))
}

#[test]
fn extensions_in_one_group_each_have_the_outcome_they_have_alone() {
    let (db, core) = setup("group_extend", "g", 10);
    let [a, b, gone] = holds(&core, "g", 60, [&["S1", "S2"], &["S3"], &["S5"]]);
    // Near its expiry (closer than the statement timeout): made alone, after the group.
    let near = hold(&core, "g", &["S4"], 5);
    core.release("g", gone.id()).unwrap();
    let other_show = {
        core.initialize_show("h", &seats(2)).unwrap();
        hold(&core, "h", &["S1"], 60)
    };

    let not_found = Some(ErrorKind::HoldNotFound);
    let answers = answered(
        &[
            ((a.id(), 600), None),                        // 0: extended in the group
            ((gone.id(), 600), not_found),                // 1: released before
            ((b.id(), 300), None),                        // 2: extended in the group
            (("not-a-uuid", 600), not_found),             // 3: never sent
            ((near.id(), 120), None),                     // 4: near its expiry: extended alone
            ((a.id(), 900), None),                        // 5: a second request for hold 0: made alone, after
            ((other_show.id(), 600), not_found),          // 6: another show's hold
            ((b.id(), 0), Some(ErrorKind::InvalidInput)), // 7: bad duration: its own error
        ],
        |requests| core.extend_together("g", requests),
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

    // One record per extension; those made in the group (of A and B) share its transaction,
    // those made alone have one each.
    assert_eq!(
        transactions(&db, "g", "extended", &[&a, &b, &near, &gone]),
        [vec![0, 1], vec![0], vec![2], vec![]]
    );
    assert_audit(&core, "g");
    assert_audit(&core, "h");
}

#[test]
fn partial_releases_in_one_group_each_have_the_outcome_they_have_alone() {
    let (db, core) = setup("group_release", "g", 20);
    let [a, b, c, d] =
        holds(&core, "g", 60, [&["S1", "S2", "S3"], &["S4", "S5", "S6"], &["S7", "S8"], &["S9", "S10"]]);
    let near = hold(&core, "g", &["S11", "S12"], 5);
    let not_in_hold = Some(ErrorKind::SeatsNotInHold);
    let answers = answered::<(&str, &[&str]), _>(
        &[
            ((a.id(), &["S2"]), None),                                 // 0: released in the group
            ((b.id(), &["S6", "S4"]), None),                           // 1: two seats, in the group
            ((c.id(), &["S8", "S7"]), None),                           // 2: every seat: the hold goes
            ((d.id(), &["S1"]), not_in_hold),                          // 3: not D's: nothing released
            ((near.id(), &["S12"]), None),                             // 4: near its expiry: released alone
            ((a.id(), &["S3"]), None), // 5: a second request for A: made alone, after
            ((d.id(), &["S9", "NOPE"]), not_in_hold), // 6: a seat not on the map
            ((a.id(), &["S1", " S1"]), Some(ErrorKind::InvalidInput)), // 7: duplicate: its own error
        ],
        |requests| core.release_seats_together("g", requests),
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
    assert_eq!(core.book("g", a.id()).unwrap().seat_ids, vec!["S1"]);
    assert_eq!(core.book("g", b.id()).unwrap().seat_ids, vec!["S5"]);
    assert_eq!(kind(&core.book("g", c.id())), Some(ErrorKind::HoldNotFound));

    // A, B and C were released by one transaction, A's second request by another.
    assert_eq!(transactions(&db, "g", "released", &[&a, &b, &c, &d]), [vec![0, 1], vec![0], vec![0], vec![]]);
    assert_audit(&core, "g");
}

#[test]
fn releases_of_whole_holds_in_one_group_each_have_the_outcome_they_have_alone() {
    let (db, core) = setup("group_release_holds", "g", 10);
    core.initialize_show("h", &seats(2)).unwrap();
    let [a, b, c, gone] = holds(&core, "g", 60, [&["S1", "S2"], &["S3"], &["S5", "S4"], &["S6"]]);
    core.release("g", gone.id()).unwrap();
    let other = hold(&core, "h", &["S1"], 60);
    let unknown = Uuid::new_v4().to_string();
    let not_found = Some(ErrorKind::HoldNotFound);
    answered(
        &[
            (a.id(), None),            // 0: released in the group
            (b.id(), None),            // 1: released in the group
            ("not-a-uuid", not_found), // 2: by its own check
            (a.id(), not_found),       // 3: a second request for A: made alone, after
            (&unknown, not_found),     // 4: no such hold
            (other.id(), not_found),   // 5: another show's hold
            (c.id(), None),            // 6: released in the group
            (gone.id(), not_found),    // 7: released before
        ],
        |requests| core.release_together("g", requests),
    );
    let status = core.seat_status("g").unwrap();
    assert!(status.seats.iter().all(|s| s.state == seatcore::SeatState::Available));
    assert_eq!(core.seat_status("h").unwrap().counts.held, 1, "another show's hold stays");
    // One record per released hold: one transaction released A, B and C.
    assert_eq!(
        transactions(&db, "g", "released", &[&a, &b, &c, &gone]),
        [vec![0], vec![0], vec![0], vec![1]]
    );
    assert_eq!(kind(&core.book("g", a.id())), not_found);
    assert_audit(&core, "g");
}

#[test]
fn threads_holding_and_releasing_at_once_have_their_releases_grouped() {
    const THREADS: usize = 16;
    const CYCLES: usize = 20;
    let (db, core) = setup("group_release_threads", "t", THREADS * 2);
    let map = seats(THREADS * 2);
    in_threads(THREADS, |t, barrier| {
        let mine = &map[2 * t..2 * t + 2];
        barrier.wait();
        for _ in 0..CYCLES {
            let id = core.hold("t", mine, 600).unwrap().hold_id.to_string();
            core.release("t", &id).unwrap();
            assert_eq!(kind(&core.release("t", &id)), Some(ErrorKind::HoldNotFound));
        }
    });
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

/// A seat another transaction keeps locked past the lock timeout fails only the requests
/// about the hold that has it (busy, nothing of them made); the group's other requests are
/// made, alone.
#[test]
fn a_seat_locked_elsewhere_fails_only_the_requests_that_wait_for_it() {
    let db = TestDb::new("group_locked_hold");
    let core = SeatCore::connect(
        &db.url,
        Options { pool_size: 2, lock_timeout: std::time::Duration::from_millis(200), ..Options::default() },
    )
    .unwrap();
    core.initialize_show("g", &seats(9)).unwrap();
    let [a, b, c] = holds(&core, "g", 600, [&["S1", "S2"], &["S4", "S5"], &["S7", "S8"]]);
    let mut locker = db.client();
    let mut tx = locker.transaction().unwrap();
    assert_eq!(
        tx.execute("SELECT 1 FROM seats WHERE show_id = 'g' AND seat_id = 'S5' FOR UPDATE", &[]).unwrap(),
        1
    );

    let busy = Some(ErrorKind::Busy);
    answered(&[((a.id(), 900), None), ((b.id(), 900), busy), ((c.id(), 900), None)], |requests| {
        core.extend_together("g", requests)
    });
    assert_eq!(expiry(&db, b.hold_id), Some(b.expires_at), "the busy extension made nothing");
    answered(
        &[((a.id(), &["S1"][..]), None), ((b.id(), &["S5"][..]), busy), ((c.id(), &["S7"][..]), None)],
        |requests| core.release_seats_together("g", requests),
    );
    answered(&[(a.id(), None), (b.id(), busy), (c.id(), None)], |requests| {
        core.release_together("g", requests)
    });
    tx.rollback().unwrap();

    let status = core.seat_status("g").unwrap();
    let held: Vec<&str> = status
        .seats
        .iter()
        .filter(|s| s.state == seatcore::SeatState::Held)
        .map(|s| s.seat_id.as_str())
        .collect();
    assert_eq!(held, ["S4", "S5"], "B keeps both seats; A and C are gone");
    assert_eq!(expiry(&db, b.hold_id), Some(b.expires_at));
    assert_audit(&core, "g");
}

#[test]
fn a_group_whose_seat_does_not_carry_its_hold_writes_nothing_and_each_goes_alone() {
    let (db, core) = setup("group_broken", "g", 10);
    let [a, b] = holds(&core, "g", 60, [&["S1", "S2"], &["S3", "S4"]]);
    // Behind the core's back: S2 no longer carries A (what no statement of the core does).
    db.client()
        .execute("UPDATE seats SET hold_id = NULL, hold_expires_at = NULL WHERE seat_id = 'S2'", &[])
        .unwrap();

    let answers = core.extend_together("g", &[(a.id(), 600), (b.id(), 600)]);
    assert_eq!(kind(&answers[0]), Some(ErrorKind::HoldInvalidated));
    assert!(answers[1].is_ok(), "{:?}", answers[1]);
    assert_eq!(expiry(&db, a.hold_id), Some(a.expires_at));
    assert_eq!(expiry(&db, b.hold_id), Some(answers[1].as_ref().unwrap().expires_at));

    let answers = core.release_seats_together("g", &[(a.id(), &["S2"]), (b.id(), &["S3"])]);
    assert_eq!(kind(&answers[0]), Some(ErrorKind::HoldInvalidated));
    assert_eq!(answers[1].as_ref().unwrap().remaining_seat_ids, vec!["S4"]);
    for kind in ["extended", "released"] {
        assert_eq!(transactions(&db, "g", kind, &[&a, &b]), [vec![], vec![0]], "{kind}");
    }
}

#[test]
fn threads_extending_and_releasing_at_once_are_grouped_and_every_answer_is_the_rows() {
    const THREADS: usize = 16;
    const HOLDS_PER_THREAD: usize = 8;
    const SEATS_PER_HOLD: usize = 6;
    const SEATS_PER_THREAD: usize = HOLDS_PER_THREAD * SEATS_PER_HOLD;
    let (db, core) = setup("group_lifecycle_threads", "t", THREADS * SEATS_PER_THREAD);
    let map = seats(THREADS * SEATS_PER_THREAD);
    let results = in_threads(THREADS, |t, barrier| {
        let mine = &map[t * SEATS_PER_THREAD..(t + 1) * SEATS_PER_THREAD];
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
    });
    let mut grouped_txs = 0;
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
