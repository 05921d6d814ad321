//! The one place seatcore errors become Python exceptions.
//!
//! The exception classes are plain Python classes in `seatcore/exceptions.py` (they need
//! multiple inheritance from builtins such as `LookupError` and `ConnectionError`, which
//! native exception types cannot have); this module only picks the class for each
//! [`ErrorKind`] and fills in its extra attributes.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};
use seatcore::{Error, ErrorKind, InputError};

/// The module that defines the exception classes.
const EXCEPTIONS_MODULE: &str = "seatcore.exceptions";

/// Every kind the core has today, for the mapping's test hook.
const ALL_KINDS: [ErrorKind; 12] = [
    ErrorKind::ShowNotFound,
    ErrorKind::ShowExists,
    ErrorKind::InvalidSeatIds,
    ErrorKind::SeatsUnavailable,
    ErrorKind::HoldNotFound,
    ErrorKind::HoldExpired,
    ErrorKind::HoldInvalidated,
    ErrorKind::InvalidInput,
    ErrorKind::RequestKeyReused,
    ErrorKind::Busy,
    ErrorKind::Unavailable,
    ErrorKind::Database,
];

/// The name of the exception class in `seatcore.exceptions` raised for `kind`.
pub fn exception_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ShowNotFound => "ShowNotFoundError",
        ErrorKind::ShowExists => "ShowExistsError",
        ErrorKind::InvalidSeatIds => "InvalidSeatIdsError",
        ErrorKind::SeatsUnavailable => "SeatsUnavailableError",
        ErrorKind::HoldNotFound => "HoldNotFoundError",
        ErrorKind::HoldExpired => "HoldExpiredError",
        ErrorKind::HoldInvalidated => "HoldInvalidatedError",
        ErrorKind::InvalidInput => "InvalidInputError",
        ErrorKind::RequestKeyReused => "RequestKeyReusedError",
        ErrorKind::Busy => "DatabaseBusyError",
        ErrorKind::Unavailable => "DatabaseUnavailableError",
        ErrorKind::Database => "DatabaseError",
        // A kind added to the core later still lands under the common base class.
        _ => "SeatcoreError",
    }
}

/// A short, stable name for what was wrong with an input, exposed as
/// `InvalidInputError.reason` so callers need not parse messages.
pub fn input_reason(err: &InputError) -> &'static str {
    match err {
        InputError::NoSeats => "no_seats",
        InputError::TooManySeats { .. } => "too_many_seats",
        InputError::EmptySeatId { .. } => "empty_seat_id",
        InputError::SeatIdTooLong { .. } => "seat_id_too_long",
        InputError::SeatIdControlChar { .. } => "seat_id_control_char",
        InputError::DuplicateSeatIds => "duplicate_seat_ids",
        InputError::ShowIdLength { .. } => "show_id_length",
        InputError::ShowIdControlChar => "show_id_control_char",
        InputError::HoldDuration { .. } => "hold_duration",
        InputError::RequestKey { .. } => "request_key",
        _ => "invalid_input",
    }
}

/// The stable kind with this number, if the core has one.
pub fn kind_from_code(code: u32) -> Option<ErrorKind> {
    ALL_KINDS.into_iter().find(|k| *k as u32 == code)
}

/// The exception class for `kind`, imported once per class.
fn exception_class<'py>(py: Python<'py>, kind: ErrorKind) -> PyResult<&'py Bound<'py, PyType>> {
    // One cell per kind, indexed by code; index 0 is the base class for unknown kinds.
    static CLASSES: [PyOnceLock<Py<PyType>>; ALL_KINDS.len() + 1] =
        [const { PyOnceLock::new() }; ALL_KINDS.len() + 1];
    let slot = ALL_KINDS.iter().position(|k| *k == kind).map_or(0, |i| i + 1);
    CLASSES[slot].import(py, EXCEPTIONS_MODULE, exception_name(kind))
}

/// Turns a core error into the Python exception of its kind.
pub fn to_py(py: Python<'_>, err: Error) -> PyErr {
    build(py, &err).unwrap_or_else(|import_failure| import_failure)
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let class = exception_class(py, err.kind())?;
    let message = err.to_string();
    let instance = match err {
        Error::SeatsUnavailable { seat_ids } => class.call1((message, PyTuple::new(py, seat_ids)?))?,
        Error::InvalidInput(input) => class.call1((message, input.index(), input_reason(input)))?,
        _ => class.call1((message,))?,
    };
    Ok(PyErr::from_value(instance))
}

/// `InvalidInputError` for an input the core rejected before any database work.
pub fn input(py: Python<'_>, err: InputError) -> PyErr {
    to_py(py, Error::InvalidInput(err))
}

/// A `TypeError` naming the argument and the expected type.
pub fn wrong_type(argument: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!("{argument} must be {expected}, not {}", type_name(got)))
}

/// The name of an object's type, for error messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// Test hook: the class name for a kind code, or None for a code the core does not have.
#[pyfunction]
pub fn _exception_name_for_code(code: u32) -> Option<&'static str> {
    kind_from_code(code).map(exception_name)
}

/// Test hook: raises the exception the mapping gives for an error of this kind code
/// (kinds whose errors carry a database source are represented by a stand-in source).
#[pyfunction]
pub fn _raise_for_code(py: Python<'_>, code: u32) -> PyResult<()> {
    let err = match kind_from_code(code) {
        Some(ErrorKind::ShowNotFound) => Error::ShowNotFound,
        Some(ErrorKind::ShowExists) => Error::ShowExists,
        Some(ErrorKind::InvalidSeatIds) => Error::InvalidSeatIds,
        Some(ErrorKind::SeatsUnavailable) => {
            Error::SeatsUnavailable { seat_ids: vec!["A1".into(), "B2".into()] }
        }
        Some(ErrorKind::HoldNotFound) => Error::HoldNotFound,
        Some(ErrorKind::HoldExpired) => Error::HoldExpired,
        Some(ErrorKind::HoldInvalidated) => Error::HoldInvalidated,
        Some(ErrorKind::InvalidInput) => Error::InvalidInput(InputError::EmptySeatId { index: 2 }),
        Some(ErrorKind::RequestKeyReused) => Error::RequestKeyReused,
        Some(ErrorKind::Unavailable) => Error::Unavailable("stand-in: connection refused".into()),
        // Busy and Database wrap a postgres::Error, which only a live server produces;
        // the live tests reach them. Here, the class lookup alone.
        Some(kind) => {
            let class = exception_class(py, kind)?;
            return Err(PyErr::from_value(class.call1(("stand-in",))?));
        }
        None => return Err(PyTypeError::new_err(format!("no error kind has code {code}"))),
    };
    Err(to_py(py, err))
}
