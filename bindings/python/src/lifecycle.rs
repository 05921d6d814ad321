//! The hold lifecycle's results: a partial release and a cancelled booking. (`extend`
//! returns a [`crate::results::Hold`].)

use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pythonize::pythonize;
use seatcore::{iso8601, Uuid};

/// What a partial release did: the seats released, and those the hold keeps.
#[pyclass(frozen, eq, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct SeatsReleased(pub seatcore::SeatsReleased);

#[pymethods]
impl SeatsReleased {
    /// The hold the seats came from.
    #[getter]
    fn hold_id(&self) -> Uuid {
        self.0.hold_id
    }

    /// The show the seats belong to.
    #[getter]
    fn show_id(&self) -> &str {
        &self.0.show_id
    }

    /// The released seat ids (trimmed), in request order. They are available.
    #[getter]
    fn seat_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.0.seat_ids)
    }

    /// The seats the hold keeps, in the order it asked for them; empty when every seat was
    /// released, which releases the hold.
    #[getter]
    fn remaining_seat_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.0.remaining_seat_ids)
    }

    /// The contract's dict: `{"message": "seats released", "seat_ids", "remaining_seat_ids"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }

    fn __repr__(&self) -> String {
        let r = &self.0;
        format!(
            "SeatsReleased(hold_id='{}', show_id={:?}, seat_ids={:?}, remaining_seat_ids={:?})",
            r.hold_id, r.show_id, r.seat_ids, r.remaining_seat_ids
        )
    }
}

/// A cancelled booking: kept, marked cancelled; its seats are available. Cancelling it
/// again returns an equal value.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct Cancellation(pub seatcore::Cancellation);

impl Hash for Cancellation {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.booking_id.hash(state);
    }
}

#[pymethods]
impl Cancellation {
    /// The booking's id (the id of the hold it confirmed).
    #[getter]
    fn booking_id(&self) -> Uuid {
        self.0.booking_id
    }

    /// The show the seats belong to.
    #[getter]
    fn show_id(&self) -> &str {
        &self.0.show_id
    }

    /// The booking's seats, now available.
    #[getter]
    fn seat_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.0.seat_ids)
    }

    /// When the booking was first cancelled, an aware UTC datetime.
    #[getter]
    fn cancelled_at(&self) -> DateTime<Utc> {
        self.0.cancelled_at
    }

    /// The contract's dict: `{"message": "booking cancelled", "seat_ids"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }

    fn __repr__(&self) -> String {
        let c = &self.0;
        format!(
            "Cancellation(booking_id='{}', show_id={:?}, seat_ids={:?}, cancelled_at='{}')",
            c.booking_id,
            c.show_id,
            c.seat_ids,
            iso8601(&c.cancelled_at)
        )
    }
}
