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
//!
//! [`MapBuilder`] checks and settles a map one seat at a time into a compact [`Layout`]
//! (what a show is created from); [`resolve`] does the same for a list of [`MapSeat`]s and
//! gives [`MapEntry`]s.

mod builder;

use serde::Serialize;

pub use builder::{Layout, MapBuilder, PlacedSeat, SeatSpec};
pub(crate) use builder::{Stage, Strings};

use crate::error::InputError;
use crate::types::JsonItems;

/// Longest section, row or category name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Highest position of a seat in its row (the database keeps it as a 32-bit integer).
pub const MAX_POSITION: u32 = i32::MAX as u32;

/// What a seat's position must be, as its error message says (up to [`MAX_POSITION`]).
pub const POSITION_RULE: &str = "an integer from 0 to 2147483647";

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

    /// A borrowed view, as [`MapBuilder::push`] takes it.
    pub fn spec(&self) -> SeatSpec<'_> {
        SeatSpec {
            seat_id: &self.seat_id,
            section: self.section.as_deref(),
            row: self.row.as_deref(),
            position: self.position,
            category: self.category.as_deref(),
            accessible: self.accessible,
            rank: self.rank,
            derive_place: self.derive_place,
        }
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

/// Writes the map document of `GET /shows/<id>/map` while the seats arrive
/// ([`crate::SeatCore::seat_map_each`]). The output equals `serde_json::to_vec(&ShowMap)`.
pub struct MapJson<W: std::io::Write>(JsonItems<W>);

impl<W: std::io::Write> MapJson<W> {
    /// Starts the document of `show_id` on `out`.
    pub fn new(out: W, show_id: &str) -> std::io::Result<Self> {
        let mut opening = b"{\"show_id\":".to_vec();
        serde_json::to_writer(&mut opening, show_id).map_err(std::io::Error::from)?;
        opening.extend_from_slice(b",\"seats\":[");
        JsonItems::open(out, &opening).map(MapJson)
    }

    /// Appends one seat.
    pub fn seat(&mut self, seat: &PlacedSeat<'_>) -> std::io::Result<()> {
        self.0.push(seat)
    }

    /// The writer, for a caller that moves what was written so far elsewhere.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.0.out
    }

    /// Ends the document and returns the writer.
    pub fn finish(self) -> std::io::Result<W> {
        self.0.close(b"}")
    }
}

/// The row and position of a flat seat id: letters then digits.
pub fn derived_place(seat_id: &str) -> Option<(String, u32)> {
    derived_place_str(seat_id).map(|(row, position)| (row.to_owned(), position))
}

/// [`derived_place`], the row borrowed from the id.
fn derived_place_str(seat_id: &str) -> Option<(&str, u32)> {
    let split = seat_id.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = seat_id.split_at(split);
    if letters.is_empty()
        || !letters.bytes().all(|b| b.is_ascii_alphabetic())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.len() > 9
    {
        return None;
    }
    Some((letters, digits.parse().ok()?))
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

/// Checks a map and settles every seat's fields, in map order: seat ids as in a flat list
/// (trimmed, no duplicates), names within [`MAX_NAME_CHARS`], a position (0 to
/// [`MAX_POSITION`]) for every seat in a row, no two seats at one place of a row, finite ranks; defaults for what
/// is not given. The first problem is reported: no seats or too many, then the first seat
/// whose own fields break a rule, then the first seat that repeats an id or takes a place of
/// an earlier seat (see [`MapBuilder`]).
pub fn resolve(seats: &[MapSeat]) -> Result<Vec<MapEntry>, InputError> {
    let mut builder = MapBuilder::map();
    for seat in seats {
        builder.push(seat.spec());
    }
    Ok(builder.finish()?.seats().map(|s| s.to_entry()).collect())
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
        for bad in [-1, i64::from(MAX_POSITION) + 1, i64::from(u32::MAX) + 1] {
            assert_eq!(
                resolve(&[seat("x1", Some("1"), Some(bad))]),
                Err(InputError::SeatField { index: 0, field: "position", rule: POSITION_RULE }),
                "{bad}"
            );
        }
        assert!(POSITION_RULE.ends_with(&format!("to {MAX_POSITION}")));
        let edge = resolve(&[seat("x1", Some("1"), Some(i64::from(MAX_POSITION)))]).unwrap();
        assert_eq!(edge[0].position, Some(MAX_POSITION));
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
