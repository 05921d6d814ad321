//! seatcore's C API: `libseatcore` and `seatcore.h`.
//!
//! A thin translation of the core crate into C: every exported function checks its
//! arguments (NULL, UTF-8, list bounds) before doing anything, runs inside one boundary
//! ([`error::boundary`]) that turns panics into `SEATCORE_PANIC`, and writes its
//! out-parameters only on success. The header `seatcore.h` is generated from these doc
//! comments by cbindgen when the crate is built (build.rs), next to the library:
//! `target/<profile>/include/seatcore.h`.

// Every exported function documents its pointer contract in its doc comment (copied into the
// C header), which is where C callers read it.
#![allow(clippy::missing_safety_doc)]
// The exported types carry their C names (`seatcore_client`, ...), as cbindgen copies them.
#![allow(non_camel_case_types)]

mod args;
mod changes;
#[cfg(test)]
mod changes_tests;
mod error;
mod handle;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod lifecycle_tests;
mod results;
mod seat_map;
#[cfg(test)]
mod tests;

use std::ffi::{c_char, c_void};
use std::ptr;
use std::time::Duration;

use seatcore_core::{validate, Options, SeatCore, Stats, Sweeper, GROUP_SIZE_BUCKETS};

pub use args::seatcore_seats;
pub use changes::{seatcore_change, seatcore_history_page, seatcore_watch, SEATCORE_FROM_NOW};
pub use error::{seatcore_error, seatcore_result};
pub use results::{
    seatcore_audit_report, seatcore_booking, seatcore_cancellation, seatcore_hold, seatcore_record,
    seatcore_seat, seatcore_seat_counts, seatcore_seats_released, seatcore_status,
};
pub use seat_map::{
    seatcore_best_filters, seatcore_map, seatcore_map_seat, SEATCORE_ACCESSIBLE_ONLY, SEATCORE_ANY,
    SEATCORE_NOT_ACCESSIBLE,
};

use error::{boundary, guard, Failure};
use handle::{Owned, Store};

// ---- library ----

/// The version of libseatcore, e.g. `"0.1.0"`. A static string: never NULL, never freed.
#[no_mangle]
pub extern "C" fn seatcore_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a result code, e.g. `"SEATCORE_HOLD_EXPIRED"`, or `"SEATCORE_UNKNOWN_ERROR"`
/// for a value this version does not know. A static string: never NULL, never freed.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn seatcore_result_name(code: u32) -> *const c_char {
    guard(c"SEATCORE_UNKNOWN_ERROR".as_ptr(), || error::result_name(code).as_ptr())
}

// ---- errors ----

/// Frees an error object and every string and list it points to. NULL is a no-op; freeing
/// twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_error_free(err: *mut seatcore_error) {
    handle::free_object(err)
}

// ---- options ----

/// How a client connects: pool size, timeouts, sweep batches, migrations. A plain struct:
/// start from `seatcore_options_default()`, set the fields you need, and pass its address
/// to `seatcore_client_new`, which reads it during the call only.
///
/// `seatcore_client_new` checks every field against its range and refuses a value outside
/// it with `SEATCORE_CONFIG` (the message names the option and its range; no client is
/// made). No value is ever silently changed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct seatcore_options {
    /// The most connections the pool opens. Default: 16. Valid: 1 to 1000.
    pub pool_size: u32,
    /// Connections kept open while idle; the rest open on demand (a value above the pool
    /// size keeps every connection of the pool open). Default: 2. Valid: 0 to 1000.
    pub min_idle: u32,
    /// How long a call waits for a free pooled connection before `SEATCORE_UNAVAILABLE`, in
    /// milliseconds. Default: 5000 ms. Valid: 1 to 3600000 ms.
    pub checkout_timeout_ms: u64,
    /// How long opening a database connection may take, in milliseconds (when the URL does
    /// not say). Default: 5000 ms. Valid: 1 to 3600000 ms.
    pub connect_timeout_ms: u64,
    /// Server-side cap on one statement, in milliseconds: a longer one becomes
    /// `SEATCORE_BUSY`. Default: 10000 ms. Valid: 1 to 86400000 ms.
    pub statement_timeout_ms: u64,
    /// Server-side cap on waiting for a row lock, in milliseconds: a stuck lock becomes
    /// `SEATCORE_BUSY`, never a hang. Default: 3000 ms. Valid: 1 to 86400000 ms.
    pub lock_timeout_ms: u64,
    /// The most expired holds one sweep transaction removes; concurrent sweepers skip each
    /// other's batches. Default: 5000. Valid: 1 to 1000000.
    pub sweep_batch: u32,
    /// How long the change log keeps a record, in seconds; the sweeper deletes older ones.
    /// Default: 2592000 s. Valid: 60 to 315360000 s.
    pub change_retention_s: u64,
    /// The longest life of an extended hold, from its creation, in seconds:
    /// `seatcore_extend_hold` never moves an expiry past it. Default: 3600 s. Valid: 1 to
    /// 86400 s.
    pub max_hold_life_s: u64,
    /// Whether `seatcore_client_new` applies the schema migrations the database lacks.
    /// Default: true.
    pub migrate: bool,
    /// Whether the holds of one show that arrive together (from this client's threads) are
    /// made in one transaction, and so the best-available holds, the extensions, the partial
    /// releases and the releases of whole holds: each stays all-or-none and independent, and
    /// gets its answer once it is durable; a request that arrives alone is made at once.
    /// Default: true.
    pub group_holds: bool,
    /// Where status and seat-map reads go: a hot standby, or several hosts
    /// (`postgres://h1:5432,h2:5432/db`; a standby preferred). When no host of it answers,
    /// the database URL of `seatcore_client_new` serves the reads. Writes never go there. A
    /// read a standby served says how far behind it may be
    /// (`seatcore_status.replayed_at_us`). Default: none. NULL sends every read to the
    /// database URL. NUL-terminated UTF-8, read only during `seatcore_client_new`, which
    /// checks it (`SEATCORE_CONFIG` when malformed, `SEATCORE_INVALID_UTF8`).
    pub read_url: *const c_char,
}

/// The options with every field at its default (each field's comment states it); the
/// defaults suit one kiosk process. Thread-safe.
#[no_mangle]
pub extern "C" fn seatcore_options_default() -> seatcore_options {
    let d = Options::DEFAULT;
    seatcore_options {
        pool_size: d.pool_size,
        min_idle: d.min_idle,
        checkout_timeout_ms: millis(d.checkout_timeout),
        connect_timeout_ms: millis(d.connect_timeout),
        statement_timeout_ms: millis(d.statement_timeout),
        lock_timeout_ms: millis(d.lock_timeout),
        sweep_batch: d.sweep_batch,
        change_retention_s: d.change_retention.as_secs(),
        max_hold_life_s: d.max_hold_life.as_secs(),
        migrate: d.migrate,
        group_holds: d.group_holds,
        read_url: ptr::null(),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl seatcore_options {
    /// The core's options, each ranged one set through the core's setter, which refuses a
    /// value out of range with `SEATCORE_CONFIG` naming the option and its range.
    ///
    /// # Safety
    /// `read_url` is NULL or a NUL-terminated string.
    unsafe fn to_core(self) -> Result<Options, Failure> {
        let mut o = Options::DEFAULT;
        o.set_pool_size(self.pool_size)?
            .set_min_idle(self.min_idle)?
            .set_checkout_timeout(Duration::from_millis(self.checkout_timeout_ms))?
            .set_connect_timeout(Duration::from_millis(self.connect_timeout_ms))?
            .set_statement_timeout(Duration::from_millis(self.statement_timeout_ms))?
            .set_lock_timeout(Duration::from_millis(self.lock_timeout_ms))?
            .set_sweep_batch(self.sweep_batch)?
            .set_change_retention(Duration::from_secs(self.change_retention_s))?
            .set_max_hold_life(Duration::from_secs(self.max_hold_life_s))?;
        o.migrate = self.migrate;
        o.group_holds = self.group_holds;
        o.read_url = args::optional_text(self.read_url, "options.read_url")?.map(str::to_owned);
        Ok(o)
    }
}

// ---- the client ----

/// A handle on the seat database: a pool of connections.
///
/// Thread safety: a client is safe to share between threads. Every function taking a
/// `const seatcore_client *` may be called on the same client from any number of threads
/// at once; open one client per process and share it. Only `seatcore_client_free` needs
/// exclusive access: call it once, after every other use has returned.
pub struct seatcore_client {
    pub(crate) core: SeatCore,
}

// The header promises that a client may be shared between threads, and that result objects
// may be read from several: hold the compiler to it.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<seatcore_client>();
    shared_between_threads::<Owned<seatcore_record>>();
    shared_between_threads::<Owned<seatcore_status>>();
    shared_between_threads::<Owned<seatcore_audit_report>>();
    shared_between_threads::<Owned<seatcore_map>>();
    shared_between_threads::<Owned<seatcore_error>>();
    shared_between_threads::<Owned<seatcore_seats_released>>();
};

/// Opens a client on `database_url` (a `postgres://user@host:port/db` URL or a
/// `key=value` connection string; several hosts `postgres://h1:5432,h2:5432/db` reach the
/// one that takes writes), creating or upgrading the schema unless the options say not to.
///
/// - `database_url`: required, NUL-terminated UTF-8; read only during the call.
/// - `options`: optional; NULL means the defaults (`seatcore_options_default()`). Read only
///   during the call, `read_url` included.
/// - `out`: required; on success `*out` is a new client the caller owns and frees with
///   `seatcore_client_free`. Untouched on failure.
/// - `err`: optional; on failure, when not NULL, `*err` is a new error object the caller
///   frees with `seatcore_error_free`. Untouched on success.
///
/// Fails with `SEATCORE_CONFIG` at once, without retrying, when the configuration cannot
/// work (an option out of its range, a malformed URL, an unknown `sslmode`, an unreadable
/// certificate or key); with `SEATCORE_UNAVAILABLE` when the
/// database cannot be reached in time; `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_client_new(
    database_url: *const c_char,
    options: *const seatcore_options,
    out: *mut *mut seatcore_client,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        let url = args::text(database_url, "database_url")?;
        let opts = options.as_ref().map_or(Ok(Options::DEFAULT), |o| o.to_core())?;
        let out = args::out(out, "out")?;
        *out = handle::new(seatcore_client { core: SeatCore::connect(url, opts)? });
        Ok(())
    })
}

/// Closes a client: its pooled connections close. NULL is a no-op.
///
/// Call it once, when no other thread uses the client any more; using the client after, or
/// freeing it twice, is undefined behaviour. Objects it returned (holds, bookings, statuses,
/// errors) stay valid and must still be freed; a sweeper started on it keeps its own
/// reference to the pool and runs until `seatcore_sweeper_free`.
#[no_mangle]
pub unsafe extern "C" fn seatcore_client_free(client: *mut seatcore_client) {
    handle::free(client)
}

/// Creates a show with its seat map, in the given order. Seat ids are trimmed.
///
/// - `client`, `show_id`: required. `show_id` is NUL-terminated UTF-8, 1 to 128 characters.
/// - `seats`: the seat map, NUL-terminated UTF-8 seat ids (1 to 500000 of them). Read only
///   during the call.
/// - `out_seat_count`: optional; on success, when not NULL, receives the number of seats.
/// - `err`: optional; on failure, when not NULL, receives an error object to free.
///
/// Fails with `SEATCORE_SHOW_EXISTS` (the first seat map stays), `SEATCORE_INVALID_INPUT`
/// (empty, duplicate, over-long seat ids; too many seats; bad show id),
/// `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_initialize_show(
    client: *const seatcore_client,
    show_id: *const c_char,
    seats: seatcore_seats,
    out_seat_count: *mut usize,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show(client, show_id, err, |core, show_id| {
        let ids = args::seats(seats, validate::MAX_SEATS_PER_SHOW)?;
        args::put(out_seat_count, core.initialize_show(show_id, &ids)?);
        Ok(())
    })
}

/// Holds seats of a show for `seconds` (1 to 86400, by the database's clock): all of them
/// or none.
///
/// - `client`, `show_id`: required.
/// - `seats`: 1 to 1000 NUL-terminated UTF-8 seat ids (trimmed, no duplicates). Read only
///   during the call.
/// - `request_key`: optional (NULL for none). With a key the call is safe to retry after a
///   lost reply: the first call with a given key for a show makes the hold; a repeat with
///   the same key and seats returns that same hold for as long as it exists, and a repeat
///   asking for other seats fails with `SEATCORE_REQUEST_KEY_REUSED`. NUL-terminated UTF-8,
///   1 to 128 characters, no control characters.
/// - `out`: required; on success `*out` is a new hold the caller owns and frees with
///   `seatcore_hold_free`. Untouched on failure.
/// - `err`: optional; on failure, when not NULL, receives an error object to free. For
///   `SEATCORE_SEATS_UNAVAILABLE` it lists the taken seats.
///
/// Fails with `SEATCORE_SHOW_NOT_FOUND`, `SEATCORE_INVALID_SEAT_IDS`,
/// `SEATCORE_SEATS_UNAVAILABLE`, `SEATCORE_INVALID_INPUT`, `SEATCORE_REQUEST_KEY_REUSED`,
/// `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe: no
/// seat is ever granted to two callers, whatever the number of threads or processes.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_seats(
    client: *const seatcore_client,
    show_id: *const c_char,
    seats: seatcore_seats,
    seconds: i64,
    request_key: *const c_char,
    out: *mut *mut seatcore_hold,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::hold(client, show_id, out, err, args::Wanted::Seats(seats), seconds, request_key)
}

/// Books the seats of a live hold. Idempotent: booking the same hold again returns the same
/// booking (same id, seats and booked-at time), until the booking is cancelled.
///
/// - `client`, `show_id`, `hold_id`: required; `hold_id` is the hold's UUID text (anything
///   else is simply `SEATCORE_HOLD_NOT_FOUND`).
/// - `out`: required; on success `*out` is a new booking the caller owns and frees with
///   `seatcore_booking_free`. Untouched on failure.
/// - `err`: optional; on failure, when not NULL, receives an error object to free.
///
/// Fails with `SEATCORE_HOLD_NOT_FOUND`, `SEATCORE_HOLD_EXPIRED`,
/// `SEATCORE_HOLD_INVALIDATED`, `SEATCORE_BOOKING_CANCELLED` (its booking was cancelled),
/// `SEATCORE_INVALID_INPUT` (bad show id), `SEATCORE_NULL_PARAMETER`,
/// `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_book_hold(
    client: *const seatcore_client,
    show_id: *const c_char,
    hold_id: *const c_char,
    out: *mut *mut seatcore_booking,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show_out(client, show_id, out, err, |core, show_id| {
        Ok(results::booking(core.book(show_id, args::text(hold_id, "hold_id")?)?))
    })
}

/// Releases a live hold early; its seats are available at once.
///
/// `client`, `show_id`, `hold_id` required; `err` optional. Fails with
/// `SEATCORE_HOLD_NOT_FOUND` (also for an expired, booked or malformed hold id),
/// `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_release_hold(
    client: *const seatcore_client,
    show_id: *const c_char,
    hold_id: *const c_char,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show(client, show_id, err, |core, show_id| {
        core.release(show_id, args::text(hold_id, "hold_id")?)?;
        Ok(())
    })
}

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
        args::put_new(out, || results::seats_released(released));
        Ok(())
    })
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

/// Deletes every expired hold of every show. Expired holds free their seats the moment they
/// expire; the sweep only removes their rows.
///
/// `out_removed` is optional: on success, when not NULL, receives how many holds were
/// removed. `client` required, `err` optional. Thread-safe; concurrent sweeps (in this or
/// other processes) skip each other's work instead of waiting.
#[no_mangle]
pub unsafe extern "C" fn seatcore_sweep_expired(
    client: *const seatcore_client,
    out_removed: *mut u64,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        args::put(out_removed, args::client(client)?.sweep_expired()?);
        Ok(())
    })
}

/// Reads a show's status at one moment: counts, and every seat with its state and hold
/// expiry, in seat-map order.
///
/// - `client`, `show_id`: required.
/// - `out`: required; on success `*out` is a new status object the caller owns and frees
///   with `seatcore_status_free`. Untouched on failure.
/// - `err`: optional.
///
/// Fails with `SEATCORE_SHOW_NOT_FOUND`, `SEATCORE_INVALID_INPUT` (bad show id),
/// `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seat_status(
    client: *const seatcore_client,
    show_id: *const c_char,
    out: *mut *mut seatcore_status,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show_out(client, show_id, out, err, |core, show_id| {
        Ok(results::status(core.seat_status(show_id)?))
    })
}

/// Receives one seat of `seatcore_seat_status_each`: `user_data` as given, and the seat.
///
/// `seat` and its strings are valid only during the call: copy what you keep. The callback
/// runs on the calling thread while a database connection is busy streaming, so keep it
/// short; it must not unwind (no C++ exception may leave it) and must not `longjmp` out.
pub type seatcore_seat_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, seat: *const seatcore_seat)>;

/// Streams a show's seats to `callback`, in seat-map order, as they arrive from the
/// database (nothing is collected: suits very large shows), and returns the counts.
///
/// - `client`, `show_id`, `callback`: required. `user_data` is passed through untouched
///   (may be NULL).
/// - `out_counts`: optional; on success, when not NULL, receives the counts.
/// - `err`: optional.
///
/// The read is one statement: one consistent moment. On `SEATCORE_SHOW_NOT_FOUND` the
/// callback is never called; on a database failure mid-stream it may have seen part of the
/// seats. Thread-safe (the callback runs on the calling thread).
#[no_mangle]
pub unsafe extern "C" fn seatcore_seat_status_each(
    client: *const seatcore_client,
    show_id: *const c_char,
    callback: seatcore_seat_callback,
    user_data: *mut c_void,
    out_counts: *mut seatcore_seat_counts,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show(client, show_id, err, |core, show_id| {
        let hand = args::callback(callback, user_data)?;
        let counts = core.seat_status_each(show_id, |s| {
            let mut store = Store::<()>::new();
            hand(&results::seat(&mut store, s.seat_id.to_owned(), s.state, s.hold_expires_at));
        })?;
        args::put(out_counts, counts.into());
        Ok(())
    })
}

/// What `seatcore_reset_all` cleared.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct seatcore_reset_counts {
    pub holds_cleared: u64,
    pub bookings_cleared: u64,
    /// Seats that were held or booked and are available now.
    pub seats_reset: u64,
}

/// Administrative reset: clears every hold and booking of every show (seat maps stay), all
/// or nothing.
///
/// `out` is optional: on success, when not NULL, receives what was cleared. `client`
/// required, `err` optional. Thread-safe (it waits for seat operations in flight).
#[no_mangle]
pub unsafe extern "C" fn seatcore_reset_all(
    client: *const seatcore_client,
    out: *mut seatcore_reset_counts,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        let counts = args::client(client)?.reset_all()?;
        args::put(
            out,
            seatcore_reset_counts {
                holds_cleared: counts.holds_cleared,
                bookings_cleared: counts.bookings_cleared,
                seats_reset: counts.seats_reset,
            },
        );
        Ok(())
    })
}

/// Checks that the database answers and the schema is there.
///
/// `out_shows` is optional: on success, when not NULL, receives the number of shows.
/// `client` required, `err` optional: a down database gives `SEATCORE_UNAVAILABLE` with
/// the reason in the message. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_health(
    client: *const seatcore_client,
    out_shows: *mut u64,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    boundary(err, || {
        args::put(out_shows, args::client(client)?.health()?.shows);
        Ok(())
    })
}

/// Checks every invariant of the stored rows, in one read-only statement (one consistent
/// moment, while other calls go on): no seat in two live holds or two bookings, every held
/// or booked seat backed by its hold or booking and every hold or booking by its seats,
/// every show's seat count. For operators and for tests' end states.
///
/// - `client`: required.
/// - `show_id`: optional; NULL audits every show, otherwise the one show (an unknown show
///   is audited as empty: no shows, no problems). Read only during the call.
/// - `out`: required; on success `*out` is a new audit report the caller owns and frees
///   with `seatcore_audit_free`. Untouched on failure.
/// - `err`: optional.
///
/// A broken invariant is not a failure: the call succeeds and the report says what is
/// wrong. Fails with `SEATCORE_INVALID_INPUT` (bad show id), `SEATCORE_NULL_PARAMETER`,
/// `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_audit(
    client: *const seatcore_client,
    show_id: *const c_char,
    out: *mut *mut seatcore_audit_report,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_object_out(client, "client", out, err, |client| {
        let show_id = args::optional_text(show_id, "show_id")?;
        Ok(results::audit_report(client.core.audit(show_id)?))
    })
}

/// How many counts `seatcore_stats.hold_groups` has: groups of 1, 2-3, 4-7, ..., 256 and
/// more holds.
pub const SEATCORE_GROUP_SIZE_BUCKETS: usize = 9;
const _: () = assert!(SEATCORE_GROUP_SIZE_BUCKETS == GROUP_SIZE_BUCKETS, "the core's group sizes");

/// Copies the client's counters since it was opened, and its pool's state, into `*out`.
/// `SEATCORE_NULL_PARAMETER` when `client` or `out` is NULL (nothing written). `err`
/// optional. Thread-safe; no database round trip.
#[no_mangle]
pub unsafe extern "C" fn seatcore_client_stats(
    client: *const seatcore_client,
    out: *mut Stats,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_object_out(client, "client", out, err, |client| Ok(client.core.stats()))
}

// ---- background sweeper ----

/// A background thread sweeping expired holds at a fixed interval.
///
/// Made by `seatcore_sweeper_start`, owned by the caller, stopped and freed with
/// `seatcore_sweeper_free`. It holds its own reference to the client's pool, so it may
/// outlive the client.
pub struct seatcore_sweeper {
    sweeper: Option<Sweeper>,
}

impl Drop for seatcore_sweeper {
    /// Stops the thread, waiting for a sweep in progress to finish.
    fn drop(&mut self) {
        if let Some(s) = self.sweeper.take() {
            s.stop();
        }
    }
}

/// Starts a thread that calls `seatcore_sweep_expired` every `interval_ms` milliseconds;
/// sweep errors are retried at the next tick. Valid: 1 to 86400000 ms.
///
/// `client` and `out` required; on success `*out` is a new sweeper the caller frees with
/// `seatcore_sweeper_free`. `err` optional. `SEATCORE_CONFIG` for an interval out of range
/// (no thread is started). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_sweeper_start(
    client: *const seatcore_client,
    interval_ms: u64,
    out: *mut *mut seatcore_sweeper,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_object_out(client, "client", out, err, |client| {
        let interval = Sweeper::INTERVAL.check(Duration::from_millis(interval_ms))?;
        Ok(handle::new(seatcore_sweeper { sweeper: Some(client.core.start_sweeper(interval)) }))
    })
}

/// Stops a sweeper, waiting for a sweep in progress to finish, and frees it. NULL is a
/// no-op; freeing twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_sweeper_free(sweeper: *mut seatcore_sweeper) {
    handle::free(sweeper)
}
