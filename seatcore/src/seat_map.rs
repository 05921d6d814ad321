//! Seat maps: sections, rows, positions, categories, accessibility and ranks.
//!
//! A show is initialized with a list of seats in map order. Each seat may name its section
//! (default `""`), its row and position in the row (a seat without a row is never adjacent
//! to another), its category (default `"standard"`), whether it is accessible (default
//! false) and its rank (lower is better). Two seats of one section and row are adjacent
//! exactly when their positions differ by 1: a gap in positions is an aisle.
//!
//! A flat list of seat ids gets rows too: an id of letters then digits (`A1`, `B10`,
//! `AA07`) is in the row of its letters at the position of its number.
//!
//! The default rank ranks rows in the order they first appear in the map (front first), and
//! within a row seats by their distance from the row's middle (middle seats first):
//! `row order × 1,000,000 + |position − (lowest + highest position) / 2|`. A seat without a
//! row ranks after every seat in a row. The migration that gave older shows their maps
//! uses the same formula.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::error::InputError;
use crate::validate;

/// Longest section, row or category name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A seat as a caller describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapSeat {
    pub seat_id: String,
    pub section: Option<String>,
    pub row: Option<String>,
    pub position: Option<i64>,
    pub category: Option<String>,
    pub accessible: Option<bool>,
    pub rank: Option<f64>,
    /// Take the row and position from the seat id (a seat of a flat list of ids).
    pub derive_place: bool,
}

impl MapSeat {
    /// A seat of a flat list of ids: its row and position derived from its id.
    pub fn flat(seat_id: impl Into<String>) -> MapSeat {
        MapSeat { seat_id: seat_id.into(), derive_place: true, ..MapSeat::default() }
    }
}

/// A seat of a show's map, every field settled. Serializes to the contract's
/// `{"seat_id", "section", "row", "position", "category", "accessible", "rank"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapEntry {
    pub seat_id: String,
    pub section: String,
    pub row: Option<String>,
    pub position: Option<u32>,
    pub category: String,
    pub accessible: bool,
    pub rank: f64,
}

/// A show's map, seats in map order. Serializes to `{"show_id", "seats": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShowMap {
    pub show_id: String,
    pub seats: Vec<MapEntry>,
}

/// The row and position of a flat seat id: letters then digits.
pub fn derived_place(seat_id: &str) -> Option<(String, u32)> {
    let split = seat_id.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = seat_id.split_at(split);
    if letters.is_empty()
        || !letters.bytes().all(|b| b.is_ascii_alphabetic())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.len() > 9
    {
        return None;
    }
    Some((letters.to_owned(), digits.parse().ok()?))
}

/// The default rank of a seat at `position` in the `row_order`-th row of the map (from 0),
/// whose positions run from `lowest` to `highest`.
pub fn default_rank(row_order: usize, position: u32, lowest: u32, highest: u32) -> f64 {
    row_order as f64 * 1_000_000.0
        + (f64::from(position) - (f64::from(lowest) + f64::from(highest)) / 2.0).abs()
}

/// The rank of a seat without a row, the `seat_no`-th of the map (from 1): after every seat
/// in a row.
fn rowless_rank(seat_no: usize) -> f64 {
    1e12 + seat_no as f64
}

fn name(index: usize, field: &'static str, raw: Option<&str>, default: &str) -> Result<String, InputError> {
    let Some(raw) = raw else { return Ok(default.to_owned()) };
    if raw.chars().count() > MAX_NAME_CHARS || raw.chars().any(char::is_control) {
        return Err(InputError::SeatField {
            index,
            field,
            rule: "a string of at most 64 characters without control characters",
        });
    }
    Ok(raw.to_owned())
}

/// Checks a map and settles every seat's fields, in map order: seat ids as in a flat list
/// (trimmed, no duplicates), names within [`MAX_NAME_CHARS`], a position (0 or more) for
/// every seat in a row, no two seats at one place of a row, finite ranks; defaults for what
/// is not given.
pub fn resolve(seats: &[MapSeat]) -> Result<Vec<MapEntry>, InputError> {
    if seats.is_empty() {
        return Err(InputError::NoMapSeats);
    }
    validate::seat_count(seats.len(), validate::MAX_SEATS_PER_SHOW)?;
    let mut entries = Vec::with_capacity(seats.len());
    let mut places: HashSet<(&str, String, u32)> = HashSet::with_capacity(seats.len());
    let mut ids: HashSet<String> = HashSet::with_capacity(seats.len());
    // A flat seat whose derived place is taken simply has no row.
    let mut derived: Vec<bool> = Vec::with_capacity(seats.len());
    for (index, seat) in seats.iter().enumerate() {
        let seat_id = validate::seat_id(index, &seat.seat_id)?;
        let section = name(index, "section", seat.section.as_deref(), "")?;
        let category = name(index, "category", seat.category.as_deref(), "standard")?;
        let mut row = match &seat.row {
            Some(r) if r.is_empty() => {
                return Err(InputError::SeatField { index, field: "row", rule: "a non-empty string" })
            }
            r => r.as_deref().map(|r| name(index, "row", Some(r), "")).transpose()?,
        };
        let mut position = match seat.position {
            Some(p) => Some(u32::try_from(p).map_err(|_| InputError::SeatField {
                index,
                field: "position",
                rule: "an integer of 0 or more",
            })?),
            None => None,
        };
        let is_derived = seat.derive_place && seat.row.is_none() && seat.position.is_none();
        if row.is_some() && position.is_none() {
            return Err(InputError::SeatField { index, field: "position", rule: "given when row is given" });
        }
        if is_derived {
            if let Some((r, p)) = derived_place(&seat_id) {
                row = Some(r);
                position = Some(p);
            }
        }
        if let Some(rank) = seat.rank {
            if !rank.is_finite() {
                return Err(InputError::SeatField { index, field: "rank", rule: "a finite number" });
            }
        }
        entries.push(MapEntry {
            seat_id,
            section,
            row,
            position,
            category,
            accessible: seat.accessible.unwrap_or(false),
            rank: seat.rank.unwrap_or(f64::NAN),
        });
        derived.push(is_derived);
    }
    for (index, entry) in entries.iter_mut().enumerate() {
        if !ids.insert(entry.seat_id.clone()) {
            return Err(InputError::DuplicateSeatIds);
        }
        if let (Some(row), Some(position)) = (&entry.row, entry.position) {
            if !places.insert((entry.section.as_str(), row.clone(), position)) {
                if derived[index] {
                    entry.row = None;
                    entry.position = None;
                } else {
                    return Err(InputError::PositionTaken { index });
                }
            }
        }
    }
    fill_default_ranks(&mut entries);
    Ok(entries)
}

/// Gives every seat without a rank its default (see the module's documentation).
fn fill_default_ranks(entries: &mut [MapEntry]) {
    // Rows in the order they first appear, with their lowest and highest positions.
    let mut rows: HashMap<(String, String), (usize, u32, u32)> = HashMap::new();
    for e in entries.iter() {
        if let (Some(row), Some(p)) = (&e.row, e.position) {
            let next = rows.len();
            let r = rows.entry((e.section.clone(), row.clone())).or_insert((next, p, p));
            r.1 = r.1.min(p);
            r.2 = r.2.max(p);
        }
    }
    for (i, e) in entries.iter_mut().enumerate() {
        if !e.rank.is_nan() {
            continue;
        }
        e.rank = match (&e.row, e.position) {
            (Some(row), Some(p)) => {
                let (order, lo, hi) = rows[&(e.section.clone(), row.clone())];
                default_rank(order, p, lo, hi)
            }
            _ => rowless_rank(i + 1),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_ids_get_rows() {
        assert_eq!(derived_place("A1"), Some(("A".into(), 1)));
        assert_eq!(derived_place("B10"), Some(("B".into(), 10)));
        assert_eq!(derived_place("AA07"), Some(("AA".into(), 7)));
        for none in ["VIP", "12", "A1B", "A-1", "ROW3_SEAT15", "A", "Ä1", "A1234567890"] {
            assert_eq!(derived_place(none), None, "{none}");
        }
    }

    #[test]
    fn default_ranks_put_front_rows_and_middle_seats_first() {
        let flat: Vec<MapSeat> =
            ["B1", "B2", "B3", "A1", "A2", "A3", "A4", "VIP"].map(MapSeat::flat).to_vec();
        let map = resolve(&flat).unwrap();
        let rank = |id: &str| map.iter().find(|e| e.seat_id == id).unwrap().rank;
        // B appears first: it is the front row
        assert!(rank("B3") < rank("A2"));
        assert!(rank("B2") < rank("B1") && rank("B1") == rank("B3"));
        assert!(rank("A2") == rank("A3") && rank("A2") < rank("A1"));
        assert!(rank("VIP") > rank("A4"));
        assert_eq!(map[0].row.as_deref(), Some("B"));
        assert_eq!((map[7].row.as_ref(), map[7].position), (None, None));
        // a later id at a taken place has no row
        let map = resolve(&["A1", "A01"].map(MapSeat::flat)).unwrap();
        assert_eq!((map[1].row.as_ref(), map[1].position), (None, None));
    }

    #[test]
    fn structured_maps_are_checked() {
        let seat = |id: &str, row: Option<&str>, pos: Option<i64>| MapSeat {
            seat_id: id.into(),
            row: row.map(Into::into),
            position: pos,
            section: Some("stalls".into()),
            ..MapSeat::default()
        };
        let map = resolve(&[seat("x1", Some("1"), Some(1)), seat("x2", Some("1"), Some(2))]).unwrap();
        assert_eq!((map[0].section.as_str(), map[0].category.as_str()), ("stalls", "standard"));
        assert_eq!(resolve(&[]), Err(InputError::NoMapSeats));
        assert_eq!(
            resolve(&[seat("x1", Some("1"), None)]),
            Err(InputError::SeatField { index: 0, field: "position", rule: "given when row is given" })
        );
        assert_eq!(
            resolve(&[seat("x1", Some("1"), Some(-1))]),
            Err(InputError::SeatField { index: 0, field: "position", rule: "an integer of 0 or more" })
        );
        assert_eq!(
            resolve(&[seat("x1", Some("1"), Some(3)), seat("x2", Some("1"), Some(3))]),
            Err(InputError::PositionTaken { index: 1 })
        );
        assert_eq!(
            resolve(&[seat("x1", None, None), seat(" x1 ", None, None)]),
            Err(InputError::DuplicateSeatIds)
        );
        assert_eq!(resolve(&[seat(" ", None, None)]), Err(InputError::EmptySeatId { index: 0 }));
        let bad_rank = MapSeat { rank: Some(f64::INFINITY), ..seat("x1", None, None) };
        assert!(matches!(resolve(&[bad_rank]), Err(InputError::SeatField { field: "rank", .. })));
        // a position without a row is kept; the seat is in no row
        let map = resolve(&[seat("x1", None, Some(4))]).unwrap();
        assert_eq!((map[0].row.as_ref(), map[0].position), (None, Some(4)));
        let given = MapSeat { rank: Some(2.5), ..seat("x1", Some("1"), Some(1)) };
        assert_eq!(resolve(&[given]).unwrap()[0].rank, 2.5);
    }
}
