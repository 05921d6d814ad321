//! The result objects (hold, booking, seat status, audit report) and their accessors.
//!
//! Each is an immutable snapshot owned by the caller: every string an accessor returns is
//! owned by the object and stays valid until the object is freed. Immutable objects may be
//! read from several threads at once; freeing one must not race with reading it.
//!
//! Here too are the parts the result objects of the other modules are made of: [`Stamp`],
//! [`Record`] and [`strings`].

use std::ffi::{c_char, CString};

use seatcore_core::{iso8601, Audit, Booking, DateTime, Hold, SeatState, ShowStatus, Utc, Uuid};

use crate::args;
use crate::error::{cstring, guard, seatcore_error, seatcore_result, NO_STRING};
use crate::handle;

/// A moment as C reads it: ISO 8601 text (`2026-11-23T21:37:14.123456+00:00`) and
/// microseconds since the Unix epoch (UTC).
pub(crate) struct Stamp {
    pub(crate) text: CString,
    pub(crate) us: i64,
}

impl From<&DateTime<Utc>> for Stamp {
    fn from(t: &DateTime<Utc>) -> Stamp {
        Stamp { text: cstring(iso8601(t)), us: t.timestamp_micros() }
    }
}

/// The C strings of a list (of seat ids, of problems).
pub(crate) fn strings(ids: Vec<String>) -> Vec<CString> {
    ids.into_iter().map(cstring).collect()
}

/// What a hold, a booking and a cancellation are made of: an id, the show, the seats, and
/// the moment (the hold's expiry, the booking's or the cancellation's time).
pub(crate) struct Record {
    pub(crate) id: CString,
    pub(crate) show_id: CString,
    pub(crate) seat_ids: Vec<CString>,
    pub(crate) at: Stamp,
}

impl Record {
    pub(crate) fn new(id: Uuid, show_id: String, seat_ids: Vec<String>, at: &DateTime<Utc>) -> Record {
        Record {
            id: cstring(id.to_string()),
            show_id: cstring(show_id),
            seat_ids: strings(seat_ids),
            at: at.into(),
        }
    }
}

/// A granted hold: its seats belong to the caller until its expiry (database clock).
///
/// Made by `seatcore_hold_seats` / `seatcore_hold_seats_with_key`; the caller owns it and frees it with
/// `seatcore_hold_free`. Freeing it does not release the hold in the database (use
/// `seatcore_release_hold` for that).
pub struct seatcore_hold {
    /// `at` is the expiry.
    record: Record,
}

/// A confirmed booking. Its id is the id of the hold it came from.
///
/// Made by `seatcore_book_hold`; the caller owns it and frees it with `seatcore_booking_free`.
pub struct seatcore_booking {
    /// `at` is when the booking was made.
    record: Record,
}

/// The state of one seat.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum seatcore_seat_state {
    SEATCORE_SEAT_AVAILABLE = 0,
    SEATCORE_SEAT_HELD = 1,
    SEATCORE_SEAT_BOOKED = 2,
    /// Blocked by the house (not for sale until unblocked).
    SEATCORE_SEAT_BLOCKED = 3,
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

/// One seat of a status read, as borrowed views into its `seatcore_status`.
///
/// `seat_id` and `hold_expires_at` point into the status object: valid until it is freed,
/// never to be freed by the caller. `hold_expires_at` is an ISO 8601 string
/// (`2026-11-23T21:37:14.123456+00:00`) when `state` is `SEATCORE_SEAT_HELD` and NULL
/// otherwise; `hold_expires_at_us` is the same instant in microseconds since the Unix
/// epoch, or 0 when the seat is not held.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct seatcore_seat {
    pub seat_id: *const c_char,
    pub state: seatcore_seat_state,
    pub hold_expires_at: *const c_char,
    pub hold_expires_at_us: i64,
}

/// One seat of a status read, owning the strings its `seatcore_seat` view borrows.
pub(crate) struct SeatRow {
    seat_id: CString,
    state: seatcore_seat_state,
    hold_expires_at: Option<Stamp>,
}

impl SeatRow {
    pub(crate) fn new(seat_id: String, state: SeatState, hold_expires_at: Option<DateTime<Utc>>) -> SeatRow {
        SeatRow {
            seat_id: cstring(seat_id),
            state: state.into(),
            hold_expires_at: hold_expires_at.as_ref().map(Stamp::from),
        }
    }

    /// The row as C reads it, borrowing its strings.
    pub(crate) fn view(&self) -> seatcore_seat {
        seatcore_seat {
            seat_id: self.seat_id.as_ptr(),
            state: self.state,
            hold_expires_at: self.hold_expires_at.as_ref().map_or(NO_STRING, |t| t.text.as_ptr()),
            hold_expires_at_us: self.hold_expires_at.as_ref().map_or(0, |t| t.us),
        }
    }
}

/// A show's status at one moment: counts, and every seat in seat-map order.
///
/// Made by `seatcore_seat_status`; the caller owns it and frees it with
/// `seatcore_status_free`.
pub struct seatcore_status {
    show_id: CString,
    counts: seatcore_seat_counts,
    seats: Vec<SeatRow>,
    /// When a standby served the read: its last replayed commit, µs since the epoch.
    replayed_at_us: i64,
}

impl From<Hold> for seatcore_hold {
    fn from(h: Hold) -> seatcore_hold {
        seatcore_hold { record: Record::new(h.hold_id, h.show_id, h.seat_ids, &h.expires_at) }
    }
}

impl From<Booking> for seatcore_booking {
    fn from(b: Booking) -> seatcore_booking {
        seatcore_booking { record: Record::new(b.booking_id, b.show_id, b.seat_ids, &b.booked_at) }
    }
}

impl From<SeatState> for seatcore_seat_state {
    fn from(s: SeatState) -> seatcore_seat_state {
        match s {
            SeatState::Available => seatcore_seat_state::SEATCORE_SEAT_AVAILABLE,
            SeatState::Held => seatcore_seat_state::SEATCORE_SEAT_HELD,
            SeatState::Booked => seatcore_seat_state::SEATCORE_SEAT_BOOKED,
            SeatState::Blocked => seatcore_seat_state::SEATCORE_SEAT_BLOCKED,
        }
    }
}

impl From<ShowStatus> for seatcore_status {
    fn from(st: ShowStatus) -> seatcore_status {
        let c = st.counts;
        seatcore_status {
            show_id: cstring(st.show_id),
            counts: c.into(),
            replayed_at_us: c.replayed_at.map_or(0, |t| t.timestamp_micros()),
            seats: st
                .seats
                .into_iter()
                .map(|s| SeatRow::new(s.seat_id, s.state, s.hold_expires_at))
                .collect(),
        }
    }
}

// ---- holds ----

/// The hold's id: a UUID in its 36-character text form, to pass to `seatcore_book_hold` or
/// `seatcore_release_hold`.
///
/// Borrowed from `hold`: valid until `seatcore_hold_free(hold)`; do not free it.
/// NULL when `hold` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_id(hold: *const seatcore_hold) -> *const c_char {
    handle::text(hold, |h| &h.record.id)
}

/// The id of the show the hold belongs to. Borrowed from `hold` (valid until it is freed);
/// NULL when `hold` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_show_id(hold: *const seatcore_hold) -> *const c_char {
    handle::text(hold, |h| &h.record.show_id)
}

/// How many seats the hold has; 0 when `hold` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_seat_count(hold: *const seatcore_hold) -> usize {
    handle::get(hold, |h| h.record.seat_ids.len())
}

/// The `index`-th seat id of the hold (trimmed, in request order). Borrowed from `hold`
/// (valid until it is freed); NULL when `hold` is NULL or `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_seat_id(hold: *const seatcore_hold, index: usize) -> *const c_char {
    handle::text_at(hold, index, |h| &h.record.seat_ids)
}

/// When the hold expires, as ISO 8601 text (`2026-11-23T21:37:14.123456+00:00`).
/// Borrowed from `hold` (valid until it is freed); NULL when `hold` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_expires_at(hold: *const seatcore_hold) -> *const c_char {
    handle::text(hold, |h| &h.record.at.text)
}

/// When the hold expires, in microseconds since the Unix epoch (UTC); 0 when `hold` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_expires_at_us(hold: *const seatcore_hold) -> i64 {
    handle::get(hold, |h| h.record.at.us)
}

/// Frees a hold object and every string borrowed from it. NULL is a no-op. Must not race
/// with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_free(hold: *mut seatcore_hold) {
    handle::free(hold)
}

// ---- bookings ----

/// The booking's id (equal to the id of the hold it came from), 36-character UUID text.
/// Borrowed from `booking` (valid until it is freed); NULL when `booking` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_booking_id(booking: *const seatcore_booking) -> *const c_char {
    handle::text(booking, |b| &b.record.id)
}

/// The id of the show the booking belongs to. Borrowed from `booking` (valid until it is
/// freed); NULL when `booking` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_booking_show_id(booking: *const seatcore_booking) -> *const c_char {
    handle::text(booking, |b| &b.record.show_id)
}

/// How many seats the booking has; 0 when `booking` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_booking_seat_count(booking: *const seatcore_booking) -> usize {
    handle::get(booking, |b| b.record.seat_ids.len())
}

/// The `index`-th seat id of the booking. Borrowed from `booking` (valid until it is
/// freed); NULL when `booking` is NULL or `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn seatcore_booking_seat_id(
    booking: *const seatcore_booking,
    index: usize,
) -> *const c_char {
    handle::text_at(booking, index, |b| &b.record.seat_ids)
}

/// When the booking was made, as ISO 8601 text; the same for every repeat of the booking.
/// Borrowed from `booking` (valid until it is freed); NULL when `booking` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_booking_booked_at(booking: *const seatcore_booking) -> *const c_char {
    handle::text(booking, |b| &b.record.at.text)
}

/// When the booking was made, in microseconds since the Unix epoch (UTC); 0 when
/// `booking` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_booking_booked_at_us(booking: *const seatcore_booking) -> i64 {
    handle::get(booking, |b| b.record.at.us)
}

/// Frees a booking object and every string borrowed from it. NULL is a no-op. Must not
/// race with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_booking_free(booking: *mut seatcore_booking) {
    handle::free(booking)
}

// ---- seat status ----

/// The id of the show this status is about. Borrowed from `status` (valid until it is
/// freed); NULL when `status` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_status_show_id(status: *const seatcore_status) -> *const c_char {
    handle::text(status, |s| &s.show_id)
}

/// Copies the counts of the status into `*out`.
///
/// Returns `SEATCORE_NULL_PARAMETER` when `status` or `out` is NULL (nothing written).
/// `err` is optional (may be NULL); see `seatcore_error`.
#[no_mangle]
pub unsafe extern "C" fn seatcore_status_counts(
    status: *const seatcore_status,
    out: *mut seatcore_seat_counts,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::read_into(status, "status", out, err, |s| Ok(s.counts))
}

/// When a standby served the read (`seatcore_options_set_read_url`): the commit time of the
/// last transaction it had replayed, in microseconds since the Unix epoch (UTC); the read
/// holds every change the primary committed until about then. 0 when the primary served
/// it, and when `status` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_status_replayed_at_us(status: *const seatcore_status) -> i64 {
    handle::get(status, |s| s.replayed_at_us)
}

/// How many seats the status lists (the show's seat map size); 0 when `status` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_status_seat_count(status: *const seatcore_status) -> usize {
    handle::get(status, |s| s.seats.len())
}

/// Writes the `index`-th seat, in seat-map order, into `*out`. The strings in `*out` are
/// borrowed from `status`: valid until `seatcore_status_free(status)`, not to be freed.
///
/// Returns `SEATCORE_NULL_PARAMETER` when `status` or `out` is NULL and
/// `SEATCORE_INDEX_OUT_OF_RANGE` when `index >= seatcore_status_seat_count(status)`;
/// `*out` is then untouched. `err` is optional (may be NULL).
#[no_mangle]
pub unsafe extern "C" fn seatcore_status_seat(
    status: *const seatcore_status,
    index: usize,
    out: *mut seatcore_seat,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::read_into(status, "status", out, err, |s| Ok(args::seat_at(&s.seats, index, "the show")?.view()))
}

/// Frees a status object and every string borrowed from it. NULL is a no-op. Must not
/// race with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_status_free(status: *mut seatcore_status) {
    handle::free(status)
}

/// The contract's name of a seat state: `"available"`, `"held"` or `"booked"`, or
/// `"unknown"` for any other value. A static string: never NULL, never to be freed.
#[no_mangle]
pub extern "C" fn seatcore_seat_state_name(state: u32) -> *const c_char {
    guard(NO_STRING, || {
        let name: &'static [u8] = match state {
            0 => b"available\0",
            1 => b"held\0",
            2 => b"booked\0",
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
pub struct seatcore_audit_report {
    /// The core's report, its problems moved to `problems`.
    audit: Audit,
    problems: Vec<CString>,
}

impl From<Audit> for seatcore_audit_report {
    fn from(mut audit: Audit) -> seatcore_audit_report {
        let problems = strings(std::mem::take(&mut audit.problems));
        seatcore_audit_report { audit, problems }
    }
}

/// True when every invariant holds (no problem found); false when one is broken or
/// `report` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_ok(report: *const seatcore_audit_report) -> bool {
    handle::get(report, |r| r.audit.ok)
}

/// How many shows the audit looked at (1 or 0 for one show); 0 when `report` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_shows(report: *const seatcore_audit_report) -> u64 {
    handle::get(report, |r| r.audit.shows)
}

/// How many seats the audit looked at; 0 when `report` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_seats(report: *const seatcore_audit_report) -> u64 {
    handle::get(report, |r| r.audit.seats)
}

/// How many of those seats a live hold held at the audit's moment; 0 when `report` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_held(report: *const seatcore_audit_report) -> u64 {
    handle::get(report, |r| r.audit.held)
}

/// How many of those seats were booked; 0 when `report` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_booked(report: *const seatcore_audit_report) -> u64 {
    handle::get(report, |r| r.audit.booked)
}

/// How many problems the audit found in all (0 exactly when `seatcore_audit_ok`); 0 when
/// `report` is NULL. The report lists the first of them only: see
/// `seatcore_audit_problems_listed`.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_problem_count(report: *const seatcore_audit_report) -> u64 {
    handle::get(report, |r| r.audit.problem_count)
}

/// How many problems the report lists: all of them, or the first 100 when there are more;
/// 0 when `report` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_problems_listed(report: *const seatcore_audit_report) -> usize {
    handle::get(report, |r| r.problems.len())
}

/// The `index`-th listed problem, a sentence such as `"show s1: seat A1 is held by ...,
/// which is no live hold of it"`. Borrowed from `report` (valid until it is freed; do not
/// free it); NULL when `report` is NULL or `index >= seatcore_audit_problems_listed(report)`.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_problem(
    report: *const seatcore_audit_report,
    index: usize,
) -> *const c_char {
    handle::text_at(report, index, |r| &r.problems)
}

/// Frees an audit report and every string borrowed from it. NULL is a no-op. Must not race
/// with other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit_free(report: *mut seatcore_audit_report) {
    handle::free(report)
}
