//! The seat lifecycle against a real PostgreSQL: every rule of the contract, one by one.

use std::time::{Duration, SystemTime};

use seatcore::testing::TestDb;
use seatcore::{Error, ErrorKind, InputError, Options, SeatCore, SeatState};

fn connect(label: &str) -> (TestDb, SeatCore) {
    let db = TestDb::new(label);
    let core = SeatCore::connect(&db.url, Options::default()).expect("connect");
    (db, core)
}

fn seats(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("S{i}")).collect()
}

/// A fresh schema with the show `s` of `n` seats (S1 to Sn).
fn setup(label: &str, n: usize) -> (TestDb, SeatCore) {
    let (db, core) = connect(label);
    core.initialize_show("s", &seats(n)).unwrap();
    (db, core)
}

#[test]
fn initialize_then_exists() {
    let (_db, core) = connect("init");
    assert_eq!(core.initialize_show("show1", &[" A1", "A2 ", "B1"]).unwrap(), 3);
    let err = core.initialize_show("show1", &["Z9"]).unwrap_err();
    assert!(matches!(err, Error::ShowExists), "{err:?}");
    // the first seat map is untouched
    let status = core.seat_status("show1").unwrap();
    let ids: Vec<_> = status.seats.iter().map(|s| s.seat_id.as_str()).collect();
    assert_eq!(ids, ["A1", "A2", "B1"]);
    assert_eq!(core.health().unwrap().shows, 1);
}

#[test]
fn status_keeps_seat_map_order_and_counts() {
    let (_db, core) = connect("order");
    let map = ["C3", "A1", "B10", "B2", "A10"];
    core.initialize_show("s", &map).unwrap();
    let hold = core.hold("s", &["B10"], 60).unwrap();
    core.hold("s", &["A10", "C3"], 60).unwrap();
    core.book("s", &hold.hold_id.to_string()).unwrap();
    let st = core.seat_status("s").unwrap();
    let ids: Vec<_> = st.seats.iter().map(|s| s.seat_id.as_str()).collect();
    assert_eq!(ids, map);
    let states: Vec<_> = st.seats.iter().map(|s| s.state).collect();
    use SeatState::*;
    assert_eq!(states, [Held, Available, Booked, Available, Held]);
    assert_eq!((st.counts.total, st.counts.available, st.counts.held, st.counts.booked), (5, 2, 2, 1));
    assert!(st.counts.invariants_valid);
    for s in &st.seats {
        assert_eq!(s.hold_expires_at.is_some(), s.state == Held, "{s:?}");
    }
    assert!(matches!(core.seat_status("nope"), Err(Error::ShowNotFound)));
}

#[test]
fn streamed_status_keeps_seat_map_order_across_chunks() {
    // a big show's seats arrive in chunks of consecutive places: ids in the reverse of
    // their text order, a hold across the first chunk boundary, a booking and a block in
    // later chunks, the last seat alone in its chunk
    let (db, core) = connect("order_big");
    let n = 3_072;
    let map: Vec<String> = (0..n).map(|i| format!("Z{:05}", n - i)).collect();
    core.initialize_show("s", &map).unwrap();
    let across = [map[1021].clone(), map[1022].clone(), map[1023].clone(), map[1024].clone()];
    let hold = core.hold("s", &across, 60).unwrap();
    let booked = core.hold("s", &[map[2046].clone(), map[2047].clone()], 60).unwrap();
    core.book("s", &booked.hold_id.to_string()).unwrap();
    core.block("s", &[map[n - 1].clone()], Some("broken")).unwrap();

    let st = core.seat_status("s").unwrap();
    let ids: Vec<&str> = st.seats.iter().map(|s| s.seat_id.as_str()).collect();
    assert_eq!(ids, map);
    use SeatState::*;
    for (i, seat) in st.seats.iter().enumerate() {
        let (state, expires) = match i {
            1021..=1024 => (Held, Some(hold.expires_at)),
            2046 | 2047 => (Booked, None),
            i if i == n - 1 => (Blocked, None),
            _ => (Available, None),
        };
        assert_eq!((seat.state, seat.hold_expires_at), (state, expires), "seat {i}: {seat:?}");
    }
    let c = &st.counts;
    assert_eq!((c.total, c.available, c.held, c.booked, c.blocked), (n as u64, n as u64 - 7, 4, 2, 1));
    assert!(c.invariants_valid);
    // the places run from 1 and a chunk holds the places with one quotient by 1,024: the
    // hold spans places 1,022 to 1,025, the booking 2,047 and 2,048, and the last seat
    // (3,072) is alone in the fourth chunk
    let mut client = db.client();
    let places: (i32, i32) = client
        .query_one("SELECT min(seat_no), max(seat_no) FROM seats WHERE show_id = 's'", &[])
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(places, (1, 3 * 1024));
}

#[test]
fn hold_failures_in_contract_order() {
    let (_db, core) = setup("holdfail", 5);
    assert!(matches!(core.hold("missing", &["S1"], 60), Err(Error::ShowNotFound)));
    assert!(matches!(core.hold("s", &["S1", "X9"], 60), Err(Error::InvalidSeatIds)));
    assert!(matches!(
        core.hold("s", &["S1", " S1"], 60),
        Err(Error::InvalidInput(InputError::DuplicateSeatIds))
    ));
    core.hold("s", &["S2", "S4"], 60).unwrap();
    match core.hold("s", &["S5", "S4", "S1", "S2"], 60) {
        Err(Error::SeatsUnavailable { seat_ids }) => assert_eq!(seat_ids, ["S2", "S4"]),
        other => panic!("{other:?}"),
    }
    // all or nothing: S1 and S5 were not held by the refused request
    let st = core.seat_status("s").unwrap();
    assert_eq!(st.counts.held, 2);
    assert_eq!(core.hold("s", &["S1", "S5"], 60).unwrap().seat_ids, ["S1", "S5"]);
}

#[test]
fn book_is_idempotent() {
    let (_db, core) = setup("book", 4);
    let hold = core.hold("s", &["S3", "S1"], 60).unwrap();
    let id = hold.hold_id.to_string();
    let first = core.book("s", &id).unwrap();
    assert_eq!(first.booking_id, hold.hold_id);
    assert_eq!(first.seat_ids, ["S3", "S1"]);
    std::thread::sleep(Duration::from_millis(20));
    let again = core.book("s", &id).unwrap();
    assert_eq!(again, first, "a repeat returns the same booking, booked_at included");
    // the booking is another show's business elsewhere
    core.initialize_show("t", &seats(4)).unwrap();
    assert!(matches!(core.book("t", &id), Err(Error::HoldNotFound)));
    // booked seats stay booked, and cannot be held or released
    assert!(matches!(core.hold("s", &["S1"], 60), Err(Error::SeatsUnavailable { .. })));
    assert!(matches!(core.release("s", &id), Err(Error::HoldNotFound)));
    assert_eq!(core.stats().bookings, 1);
}

#[test]
fn hold_ids_that_are_not_uuids_are_not_found() {
    let (_db, core) = setup("uuid", 2);
    for bad in ["", "not-a-uuid", "'; DROP TABLE seats; --", "00000000-0000-0000-0000-000000000000"] {
        assert!(matches!(core.book("s", bad), Err(Error::HoldNotFound)), "{bad}");
        assert!(matches!(core.release("s", bad), Err(Error::HoldNotFound)), "{bad}");
    }
    assert_eq!(core.seat_status("s").unwrap().counts.available, 2);
}

#[test]
fn release_frees_seats_at_once() {
    let (_db, core) = setup("release", 3);
    let hold = core.hold("s", &["S1", "S2"], 60).unwrap();
    core.release("s", &hold.hold_id.to_string()).unwrap();
    assert!(matches!(core.release("s", &hold.hold_id.to_string()), Err(Error::HoldNotFound)));
    assert!(matches!(core.book("s", &hold.hold_id.to_string()), Err(Error::HoldNotFound)));
    assert_eq!(core.seat_status("s").unwrap().counts.available, 3);
    core.hold("s", &["S2", "S3"], 60).unwrap();
}

#[test]
fn expired_holds_free_seats_before_any_sweep() {
    let (db, core) = setup("expiry", 3);
    let hold = core.hold("s", &["S1", "S2"], 1).unwrap();
    let id = hold.hold_id.to_string();
    // the expiry comes from the database's clock
    let mut c = db.client();
    let db_now: chrono::DateTime<chrono::Utc> = c.query_one("SELECT now()", &[]).unwrap().get(0);
    let ahead = hold.expires_at - db_now;
    assert!(ahead > chrono::Duration::milliseconds(500) && ahead <= chrono::Duration::seconds(1), "{ahead}");
    assert_eq!(core.seat_status("s").unwrap().counts.held, 2);
    std::thread::sleep(Duration::from_millis(1200));
    // no sweep has run: the seats are available anyway
    let st = core.seat_status("s").unwrap();
    assert_eq!((st.counts.available, st.counts.held), (3, 0));
    assert!(st.counts.invariants_valid);
    assert!(matches!(core.book("s", &id), Err(Error::HoldExpired)));
    assert!(matches!(core.release("s", &id), Err(Error::HoldNotFound)));
    // another customer takes one of the expired seats straight away
    let other = core.hold("s", &["S2"], 60).unwrap();
    assert_eq!(core.sweep_expired().unwrap(), 1);
    assert!(matches!(core.book("s", &id), Err(Error::HoldNotFound)));
    // the sweep did not touch the new hold's seat
    let st = core.seat_status("s").unwrap();
    assert_eq!((st.counts.available, st.counts.held), (2, 1));
    core.book("s", &other.hold_id.to_string()).unwrap();
    assert_eq!(core.sweep_expired().unwrap(), 0);
    assert_eq!(core.stats().holds_expired_swept, 1);
}

#[test]
fn sweep_removes_rows_in_batches() {
    let db = TestDb::new("sweepbatch");
    let core = SeatCore::connect(&db.url, Options { sweep_batch: 7, ..Options::default() }).unwrap();
    core.initialize_show("s", &seats(50)).unwrap();
    for i in 1..=30 {
        core.hold("s", &[format!("S{i}")], 1).unwrap();
    }
    let live = core.hold("s", &["S40"], 600).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(core.sweep_expired().unwrap(), 30);
    let mut c = db.client();
    let holds: i64 = c.query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    let marked: i64 =
        c.query_one("SELECT count(*) FROM seats WHERE hold_expires_at > now()", &[]).unwrap().get(0);
    assert_eq!((holds, marked), (1, 1));
    core.book("s", &live.hold_id.to_string()).unwrap();
}

#[test]
fn reset_clears_everything_and_counts_it() {
    let (_db, core) = setup("reset", 10);
    let h = core.hold("s", &["S1", "S2"], 60).unwrap();
    core.book("s", &h.hold_id.to_string()).unwrap();
    core.hold("s", &["S3"], 60).unwrap();
    core.hold("s", &["S4", "S5", "S6"], 60).unwrap();
    let r = core.reset_all().unwrap();
    assert_eq!((r.holds_cleared, r.bookings_cleared, r.seats_reset), (2, 1, 6));
    let st = core.seat_status("s").unwrap();
    assert_eq!(st.counts.available, 10);
    assert!(matches!(core.book("s", &h.hold_id.to_string()), Err(Error::HoldNotFound)));
    let r = core.reset_all().unwrap();
    assert_eq!((r.holds_cleared, r.bookings_cleared, r.seats_reset), (0, 0, 0));
}

#[test]
fn invariants_valid_is_computed_from_the_data_of_small_and_streamed_reads() {
    // a small show is read in one statement, a bigger one streamed: each path checks
    invariants_checked("invariants_small", 4);
    invariants_checked("invariants_streamed", seatcore::SMALL_STATUS_SEATS as usize + 1);
}

fn invariants_checked(label: &str, seats: usize) {
    let (db, core) = setup(label, seats);
    let h = core.hold("s", &["S1"], 60).unwrap();
    assert!(core.seat_status("s").unwrap().counts.invariants_valid);
    let mut c = db.client();
    // a seat claiming a live hold that does not exist
    c.execute("DELETE FROM holds WHERE hold_id = $1", &[&h.hold_id]).unwrap();
    assert!(!core.seat_status("s").unwrap().counts.invariants_valid);
    c.execute("UPDATE seats SET hold_id = NULL, hold_expires_at = NULL", &[]).unwrap();
    assert!(core.seat_status("s").unwrap().counts.invariants_valid);
    // a seat whose expiry differs from its hold's
    let h = core.hold("s", &["S1", "S2"], 60).unwrap();
    c.execute(
        "UPDATE seats SET hold_expires_at = hold_expires_at + interval '1 s' WHERE seat_id = 'S2'",
        &[],
    )
    .unwrap();
    assert!(!core.seat_status("s").unwrap().counts.invariants_valid);
    c.execute(
        "UPDATE seats SET hold_expires_at = hold_expires_at - interval '1 s' WHERE seat_id = 'S2'",
        &[],
    )
    .unwrap();
    assert!(core.seat_status("s").unwrap().counts.invariants_valid);
    // a live hold listing a seat that it does not hold, the count kept: S3 claims the hold
    // in place of S2, which is free
    c.execute(
        "UPDATE seats SET hold_id = CASE WHEN seat_id = 'S3' THEN $1::uuid END,
                          hold_expires_at = CASE WHEN seat_id = 'S3' THEN (SELECT expires_at FROM holds) END
         WHERE seat_id IN ('S2', 'S3')",
        &[&h.hold_id],
    )
    .unwrap();
    let st = core.seat_status("s").unwrap();
    assert_eq!(st.counts.held, 2);
    assert!(!st.counts.invariants_valid);
    c.execute("DELETE FROM holds", &[]).unwrap();
    c.execute("UPDATE seats SET hold_id = NULL, hold_expires_at = NULL", &[]).unwrap();
    assert!(core.seat_status("s").unwrap().counts.invariants_valid);
    // a seat missing from the seat map
    c.execute("DELETE FROM seats WHERE seat_id = 'S4'", &[]).unwrap();
    let st = core.seat_status("s").unwrap();
    assert_eq!(st.counts.total as usize, seats - 1);
    assert!(!st.counts.invariants_valid);
}

#[test]
fn schema_refuses_inconsistent_rows() {
    let (db, core) = setup("constraints", 2);
    let mut c = db.client();
    let id = seatcore::Uuid::new_v4();
    // held without an expiry
    assert!(c.execute("UPDATE seats SET hold_id = $1 WHERE seat_id = 'S1'", &[&id]).is_err());
    // booked without a booking
    let fk = |e: postgres::Error| e.code().cloned();
    let violation = Some(postgres::error::SqlState::FOREIGN_KEY_VIOLATION);
    let ghost = "UPDATE seats SET booking_id = $1 WHERE seat_id = 'S1'";
    assert_eq!(c.execute(ghost, &[&id]).map_err(fk).unwrap_err(), violation);
    // a duplicate seat on one map
    assert!(c.execute("INSERT INTO seats (show_id, seat_no, seat_id) VALUES ('s', 3, 'S1')", &[]).is_err());
    // held and booked at once
    let h = core.hold("s", &["S1"], 60).unwrap();
    core.book("s", &h.hold_id.to_string()).unwrap();
    assert!(c
        .execute(
            "UPDATE seats SET hold_id = $1, hold_expires_at = now() + interval '1 minute' WHERE seat_id = 'S1'",
            &[&id]
        )
        .is_err());
    // a booking deleted, or its id changed, while a seat carries it
    assert_eq!(c.execute("DELETE FROM bookings", &[]).map_err(fk).unwrap_err(), violation);
    let moved = "UPDATE bookings SET booking_id = $1";
    assert_eq!(c.execute(moved, &[&id]).map_err(fk).unwrap_err(), violation);
    // a seat given a booking that exists is fine (one given no booking is refused above)
    let give_s2 = "UPDATE seats SET booking_id = $1 WHERE seat_id = 'S2'";
    assert_eq!(c.execute(give_s2, &[&h.hold_id]).unwrap(), 1);
    // freeing the seats first lets the booking go, in one statement as a reset does
    let together = "WITH s AS (UPDATE seats SET booking_id = NULL WHERE booking_id IS NOT NULL RETURNING 1) \
                    DELETE FROM bookings";
    assert_eq!(c.execute(together, &[]).unwrap(), 1);
}

#[test]
fn bad_input_writes_nothing() {
    let (db, core) = setup("badinput", 3);
    let long_seat = "x".repeat(65);
    let long_show = "s".repeat(129);
    let cases: Vec<(Error, ErrorKind)> = vec![
        (core.initialize_show("t", &Vec::<String>::new()).unwrap_err(), ErrorKind::InvalidInput),
        (core.initialize_show("t", &["A", " "]).unwrap_err(), ErrorKind::InvalidInput),
        (core.initialize_show("t", &["A", "A"]).unwrap_err(), ErrorKind::InvalidInput),
        (core.initialize_show("t", &["A", &long_seat]).unwrap_err(), ErrorKind::InvalidInput),
        (core.initialize_show("t", &["A\0"]).unwrap_err(), ErrorKind::InvalidInput),
        (core.initialize_show(&long_show, &["A"]).unwrap_err(), ErrorKind::InvalidInput),
        (core.initialize_show("", &["A"]).unwrap_err(), ErrorKind::InvalidInput),
        (core.hold("s", &["S1"], 0).unwrap_err(), ErrorKind::InvalidInput),
        (core.hold("s", &["S1"], -60).unwrap_err(), ErrorKind::InvalidInput),
        (core.hold("s", &["S1"], i64::MAX).unwrap_err(), ErrorKind::InvalidInput),
        (core.hold("s", &vec!["S1".to_string(); 1001], 60).unwrap_err(), ErrorKind::InvalidInput),
        (core.hold("s", &["S\u{7}1"], 60).unwrap_err(), ErrorKind::InvalidInput),
        (core.hold("s", &Vec::<String>::new(), 60).unwrap_err(), ErrorKind::InvalidInput),
        (core.hold(&long_show, &["S1"], 60).unwrap_err(), ErrorKind::InvalidInput),
    ];
    for (err, kind) in &cases {
        assert_eq!(err.kind(), *kind, "{err:?}");
        assert!(!err.to_string().to_lowercase().contains("select"), "{err}");
    }
    let mut c = db.client();
    let shows: i64 = c.query_one("SELECT count(*) FROM shows", &[]).unwrap().get(0);
    let holds: i64 = c.query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    assert_eq!((shows, holds), (1, 0));
}

#[test]
fn request_keys_make_holds_safe_to_retry() {
    let (_db, core) = setup("keys", 5);
    let first = core.hold_with_key("s", &["S1", "S2"], 60, Some("req-1")).unwrap();
    let again = core.hold_with_key("s", &["S2", "S1"], 60, Some("req-1")).unwrap();
    assert_eq!(again.hold_id, first.hold_id);
    assert_eq!(again.expires_at, first.expires_at);
    assert!(matches!(core.hold_with_key("s", &["S3"], 60, Some("req-1")), Err(Error::RequestKeyReused)));
    // the same key on another show is another request
    core.initialize_show("t", &seats(5)).unwrap();
    assert_ne!(core.hold_with_key("t", &["S1"], 60, Some("req-1")).unwrap().hold_id, first.hold_id);
    assert_eq!(core.seat_status("s").unwrap().counts.held, 2);
    // once booked, the key is free again and the seats are taken
    core.book("s", &first.hold_id.to_string()).unwrap();
    assert!(matches!(
        core.hold_with_key("s", &["S1", "S2"], 60, Some("req-1")),
        Err(Error::SeatsUnavailable { .. })
    ));
    assert!(core.hold_with_key("s", &["S1"], 60, Some("")).is_err());
}

#[test]
fn migrations_are_applied_once() {
    let db = TestDb::new("migrate");
    let _a = SeatCore::connect(&db.url, Options::default()).unwrap();
    let _b = SeatCore::connect(&db.url, Options::default()).unwrap();
    let mut c = db.client();
    let n: i64 = c.query_one("SELECT count(*) FROM seatcore_migrations", &[]).unwrap().get(0);
    assert_eq!(n, seatcore::migrate::MIGRATIONS.len() as i64);
    let n: i64 = c.query_one("SELECT count(*) FROM seatcore_functions", &[]).unwrap().get(0);
    assert_eq!(n, seatcore::migrate::FUNCTIONS.len() as i64);
}

#[test]
fn a_function_is_applied_again_when_its_file_differs_from_what_the_database_applied() {
    let db = TestDb::new("functions");
    drop(SeatCore::connect(&db.url, Options::default()).unwrap());
    let mut c = db.client();
    let applied_at = |c: &mut postgres::Client| -> Vec<(String, SystemTime)> {
        c.query("SELECT name, applied_at FROM seatcore_functions ORDER BY name", &[])
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    };
    let first = applied_at(&mut c);
    // the text seatcore_book was applied from differs from its file, and the function went
    c.batch_execute(
        "UPDATE seatcore_functions SET definition = 'an older text' WHERE name = 'seatcore_book';
         DROP FUNCTION seatcore_book(text, uuid)",
    )
    .unwrap();
    drop(SeatCore::connect(&db.url, Options::default()).unwrap());
    let second = applied_at(&mut c);
    let changed: Vec<&str> =
        first.iter().zip(&second).filter(|(a, b)| a != b).map(|(a, _)| a.0.as_str()).collect();
    assert_eq!(changed, ["seatcore_book"], "only the function whose text differed is applied");
    let book = seatcore::migrate::FUNCTIONS.iter().find(|f| f.name == "seatcore_book").unwrap();
    let definition: String = c
        .query_one("SELECT definition FROM seatcore_functions WHERE name = 'seatcore_book'", &[])
        .unwrap()
        .get(0);
    assert_eq!(definition, book.sql);
    // and it works: a hold booked through it
    let core = SeatCore::connect(&db.url, Options::default()).unwrap();
    core.initialize_show("s", &["S1"]).unwrap();
    let hold = core.hold("s", &["S1"], 60).unwrap();
    core.book("s", &hold.hold_id.to_string()).unwrap();
}

#[test]
fn every_plpgsql_function_keeps_one_plan_per_session() {
    // PL/pgSQL's own choice between a kept plan and one made per call lands on the second
    // for statements with array arguments, where planning costs more than running.
    let (db, _core) = connect("plans");
    let mut c = db.client();
    let rows = c
        .query(
            "SELECT p.proname::text, coalesce('plan_cache_mode=force_generic_plan' = ANY (p.proconfig), false)
             FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
             WHERE l.lanname = 'plpgsql' AND p.pronamespace = $1::text::regnamespace
             ORDER BY 1",
            &[&db.schema],
        )
        .unwrap();
    let functions: Vec<(String, bool)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(functions.len() > 10, "{functions:?}");
    // the one function that runs no statement (it raises an error or returns true)
    let unplanned: Vec<&str> =
        functions.iter().filter(|(_, kept)| !kept).map(|(name, _)| name.as_str()).collect();
    assert_eq!(unplanned, ["seatcore_assert"], "every other function forces its generic plan");
}

#[test]
fn unreachable_database_is_unavailable() {
    let opts = Options {
        connect_timeout: Duration::from_millis(500),
        checkout_timeout: Duration::from_millis(800),
        ..Options::default()
    };
    let err = SeatCore::connect("postgres://nobody@127.0.0.1:1/none", opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
}

#[test]
fn configuration_errors_are_reported_at_once() {
    let started = std::time::Instant::now();
    for (url, options) in [
        ("this is not a url ===", Options::default()),
        ("postgres://u@127.0.0.1:1/x?sslmode=sometimes", Options::default()),
        (
            "postgres://u@127.0.0.1:1/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            Options::default(),
        ),
        ("postgres://u@127.0.0.1:1/x", Options { pool_size: 0, ..Options::default() }),
        ("postgres://u@127.0.0.1:1/x", Options { lock_timeout: Duration::ZERO, ..Options::default() }),
    ] {
        let err = SeatCore::connect(url, options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{url}: {err:?}");
        assert!(err.to_string().starts_with("configuration error: "), "{err}");
    }
    // nothing was tried against a server: no connect timeout was waited out
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[test]
fn the_audit_finds_broken_rows_and_passes_clean_ones() {
    let (db, core) = setup("audit", 6);
    core.initialize_show("t", &seats(2)).unwrap();
    let h = core.hold("s", &["S1", "S2"], 60).unwrap();
    let b = core.hold("s", &["S3"], 60).unwrap();
    core.book("s", &b.hold_id.to_string()).unwrap();
    let audit = core.audit(None).unwrap();
    assert!(audit.summary.ok, "{:?}", audit.problems);
    assert_eq!(
        (audit.summary.shows, audit.summary.seats, audit.summary.held, audit.summary.booked),
        (2, 8, 2, 1)
    );
    assert_eq!(core.audit(Some("t")).unwrap().summary.seats, 2);
    assert_eq!(core.audit(Some("none")).unwrap().summary.shows, 0);

    let mut c = db.client();
    // a live hold whose seat forgot it, and a seat booked by a booking that does not list it
    c.execute("UPDATE seats SET hold_id = NULL, hold_expires_at = NULL WHERE seat_id = 'S2'", &[]).unwrap();
    c.execute("UPDATE bookings SET seat_nos = '{5}', seat_ids = '{S5}'", &[]).unwrap();
    let audit = core.audit(Some("s")).unwrap();
    assert!(!audit.summary.ok);
    assert_eq!(audit.summary.problem_count, 3, "{:#?}", audit.problems);
    let text = audit.problems.join("\n");
    assert!(text.contains(&format!("live hold {} lists seat #2", h.hold_id)), "{text}");
    assert!(text.contains("seat S3 is booked by"), "{text}");
    assert!(text.contains("lists seat #5, which does not carry it"), "{text}");
    assert!(core.audit(Some("t")).unwrap().summary.ok, "other shows are not blamed");
}
