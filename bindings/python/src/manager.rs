//! The native half of `seatcore.DatabaseManager` (`seatcore/_manager.py` keeps the old
//! class's Python shape: signatures, docstrings, `engine`, subclassing and patching).
//!
//! Every value returned here is the core's: success values are the serde shapes of its
//! result types, failures `seatcore::contract::manager_error` for the operation. Wrong
//! argument *types* raise `TypeError`; nothing else raises.

use pyo3::prelude::*;
use pythonize::pythonize;
use seatcore::contract::{self, Op};
use serde::Serialize;

use crate::args::{
    self, BookingId, Category, HoldDuration, HoldId, HoldSeats, Int, MapSeats, Reason, SeatId, Section,
    ShowId, ShowSeats,
};
use crate::changes;
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

/// The manager's methods that answer with an [`Outcome`], one row each: the Python
/// parameters, the operation whose failure values the contract gives, and the core call
/// (run detached) whose success is the value.
macro_rules! outcome_methods {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $op:ident = |$core:ident| $call:expr;
    )*) => {
        #[pymethods]
        impl Manager {
            $(
                $(#[$attr])*
                fn $name<'py>(&self, py: Python<'py> $(, $arg: $ty)*) -> Outcome<'py> {
                    outcome(py, Op::$op, self.call(py, |$core| $call))
                }
            )*
        }
    };
}

outcome_methods! {
    /// `(True, "show initialized with N seats")` or `(False, message)`.
    fn initialize_show(show_id: ShowId, seat_ids: ShowSeats) -> Initialize =
        |core| core.initialize_show(&show_id, &seat_ids.ids()?).map(contract::initialized_message);

    /// `(True, hold dict)` or `(False, failure dict)`; the duration is not clamped.
    fn hold_seats(show_id: ShowId, seat_ids: HoldSeats, hold_duration_sec: HoldDuration) -> Hold =
        |core| core.hold(&show_id, &seat_ids.ids()?, hold_duration_sec.0);

    /// `(True, booking dict)` or `(False, failure dict)`.
    fn book_hold(show_id: ShowId, hold_id: HoldId) -> Book = |core| core.book(&show_id, &hold_id);

    /// `(True, {"changes": [...], "next": id})` or `(False, failure dict)`.
    #[pyo3(
        signature = (show_id, after = Int(0), seat_id = None, limit = Int(seatcore::DEFAULT_CHANGE_PAGE as i64)),
        text_signature = "($self, show_id, after=0, seat_id=None, limit=100)"
    )]
    fn get_history(show_id: ShowId, after: Int, seat_id: Option<SeatId>, limit: Int) -> History =
        |core| core.history(&show_id, &changes::query(after, seat_id, limit));

    /// `(True, "show initialized with N seats")` or `(False, message)`, for a structured
    /// map (seats as `SeatCore.initialize_map` takes them).
    fn initialize_seat_map(show_id: ShowId, seats: MapSeats) -> Initialize =
        |core| core.initialize_map(&show_id, &seats.seats()?).map(contract::initialized_message);

    /// `(True, {"blocked": [...]})` or `(False, failure dict)`.
    #[pyo3(signature = (show_id, seat_ids, reason = None))]
    fn block_seats(show_id: ShowId, seat_ids: ShowSeats, reason: Option<Reason>) -> Block =
        |core| core.block(&show_id, &seat_ids.ids()?, reason.as_deref()).map(|ids| contract::blocked(&ids));

    /// `(True, {"unblocked": [...]})` or `(False, failure dict)`.
    fn unblock_seats(show_id: ShowId, seat_ids: ShowSeats) -> Unblock =
        |core| core.unblock(&show_id, &seat_ids.ids()?).map(|ids| contract::unblocked(&ids));

    /// `(True, hold dict)` or `(False, failure dict)`; the duration is not clamped.
    #[pyo3(signature = (show_id, count, hold_duration_sec, category = None, section = None, accessible = None))]
    #[allow(clippy::too_many_arguments)]
    fn hold_best_seats(
        show_id: ShowId,
        count: Int,
        hold_duration_sec: HoldDuration,
        category: Option<Category>,
        section: Option<Section>,
        accessible: Option<bool>
    ) -> HoldBest = |core| {
        let filters = args::best_filters(category, section, accessible);
        core.hold_best(&show_id, args::count(count), &filters, hold_duration_sec.0)
    };

    /// `(True, counts dict)` or `(False, failure dict)`.
    fn reset_all_seats() -> Reset = |core| core.reset_all();

    // ---- the hold lifecycle ----

    /// `(True, hold dict)` with the new expiry, or `(False, failure dict)`; the duration is
    /// not clamped (the core takes 1 to 86,400 s), the maximum hold life still applies.
    fn extend_hold(show_id: ShowId, hold_id: HoldId, hold_duration_sec: HoldDuration) -> Extend =
        |core| core.extend(&show_id, &hold_id, hold_duration_sec.0);

    /// `(True, {"message": "seats released", "seat_ids", "remaining_seat_ids"})` or
    /// `(False, failure dict)`.
    fn release_seats(show_id: ShowId, hold_id: HoldId, seat_ids: HoldSeats) -> Release =
        |core| core.release_seats(&show_id, &hold_id, &seat_ids.ids()?);

    /// `(True, {"message": "booking cancelled", "seat_ids"})` or `(False, failure dict)`.
    fn cancel_booking(show_id: ShowId, booking_id: BookingId) -> CancelBooking =
        |core| core.cancel_booking(&show_id, &booking_id);
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

    /// True, or False when there is no such live hold (or the database failed).
    fn release_hold(&self, py: Python<'_>, show_id: ShowId, hold_id: HoldId) -> bool {
        self.call(py, |core| core.release(&show_id, &hold_id)).is_ok()
    }

    /// The number of expired holds deleted (0 when the database failed).
    fn cleanup_expired_holds(&self, py: Python<'_>) -> u64 {
        self.call(py, |core| core.sweep_expired()).unwrap_or(0)
    }

    /// The status dict, or None for an unknown show (or when the database failed).
    fn get_seat_status<'py>(&self, py: Python<'py>, show_id: ShowId) -> PyResult<Option<Bound<'py, PyAny>>> {
        let status = self.call(py, |core| core.seat_status(&show_id));
        found(py, status.as_ref().map(contract::manager_status))
    }

    /// The healthy dict, or the unhealthy one.
    fn health_check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (_, value) = outcome(py, Op::Health, self.call(py, |core| core.health()))?;
        Ok(value)
    }

    /// The map dict `{"show_id", "seats": [...]}`, or None for an unknown show (or when
    /// the database failed).
    fn get_seat_map<'py>(&self, py: Python<'py>, show_id: ShowId) -> PyResult<Option<Bound<'py, PyAny>>> {
        found(py, self.call(py, |core| core.seat_map(&show_id)))
    }
}
