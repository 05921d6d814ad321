//! The typed, immutable results of the idiomatic API, and their contract dicts.
//!
//! Timestamps are aware `datetime`s in UTC; ids are `uuid.UUID`s; seat lists are tuples.
//! Each result's `to_dict()` gives the REST contract's JSON object for it (plain `str`,
//! `int`, `list` values, timestamps as ISO 8601 text), which is what `DatabaseManager`
//! returns.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use seatcore::{iso8601, SeatState, Uuid};

/// A granted hold: the seats are the caller's until `expires_at` (by the database's clock).
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Hold {
    /// The hold's id (pass it, or its text, to `book` and `release`).
    #[pyo3(get)]
    pub hold_id: Uuid,
    /// The show the seats belong to.
    #[pyo3(get)]
    pub show_id: String,
    pub seat_ids: Vec<String>,
    /// When the hold ends, an aware UTC datetime.
    #[pyo3(get)]
    pub expires_at: DateTime<Utc>,
}

impl From<seatcore::Hold> for Hold {
    fn from(h: seatcore::Hold) -> Self {
        Hold { hold_id: h.hold_id, show_id: h.show_id, seat_ids: h.seat_ids, expires_at: h.expires_at }
    }
}

#[pymethods]
impl Hold {
    /// The held seat ids (trimmed), in request order.
    #[getter]
    fn seat_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.seat_ids)
    }

    /// The contract's dict: `{"hold_id", "expires_at", "seat_ids"}` with text values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("hold_id", self.hold_id.to_string())?;
        d.set_item("expires_at", iso8601(&self.expires_at))?;
        d.set_item("seat_ids", PyList::new(py, &self.seat_ids)?)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Hold(hold_id='{}', show_id={:?}, seat_ids={:?}, expires_at='{}')",
            self.hold_id,
            self.show_id,
            self.seat_ids,
            iso8601(&self.expires_at)
        )
    }
}

/// A confirmed booking. `booking_id` equals the id of the hold it came from; booking the
/// same hold again returns an equal value.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Booking {
    /// The booking's id: the id of the hold it confirmed.
    #[pyo3(get)]
    pub booking_id: Uuid,
    /// The show the seats belong to.
    #[pyo3(get)]
    pub show_id: String,
    pub seat_ids: Vec<String>,
    /// When the first booking of the hold was made, an aware UTC datetime.
    #[pyo3(get)]
    pub booked_at: DateTime<Utc>,
}

impl From<seatcore::Booking> for Booking {
    fn from(b: seatcore::Booking) -> Self {
        Booking { booking_id: b.booking_id, show_id: b.show_id, seat_ids: b.seat_ids, booked_at: b.booked_at }
    }
}

#[pymethods]
impl Booking {
    /// The booked seat ids, in the order the hold asked for them.
    #[getter]
    fn seat_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.seat_ids)
    }

    /// The contract's dict: `{"booking_id", "seat_ids", "booked_at"}` with text values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("booking_id", self.booking_id.to_string())?;
        d.set_item("seat_ids", PyList::new(py, &self.seat_ids)?)?;
        d.set_item("booked_at", iso8601(&self.booked_at))?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Booking(booking_id='{}', show_id={:?}, seat_ids={:?}, booked_at='{}')",
            self.booking_id,
            self.show_id,
            self.seat_ids,
            iso8601(&self.booked_at)
        )
    }
}

/// One seat of a status read.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Seat {
    /// The seat's id.
    #[pyo3(get)]
    pub seat_id: String,
    pub state: SeatState,
    /// When the seat's hold ends; set exactly when `status == "held"`.
    #[pyo3(get)]
    pub hold_expires_at: Option<DateTime<Utc>>,
}

#[pymethods]
impl Seat {
    /// `"available"`, `"held"` or `"booked"`.
    #[getter]
    fn status(&self) -> &'static str {
        self.state.as_str()
    }

    fn __repr__(&self) -> String {
        match &self.hold_expires_at {
            Some(t) => format!(
                "Seat(seat_id={:?}, status='{}', hold_expires_at='{}')",
                self.seat_id,
                self.state.as_str(),
                iso8601(t)
            ),
            None => format!("Seat(seat_id={:?}, status='{}')", self.seat_id, self.state.as_str()),
        }
    }
}

impl Seat {
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("seat_id", &self.seat_id)?;
        d.set_item("status", self.state.as_str())?;
        if let Some(t) = &self.hold_expires_at {
            d.set_item("hold_expires_at", iso8601(t))?;
        }
        Ok(d)
    }
}

/// A show's status at one moment: counts, every seat in seat-map order, and whether the
/// data satisfied the invariants.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct ShowStatus {
    /// The show's id.
    #[pyo3(get)]
    pub show_id: String,
    /// Seats on the seat map.
    #[pyo3(get)]
    pub total_seats: u64,
    /// Seats neither held nor booked.
    #[pyo3(get)]
    pub available_seats: u64,
    /// Seats under a live hold.
    #[pyo3(get)]
    pub held_seats: u64,
    /// Seats booked.
    #[pyo3(get)]
    pub booked_seats: u64,
    /// Computed from the rows read: every seat present once, counts adding up, no seat
    /// both held and booked, every held seat backed by its live hold.
    #[pyo3(get)]
    pub invariants_valid: bool,
    pub seats: Vec<Seat>,
}

impl From<seatcore::ShowStatus> for ShowStatus {
    fn from(s: seatcore::ShowStatus) -> Self {
        ShowStatus {
            show_id: s.show_id,
            total_seats: s.counts.total,
            available_seats: s.counts.available,
            held_seats: s.counts.held,
            booked_seats: s.counts.booked,
            invariants_valid: s.counts.invariants_valid,
            seats: s
                .seats
                .into_iter()
                .map(|seat| Seat {
                    seat_id: seat.seat_id,
                    state: seat.state,
                    hold_expires_at: seat.hold_expires_at,
                })
                .collect(),
        }
    }
}

#[pymethods]
impl ShowStatus {
    /// Every seat, in seat-map order.
    #[getter]
    fn seats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.seats.iter().cloned())
    }

    /// The contract's dict of `GET /shows/<id>/seats`: counts, `seats` as a list of
    /// `{"seat_id", "status"}` dicts (with `"hold_expires_at"` only on held seats), and
    /// `invariants_valid`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("total_seats", self.total_seats)?;
        d.set_item("available_seats", self.available_seats)?;
        d.set_item("held_seats", self.held_seats)?;
        d.set_item("booked_seats", self.booked_seats)?;
        let seats = PyList::empty(py);
        for seat in &self.seats {
            seats.append(seat.to_dict(py)?)?;
        }
        d.set_item("seats", seats)?;
        d.set_item("invariants_valid", self.invariants_valid)?;
        Ok(d)
    }

    fn __len__(&self) -> usize {
        self.seats.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "ShowStatus(show_id={:?}, total_seats={}, available_seats={}, held_seats={}, booked_seats={}, invariants_valid={})",
            self.show_id,
            self.total_seats,
            self.available_seats,
            self.held_seats,
            self.booked_seats,
            if self.invariants_valid { "True" } else { "False" }
        )
    }
}

/// What an administrative reset cleared.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResetCounts {
    /// Holds deleted.
    #[pyo3(get)]
    pub holds_cleared: u64,
    /// Bookings deleted.
    #[pyo3(get)]
    pub bookings_cleared: u64,
    /// Seats that were held or booked and are available now.
    #[pyo3(get)]
    pub seats_reset: u64,
}

#[pymethods]
impl ResetCounts {
    /// The contract's dict: `{"holds_cleared", "bookings_cleared", "seats_reset"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("holds_cleared", self.holds_cleared)?;
        d.set_item("bookings_cleared", self.bookings_cleared)?;
        d.set_item("seats_reset", self.seats_reset)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "ResetCounts(holds_cleared={}, bookings_cleared={}, seats_reset={})",
            self.holds_cleared, self.bookings_cleared, self.seats_reset
        )
    }
}

/// Counters since the handle was opened (or last disposed), and the pool's state.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct Stats {
    /// Holds granted.
    #[pyo3(get)]
    pub holds_granted: u64,
    /// Holds refused because seats were taken.
    #[pyo3(get)]
    pub holds_refused: u64,
    /// First bookings made (repeats not counted).
    #[pyo3(get)]
    pub bookings: u64,
    /// Holds released early.
    #[pyo3(get)]
    pub releases: u64,
    /// Expired holds deleted by sweeps.
    #[pyo3(get)]
    pub holds_expired_swept: u64,
    /// Connections open in the pool.
    #[pyo3(get)]
    pub pool_connections: u32,
    /// Open connections that are idle.
    #[pyo3(get)]
    pub pool_idle: u32,
    /// Most connections the pool opens.
    #[pyo3(get)]
    pub pool_max: u32,
}

impl From<seatcore::Stats> for Stats {
    fn from(s: seatcore::Stats) -> Self {
        Stats {
            holds_granted: s.holds_granted,
            holds_refused: s.holds_refused,
            bookings: s.bookings,
            releases: s.releases,
            holds_expired_swept: s.holds_expired_swept,
            pool_connections: s.pool_connections,
            pool_idle: s.pool_idle,
            pool_max: s.pool_max,
        }
    }
}

#[pymethods]
impl Stats {
    fn __repr__(&self) -> String {
        format!(
            "Stats(holds_granted={}, holds_refused={}, bookings={}, releases={}, holds_expired_swept={}, pool_connections={}, pool_idle={}, pool_max={})",
            self.holds_granted,
            self.holds_refused,
            self.bookings,
            self.releases,
            self.holds_expired_swept,
            self.pool_connections,
            self.pool_idle,
            self.pool_max
        )
    }
}
