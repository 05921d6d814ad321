//! The native half of `seatcore.DatabaseManager` (`seatcore/_manager.py` keeps the old
//! class's Python shape: signatures, docstrings, `engine`, subclassing and patching).
//!
//! Every value returned here is the core's: success values are the serde shapes of its
//! result types, failures `seatcore::contract::manager_error` for the operation. Wrong
//! argument *types* raise `TypeError`; nothing else raises.

use pyo3::prelude::*;
use pythonize::pythonize;
use seatcore::contract::{self, Op};
use seatcore::validate;
use serde::Serialize;

use crate::args::{self, Arg, Int};
use crate::core::SeatCore;

/// The contract's values for `DatabaseManager`, computed on a `SeatCore`.
#[pyclass(frozen, name = "_Manager", module = "seatcore._seatcore")]
pub struct Manager {
    core: Py<SeatCore>,
}

/// `(True, the success value)` or `(False, the failure value)`: what most methods return.
type Outcome<'py> = PyResult<(bool, Bound<'py, PyAny>)>;

/// The [`Outcome`] of the manager's method for `op`.
fn outcome<'py, T: Serialize>(py: Python<'py>, op: Op, result: seatcore::Result<T>) -> Outcome<'py> {
    Ok(match result {
        Ok(value) => (true, pythonize(py, &value)?),
        Err(e) => (false, pythonize(py, &contract::manager_error(op, &e))?),
    })
}

/// The value's serde shape, or None when the core failed (an unknown show, a database failure).
fn found<'py, T: Serialize, E>(py: Python<'py>, result: Result<T, E>) -> PyResult<Option<Bound<'py, PyAny>>> {
    result.ok().map(|value| pythonize(py, &value)).transpose().map_err(PyErr::from)
}

impl Manager {
    /// [`SeatCore::call`] on the manager's `SeatCore`.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        op: impl FnOnce(&seatcore::SeatCore) -> seatcore::Result<T> + Send,
    ) -> seatcore::Result<T> {
        self.core.get().call(py, op)
    }
}

#[pymethods]
impl Manager {
    #[new]
    fn new(core: Py<SeatCore>) -> Self {
        Manager { core }
    }

    /// The `SeatCore` the values are computed on.
    #[getter]
    fn core(&self, py: Python<'_>) -> Py<SeatCore> {
        self.core.clone_ref(py)
    }

    /// `(True, "show initialized with N seats")` or `(False, message)`.
    fn initialize_show<'py>(&self, py: Python<'py>, show_id: &Arg<'py>, seat_ids: &Arg<'py>) -> Outcome<'py> {
        let show_id = args::show_id(show_id)?;
        let result = args::seat_ids(seat_ids, validate::MAX_SEATS_PER_SHOW)?
            .and_then(|ids| self.call(py, |core| core.initialize_show(&show_id, &ids)));
        outcome(py, Op::Initialize, result.map(contract::initialized_message))
    }

    /// `(True, hold dict)` or `(False, failure dict)`; the duration is not clamped.
    fn hold_seats<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
        seat_ids: &Arg<'py>,
        hold_duration_sec: &Arg<'py>,
    ) -> Outcome<'py> {
        let seconds = args::whole_seconds("hold_duration_sec", hold_duration_sec)?;
        let show_id = args::show_id(show_id)?;
        let result = args::seat_ids(seat_ids, validate::MAX_SEATS_PER_HOLD)?
            .and_then(|ids| self.call(py, |core| core.hold(&show_id, &ids, seconds)));
        outcome(py, Op::Hold, result)
    }

    /// `(True, booking dict)` or `(False, failure dict)`.
    fn book_hold<'py>(&self, py: Python<'py>, show_id: &Arg<'py>, hold_id: &Arg<'py>) -> Outcome<'py> {
        let (show_id, hold_id) = args::show_and_hold(show_id, hold_id)?;
        outcome(py, Op::Book, self.call(py, |core| core.book(&show_id, &hold_id)))
    }

    /// True, or False when there is no such live hold (or the database failed).
    fn release_hold(&self, py: Python<'_>, show_id: &Arg<'_>, hold_id: &Arg<'_>) -> PyResult<bool> {
        let (show_id, hold_id) = args::show_and_hold(show_id, hold_id)?;
        Ok(self.call(py, |core| core.release(&show_id, &hold_id)).is_ok())
    }

    /// The number of expired holds deleted (0 when the database failed).
    fn cleanup_expired_holds(&self, py: Python<'_>) -> u64 {
        self.call(py, |core| core.sweep_expired()).unwrap_or(0)
    }

    /// The status dict, or None for an unknown show (or when the database failed).
    fn get_seat_status<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let show_id = args::show_id(show_id)?;
        let status = self.call(py, |core| core.seat_status(&show_id));
        found(py, status.as_ref().map(contract::manager_status))
    }

    /// `(True, {"changes": [...], "next": id})` or `(False, failure dict)`.
    #[pyo3(
        signature = (show_id, after = Int(0), seat_id = None, limit = Int(seatcore::DEFAULT_CHANGE_PAGE as i64)),
        text_signature = "($self, show_id, after=0, seat_id=None, limit=100)"
    )]
    fn get_history<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
        after: Int,
        seat_id: Option<&Arg<'py>>,
        limit: Int,
    ) -> Outcome<'py> {
        let show_id = args::show_id(show_id)?;
        let query = crate::changes::query(after, seat_id, limit)?;
        outcome(py, Op::History, self.call(py, |core| core.history(&show_id, &query)))
    }

    /// The healthy dict, or the unhealthy one.
    fn health_check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (_, value) = outcome(py, Op::Health, self.call(py, |core| core.health()))?;
        Ok(value)
    }

    /// `(True, "show initialized with N seats")` or `(False, message)`, for a structured
    /// map (seats as `SeatCore.initialize_map` takes them).
    fn initialize_seat_map<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
        seats: &Arg<'py>,
    ) -> Outcome<'py> {
        let show_id = args::show_id(show_id)?;
        let result = args::map_seats(seats)?
            .and_then(|seats| self.call(py, |core| core.initialize_map(&show_id, &seats)));
        outcome(py, Op::Initialize, result.map(contract::initialized_message))
    }

    /// The map dict `{"show_id", "seats": [...]}`, or None for an unknown show (or when
    /// the database failed).
    fn get_seat_map<'py>(&self, py: Python<'py>, show_id: &Arg<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let show_id = args::show_id(show_id)?;
        found(py, self.call(py, |core| core.seat_map(&show_id)))
    }

    /// `(True, {"blocked": [...]})` or `(False, failure dict)`.
    #[pyo3(signature = (show_id, seat_ids, reason = None))]
    fn block_seats<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
        seat_ids: &Arg<'py>,
        reason: Option<&Arg<'py>>,
    ) -> Outcome<'py> {
        let show_id = args::show_id(show_id)?;
        let reason = args::optional_string("reason", reason)?;
        let result = args::seat_ids(seat_ids, validate::MAX_SEATS_PER_SHOW)?
            .and_then(|ids| self.call(py, |core| core.block(&show_id, &ids, reason.as_deref())));
        outcome(py, Op::Block, result.map(|ids| contract::blocked(&ids)))
    }

    /// `(True, {"unblocked": [...]})` or `(False, failure dict)`.
    fn unblock_seats<'py>(&self, py: Python<'py>, show_id: &Arg<'py>, seat_ids: &Arg<'py>) -> Outcome<'py> {
        let show_id = args::show_id(show_id)?;
        let result = args::seat_ids(seat_ids, validate::MAX_SEATS_PER_SHOW)?
            .and_then(|ids| self.call(py, |core| core.unblock(&show_id, &ids)));
        outcome(py, Op::Unblock, result.map(|ids| contract::unblocked(&ids)))
    }

    /// `(True, hold dict)` or `(False, failure dict)`; the duration is not clamped.
    #[pyo3(signature = (show_id, count, hold_duration_sec, category = None, section = None, accessible = None))]
    #[allow(clippy::too_many_arguments)]
    fn hold_best_seats<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
        count: Int,
        hold_duration_sec: &Arg<'py>,
        category: Option<&Arg<'py>>,
        section: Option<&Arg<'py>>,
        accessible: Option<bool>,
    ) -> Outcome<'py> {
        let seconds = args::whole_seconds("hold_duration_sec", hold_duration_sec)?;
        let show_id = args::show_id(show_id)?;
        let filters = args::best_filters(category, section, accessible)?;
        let result = self.call(py, |core| core.hold_best(&show_id, args::count(count), &filters, seconds));
        outcome(py, Op::HoldBest, result)
    }

    /// `(True, counts dict)` or `(False, failure dict)`.
    fn reset_all_seats<'py>(&self, py: Python<'py>) -> Outcome<'py> {
        outcome(py, Op::Reset, self.call(py, |core| core.reset_all()))
    }

    // ---- the hold lifecycle ----

    /// `(True, hold dict)` with the new expiry, or `(False, failure dict)`; the duration is
    /// not clamped (the core takes 1 to 86,400 s), the maximum hold life still applies.
    fn extend_hold<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
        hold_id: &Arg<'py>,
        hold_duration_sec: &Arg<'py>,
    ) -> Outcome<'py> {
        let seconds = args::whole_seconds("hold_duration_sec", hold_duration_sec)?;
        let (show_id, hold_id) = args::show_and_hold(show_id, hold_id)?;
        outcome(py, Op::Extend, self.call(py, |core| core.extend(&show_id, &hold_id, seconds)))
    }

    /// `(True, {"message": "seats released", "seat_ids", "remaining_seat_ids"})` or
    /// `(False, failure dict)`.
    fn release_seats<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
        hold_id: &Arg<'py>,
        seat_ids: &Arg<'py>,
    ) -> Outcome<'py> {
        let (show_id, hold_id) = args::show_and_hold(show_id, hold_id)?;
        let result = args::seat_ids(seat_ids, validate::MAX_SEATS_PER_HOLD)?
            .and_then(|ids| self.call(py, |core| core.release_seats(&show_id, &hold_id, &ids)));
        outcome(py, Op::Release, result)
    }

    /// `(True, {"message": "booking cancelled", "seat_ids"})` or `(False, failure dict)`.
    fn cancel_booking<'py>(
        &self,
        py: Python<'py>,
        show_id: &Arg<'py>,
        booking_id: &Arg<'py>,
    ) -> Outcome<'py> {
        let show_id = args::show_id(show_id)?;
        let booking_id = args::booking_id(booking_id)?;
        outcome(py, Op::CancelBooking, self.call(py, |core| core.cancel_booking(&show_id, &booking_id)))
    }
}
