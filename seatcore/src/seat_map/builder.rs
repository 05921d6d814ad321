//! The compact form of a seat map, built one seat at a time.
//!
//! A 200,000-seat map is checked and settled without a string per seat: every seat id lives
//! in one buffer (with the end of each), section, row and category names are stored once
//! each, and each seat is a fixed record of name numbers, a row number, a position and
//! flags. Duplicates are found with a hash table over the id buffer, taken places with a set
//! of (row, position), and default ranks from one (lowest, highest position) entry per row,
//! rows numbered in the order they first appear.
//!
//! The checks and their order are [`resolve`](super::resolve)'s, which is built on this.

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry, HashTable};
use hashbrown::{DefaultHashBuilder, HashMap, HashSet};

use super::{default_rank, derived_place_str, rowless_rank, MapEntry, MAX_NAME_CHARS};
use crate::error::InputError;
use crate::validate;

/// Where a problem stands in the order problems are reported: no seats or too many first,
/// then every problem of an earlier stage before any of a later one, and within a stage the
/// first seat's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// A map's element the caller could not read as a seat (of the wrong JSON type).
    Shape,
    /// A seat's own fields (for a flat list, an element that is not a string too).
    Seat,
    /// A seat against the seats before it: a repeated id, a place in a row already taken.
    Clash,
}

/// A seat as a caller describes it, borrowed: what [`MapBuilder::push`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SeatSpec<'a> {
    pub seat_id: &'a str,
    pub section: Option<&'a str>,
    pub row: Option<&'a str>,
    pub position: Option<i64>,
    pub category: Option<&'a str>,
    pub accessible: Option<bool>,
    pub rank: Option<f64>,
    /// Take the row and position from the seat id (a seat of a flat list of ids).
    pub derive_place: bool,
}

/// Strings stored once each, in one buffer, numbered in the order they were first stored.
pub(crate) struct Strings {
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<u32>,
    /// The numbers of the strings, by hash; emptied once nothing more is looked up.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

fn slice<'t>(text: &'t str, ends: &[u32], n: u32) -> &'t str {
    let n = n as usize;
    let start = if n == 0 { 0 } else { ends[n - 1] as usize };
    &text[start..ends[n] as usize]
}

impl Strings {
    pub(crate) fn new() -> Strings {
        Strings {
            text: String::new(),
            ends: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    pub(crate) fn get(&self, n: u32) -> &str {
        slice(&self.text, &self.ends, n)
    }

    /// The number of `s`, if it is stored (and not sealed).
    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        self.index.find(self.hasher.hash_one(s), |&n| self.get(n) == s).copied()
    }

    /// The number of `s`, stored now if it is new; and whether it was new.
    pub(crate) fn insert(&mut self, s: &str) -> (u32, bool) {
        let Strings { text, ends, index, hasher } = self;
        let hash = hasher.hash_one(s);
        let entry =
            index.entry(hash, |&n| slice(text, ends, n) == s, |&n| hasher.hash_one(slice(text, ends, n)));
        match entry {
            Entry::Occupied(e) => (*e.get(), false),
            Entry::Vacant(e) => {
                let n = ends.len() as u32;
                text.push_str(s);
                ends.push(text.len() as u32);
                e.insert(n);
                (n, true)
            }
        }
    }

    /// Lets go of the lookup table: the strings are only read from now on.
    fn seal(&mut self) {
        self.index = HashTable::new();
    }

    fn clear(&mut self) {
        *self = Strings::new();
    }
}

/// No row: the seat is in no row.
const NO_ROW: u32 = u32::MAX;
const HAS_POSITION: u8 = 1;
const ACCESSIBLE: u8 = 2;

/// One seat, settled: numbers of its names, its row (in the order rows first appear), its
/// position and flags.
#[derive(Debug, Clone, Copy)]
struct Slot {
    section: u32,
    category: u32,
    row: u32,
    position: u32,
    flags: u8,
}

/// A row of the map: its name, and its lowest and highest positions.
#[derive(Debug, Clone, Copy)]
struct Row {
    name: u32,
    lo: u32,
    hi: u32,
}

/// A seat's fields once checked, before it is compared with the seats before it.
struct Checked<'a> {
    seat_id: &'a str,
    section: &'a str,
    category: &'a str,
    row: Option<&'a str>,
    position: Option<u32>,
    derived: bool,
    accessible: bool,
    rank: Option<f64>,
}

/// Checks and settles a seat map one seat at a time, keeping it compact (see the module's
/// documentation). [`MapBuilder::finish`] gives the settled map, or the first problem in
/// [`resolve`](super::resolve)'s order: too few or too many seats; then the first seat
/// whose own fields are wrong; then the first seat that repeats an id or takes a place of a
/// row that an earlier seat has (a flat seat whose derived place is taken simply has no
/// row). Once a problem is known the seats are only counted and checked, not stored.
pub struct MapBuilder {
    /// A flat list of ids (an empty one is "no seats"), or a map ("no map seats").
    flat: bool,
    max: usize,
    /// Seats given, those past `max` included.
    given: usize,
    ids: Strings,
    names: Strings,
    seats: Vec<Slot>,
    /// The ranks given, `NaN` for a seat without one; empty while no seat has given one.
    ranks: Vec<f64>,
    rows: Vec<Row>,
    row_numbers: HashMap<(u32, u32), u32>,
    /// (row << 32) | position of every seat in a row.
    places: HashSet<u64>,
    /// The first problem of each stage after `Count`.
    shape: Option<InputError>,
    seat: Option<InputError>,
    clash: Option<InputError>,
}

impl MapBuilder {
    /// A builder for a flat list of seat ids (each seat's row and position come from its
    /// id), of at most [`validate::MAX_SEATS_PER_SHOW`] seats.
    pub fn ids() -> MapBuilder {
        MapBuilder::new(true, validate::MAX_SEATS_PER_SHOW)
    }

    /// A builder for a structured map, of at most [`validate::MAX_SEATS_PER_SHOW`] seats.
    pub fn map() -> MapBuilder {
        MapBuilder::new(false, validate::MAX_SEATS_PER_SHOW)
    }

    pub(crate) fn new(flat: bool, max: usize) -> MapBuilder {
        let mut names = Strings::new();
        // Numbers 0 and 1: the default section and category.
        names.insert("");
        names.insert("standard");
        MapBuilder {
            flat,
            max,
            given: 0,
            ids: Strings::new(),
            names,
            seats: Vec::new(),
            ranks: Vec::new(),
            rows: Vec::new(),
            row_numbers: HashMap::new(),
            places: HashSet::new(),
            shape: None,
            seat: None,
            clash: None,
        }
    }

    /// Makes room for `seats` seats whose ids take `id_bytes` bytes together, so that the
    /// map's lists are allocated once rather than grown (each growth copies the list and
    /// leaves the old copy to the allocator). More than is used costs address space only:
    /// pages are resident once written.
    pub fn reserve(&mut self, seats: usize, id_bytes: usize) {
        let seats = seats.min(self.max);
        self.seats.reserve(seats.saturating_sub(self.seats.len()));
        self.ids.ends.reserve(seats.saturating_sub(self.ids.ends.len()));
        self.ids.text.reserve(id_bytes.saturating_sub(self.ids.text.len()));
    }

    /// How many seats were given so far: the index of the next one.
    pub fn len(&self) -> usize {
        self.given
    }

    /// Whether no seat was given.
    pub fn is_empty(&self) -> bool {
        self.given == 0
    }

    /// Adds a seat of a flat list: its id (trimmed here), its row and position derived.
    pub fn push_id(&mut self, raw: &str) {
        self.push(SeatSpec { seat_id: raw, derive_place: true, ..SeatSpec::default() })
    }

    /// Adds a seat.
    pub fn push(&mut self, seat: SeatSpec<'_>) {
        let index = self.given;
        self.given += 1;
        if index >= self.max || self.shape.is_some() || self.seat.is_some() {
            return;
        }
        match check(index, &seat) {
            Ok(checked) => {
                if self.clash.is_none() {
                    if let Err(e) = self.place(index, checked) {
                        self.clash = Some(e);
                        self.discard();
                    }
                }
            }
            Err(e) => {
                self.seat = Some(e);
                self.discard();
            }
        }
    }

    /// Adds an element the caller could not read as a seat, and why (its index is
    /// [`MapBuilder::len`] before the call). In a flat list it ranks with the problems of
    /// seats' own fields; in a map, before them.
    pub fn push_unreadable(&mut self, problem: InputError) {
        let index = self.given;
        self.given += 1;
        if index >= self.max {
            return;
        }
        let first = if self.flat { &mut self.seat } else { &mut self.shape };
        if first.is_none() {
            *first = Some(problem);
            self.discard();
        }
    }

    /// The first problem of the stages up to `through`, in order.
    pub(crate) fn check(&self, through: Stage) -> Result<(), InputError> {
        if self.given == 0 {
            return Err(if self.flat { InputError::NoSeats } else { InputError::NoMapSeats });
        }
        validate::seat_count(self.given, self.max)?;
        for (stage, problem) in
            [(Stage::Shape, &self.shape), (Stage::Seat, &self.seat), (Stage::Clash, &self.clash)]
        {
            if stage <= through {
                if let Some(e) = problem {
                    return Err(e.clone());
                }
            }
        }
        Ok(())
    }

    /// The settled map, or its first problem.
    pub fn finish(mut self) -> Result<Layout, InputError> {
        self.check(Stage::Clash)?;
        self.ids.seal();
        self.names.seal();
        Ok(Layout {
            flat: self.flat,
            ids: self.ids,
            names: self.names,
            seats: self.seats,
            ranks: self.ranks,
            rows: self.rows,
        })
    }

    /// Compares a checked seat with the seats before it, and stores it.
    fn place(&mut self, index: usize, seat: Checked<'_>) -> Result<(), InputError> {
        if !self.ids.insert(seat.seat_id).1 {
            return Err(InputError::DuplicateSeatIds);
        }
        let section = self.names.insert(seat.section).0;
        let category = self.names.insert(seat.category).0;
        let mut slot = Slot { section, category, row: NO_ROW, position: 0, flags: 0 };
        if let Some(p) = seat.position {
            slot.position = p;
            slot.flags |= HAS_POSITION;
        }
        if seat.accessible {
            slot.flags |= ACCESSIBLE;
        }
        if let (Some(row), Some(p)) = (seat.row, seat.position) {
            let name = self.names.insert(row).0;
            let next = self.rows.len() as u32;
            let number = *self.row_numbers.entry((section, name)).or_insert(next);
            if number == next {
                self.rows.push(Row { name, lo: p, hi: p });
            }
            if self.places.insert(u64::from(number) << 32 | u64::from(p)) {
                let row = &mut self.rows[number as usize];
                row.lo = row.lo.min(p);
                row.hi = row.hi.max(p);
                slot.row = number;
            } else if seat.derived {
                // A flat seat whose derived place is taken has no row.
                slot.position = 0;
                slot.flags &= !HAS_POSITION;
            } else {
                return Err(InputError::PositionTaken { index });
            }
        }
        if let Some(rank) = seat.rank {
            if self.ranks.is_empty() {
                self.ranks.resize(self.seats.len(), f64::NAN);
            }
            self.ranks.push(rank);
        } else if !self.ranks.is_empty() {
            self.ranks.push(f64::NAN);
        }
        self.seats.push(slot);
        Ok(())
    }

    /// Lets go of what was stored: a map with a problem is never written.
    fn discard(&mut self) {
        self.ids.clear();
        self.seats = Vec::new();
        self.ranks = Vec::new();
        self.places = HashSet::new();
    }
}

/// Checks a seat's own fields, in [`resolve`](super::resolve)'s order.
fn check<'a>(index: usize, seat: &SeatSpec<'a>) -> Result<Checked<'a>, InputError> {
    let seat_id = validate::seat_id_str(index, seat.seat_id)?;
    let section = name(index, "section", seat.section, "")?;
    let category = name(index, "category", seat.category, "standard")?;
    let mut row = match seat.row {
        Some("") => return Err(InputError::SeatField { index, field: "row", rule: "a non-empty string" }),
        Some(r) => Some(name(index, "row", Some(r), "")?),
        None => None,
    };
    let mut position = match seat.position {
        Some(p) => Some(
            u32::try_from(p).ok().filter(|&p| p <= super::MAX_POSITION).ok_or(InputError::SeatField {
                index,
                field: "position",
                rule: super::POSITION_RULE,
            })?,
        ),
        None => None,
    };
    let derived = seat.derive_place && seat.row.is_none() && seat.position.is_none();
    if row.is_some() && position.is_none() {
        return Err(InputError::SeatField { index, field: "position", rule: "given when row is given" });
    }
    if derived {
        if let Some((r, p)) = derived_place_str(seat_id) {
            row = Some(r);
            position = Some(p);
        }
    }
    if let Some(rank) = seat.rank {
        if !rank.is_finite() {
            return Err(InputError::SeatField { index, field: "rank", rule: "a finite number" });
        }
    }
    Ok(Checked {
        seat_id,
        section,
        category,
        row,
        position,
        derived,
        accessible: seat.accessible.unwrap_or(false),
        rank: seat.rank,
    })
}

fn name<'a>(
    index: usize,
    field: &'static str,
    raw: Option<&'a str>,
    default: &'static str,
) -> Result<&'a str, InputError> {
    let Some(raw) = raw else { return Ok(default) };
    if raw.chars().count() > MAX_NAME_CHARS || raw.chars().any(char::is_control) {
        return Err(InputError::SeatField {
            index,
            field,
            rule: "a string of at most 64 characters without control characters",
        });
    }
    Ok(raw)
}

/// A settled seat map, compact: what [`MapBuilder::finish`] gives.
pub struct Layout {
    /// Made from a flat list of ids: every field but the id derives from the ids, in order.
    flat: bool,
    ids: Strings,
    names: Strings,
    seats: Vec<Slot>,
    ranks: Vec<f64>,
    rows: Vec<Row>,
}

/// One seat of a [`Layout`], every field settled. Serializes as [`MapEntry`] does.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PlacedSeat<'a> {
    pub seat_id: &'a str,
    pub section: &'a str,
    pub row: Option<&'a str>,
    pub position: Option<u32>,
    pub category: &'a str,
    pub accessible: bool,
    pub rank: f64,
}

impl PlacedSeat<'_> {
    /// An owned copy.
    pub fn to_entry(&self) -> MapEntry {
        MapEntry {
            seat_id: self.seat_id.to_owned(),
            section: self.section.to_owned(),
            row: self.row.map(str::to_owned),
            position: self.position,
            category: self.category.to_owned(),
            accessible: self.accessible,
            rank: self.rank,
        }
    }
}

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layout").field("seats", &self.seats.len()).field("rows", &self.rows.len()).finish()
    }
}

impl Layout {
    /// How many seats.
    pub fn len(&self) -> usize {
        self.seats.len()
    }

    /// Whether there are none (never, for a finished map).
    pub fn is_empty(&self) -> bool {
        self.seats.is_empty()
    }

    /// The seat ids, in map order.
    pub fn seat_ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.seats.len() as u32).map(|n| self.ids.get(n))
    }

    /// The id of the seat at `i` (in map order, from 0).
    pub fn seat_id(&self, i: u32) -> &str {
        self.ids.get(i)
    }

    /// Whether the map was made from a flat list of ids ([`MapBuilder::ids`]): then the ids,
    /// in order, are the whole map, and a [`MapBuilder::ids`] given them again settles it
    /// the same.
    pub fn is_flat(&self) -> bool {
        self.flat
    }

    /// How many bytes the seat ids take together.
    pub fn seat_ids_bytes(&self) -> usize {
        self.ids.text.len()
    }

    /// The seat at `i` (in map order, from 0).
    pub fn seat(&self, i: usize) -> PlacedSeat<'_> {
        let slot = &self.seats[i];
        let row = (slot.row != NO_ROW).then(|| &self.rows[slot.row as usize]);
        let position = (slot.flags & HAS_POSITION != 0).then_some(slot.position);
        let given = self.ranks.get(i).copied().filter(|r| !r.is_nan());
        let rank = given.unwrap_or_else(|| match row {
            Some(r) => default_rank(slot.row as usize, slot.position, r.lo, r.hi),
            None => rowless_rank(i + 1),
        });
        PlacedSeat {
            seat_id: self.ids.get(i as u32),
            section: self.names.get(slot.section),
            row: row.map(|r| self.names.get(r.name)),
            position,
            category: self.names.get(slot.category),
            accessible: slot.flags & ACCESSIBLE != 0,
            rank,
        }
    }

    /// Every seat, in map order.
    pub fn seats(&self) -> impl ExactSizeIterator<Item = PlacedSeat<'_>> + '_ {
        (0..self.seats.len()).map(|i| self.seat(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stored_once() {
        let mut s = Strings::new();
        assert_eq!(s.insert("A1"), (0, true));
        assert_eq!(s.insert("A2"), (1, true));
        assert_eq!(s.insert("A1"), (0, false));
        assert_eq!(s.insert(""), (2, true));
        for i in 0..10_000 {
            assert_eq!(s.insert(&format!("S{i}")), (3 + i, true));
        }
        assert_eq!((s.get(0), s.get(1), s.get(2), s.get(10_002)), ("A1", "A2", "", "S9999"));
        assert_eq!(s.insert("S5000"), (5003, false));
    }

    #[test]
    fn problems_come_in_stage_order() {
        // a seat's own problem at a later index beats a clash at an earlier one
        let mut b = MapBuilder::new(false, 10);
        b.push(SeatSpec { seat_id: "A", row: Some("1"), position: Some(1), ..Default::default() });
        b.push(SeatSpec { seat_id: "B", row: Some("1"), position: Some(1), ..Default::default() });
        b.push(SeatSpec { seat_id: " ", ..Default::default() });
        assert_eq!(b.check(Stage::Shape), Ok(()));
        assert_eq!(b.check(Stage::Seat), Err(InputError::EmptySeatId { index: 2 }));
        // an unreadable seat of a map beats both
        b.push_unreadable(InputError::SeatNotAnObject { index: 3 });
        b.push_unreadable(InputError::SeatNotAnObject { index: 4 });
        assert_eq!(b.finish().err(), Some(InputError::SeatNotAnObject { index: 3 }));
        // in a flat list an unreadable element is ordered with the others
        let mut b = MapBuilder::new(true, 10);
        b.push_id("A1");
        b.push_id(" ");
        b.push_unreadable(InputError::SeatIdNotAString { index: 2 });
        assert_eq!(b.finish().err(), Some(InputError::EmptySeatId { index: 1 }));
        let mut b = MapBuilder::new(true, 10);
        b.push_id("A1");
        b.push_unreadable(InputError::SeatIdNotAString { index: 1 });
        b.push_id(" ");
        assert_eq!(b.finish().err(), Some(InputError::SeatIdNotAString { index: 1 }));
        // the count first, whatever else
        let mut b = MapBuilder::new(true, 2);
        for id in ["A1", "A1", " "] {
            b.push_id(id);
        }
        assert_eq!(b.finish().err(), Some(InputError::TooManySeats { max: 2 }));
        assert_eq!(MapBuilder::new(true, 2).finish().err(), Some(InputError::NoSeats));
        assert_eq!(MapBuilder::new(false, 2).finish().err(), Some(InputError::NoMapSeats));
        // the first clash: a duplicate before a later taken place, and the other way round
        let mut b = MapBuilder::new(false, 10);
        b.push(SeatSpec { seat_id: "A", ..Default::default() });
        b.push(SeatSpec { seat_id: "A", ..Default::default() });
        b.push(SeatSpec { seat_id: "B", row: Some("1"), position: Some(1), ..Default::default() });
        b.push(SeatSpec { seat_id: "C", row: Some("1"), position: Some(1), ..Default::default() });
        assert_eq!(b.finish().err(), Some(InputError::DuplicateSeatIds));
        let mut b = MapBuilder::new(false, 10);
        b.push(SeatSpec { seat_id: "B", row: Some("1"), position: Some(1), ..Default::default() });
        b.push(SeatSpec { seat_id: "C", row: Some("1"), position: Some(1), ..Default::default() });
        b.push(SeatSpec { seat_id: "B", ..Default::default() });
        assert_eq!(b.finish().err(), Some(InputError::PositionTaken { index: 1 }));
    }

    #[test]
    fn a_layout_reads_back_what_was_given() {
        let mut b = MapBuilder::ids();
        for id in ["B2", " B1 ", "A7", "VIP", "B02"] {
            b.push_id(id);
        }
        let layout = b.finish().unwrap();
        assert_eq!(layout.seat_ids().collect::<Vec<_>>(), ["B2", "B1", "A7", "VIP", "B02"]);
        let b1 = layout.seat(1);
        assert_eq!((b1.section, b1.row, b1.position, b1.category), ("", Some("B"), Some(1), "standard"));
        assert_eq!(b1.rank, default_rank(0, 1, 1, 2));
        assert_eq!(layout.seat(2).rank, default_rank(1, 7, 7, 7));
        assert_eq!(
            (layout.seat(3).row, layout.seat(3).position, layout.seat(3).rank),
            (None, None, 1e12 + 4.0)
        );
        // B02's place is B2's: no row
        assert_eq!((layout.seat(4).row, layout.seat(4).position), (None, None));
    }
}
