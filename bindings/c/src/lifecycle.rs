//! The hold lifecycle: extending a hold, releasing some of its seats, cancelling a booking,
//! the maximum hold life option, and the results of the two latter.

use std::ffi::{c_char, CString};

use seatcore_core::{validate, Cancellation, SeatsReleased};

use crate::error::{boundary, cstring, seatcore_error, seatcore_result};
use crate::results::{seatcore_hold, strings, Record};
use crate::{args, handle, seatcore_client, seatcore_options, set_option};

/// The longest life of an extended hold, from its creation, in seconds:
/// `seatcore_extend_hold` never moves an expiry past it. Default: 3600 s. Valid: 1 to
/// 86400 s.
///
/// `SEATCORE_CONFIG` for a value out of range (the option keeps its value),
/// `SEATCORE_NULL_PARAMETER` when `options` is NULL. `err` is optional (may be NULL).
#[no_mangle]
pub unsafe extern "C" fn seatcore_options_set_max_hold_life_s(
    options: *mut seatcore_options,
    seconds: u64,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    set_option(options, err, |o| o.set_max_hold_life(std::time::Duration::from_secs(seconds)))
}

/// Gives a live hold a new expiry: `seconds` (1 to 86400) from now by the database's
/// clock, but never later than the hold's creation plus the maximum hold life
/// (`seatcore_options_set_max_hold_life_s`). The expiry is set, not added to: it may be
/// earlier than before.
///
/// - `client`, `show_id`, `hold_id`: required; `hold_id` is the hold's UUID text (anything
///   else is simply `SEATCORE_HOLD_NOT_FOUND`).
/// - `out`: required; on success `*out` is a new hold object (its seats and new expiry) the
///   caller owns and frees with `seatcore_hold_free`. Untouched on failure.
/// - `err`: optional; on failure, when not NULL, receives an error object to free.
///
/// A hold counts as live when its row is locked (after waiting for a booking or release of
/// it in flight), by the database's clock, and only while every seat still carries it: an
/// extension racing the hold's expiry is made while it was live or refused, never after its
/// seats went to someone else. Fails with `SEATCORE_HOLD_NOT_FOUND` (never made, released,
/// booked, swept), `SEATCORE_HOLD_EXPIRED` (also when the hold has lived its maximum life
/// already: it runs on to its expiry), `SEATCORE_HOLD_INVALIDATED`, `SEATCORE_INVALID_INPUT`
/// (bad show id, `seconds` out of range), `SEATCORE_NULL_PARAMETER`,
/// `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_extend_hold(
    client: *const seatcore_client,
    show_id: *const c_char,
    hold_id: *const c_char,
    seconds: i64,
    out: *mut *mut seatcore_hold,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        let (core, show_id) = args::client_and_show(client, show_id)?;
        let hold_id = args::text(hold_id, "hold_id")?;
        let out = args::out(out, "out")?;
        *out = handle::new(seatcore_hold::from(core.extend(show_id, hold_id, seconds)?));
        Ok(())
    })
}

/// What `seatcore_release_seats` did: the seats released and those the hold keeps.
///
/// Made by `seatcore_release_seats`; the caller owns it and frees it with
/// `seatcore_seats_released_free`. Immutable: several threads may read it at once.
pub struct seatcore_seats_released {
    hold_id: CString,
    seat_ids: Vec<CString>,
    remaining: Vec<CString>,
}

impl From<SeatsReleased> for seatcore_seats_released {
    fn from(r: SeatsReleased) -> seatcore_seats_released {
        seatcore_seats_released {
            hold_id: cstring(r.hold_id.to_string()),
            seat_ids: strings(r.seat_ids),
            remaining: strings(r.remaining_seat_ids),
        }
    }
}

/// Releases some seats of a live hold: they are available at once, and the hold keeps the
/// others with its expiry (booking it books only those). Releasing every seat releases the
/// hold, as `seatcore_release_hold` does. All or nothing: when a seat asked for is not in
/// the hold, nothing is released.
///
/// - `client`, `show_id`, `hold_id`: required.
/// - `seat_ids`, `count`: 1 to 1000 NUL-terminated UTF-8 seat ids (trimmed, no duplicates).
///   Read only during the call.
/// - `out`: optional; on success, when not NULL, `*out` is a new object saying what was
///   released and what the hold keeps, which the caller frees with
///   `seatcore_seats_released_free`. Untouched on failure.
/// - `err`: optional. For `SEATCORE_SEATS_NOT_IN_HOLD` it lists the seats asked for that
///   the hold does not have (`seatcore_error_not_in_hold_seat`).
///
/// Fails with `SEATCORE_HOLD_NOT_FOUND` (also for an expired, booked or malformed hold id),
/// `SEATCORE_SEATS_NOT_IN_HOLD`, `SEATCORE_INVALID_INPUT`, `SEATCORE_NULL_PARAMETER`,
/// `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_release_seats(
    client: *const seatcore_client,
    show_id: *const c_char,
    hold_id: *const c_char,
    seat_ids: *const *const c_char,
    count: usize,
    out: *mut *mut seatcore_seats_released,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        let (core, show_id) = args::client_and_show(client, show_id)?;
        let hold_id = args::text(hold_id, "hold_id")?;
        let ids = args::seat_list(seat_ids, count, validate::MAX_SEATS_PER_HOLD)?;
        let released = core.release_seats(show_id, hold_id, &ids)?;
        args::put_new(out, seatcore_seats_released::from(released));
        Ok(())
    })
}

/// The id of the hold the seats came from. Borrowed from `released` (valid until it is
/// freed); NULL when `released` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seats_released_hold_id(
    released: *const seatcore_seats_released,
) -> *const c_char {
    handle::text(released, |r| &r.hold_id)
}

/// How many seats were released; 0 when `released` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seats_released_seat_count(
    released: *const seatcore_seats_released,
) -> usize {
    handle::get(released, |r| r.seat_ids.len())
}

/// The `index`-th released seat id (trimmed, in request order). Borrowed from `released`
/// (valid until it is freed); NULL when `released` is NULL or `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seats_released_seat_id(
    released: *const seatcore_seats_released,
    index: usize,
) -> *const c_char {
    handle::text_at(released, index, |r| &r.seat_ids)
}

/// How many seats the hold keeps: 0 when every seat was released (the hold is released
/// then) or `released` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seats_released_remaining_count(
    released: *const seatcore_seats_released,
) -> usize {
    handle::get(released, |r| r.remaining.len())
}

/// The `index`-th seat id the hold keeps, in the order the hold asked for them. Borrowed
/// from `released` (valid until it is freed); NULL when `released` is NULL or `index` is
/// out of range.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seats_released_remaining_seat_id(
    released: *const seatcore_seats_released,
    index: usize,
) -> *const c_char {
    handle::text_at(released, index, |r| &r.remaining)
}

/// Frees a released-seats object and every string borrowed from it. NULL is a no-op. Must
/// not race with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seats_released_free(released: *mut seatcore_seats_released) {
    handle::free(released)
}

/// A cancelled booking: kept in the database, marked cancelled; its seats are available.
///
/// Made by `seatcore_cancel_booking`; the caller owns it and frees it with
/// `seatcore_cancellation_free`. Immutable: several threads may read it at once.
pub struct seatcore_cancellation {
    /// The booking's; `at` is when it was first cancelled.
    record: Record,
}

impl From<Cancellation> for seatcore_cancellation {
    fn from(c: Cancellation) -> seatcore_cancellation {
        seatcore_cancellation { record: Record::new(c.booking_id, c.show_id, c.seat_ids, &c.cancelled_at) }
    }
}

/// Cancels a booking: its seats are available at once. The booking is kept, marked
/// cancelled. Idempotent: cancelling it again succeeds with the same seats and time, and
/// changes nothing. Booking its hold again then fails with `SEATCORE_BOOKING_CANCELLED`:
/// the seats are never taken back that way.
///
/// - `client`, `show_id`, `booking_id`: required; `booking_id` is the booking's UUID text
///   (anything else is simply `SEATCORE_BOOKING_NOT_FOUND`).
/// - `out`: optional; on success, when not NULL, `*out` is a new cancellation object the
///   caller frees with `seatcore_cancellation_free`. Untouched on failure.
/// - `err`: optional.
///
/// Fails with `SEATCORE_BOOKING_NOT_FOUND` (never made, another show's, not a UUID),
/// `SEATCORE_INVALID_INPUT` (bad show id), `SEATCORE_NULL_PARAMETER`,
/// `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancel_booking(
    client: *const seatcore_client,
    show_id: *const c_char,
    booking_id: *const c_char,
    out: *mut *mut seatcore_cancellation,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        let (core, show_id) = args::client_and_show(client, show_id)?;
        let booking_id = args::text(booking_id, "booking_id")?;
        args::put_new(out, seatcore_cancellation::from(core.cancel_booking(show_id, booking_id)?));
        Ok(())
    })
}

/// The cancelled booking's id, 36-character UUID text. Borrowed from `cancellation` (valid
/// until it is freed); NULL when `cancellation` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancellation_booking_id(
    cancellation: *const seatcore_cancellation,
) -> *const c_char {
    handle::text(cancellation, |c| &c.record.id)
}

/// The id of the show the booking belongs to. Borrowed from `cancellation` (valid until it
/// is freed); NULL when `cancellation` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancellation_show_id(
    cancellation: *const seatcore_cancellation,
) -> *const c_char {
    handle::text(cancellation, |c| &c.record.show_id)
}

/// How many seats the booking had (all available now); 0 when `cancellation` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancellation_seat_count(
    cancellation: *const seatcore_cancellation,
) -> usize {
    handle::get(cancellation, |c| c.record.seat_ids.len())
}

/// The `index`-th seat id of the cancelled booking. Borrowed from `cancellation` (valid
/// until it is freed); NULL when `cancellation` is NULL or `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancellation_seat_id(
    cancellation: *const seatcore_cancellation,
    index: usize,
) -> *const c_char {
    handle::text_at(cancellation, index, |c| &c.record.seat_ids)
}

/// When the booking was first cancelled, as ISO 8601 text. Borrowed from `cancellation`
/// (valid until it is freed); NULL when `cancellation` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancellation_cancelled_at(
    cancellation: *const seatcore_cancellation,
) -> *const c_char {
    handle::text(cancellation, |c| &c.record.at.text)
}

/// When the booking was first cancelled, in microseconds since the Unix epoch (UTC); 0
/// when `cancellation` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancellation_cancelled_at_us(
    cancellation: *const seatcore_cancellation,
) -> i64 {
    handle::get(cancellation, |c| c.record.at.us)
}

/// Frees a cancellation object and every string borrowed from it. NULL is a no-op. Must
/// not race with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancellation_free(cancellation: *mut seatcore_cancellation) {
    handle::free(cancellation)
}

/// For `SEATCORE_SEATS_NOT_IN_HOLD`: how many seats asked for are not in the hold. 0 for
/// other errors and when `err` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_error_not_in_hold_count(err: *const seatcore_error) -> usize {
    handle::get(err, |e| e.not_in_hold.len())
}

/// For `SEATCORE_SEATS_NOT_IN_HOLD`: the `index`-th seat id asked for that the hold does not
/// have, in request order. Borrowed from `err` (valid until it is freed); NULL when `err`
/// is NULL or `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn seatcore_error_not_in_hold_seat(
    err: *const seatcore_error,
    index: usize,
) -> *const c_char {
    handle::text_at(err, index, |e| &e.not_in_hold)
}
