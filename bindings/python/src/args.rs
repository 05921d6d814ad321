//! Python arguments to owned Rust values, checked while attached, before any database work.
//!
//! Wrong types become `TypeError`; values the core rejects become `InvalidInputError` (a
//! `ValueError`) through the core's own rules in `seatcore::validate`.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyString};
use seatcore::validate;

use crate::error;

/// A required string argument (`show_id`, `request_key`).
pub fn string(argument: &str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(s.to_str()?.to_owned()),
        Err(_) => Err(error::wrong_type(argument, "a str", obj)),
    }
}

/// A hold id: a `str` or a `uuid.UUID`. Text that is not a UUID is left to the core, which
/// answers "hold not found".
pub fn hold_id(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    match obj.extract::<seatcore::Uuid>() {
        Ok(id) => Ok(id.to_string()),
        Err(_) => Err(error::wrong_type("hold_id", "a str or uuid.UUID", obj)),
    }
}

/// A list (or tuple, or other sequence) of seat id strings, at most `max` long.
///
/// The length is checked first, so a huge list is refused without converting its elements.
pub fn seat_ids(obj: &Bound<'_, PyAny>, max: usize) -> PyResult<Vec<String>> {
    let py = obj.py();
    if !is_sequence(obj) {
        return Err(error::wrong_type("seat_ids", "a list of str", obj));
    }
    let len = obj.len()?;
    validate::seat_count(len, max).map_err(|e| error::input(py, e))?;
    let mut ids = Vec::with_capacity(len);
    for (index, item) in obj.try_iter()?.enumerate() {
        let item = item?;
        match item.cast::<PyString>() {
            Ok(s) => ids.push(s.to_str()?.to_owned()),
            Err(_) => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "each seat_id must be a string (seat_ids[{index}] is {})",
                    error::type_name(&item)
                )))
            }
        }
    }
    if ids.len() != len {
        // The sequence changed size while we read it (another thread mutated it).
        return Err(pyo3::exceptions::PyRuntimeError::new_err("seat_ids changed size during the call"));
    }
    Ok(ids)
}

/// A list, a tuple or another sequence, but not text or bytes (sequences of characters
/// or ints, never what a caller meant).
fn is_sequence(obj: &Bound<'_, PyAny>) -> bool {
    use pyo3::types::{PyByteArray, PyBytes, PyList, PySequence, PyTuple};
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return true;
    }
    !(obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>())
        && obj.cast::<PySequence>().is_ok()
}

/// A hold duration in whole seconds: an `int` (not a `bool`). Out-of-range values, however
/// large, reach the core's check and become `InvalidInputError`.
pub struct Seconds(pub i64);

impl<'a, 'py> FromPyObject<'a, 'py> for Seconds {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
            return Err(error::wrong_type("the hold duration", "an int", &obj));
        }
        match obj.extract::<i64>() {
            Ok(n) => Ok(Seconds(n)),
            // Beyond i64: saturate, and let the core's range check say what is allowed.
            Err(_) => Ok(Seconds(if obj.lt(0)? { i64::MIN } else { i64::MAX })),
        }
    }
}

/// A positive duration in seconds (an `int` or `float`), for connection settings.
pub fn duration(argument: &str, secs: f64) -> PyResult<std::time::Duration> {
    if secs.is_finite() && secs > 0.0 && secs < 1e9 {
        Ok(std::time::Duration::from_secs_f64(secs))
    } else {
        Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{argument} must be a positive number of seconds, not {secs}"
        )))
    }
}

/// A count for connection settings, within `min..=max`.
pub fn count(argument: &str, n: i64, min: i64, max: i64) -> PyResult<u32> {
    if (min..=max).contains(&n) {
        Ok(n as u32)
    } else {
        Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{argument} must be between {min} and {max}, not {n}"
        )))
    }
}
