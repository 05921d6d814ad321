//! The change log in C: history pages (`seatcore_history`), watches (`seatcore_watch_*`)
//! and change records (`seatcore_change_*`).

use std::ffi::{c_char, CString};
use std::ptr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use seatcore_core::{Change, ChangePage, HistoryQuery, Watch};

use crate::error::{boundary, cstring, guard, seatcore_error, seatcore_result};
use crate::results::{strings, Stamp};
use crate::{args, handle, seatcore_client};

/// Pass as `after` to `seatcore_watch_open` to watch from now: after every change
/// committed before the call.
pub const SEATCORE_FROM_NOW: i64 = -1;

/// One record of a show's change log: what happened to which seats, and when.
///
/// Made by `seatcore_watch_next` (the caller owns it and frees it with
/// `seatcore_change_free`), or borrowed from a history page (`seatcore_history_change`:
/// valid until the page is freed, never freed by the caller). Immutable: several threads
/// may read it at once. Every string an accessor returns is borrowed from the change.
pub struct seatcore_change {
    id: i64,
    kind: &'static std::ffi::CStr,
    show_id: CString,
    seat_ids: Vec<CString>,
    hold_id: Option<CString>,
    booking_id: Option<CString>,
    at: Stamp,
    expires_at: Option<Stamp>,
}

impl From<Change> for seatcore_change {
    fn from(c: Change) -> seatcore_change {
        seatcore_change {
            id: c.id,
            kind: kind_name(c.kind),
            show_id: cstring(c.show_id),
            seat_ids: strings(c.seat_ids),
            hold_id: c.hold_id.map(|id| cstring(id.to_string())),
            booking_id: c.booking_id.map(|id| cstring(id.to_string())),
            at: (&c.at).into(),
            expires_at: c.expires_at.as_ref().map(Stamp::from),
        }
    }
}

/// The kind's name as a static C string. Exhaustive: a new kind stops the build here.
fn kind_name(kind: seatcore_core::ChangeKind) -> &'static std::ffi::CStr {
    use seatcore_core::ChangeKind::*;
    match kind {
        Initialized => c"initialized",
        Held => c"held",
        Extended => c"extended",
        Released => c"released",
        Expired => c"expired",
        Booked => c"booked",
        Cancelled => c"cancelled",
        Blocked => c"blocked",
        Unblocked => c"unblocked",
        Reset => c"reset",
    }
}

// ---- changes ----

/// The change's id; ids grow. Pass it as `after` to `seatcore_history` or
/// `seatcore_watch_open` to go on from here. 0 when `change` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_id(change: *const seatcore_change) -> i64 {
    handle::get(change, |c| c.id)
}

/// What happened: `"initialized"`, `"held"`, `"extended"`, `"released"`, `"expired"`,
/// `"booked"`, `"cancelled"`, `"blocked"`, `"unblocked"` or `"reset"`. A static string:
/// valid for the life of the program, never freed. NULL when `change` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_kind(change: *const seatcore_change) -> *const c_char {
    handle::text(change, |c| c.kind)
}

/// The id of the show the change is about. Borrowed from `change` (valid until it, or the
/// page it came from, is freed); NULL when `change` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_show_id(change: *const seatcore_change) -> *const c_char {
    handle::text(change, |c| &c.show_id)
}

/// How many seats the change is about; 0 when `change` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_seat_count(change: *const seatcore_change) -> usize {
    handle::get(change, |c| c.seat_ids.len())
}

/// The `index`-th seat id of the change. Borrowed from `change`; NULL when `change` is NULL
/// or `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_seat_id(
    change: *const seatcore_change,
    index: usize,
) -> *const c_char {
    handle::text_at(change, index, |c| &c.seat_ids)
}

/// The id (UUID text) of the hold the change is about, or NULL when it is about none (or
/// `change` is NULL). Borrowed from `change`.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_hold_id(change: *const seatcore_change) -> *const c_char {
    handle::optional_text(change, |c| c.hold_id.as_deref())
}

/// The id (UUID text) of the booking the change is about, or NULL when it is about none
/// (or `change` is NULL). Borrowed from `change`.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_booking_id(change: *const seatcore_change) -> *const c_char {
    handle::optional_text(change, |c| c.booking_id.as_deref())
}

/// When the change was committed, as ISO 8601 text (`2026-11-23T21:37:14.123456+00:00`,
/// the database's clock). Borrowed from `change`; NULL when `change` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_at(change: *const seatcore_change) -> *const c_char {
    handle::text(change, |c| &c.at.text)
}

/// When the change was committed, in microseconds since the Unix epoch (UTC); 0 when
/// `change` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_at_us(change: *const seatcore_change) -> i64 {
    handle::get(change, |c| c.at.us)
}

/// When the hold ends (`held`, `extended`) or ended (`expired`), as ISO 8601 text; NULL for
/// other kinds (or when `change` is NULL). Borrowed from `change`.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_expires_at(change: *const seatcore_change) -> *const c_char {
    handle::optional_text(change, |c| c.expires_at.as_ref().map(|t| t.text.as_c_str()))
}

/// `seatcore_change_expires_at` in microseconds since the Unix epoch (UTC); 0 when the
/// change has none (or `change` is NULL).
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_expires_at_us(change: *const seatcore_change) -> i64 {
    handle::get(change, |c| c.expires_at.as_ref().map_or(0, |t| t.us))
}

/// Frees a change made by `seatcore_watch_next`, and every string borrowed from it. NULL
/// is a no-op. Never pass a change borrowed from a history page. Must not race with other
/// uses of the same change; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_free(change: *mut seatcore_change) {
    handle::free(change)
}

// ---- history pages ----

/// A page of a show's history, oldest first, and where the next page starts.
///
/// Made by `seatcore_history`; the caller owns it and frees it with
/// `seatcore_history_free`. Immutable: several threads may read it at once.
pub struct seatcore_history_page {
    changes: Vec<seatcore_change>,
    next: i64,
}

impl From<ChangePage> for seatcore_history_page {
    fn from(page: ChangePage) -> seatcore_history_page {
        seatcore_history_page { changes: page.changes.into_iter().map(Into::into).collect(), next: page.next }
    }
}

/// Reads a page of a show's history, oldest first: the changes after change id `after`
/// (0: from the beginning), only those about `seat_id` when it is not NULL, at most `limit`.
/// The page includes every change committed before the call.
///
/// - `client`, `show_id`: required.
/// - `after`: 0 or a change id (a change's id, a page's next, a watch's position).
/// - `seat_id`: optional (NULL: every change); read only during the call.
/// - `limit`: 1 to 1000.
/// - `out`: required; on success `*out` is a new page the caller owns and frees with
///   `seatcore_history_free`; read it with `seatcore_history_count`,
///   `seatcore_history_change` and `seatcore_history_next`. Untouched on failure.
/// - `err`: optional.
///
/// Pass the page's `seatcore_history_next` as `after` to read the following page; a page
/// with no change means there is nothing more now. Fails with `SEATCORE_SHOW_NOT_FOUND`,
/// `SEATCORE_INVALID_INPUT` (negative `after`, `limit` out of range, bad show or seat id),
/// `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_history(
    client: *const seatcore_client,
    show_id: *const c_char,
    after: i64,
    seat_id: *const c_char,
    limit: u32,
    out: *mut *mut seatcore_history_page,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        let (core, show_id) = args::client_and_show(client, show_id)?;
        let seat_id = args::optional_text(seat_id, "seat_id")?.map(str::to_owned);
        let out = args::out(out, "out")?;
        let page = core.history(show_id, &HistoryQuery { after, seat_id, limit })?;
        *out = handle::new(seatcore_history_page::from(page));
        Ok(())
    })
}

/// How many changes the page has; 0 when `page` is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_history_count(page: *const seatcore_history_page) -> usize {
    handle::get(page, |p| p.changes.len())
}

/// The `index`-th change of the page, oldest first. Borrowed from `page`: valid until
/// `seatcore_history_free(page)`; never pass it to `seatcore_change_free`. NULL when `page`
/// is NULL or `index >= seatcore_history_count(page)`.
#[no_mangle]
pub unsafe extern "C" fn seatcore_history_change(
    page: *const seatcore_history_page,
    index: usize,
) -> *const seatcore_change {
    page.as_ref().and_then(|p| p.changes.get(index)).map_or(ptr::null(), |c| c as *const seatcore_change)
}

/// The `after` of the next page: every change up to it was returned (or filtered out),
/// now and for good. Equal to the `after` asked for when the page is empty. 0 when `page`
/// is NULL.
#[no_mangle]
pub unsafe extern "C" fn seatcore_history_next(page: *const seatcore_history_page) -> i64 {
    handle::get(page, |p| p.next)
}

/// Frees a page and every change and string borrowed from it. NULL is a no-op. Must not
/// race with other uses of the page; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_history_free(page: *mut seatcore_history_page) {
    handle::free(page)
}

// ---- watches ----

/// A watch of one show's changes: `seatcore_watch_next` returns each committed change once,
/// in id order, waiting for the next when there is none. Changes of every process on the
/// database arrive (PostgreSQL `LISTEN`/`NOTIFY`, and a look at the log every 100 ms
/// besides).
///
/// Made by `seatcore_watch_open`; the caller owns it and frees it with
/// `seatcore_watch_free`, which closes its database connection. It holds its own
/// reference to the client's pool, so it may outlive the client.
///
/// Thread safety: a watch is used by one thread at a time (a second thread calling
/// `seatcore_watch_next` on the same watch waits until the first call returns). Different
/// watches may be used by different threads at once. After `fork()` a watch goes on in the
/// child on a connection of the child's own, unless another thread of the parent was in
/// `seatcore_watch_next` on it at the moment of the fork: open a new watch in the child then.
pub struct seatcore_watch {
    watch: Mutex<Watch>,
}

/// Opens a watch of `show_id`: the changes after change id `after` (0: every change; a
/// change's id, a page's next, a watch's position), or with `SEATCORE_FROM_NOW` those
/// committed after the call (it starts after every change committed before it).
///
/// - `client`, `show_id`: required.
/// - `out`: required; on success `*out` is a new watch the caller owns and frees with
///   `seatcore_watch_free`. Untouched on failure.
/// - `err`: optional.
///
/// Fails with `SEATCORE_SHOW_NOT_FOUND`, `SEATCORE_INVALID_INPUT` (a negative `after` other
/// than `SEATCORE_FROM_NOW`, a bad show id), `SEATCORE_NULL_PARAMETER`,
/// `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_watch_open(
    client: *const seatcore_client,
    show_id: *const c_char,
    after: i64,
    out: *mut *mut seatcore_watch,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        let (core, show_id) = args::client_and_show(client, show_id)?;
        let out = args::out(out, "out")?;
        let after = if after == SEATCORE_FROM_NOW { None } else { Some(after) };
        *out = handle::new(seatcore_watch { watch: Mutex::new(core.watch(show_id, after)?) });
        Ok(())
    })
}

/// Waits up to `timeout_ms` milliseconds (0: do not wait) for the watch's next change.
///
/// On `SEATCORE_OK`, `*out` is the next change, a new object the caller owns and frees with
/// `seatcore_change_free`, or NULL when none came in time. On failure `*out` is untouched
/// and the watch stays usable: call again to retry (a database that is down gives
/// `SEATCORE_UNAVAILABLE` and the like until it is back; nothing is skipped).
///
/// `watch` and `out` required; `err` optional. Fails with `SEATCORE_NULL_PARAMETER` or a
/// database code. Blocks the calling thread while it waits.
#[no_mangle]
pub unsafe extern "C" fn seatcore_watch_next(
    watch: *const seatcore_watch,
    timeout_ms: u64,
    out: *mut *mut seatcore_change,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        let watch = args::arg(watch, "watch")?;
        let out = args::out(out, "out")?;
        let mut w = watch.watch.lock().unwrap_or_else(PoisonError::into_inner);
        let next = w.next(Duration::from_millis(timeout_ms))?;
        *out = next.map_or(ptr::null_mut(), |c| handle::new(seatcore_change::from(c)));
        Ok(())
    })
}

/// The id of the last change the watch returned (or its starting point): pass it as
/// `after` to `seatcore_watch_open` or `seatcore_history` to go on from there. 0 when
/// `watch` is NULL. Waits while another thread is in `seatcore_watch_next` on the watch.
#[no_mangle]
pub unsafe extern "C" fn seatcore_watch_position(watch: *const seatcore_watch) -> i64 {
    guard(0, || handle::get(watch, |w| w.watch.lock().unwrap_or_else(PoisonError::into_inner).position()))
}

/// Closes the watch's database connection and frees it. NULL is a no-op. Call it once,
/// when no other thread uses the watch; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_watch_free(watch: *mut seatcore_watch) {
    handle::free(watch)
}

// The header promises that pages and changes may be read from several threads, and that a
// watch may be handed from thread to thread: hold the compiler to it.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<seatcore_change>();
    shared_between_threads::<seatcore_history_page>();
    shared_between_threads::<seatcore_watch>();
};
