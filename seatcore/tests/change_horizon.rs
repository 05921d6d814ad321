//! Readers that page with `after` never miss a record, even one whose transaction started
//! before a later record's and committed after it.
//!
//! Alone in its test binary: it holds a transaction open, which holds back every reader of
//! the cluster's change log (by design) and would delay the other tests' reads.

mod common;

use seatcore::testing::TestDb;
use seatcore::{ChangeKind, HistoryQuery, Options, SeatCore};

#[test]
fn a_late_committing_transaction_is_never_skipped() {
    let db = TestDb::new("changes_horizon");
    let core = SeatCore::connect(&db.url, Options { pool_size: 4, ..Options::default() }).unwrap();
    core.initialize_show("s", &["A1", "A2", "A3"]).unwrap();
    let start = core.history("s", &HistoryQuery::default()).unwrap();
    assert_eq!(start.changes.len(), 1);

    // A transaction that started first (it has its transaction id) and commits last.
    let mut late = db.client();
    let mut tx = late.transaction().unwrap();
    tx.query_one("SELECT pg_current_xact_id()", &[]).unwrap();

    // Meanwhile a hold commits: its record has a larger id than anything the open
    // transaction will write, so a reader must not pass it while the other is open.
    let hold = core.hold("s", &["A1"], 60).unwrap();
    let page = core.history("s", &HistoryQuery { after: start.next, ..HistoryQuery::default() }).unwrap();
    assert!(page.changes.is_empty(), "held back while an older transaction is open: {:?}", page.changes);
    assert_eq!(page.next, start.next.max(page.next));
    // The status already shows the hold; its version stops before it.
    let version = core.last_change_id().unwrap();
    assert!(version < hold_record_id(&db), "the horizon is below the held-back record");
    let held = common::head(&core, "s").etag;
    assert_eq!(common::head(&core, "s").etag, held, "nothing changed, the same tag");

    // The old transaction writes its record (a smaller id) and commits.
    tx.execute(
        "INSERT INTO changes (id, kind, show_id, seat_ids) VALUES (seatcore_change_id(0), 'blocked', 's', '{A3}')",
        &[],
    )
    .unwrap();
    tx.commit().unwrap();
    // Its record, below the newest, changes the status and so its tag.
    let late = common::head(&core, "s").etag;
    assert_ne!(late, held, "a record that commits late changes the tag");
    assert_eq!(common::head(&core, "s").etag, late);

    // A reader that follows `next` gets both, in id order: the late one first.
    let page = core.history("s", &HistoryQuery { after: page.next, ..HistoryQuery::default() }).unwrap();
    let kinds: Vec<ChangeKind> = page.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::Blocked, ChangeKind::Held], "{:?}", page.changes);
    assert_eq!(page.changes[1].hold_id, Some(hold.hold_id));
    // and the tail across all shows agrees
    let tail = core.changes_after(start.next, 100).unwrap();
    assert_eq!(tail.changes, page.changes);
    let tail = core.shows_changes_after(&["s", "elsewhere"], start.next, 100).unwrap();
    assert_eq!(tail.changes, page.changes);
    assert_eq!(core.shows_changes_after(&["elsewhere"], start.next, 100).unwrap().changes, []);

    // Each record after it changes the tag too, and no other show's does.
    core.initialize_show("other", &["Z1"]).unwrap();
    assert_eq!(common::head(&core, "s").etag, late, "another show's record leaves the tag alone");
    core.hold("s", &["A2"], 60).unwrap();
    assert_ne!(common::head(&core, "s").etag, late, "a hold changes the tag");
}

fn hold_record_id(db: &TestDb) -> i64 {
    let mut c = db.client();
    c.query_one("SELECT max(id) FROM changes WHERE kind = 'held'", &[]).unwrap().get(0)
}
