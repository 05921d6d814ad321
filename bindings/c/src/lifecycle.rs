//! The hold lifecycle: extending a hold, releasing some of its seats, cancelling a booking,
//! and what the latter two return.

use std::ffi::c_char;

use seatcore_core::{validate, SeatsReleased};

use crate::error::{seatcore_error, seatcore_result};
use crate::handle::{self, View};
use crate::results::{self, seatcore_cancellation, seatcore_hold};
use crate::{args, seatcore_client, seatcore_seats};

/// Gives a live hold a new expiry: `seconds` (1 to 86400) from now by the database's
/// clock, but never later than the hold's creation plus the maximum hold life
/// (`seatcore_options.max_hold_life_s`). The expiry is set, not added to: it may be
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
    args::on_show_out(client, show_id, out, err, |core, show_id| {
        Ok(results::hold(core.extend(show_id, args::text(hold_id, "hold_id")?, seconds)?))
    })
}

/// What `seatcore_release_seats` did: the seats released and those the hold keeps.
///
/// Made by `seatcore_release_seats`; the caller owns it and frees it with
/// `seatcore_seats_released_free`. Every string it points to is owned by it. Immutable:
/// several threads may read it at once.
#[repr(C)]
pub struct seatcore_seats_released {
    /// The id of the hold the seats came from.
    pub hold_id: *const c_char,
    /// The seats released (trimmed, in request order).
    pub released: seatcore_seats,
    /// The seats the hold keeps, in the order the hold asked for them; none (`count` 0) when
    /// every seat was released (the hold is released then).
    pub remaining: seatcore_seats,
}

impl View for seatcore_seats_released {
    type Item = ();
}

fn seats_released(r: SeatsReleased) -> *mut seatcore_seats_released {
    handle::object(|store| seatcore_seats_released {
        hold_id: store.text(r.hold_id.to_string()),
        released: store.seats(r.seat_ids),
        remaining: store.seats(r.remaining_seat_ids),
    })
}

/// Releases some seats of a live hold: they are available at once, and the hold keeps the
/// others with its expiry (booking it books only those). Releasing every seat releases the
/// hold, as `seatcore_release_hold` does. All or nothing: when a seat asked for is not in
/// the hold, nothing is released.
///
/// - `client`, `show_id`, `hold_id`: required.
/// - `seats`: 1 to 1000 NUL-terminated UTF-8 seat ids (trimmed, no duplicates). Read only
///   during the call.
/// - `out`: optional; on success, when not NULL, `*out` is a new object saying what was
///   released and what the hold keeps, which the caller frees with
///   `seatcore_seats_released_free`. Untouched on failure.
/// - `err`: optional. For `SEATCORE_SEATS_NOT_IN_HOLD` it lists the seats asked for that
///   the hold does not have (`err->not_in_hold`).
///
/// Fails with `SEATCORE_HOLD_NOT_FOUND` (also for an expired, booked or malformed hold id),
/// `SEATCORE_SEATS_NOT_IN_HOLD`, `SEATCORE_INVALID_INPUT`, `SEATCORE_NULL_PARAMETER`,
/// `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_release_seats(
    client: *const seatcore_client,
    show_id: *const c_char,
    hold_id: *const c_char,
    seats: seatcore_seats,
    out: *mut *mut seatcore_seats_released,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show(client, show_id, err, |core, show_id| {
        let hold_id = args::text(hold_id, "hold_id")?;
        let ids = args::seats(seats, validate::MAX_SEATS_PER_HOLD)?;
        let released = core.release_seats(show_id, hold_id, &ids)?;
        args::put_new(out, || seats_released(released));
        Ok(())
    })
}

/// Frees a released-seats object and every string it points to. NULL is a no-op. Must
/// not race with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seats_released_free(released: *mut seatcore_seats_released) {
    handle::free_object(released)
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
    args::on_show(client, show_id, err, |core, show_id| {
        let booking_id = args::text(booking_id, "booking_id")?;
        let cancellation = core.cancel_booking(show_id, booking_id)?;
        args::put_new(out, || results::cancellation(cancellation));
        Ok(())
    })
}
