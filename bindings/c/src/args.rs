//! Arguments from C: NULL checks, UTF-8 checks and list bounds, before any work; and
//! out-parameters, written only once the work succeeded.

use std::ffi::{c_char, c_void, CStr};

use seatcore_core::{validate, SeatCore};

use crate::error::{boundary, seatcore_error, seatcore_result, Failure};
use crate::results::{self, seatcore_hold};
use crate::seat_map::{best_filters, seatcore_best_filters};
use crate::seatcore_client;

/// A required pointer argument, as a shared reference.
///
/// # Safety
/// `p` is NULL or points to a live `T` for `'a`.
pub(crate) unsafe fn arg<'a, T>(p: *const T, what: &str) -> Result<&'a T, Failure> {
    p.as_ref().ok_or_else(|| Failure::null(what))
}

/// A required out-parameter. Checked before the work so that a result is never made (a hold
/// taken, say) that could not be handed back.
///
/// # Safety
/// `p` is NULL or points to writable storage for a `T`.
pub(crate) unsafe fn out<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    p.as_mut().ok_or_else(|| Failure::null(what))
}

/// A required NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    CStr::from_ptr(p).to_str().map_err(|_| not_utf8(what))
}

/// An optional NUL-terminated UTF-8 string argument: `None` for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn optional_text<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        Ok(None)
    } else {
        text(p, what).map(Some)
    }
}

/// The required `client` argument: the core it wraps.
///
/// # Safety
/// `client` is NULL or points to a live client for `'a`.
pub(crate) unsafe fn client<'a>(client: *const seatcore_client) -> Result<&'a SeatCore, Failure> {
    arg(client, "client").map(|c| &c.core)
}

/// The whole of a call on one show, as most calls are: inside the [`boundary`], checks the
/// `client` and `show_id` arguments (both required), then runs `body` with the core and the
/// show id.
///
/// # Safety
/// As [`client`] and [`text`]; `err` as for [`boundary`].
pub(crate) unsafe fn on_show(
    client: *const seatcore_client,
    show_id: *const c_char,
    err: *mut *mut seatcore_error,
    body: impl FnOnce(&SeatCore, &str) -> Result<(), Failure>,
) -> seatcore_result {
    boundary(err, || body(self::client(client)?, text(show_id, "show_id")?))
}

/// As [`on_show`], for a call that hands back a new value through its required `out`:
/// `out` is checked with `client` and `show_id`, before any work, and receives what `body`
/// gives only when it succeeded.
///
/// # Safety
/// As [`on_show`]; `out` is NULL or points to writable storage for a `T`.
pub(crate) unsafe fn on_show_out<T>(
    client: *const seatcore_client,
    show_id: *const c_char,
    out: *mut T,
    err: *mut *mut seatcore_error,
    body: impl FnOnce(&SeatCore, &str) -> Result<T, Failure>,
) -> seatcore_result {
    on_show(client, show_id, err, |core, show_id| {
        let out = self::out(out, "out")?;
        *out = body(core, show_id)?;
        Ok(())
    })
}

/// What a hold call asks for: the seats it names, or the best `count` adjacent seats that
/// match the filters (NULL: any seat).
pub(crate) enum Wanted {
    Seats(seatcore_seats),
    Best(usize, *const seatcore_best_filters),
}

/// The one way the C API makes a hold (arguments in [`on_show_out`]'s order, then the
/// request): reads the optional `request_key` (NULL for none), then what is wanted, holds
/// it for `seconds` (with the key when there is one) and hands the hold back as a new
/// `seatcore_hold`.
///
/// # Safety
/// As [`on_show_out`]; `request_key` is NULL or a NUL-terminated string, and `wanted`'s
/// pointers are as its call documents them.
pub(crate) unsafe fn hold(
    client: *const seatcore_client,
    show_id: *const c_char,
    out: *mut *mut seatcore_hold,
    err: *mut *mut seatcore_error,
    wanted: Wanted,
    seconds: i64,
    request_key: *const c_char,
) -> seatcore_result {
    on_show_out(client, show_id, out, err, |core, show_id| {
        let key = optional_text(request_key, "request_key")?;
        let hold = match wanted {
            Wanted::Seats(list) => {
                core.hold_with_key(show_id, &seats(list, validate::MAX_SEATS_PER_HOLD)?, seconds, key)?
            }
            Wanted::Best(count, filters) => {
                core.hold_best_with_key(show_id, count, &best_filters(filters.as_ref())?, seconds, key)?
            }
        };
        Ok(results::hold(hold))
    })
}

fn not_utf8(what: &str) -> Failure {
    Failure::new(seatcore_result::SEATCORE_INVALID_UTF8, format!("{what} is not valid UTF-8"))
}

/// A list of seat ids: `count` NUL-terminated UTF-8 strings at `ids`.
///
/// One struct for every list of seats, in and out: the calls that take seats
/// (`seatcore_initialize_show`, `seatcore_hold_seats`, `seatcore_release_seats`,
/// `seatcore_block_seats`, `seatcore_unblock_seats`) take one by value, and result objects
/// hand seats back in one (`hold->seats`, `err->unavailable`, ...), so a list read back may
/// be passed on as it is: `seatcore_release_seats(client, show, hold->id, hold->seats, ...)`.
///
/// Passed to a call, `ids` points to `count` strings the call reads only while it runs;
/// `ids` may be NULL only when `count` is 0 (which the calls refuse: "at least one seat"):
///
/// ```c
/// const char *ids[] = {"A1", "A2"};
/// seatcore_seats seats = {ids, 2};
/// ```
///
/// In a result object, the array and its strings belong to the object: valid until it is
/// freed, never to be freed by the caller.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct seatcore_seats {
    /// The seat ids, `count` of them.
    pub ids: *const *const c_char,
    pub count: usize,
}

/// The seat ids of a list argument, at most `max` of them.
///
/// The count is checked against the core's limits before the array is touched, so an
/// absurd count never reads past the caller's array.
///
/// # Safety
/// `seats.ids` is NULL or points to `seats.count` pointers, each NULL or a NUL-terminated
/// string.
pub(crate) unsafe fn seats<'a>(seats: seatcore_seats, max: usize) -> Result<Vec<&'a str>, Failure> {
    validate::seat_count(seats.count, max).map_err(|e| Failure::from(seatcore_core::Error::from(e)))?;
    if seats.ids.is_null() {
        return Err(Failure::null("seats.ids"));
    }
    std::slice::from_raw_parts(seats.ids, seats.count)
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let what = || format!("seats.ids[{i}]");
            if p.is_null() {
                return Err(Failure::null(&what()).at(i));
            }
            CStr::from_ptr(p).to_str().map_err(|_| not_utf8(&what()).at(i))
        })
        .collect()
}

/// The required callback of a function that hands items one by one (`_each`): a function
/// that calls it with `user_data` and an item, which need live during the call only.
///
/// # Safety
/// The callback, when not NULL, may be called with `user_data` and a pointer to an item
/// valid during the call.
pub(crate) unsafe fn callback<T>(
    callback: Option<unsafe extern "C" fn(*mut c_void, *const T)>,
    user_data: *mut c_void,
) -> Result<impl Fn(&T), Failure> {
    let callback = callback.ok_or_else(|| Failure::null("callback"))?;
    // SAFETY: the caller vouches for the callback; `item` lives through the call.
    Ok(move |item: &T| unsafe { callback(user_data, item) })
}

/// An optional out-parameter: receives `value` when it is not NULL.
///
/// # Safety
/// `p` is NULL or points to writable storage for a `T`.
pub(crate) unsafe fn put<T>(p: *mut T, value: T) {
    if let Some(out) = p.as_mut() {
        *out = value;
    }
}

/// An optional out-parameter for a new object: when it is not NULL, receives the object
/// `make` gives, which the caller owns; otherwise no object is made.
///
/// # Safety
/// `p` is NULL or points to writable storage for a pointer.
pub(crate) unsafe fn put_new<T>(p: *mut *mut T, make: impl FnOnce() -> *mut T) {
    if let Some(out) = p.as_mut() {
        *out = make();
    }
}

/// The whole of a call on one object (a client, a watch) that hands back a value through
/// its required `out`: inside the [`boundary`], checks `object` (named `what`) and `out`
/// before any work, then writes what `body` gives into `*out`; on failure `*out` is
/// untouched.
///
/// # Safety
/// `object` is NULL or points to a live `T`; `out` is NULL or points to writable storage
/// for a `V`; `err` as for [`boundary`].
pub(crate) unsafe fn on_object_out<T, V>(
    object: *const T,
    what: &str,
    out: *mut V,
    err: *mut *mut seatcore_error,
    body: impl FnOnce(&T) -> Result<V, Failure>,
) -> seatcore_result {
    boundary(err, || {
        let object = arg(object, what)?;
        let out = self::out(out, "out")?;
        *out = body(object)?;
        Ok(())
    })
}
