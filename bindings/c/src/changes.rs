//! The change log in C: history pages (`seatcore_history`), watches (`seatcore_watch_*`)
//! and change records (`seatcore_change`).

use std::ffi::{c_char, CStr};
use std::ptr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use seatcore_core::{Change, HistoryQuery, Watch};

use crate::args::seatcore_seats;
use crate::error::{guard, seatcore_error, seatcore_result};
use crate::handle::{self, Owned, Store, View};
use crate::results::{moment, optional_moment};
use crate::{args, seatcore_client};

/// Pass as `after` to `seatcore_watch_open` to watch from now: after every change
/// committed before the call.
pub const SEATCORE_FROM_NOW: i64 = -1;

/// One record of a show's change log: what happened to which seats, and when.
///
/// Made by `seatcore_watch_next` (the caller owns it and frees it with
/// `seatcore_change_free`), or part of a history page (`page->changes[i]`: valid until the
/// page is freed, never freed by the caller). Every string it points to is owned by it (or
/// its page). Immutable: several threads may read it at once.
#[repr(C)]
pub struct seatcore_change {
    /// The change's id; ids grow. Pass it as `after` to `seatcore_history` or
    /// `seatcore_watch_open` to go on from here.
    pub id: i64,
    /// What happened: `"initialized"`, `"held"`, `"extended"`, `"released"`, `"expired"`,
    /// `"booked"`, `"cancelled"`, `"blocked"`, `"unblocked"` or `"reset"`. A static string:
    /// valid for the life of the program.
    pub kind: *const c_char,
    /// The id of the show the change is about.
    pub show_id: *const c_char,
    /// The seats the change is about.
    pub seats: seatcore_seats,
    /// The id (UUID text) of the hold the change is about, or NULL when it is about none.
    pub hold_id: *const c_char,
    /// The id (UUID text) of the booking the change is about, or NULL when it is about none.
    pub booking_id: *const c_char,
    /// When the change was committed, as ISO 8601 text (`2026-11-23T21:37:14.123456+00:00`,
    /// the database's clock).
    pub at: *const c_char,
    /// `at` in microseconds since the Unix epoch (UTC).
    pub at_us: i64,
    /// When the hold ends (`held`, `extended`) or ended (`expired`), as ISO 8601 text; NULL
    /// for other kinds.
    pub expires_at: *const c_char,
    /// `expires_at` in microseconds since the Unix epoch (UTC); 0 when there is none.
    pub expires_at_us: i64,
}

impl View for seatcore_change {
    type Item = ();
}

/// A change as C reads it, its strings kept in `store` (the change's own, or its page's).
fn change<I>(store: &mut Store<I>, c: Change) -> seatcore_change {
    let seats = store.seats(c.seat_ids);
    let (at, at_us) = moment(store, &c.at);
    let (expires_at, expires_at_us) = optional_moment(store, c.expires_at.as_ref());
    seatcore_change {
        id: c.id,
        kind: kind_name(c.kind).as_ptr(),
        show_id: store.text(c.show_id),
        seats,
        hold_id: store.optional_text(c.hold_id.map(|id| id.to_string())),
        booking_id: store.optional_text(c.booking_id.map(|id| id.to_string())),
        at,
        at_us,
        expires_at,
        expires_at_us,
    }
}

/// The kind's name as a static C string. Exhaustive: a new kind stops the build here.
fn kind_name(kind: seatcore_core::ChangeKind) -> &'static CStr {
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

/// Frees a change made by `seatcore_watch_next`, and every string it points to. NULL is a
/// no-op. Never pass a change of a history page. Must not race with other uses of the same
/// change; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_change_free(change: *mut seatcore_change) {
    handle::free_object(change)
}

// ---- history pages ----

/// A page of a show's history, oldest first, and where the next page starts.
///
/// Made by `seatcore_history`; the caller owns it and frees it with
/// `seatcore_history_free`. Immutable: several threads may read it at once.
#[repr(C)]
pub struct seatcore_history_page {
    /// The page's `count` changes, oldest first. They belong to the page: valid until
    /// `seatcore_history_free(page)`; never pass one to `seatcore_change_free`.
    pub changes: *const seatcore_change,
    pub count: usize,
    /// The `after` of the next page: every change up to it was returned (or filtered out),
    /// now and for good. Equal to the `after` asked for when the page is empty.
    pub next: i64,
}

impl View for seatcore_history_page {
    type Item = seatcore_change;
}

/// Reads a page of a show's history, oldest first: the changes after change id `after`
/// (0: from the beginning), only those about `seat_id` when it is not NULL, at most `limit`,
/// and fewer once they name 10,000 seat ids (a change is never split). The page includes
/// every change committed before the call.
///
/// - `client`, `show_id`: required.
/// - `after`: 0 or a change id (a change's id, a page's next, a watch's position).
/// - `seat_id`: optional (NULL: every change); read only during the call.
/// - `limit`: 1 to 1000.
/// - `out`: required; on success `*out` is a new page the caller owns and frees with
///   `seatcore_history_free`. Untouched on failure.
/// - `err`: optional.
///
/// Pass the page's `next` as `after` to read the following page; a page
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
    args::on_show_out(client, show_id, out, err, |core, show_id| {
        let seat_id = args::optional_text(seat_id, "seat_id")?.map(str::to_owned);
        let page = core.history(show_id, &HistoryQuery { after, seat_id, limit })?;
        Ok(handle::object(|store| {
            let changes = page.changes.into_iter().map(|c| change(store, c)).collect();
            let (changes, count) = store.items(changes);
            seatcore_history_page { changes, count, next: page.next }
        }))
    })
}

/// Frees a page and every change and string it points to. NULL is a no-op. Must not race
/// with other uses of the page; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_history_free(page: *mut seatcore_history_page) {
    handle::free_object(page)
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
    args::on_show_out(client, show_id, out, err, |core, show_id| {
        let after = if after == SEATCORE_FROM_NOW { None } else { Some(after) };
        Ok(handle::new(seatcore_watch { watch: Mutex::new(core.watch(show_id, after)?) }))
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
    args::on_object_out(watch, "watch", out, err, |watch| {
        let mut w = watch.watch.lock().unwrap_or_else(PoisonError::into_inner);
        let next = w.next(Duration::from_millis(timeout_ms))?;
        Ok(next.map_or(ptr::null_mut(), |c| handle::object(|store| change(store, c))))
    })
}

/// The id of the last change the watch returned (or its starting point): pass it as
/// `after` to `seatcore_watch_open` or `seatcore_history` to go on from there. 0 when
/// `watch` is NULL. Waits while another thread is in `seatcore_watch_next` on the watch.
#[no_mangle]
pub unsafe extern "C" fn seatcore_watch_position(watch: *const seatcore_watch) -> i64 {
    guard(0, || {
        watch.as_ref().map_or(0, |w| w.watch.lock().unwrap_or_else(PoisonError::into_inner).position())
    })
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
    shared_between_threads::<Owned<seatcore_change>>();
    shared_between_threads::<Owned<seatcore_history_page>>();
    shared_between_threads::<seatcore_watch>();
};
