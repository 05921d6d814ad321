//! Best available: the search for a block of adjacent free seats, on an in-memory copy of a
//! show's map and seat states. Pure: the database part (keeping the copy current, holding
//! the block) is in `ops::best`.
//!
//! A block is `count` seats of one section and row at consecutive positions, all free, all
//! matching the request's filters. Among the blocks, first those that leave no new orphan
//! (a lone free seat with a taken seat, an aisle or the row's end on both sides), then the
//! lowest sum of ranks, then the block that comes first in the map.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::seat_map::{MapEntry, Strings};
use crate::Change;
use crate::ChangeKind;

/// Most seats one best-available hold may take.
pub const MAX_COUNT: usize = 50;

/// What a best-available request asks for besides the count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub category: Option<String>,
    pub section: Option<String>,
    /// `Some(true)`: accessible seats only; `Some(false)`: seats that are not accessible.
    pub accessible: Option<bool>,
}

/// A seat's state in the copy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum State {
    Free,
    Held { hold: Uuid, until: DateTime<Utc> },
    Booked { booking: Uuid },
    Blocked,
}

/// One seat of a row.
#[derive(Debug, Clone)]
struct RowSeat {
    /// Index into the show's seats (seat number − 1).
    seat: u32,
    position: u32,
    rank: f64,
}

#[derive(Debug, Clone)]
struct Row {
    section: String,
    /// Seats by position.
    seats: Vec<RowSeat>,
}

/// A chosen block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    /// Seat indexes (seat number − 1), in position order.
    pub seats: Vec<usize>,
    /// Whether taking it leaves a new orphan.
    pub orphan: bool,
    pub rank_sum: f64,
}

/// A show's map: what never changes. Compact (about 40 bytes a seat): a process keeps the
/// maps of many shows.
pub(crate) struct Map {
    /// The seat ids in one buffer, numbered by seat index, with their lookup.
    seat_ids: Strings,
    /// The category names, stored once each, and each seat's.
    names: Strings,
    categories: Vec<u32>,
    accessible: Vec<bool>,
    rows: Vec<Row>,
}

/// A show's map and the states of its seats at some moment.
pub(crate) struct Model {
    pub map: Arc<Map>,
    pub states: Vec<State>,
}

/// A [`Model`] built one seat at a time, in map order, so a show's copy is made without
/// holding its whole map (or its rows from the database) twice.
pub(crate) struct ModelBuilder {
    seat_ids: Strings,
    names: Strings,
    categories: Vec<u32>,
    accessible: Vec<bool>,
    rows: Vec<Row>,
    /// Rows by the numbers of their section's name and their own in `names`.
    row_of: HashMap<(u32, u32), usize>,
    states: Vec<State>,
}

impl ModelBuilder {
    pub fn new() -> ModelBuilder {
        ModelBuilder {
            seat_ids: Strings::new(),
            names: Strings::new(),
            categories: Vec::new(),
            accessible: Vec::new(),
            rows: Vec::new(),
            row_of: HashMap::new(),
            states: Vec::new(),
        }
    }

    /// Adds the next seat of the map, in `state`.
    pub fn push(&mut self, e: &MapEntry, state: State) {
        let seat = self.states.len() as u32;
        // Seat ids are unique in a map, so each one's number is its seat index.
        self.seat_ids.insert(&e.seat_id);
        self.categories.push(self.names.insert(&e.category).0);
        self.accessible.push(e.accessible);
        self.states.push(state);
        if let (Some(row), Some(position)) = (&e.row, e.position) {
            let key = (self.names.insert(&e.section).0, self.names.insert(row).0);
            let rows = &mut self.rows;
            let i = *self.row_of.entry(key).or_insert_with(|| {
                rows.push(Row { section: e.section.clone(), seats: Vec::new() });
                rows.len() - 1
            });
            rows[i].seats.push(RowSeat { seat, position, rank: e.rank });
        }
    }

    pub fn finish(self) -> Model {
        let mut rows = self.rows;
        for row in &mut rows {
            row.seats.sort_by_key(|s| s.position);
        }
        Model {
            map: Arc::new(Map {
                seat_ids: self.seat_ids,
                names: self.names,
                categories: self.categories,
                accessible: self.accessible,
                rows,
            }),
            states: self.states,
        }
    }
}

impl Model {
    /// The model of a map (in map order) with every seat free.
    #[cfg(test)]
    pub fn new(map: &[MapEntry]) -> Model {
        let mut builder = ModelBuilder::new();
        for e in map {
            builder.push(e, State::Free);
        }
        builder.finish()
    }

    /// The id of the seat at `index`.
    pub fn seat_id(&self, index: usize) -> &str {
        self.map.seat_ids.get(index as u32)
    }

    /// Whether each seat is free at `now`, by seat index: what [`Model::best_of`] reads.
    pub fn free_at(&self, now: DateTime<Utc>) -> Vec<bool> {
        self.states.iter().map(|&state| is_free(state, now)).collect()
    }

    fn matches(&self, seat: usize, f: &Filters, section: &str) -> bool {
        f.category.as_deref().is_none_or(|c| self.map.names.get(self.map.categories[seat]) == c)
            && f.section.as_deref().is_none_or(|s| section == s)
            && f.accessible.is_none_or(|a| self.map.accessible[seat] == a)
    }

    /// The best block of `count` seats at `now`, if any.
    #[cfg(test)]
    pub fn best(&self, count: usize, filters: &Filters, now: DateTime<Utc>) -> Option<Block> {
        self.best_of(&self.free_at(now), count, filters)
    }

    /// The best block of `count` seats among the seats `free` says are free (by seat index,
    /// as [`Model::free_at`] makes it), if any. Several requests decided one after another
    /// share one `free`, each marking the seats it took.
    pub fn best_of(&self, free: &[bool], count: usize, filters: &Filters) -> Option<Block> {
        // The best so far: its key (see `better`), its row and its first seat there; the
        // block itself is made once, for the winner.
        let mut best: Option<((bool, f64, usize), usize, usize)> = None;
        for (r, row) in self.map.rows.iter().enumerate() {
            let seats = &row.seats;
            let mut start = 0;
            while start < seats.len() {
                // A run: free seats at consecutive positions, seats[start..end].
                if !free[seats[start].seat as usize] {
                    start += 1;
                    continue;
                }
                let mut end = start + 1;
                while end < seats.len()
                    && seats[end].position == seats[end - 1].position + 1
                    && free[seats[end].seat as usize]
                {
                    end += 1;
                }
                let run = &seats[start..end];
                if run.len() >= count {
                    for first in 0..=run.len() - count {
                        let block = &run[first..first + count];
                        if !block.iter().all(|s| self.matches(s.seat as usize, filters, &row.section)) {
                            continue;
                        }
                        let left = first;
                        let right = run.len() - first - count;
                        let key = (
                            left == 1 || right == 1,
                            block.iter().map(|s| s.rank).sum(),
                            block[0].seat as usize,
                        );
                        if best.is_none_or(|(b, _, _)| better(key, b)) {
                            best = Some((key, r, start + first));
                        }
                    }
                }
                start = end;
            }
        }
        best.map(|((orphan, rank_sum, _), r, first)| Block {
            seats: self.map.rows[r].seats[first..first + count].iter().map(|s| s.seat as usize).collect(),
            orphan,
            rank_sum,
        })
    }

    /// The seat's index, by id.
    pub fn seat(&self, seat_id: &str) -> Option<usize> {
        self.map.seat_ids.find(seat_id).map(|n| n as usize)
    }

    /// Applies a change of the log (see [`next`]).
    pub fn apply(&mut self, change: &Change) {
        for id in &change.seat_ids {
            if let Some(seat) = self.seat(id) {
                self.states[seat] = next(self.states[seat], change);
            }
        }
    }

    /// Whether each seat is free at `now` once `changes` are applied, by seat index (as
    /// [`Model::free_at`]), the model left as it is.
    pub fn free_after(&self, changes: &[Change], now: DateTime<Utc>) -> Vec<bool> {
        let mut free = self.free_at(now);
        let mut changed: HashMap<usize, State> = HashMap::new();
        for change in changes {
            for seat in change.seat_ids.iter().filter_map(|id| self.seat(id)) {
                let state = changed.get(&seat).copied().unwrap_or(self.states[seat]);
                changed.insert(seat, next(state, change));
            }
        }
        for (seat, state) in changed {
            free[seat] = is_free(state, now);
        }
        free
    }
}

/// Whether a seat in `state` is free at `now`.
fn is_free(state: State, now: DateTime<Utc>) -> bool {
    match state {
        State::Free => true,
        State::Held { until, .. } => until <= now,
        State::Booked { .. } | State::Blocked => false,
    }
}

/// A seat's state after a change of the log that names it. The rules hold whatever order
/// two changes of one seat arrive in when their transactions overlapped: a release or
/// expiry frees only seats still held by that hold, a cancellation only seats booked by
/// that booking.
fn next(state: State, change: &Change) -> State {
    match (change.kind, state) {
        (ChangeKind::Held, _) => match (change.hold_id, change.expires_at) {
            (Some(hold), Some(until)) => State::Held { hold, until },
            _ => state,
        },
        (ChangeKind::Extended, State::Held { hold, .. }) if Some(hold) == change.hold_id => {
            change.expires_at.map_or(state, |until| State::Held { hold, until })
        }
        (ChangeKind::Released | ChangeKind::Expired, State::Held { hold, .. })
            if Some(hold) == change.hold_id =>
        {
            State::Free
        }
        (ChangeKind::Booked, _) => change.booking_id.map_or(state, |booking| State::Booked { booking }),
        (ChangeKind::Cancelled, State::Booked { booking }) if Some(booking) == change.booking_id => {
            State::Free
        }
        (ChangeKind::Blocked, _) => State::Blocked,
        (ChangeKind::Unblocked, State::Blocked) => State::Free,
        (ChangeKind::Reset, State::Held { .. } | State::Booked { .. }) => State::Free,
        _ => state,
    }
}

/// Whether a block is better than another, by their keys: no new orphan first, then the
/// lower sum of ranks, then the first in the map (its first seat's index).
fn better(a: (bool, f64, usize), b: (bool, f64, usize)) -> bool {
    a < b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seat_map::{resolve, MapSeat};

    fn row(n: u32) -> Vec<MapSeat> {
        (1..=n).map(|p| MapSeat::flat(format!("A{p}"))).collect()
    }

    fn model(seats: &[MapSeat], taken: &[&str]) -> Model {
        let mut m = Model::new(&resolve(seats).unwrap());
        for id in taken {
            let i = m.seat(id).unwrap();
            m.states[i] = State::Blocked;
        }
        m
    }

    fn ids(m: &Model, b: &Block) -> Vec<String> {
        b.seats.iter().map(|&i| m.seat_id(i).to_owned()).collect()
    }

    const NOW: DateTime<Utc> = DateTime::UNIX_EPOCH;

    #[test]
    fn middle_seats_first_and_no_new_orphans() {
        // A1..A10 free: two from the middle
        let m = model(&row(10), &[]);
        let b = m.best(2, &Filters::default(), NOW).unwrap();
        assert_eq!(ids(&m, &b), ["A5", "A6"]);
        assert!(!b.orphan);
        // A1..A5 free: the middle pairs (A2 A3, A3 A4) rank best but leave A1 or A5 alone;
        // of the pairs that leave no one alone, A1 A2 and A4 A5 tie: the first in the map
        let m = model(&row(5), &[]);
        let b = m.best(2, &Filters::default(), NOW).unwrap();
        assert_eq!((ids(&m, &b), b.orphan), (vec!["A1".to_string(), "A2".to_string()], false));
        // A1 A2 A3 free, A4.. taken: every pair leaves one alone; the better-ranked goes
        let m = model(&row(6), &["A4", "A5", "A6"]);
        let b = m.best(2, &Filters::default(), NOW).unwrap();
        assert_eq!((ids(&m, &b), b.orphan), (vec!["A2".to_string(), "A3".to_string()], true));
        // when every block leaves an orphan, the best-ranked one is taken anyway
        let m = model(&row(3), &[]);
        let b = m.best(2, &Filters::default(), NOW).unwrap();
        assert!(b.orphan);
        assert_eq!(m.best(4, &Filters::default(), NOW), None);
    }

    #[test]
    fn aisles_break_adjacency_and_filters_apply() {
        let seat = |id: &str, pos: i64, cat: &str, acc: bool| MapSeat {
            seat_id: id.into(),
            row: Some("1".into()),
            position: Some(pos),
            category: Some(cat.into()),
            accessible: Some(acc),
            ..MapSeat::default()
        };
        // positions 1 2 | aisle | 4 5 6
        let m = model(
            &[
                seat("a", 1, "std", false),
                seat("b", 2, "std", false),
                seat("c", 4, "vip", true),
                seat("d", 5, "vip", false),
                seat("e", 6, "vip", false),
            ],
            &[],
        );
        assert_eq!(
            m.best(3, &Filters::default(), NOW).map(|b| ids(&m, &b)),
            Some(vec!["c".into(), "d".into(), "e".into()])
        );
        let vip = Filters { category: Some("vip".into()), ..Filters::default() };
        assert_eq!(m.best(3, &vip, NOW).map(|b| ids(&m, &b)), Some(vec!["c".into(), "d".into(), "e".into()]));
        let std = Filters { category: Some("std".into()), ..Filters::default() };
        assert_eq!(m.best(3, &std, NOW), None, "a run across the aisle is no block");
        let acc = Filters { accessible: Some(true), ..Filters::default() };
        assert_eq!(m.best(1, &acc, NOW).map(|b| ids(&m, &b)), Some(vec!["c".into()]));
        let nope = Filters { category: Some("balcony".into()), ..Filters::default() };
        assert_eq!(m.best(1, &nope, NOW), None);
    }

    #[test]
    fn expired_holds_are_free_and_changes_apply() {
        let mut m = model(&row(4), &[]);
        let hold = Uuid::new_v4();
        let later = NOW + chrono::Duration::seconds(60);
        let change = |kind, seats: &[&str]| Change {
            id: 1,
            at: NOW,
            kind,
            show_id: "s".into(),
            seat_ids: seats.iter().map(|s| s.to_string()).collect(),
            hold_id: Some(hold),
            booking_id: Some(hold),
            expires_at: Some(later),
        };
        m.apply(&change(ChangeKind::Held, &["A2", "A3"]));
        assert_eq!(m.best(3, &Filters::default(), NOW), None);
        assert!(m.best(3, &Filters::default(), later).is_some(), "free once expired");
        // a release of another hold frees nothing
        let mut other = change(ChangeKind::Released, &["A2"]);
        other.hold_id = Some(Uuid::new_v4());
        m.apply(&other);
        assert!(!m.free_at(NOW)[1]);
        m.apply(&change(ChangeKind::Released, &["A2", "A3"]));
        assert!(m.free_at(NOW)[1] && m.free_at(NOW)[2]);
        m.apply(&change(ChangeKind::Blocked, &["A1"]));
        m.apply(&change(ChangeKind::Reset, &["A1"]));
        assert!(!m.free_at(NOW)[0], "a reset leaves blocks");
    }
}
