//! Python arguments to owned Rust values, checked while attached, before any database work.
//!
//! A parameter of `SeatCore` and the `DatabaseManager` is one of the types here (`ShowId`,
//! `HoldSeats`, `Int`, ...), which pyo3 extracts, so both read a parameter of one name the
//! same way. Wrong types become `TypeError`. Values are left to the core's own rules
//! (`seatcore::validate`, the option ranges), so a bad value is refused with the core's
//! message whichever door it came through.

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyList, PyMapping, PySequence, PyString, PyTuple,
};
use seatcore::seat_map::MapSeat;
use seatcore::{validate, Error};

use crate::error;

/// A Python argument as the caller passed it, before the functions here check and convert it.
pub type Arg<'py> = Bound<'py, PyAny>;

/// A required string argument (`show_id`, `request_key`, `url`).
pub fn string(argument: &str, obj: &Arg<'_>) -> PyResult<String> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(s.to_str()?.to_owned()),
        Err(_) => Err(error::wrong_type(argument, "a str", obj)),
    }
}

/// Arguments that are one text each, converted as pyo3 extracts them; each reads as its
/// text. A wrong type is a `TypeError` naming the argument.
macro_rules! text_arguments {
    ($($(#[$doc:meta])* $name:ident = $convert:ident($argument:literal);)*) => {
        $(
            $(#[$doc])*
            pub struct $name(pub String);

            impl<'a, 'py> FromPyObject<'a, 'py> for $name {
                type Error = PyErr;

                fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
                    $convert($argument, &obj).map($name)
                }
            }

            impl std::ops::Deref for $name {
                type Target = str;

                fn deref(&self) -> &str {
                    &self.0
                }
            }
        )*
    };
}

text_arguments! {
    /// The `show_id` argument: a `str`.
    ShowId = string("show_id");
    /// A hold id: a `str` or a `uuid.UUID`. Text that is not a UUID is left to the core,
    /// which answers "hold not found".
    HoldId = uuid_text("hold_id");
    /// A booking id: a `str` or a `uuid.UUID`. Text that is not a UUID is left to the core,
    /// which answers "booking not found".
    BookingId = uuid_text("booking_id");
    /// The `reason` of a block: a `str` (a `None` reason is no reason).
    Reason = string("reason");
    /// The key of a hold request, which makes its retries return the first attempt's hold.
    RequestKey = string("request_key");
    /// The `seat_id` a history page is about: a `str`.
    SeatId = string("seat_id");
    /// The `category` filter of a best-available hold: a `str`.
    Category = string("category");
    /// The `section` filter of a best-available hold: a `str`.
    Section = string("section");
}

/// A `seat_ids` argument of at most `MAX` seats: a list (or tuple, or other sequence) of
/// `str`. A wrong type is a `TypeError` as pyo3 extracts it; the core's verdict on the count
/// is kept for the call, which answers with it as with any refusal of the core.
pub struct SeatIds<const MAX: usize>(seatcore::Result<Vec<String>>);

/// The seats of one hold (`hold`, `release_seats`).
pub type HoldSeats = SeatIds<{ validate::MAX_SEATS_PER_HOLD }>;

/// Seats of a whole show (`initialize_show`, `block`, `unblock`).
pub type ShowSeats = SeatIds<{ validate::MAX_SEATS_PER_SHOW }>;

impl<const MAX: usize> SeatIds<MAX> {
    /// The seat ids, or the core's refusal of their count.
    pub fn ids(self) -> seatcore::Result<Vec<String>> {
        self.0
    }
}

impl<'a, 'py, const MAX: usize> FromPyObject<'a, 'py> for SeatIds<MAX> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        seat_ids(&obj, MAX).map(SeatIds)
    }
}

/// The seats of a structured map (see [`map_seats`]), or the core's refusal of their count.
pub struct MapSeats(seatcore::Result<Vec<MapSeat>>);

impl MapSeats {
    /// The seats, or the core's refusal of their count.
    pub fn seats(self) -> seatcore::Result<Vec<MapSeat>> {
        self.0
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for MapSeats {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        map_seats(&obj).map(MapSeats)
    }
}

/// The `hold_duration_sec` argument of the `DatabaseManager`: whole seconds (see
/// [`whole_seconds`]).
pub struct HoldDuration(pub i64);

impl<'a, 'py> FromPyObject<'a, 'py> for HoldDuration {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        whole_seconds("hold_duration_sec", &obj).map(HoldDuration)
    }
}

/// An optional string argument (`None` or a `str`).
pub fn optional_string(argument: &str, obj: Option<&Arg<'_>>) -> PyResult<Option<String>> {
    match obj {
        Some(obj) if !obj.is_none() => string(argument, obj).map(Some),
        _ => Ok(None),
    }
}

/// The filters of a best-available hold.
pub fn best_filters(
    category: Option<Category>,
    section: Option<Section>,
    accessible: Option<bool>,
) -> seatcore::BestFilters {
    seatcore::BestFilters { category: category.map(|c| c.0), section: section.map(|s| s.0), accessible }
}

/// A seat count; a negative one is 0, which the core's range check refuses.
pub fn count(count: Int) -> usize {
    usize::try_from(count.0).unwrap_or(0)
}

fn uuid_text(argument: &str, obj: &Arg<'_>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    match obj.extract::<seatcore::Uuid>() {
        Ok(id) => Ok(id.to_string()),
        Err(_) => Err(error::wrong_type(argument, "a str or uuid.UUID", obj)),
    }
}

/// A list (or tuple, or other sequence) of seat id strings. The outer result is the
/// Python side (a wrong type); the inner one the core's verdict on the count, checked first
/// so a huge list is refused without converting its elements.
fn seat_ids(obj: &Arg<'_>, max: usize) -> PyResult<seatcore::Result<Vec<String>>> {
    if !is_sequence(obj) {
        return Err(error::wrong_type("seat_ids", "a list of str", obj));
    }
    let len = obj.len()?;
    if let Err(e) = validate::seat_count(len, max) {
        return Ok(Err(Error::InvalidInput(e)));
    }
    let mut ids = Vec::with_capacity(len);
    for (index, item) in obj.try_iter()?.enumerate() {
        let item = item?;
        match item.cast::<PyString>() {
            Ok(s) => ids.push(s.to_str()?.to_owned()),
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "each seat_id must be a string (seat_ids[{index}] is {})",
                    error::type_name(&item)
                )))
            }
        }
    }
    if ids.len() != len {
        // The sequence changed size while we read it (another thread mutated it).
        return Err(PyRuntimeError::new_err("seat_ids changed size during the call"));
    }
    Ok(Ok(ids))
}

/// A list, a tuple or another sequence, but not text or bytes (sequences of characters
/// or ints, never what a caller meant).
fn is_sequence(obj: &Arg<'_>) -> bool {
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return true;
    }
    !(obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>())
        && obj.cast::<PySequence>().is_ok()
}

/// A whole number given as an `int` (not a `bool`). Values beyond `i64` saturate: the
/// core's range check then says what is allowed.
#[derive(Clone, Copy)]
pub struct Int(pub i64);

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
            return Err(PyTypeError::new_err(format!("must be an int, not {}", error::type_name(&obj))));
        }
        saturated(&obj).map(Int)
    }
}

fn saturated(int: &Bound<'_, PyAny>) -> PyResult<i64> {
    match int.extract::<i64>() {
        Ok(n) => Ok(n),
        Err(_) => Ok(if int.lt(0)? { i64::MIN } else { i64::MAX }),
    }
}

/// A hold duration as the old `DatabaseManager` took it (it went to
/// `timedelta(seconds=...)`): an `int` or int-like (`operator.index`), or a finite `float`
/// cut to its whole seconds. A `bool` is a `TypeError`.
fn whole_seconds(argument: &str, obj: &Arg<'_>) -> PyResult<i64> {
    if obj.is_instance_of::<PyBool>() {
        return Err(error::wrong_type(argument, "an int", obj));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let secs = f.value();
        if !secs.is_finite() {
            return Err(PyValueError::new_err(format!("{argument} must be a finite number, not {secs}")));
        }
        return Ok(secs.trunc() as i64); // saturating: the core's range check follows
    }
    if obj.is_instance_of::<PyInt>() {
        return saturated(obj);
    }
    // int-likes such as numpy integers
    let py = obj.py();
    match py.import("operator")?.call_method1("index", (obj,)) {
        Ok(int) => saturated(&int),
        Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(error::wrong_type(argument, "an int", obj)),
        Err(e) => Err(e),
    }
}

/// The seats of a structured map: each a `str` (a seat id; its row and position come from
/// it, as for `initialize_show`) or a mapping with `seat_id` and any of `section`, `row`,
/// `position`, `category`, `accessible`, `rank`. Wrong types and unknown keys are a
/// `TypeError` naming the seat's index; values are the core's to check (`seat_map::resolve`).
fn map_seats(obj: &Arg<'_>) -> PyResult<seatcore::Result<Vec<MapSeat>>> {
    if !is_sequence(obj) {
        return Err(error::wrong_type("seats", "a list of str or dict", obj));
    }
    let len = obj.len()?;
    if let Err(e) = validate::seat_count(len, validate::MAX_SEATS_PER_SHOW) {
        return Ok(Err(Error::InvalidInput(e)));
    }
    let mut seats = Vec::with_capacity(len);
    for (index, item) in obj.try_iter()?.enumerate() {
        seats.push(map_seat(index, &item?)?);
    }
    if seats.len() != len {
        return Err(PyRuntimeError::new_err("seats changed size during the call"));
    }
    Ok(Ok(seats))
}

fn map_seat(index: usize, item: &Bound<'_, PyAny>) -> PyResult<MapSeat> {
    if let Ok(s) = item.cast::<PyString>() {
        return Ok(MapSeat::flat(s.to_str()?));
    }
    let Ok(mapping) = item.cast::<PyMapping>() else {
        return Err(PyTypeError::new_err(format!(
            "each seat must be a str or a dict (seats[{index}] is {})",
            error::type_name(item)
        )));
    };
    let wrong = |key: &str, expected: &str, value: &Bound<'_, PyAny>| {
        PyTypeError::new_err(format!(
            "seats[{index}]['{key}'] must be {expected}, not {}",
            error::type_name(value)
        ))
    };
    let text = |key: &str, value: &Bound<'_, PyAny>| -> PyResult<String> {
        match value.cast::<PyString>() {
            Ok(s) => Ok(s.to_str()?.to_owned()),
            Err(_) => Err(wrong(key, "a str", value)),
        }
    };
    let mut seat = MapSeat::default();
    let mut seat_id = None;
    for entry in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = entry.extract()?;
        let Ok(key) = key.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!("seats[{index}] has a key that is not a str")));
        };
        let key = key.to_str()?;
        let absent = value.is_none();
        match key {
            "seat_id" => seat_id = Some(text(key, &value)?),
            "section" => seat.section = Some(text(key, &value)?),
            "category" => seat.category = Some(text(key, &value)?),
            "row" if absent => {}
            "row" => seat.row = Some(text(key, &value)?),
            "position" if absent => {}
            "position" => match value.extract::<Int>() {
                Ok(n) => seat.position = Some(n.0),
                Err(_) => return Err(wrong(key, "an int", &value)),
            },
            "accessible" => match value.cast::<PyBool>() {
                Ok(b) => seat.accessible = Some(b.is_true()),
                Err(_) => return Err(wrong(key, "a bool", &value)),
            },
            "rank" if absent => {}
            "rank" => {
                if value.is_instance_of::<PyBool>()
                    || !(value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>())
                {
                    return Err(wrong(key, "an int or float", &value));
                }
                seat.rank = Some(value.extract::<f64>()?);
            }
            other => {
                return Err(PyTypeError::new_err(format!(
                    "seats[{index}] has an unknown key '{other}' (known: seat_id, section, row, position, category, accessible, rank)"
                )))
            }
        }
    }
    seat.seat_id =
        seat_id.ok_or_else(|| PyTypeError::new_err(format!("seats[{index}] has no \"seat_id\"")))?;
    Ok(seat)
}
