//! The typed, immutable results of the idiomatic API: each wraps the core's result type.
//!
//! Timestamps are aware `datetime`s in UTC; ids are `uuid.UUID`s; seat lists are tuples.
//! Each result's `to_dict()` is the core's serde shape of it (the REST contract's JSON
//! object, as plain `dict`, `list`, `str`, `int` and `bool` values).

use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pythonize::pythonize;
use seatcore::{iso8601, Uuid};

/// A granted hold: the seats are the caller's until `expires_at` (by the database's clock).
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct Hold(pub seatcore::Hold);

impl Hash for Hold {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hold_id.hash(state);
    }
}

#[pymethods]
impl Hold {
    /// The hold's id (pass it, or its text, to `book` and `release`).
    #[getter]
    fn hold_id(&self) -> Uuid {
        self.0.hold_id
    }

    /// The show the seats belong to.
    #[getter]
    fn show_id(&self) -> &str {
        &self.0.show_id
    }

    /// The held seat ids (trimmed), in request order.
    #[getter]
    fn seat_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.0.seat_ids)
    }

    /// When the hold ends, an aware UTC datetime.
    #[getter]
    fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }

    /// The contract's dict: `{"hold_id", "expires_at", "seat_ids"}` with text values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }

    fn __repr__(&self) -> String {
        let h = &self.0;
        format!(
            "Hold(hold_id='{}', show_id={:?}, seat_ids={:?}, expires_at='{}')",
            h.hold_id,
            h.show_id,
            h.seat_ids,
            iso8601(&h.expires_at)
        )
    }
}

/// A confirmed booking. `booking_id` equals the id of the hold it came from; booking the
/// same hold again returns an equal value.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct Booking(pub seatcore::Booking);

impl Hash for Booking {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.booking_id.hash(state);
    }
}

#[pymethods]
impl Booking {
    /// The booking's id: the id of the hold it confirmed.
    #[getter]
    fn booking_id(&self) -> Uuid {
        self.0.booking_id
    }

    /// The show the seats belong to.
    #[getter]
    fn show_id(&self) -> &str {
        &self.0.show_id
    }

    /// The booked seat ids, in the order the hold asked for them.
    #[getter]
    fn seat_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.0.seat_ids)
    }

    /// When the first booking of the hold was made, an aware UTC datetime.
    #[getter]
    fn booked_at(&self) -> DateTime<Utc> {
        self.0.booked_at
    }

    /// The contract's dict: `{"booking_id", "seat_ids", "booked_at"}` with text values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }

    fn __repr__(&self) -> String {
        let b = &self.0;
        format!(
            "Booking(booking_id='{}', show_id={:?}, seat_ids={:?}, booked_at='{}')",
            b.booking_id,
            b.show_id,
            b.seat_ids,
            iso8601(&b.booked_at)
        )
    }
}

/// One seat of a status read.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct Seat(pub seatcore::Seat);

impl Hash for Seat {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.seat_id.hash(state);
        self.0.state.hash(state);
    }
}

#[pymethods]
impl Seat {
    /// The seat's id.
    #[getter]
    fn seat_id(&self) -> &str {
        &self.0.seat_id
    }

    /// `"available"`, `"held"` or `"booked"`.
    #[getter]
    fn status(&self) -> &'static str {
        self.0.state.as_str()
    }

    /// When the seat's hold ends; set exactly when `status == "held"`.
    #[getter]
    fn hold_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.hold_expires_at
    }

    fn __repr__(&self) -> String {
        let s = &self.0;
        match &s.hold_expires_at {
            Some(t) => format!(
                "Seat(seat_id={:?}, status='{}', hold_expires_at='{}')",
                s.seat_id,
                s.state.as_str(),
                iso8601(t)
            ),
            None => format!("Seat(seat_id={:?}, status='{}')", s.seat_id, s.state.as_str()),
        }
    }
}

/// A show's status at one moment: counts, every seat in seat-map order, and whether the
/// data satisfied the invariants.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct ShowStatus(pub seatcore::ShowStatus);

#[pymethods]
impl ShowStatus {
    /// The show's id.
    #[getter]
    fn show_id(&self) -> &str {
        &self.0.show_id
    }

    /// Seats on the seat map.
    #[getter]
    fn total_seats(&self) -> u64 {
        self.0.counts.total
    }

    /// Seats neither held, booked nor blocked.
    #[getter]
    fn available_seats(&self) -> u64 {
        self.0.counts.available
    }

    /// Seats under a live hold.
    #[getter]
    fn held_seats(&self) -> u64 {
        self.0.counts.held
    }

    /// Seats booked.
    #[getter]
    fn booked_seats(&self) -> u64 {
        self.0.counts.booked
    }

    /// Seats blocked by the house (neither available nor holdable).
    #[getter]
    fn blocked_seats(&self) -> u64 {
        self.0.counts.blocked
    }

    /// Computed from the rows read: every seat present once, counts adding up, no seat
    /// both held and booked, every held seat backed by its live hold.
    #[getter]
    fn invariants_valid(&self) -> bool {
        self.0.counts.invariants_valid
    }

    /// Every change with an id up to this is in the read (later ones may be too): follow
    /// the change stream from here to miss nothing.
    #[getter]
    fn version(&self) -> i64 {
        self.0.counts.version
    }

    /// Set when a standby served the read (`read_url`): the commit time of the last
    /// transaction it had replayed, an aware UTC datetime. `None` from the primary.
    #[getter]
    fn replayed_at(&self) -> Option<DateTime<Utc>> {
        self.0.counts.replayed_at
    }

    /// Every seat, in seat-map order.
    #[getter]
    fn seats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.0.seats.iter().cloned().map(Seat))
    }

    /// The document of `GET /shows/<id>/seats`: `seats` as a list of `{"seat_id",
    /// "status"}` dicts (with `"hold_expires_at"` only on held seats), the counts,
    /// `invariants_valid`, `version`, and `replayed_at` when a standby served the read.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }

    fn __len__(&self) -> usize {
        self.0.seats.len()
    }

    fn __repr__(&self) -> String {
        let c = &self.0.counts;
        format!(
            "ShowStatus(show_id={:?}, total_seats={}, available_seats={}, held_seats={}, booked_seats={}, invariants_valid={})",
            self.0.show_id,
            c.total,
            c.available,
            c.held,
            c.booked,
            if c.invariants_valid { "True" } else { "False" }
        )
    }
}

/// What an administrative reset cleared.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct ResetCounts(pub seatcore::ResetCounts);

impl Hash for ResetCounts {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let c = &self.0;
        (c.holds_cleared, c.bookings_cleared, c.seats_reset).hash(state);
    }
}

#[pymethods]
impl ResetCounts {
    /// Holds deleted.
    #[getter]
    fn holds_cleared(&self) -> u64 {
        self.0.holds_cleared
    }

    /// Bookings deleted.
    #[getter]
    fn bookings_cleared(&self) -> u64 {
        self.0.bookings_cleared
    }

    /// Seats that were held or booked and are available now.
    #[getter]
    fn seats_reset(&self) -> u64 {
        self.0.seats_reset
    }

    /// The contract's dict: `{"holds_cleared", "bookings_cleared", "seats_reset"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }

    fn __repr__(&self) -> String {
        let c = &self.0;
        format!(
            "ResetCounts(holds_cleared={}, bookings_cleared={}, seats_reset={})",
            c.holds_cleared, c.bookings_cleared, c.seats_reset
        )
    }
}

/// What the invariant audit found: every promise the rows must keep, checked in one
/// read-only statement. `ok` exactly when `problems` is empty.
#[pyclass(frozen, eq, module = "seatcore._seatcore")]
#[derive(PartialEq, Eq)]
pub struct Audit(pub seatcore::Audit);

#[pymethods]
impl Audit {
    /// Whether every invariant holds.
    #[getter]
    fn ok(&self) -> bool {
        self.0.ok
    }

    /// Shows looked at (0 for an unknown show).
    #[getter]
    fn shows(&self) -> u64 {
        self.0.shows
    }

    /// Seats looked at.
    #[getter]
    fn seats(&self) -> u64 {
        self.0.seats
    }

    /// Seats held by a live hold at the audit's moment.
    #[getter]
    fn held(&self) -> u64 {
        self.0.held
    }

    /// Seats booked at the audit's moment.
    #[getter]
    fn booked(&self) -> u64 {
        self.0.booked
    }

    /// How many problems were found in all.
    #[getter]
    fn problem_count(&self) -> u64 {
        self.0.problem_count
    }

    /// The first problems found (at most `MAX_REPORTED_PROBLEMS`), each a sentence naming
    /// the show, seat and hold or booking.
    #[getter]
    fn problems<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.0.problems)
    }

    /// The audit document (as `GET /audit` answers it).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }

    fn __repr__(&self) -> String {
        let a = &self.0;
        format!(
            "Audit(ok={}, shows={}, seats={}, held={}, booked={}, problem_count={})",
            if a.ok { "True" } else { "False" },
            a.shows,
            a.seats,
            a.held,
            a.booked,
            a.problem_count
        )
    }
}

/// Counters since the handle was opened (or last disposed), and the pool's state.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct Stats(pub seatcore::Stats);

#[pymethods]
impl Stats {
    /// Holds granted.
    #[getter]
    fn holds_granted(&self) -> u64 {
        self.0.holds_granted
    }

    /// Holds refused because seats were taken.
    #[getter]
    fn holds_refused(&self) -> u64 {
        self.0.holds_refused
    }

    /// First bookings made (repeats not counted).
    #[getter]
    fn bookings(&self) -> u64 {
        self.0.bookings
    }

    /// Holds released early.
    #[getter]
    fn releases(&self) -> u64 {
        self.0.releases
    }

    /// Expired holds deleted by sweeps.
    #[getter]
    fn holds_expired_swept(&self) -> u64 {
        self.0.holds_expired_swept
    }

    /// Connections open in the pool.
    #[getter]
    fn pool_connections(&self) -> u32 {
        self.0.pool_connections
    }

    /// Open connections that are idle.
    #[getter]
    fn pool_idle(&self) -> u32 {
        self.0.pool_idle
    }

    /// Most connections the pool opens.
    #[getter]
    fn pool_max(&self) -> u32 {
        self.0.pool_max
    }

    /// Groups of holds made, by size: element `i` counts groups of `2**i` to
    /// `2**(i+1) - 1` holds (1, 2-3, 4-7, ...; the last, 256 and more).
    #[getter]
    fn hold_groups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.0.hold_groups)
    }

    fn __repr__(&self) -> String {
        let s = &self.0;
        format!(
            "Stats(holds_granted={}, holds_refused={}, bookings={}, releases={}, holds_expired_swept={}, pool_connections={}, pool_idle={}, pool_max={}, hold_groups={:?})",
            s.holds_granted,
            s.holds_refused,
            s.bookings,
            s.releases,
            s.holds_expired_swept,
            s.pool_connections,
            s.pool_idle,
            s.pool_max,
            s.hold_groups
        )
    }
}

/// One seat of a show's map (`SeatCore.seat_map`), every field settled.
#[pyclass(frozen, eq, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq)]
pub struct MapSeat(pub seatcore::seat_map::MapEntry);

#[pymethods]
impl MapSeat {
    /// The seat's id.
    #[getter]
    fn seat_id(&self) -> &str {
        &self.0.seat_id
    }

    /// The seat's section ("" when the map names none).
    #[getter]
    fn section(&self) -> &str {
        &self.0.section
    }

    /// The seat's row, or None for a seat in no row.
    #[getter]
    fn row(&self) -> Option<&str> {
        self.0.row.as_deref()
    }

    /// The seat's place in its row (adjacent seats differ by 1), or None.
    #[getter]
    fn position(&self) -> Option<u32> {
        self.0.position
    }

    /// The seat's category ("" when the map names none).
    #[getter]
    fn category(&self) -> &str {
        &self.0.category
    }

    /// Whether the seat is accessible.
    #[getter]
    fn accessible(&self) -> bool {
        self.0.accessible
    }

    /// The seat's rank: lower is better.
    #[getter]
    fn rank(&self) -> f64 {
        self.0.rank
    }

    /// The contract's dict: `{"seat_id", "section", "row", "position", "category",
    /// "accessible", "rank"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }

    fn __repr__(&self) -> String {
        let s = &self.0;
        format!(
            "MapSeat(seat_id={:?}, section={:?}, row={}, position={}, category={:?}, accessible={}, rank={})",
            s.seat_id,
            s.section,
            s.row.as_ref().map_or("None".to_owned(), |r| format!("{r:?}")),
            s.position.map_or("None".to_owned(), |p| p.to_string()),
            s.category,
            if s.accessible { "True" } else { "False" },
            s.rank
        )
    }
}
