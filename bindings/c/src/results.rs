//! The result objects (hold, booking, cancellation, released seats, seat status, audit
//! report): structs C reads by their fields.
//!
//! Each is an immutable snapshot owned by the caller: every string and array it points to
//! is owned by the object and stays valid until the object is freed. Immutable objects may
//! be read from several threads at once; freeing one must not race with reading it.

use std::ffi::c_char;

use seatcore_core::{
    iso8601, Audit, AuditSummary, Booking, Cancellation, DateTime, Hold, SeatState, SeatsReleased,
    ShowStatus, Utc, Uuid,
};

use crate::args::seatcore_seats;
use crate::error::{guard, NO_STRING};
use crate::handle::{self, Store, View};

/// A hold, a booking or a cancelled booking: an id, the show, the seats, and one moment.
///
/// `seatcore_hold`, `seatcore_booking` and `seatcore_cancellation` are this struct; each
/// use says what its `id` and `at` are. Made by the calls that return them; the caller owns
/// each and frees it with its `_free` function (`seatcore_hold_free`, ...). Every string it
/// points to is owned by it: valid until it is freed, never to be freed by the caller.
#[repr(C)]
pub struct seatcore_record {
    /// A UUID in its 36-character text form: the hold's id (to pass to
    /// `seatcore_book_hold`, `seatcore_release_hold`, ...), the booking's (equal to the id
    /// of the hold it came from), or the cancelled booking's.
    pub id: *const c_char,
    /// The id of the show it belongs to.
    pub show_id: *const c_char,
    /// Its seat ids, trimmed: a hold's in request order (a best-available hold's in position
    /// order), a booking's and a cancellation's as their hold had them.
    pub seats: seatcore_seats,
    /// The moment, as ISO 8601 text (`2026-11-23T21:37:14.123456+00:00`, the database's
    /// clock): when a hold expires, when a booking was made (the same for every repeat of
    /// it), when a booking was first cancelled.
    pub at: *const c_char,
    /// `at` in microseconds since the Unix epoch (UTC).
    pub at_us: i64,
}

impl View for seatcore_record {
    type Item = ();
}

/// A granted hold: its seats belong to the caller until `at`, its expiry (database clock).
/// `id` is the hold's id.
///
/// Made by `seatcore_hold_seats`, `seatcore_hold_best` and `seatcore_extend_hold`; freed with
/// `seatcore_hold_free`. Freeing it does not release the hold in the database (use
/// `seatcore_release_hold` for that).
pub type seatcore_hold = seatcore_record;

/// A confirmed booking: `id` is the id of the hold it came from, `at` when it was made.
///
/// Made by `seatcore_book_hold`; freed with `seatcore_booking_free`.
pub type seatcore_booking = seatcore_record;

/// A cancelled booking, kept in the database and marked cancelled; its seats are
/// available. `id` is the booking's id, `seats` the seats it had, `at` when it was first
/// cancelled.
///
/// Made by `seatcore_cancel_booking`; freed with `seatcore_cancellation_free`.
pub type seatcore_cancellation = seatcore_record;

/// A new record object: the one way holds, bookings and cancellations are made for C.
fn record(id: Uuid, show_id: String, seat_ids: Vec<String>, at: &DateTime<Utc>) -> *mut seatcore_record {
    handle::object(|store| {
        let seats = store.seats(seat_ids);
        let (at, at_us) = moment(store, at);
        seatcore_record { id: store.text(id.to_string()), show_id: store.text(show_id), seats, at, at_us }
    })
}

pub(crate) fn hold(h: Hold) -> *mut seatcore_hold {
    record(h.hold_id, h.show_id, h.seat_ids, &h.expires_at)
}

pub(crate) fn booking(b: Booking) -> *mut seatcore_booking {
    record(b.booking_id, b.show_id, b.seat_ids, &b.booked_at)
}

pub(crate) fn cancellation(c: Cancellation) -> *mut seatcore_cancellation {
    record(c.booking_id, c.show_id, c.seat_ids, &c.cancelled_at)
}

/// A moment as C reads it: ISO 8601 text (`2026-11-23T21:37:14.123456+00:00`), kept in
/// `store`, and microseconds since the Unix epoch (UTC).
pub(crate) fn moment<I>(store: &mut Store<I>, t: &DateTime<Utc>) -> (*const c_char, i64) {
    (store.text(iso8601(t)), t.timestamp_micros())
}

/// A moment that may be missing: as [`moment`], or NULL and 0.
pub(crate) fn optional_moment<I>(store: &mut Store<I>, t: Option<&DateTime<Utc>>) -> (*const c_char, i64) {
    t.map_or((NO_STRING, 0), |t| moment(store, t))
}

/// The counts of a status read. `total == available + held + booked + blocked` whenever
/// `invariants_valid` is true; `invariants_valid` is computed from the rows read. Every
/// change with an id up to `version` is in the read: follow the change log from there to
/// miss nothing.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct seatcore_seat_counts {
    pub total: u64,
    pub available: u64,
    pub held: u64,
    pub booked: u64,
    pub invariants_valid: bool,
    pub blocked: u64,
    pub version: i64,
}

impl From<seatcore_core::SeatCounts> for seatcore_seat_counts {
    fn from(c: seatcore_core::SeatCounts) -> seatcore_seat_counts {
        seatcore_seat_counts {
            total: c.total,
            available: c.available,
            held: c.held,
            booked: c.booked,
            invariants_valid: c.invariants_valid,
            blocked: c.blocked,
            version: c.version,
        }
    }
}

/// One seat of a status read, its strings owned by the status object (or, for
/// `seatcore_seat_status_each`, valid during the callback).
///
/// `seat_id` and `hold_expires_at` are never to be freed by the caller. `hold_expires_at`
/// is an ISO 8601 string (`2026-11-23T21:37:14.123456+00:00`) when `state` is
/// `SEATCORE_SEAT_STATE_HELD` and NULL otherwise; `hold_expires_at_us` is the same instant in
/// microseconds since the Unix epoch, or 0 when the seat is not held.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct seatcore_seat {
    pub seat_id: *const c_char,
    pub state: SeatState,
    pub hold_expires_at: *const c_char,
    pub hold_expires_at_us: i64,
}

/// One seat of a status read as C reads it, its strings kept in `store`.
pub(crate) fn seat<I>(
    store: &mut Store<I>,
    seat_id: String,
    state: SeatState,
    hold_expires_at: Option<DateTime<Utc>>,
) -> seatcore_seat {
    let (hold_expires_at, hold_expires_at_us) = optional_moment(store, hold_expires_at.as_ref());
    seatcore_seat { seat_id: store.text(seat_id), state, hold_expires_at, hold_expires_at_us }
}

/// A show's status at one moment: counts, and every seat in seat-map order.
///
/// Made by `seatcore_seat_status`; the caller owns it and frees it with
/// `seatcore_status_free`. Every string and seat it points to is owned by it.
#[repr(C)]
pub struct seatcore_status {
    /// The id of the show this status is about.
    pub show_id: *const c_char,
    pub counts: seatcore_seat_counts,
    /// Every seat of the show, `seat_count` of them (the seat map's size), in seat-map
    /// order.
    pub seats: *const seatcore_seat,
    pub seat_count: usize,
    /// When a standby served the read (`seatcore_options.read_url`): the commit time of the
    /// last transaction it had replayed, in microseconds since the Unix epoch (UTC); the
    /// read holds every change the primary committed until about then. 0 when the primary
    /// served it.
    pub replayed_at_us: i64,
}

impl View for seatcore_status {
    type Item = seatcore_seat;
}

/// A new status object.
pub(crate) fn status(st: ShowStatus) -> *mut seatcore_status {
    handle::object(|store| {
        let rows = st.seats.into_iter().map(|s| seat(store, s.seat_id, s.state, s.hold_expires_at)).collect();
        let (seats, seat_count) = store.items(rows);
        seatcore_status {
            show_id: store.text(st.show_id),
            counts: st.counts.into(),
            seats,
            seat_count,
            replayed_at_us: st.counts.replayed_at.map_or(0, |t| t.timestamp_micros()),
        }
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

/// A new released-seats object.
pub(crate) fn seats_released(r: SeatsReleased) -> *mut seatcore_seats_released {
    handle::object(|store| seatcore_seats_released {
        hold_id: store.text(r.hold_id.to_string()),
        released: store.seats(r.seat_ids),
        remaining: store.seats(r.remaining_seat_ids),
    })
}

/// Frees a hold object and every string it points to. NULL is a no-op. Must not race with
/// other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_free(hold: *mut seatcore_hold) {
    handle::free_object(hold)
}

/// Frees a booking object and every string it points to. NULL is a no-op. Must not race
/// with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_booking_free(booking: *mut seatcore_booking) {
    handle::free_object(booking)
}

/// Frees a cancellation object and every string it points to. NULL is a no-op. Must not
/// race with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_cancellation_free(cancellation: *mut seatcore_cancellation) {
    handle::free_object(cancellation)
}

/// Frees a released-seats object and every string it points to. NULL is a no-op. Must
/// not race with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seats_released_free(released: *mut seatcore_seats_released) {
    handle::free_object(released)
}

/// Frees a status object and every string and seat it points to. NULL is a no-op. Must not
/// race with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_status_free(status: *mut seatcore_status) {
    handle::free_object(status)
}

/// The contract's name of a seat state: `"available"`, `"held"`, `"booked"` or `"blocked"`,
/// or `"unknown"` for any other value. A static string: never NULL, never to be freed.
#[no_mangle]
pub extern "C" fn seatcore_seat_state_name(state: u32) -> *const c_char {
    guard(NO_STRING, || {
        let name: &'static [u8] = match state {
            0 => b"available\0",
            1 => b"held\0",
            2 => b"booked\0",
            3 => b"blocked\0",
            _ => b"unknown\0",
        };
        name.as_ptr().cast()
    })
}

// ---- audit reports ----

/// What `seatcore_audit` found: whether every invariant holds, what was looked at, and the
/// problems, each a sentence naming the show, seat and hold or booking.
///
/// Made by `seatcore_audit`; the caller owns it and frees it with `seatcore_audit_free`.
/// Immutable: several threads may read it at once; it is freed once, when none does.
// Not `seatcore_audit`: in C a type and a function may not share a name, and the function
// has it.
#[repr(C)]
pub struct seatcore_audit_report {
    /// Whether every invariant holds, what was looked at, and how many problems were found
    /// in all (`summary.problem_count`, 0 exactly when `summary.ok`). The report lists the
    /// first of them only: see `problems_listed`.
    pub summary: AuditSummary,
    /// The listed problems, sentences such as `"show s1: seat A1 is held by ..., which is no
    /// live hold of it"`: `problems_listed` of them, all of them or the first 100 when
    /// there are more.
    pub problems: *const *const c_char,
    pub problems_listed: usize,
}

impl View for seatcore_audit_report {
    type Item = ();
}

/// A new audit report object.
pub(crate) fn audit_report(audit: Audit) -> *mut seatcore_audit_report {
    handle::object(|store| {
        let (problems, problems_listed) = store.list(audit.problems);
        seatcore_audit_report { summary: audit.summary, problems, problems_listed }
    })
}

/// Frees an audit report and every string it points to. NULL is a no-op. Must not race
/// with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_free(report: *mut seatcore_audit_report) {
    handle::free_object(report)
}
