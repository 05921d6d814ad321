//! Result codes, the error object, and the one boundary every exported function goes through.

use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::OnceLock;

use seatcore_core::{Error, ErrorKind};

use crate::args::seatcore_seats;
use crate::handle::{self, View};

/// The result of every fallible seatcore function.
///
/// `SEATCORE_OK` is 0; every other value is a failure. Codes 1 to 99 are the core's
/// error kinds (`SEATCORE_` + the kind's name, with the kind's number); codes from 100 on
/// belong to the C API. The numbers are part of the ABI: they never change and are never
/// reused. Code that switches on a result must handle unknown values: later versions may
/// add codes.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum seatcore_result {
    /// Success: the out-parameters were written.
    SEATCORE_OK = 0,
    /// No show has this id.
    SEATCORE_SHOW_NOT_FOUND = 1,
    /// A show with this id exists already; its seat map is unchanged.
    SEATCORE_SHOW_EXISTS = 2,
    /// At least one requested seat id is not on the show's seat map.
    SEATCORE_INVALID_SEAT_IDS = 3,
    /// Some requested seats are held or booked by someone else; nothing was held. The error
    /// object lists them (`err->unavailable`).
    SEATCORE_SEATS_UNAVAILABLE = 4,
    /// No live hold of this show has this id (never made, released, swept, booked as
    /// another show's, or not a UUID at all).
    SEATCORE_HOLD_NOT_FOUND = 5,
    /// The hold's time ran out (by the database's clock); hold the seats again.
    SEATCORE_HOLD_EXPIRED = 6,
    /// The hold's seats no longer carry it (an administrative reset ran).
    SEATCORE_HOLD_INVALIDATED = 7,
    /// The input broke a rule (empty or duplicate seat ids, too many seats, bad show id,
    /// hold duration out of range, ...). Nothing was written. The message names the rule;
    /// `err->index` gives the position in the seat list when there is one (`err->has_index`).
    SEATCORE_INVALID_INPUT = 8,
    /// The request key was used before for a different hold request of this show.
    SEATCORE_REQUEST_KEY_REUSED = 9,
    /// The database could not serve in time (lock or statement timeout); retrying later may
    /// succeed.
    SEATCORE_BUSY = 10,
    /// The database cannot be reached, or no pooled connection came free in time; retrying
    /// later may succeed.
    SEATCORE_UNAVAILABLE = 11,
    /// Any other database failure.
    SEATCORE_DATABASE = 12,
    /// The configuration cannot work: a malformed database URL, an unknown `sslmode`, an
    /// unreadable certificate, an option or interval out of its range. Reported at once,
    /// never retried; retrying changes nothing. The message says what to fix.
    SEATCORE_CONFIG = 13,
    /// No block of adjacent free seats of one row fits a best-available request; nothing
    /// was held.
    SEATCORE_NO_ADJACENT_SEATS = 17,
    /// No booking of this show has this id (never made, another show's, or not a UUID).
    SEATCORE_BOOKING_NOT_FOUND = 14,
    /// Some seats to release are not in the hold; nothing was released. The error object
    /// lists them (`err->not_in_hold`).
    SEATCORE_SEATS_NOT_IN_HOLD = 15,
    /// The hold was booked and the booking cancelled: its seats are free again, and booking
    /// the hold again does not take them back; hold them anew.
    SEATCORE_BOOKING_CANCELLED = 16,
    /// A pointer argument that must not be NULL was NULL. Nothing was done.
    SEATCORE_NULL_PARAMETER = 100,
    /// A string argument was not valid UTF-8. Nothing was done.
    SEATCORE_INVALID_UTF8 = 101,
    /// A bug inside seatcore (a Rust panic) was caught at the boundary. The handle stays
    /// usable; please report the message.
    SEATCORE_PANIC = 102,
    /// An index argument was past the end of a list. No function of this version takes an
    /// index: result objects are read by their fields. The number stays reserved.
    SEATCORE_INDEX_OUT_OF_RANGE = 103,
    /// Returned by no call: `seatcore_result_name` names every value it does not know so
    /// (a code of a later version, say).
    SEATCORE_UNKNOWN_ERROR = 199,
}

use seatcore_result::*;

/// The codes of the C API itself, which no core kind has, with their names. The names of
/// the core's codes come from the core's table ([`ErrorKind::name`]).
const C_ONLY: [(seatcore_result, &CStr); 6] = [
    (SEATCORE_OK, c"SEATCORE_OK"),
    (SEATCORE_NULL_PARAMETER, c"SEATCORE_NULL_PARAMETER"),
    (SEATCORE_INVALID_UTF8, c"SEATCORE_INVALID_UTF8"),
    (SEATCORE_PANIC, c"SEATCORE_PANIC"),
    (SEATCORE_INDEX_OUT_OF_RANGE, c"SEATCORE_INDEX_OUT_OF_RANGE"),
    (SEATCORE_UNKNOWN_ERROR, c"SEATCORE_UNKNOWN_ERROR"),
];

impl seatcore_result {
    /// The result code of a core error kind. Exhaustive on purpose: a new kind in the core
    /// stops the build here until it has its code (the same number, `SEATCORE_` + name).
    pub(crate) fn from_kind(kind: ErrorKind) -> seatcore_result {
        match kind {
            ErrorKind::ShowNotFound => SEATCORE_SHOW_NOT_FOUND,
            ErrorKind::ShowExists => SEATCORE_SHOW_EXISTS,
            ErrorKind::InvalidSeatIds => SEATCORE_INVALID_SEAT_IDS,
            ErrorKind::SeatsUnavailable => SEATCORE_SEATS_UNAVAILABLE,
            ErrorKind::HoldNotFound => SEATCORE_HOLD_NOT_FOUND,
            ErrorKind::HoldExpired => SEATCORE_HOLD_EXPIRED,
            ErrorKind::HoldInvalidated => SEATCORE_HOLD_INVALIDATED,
            ErrorKind::InvalidInput => SEATCORE_INVALID_INPUT,
            ErrorKind::RequestKeyReused => SEATCORE_REQUEST_KEY_REUSED,
            ErrorKind::Busy => SEATCORE_BUSY,
            ErrorKind::Unavailable => SEATCORE_UNAVAILABLE,
            ErrorKind::Database => SEATCORE_DATABASE,
            ErrorKind::Config => SEATCORE_CONFIG,
            ErrorKind::NoAdjacentSeats => SEATCORE_NO_ADJACENT_SEATS,
            ErrorKind::BookingNotFound => SEATCORE_BOOKING_NOT_FOUND,
            ErrorKind::SeatsNotInHold => SEATCORE_SEATS_NOT_IN_HOLD,
            ErrorKind::BookingCancelled => SEATCORE_BOOKING_CANCELLED,
        }
    }
}

/// The name of a result code value, e.g. `SEATCORE_HOLD_EXPIRED`, or
/// `SEATCORE_UNKNOWN_ERROR` for a value this version does not know. Static.
pub(crate) fn result_name(code: u32) -> &'static CStr {
    match ErrorKind::from_code(code) {
        Some(kind) => kind_name(kind),
        None => C_ONLY.iter().find(|(c, _)| *c as u32 == code).map_or(c"SEATCORE_UNKNOWN_ERROR", |(_, n)| n),
    }
}

/// `SEATCORE_` + the kind's name, as a static C string (built once).
fn kind_name(kind: ErrorKind) -> &'static CStr {
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    let names = NAMES
        .get_or_init(|| ErrorKind::ALL.iter().map(|k| cstring(format!("SEATCORE_{}", k.name()))).collect());
    let at = ErrorKind::ALL.iter().position(|k| *k == kind).expect("every kind is in ErrorKind::ALL");
    &names[at]
}

/// What went wrong in a failed call: a result code, a message, and details, read by their
/// fields (`err->code`, `err->message`, ...).
///
/// Created by seatcore only on failure, handed to the caller through an optional
/// `seatcore_error **err` out-parameter; the caller owns it and frees it with
/// `seatcore_error_free`. Every string and list it points to is owned by it: valid until it
/// is freed, never to be freed by the caller. Immutable, so it may be read from any thread.
#[repr(C)]
pub struct seatcore_error {
    /// The result code: the same value the failed call returned.
    pub code: seatcore_result,
    /// What happened and, where it helps, what to do. For input errors it is the contract's
    /// validation text (e.g. `"seat_ids must not contain duplicates"`). Never NULL; never
    /// contains SQL text.
    pub message: *const c_char,
    /// True for an error about one element of a seat list (an empty, over-long, NULL or
    /// non-UTF-8 seat id, a seat of a map that breaks a rule); `index` is then its position.
    pub has_index: bool,
    /// The position in the caller's seat list when `has_index` is true; 0 otherwise.
    pub index: usize,
    /// For `SEATCORE_SEATS_UNAVAILABLE`: the seats that were taken, in seat-map order. Empty
    /// (`count` 0) for other errors.
    pub unavailable: seatcore_seats,
    /// For `SEATCORE_SEATS_NOT_IN_HOLD`: the seats asked for that the hold does not have, in
    /// request order. Empty (`count` 0) for other errors.
    pub not_in_hold: seatcore_seats,
}

impl View for seatcore_error {
    type Item = ();
}

/// A failure on its way to C: what [`boundary`] turns into a `seatcore_error`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: seatcore_result,
    pub(crate) message: String,
    /// The position in the caller's seat list the error is about, if any.
    pub(crate) index: Option<usize>,
    /// For `SEATCORE_SEATS_UNAVAILABLE`: the taken seats, in seat-map order.
    pub(crate) unavailable: Vec<String>,
    /// For `SEATCORE_SEATS_NOT_IN_HOLD`: the seats asked for that the hold does not have.
    pub(crate) not_in_hold: Vec<String>,
}

impl Failure {
    pub(crate) fn new(code: seatcore_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            index: None,
            unavailable: Vec::new(),
            not_in_hold: Vec::new(),
        }
    }

    pub(crate) fn at(mut self, index: usize) -> Failure {
        self.index = Some(index);
        self
    }

    pub(crate) fn null(what: &str) -> Failure {
        Failure::new(SEATCORE_NULL_PARAMETER, format!("{what} must not be NULL"))
    }

    fn panic(payload: Box<dyn Any + Send>) -> Failure {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Failure::new(SEATCORE_PANIC, format!("internal error (panic) in seatcore: {what}"))
    }

    /// The error object C reads.
    fn into_object(self) -> *mut seatcore_error {
        handle::object(|store| seatcore_error {
            code: self.code,
            message: store.text(self.message),
            has_index: self.index.is_some(),
            index: self.index.unwrap_or(0),
            unavailable: store.seats(self.unavailable),
            not_in_hold: store.seats(self.not_in_hold),
        })
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        let mut message = err.to_string();
        if err.is_infrastructure() {
            // The driver's own text ("db error") hides the server's reason in its source.
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message.push_str(": ");
                    message.push_str(&text);
                }
                source = cause.source();
            }
        }
        let mut out = Failure::new(seatcore_result::from_kind(err.kind()), message);
        out.index = err.input().and_then(|input| input.index());
        out.unavailable = err.unavailable_seats().to_vec();
        out.not_in_hold = err.seats_not_in_hold().to_vec();
        out
    }
}

/// A C string from Rust text; an interior NUL (possible only in database messages)
/// becomes U+FFFD rather than cutting the text short.
pub(crate) fn cstring(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let fixed = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{FFFD}");
        CString::new(fixed).unwrap_or_default()
    })
}

/// The boundary: runs `body`, turning a panic into `SEATCORE_PANIC` and a failure into its
/// code, and hands the error object to the caller through `err` when `err` is not NULL.
/// Out-parameters are written only by `body`, and only after everything succeeded.
pub(crate) fn boundary(
    err: *mut *mut seatcore_error,
    body: impl FnOnce() -> Result<(), Failure>,
) -> seatcore_result {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(Failure::panic(p)));
    match outcome {
        Ok(()) => SEATCORE_OK,
        Err(failure) => {
            let code = failure.code;
            if !err.is_null() {
                // SAFETY: the caller promises `err` is NULL or points to writable storage.
                unsafe { *err = failure.into_object() };
            }
            code
        }
    }
}

/// Runs an infallible call (a name lookup, a free, a watch position), giving `fallback` if it
/// panics (it should not).
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

pub(crate) const NO_STRING: *const c_char = ptr::null();

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore_core::InputError;

    #[test]
    fn every_core_kind_has_its_code_and_name() {
        for &kind in ErrorKind::ALL {
            let code = seatcore_result::from_kind(kind);
            assert_eq!(code as u32, kind.code(), "{kind:?}");
            assert_eq!(result_name(code as u32).to_str().unwrap(), format!("SEATCORE_{}", kind.name()));
            assert!(!C_ONLY.iter().any(|(c, _)| *c == code), "{kind:?} is listed as C-only");
        }
        // errors carry the code of their kind
        let e = Failure::from(Error::Config("bad sslmode".into()));
        assert_eq!(e.code, SEATCORE_CONFIG);
        assert_eq!(e.message, "configuration error: bad sslmode");
    }

    #[test]
    fn c_only_codes_are_outside_the_core_range() {
        for (code, name) in C_ONLY {
            assert_eq!(ErrorKind::from_code(code as u32), None, "{code:?}");
            assert_eq!(result_name(code as u32), name);
            assert_eq!(name.to_str().unwrap(), format!("{code:?}"));
        }
        assert_eq!(result_name(77), c"SEATCORE_UNKNOWN_ERROR");
        assert_eq!(result_name(u32::MAX), c"SEATCORE_UNKNOWN_ERROR");
        // the names are built once: the same pointer every time
        assert_eq!(result_name(1).as_ptr(), result_name(1).as_ptr());
    }

    #[test]
    fn details_survive_the_mapping() {
        let e = Failure::from(Error::InvalidInput(InputError::EmptySeatId { index: 2 }));
        assert_eq!(e.code, SEATCORE_INVALID_INPUT);
        assert_eq!(e.index, Some(2));
        assert_eq!(e.message, "seat_ids must not contain empty strings");
        let e = Failure::from(Error::SeatsUnavailable { seat_ids: vec!["A1".into(), "B2".into()] });
        assert_eq!(e.code, SEATCORE_SEATS_UNAVAILABLE);
        assert_eq!(e.index, None);
        assert_eq!(e.unavailable, ["A1", "B2"]);
    }

    #[test]
    fn panics_become_codes() {
        let mut err: *mut seatcore_error = ptr::null_mut();
        let code = boundary(&mut err, || panic!("boom"));
        assert_eq!(code, SEATCORE_PANIC);
        assert!(!err.is_null());
        let e = unsafe { &*err };
        assert_eq!(e.code, SEATCORE_PANIC);
        assert!(unsafe { CStr::from_ptr(e.message) }.to_str().unwrap().contains("boom"));
        unsafe { handle::free_object(err) };
        // a NULL err pointer is fine too
        assert_eq!(boundary(ptr::null_mut(), || panic!("again")), SEATCORE_PANIC);
    }

    #[test]
    fn interior_nul_does_not_truncate() {
        assert_eq!(cstring("a\0b".into()).to_str().unwrap(), "a\u{FFFD}b");
    }
}
