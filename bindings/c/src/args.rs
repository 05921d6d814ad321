//! Reading arguments from C: NULL checks, UTF-8 checks and list bounds, before any work.

use std::ffi::{c_char, CStr};

use seatcore_core::validate;

use crate::error::{seatcore_error, seatcore_result, Failure};

/// A required pointer argument, as a shared reference.
///
/// # Safety
/// `p` is NULL or points to a live `T` for `'a`.
pub(crate) unsafe fn arg<'a, T>(p: *const T, what: &str) -> Result<&'a T, Failure> {
    p.as_ref().ok_or_else(|| seatcore_error::null(what))
}

/// A required out-parameter. Checked before the work so that a result is never made (a hold
/// taken, say) that could not be handed back.
///
/// # Safety
/// `p` is NULL or points to writable storage for a `T`.
pub(crate) unsafe fn out<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    p.as_mut().ok_or_else(|| seatcore_error::null(what))
}

/// A required NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(seatcore_error::null(what));
    }
    CStr::from_ptr(p).to_str().map_err(|_| not_utf8(what))
}

fn not_utf8(what: &str) -> Failure {
    seatcore_error::new(seatcore_result::SEATCORE_INVALID_UTF8, format!("{what} is not valid UTF-8"))
}

/// A list of seat ids (`const char *const *ids, size_t count`) of at most `max` entries.
///
/// The count is checked against the core's limits before the array is touched, so an
/// absurd count never reads past the caller's array. `ids` may be NULL only when `count`
/// is 0, which the core's rules then refuse ("at least one seat").
///
/// # Safety
/// `ids` is NULL or points to `count` pointers, each NULL or a NUL-terminated string.
pub(crate) unsafe fn seat_list<'a>(
    ids: *const *const c_char,
    count: usize,
    max: usize,
) -> Result<Vec<&'a str>, Failure> {
    validate::seat_count(count, max).map_err(|e| Failure::from(seatcore_core::Error::from(e)))?;
    if ids.is_null() {
        return Err(seatcore_error::null("seat_ids"));
    }
    let raw = std::slice::from_raw_parts(ids, count);
    raw.iter()
        .enumerate()
        .map(|(i, &p)| {
            if p.is_null() {
                return Err(seatcore_error::null(&format!("seat_ids[{i}]")).at(i));
            }
            CStr::from_ptr(p).to_str().map_err(|_| not_utf8(&format!("seat_ids[{i}]")).at(i))
        })
        .collect()
}
