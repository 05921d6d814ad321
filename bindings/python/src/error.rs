//! The one place seatcore errors become Python exceptions.
//!
//! The exception classes are plain Python classes in `seatcore/exceptions.py` (they need
//! multiple inheritance from builtins such as `LookupError` and `ConnectionError`, which
//! native exception types cannot have). Each is named after its kind in the core's table,
//! `kind.title() + "Error"`, and takes its `code` from the same table; this module picks the
//! class and fills in the extra attributes some kinds carry.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};
use seatcore::{Error, ErrorKind, InputError};

/// The module that defines the exception classes.
const EXCEPTIONS_MODULE: &str = "seatcore.exceptions";

/// The name of the exception class raised for `kind`: its title in the core's table plus
/// `Error` (`ShowNotFoundError`, ..., `DatabaseBusyError`, `ConfigError`).
pub fn class_name(kind: ErrorKind) -> String {
    format!("{}Error", kind.title())
}

/// The exception class for `kind`, imported once per class.
fn exception_class<'py>(py: Python<'py>, kind: ErrorKind) -> PyResult<&'py Bound<'py, PyType>> {
    static CLASSES: [PyOnceLock<Py<PyType>>; ErrorKind::ALL.len()] =
        [const { PyOnceLock::new() }; ErrorKind::ALL.len()];
    let slot = ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or_default();
    CLASSES[slot].import(py, EXCEPTIONS_MODULE, &class_name(kind))
}

/// Turns a core error into the Python exception of its kind.
pub fn to_py(py: Python<'_>, err: Error) -> PyErr {
    build(py, &err).unwrap_or_else(|import_failure| import_failure)
}

/// Runs `op`, its error raised as the Python exception of its kind.
pub fn raising<T>(py: Python<'_>, op: impl FnOnce() -> seatcore::Result<T>) -> PyResult<T> {
    op().map_err(|e| to_py(py, e))
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let kind = err.kind();
    let class = exception_class(py, kind)?;
    let message = err.to_string();
    // The constructor arguments of each class: the message, and what some kinds carry.
    let instance = match kind {
        ErrorKind::SeatsUnavailable => class.call1((message, PyTuple::new(py, err.unavailable_seats())?))?,
        ErrorKind::SeatsNotInHold => class.call1((message, PyTuple::new(py, err.seats_not_in_hold())?))?,
        ErrorKind::InvalidInput => match err.input() {
            Some(input) => class.call1((message, input.index(), input.reason()))?,
            None => class.call1((message,))?,
        },
        ErrorKind::ShowNotFound
        | ErrorKind::ShowExists
        | ErrorKind::InvalidSeatIds
        | ErrorKind::HoldNotFound
        | ErrorKind::HoldExpired
        | ErrorKind::HoldInvalidated
        | ErrorKind::RequestKeyReused
        | ErrorKind::Busy
        | ErrorKind::Unavailable
        | ErrorKind::Database
        | ErrorKind::Config
        | ErrorKind::NoAdjacentSeats => class.call1((message,))?,
        ErrorKind::BookingNotFound | ErrorKind::BookingCancelled => class.call1((message,))?,
    };
    Ok(PyErr::from_value(instance))
}

/// A `TypeError` naming the argument and the expected type.
pub fn wrong_type(argument: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!("{argument} must be {expected}, not {}", type_name(got)))
}

/// The name of an object's type, for error messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// Every exception class name with its kind's code, from the core's table; the exception
/// module sets each class's `code` from it and fails to import when a kind has no class.
pub fn exception_codes() -> Vec<(String, u32)> {
    ErrorKind::ALL.iter().map(|k| (class_name(*k), k.code())).collect()
}

/// Test hook: the class name for a kind code, or None for a code the core does not have.
#[pyfunction]
pub fn _exception_name_for_code(code: u32) -> Option<String> {
    ErrorKind::from_code(code).map(class_name)
}

/// Test hook: raises the exception the mapping gives for a stand-in error of this kind code.
#[pyfunction]
pub fn _raise_for_code(py: Python<'_>, code: u32) -> PyResult<()> {
    let Some(kind) = ErrorKind::from_code(code) else {
        return Err(PyTypeError::new_err(format!("no error kind has code {code}")));
    };
    let err = match kind {
        ErrorKind::ShowNotFound => Error::ShowNotFound,
        ErrorKind::ShowExists => Error::ShowExists,
        ErrorKind::InvalidSeatIds => Error::InvalidSeatIds,
        ErrorKind::SeatsUnavailable => Error::SeatsUnavailable { seat_ids: vec!["A1".into(), "B2".into()] },
        ErrorKind::HoldNotFound => Error::HoldNotFound,
        ErrorKind::HoldExpired => Error::HoldExpired,
        ErrorKind::HoldInvalidated => Error::HoldInvalidated,
        ErrorKind::InvalidInput => Error::InvalidInput(InputError::EmptySeatId { index: 2 }),
        ErrorKind::RequestKeyReused => Error::RequestKeyReused,
        ErrorKind::Busy => Error::Busy(None),
        ErrorKind::Unavailable => Error::Unavailable("stand-in: connection refused".into()),
        ErrorKind::Config => Error::Config("stand-in: sslmode must be one of ...".into()),
        ErrorKind::NoAdjacentSeats => Error::NoAdjacentSeats,
        ErrorKind::BookingNotFound => Error::BookingNotFound,
        ErrorKind::SeatsNotInHold => Error::SeatsNotInHold { seat_ids: vec!["B7".into(), "Z1".into()] },
        ErrorKind::BookingCancelled => Error::BookingCancelled,
        // Database errors wrap a postgres::Error, which only a live server produces; the
        // live tests reach them. Here, the class lookup alone.
        ErrorKind::Database => {
            let class = exception_class(py, kind)?;
            return Err(PyErr::from_value(class.call1(("stand-in",))?));
        }
    };
    Err(to_py(py, err))
}
