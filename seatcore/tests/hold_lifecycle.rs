//! The hold lifecycle against a real PostgreSQL: extending a hold, releasing part of it,
//! cancelling a booking; their races with each other, with bookings and with expiry; and
//! their REST answers. Every test ends with the core's audit.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seatcore::rest::{self, Body, Request, Settings};
use seatcore::testing::TestDb;
use seatcore::{ChangeKind, DateTime, Error, ErrorKind, InputError, Options, SeatCore, SeatState, Utc};
use serde_json::{json, Value};

use common::wait_until;

fn connect(db: &TestDb, options: Options) -> SeatCore {
    SeatCore::connect(&db.url, options).expect("connect")
}

fn setup(label: &str) -> (TestDb, SeatCore) {
    let db = TestDb::new(label);
    let core = connect(&db, Options { pool_size: 4, ..Options::default() });
    (db, core)
}

/// Shows `s` (A1 to A3) and `t` (A1), and a hold of `seats` of `s` for two minutes: its id.
fn a_hold_beside_another_show(label: &str, seats: &[&str]) -> (TestDb, SeatCore, String) {
    let (db, core) = setup(label);
    core.initialize_show("s", &["A1", "A2", "A3"]).unwrap();
    core.initialize_show("t", &["A1"]).unwrap();
    let id = core.hold("s", seats, 120).unwrap().hold_id.to_string();
    (db, core, id)
}

fn assert_audit(core: &SeatCore, show: &str) {
    let audit = core.audit(Some(show)).unwrap();
    assert!(audit.summary.ok, "{:#?}", audit.problems);
    let st = core.seat_status(show).unwrap();
    assert!(st.counts.invariants_valid, "{:?}", st.counts);
    assert_eq!(st.counts.available + st.counts.held + st.counts.booked + st.counts.blocked, st.counts.total);
}

fn state(core: &SeatCore, show: &str, seat: &str) -> SeatState {
    core.seat_status(show).unwrap().seats.into_iter().find(|s| s.seat_id == seat).expect(seat).state
}

fn history(db: &TestDb, core: &SeatCore, show: &str) -> Vec<seatcore::Change> {
    db.settled_history(core, show, None)
}

/// The database's clock.
fn db_now(db: &TestDb) -> DateTime<Utc> {
    db.client().query_one("SELECT clock_timestamp()", &[]).unwrap().get(0)
}

/// Waits until the database's clock has passed `t` (the event some tests need: a hold's
/// expiry). Polls the database, whose clock is the one every decision uses.
fn wait_for_db_clock(db: &TestDb, t: DateTime<Utc>) {
    let mut c = db.client();
    wait_until(&format!("the database's clock to pass {t}"), || {
        c.query_one("SELECT clock_timestamp() > $1", &[&t]).unwrap().get(0)
    });
}

fn created_at(db: &TestDb, hold_id: seatcore::Uuid) -> DateTime<Utc> {
    db.client().query_one("SELECT created_at FROM holds WHERE hold_id = $1", &[&hold_id]).unwrap().get(0)
}

#[test]
fn an_extension_counts_from_now_and_stops_at_the_maximum_life() {
    let db = TestDb::new("extend");
    let core =
        connect(&db, Options { pool_size: 2, max_hold_life: Duration::from_secs(300), ..Options::default() });
    core.initialize_show("s", &["A1", "A2", "A3"]).unwrap();
    let hold = core.hold("s", &["A2", "A1"], 60).unwrap();
    let id = hold.hold_id.to_string();

    let before = db_now(&db);
    let longer = core.extend("s", &id, 200).unwrap();
    let after = db_now(&db);
    assert_eq!((longer.hold_id, longer.seat_ids.clone()), (hold.hold_id, vec!["A2".into(), "A1".into()]));
    let secs = chrono::Duration::seconds(200);
    assert!(longer.expires_at >= before + secs && longer.expires_at <= after + secs, "{longer:?}");
    assert!(longer.expires_at > hold.expires_at);
    // the seats carry the new expiry
    let st = core.seat_status("s").unwrap();
    assert_eq!(st.seats[0].hold_expires_at, Some(longer.expires_at));
    assert_eq!(st.seats[1].hold_expires_at, Some(longer.expires_at));
    assert_audit(&core, "s");

    // never past creation + max life
    let capped = core.extend("s", &id, 3000).unwrap();
    assert_eq!(capped.expires_at, created_at(&db, hold.hold_id) + chrono::Duration::seconds(300));
    // a shorter extension ends the hold sooner: the expiry is set, not added to
    let shorter = core.extend("s", &format!("  {id} "), 30).unwrap();
    assert!(shorter.expires_at < capped.expires_at);
    assert!(shorter.expires_at <= db_now(&db) + chrono::Duration::seconds(30));
    assert_audit(&core, "s");

    // each extension is one `extended` record with the hold's seats and new expiry
    let extended: Vec<_> =
        history(&db, &core, "s").into_iter().filter(|c| c.kind == ChangeKind::Extended).collect();
    assert_eq!(extended.len(), 3);
    for (record, hold) in extended.iter().zip([&longer, &capped, &shorter]) {
        assert_eq!(record.hold_id, Some(hold.hold_id));
        assert_eq!(record.expires_at, Some(hold.expires_at));
        assert_eq!(record.seat_ids, ["A2", "A1"]);
    }
    // the extended hold books as any other
    let booking = core.book("s", &id).unwrap();
    assert_eq!(booking.seat_ids, ["A2", "A1"]);
    assert_audit(&core, "s");
}

#[test]
fn only_a_live_hold_is_extended() {
    let db = TestDb::new("extend_refusals");
    let core = connect(&db, Options { pool_size: 2, ..Options::default() });
    core.initialize_show("s", &["A1", "A2", "A3", "A4"]).unwrap();
    core.initialize_show("t", &["A1"]).unwrap();
    let kind = |r: seatcore::Result<seatcore::Hold>| r.map(|_| ()).unwrap_err().kind();

    let released = core.hold("s", &["A1"], 60).unwrap().hold_id.to_string();
    core.release("s", &released).unwrap();
    let booked = core.hold("s", &["A2"], 60).unwrap().hold_id.to_string();
    core.book("s", &booked).unwrap();
    let live = core.hold("s", &["A3"], 60).unwrap();
    let short = core.hold("s", &["A4"], 1).unwrap();
    let changes = history(&db, &core, "s").len();

    assert_eq!(kind(core.extend("s", &released, 60)), ErrorKind::HoldNotFound);
    assert_eq!(kind(core.extend("s", &booked, 60)), ErrorKind::HoldNotFound);
    assert_eq!(kind(core.extend("s", "not-a-uuid", 60)), ErrorKind::HoldNotFound);
    assert_eq!(kind(core.extend("s", &seatcore::Uuid::new_v4().to_string(), 60)), ErrorKind::HoldNotFound);
    assert_eq!(kind(core.extend("t", &live.hold_id.to_string(), 60)), ErrorKind::HoldNotFound);
    assert_eq!(kind(core.extend("nope", &live.hold_id.to_string(), 60)), ErrorKind::HoldNotFound);
    for secs in [0, -5, 86_401] {
        let e = core.extend("s", &live.hold_id.to_string(), secs).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(InputError::HoldDuration { min: 1, max: 86_400 })), "{e:?}");
    }
    let e = core.extend("", &live.hold_id.to_string(), 60).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(InputError::ShowIdLength { .. })), "{e:?}");

    // expired, swept or not
    wait_for_db_clock(&db, short.expires_at);
    assert_eq!(kind(core.extend("s", &short.hold_id.to_string(), 60)), ErrorKind::HoldExpired);
    assert_eq!(state(&core, "s", "A4"), SeatState::Available);
    core.sweep_expired().unwrap();
    assert_eq!(kind(core.extend("s", &short.hold_id.to_string(), 60)), ErrorKind::HoldNotFound);

    // nothing was written by a refusal (the sweep wrote its `expired`)
    let after: Vec<_> = history(&db, &core, "s").into_iter().skip(changes).map(|c| c.kind).collect();
    assert_eq!(after, [ChangeKind::Expired]);
    assert_eq!(core.seat_status("s").unwrap().seats[2].hold_expires_at, Some(live.expires_at));
    assert_audit(&core, "s");
}

#[test]
fn a_hold_past_its_maximum_life_keeps_its_expiry() {
    let db = TestDb::new("extend_life");
    let core =
        connect(&db, Options { pool_size: 2, max_hold_life: Duration::from_secs(1), ..Options::default() });
    core.initialize_show("s", &["A1"]).unwrap();
    let hold = core.hold("s", &["A1"], 60).unwrap();
    wait_for_db_clock(&db, created_at(&db, hold.hold_id) + chrono::Duration::seconds(1));
    let e = core.extend("s", &hold.hold_id.to_string(), 60).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HoldExpired, "no extension can add time: {e:?}");
    // the hold runs on as granted
    let st = core.seat_status("s").unwrap();
    assert_eq!((st.seats[0].state, st.seats[0].hold_expires_at), (SeatState::Held, Some(hold.expires_at)));
    core.book("s", &hold.hold_id.to_string()).unwrap();
    assert_audit(&core, "s");
}

#[test]
fn a_partial_release_frees_those_seats_and_the_hold_keeps_the_rest() {
    let (db, core) = setup("partial");
    core.initialize_show("s", &["A1", "A2", "A3", "A4", "B1"]).unwrap();
    let hold = core.hold("s", &["A4", "A1", "A3", "A2"], 120).unwrap();
    let id = hold.hold_id.to_string();

    let r = core.release_seats("s", &id, &[" A3", "A4"]).unwrap();
    assert_eq!(
        (r.hold_id, &r.seat_ids, &r.remaining_seat_ids),
        (hold.hold_id, &vec!["A3".into(), "A4".into()], &vec!["A1".into(), "A2".into()])
    );
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"message": "seats released", "seat_ids": ["A3", "A4"], "remaining_seat_ids": ["A1", "A2"]})
    );
    use SeatState::*;
    let states: Vec<_> = core.seat_status("s").unwrap().seats.iter().map(|s| s.state).collect();
    assert_eq!(states, [Held, Held, Available, Available, Available]);
    assert_audit(&core, "s");
    // the released seats are anyone's; the hold keeps its seats and expiry
    let other = core.hold("s", &["A3"], 60).unwrap();
    let e = core.hold("s", &["A1"], 60).unwrap_err();
    assert_eq!(e.unavailable_seats(), ["A1"]);
    // an extension and a booking concern the seats it kept
    assert_eq!(core.extend("s", &id, 90).unwrap().seat_ids, ["A1", "A2"]);
    let booking = core.book("s", &id).unwrap();
    assert_eq!(booking.seat_ids, ["A1", "A2"]);
    assert_eq!(state(&core, "s", "A3"), Held);
    assert_eq!(state(&core, "s", "A4"), Available);
    assert_audit(&core, "s");

    let released: Vec<_> =
        history(&db, &core, "s").into_iter().filter(|c| c.kind == ChangeKind::Released).collect();
    assert_eq!(released.len(), 1);
    assert_eq!(
        (released[0].seat_ids.clone(), released[0].hold_id),
        (vec!["A3".into(), "A4".into()], Some(hold.hold_id))
    );
    core.release("s", &other.hold_id.to_string()).unwrap();
    assert_audit(&core, "s");
}

#[test]
fn releasing_every_seat_releases_the_hold() {
    let (db, core) = setup("partial_all");
    core.initialize_show("s", &["A1", "A2", "A3"]).unwrap();
    let hold = core.hold("s", &["A1", "A2"], 120).unwrap();
    let id = hold.hold_id.to_string();
    let r = core.release_seats("s", &id, &["A2"]).unwrap();
    assert_eq!(r.remaining_seat_ids, ["A1"]);
    let r = core.release_seats("s", &id, &["A1"]).unwrap();
    assert_eq!((r.seat_ids, r.remaining_seat_ids), (vec!["A1".to_string()], vec![]));
    // the hold is gone
    assert!(matches!(core.release("s", &id), Err(Error::HoldNotFound)));
    assert!(matches!(core.book("s", &id), Err(Error::HoldNotFound)));
    assert!(matches!(core.release_seats("s", &id, &["A1"]), Err(Error::HoldNotFound)));
    assert_eq!(core.audit(Some("s")).unwrap().summary.held, 0);
    assert_eq!(core.sweep_expired().unwrap(), 0, "no hold row is left behind");
    let kinds: Vec<_> = history(&db, &core, "s").into_iter().map(|c| (c.kind, c.seat_ids)).collect();
    assert_eq!(
        kinds[1..],
        [
            (ChangeKind::Held, vec!["A1".to_string(), "A2".to_string()]),
            (ChangeKind::Released, vec!["A2".to_string()]),
            (ChangeKind::Released, vec!["A1".to_string()]),
        ]
    );
    assert_audit(&core, "s");
}

#[test]
fn seats_not_in_the_hold_are_named_and_nothing_is_released() {
    let (db, core, id) = a_hold_beside_another_show("partial_refused", &["A1", "A2"]);
    let changes = history(&db, &core, "s").len();

    let e = core.release_seats("s", &id, &["A1", "ZZ9", "A3"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SeatsNotInHold);
    assert_eq!(e.seats_not_in_hold(), ["ZZ9", "A3"], "in request order");
    for (seats, problem) in [
        (vec![], InputError::NoSeats),
        (vec!["A1", " A1 "], InputError::DuplicateSeatIds),
        (vec!["A1", " "], InputError::EmptySeatId { index: 1 }),
    ] {
        let e = core.release_seats("s", &id, &seats).unwrap_err();
        assert_eq!(e.input(), Some(&problem), "{seats:?}");
    }
    let many: Vec<String> = (0..=seatcore::validate::MAX_SEATS_PER_HOLD).map(|i| format!("X{i}")).collect();
    assert_eq!(core.release_seats("s", &id, &many).unwrap_err().kind(), ErrorKind::InvalidInput);
    for other in ["not-a-uuid", &seatcore::Uuid::new_v4().to_string()] {
        assert!(matches!(core.release_seats("s", other, &["A1"]), Err(Error::HoldNotFound)));
    }
    assert!(matches!(core.release_seats("t", &id, &["A1"]), Err(Error::HoldNotFound)));

    // nothing written
    assert_eq!(history(&db, &core, "s").len(), changes);
    let holds: i64 = db.client().query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    assert_eq!(holds, 1);
    let st = core.seat_status("s").unwrap();
    assert_eq!((st.counts.held, st.counts.available), (2, 1));
    // an expired hold releases nothing either
    let short = core.hold("s", &["A3"], 1).unwrap();
    wait_for_db_clock(&db, short.expires_at);
    assert!(matches!(core.release_seats("s", &short.hold_id.to_string(), &["A3"]), Err(Error::HoldNotFound)));
    assert_audit(&core, "s");
}

#[test]
fn a_cancelled_booking_frees_its_seats_and_stays_cancelled() {
    let (db, core, id) = a_hold_beside_another_show("cancel", &["A2", "A1"]);
    let booking = core.book("s", &id).unwrap();

    let c = core.cancel_booking("s", &id).unwrap();
    assert_eq!((c.booking_id, c.seat_ids.clone()), (booking.booking_id, vec!["A2".into(), "A1".into()]));
    assert!(c.cancelled_at >= booking.booked_at);
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"message": "booking cancelled", "seat_ids": ["A2", "A1"]})
    );
    assert_eq!(core.seat_status("s").unwrap().counts.available, 3);
    assert_audit(&core, "s");
    // again: the same answer, nothing written
    let changes = history(&db, &core, "s").len();
    assert_eq!(core.cancel_booking("s", &format!(" {id} ")).unwrap(), c);
    assert_eq!(history(&db, &core, "s").len(), changes);
    // booking the hold again never takes the seats back
    let e = core.book("s", &id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BookingCancelled);
    assert_eq!(core.seat_status("s").unwrap().counts.available, 3);
    // the row is kept, marked cancelled
    let row = db
        .client()
        .query_one(
            "SELECT seat_ids, cancelled_at FROM bookings WHERE booking_id = $1",
            &[&booking.booking_id],
        )
        .unwrap();
    assert_eq!(row.get::<_, Vec<String>>(0), ["A2", "A1"]);
    assert_eq!(row.get::<_, Option<DateTime<Utc>>>(1), Some(c.cancelled_at));

    // the seats are anyone's again
    let again = core.hold("s", &["A1", "A2", "A3"], 60).unwrap();
    core.book("s", &again.hold_id.to_string()).unwrap();
    assert_audit(&core, "s");

    for unknown in ["not-a-uuid", "", &seatcore::Uuid::new_v4().to_string()] {
        assert!(matches!(core.cancel_booking("s", unknown), Err(Error::BookingNotFound)), "{unknown:?}");
    }
    assert!(matches!(core.cancel_booking("t", &id), Err(Error::BookingNotFound)));
    assert_eq!(core.cancel_booking("", &id).unwrap_err().kind(), ErrorKind::InvalidInput);
    // a hold that was never booked is no booking
    let held = core.hold("t", &["A1"], 60).unwrap();
    assert!(matches!(core.cancel_booking("t", &held.hold_id.to_string()), Err(Error::BookingNotFound)));

    let cancelled: Vec<_> =
        history(&db, &core, "s").into_iter().filter(|c| c.kind == ChangeKind::Cancelled).collect();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].booking_id, Some(booking.booking_id));
    assert_eq!(cancelled[0].seat_ids, ["A2", "A1"]);

    // a reset deletes cancelled bookings too, counting only those in force
    let counts = core.reset_all().unwrap();
    assert_eq!((counts.bookings_cleared, counts.holds_cleared), (1, 1));
    assert!(matches!(core.cancel_booking("s", &id), Err(Error::BookingNotFound)));
    assert_audit(&core, "s");
}

#[test]
fn the_audit_catches_a_seat_that_carries_a_cancelled_booking() {
    let (db, core) = setup("cancel_audit");
    core.initialize_show("s", &["A1", "A2"]).unwrap();
    let hold = core.hold("s", &["A1"], 60).unwrap();
    core.book("s", &hold.hold_id.to_string()).unwrap();
    // behind the core's back: the booking marked cancelled, its seat left booked
    db.client()
        .execute("UPDATE bookings SET cancelled_at = now() WHERE booking_id = $1", &[&hold.hold_id])
        .unwrap();
    let audit = core.audit(Some("s")).unwrap();
    assert!(!audit.summary.ok);
    assert_eq!(
        audit.problems,
        [format!("show s: seat A1 is booked by {}, which was cancelled", hold.hold_id)]
    );
}

/// A raw connection holding the lock on one hold row, as a booking or release of it in
/// flight would, until it lets go.
struct RowLock {
    client: postgres::Client,
    pid: i32,
}

impl RowLock {
    fn take(db: &TestDb, hold_id: seatcore::Uuid) -> RowLock {
        RowLock::on(db, "SELECT 1 FROM holds WHERE hold_id = $1::text::uuid FOR UPDATE", &hold_id.to_string())
    }

    /// Locks the one row `sql` selects `FOR UPDATE` with `param` as `$1`, in a transaction
    /// left open.
    fn on(db: &TestDb, sql: &str, param: &str) -> RowLock {
        let mut client = db.client();
        let pid = client.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        client.batch_execute("BEGIN").unwrap();
        assert_eq!(client.execute(sql, &[&param]).unwrap(), 1);
        RowLock { client, pid }
    }

    /// Locks `hold_id`'s row, runs `op` (on a clone of `core`, with the hold's id) in a
    /// thread of its own and returns once `op` waits for the lock.
    fn behind<T: Send + 'static>(
        db: &TestDb,
        core: &SeatCore,
        hold_id: seatcore::Uuid,
        op: impl FnOnce(&SeatCore, &str) -> T + Send + 'static,
    ) -> (RowLock, std::thread::JoinHandle<T>) {
        RowLock::take(db, hold_id).waited_for(db, core, hold_id.to_string(), op)
    }

    /// Runs `op` (on a clone of `core`, with `arg`) in a thread of its own and returns once
    /// `op` waits for this lock.
    fn waited_for<T: Send + 'static>(
        self,
        db: &TestDb,
        core: &SeatCore,
        arg: String,
        op: impl FnOnce(&SeatCore, &str) -> T + Send + 'static,
    ) -> (RowLock, std::thread::JoinHandle<T>) {
        let waiter = {
            let core = core.clone();
            std::thread::spawn(move || op(&core, &arg))
        };
        common::wait_for_a_waiter(db, self.pid, || waiter.is_finished());
        (self, waiter)
    }

    fn let_go(mut self) {
        self.client.batch_execute("COMMIT").unwrap();
    }
}

/// A core whose statements wait long enough for a row lock held through a hold's expiry.
/// With a statement timeout of a minute, an extension or a partial release of a hold with
/// less than a minute (and a second) left locks and checks the seats first.
fn patient(db: &TestDb) -> SeatCore {
    connect(
        db,
        Options {
            pool_size: 4,
            lock_timeout: Duration::from_secs(60),
            statement_timeout: Duration::from_secs(60),
            ..Options::default()
        },
    )
}

/// A show `s` of `seats`, all held for two seconds, and `op` on that hold waiting for its
/// row (locked by the lock returned), from before the expiry until after it.
fn waiting_past_the_expiry<T: Send + 'static>(
    label: &str,
    seats: &[&str],
    op: impl FnOnce(&SeatCore, &str) -> T + Send + 'static,
) -> (TestDb, SeatCore, RowLock, std::thread::JoinHandle<T>) {
    waiting_past_the_expiry_for(label, seats, None, op)
}

/// As [`waiting_past_the_expiry`], with `op` waiting for the row of the seat `locked` when
/// one is named, else for the hold's.
fn waiting_past_the_expiry_for<T: Send + 'static>(
    label: &str,
    seats: &[&str],
    locked: Option<&str>,
    op: impl FnOnce(&SeatCore, &str) -> T + Send + 'static,
) -> (TestDb, SeatCore, RowLock, std::thread::JoinHandle<T>) {
    let db = TestDb::new(label);
    let core = patient(&db);
    core.initialize_show("s", seats).unwrap();
    let hold = core.hold("s", seats, 2).unwrap();
    let lock = match locked {
        Some(seat) => {
            RowLock::on(&db, "SELECT 1 FROM seats WHERE show_id = 's' AND seat_id = $1 FOR UPDATE", seat)
        }
        None => RowLock::take(&db, hold.hold_id),
    };
    let (lock, waiter) = lock.waited_for(&db, &core, hold.hold_id.to_string(), op);
    assert!(db_now(&db) < hold.expires_at, "the call must start while the hold is live");
    wait_for_db_clock(&db, hold.expires_at);
    (db, core, lock, waiter)
}

#[test]
fn an_extension_that_waited_past_the_expiry_never_takes_seats_back() {
    let (db, core, lock, extension) =
        waiting_past_the_expiry("extend_race_taken", &["A1", "A2"], |core, id| core.extend("s", id, 600));
    // the hold ran out while the extension waited: its seats are free, and someone takes
    // them (a hold locks seats only, never the old hold's row)
    let taker = core.hold("s", &["A2", "A1"], 300).unwrap();
    lock.let_go();
    let outcome = extension.join().unwrap();
    assert_eq!(outcome.map(|h| h.expires_at).unwrap_err().kind(), ErrorKind::HoldExpired);
    let st = core.seat_status("s").unwrap();
    for seat in &st.seats {
        assert_eq!((seat.state, seat.hold_expires_at), (SeatState::Held, Some(taker.expires_at)));
    }
    assert!(!history(&db, &core, "s").iter().any(|c| c.kind == ChangeKind::Extended));
    core.book("s", &taker.hold_id.to_string()).unwrap();
    assert_audit(&core, "s");
}

#[test]
fn an_extension_or_a_booking_that_waited_past_the_expiry_is_refused() {
    type Call = fn(&SeatCore, &str) -> seatcore::Result<()>;
    let extend: Call = |core, id| core.extend("s", id, 600).map(drop);
    let book: Call = |core, id| core.book("s", id).map(drop);
    for (label, call) in [("extend_race_expired", extend), ("book_race_expired", book)] {
        let (_db, core, lock, waiter) = waiting_past_the_expiry(label, &["A1"], call);
        lock.let_go();
        // the statement started while the hold was live, but the row was locked after it ran out
        assert_eq!(waiter.join().unwrap().unwrap_err().kind(), ErrorKind::HoldExpired, "{label}");
        assert_eq!(state(&core, "s", "A1"), SeatState::Available);
        assert_audit(&core, "s");
    }
}

#[test]
fn a_block_that_waited_past_the_expiry_blocks_the_seat() {
    // the second seat's row locked: the block locks the first and waits for it
    let (_db, core, lock, block) =
        waiting_past_the_expiry_for("block_race_expired", &["A1", "A2"], Some("A2"), |core, _| {
            core.block("s", &["A1", "A2"], Some("broken"))
        });
    lock.let_go();
    // it started while the hold was live; both seats were locked after it ran out
    assert_eq!(block.join().unwrap().unwrap(), ["A1", "A2"]);
    assert_eq!((state(&core, "s", "A1"), state(&core, "s", "A2")), (SeatState::Blocked, SeatState::Blocked));
    assert_audit(&core, "s");
}

#[test]
fn an_extension_that_waited_for_a_live_hold_extends_it() {
    let db = TestDb::new("extend_race_live");
    let core = patient(&db);
    core.initialize_show("s", &["A1", "A2"]).unwrap();
    // far from its end: the one-statement path
    let hold = core.hold("s", &["A1"], 600).unwrap();
    let called = db_now(&db);
    let (lock, extension) = RowLock::behind(&db, &core, hold.hold_id, |core, id| core.extend("s", id, 900));
    lock.let_go();
    let extended = extension.join().unwrap().unwrap();
    let span = chrono::Duration::seconds(900);
    assert!(
        extended.expires_at >= called + span && extended.expires_at <= db_now(&db) + span,
        "{extended:?}"
    );
    assert_eq!(core.seat_status("s").unwrap().seats[0].hold_expires_at, Some(extended.expires_at));

    // within a statement timeout of its end: judged, and counted, from when its row was locked
    let near = core.hold("s", &["A2"], 30).unwrap();
    let (lock, extension) = RowLock::behind(&db, &core, near.hold_id, |core, id| core.extend("s", id, 900));
    let released_at = db_now(&db);
    lock.let_go();
    let extended = extension.join().unwrap().unwrap();
    assert!(extended.expires_at >= released_at + span, "{extended:?} counts from before the wait");
    assert_eq!(core.seat_status("s").unwrap().seats[1].hold_expires_at, Some(extended.expires_at));
    assert_audit(&core, "s");
}

#[test]
fn nothing_is_written_when_a_hold_s_seats_do_not_all_carry_it() {
    let (db, core) = setup("not_intact");
    core.initialize_show("s", &["A1", "A2", "A3"]).unwrap();
    let hold = core.hold("s", &["A1", "A2", "A3"], 600).unwrap();
    let id = hold.hold_id.to_string();
    let changes = history(&db, &core, "s").len();
    // behind the core's back: one seat no longer carries the hold
    db.client()
        .execute("UPDATE seats SET hold_id = NULL, hold_expires_at = NULL WHERE seat_id = 'A2'", &[])
        .unwrap();
    assert_eq!(core.extend("s", &id, 900).unwrap_err().kind(), ErrorKind::HoldInvalidated);
    for seats in [&["A2"][..], &["A1", "A2"][..]] {
        assert_eq!(core.release_seats("s", &id, seats).unwrap_err().kind(), ErrorKind::HoldInvalidated);
    }
    // the hold, its seats and the log are as they were
    let st = core.seat_status("s").unwrap();
    assert_eq!(st.seats[0].hold_expires_at, Some(hold.expires_at));
    assert_eq!(st.seats[2].hold_expires_at, Some(hold.expires_at));
    let row = db.client().query_one("SELECT expires_at, seat_ids FROM holds", &[]).unwrap();
    assert_eq!(row.get::<_, DateTime<Utc>>(0), hold.expires_at);
    assert_eq!(row.get::<_, Vec<String>>(1), ["A1", "A2", "A3"]);
    assert_eq!(history(&db, &core, "s").len(), changes);
    // the audit names the damage
    assert!(!core.audit(Some("s")).unwrap().summary.ok);
    core.reset_all().unwrap();
}

#[test]
fn a_release_that_waited_past_the_expiry_frees_nothing() {
    type Release = fn(&SeatCore, &str) -> seatcore::Result<()>;
    let whole: Release = |core, id| core.release("s", id);
    let partial: Release = |core, id| core.release_seats("s", id, &["A1"]).map(drop);
    for (label, release) in [("release_race", whole), ("partial_race", partial)] {
        let (db, core, lock, release) = waiting_past_the_expiry(label, &["A1", "A2"], release);
        let taker = core.hold("s", &["A1"], 300).unwrap();
        lock.let_go();
        assert!(matches!(release.join().unwrap(), Err(Error::HoldNotFound)), "{label}");
        assert_eq!(core.seat_status("s").unwrap().seats[0].hold_expires_at, Some(taker.expires_at));
        assert!(!history(&db, &core, "s").iter().any(|c| c.kind == ChangeKind::Released), "{label}");
        assert_audit(&core, "s");
    }
}

#[test]
fn a_booking_that_waited_past_the_expiry_never_books_seats_taken_since() {
    let (db, core, lock, booking) =
        waiting_past_the_expiry("book_race_taken", &["A1", "A2"], |core, id| core.book("s", id));
    let taker = core.hold("s", &["A1"], 300).unwrap();
    lock.let_go();
    assert_eq!(booking.join().unwrap().unwrap_err().kind(), ErrorKind::HoldExpired);
    assert_eq!(core.seat_status("s").unwrap().seats[0].hold_expires_at, Some(taker.expires_at));
    assert!(!history(&db, &core, "s").iter().any(|c| c.kind == ChangeKind::Booked));
    assert_audit(&core, "s");
}

/// Extensions, partial and whole releases, bookings, cancellations and the sweeper racing
/// on the same holds from 16 threads, the audit checked after every step. At the end the
/// change log and what the threads saw are held against each other: no booking holds a
/// seat released from its hold, and the booked seats are those of the bookings in force.
#[test]
fn the_lifecycle_races_keep_every_invariant() {
    const THREADS: u64 = 16;
    let db = TestDb::new("lifecycle_race");
    // Holds of 1 to 8 s with a statement timeout of 3 s: extensions and partial releases of
    // holds with more than 4 s left take the one-statement path, the others lock and check
    // the seats first; both race with expiry.
    let core = connect(
        &db,
        Options {
            pool_size: 20,
            min_idle: 1,
            max_hold_life: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(3),
            ..Options::default()
        },
    );
    let map: Vec<String> =
        (0..48).map(|i| format!("{}{}", (b'A' + (i / 8) as u8) as char, i % 8 + 1)).collect();
    core.initialize_show("race", &map).unwrap();
    let sweeper = core.start_sweeper(Duration::from_millis(50));

    // Recent holds (with the seats they were granted) any thread may act on, bookings any
    // thread may cancel, and what each successful call saw.
    let holds: Arc<Mutex<Vec<Seats>>> = Arc::default();
    let bookings: Arc<Mutex<Vec<String>>> = Arc::default();
    let released: Arc<Mutex<HashMap<String, HashSet<String>>>> = Arc::default();
    let booked: Arc<Mutex<Vec<Seats>>> = Arc::default();
    let steps = Arc::new(AtomicU64::new(0));
    let counts: Arc<Mutex<HashMap<&'static str, u64>>> = Arc::default();
    let failed = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(6);

    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (core, map, holds, bookings, released, booked, steps, counts, failed) = (
                core.clone(),
                map.clone(),
                holds.clone(),
                bookings.clone(),
                released.clone(),
                booked.clone(),
                steps.clone(),
                counts.clone(),
                failed.clone(),
            );
            std::thread::spawn(move || {
                let flag = PanicFlag(&failed);
                let mut rng = fastrand::Rng::with_seed(t);
                let pick_hold = |rng: &mut fastrand::Rng| {
                    let list = holds.lock().unwrap();
                    (!list.is_empty()).then(|| list[rng.usize(..list.len())].clone())
                };
                let count = |what: &'static str| *counts.lock().unwrap().entry(what).or_default() += 1;
                while Instant::now() < deadline && !failed.load(Ordering::Relaxed) {
                    match rng.u8(0..10) {
                        0..=2 => {
                            let start = rng.usize(..map.len() - 4);
                            let seats = &map[start..start + rng.usize(1..=4)];
                            match core.hold("race", seats, rng.i64(1..=8)) {
                                Ok(h) => {
                                    let mut list = holds.lock().unwrap();
                                    list.push((h.hold_id.to_string(), h.seat_ids));
                                    if list.len() > 32 {
                                        list.remove(0);
                                    }
                                    count("held");
                                }
                                Err(Error::SeatsUnavailable { .. }) => count("hold refused"),
                                Err(e) => panic!("hold: {e:?}"),
                            }
                        }
                        3 | 4 => {
                            let Some((id, _)) = pick_hold(&mut rng) else { continue };
                            match core.extend("race", &id, rng.i64(1..=8)) {
                                Ok(h) => {
                                    assert!(!h.seat_ids.is_empty());
                                    count("extended");
                                }
                                Err(Error::HoldNotFound | Error::HoldExpired) => count("extend refused"),
                                Err(e) => panic!("extend: {e:?}"),
                            }
                        }
                        5 | 6 => {
                            // one of the seats the hold was granted: maybe released already
                            let Some((id, seats)) = pick_hold(&mut rng) else { continue };
                            let seat = seats[rng.usize(..seats.len())].clone();
                            match core.release_seats("race", &id, &[seat.as_str()]) {
                                Ok(r) => {
                                    assert_eq!(r.seat_ids, std::slice::from_ref(&seat));
                                    assert!(!r.remaining_seat_ids.contains(&seat));
                                    released.lock().unwrap().entry(id).or_default().insert(seat);
                                    count("released seats");
                                }
                                Err(Error::HoldNotFound) => count("release refused"),
                                Err(Error::SeatsNotInHold { seat_ids }) => {
                                    assert_eq!(seat_ids, [seat]);
                                    count("not in hold");
                                }
                                Err(e) => panic!("release_seats: {e:?}"),
                            }
                        }
                        7 => {
                            let Some((id, _)) = pick_hold(&mut rng) else { continue };
                            match core.book("race", &id) {
                                Ok(b) => {
                                    booked.lock().unwrap().push((id.clone(), b.seat_ids));
                                    bookings.lock().unwrap().push(id);
                                    count("booked");
                                }
                                Err(Error::HoldNotFound | Error::HoldExpired | Error::BookingCancelled) => {
                                    count("book refused")
                                }
                                Err(e) => panic!("book: {e:?}"),
                            }
                        }
                        8 => {
                            let Some((id, _)) = pick_hold(&mut rng) else { continue };
                            match core.release("race", &id) {
                                Ok(()) => count("released"),
                                Err(Error::HoldNotFound) => count("release refused"),
                                Err(e) => panic!("release: {e:?}"),
                            }
                        }
                        _ => {
                            let id = {
                                let list = bookings.lock().unwrap();
                                if list.is_empty() {
                                    continue;
                                }
                                list[rng.usize(..list.len())].clone()
                            };
                            match core.cancel_booking("race", &id) {
                                Ok(c) => {
                                    assert!(!c.seat_ids.is_empty());
                                    count("cancelled");
                                }
                                Err(e) => panic!("cancel_booking: {e:?}"),
                            }
                        }
                    }
                    let audit = core.audit(Some("race")).unwrap();
                    assert!(audit.summary.ok, "after a step: {:#?}", audit.problems);
                    assert_eq!(audit.summary.seats, 48);
                    steps.fetch_add(1, Ordering::Relaxed);
                }
                std::mem::forget(flag);
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a racing thread failed");
    }
    sweeper.stop();
    let counts = counts.lock().unwrap();
    eprintln!("{} steps: {counts:?}", steps.load(Ordering::Relaxed));
    for what in ["held", "extended", "released seats", "booked", "cancelled", "released", "not in hold"] {
        assert!(counts.get(what).copied().unwrap_or(0) > 0, "no {what:?} in the race: {counts:?}");
    }
    assert_audit(&core, "race");

    // By the change log: a hold loses seats only by releases, so a booking books exactly
    // the seats granted minus those released (no release succeeds once a hold is booked).
    let log = history(&db, &core, "race");
    let mut granted: HashMap<seatcore::Uuid, Vec<String>> = HashMap::new();
    let mut lost: HashMap<seatcore::Uuid, Vec<String>> = HashMap::new();
    for c in log.iter().filter(|c| c.hold_id.is_some()) {
        match c.kind {
            ChangeKind::Held => drop(granted.insert(c.hold_id.unwrap(), c.seat_ids.clone())),
            ChangeKind::Released => lost.entry(c.hold_id.unwrap()).or_default().extend(c.seat_ids.clone()),
            _ => {}
        }
    }
    let mut bookings_in_log = 0;
    for c in log.iter().filter(|c| c.kind == ChangeKind::Booked) {
        let hold = c.hold_id.unwrap();
        let gone = lost.get(&hold).cloned().unwrap_or_default();
        assert!(c.seat_ids.iter().all(|s| !gone.contains(s)), "{hold} booked a released seat");
        let mut whole: Vec<String> = c.seat_ids.iter().chain(&gone).cloned().collect();
        let mut asked = granted[&hold].clone();
        whole.sort();
        asked.sort();
        assert_eq!(whole, asked, "{hold}: booked and released seats are the seats it was granted");
        bookings_in_log += 1;
    }
    assert!(bookings_in_log > 0);
    // By what the threads saw.
    let released = released.lock().unwrap();
    for (hold, seats) in booked.lock().unwrap().iter() {
        if let Some(gone) = released.get(hold) {
            assert!(
                seats.iter().all(|s| !gone.contains(s)),
                "{hold} booked a released seat: {seats:?} {gone:?}"
            );
        }
    }
    // The booked seats now are those of the bookings in force.
    let cancelled: HashSet<_> =
        log.iter().filter(|c| c.kind == ChangeKind::Cancelled).filter_map(|c| c.booking_id).collect();
    let in_force: u64 = log
        .iter()
        .filter(|c| c.kind == ChangeKind::Booked && !cancelled.contains(&c.booking_id.unwrap()))
        .map(|c| c.seat_ids.len() as u64)
        .sum();
    assert_eq!(core.audit(Some("race")).unwrap().summary.booked, in_force);
}

/// A hold's (or booking's) id and its seats.
type Seats = (String, Vec<String>);

/// Sets the flag when the thread unwinds, so the others stop early.
struct PanicFlag<'a>(&'a AtomicBool);

impl Drop for PanicFlag<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

// ---- REST ----

fn call(core: &SeatCore, settings: &Settings, path: &str, body: &str) -> (u16, Value) {
    let (endpoint, show_id) = rest::resolve(path).expect("a contract path");
    let rq = Request {
        body: body.as_bytes(),
        content_type: Some("application/json"),
        idempotency_key: None,
        query: None,
        last_event_id: None,
    };
    let reply = rest::handle(core, settings, endpoint, show_id.as_deref(), &rq);
    match reply.body {
        Body::Json(json) => (reply.status, json.value()),
        other => panic!("not a document: {other:?}"),
    }
}

#[test]
fn the_rest_answers_of_the_lifecycle() {
    let db = TestDb::new("lifecycle_rest");
    let core = connect(&db, Options { pool_size: 2, ..Options::default() });
    let s = Settings::DEFAULT;
    core.initialize_show("s1", &["A1", "A2", "A3", "A4"]).unwrap();
    let hold = core.hold("s1", &["A1", "A2", "A3"], 60).unwrap();
    let id = hold.hold_id.to_string();

    let (status, v) = call(
        &core,
        &s,
        "/shows/s1/extend-hold",
        &format!(r#"{{"hold_id":"{id}","hold_duration_seconds":"600"}}"#),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v.as_object().unwrap().len(), 3, "{v}");
    assert_eq!((&v["hold_id"], &v["seat_ids"]), (&json!(id), &json!(["A1", "A2", "A3"])));
    let expires: DateTime<Utc> = v["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires > hold.expires_at + chrono::Duration::seconds(500));
    // clamped like a hold; absent means the server's default
    let (_, v) = call(
        &core,
        &s,
        "/shows/s1/extend-hold",
        &format!(r#"{{"hold_id":"{id}","hold_duration_seconds":99999}}"#),
    );
    let clamped: DateTime<Utc> = v["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(clamped <= db_now(&db) + chrono::Duration::seconds(1800));
    assert!(clamped > db_now(&db) + chrono::Duration::seconds(1700));
    let (_, v) = call(&core, &s, "/shows/s1/extend-hold", &format!(r#"{{"hold_id":"{id}"}}"#));
    let default: DateTime<Utc> = v["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(default <= db_now(&db) + chrono::Duration::seconds(60));

    let changes = history(&db, &core, "s1").len();
    let gone = json!({"error": "hold not found or expired"});
    for body in
        [r#"{"hold_id":"not-a-uuid"}"#.to_owned(), format!(r#"{{"hold_id":"{}"}}"#, seatcore::Uuid::new_v4())]
    {
        assert_eq!(call(&core, &s, "/shows/s1/extend-hold", &body), (400, gone.clone()), "{body}");
    }
    assert_eq!(
        call(&core, &s, "/shows/nope/extend-hold", &format!(r#"{{"hold_id":"{id}"}}"#)),
        (400, gone.clone())
    );
    let duration = json!({"error": "hold_duration_seconds must be an integer between 60 and 1800 seconds"});
    for bad in ["true", "null", r#""12a""#, "[60]", "{}"] {
        let body = format!(r#"{{"hold_id":"{id}","hold_duration_seconds":{bad}}}"#);
        assert_eq!(call(&core, &s, "/shows/s1/extend-hold", &body), (400, duration.clone()), "{bad}");
    }
    let missing = json!({"error": "hold_id must be a non-empty string"});
    for body in [r#"{}"#, r#"{"hold_id":""}"#, r#"{"hold_id":7}"#, r#"{"hold_id":null}"#] {
        assert_eq!(call(&core, &s, "/shows/s1/extend-hold", body), (400, missing.clone()), "{body}");
    }
    assert_eq!(
        call(&core, &s, "/shows/s1/extend-hold", "[]"),
        (400, json!({"error": "request body must be a JSON object"}))
    );

    // partial release
    let release = |seats: &str| {
        call(&core, &s, "/shows/s1/release-hold", &format!(r#"{{"hold_id":"{id}","seat_ids":{seats}}}"#))
    };
    assert_eq!(
        release(r#"["A4","A1","B9"]"#),
        (400, json!({"error": "seats not in hold", "seat_ids": ["A4", "B9"]}))
    );
    assert_eq!(release(r#"[]"#), (400, json!({"error": "seat_ids must contain at least one seat"})));
    assert_eq!(
        release("null"),
        (400, json!({"error": "seat_ids must be provided as a non-empty JSON array"}))
    );
    assert_eq!(
        release(r#""A1""#),
        (400, json!({"error": "seat_ids must be provided as a non-empty JSON array"}))
    );
    assert_eq!(
        release(r#"["A1", 2]"#),
        (400, json!({"error": "each seat_id must be a string", "details": {"index": 1}}))
    );
    assert_eq!(release(r#"["A1", "A1 "]"#), (400, json!({"error": "seat_ids must not contain duplicates"})));
    assert_eq!(call(&core, &s, "/shows/s1/release-hold", r#"{"seat_ids":["A1"]}"#), (400, missing.clone()));
    assert_eq!(history(&db, &core, "s1").len(), changes, "no refusal wrote anything");
    assert_eq!(core.seat_status("s1").unwrap().counts.held, 3);

    assert_eq!(
        release(r#"[" A2"]"#),
        (200, json!({"message": "seats released", "seat_ids": ["A2"], "remaining_seat_ids": ["A1", "A3"]}))
    );
    assert_eq!(
        release(r#"["A3", "A1"]"#),
        (200, json!({"message": "seats released", "seat_ids": ["A3", "A1"], "remaining_seat_ids": []}))
    );
    assert_eq!(release(r#"["A1"]"#), (404, json!({"error": "hold not found"})));
    assert_eq!(
        call(&core, &s, "/shows/s1/extend-hold", &format!(r#"{{"hold_id":"{id}"}}"#)),
        (400, gone.clone())
    );
    // without seat_ids the reply is the whole release's
    let other = core.hold("s1", &["A4"], 60).unwrap();
    assert_eq!(
        call(&core, &s, "/shows/s1/release-hold", &format!(r#"{{"hold_id":"{}"}}"#, other.hold_id)),
        (200, json!({"message": "hold released"}))
    );

    // cancel-booking
    let hold = core.hold("s1", &["A3", "A1"], 60).unwrap();
    let booking = core.book("s1", &hold.hold_id.to_string()).unwrap();
    let body = format!(r#"{{"booking_id":"{}"}}"#, booking.booking_id);
    let cancelled = (200, json!({"message": "booking cancelled", "seat_ids": ["A3", "A1"]}));
    assert_eq!(call(&core, &s, "/shows/s1/cancel-booking", &body), cancelled);
    assert_eq!(call(&core, &s, "/shows/s1/cancel-booking", &body), cancelled, "again: the same 200");
    assert_eq!(
        call(&core, &s, "/shows/s1/book", &format!(r#"{{"hold_id":"{}"}}"#, hold.hold_id)),
        (400, json!({"error": "booking cancelled"}))
    );
    assert_eq!(core.seat_status("s1").unwrap().counts.available, 4);
    let not_found = json!({"error": "booking not found"});
    for body in [
        r#"{"booking_id":"not-a-uuid"}"#.to_owned(),
        format!(r#"{{"booking_id":"{}"}}"#, seatcore::Uuid::new_v4()),
    ] {
        assert_eq!(call(&core, &s, "/shows/s1/cancel-booking", &body), (404, not_found.clone()), "{body}");
    }
    assert_eq!(call(&core, &s, "/shows/nope/cancel-booking", &body), (404, not_found.clone()));
    let missing = json!({"error": "booking_id must be a non-empty string"});
    for body in [r#"{}"#, r#"{"booking_id":" "}"#, r#"{"booking_id":1}"#, r#"{"hold_id":"x"}"#] {
        assert_eq!(call(&core, &s, "/shows/s1/cancel-booking", body), (400, missing.clone()), "{body}");
    }
    assert_eq!(
        call(&core, &s, "/shows/%00/cancel-booking", &body),
        (400, json!({"error": "show_id must not contain control characters"}))
    );
    assert_audit(&core, "s1");
}

#[test]
fn cancel_booking_is_an_admin_endpoint() {
    use seatcore::contract::Op;
    assert!(Op::CancelBooking.requires_admin());
    assert!(!Op::Extend.requires_admin());
    assert_eq!(rest::resolve("/shows/a/extend-hold").unwrap().0, Op::Extend);
    assert_eq!(rest::resolve("/shows/a/cancel-booking").unwrap().0, Op::CancelBooking);
    assert_eq!((Op::Extend.method(), Op::CancelBooking.method()), ("POST", "POST"));
}
