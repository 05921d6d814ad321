//! `seatcore._seatcore`: the native half of the `seatcore` Python package.
//!
//! A thin door onto the core crate: `SeatCore` (the handle), typed results, the values of
//! the drop-in `DatabaseManager`, and the error mapping. The pure-Python package around it
//! (`python/seatcore/`) adds the exception classes and the `DatabaseManager` class itself.

/// `with` support for a class whose `$close(py)` method releases what it holds: `__enter__`
/// returns the object, `__exit__` (documented by `$doc`) closes it and lets any exception
/// through.
macro_rules! closed_by_with {
    ($class:ty, $close:ident, $doc:literal) => {
        #[pyo3::pymethods]
        impl $class {
            fn __enter__(slf: pyo3::Py<Self>) -> pyo3::Py<Self> {
                slf
            }

            #[doc = $doc]
            fn __exit__(
                &self,
                py: pyo3::Python<'_>,
                _exc_type: Option<&crate::args::Arg<'_>>,
                _exc_value: Option<&crate::args::Arg<'_>>,
                _traceback: Option<&crate::args::Arg<'_>>,
            ) -> bool {
                self.$close(py);
                false
            }
        }
    };
}

mod args;
mod changes;
mod core;
mod error;
mod lifecycle;
mod manager;
mod results;

use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyDict, PyTuple};
use seatcore::{contract, validate, Options};

/// Native seat holds, bookings and releases on PostgreSQL. Import from `seatcore`.
#[pymodule]
fn _seatcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<core::SeatCore>()?;
    m.add_class::<results::Hold>()?;
    m.add_class::<results::Booking>()?;
    m.add_class::<results::Seat>()?;
    m.add_class::<results::ShowStatus>()?;
    m.add_class::<results::ResetCounts>()?;
    m.add_class::<results::Audit>()?;
    m.add_class::<results::Stats>()?;
    m.add_class::<results::MapSeat>()?;
    m.add_class::<lifecycle::SeatsReleased>()?;
    m.add_class::<lifecycle::Cancellation>()?;
    m.add_class::<changes::Change>()?;
    m.add_class::<changes::ChangePage>()?;
    m.add_class::<changes::ChangeStream>()?;
    // The package's own helpers: attributes, kept out of `__all__` (the package re-exports
    // the module's `__all__`).
    let manager = py.get_type::<manager::Manager>();
    m.setattr(manager.name()?, &manager)?;
    m.setattr("_exception_name_for_code", wrap_pyfunction!(error::_exception_name_for_code, m)?)?;
    m.setattr("_raise_for_code", wrap_pyfunction!(error::_raise_for_code, m)?)?;
    m.setattr("_EXCEPTION_CODES", error::exception_codes().into_py_dict(py)?)?;
    m.setattr("_DEFAULT_OPTIONS", default_options(py)?)?;
    let endpoints: Vec<(&str, &str)> =
        contract::Op::ALL.iter().filter(|e| core::answers(**e)).map(|e| (e.method(), e.template())).collect();
    m.add("REST_ENDPOINTS", PyTuple::new(py, endpoints)?)?;
    let events = contract::Op::Events;
    m.add("EVENTS_ENDPOINT", (events.method(), events.template()))?;
    m.add("MAX_SEATS_PER_HOLD", validate::MAX_SEATS_PER_HOLD)?;
    m.add("MAX_SEATS_PER_SHOW", validate::MAX_SEATS_PER_SHOW)?;
    m.add("MIN_HOLD_SECONDS", validate::MIN_HOLD_SECONDS)?;
    m.add("MAX_HOLD_SECONDS", validate::MAX_HOLD_SECONDS)?;
    m.add("MAX_BEST_COUNT", seatcore::BEST_MAX_COUNT)?;
    m.add("MAX_REPORTED_PROBLEMS", seatcore::MAX_REPORTED_PROBLEMS)?;
    m.add("MAX_CHANGE_PAGE", seatcore::MAX_CHANGE_PAGE)?;
    m.add("MAX_CHANGE_PAGE_SEATS", seatcore::MAX_CHANGE_PAGE_SEATS)?;
    Ok(())
}

/// `SeatCore`'s keyword defaults, from `Options::DEFAULT` (a test holds the constructor's
/// shown signature to them).
fn default_options(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let o = Options::DEFAULT;
    let d = PyDict::new(py);
    d.set_item(Options::POOL_SIZE.name, o.pool_size)?;
    d.set_item(Options::MIN_IDLE.name, o.min_idle)?;
    d.set_item(Options::CHECKOUT_TIMEOUT.name, o.checkout_timeout.as_secs_f64())?;
    d.set_item(Options::CONNECT_TIMEOUT.name, o.connect_timeout.as_secs_f64())?;
    d.set_item(Options::STATEMENT_TIMEOUT.name, o.statement_timeout.as_secs_f64())?;
    d.set_item(Options::LOCK_TIMEOUT.name, o.lock_timeout.as_secs_f64())?;
    d.set_item(Options::SWEEP_BATCH.name, o.sweep_batch)?;
    d.set_item(Options::CHANGE_RETENTION.name, o.change_retention.as_secs_f64())?;
    d.set_item(Options::MAX_HOLD_LIFE.name, o.max_hold_life.as_secs_f64())?;
    d.set_item("migrate", o.migrate)?;
    d.set_item("group_holds", o.group_holds)?;
    d.set_item("read_url", o.read_url)?;
    Ok(d)
}
