//! Result codes, the error object, and the one boundary every exported function goes through.

use std::any::Any;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use seatcore_core::{Error, ErrorKind};

/// The result of every fallible seatcore function.
///
/// `SEATCORE_OK` is 0; every other value is a failure. Codes 1 to 99 are the core's
/// error kinds; codes from 100 on belong to the C API. The numbers are part of the ABI:
/// they never change and are never reused. Code that switches on a result must handle
/// unknown values: later versions may add codes.
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
    /// object lists them (`seatcore_error_unavailable_seat`).
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
    /// `seatcore_error_index` gives the position in the seat list when there is one.
    SEATCORE_INVALID_INPUT = 8,
    /// The request key was used before for a different hold request of this show.
    SEATCORE_REQUEST_KEY_REUSED = 9,
    /// The database could not serve in time (lock or statement timeout); retrying later may
    /// succeed.
    SEATCORE_BUSY = 10,
    /// The database cannot be reached (or a bad database URL), or no pooled connection came
    /// free in time.
    SEATCORE_UNAVAILABLE = 11,
    /// Any other database failure.
    SEATCORE_DATABASE = 12,
    /// A pointer argument that must not be NULL was NULL. Nothing was done.
    SEATCORE_NULL_PARAMETER = 100,
    /// A string argument was not valid UTF-8. Nothing was done.
    SEATCORE_INVALID_UTF8 = 101,
    /// A bug inside seatcore (a Rust panic) was caught at the boundary. The handle stays
    /// usable; please report the message.
    SEATCORE_PANIC = 102,
    /// An index argument was past the end of a list.
    SEATCORE_INDEX_OUT_OF_RANGE = 103,
    /// The core reported an error kind this version of the C API does not know.
    SEATCORE_UNKNOWN_ERROR = 199,
}

use seatcore_result::*;

impl seatcore_result {
    /// The result code of a core error kind: the same number.
    pub(crate) fn from_kind(kind: ErrorKind) -> seatcore_result {
        match kind as u32 {
            1 => SEATCORE_SHOW_NOT_FOUND,
            2 => SEATCORE_SHOW_EXISTS,
            3 => SEATCORE_INVALID_SEAT_IDS,
            4 => SEATCORE_SEATS_UNAVAILABLE,
            5 => SEATCORE_HOLD_NOT_FOUND,
            6 => SEATCORE_HOLD_EXPIRED,
            7 => SEATCORE_HOLD_INVALIDATED,
            8 => SEATCORE_INVALID_INPUT,
            9 => SEATCORE_REQUEST_KEY_REUSED,
            10 => SEATCORE_BUSY,
            11 => SEATCORE_UNAVAILABLE,
            12 => SEATCORE_DATABASE,
            _ => SEATCORE_UNKNOWN_ERROR,
        }
    }

    /// The name of the code, as a static NUL-terminated string.
    pub(crate) fn name(self) -> &'static [u8] {
        match self {
            SEATCORE_OK => b"SEATCORE_OK\0",
            SEATCORE_SHOW_NOT_FOUND => b"SEATCORE_SHOW_NOT_FOUND\0",
            SEATCORE_SHOW_EXISTS => b"SEATCORE_SHOW_EXISTS\0",
            SEATCORE_INVALID_SEAT_IDS => b"SEATCORE_INVALID_SEAT_IDS\0",
            SEATCORE_SEATS_UNAVAILABLE => b"SEATCORE_SEATS_UNAVAILABLE\0",
            SEATCORE_HOLD_NOT_FOUND => b"SEATCORE_HOLD_NOT_FOUND\0",
            SEATCORE_HOLD_EXPIRED => b"SEATCORE_HOLD_EXPIRED\0",
            SEATCORE_HOLD_INVALIDATED => b"SEATCORE_HOLD_INVALIDATED\0",
            SEATCORE_INVALID_INPUT => b"SEATCORE_INVALID_INPUT\0",
            SEATCORE_REQUEST_KEY_REUSED => b"SEATCORE_REQUEST_KEY_REUSED\0",
            SEATCORE_BUSY => b"SEATCORE_BUSY\0",
            SEATCORE_UNAVAILABLE => b"SEATCORE_UNAVAILABLE\0",
            SEATCORE_DATABASE => b"SEATCORE_DATABASE\0",
            SEATCORE_NULL_PARAMETER => b"SEATCORE_NULL_PARAMETER\0",
            SEATCORE_INVALID_UTF8 => b"SEATCORE_INVALID_UTF8\0",
            SEATCORE_PANIC => b"SEATCORE_PANIC\0",
            SEATCORE_INDEX_OUT_OF_RANGE => b"SEATCORE_INDEX_OUT_OF_RANGE\0",
            SEATCORE_UNKNOWN_ERROR => b"SEATCORE_UNKNOWN_ERROR\0",
        }
    }
}

/// What went wrong in a failed call: a result code, a message, and details.
///
/// Created by seatcore only on failure, handed to the caller through an optional
/// `seatcore_error **err` out-parameter; the caller owns it and frees it with
/// `seatcore_error_free`. Immutable, so it may be read from any thread.
pub struct seatcore_error {
    pub(crate) code: seatcore_result,
    pub(crate) message: CString,
    /// The position in the caller's seat list the error is about, if any.
    pub(crate) index: Option<usize>,
    /// For `SEATCORE_SEATS_UNAVAILABLE`: the taken seats, in seat-map order.
    pub(crate) unavailable: Vec<CString>,
}

/// A failure on its way to C.
pub(crate) type Failure = seatcore_error;

impl seatcore_error {
    pub(crate) fn new(code: seatcore_result, message: impl Into<String>) -> seatcore_error {
        seatcore_error { code, message: cstring(message.into()), index: None, unavailable: Vec::new() }
    }

    pub(crate) fn at(mut self, index: usize) -> seatcore_error {
        self.index = Some(index);
        self
    }

    pub(crate) fn null(what: &str) -> seatcore_error {
        seatcore_error::new(SEATCORE_NULL_PARAMETER, format!("{what} must not be NULL"))
    }

    fn panic(payload: Box<dyn Any + Send>) -> seatcore_error {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        seatcore_error::new(SEATCORE_PANIC, format!("internal error (panic) in seatcore: {what}"))
    }
}

impl From<Error> for seatcore_error {
    fn from(err: Error) -> seatcore_error {
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
        let mut out = seatcore_error::new(seatcore_result::from_kind(err.kind()), message);
        match &err {
            Error::InvalidInput(input) => out.index = input.index(),
            Error::SeatsUnavailable { seat_ids } => {
                out.unavailable = seat_ids.iter().map(|s| cstring(s.clone())).collect();
            }
            _ => {}
        }
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
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(seatcore_error::panic(p)));
    match outcome {
        Ok(()) => SEATCORE_OK,
        Err(failure) => {
            let code = failure.code;
            if !err.is_null() {
                // SAFETY: the caller promises `err` is NULL or points to writable storage.
                unsafe { *err = Box::into_raw(Box::new(failure)) };
            }
            code
        }
    }
}

/// Runs an infallible accessor, giving `fallback` if it panics (it should not).
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

pub(crate) const NO_STRING: *const c_char = ptr::null();

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore_core::InputError;

    #[test]
    fn every_core_kind_keeps_its_number() {
        let all = [
            Error::ShowNotFound,
            Error::ShowExists,
            Error::InvalidSeatIds,
            Error::SeatsUnavailable { seat_ids: vec!["A1".into()] },
            Error::HoldNotFound,
            Error::HoldExpired,
            Error::HoldInvalidated,
            Error::InvalidInput(InputError::NoSeats),
            Error::RequestKeyReused,
            Error::Unavailable("down".into()),
        ];
        for e in all {
            let kind = e.kind();
            let code = seatcore_result::from_kind(kind);
            assert_eq!(code as u32, kind as u32, "{e:?}");
            assert_ne!(code, SEATCORE_UNKNOWN_ERROR);
        }
        assert_eq!(seatcore_result::from_kind(ErrorKind::Busy) as u32, 10);
        assert_eq!(seatcore_result::from_kind(ErrorKind::Database) as u32, 12);
    }

    #[test]
    fn details_survive_the_mapping() {
        let e = seatcore_error::from(Error::InvalidInput(InputError::EmptySeatId { index: 2 }));
        assert_eq!(e.code, SEATCORE_INVALID_INPUT);
        assert_eq!(e.index, Some(2));
        assert_eq!(e.message.to_str().unwrap(), "seat_ids must not contain empty strings");
        let e = seatcore_error::from(Error::SeatsUnavailable { seat_ids: vec!["A1".into(), "B2".into()] });
        assert_eq!(e.code, SEATCORE_SEATS_UNAVAILABLE);
        assert_eq!(e.unavailable, vec![CString::new("A1").unwrap(), CString::new("B2").unwrap()]);
    }

    #[test]
    fn panics_become_codes() {
        let mut err: *mut seatcore_error = ptr::null_mut();
        let code = boundary(&mut err, || panic!("boom"));
        assert_eq!(code, SEATCORE_PANIC);
        assert!(!err.is_null());
        let e = unsafe { Box::from_raw(err) };
        assert!(e.message.to_str().unwrap().contains("boom"));
        // a NULL err pointer is fine too
        assert_eq!(boundary(ptr::null_mut(), || panic!("again")), SEATCORE_PANIC);
    }

    #[test]
    fn interior_nul_does_not_truncate() {
        assert_eq!(cstring("a\0b".into()).to_str().unwrap(), "a\u{FFFD}b");
    }

    #[test]
    fn names_are_nul_terminated() {
        for code in [SEATCORE_OK, SEATCORE_PANIC, SEATCORE_UNKNOWN_ERROR, SEATCORE_SEATS_UNAVAILABLE] {
            assert_eq!(code.name().last(), Some(&0));
        }
    }
}
