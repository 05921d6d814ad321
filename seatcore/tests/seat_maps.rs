//! Seat maps, blocked seats and best-available holds against a real PostgreSQL: many
//! threads and processes at once, with the rows checked by the audit and the log of grants
//! checked for the orphan rule.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use seatcore::seat_map::{MapEntry, MapJson, MapSeat};
use seatcore::testing::TestDb;
use seatcore::{BestFilters, ChangeKind, Error, ErrorKind, Options, SeatCore, SeatState};

use common::{in_threads, reported, spawn_child};

fn core(db: &TestDb, pool: u32) -> SeatCore {
    SeatCore::connect(&db.url, Options { pool_size: pool, ..Options::default() }).unwrap()
}

/// A fresh schema with the show `s` of `seats`, and a core with a pool of `pool` connections.
fn setup<S: AsRef<str>>(label: &str, pool: u32, seats: &[S]) -> (TestDb, SeatCore) {
    let db = TestDb::new(label);
    let core = core(&db, pool);
    core.initialize_show("s", seats).unwrap();
    (db, core)
}

fn assert_audit(core: &SeatCore, show: &str) {
    let audit = core.audit(Some(show)).unwrap();
    assert!(audit.summary.ok, "{:?}", audit.problems);
}

fn ids(hold: &seatcore::Hold) -> Vec<&str> {
    hold.seat_ids.iter().map(String::as_str).collect()
}

#[test]
fn flat_and_structured_maps() {
    let db = TestDb::new("maps_read");
    let core = core(&db, 2);
    core.initialize_show("flat", &["B1", "B2", "B3", "A1", "A2", "VIP"]).unwrap();
    let map = core.seat_map("flat").unwrap();
    let row_of = |id: &str| {
        let e = map.seats.iter().find(|e| e.seat_id == id).unwrap();
        (e.row.clone(), e.position, e.rank)
    };
    assert_eq!(
        map.seats.iter().map(|e| e.seat_id.as_str()).collect::<Vec<_>>(),
        ["B1", "B2", "B3", "A1", "A2", "VIP"]
    );
    assert_eq!(row_of("B2").0.as_deref(), Some("B"));
    assert!(row_of("B2").2 < row_of("B1").2, "middle first");
    assert!(row_of("B3").2 < row_of("A1").2, "B came first: it is the front row");
    assert_eq!((row_of("VIP").0, row_of("VIP").1), (None, None));
    let json = serde_json::to_value(&map).unwrap();
    assert_eq!(json["show_id"], "flat");
    assert_eq!(
        json["seats"][5],
        serde_json::json!({
            "seat_id": "VIP", "section": "", "row": null, "position": null, "category": "standard",
            "accessible": false, "rank": json["seats"][5]["rank"],
        })
    );

    let seat = |id: &str, section: &str, row: &str, pos: i64, cat: &str| MapSeat {
        seat_id: id.into(),
        section: Some(section.into()),
        row: Some(row.into()),
        position: Some(pos),
        category: Some(cat.into()),
        accessible: Some(pos == 1),
        rank: None,
        derive_place: false,
    };
    let seats = vec![
        seat("s-1-1", "stalls", "1", 1, "premium"),
        seat("s-1-2", "stalls", "1", 2, "premium"),
        seat("b-1-1", "balcony", "1", 1, "standard"),
    ];
    assert_eq!(core.initialize_map("structured", &seats).unwrap(), 3);
    let map = core.seat_map("structured").unwrap();
    assert_eq!((map.seats[2].section.as_str(), map.seats[0].accessible), ("balcony", true));
    // a flat list's map derives from its ids and is not stored; a structured one is
    let stored = |show: &str| -> i64 {
        db.client().query_one("SELECT count(*) FROM seat_map WHERE show_id = $1", &[&show]).unwrap().get(0)
    };
    assert_eq!((stored("flat"), stored("structured")), (0, 3));
    // a stored map's seats are those it has a row for (a row lost behind seatcore's back
    // leaves its seat out; the read does not fail)
    db.client().execute("DELETE FROM seat_map WHERE show_id = 'structured' AND seat_no = 3", &[]).unwrap();
    assert_eq!(core.seat_map("structured").unwrap().seats.len(), 2);
    assert_eq!(core.seat_map("nope").unwrap_err().kind(), ErrorKind::ShowNotFound);
    // a place taken twice in a row is refused, with the seat's index; nothing is written
    let clash = vec![seat("x1", "s", "1", 1, "c"), seat("x2", "s", "1", 1, "c")];
    let err = core.initialize_map("clash", &clash).unwrap_err();
    assert_eq!(err.input().and_then(|e| e.index()), Some(1), "{err}");
    assert_eq!(core.seat_map("clash").unwrap_err().kind(), ErrorKind::ShowNotFound);
}

/// The map of a show, read seat by seat as the rows arrive, written by `MapJson`.
fn streamed_map(core: &SeatCore, show: &str) -> (u64, Vec<MapEntry>, Vec<u8>) {
    let (mut seats, mut json) = (Vec::new(), MapJson::new(Vec::new(), show).unwrap());
    let n = core
        .seat_map_each(show, |seat| {
            seats.push(seat.to_entry());
            json.seat(&seat).unwrap();
        })
        .unwrap();
    (n, seats, json.finish().unwrap())
}

#[test]
fn maps_read_seat_by_seat_equal_the_whole_map() {
    let db = TestDb::new("maps_streamed");
    let core = core(&db, 2);
    // a derived map of several rows (ids against their text order), and a stored one with
    // every field set, sections and rows interleaved, some seats without a row
    let flat: Vec<String> = (0..3_000).map(|i| format!("{}{}", ["C", "A", "B"][i % 3], 3_000 - i)).collect();
    core.initialize_show("flat", &flat).unwrap();
    let stored: Vec<MapSeat> = (0..2_500i64)
        .map(|i| MapSeat {
            seat_id: format!("seat-{}", 2_500 - i),
            section: Some(["stalls", "circle"][(i % 2) as usize].into()),
            row: (i % 10 != 9).then(|| format!("r{}", i % 7)),
            position: (i % 10 != 9).then_some(i),
            category: Some(["standard", "premium", "wheelchair"][(i % 3) as usize].into()),
            accessible: Some(i % 3 == 2),
            rank: (i % 4 == 0).then_some(i as f64 / 3.0),
            derive_place: false,
        })
        .collect();
    core.initialize_map("stored", &stored).unwrap();
    for (show, len) in [("flat", 3_000), ("stored", 2_500)] {
        let whole = core.seat_map(show).unwrap();
        let (n, seats, json) = streamed_map(&core, show);
        assert_eq!((n, whole.seats.len()), (len, len as usize), "{show}");
        assert_eq!(seats, whole.seats, "{show}: the same seats in the same order");
        assert_eq!(json, serde_json::to_vec(&whole).unwrap(), "{show}: the same document");
    }
    let whole = core.seat_map("stored").unwrap();
    assert_eq!(whole.seats[0].seat_id, "seat-2500");
    assert_eq!(whole.seats[9].row, None);
    assert_eq!(whole.seats[7].category, "premium");
    assert_eq!(whole.seats[4].rank, 4.0 / 3.0);
    // an unknown show: no seat handed over
    let mut called = false;
    let err = core.seat_map_each("nope", |_| called = true).unwrap_err();
    assert_eq!((err.kind(), called), (ErrorKind::ShowNotFound, false));
}

#[test]
fn blocked_seats() {
    let (db, core) = setup("maps_blocked", 2, &["A1", "A2", "A3", "A4"]);
    let held = core.hold("s", &["A1"], 60).unwrap();
    assert_eq!(core.block("s", &[" A2 ", "A3"], Some("broken")).unwrap(), ["A2", "A3"]);
    core.block("s", &["A2"], None).unwrap(); // again: fine
    let status = core.seat_status("s").unwrap();
    let states: Vec<SeatState> = status.seats.iter().map(|s| s.state).collect();
    assert_eq!(states, [SeatState::Held, SeatState::Blocked, SeatState::Blocked, SeatState::Available]);
    assert_eq!((status.counts.blocked, status.counts.available), (2, 1));
    assert!(status.counts.invariants_valid);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(
        (json["blocked_seats"].as_u64(), json["seats"][1]["status"].as_str()),
        (Some(2), Some("blocked"))
    );

    // holds refuse blocked seats like taken ones; blocks refuse held or booked seats
    match core.hold("s", &["A3", "A4"], 60) {
        Err(Error::SeatsUnavailable { seat_ids }) => assert_eq!(seat_ids, ["A3"]),
        other => panic!("{other:?}"),
    }
    match core.block("s", &["A4", "A1"], None) {
        Err(Error::SeatsUnavailable { seat_ids }) => assert_eq!(seat_ids, ["A1"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(core.seat_status("s").unwrap().seats[3].state, SeatState::Available, "all or none");
    assert_eq!(core.block("s", &["A9"], None).unwrap_err().kind(), ErrorKind::InvalidSeatIds);
    assert_eq!(core.block("nope", &["A1"], None).unwrap_err().kind(), ErrorKind::ShowNotFound);
    assert_eq!(core.block("s", &["A4"], Some("x\u{0}")).unwrap_err().kind(), ErrorKind::InvalidInput);

    // a reset leaves blocks; an unblock frees them
    core.book("s", &held.hold_id.to_string()).unwrap();
    core.reset_all().unwrap();
    assert_eq!(core.seat_status("s").unwrap().counts.blocked, 2);
    assert_eq!(core.unblock("s", &["A2", "A3"]).unwrap(), ["A2", "A3"]);
    assert_eq!(core.seat_status("s").unwrap().counts.available, 4);
    assert_eq!(core.unblock("s", &["A2", "Z"]).unwrap_err().kind(), ErrorKind::InvalidSeatIds);
    let kinds: Vec<ChangeKind> = db.settled_history(&core, "s", None).iter().map(|c| c.kind).collect();
    use ChangeKind::*;
    assert_eq!(kinds, [Initialized, Held, Blocked, Blocked, Booked, Reset, Unblocked]);
    assert_audit(&core, "s");
}

/// A block racing holds on the same seats: every seat ends blocked or held, never both,
/// and every acknowledged block and hold is in force.
#[test]
fn blocks_racing_holds_never_share_a_seat() {
    let seats: Vec<String> = (1..=60).map(|i| format!("S{i}")).collect();
    let (_db, core) = setup("maps_block_race", 16, &seats);
    let taken = in_threads(16, |t, barrier| {
        barrier.wait();
        let mut blocked = Vec::new();
        let mut held = Vec::new();
        for i in 0..40 {
            let pair = [seats[(t * 7 + i * 3) % 60].clone(), seats[(t * 11 + i * 5 + 1) % 60].clone()];
            if pair[0] == pair[1] {
                continue;
            }
            if (t + i) % 2 == 0 {
                match core.block("s", &pair, Some("race")) {
                    Ok(_) => blocked.extend(pair),
                    Err(Error::SeatsUnavailable { .. }) => {}
                    Err(e) => panic!("block: {e}"),
                }
            } else {
                match core.hold("s", &pair, 600) {
                    Ok(_) => held.extend(pair),
                    Err(Error::SeatsUnavailable { .. }) => {}
                    Err(e) => panic!("hold: {e}"),
                }
            }
        }
        (blocked, held)
    });
    let (mut blocked, mut held) = (HashSet::new(), HashSet::new());
    for (b, h) in taken {
        blocked.extend(b);
        held.extend(h);
    }
    assert!(blocked.is_disjoint(&held), "a seat both blocked and held: {:?}", blocked.intersection(&held));
    let status = core.seat_status("s").unwrap();
    for s in &status.seats {
        match s.state {
            SeatState::Blocked => assert!(blocked.contains(&s.seat_id), "{} blocked by no one", s.seat_id),
            SeatState::Held => assert!(held.contains(&s.seat_id), "{} held by no one", s.seat_id),
            _ => assert!(!blocked.contains(&s.seat_id) && !held.contains(&s.seat_id), "{} lost", s.seat_id),
        }
    }
    assert!(!blocked.is_empty() && !held.is_empty());
    assert_audit(&core, "s");
}

#[test]
fn best_available_in_order() {
    // one row of 10; A4 taken
    let seats: Vec<String> = (1..=10).map(|i| format!("A{i}")).collect();
    let (_db, core) = setup("maps_best", 2, &seats);
    core.hold("s", &["A4"], 600).unwrap();
    let none = BestFilters::default();
    // free runs A1-A3 and A5-A10; 3 seats: A1-A3 leaves nothing alone but ranks worse than
    // A6-A8 (leaves A5 alone) and A7-A9 (leaves A10 alone); A5-A7 and A8-A10 leave no one
    let h = core.hold_best("s", 3, &none, 60).unwrap();
    assert_eq!(ids(&h), ["A5", "A6", "A7"]);
    // A1-A3 and A8-A10 free: every pair leaves a seat alone; A2 A3 and A8 A9 rank best
    // and tie: the first in the map
    let h = core.hold_best("s", 2, &none, 60).unwrap();
    assert_eq!(ids(&h), ["A2", "A3"]);
    // A1 alone, A8-A10: A9 would leave two lone seats; A8 ranks better than A1 and A10
    let h = core.hold_best("s", 1, &none, 60).unwrap();
    assert_eq!(ids(&h), ["A8"]);
    assert_eq!(core.hold_best("s", 3, &none, 60).unwrap_err().kind(), ErrorKind::NoAdjacentSeats);
    assert_eq!(core.hold_best("s", 0, &none, 60).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(core.hold_best("s", 51, &none, 60).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(core.hold_best("nope", 1, &none, 60).unwrap_err().kind(), ErrorKind::ShowNotFound);
    let balcony = BestFilters { category: Some("balcony".into()), ..BestFilters::default() };
    assert_eq!(core.hold_best("s", 1, &balcony, 60).unwrap_err().kind(), ErrorKind::NoAdjacentSeats);
    // a best-available hold is a hold like any other
    let h = core.hold_best_with_key("s", 1, &none, 60, Some("k1")).unwrap();
    assert_eq!(
        core.hold_best_with_key("s", 1, &none, 60, Some("k1")).unwrap().hold_id,
        h.hold_id,
        "retried by key"
    );
    core.release("s", &h.hold_id.to_string()).unwrap();
    let h = core.hold_best("s", 1, &none, 60).unwrap();
    core.book("s", &h.hold_id.to_string()).unwrap();
    assert_audit(&core, "s");
}

/// Best-available requests made together (one transaction) choose exactly what they would
/// choose one after another, each on what the ones before it left; a request that fits
/// nowhere, or whose input is bad, gets its own answer and the others theirs.
#[test]
fn best_available_requests_made_together_choose_as_in_turn() {
    let db = TestDb::new("maps_best_group");
    let core = core(&db, 2);
    // two rows of 12, seats 5 and 9 of row A taken
    let seats: Vec<String> =
        ["A", "B"].iter().flat_map(|r| (1..=12).map(move |i| format!("{r}{i}"))).collect();
    let none = BestFilters::default();
    let wanted = [3, 4, 2, 30, 0, 4, 1, 3];
    let mut chosen = Vec::new();
    for show in ["together", "in_turn"] {
        core.initialize_show(show, &seats).unwrap();
        core.hold(show, &["A5"], 600).unwrap();
        core.hold(show, &["A9"], 600).unwrap();
        let answers: Vec<Result<seatcore::Hold, Error>> = if show == "together" {
            let requests: Vec<(usize, &BestFilters, i64)> = wanted.iter().map(|&n| (n, &none, 600)).collect();
            core.hold_best_together(show, &requests)
        } else {
            wanted.iter().map(|&n| core.hold_best(show, n, &none, 600)).collect()
        };
        let outcomes: Vec<Result<Vec<String>, ErrorKind>> =
            answers.iter().map(|a| a.as_ref().map(|h| h.seat_ids.clone()).map_err(Error::kind)).collect();
        chosen.push(outcomes);
    }
    assert_eq!(chosen[0], chosen[1], "together, each request chose what it chooses in turn");
    let together = &chosen[0];
    assert_eq!(together[3], Err(ErrorKind::NoAdjacentSeats), "30 seats fit in no row");
    assert_eq!(together[4], Err(ErrorKind::InvalidInput), "a count of 0");
    let granted: Vec<&Vec<String>> = together.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(granted.len(), 6);
    let mut seen = HashSet::new();
    for block in &granted {
        assert!(block.iter().all(|s| seen.insert(s.clone())), "no seat in two holds: {block:?}");
    }
    // one transaction recorded them, in the order of the requests
    let held: Vec<seatcore::Change> = db
        .settled_history(&core, "together", None)
        .into_iter()
        .filter(|c| c.kind == ChangeKind::Held && c.seat_ids[..] != ["A5"] && c.seat_ids[..] != ["A9"])
        .collect();
    assert_eq!(held.iter().map(|c| &c.seat_ids).collect::<Vec<_>>(), granted);
    assert!(held.iter().all(|c| c.id >> 20 == held[0].id >> 20), "one transaction");
    assert_audit(&core, "together");
}

/// The state of a show replayed from its log, for the orphan check.
#[derive(Clone, Default)]
struct Replay {
    /// seat id → holder (hold or booking id) or blocked
    taken: HashMap<String, String>,
}

impl Replay {
    fn apply(&mut self, c: &seatcore::Change) {
        let holder = c.hold_id.map(|h| h.to_string()).unwrap_or_default();
        for s in &c.seat_ids {
            match c.kind {
                ChangeKind::Held | ChangeKind::Booked => {
                    self.taken.insert(s.clone(), holder.clone());
                }
                ChangeKind::Released | ChangeKind::Expired if self.taken.get(s) == Some(&holder) => {
                    self.taken.remove(s);
                }
                _ => {}
            }
        }
    }
}

/// Whether `row` (seat ids in position order, all adjacent) has a free block of `n` that
/// leaves no new lone seat, given `taken`.
fn orphan_free_block_exists(rows: &[Vec<String>], taken: &HashMap<String, String>, n: usize) -> bool {
    rows.iter().any(|row| {
        let free: Vec<bool> = row.iter().map(|s| !taken.contains_key(s)).collect();
        (0..=row.len().saturating_sub(n)).any(|start| {
            let end = start + n;
            if end > row.len() || !free[start..end].iter().all(|f| *f) {
                return false;
            }
            let left = free[..start].iter().rev().take_while(|f| **f).count();
            let right = free[end..].iter().take_while(|f| **f).count();
            left != 1 && right != 1
        })
    })
}

/// Whether taking `block` leaves a new lone seat in its row.
fn makes_orphan(row: &[String], taken: &HashMap<String, String>, block: &[String]) -> bool {
    let start = row.iter().position(|s| *s == block[0]).unwrap();
    let end = start + block.len();
    assert_eq!(&row[start..end], block, "a granted block is adjacent seats in position order");
    let free: Vec<bool> = row.iter().map(|s| !taken.contains_key(s)).collect();
    let left = free[..start].iter().rev().take_while(|f| **f).count();
    let right = free[end..].iter().take_while(|f| **f).count();
    left == 1 || right == 1
}

/// 32 clients take best-available blocks (1 to 6 seats) of a 2,000-seat show until it is
/// sold out, booking most: no seat in two holds, every block adjacent, and a block that
/// leaves a lone seat only when no block that did not was free at that moment (checked on
/// the log of grants, in order). Then releases are mixed in, and the show still ends with
/// every seat taken that a request could take.
#[test]
fn thirty_two_clients_sell_out_a_show_without_needless_orphans() {
    let db = TestDb::new("maps_best_crowd");
    let core = core(&db, 32);
    // 50 rows of 40 seats, two sections
    let mut seats = Vec::new();
    for r in 0..50 {
        for p in 1..=40 {
            seats.push(MapSeat {
                seat_id: format!("R{r}-{p}"),
                section: Some(if p <= 20 { "left" } else { "right" }.into()),
                row: Some(format!("R{r}")),
                position: Some(p),
                ..MapSeat::default()
            });
        }
    }
    core.initialize_map("s", &seats).unwrap();
    let map = core.seat_map("s").unwrap();
    let mut rows: BTreeMap<(String, String), Vec<(u32, String)>> = BTreeMap::new();
    for e in &map.seats {
        rows.entry((e.section.clone(), e.row.clone().unwrap()))
            .or_default()
            .push((e.position.unwrap(), e.seat_id.clone()));
    }
    let rows: Vec<Vec<String>> = rows
        .into_values()
        .map(|mut r| {
            r.sort();
            r.into_iter().map(|(_, id)| id).collect()
        })
        .collect();
    let row_of: HashMap<String, usize> =
        rows.iter().enumerate().flat_map(|(i, r)| r.iter().map(move |s| (s.clone(), i))).collect();

    // Phase 1: grants and bookings only, so the state only moves from free to taken.
    let grants: Mutex<HashMap<seatcore::Uuid, usize>> = Mutex::default();
    let run = |with_releases: bool| {
        in_threads(32, |t, _| {
            let mut rng = fastrand::Rng::with_seed(t as u64 + if with_releases { 100 } else { 0 });
            let mut refused_in_a_row = 0;
            while refused_in_a_row < 3 {
                let n = rng.usize(1..=6);
                match core.hold_best("s", n, &BestFilters::default(), 600) {
                    Ok(h) => {
                        refused_in_a_row = 0;
                        assert_eq!(h.seat_ids.len(), n);
                        grants.lock().unwrap().insert(h.hold_id, n);
                        if with_releases && rng.u8(..) < 60 {
                            core.release("s", &h.hold_id.to_string()).unwrap();
                        } else if rng.u8(..) < 200 {
                            core.book("s", &h.hold_id.to_string()).unwrap();
                        }
                    }
                    Err(Error::NoAdjacentSeats) => refused_in_a_row += 1,
                    Err(e) => panic!("hold-best: {e}"),
                }
            }
        })
    };
    run(false);
    let changes = db.settled_history(&core, "s", None);
    let grants_made = grants.lock().unwrap().clone();
    let mut state = Replay::default();
    let mut checked = 0;
    for c in &changes {
        if c.kind == ChangeKind::Held {
            let n = grants_made[&c.hold_id.unwrap()];
            let row = &rows[row_of[&c.seat_ids[0]]];
            if makes_orphan(row, &state.taken, &c.seat_ids) {
                assert!(
                    !orphan_free_block_exists(&rows, &state.taken, n),
                    "grant {:?} left a lone seat while a block of {n} that did not was free",
                    c.seat_ids
                );
            }
            checked += 1;
        }
        state.apply(c);
    }
    assert_eq!(checked, grants_made.len(), "every grant is in the log");
    // Phase 2: releases mixed in, until nothing fits again.
    run(true);
    let status = core.seat_status("s").unwrap();
    let taken: HashMap<String, String> = status
        .seats
        .iter()
        .filter(|s| s.state != SeatState::Available)
        .map(|s| (s.seat_id.clone(), String::new()))
        .collect();
    assert!(!orphan_free_block_exists(&rows, &taken, 1), "a free seat is left that any request could take");
    assert_audit(&core, "s");
}

/// Best-available holds of two processes on one show never share a seat.
#[test]
fn two_processes_share_one_show() {
    let seats: Vec<String> = (0..400).map(|i| format!("R{}X{}", i / 20, i % 20 + 1)).collect();
    let (db, core) = setup("maps_best_procs", 4, &seats);
    let child = |seed: &str| {
        spawn_child("best_available_child", &[("SEATCORE_CHILD_URL", &db.url), ("SEATCORE_CHILD_SEED", seed)])
    };
    let children = [child("0"), child("1")];
    // this process takes blocks too, meanwhile
    let mut mine = Vec::new();
    while let Ok(h) = core.hold_best("s", 3, &BestFilters::default(), 600) {
        mine.extend(h.seat_ids);
    }
    let mut all: Vec<String> = mine;
    for child in children {
        all.extend(reported(child, "SEATS "));
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "a seat was granted twice");
    assert_eq!(core.seat_status("s").unwrap().counts.held as usize, all.len());
    assert_audit(&core, "s");
}

/// The body of the child processes of `two_processes_share_one_show`.
#[test]
#[ignore = "the body of a child process of two_processes_share_one_show, which runs it"]
fn best_available_child() {
    let url = std::env::var("SEATCORE_CHILD_URL").expect("started by a multi-process test");
    let seed: usize = std::env::var("SEATCORE_CHILD_SEED").unwrap().parse().unwrap();
    let core = SeatCore::connect(&url, Options { pool_size: 2, ..Options::default() }).unwrap();
    let mut mine = Vec::new();
    loop {
        match core.hold_best("s", 1 + seed % 2, &BestFilters::default(), 600) {
            Ok(h) => mine.extend(h.seat_ids),
            Err(Error::NoAdjacentSeats) => break,
            Err(e) => panic!("{e}"),
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("\nSEATS {}", mine.join(","));
}
