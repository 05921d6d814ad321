//! The change log against a real PostgreSQL: one record per operation, written with it;
//! history pages and filters; the status read's version and entity tag.

mod common;

use std::time::Duration;

use seatcore::testing::TestDb;
use seatcore::{ChangeKind, ErrorKind, HistoryQuery, Options, SeatCore};

fn setup(label: &str) -> (TestDb, SeatCore) {
    let db = TestDb::new(label);
    let core = SeatCore::connect(&db.url, Options { pool_size: 4, ..Options::default() }).unwrap();
    (db, core)
}

fn all(db: &TestDb, core: &SeatCore, show: &str) -> Vec<seatcore::Change> {
    db.settled_history(core, show, None)
}

#[test]
fn every_operation_writes_one_record() {
    let (db, core) = setup("changes_ops");
    core.initialize_show("s", &["A1", "A2", "A3", "A4"]).unwrap();
    let one = core.hold("s", &["A1"], 60).unwrap();
    let two = core.hold("s", &["A3", "A2"], 60).unwrap();
    core.book("s", &two.hold_id.to_string()).unwrap();
    core.book("s", &two.hold_id.to_string()).unwrap(); // a repeat changes nothing
    core.release("s", &one.hold_id.to_string()).unwrap();
    let short = core.hold("s", &["A4"], 1).unwrap();
    assert!(core.hold("s", &["A2"], 60).is_err(), "a refusal changes nothing");

    let log = all(&db, &core, "s");
    let kinds: Vec<ChangeKind> = log.iter().map(|c| c.kind).collect();
    use ChangeKind::*;
    assert_eq!(kinds, [Initialized, Held, Held, Booked, Released, Held]);
    assert!(log.windows(2).all(|w| w[0].id < w[1].id), "ids grow");
    assert_eq!(log[0].seat_ids, ["A1", "A2", "A3", "A4"]);
    assert_eq!((log[1].hold_id, log[1].expires_at), (Some(one.hold_id), Some(one.expires_at)));
    assert_eq!(log[2].seat_ids, ["A3", "A2"], "as requested");
    assert_eq!((log[3].hold_id, log[3].booking_id), (Some(two.hold_id), Some(two.hold_id)));
    assert_eq!((log[4].hold_id, &log[4].seat_ids), (Some(one.hold_id), &vec!["A1".to_string()]));

    // the short hold expires; the sweep records it
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(core.sweep_expired().unwrap(), 1);
    let last = all(&db, &core, "s").pop().unwrap();
    assert_eq!(
        (last.kind, last.hold_id, last.expires_at),
        (Expired, Some(short.hold_id), Some(short.expires_at))
    );

    core.reset_all().unwrap();
    let last = all(&db, &core, "s").pop().unwrap();
    assert_eq!((last.kind, &last.seat_ids), (Reset, &vec!["A2".to_string(), "A3".to_string()]));
    let json = serde_json::to_value(&last).unwrap();
    assert_eq!(json["kind"], "reset");
    assert!(json.get("hold_id").is_none(), "absent where it does not apply: {json}");
}

#[test]
fn history_pages_and_filters() {
    let (db, core) = setup("changes_pages");
    let seats: Vec<String> = (1..=10).map(|i| format!("A{i}")).collect();
    core.initialize_show("s", &seats).unwrap();
    core.initialize_show("other", &["X"]).unwrap();
    for s in &seats {
        let h = core.hold("s", &[s], 60).unwrap();
        core.release("s", &h.hold_id.to_string()).unwrap();
    }
    // pages of 3 add up to the whole history, in order, without repeats
    assert_eq!(db.settled_history(&core, "s", None).len(), 21);
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = core.history("s", &HistoryQuery { after, limit: 3, seat_id: None }).unwrap();
        assert!(page.changes.len() <= 3);
        if page.changes.is_empty() {
            break;
        }
        seen.extend(page.changes.iter().map(|c| c.id));
        after = page.next;
    }
    assert_eq!(seen.len(), 21);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    let about_a7 = core
        .history("s", &HistoryQuery { seat_id: Some("A7".into()), ..HistoryQuery::default() })
        .unwrap()
        .changes;
    let kinds: Vec<ChangeKind> = about_a7.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::Initialized, ChangeKind::Held, ChangeKind::Released]);
    assert!(all(&db, &core, "other").iter().all(|c| c.show_id == "other"));

    let err = core.history("nope", &HistoryQuery::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ShowNotFound);
    for bad in [
        HistoryQuery { limit: 0, ..HistoryQuery::default() },
        HistoryQuery { limit: 1001, ..HistoryQuery::default() },
        HistoryQuery { after: -1, ..HistoryQuery::default() },
        HistoryQuery { seat_id: Some(" ".into()), ..HistoryQuery::default() },
    ] {
        assert_eq!(core.history("s", &bad).unwrap_err().kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
}

/// Reads pages of `read(after)` to the end, checking each against the seat budget: a page
/// stops at the record that brings it to `MAX_CHANGE_PAGE_SEATS` seats, and says so.
fn pages_within_budget(
    mut read: impl FnMut(i64) -> seatcore::ChangePage,
    limit: u32,
) -> Vec<Vec<(ChangeKind, usize)>> {
    let budget = seatcore::MAX_CHANGE_PAGE_SEATS as usize;
    let mut pages = Vec::new();
    let mut after = 0;
    loop {
        let page = read(after);
        if page.changes.is_empty() {
            return pages;
        }
        let sizes: Vec<usize> = page.changes.iter().map(|c| c.seat_ids.len()).collect();
        let before_last: usize = sizes[..sizes.len() - 1].iter().sum();
        assert!(before_last < budget, "a page goes on only while under the budget: {sizes:?}");
        assert!(page.changes.len() <= limit as usize);
        assert_eq!(page.next, page.changes.last().unwrap().id);
        assert!(page.next > after);
        let full = page.changes.len() == limit as usize || before_last + sizes[sizes.len() - 1] >= budget;
        assert_eq!(page.is_full(limit), full, "{sizes:?}");
        pages.push(page.changes.iter().map(|c| (c.kind, c.seat_ids.len())).collect());
        after = page.next;
    }
}

#[test]
fn pages_end_at_their_seat_budget() {
    let (db, core) = setup("changes_budget");
    let budget = seatcore::MAX_CHANGE_PAGE_SEATS as usize;
    let big: Vec<String> = (1..=budget * 6 / 10).map(|i| format!("S{i}")).collect();
    let huge: Vec<String> = (1..=budget * 12 / 10).map(|i| format!("S{i}")).collect();
    let half = &big[..big.len() / 2];
    core.initialize_show("big", &big).unwrap();
    core.block("big", &big, None).unwrap();
    core.unblock("big", &big).unwrap();
    core.block("big", half, None).unwrap();
    let h = core.hold("big", &[&big[big.len() - 1]], 60).unwrap();
    core.initialize_show("huge", &huge).unwrap();
    assert_eq!(all(&db, &core, "big").len() + all(&db, &core, "huge").len(), 6);

    use ChangeKind::*;
    let (b, q, one) = (big.len(), half.len(), 1);
    let history = |show: &'static str, limit: u32| {
        let core = core.clone();
        pages_within_budget(
            move |after| core.history(show, &HistoryQuery { after, limit, seat_id: None }).unwrap(),
            limit,
        )
    };
    assert_eq!(
        history("big", 100),
        [vec![(Initialized, b), (Blocked, b)], vec![(Unblocked, b), (Blocked, q), (Held, one)]]
    );
    assert_eq!(
        history("big", 2),
        [vec![(Initialized, b), (Blocked, b)], vec![(Unblocked, b), (Blocked, q)], vec![(Held, one)]]
    );
    // one record over the budget comes whole, alone
    assert_eq!(history("huge", 100), [vec![(Initialized, huge.len())]]);
    // a seat filter counts the records it keeps
    let about_last = core
        .history("big", &HistoryQuery { seat_id: Some(big[b - 1].clone()), ..HistoryQuery::default() })
        .unwrap();
    let kinds: Vec<ChangeKind> = about_last.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [Initialized, Blocked]);
    assert_eq!(about_last.changes[1].hold_id, None);

    // across shows the budget counts every show's records (before the last: 90% of it, and one)
    let whole_log = [
        vec![(Initialized, b), (Blocked, b)],
        vec![(Unblocked, b), (Blocked, q), (Held, one), (Initialized, huge.len())],
    ];
    let tail = pages_within_budget(|after| core.changes_after(after, 100).unwrap(), 100);
    assert_eq!(tail, whole_log);
    let shows =
        pages_within_budget(|after| core.shows_changes_after(&["big", "huge"], after, 100).unwrap(), 100);
    assert_eq!(shows, whole_log);

    // a watcher reads on past a page cut by seats, without waiting for a notification
    let mut watch = core.watch("big", Some(0)).unwrap();
    let mut seen = Vec::new();
    while let Some(c) = watch.next(Duration::from_secs(5)).unwrap() {
        seen.push(c.kind);
        if c.hold_id == Some(h.hold_id) {
            break;
        }
    }
    assert_eq!(seen, [Initialized, Blocked, Unblocked, Blocked, Held]);
}

#[test]
fn a_status_read_carries_its_version_and_etag() {
    let (_db, core) = setup("changes_version");
    core.initialize_show("s", &["A1", "A2"]).unwrap();
    core.initialize_show("t", &["B1"]).unwrap();
    let first = common::head(&core, "s");
    assert_eq!(first.seats, 2, "the seat count comes with the head");
    assert_eq!(common::head(&core, "s").etag, first.etag, "the same document, the same tag");
    let status = core.seat_status("s").unwrap();
    assert!(status.counts.version >= first.version);
    assert_eq!(serde_json::to_value(&status).unwrap()["version"], status.counts.version);

    core.hold("t", &["B1"], 60).unwrap();
    let h = core.hold("s", &["A1"], 1).unwrap();
    let held = common::head(&core, "s");
    assert_ne!(held.etag, first.etag, "a hold changes the tag");
    // following the log from the version of a read made before the hold finds the hold
    let page = core.history("s", &HistoryQuery { after: first.version, ..HistoryQuery::default() }).unwrap();
    assert!(page.changes.iter().any(|c| c.hold_id == Some(h.hold_id)), "{:?}", page.changes);
    // a hold running out changes the document without a record: the tag changes too
    std::thread::sleep(Duration::from_millis(1100));
    let expired = common::head(&core, "s");
    assert_ne!(expired.etag, held.etag);
    assert_eq!(core.seat_status("s").unwrap().counts.held, 0);
}

#[test]
fn the_sweeper_records_expiry_without_any_request() {
    let (db, core) = setup("changes_expiry");
    core.initialize_show("s", &["A1", "A2"]).unwrap();
    assert_eq!(core.next_expiry().unwrap(), None, "no live hold");
    let hold = core.hold("s", &["A1"], 2).unwrap();
    let left = core.next_expiry().unwrap().expect("a live hold");
    assert!(left <= Duration::from_secs(2) && !left.is_zero(), "{left:?}");
    let sweeper = core.start_sweeper(seatcore::Sweeper::DEFAULT_INTERVAL);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let expired = loop {
        let found = all(&db, &core, "s").into_iter().find(|c| c.kind == ChangeKind::Expired);
        if let Some(c) = found {
            break c;
        }
        assert!(std::time::Instant::now() < deadline, "no expired record");
        std::thread::sleep(Duration::from_millis(50));
    };
    sweeper.stop();
    assert_eq!((expired.hold_id, expired.expires_at), (Some(hold.hold_id), Some(hold.expires_at)));
    assert!(expired.at >= hold.expires_at, "recorded after the expiry, by the database's clock");
    println!("expired record {:?} after the expiry", (expired.at - hold.expires_at).to_std().unwrap());
}

#[test]
fn old_changes_are_pruned() {
    let (db, core) = setup("changes_prune");
    core.initialize_show("s", &["A1", "A2"]).unwrap();
    core.hold("s", &["A1"], 60).unwrap();
    let mut c = db.client();
    c.execute("UPDATE changes SET at = now() - interval '31 days' WHERE kind = 'initialized'", &[]).unwrap();
    assert_eq!(core.prune_changes().unwrap(), 1);
    let kinds: Vec<ChangeKind> = all(&db, &core, "s").iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::Held]);
}

#[test]
fn a_watch_sees_changes_of_every_process_in_order() {
    let (db, core) = setup("changes_watch");
    core.initialize_show("s", &["A1", "A2", "A3"]).unwrap();
    core.initialize_show("t", &["B1"]).unwrap();
    let mut watch = core.watch("s", None).unwrap();
    assert_eq!(watch.next(Duration::from_millis(50)).unwrap(), None, "it starts at the present");

    // another handle (as another process would) makes the changes
    let other = SeatCore::connect(&db.url, Options { pool_size: 2, ..Options::default() }).unwrap();
    let hold = other.hold("s", &["A1", "A2"], 60).unwrap();
    other.hold("t", &["B1"], 60).unwrap();
    other.book("s", &hold.hold_id.to_string()).unwrap();
    let first = watch.next(Duration::from_secs(10)).unwrap().expect("the hold");
    let second = watch.next(Duration::from_secs(10)).unwrap().expect("the booking");
    assert_eq!((first.kind, first.hold_id), (ChangeKind::Held, Some(hold.hold_id)));
    assert_eq!((second.kind, second.booking_id), (ChangeKind::Booked, Some(hold.hold_id)));
    assert!(first.id < second.id && second.id == watch.position());

    // a watch resumed from the first record's id starts with the second
    let mut resumed = core.watch("s", Some(first.id)).unwrap();
    assert_eq!(resumed.next(Duration::from_secs(10)).unwrap().map(|c| c.id), Some(second.id));
    assert_eq!(core.watch("nope", None).unwrap_err().kind(), ErrorKind::ShowNotFound);
    assert_eq!(core.watch("s", Some(-1)).unwrap_err().kind(), ErrorKind::InvalidInput);
}
