//! `seatcore._seatcore`: the native half of the `seatcore` Python package.
//!
//! A thin door onto the core crate: `SeatCore` (the handle), typed results, and the error
//! mapping. The pure-Python package around it (`python/seatcore/`) adds the exception
//! classes and the drop-in `DatabaseManager`.

mod args;
mod core;
mod error;
mod results;

use pyo3::prelude::*;

/// Native seat holds, bookings and releases on PostgreSQL. Import from `seatcore`.
#[pymodule]
fn _seatcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<core::SeatCore>()?;
    m.add_class::<results::Hold>()?;
    m.add_class::<results::Booking>()?;
    m.add_class::<results::Seat>()?;
    m.add_class::<results::ShowStatus>()?;
    m.add_class::<results::ResetCounts>()?;
    m.add_class::<results::Stats>()?;
    m.add_function(wrap_pyfunction!(error::_exception_name_for_code, m)?)?;
    m.add_function(wrap_pyfunction!(error::_raise_for_code, m)?)?;
    m.add("MAX_SEATS_PER_HOLD", seatcore::validate::MAX_SEATS_PER_HOLD)?;
    m.add("MAX_SEATS_PER_SHOW", seatcore::validate::MAX_SEATS_PER_SHOW)?;
    m.add("MIN_HOLD_SECONDS", seatcore::validate::MIN_HOLD_SECONDS)?;
    m.add("MAX_HOLD_SECONDS", seatcore::validate::MAX_HOLD_SECONDS)?;
    Ok(())
}
