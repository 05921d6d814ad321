//! `seatcore.SeatCore`: the native handle. Every database call runs detached from the
//! interpreter (`py.detach`), so other Python threads run meanwhile: arguments are
//! converted to owned values first, the core works detached, results are converted after.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use seatcore::contract::{self, Op, RestReply};
use seatcore::rest::{self, Body};
use seatcore::{seconds, Options};

use crate::args::{
    self, Arg, BookingId, Category, HoldId, HoldSeats, Int, MapSeats, Reason, RequestKey, SeatId, Section,
    ShowId, ShowSeats,
};
use crate::changes;
use crate::error;
use crate::lifecycle::{Cancellation, SeatsReleased};
use crate::results::{Audit, Booking, Hold, MapSeat, ResetCounts, ShowStatus, Stats};

/// A connection pool on the seat database, shared by every thread of the process.
///
/// `SeatCore(url, *, pool_size=16, ...)` connects and applies any missing schema
/// migrations. Methods raise `seatcore.SeatcoreError` subclasses; while one waits on the
/// database, other Python threads run. `dispose()` closes the pooled connections; the next
/// call opens a fresh pool (as SQLAlchemy's `Engine.dispose()` does). A handle inherited
/// through `fork()` opens a pool of its own in the child.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct SeatCore {
    core: seatcore::SeatCore,
    pool_size: u32,
}

impl SeatCore {
    /// Runs `op` on the core, detached from the interpreter; the core's error as it is.
    pub fn call<T: Send>(
        &self,
        py: Python<'_>,
        op: impl FnOnce(&seatcore::SeatCore) -> seatcore::Result<T> + Send,
    ) -> seatcore::Result<T> {
        py.detach(|| op(&self.core))
    }

    /// A REST reply as its status and JSON bytes; the seat status document read now, byte
    /// for byte the one the server streams. `None` for an event stream (no document).
    fn document(&self, reply: rest::Reply) -> serde_json::Result<Option<(u16, Vec<u8>)>> {
        Ok(Some(match reply.body {
            Body::Json(json) => (reply.status, json.into_bytes()),
            Body::Status(show_id) => match self.core.seat_status(&show_id) {
                Ok(status) => (reply.status, serde_json::to_vec(&status)?),
                Err(e) => json(contract::rest_error(Op::Status, &e))?,
            },
            Body::Map(show_id) => match self.core.seat_map(&show_id) {
                Ok(map) => (reply.status, serde_json::to_vec(&map)?),
                Err(e) => json(contract::rest_error(Op::Map, &e))?,
            },
            Body::Events { .. } => return Ok(None),
        }))
    }

    /// [`SeatCore::call`], the error raised as its Python exception.
    pub fn run<T: Send>(
        &self,
        py: Python<'_>,
        op: impl FnOnce(&seatcore::SeatCore) -> seatcore::Result<T> + Send,
    ) -> PyResult<T> {
        self.call(py, op).map_err(|e| error::to_py(py, e))
    }
}

/// Whether `handle_rest` answers `endpoint`: every endpoint whose reply is one document. The
/// event stream is live and endless; a Python app serves it itself (from the history and
/// its own push channel).
pub fn answers(endpoint: contract::Op) -> bool {
    use contract::Op::*;
    match endpoint {
        Health | Audit | Reset | Initialize | Status | Hold | Book | Release | History | Map | HoldBest
        | Block | Unblock => true,
        Extend | CancelBooking => true,
        Events => false,
    }
}

/// How `open_events` answers: the contract's refusal, or the show's stream from its start.
enum Opened {
    Refused((u16, Vec<u8>)),
    Stream(String, Box<seatcore::Watch>),
}

/// A REST reply as its status and JSON bytes.
fn json(reply: RestReply) -> serde_json::Result<(u16, Vec<u8>)> {
    Ok((reply.status, serde_json::to_vec(&reply.body)?))
}

closed_by_with!(SeatCore, dispose, "Disposes the pool on leaving a `with` block.");

#[pymethods]
impl SeatCore {
    /// Connects to `url` (`postgres://user:password@host:port/db?options=...`; several hosts
    /// `postgres://h1:5432,h2:5432/db` reach the one that takes writes) and applies
    /// missing schema migrations. `read_url`: where status, map and history reads go (a hot
    /// standby; the primary when it does not answer). Durations are in seconds
    /// (`change_retention`: how long the change log keeps a record; `max_hold_life`: `extend`
    /// never moves a hold's expiry past its creation plus this). With `group_holds`, the holds
    /// (and the best-available holds, extensions, partial and whole releases) of one show that
    /// arrive together from this process's threads are made in one transaction (each still
    /// all-or-none and independent, answered once durable). An option out of its range, a
    /// malformed URL, a bad `sslmode` or an unreadable certificate raise `ConfigError` (a
    /// `ValueError`) at once; an unreachable database `DatabaseUnavailableError`.
    #[new]
    #[pyo3(
        signature = (
            url,
            *,
            pool_size = Int(Options::DEFAULT.pool_size.into()),
            min_idle = Int(Options::DEFAULT.min_idle.into()),
            checkout_timeout = Options::DEFAULT.checkout_timeout.as_secs_f64(),
            connect_timeout = Options::DEFAULT.connect_timeout.as_secs_f64(),
            statement_timeout = Options::DEFAULT.statement_timeout.as_secs_f64(),
            lock_timeout = Options::DEFAULT.lock_timeout.as_secs_f64(),
            sweep_batch = Int(Options::DEFAULT.sweep_batch.into()),
            change_retention = Options::DEFAULT.change_retention.as_secs_f64(),
            max_hold_life = Options::DEFAULT.max_hold_life.as_secs_f64(),
            migrate = Options::DEFAULT.migrate,
            group_holds = Options::DEFAULT.group_holds,
            read_url = None,
        ),
        // The defaults above, as Python shows them (a test compares the two).
        text_signature = "(url, *, pool_size=16, min_idle=2, checkout_timeout=5.0, connect_timeout=5.0, statement_timeout=10.0, lock_timeout=3.0, sweep_batch=5000, change_retention=2592000.0, max_hold_life=3600.0, migrate=True, group_holds=True, read_url=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: &Arg<'_>,
        pool_size: Int,
        min_idle: Int,
        checkout_timeout: f64,
        connect_timeout: f64,
        statement_timeout: f64,
        lock_timeout: f64,
        sweep_batch: Int,
        change_retention: f64,
        max_hold_life: f64,
        migrate: bool,
        group_holds: bool,
        read_url: Option<&Arg<'_>>,
    ) -> PyResult<Self> {
        let url = args::string("url", url)?;
        let read_url = args::optional_string("read_url", read_url)?;
        // The connection options, each checked against the core's range for it.
        let options = error::raising(py, || {
            let mut o = Options { migrate, group_holds, read_url, ..Options::DEFAULT };
            o.set_pool_size(Options::POOL_SIZE.check_wide(pool_size.0)?)?
                .set_min_idle(Options::MIN_IDLE.check_wide(min_idle.0)?)?
                .set_sweep_batch(Options::SWEEP_BATCH.check_wide(sweep_batch.0)?)?
                .set_checkout_timeout(seconds(Options::CHECKOUT_TIMEOUT.name, checkout_timeout)?)?
                .set_connect_timeout(seconds(Options::CONNECT_TIMEOUT.name, connect_timeout)?)?
                .set_statement_timeout(seconds(Options::STATEMENT_TIMEOUT.name, statement_timeout)?)?
                .set_lock_timeout(seconds(Options::LOCK_TIMEOUT.name, lock_timeout)?)?
                .set_change_retention(seconds(Options::CHANGE_RETENTION.name, change_retention)?)?
                .set_max_hold_life(seconds(Options::MAX_HOLD_LIFE.name, max_hold_life)?)?;
            Ok(o)
        })?;
        let pool_size = options.pool_size;
        let core = error::raising(py, || py.detach(|| seatcore::SeatCore::connect(&url, options)))?;
        Ok(SeatCore { core, pool_size })
    }

    /// Creates a show with its seat map (seat ids trimmed, order kept); returns the number
    /// of seats. Raises `ShowExistsError` when the show exists (its seat map is unchanged).
    fn initialize_show(&self, py: Python<'_>, show_id: ShowId, seat_ids: ShowSeats) -> PyResult<usize> {
        self.run(py, |core| core.initialize_show(&show_id, &seat_ids.ids()?))
    }

    /// Creates a show with a structured seat map; returns the number of seats. Each seat
    /// is a `str` (a seat id: "A12" is row A, position 12) or a dict with `seat_id` and
    /// any of `section`, `row`, `position` (required with `row`), `category`,
    /// `accessible`, `rank` (lower is better; by default front rows first, then nearer
    /// the row's middle). Raises `ShowExistsError`, `InvalidInputError` (naming the seat's
    /// index: two seats at one place, a seat id twice, ...).
    fn initialize_map(&self, py: Python<'_>, show_id: ShowId, seats: MapSeats) -> PyResult<usize> {
        self.run(py, |core| core.initialize_map(&show_id, &seats.seats()?))
    }

    /// The show's seat map, seats in map order. Raises `ShowNotFoundError`.
    fn seat_map<'py>(&self, py: Python<'py>, show_id: ShowId) -> PyResult<Bound<'py, PyTuple>> {
        let map = self.run(py, |core| core.seat_map(&show_id))?;
        PyTuple::new(py, map.seats.into_iter().map(MapSeat))
    }

    /// Blocks seats (house seats, broken seats), all or none: a blocked seat cannot be
    /// held. Blocking a blocked seat again is fine (its reason is replaced). Returns the
    /// seats (trimmed).
    /// Raises `ShowNotFoundError`, `InvalidSeatIdsError`, `SeatsUnavailableError` (with
    /// `.seat_ids`: seats held or booked).
    #[pyo3(signature = (show_id, seat_ids, reason = None))]
    fn block<'py>(
        &self,
        py: Python<'py>,
        show_id: ShowId,
        seat_ids: ShowSeats,
        reason: Option<Reason>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let blocked = self.run(py, |core| core.block(&show_id, &seat_ids.ids()?, reason.as_deref()))?;
        PyTuple::new(py, blocked)
    }

    /// Unblocks seats, all or none (seats that are not blocked stay as they are); returns
    /// the seats (trimmed). Raises
    /// `ShowNotFoundError`, `InvalidSeatIdsError`.
    fn unblock<'py>(
        &self,
        py: Python<'py>,
        show_id: ShowId,
        seat_ids: ShowSeats,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let unblocked = self.run(py, |core| core.unblock(&show_id, &seat_ids.ids()?))?;
        PyTuple::new(py, unblocked)
    }

    /// Holds the best `count` seats side by side in one row, matching the filters: a
    /// block that leaves no lone seat when there is one, then the lowest rank sum. The
    /// result is a hold like any other. With `request_key`, a retry gets the hold made under
    /// that key. Raises `NoAdjacentSeatsError` when no block matches, `ShowNotFoundError`,
    /// `InvalidInputError`.
    #[pyo3(
        signature = (show_id, count, seconds = Int(600), *, category = None, section = None, accessible = None, request_key = None),
        text_signature = "($self, show_id, count, seconds=600, *, category=None, section=None, accessible=None, request_key=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn hold_best(
        &self,
        py: Python<'_>,
        show_id: ShowId,
        count: Int,
        seconds: Int,
        category: Option<Category>,
        section: Option<Section>,
        accessible: Option<bool>,
        request_key: Option<RequestKey>,
    ) -> PyResult<Hold> {
        let filters = args::best_filters(category, section, accessible);
        let count = args::count(count);
        let key = request_key.as_deref();
        let hold = self.run(py, |core| core.hold_best_with_key(&show_id, count, &filters, seconds.0, key))?;
        Ok(Hold(hold))
    }

    /// Holds `seat_ids` of `show_id` for `seconds`, all or none, by the database's clock.
    ///
    /// With `request_key`, a retry of the same request (same show and seats) returns the
    /// hold the first attempt made instead of a second hold. Raises `ShowNotFoundError`,
    /// `InvalidSeatIdsError`, `SeatsUnavailableError` (with `.seat_ids`),
    /// `RequestKeyReusedError`, `InvalidInputError`.
    #[pyo3(
        signature = (show_id, seat_ids, seconds = Int(600), *, request_key = None),
        text_signature = "($self, show_id, seat_ids, seconds=600, *, request_key=None)"
    )]
    fn hold(
        &self,
        py: Python<'_>,
        show_id: ShowId,
        seat_ids: HoldSeats,
        seconds: Int,
        request_key: Option<RequestKey>,
    ) -> PyResult<Hold> {
        let key = request_key.as_deref();
        let hold = self.run(py, |core| core.hold_with_key(&show_id, &seat_ids.ids()?, seconds.0, key))?;
        Ok(Hold(hold))
    }

    /// Books the seats of a live hold; idempotent (booking it again returns an equal
    /// `Booking`). `hold_id` is a `str` or `uuid.UUID`. Raises `HoldNotFoundError`,
    /// `HoldExpiredError`, `HoldInvalidatedError`, and `BookingCancelledError` once its
    /// booking has been cancelled.
    fn book(&self, py: Python<'_>, show_id: ShowId, hold_id: HoldId) -> PyResult<Booking> {
        Ok(Booking(self.run(py, |core| core.book(&show_id, &hold_id))?))
    }

    /// Releases a live hold, freeing its seats at once. Raises `HoldNotFoundError`
    /// (also for an expired hold).
    fn release(&self, py: Python<'_>, show_id: ShowId, hold_id: HoldId) -> PyResult<()> {
        self.run(py, |core| core.release(&show_id, &hold_id))
    }

    // ---- the hold lifecycle ----

    /// Gives a live hold a new expiry: `seconds` (1 to 86,400) from now by the database's
    /// clock, never later than the hold's creation plus `max_hold_life`. The expiry is set,
    /// not added to: it may be earlier than before. Returns the `Hold` with its new
    /// `expires_at` and the seats it holds. Raises `HoldNotFoundError`, `HoldExpiredError`
    /// (also for a hold past its maximum life), `HoldInvalidatedError`,
    /// `InvalidInputError`.
    #[pyo3(
        signature = (show_id, hold_id, seconds = Int(600)),
        text_signature = "($self, show_id, hold_id, seconds=600)"
    )]
    fn extend(&self, py: Python<'_>, show_id: ShowId, hold_id: HoldId, seconds: Int) -> PyResult<Hold> {
        Ok(Hold(self.run(py, |core| core.extend(&show_id, &hold_id, seconds.0))?))
    }

    /// Releases some seats of a live hold: they are available at once, the hold keeps the
    /// rest (releasing every seat releases the hold). Raises `HoldNotFoundError`,
    /// `SeatsNotInHoldError` (with `.seat_ids`: the asked seats the hold does not have;
    /// nothing is released), `InvalidInputError`.
    fn release_seats(
        &self,
        py: Python<'_>,
        show_id: ShowId,
        hold_id: HoldId,
        seat_ids: HoldSeats,
    ) -> PyResult<SeatsReleased> {
        Ok(SeatsReleased(self.run(py, |core| core.release_seats(&show_id, &hold_id, &seat_ids.ids()?))?))
    }

    /// Cancels a booking: its seats are available at once; the booking is kept, marked
    /// cancelled. Idempotent (cancelling again returns an equal `Cancellation`); booking
    /// the hold again raises `BookingCancelledError`. `booking_id` is a `str` or
    /// `uuid.UUID`. Raises `BookingNotFoundError`.
    fn cancel_booking(
        &self,
        py: Python<'_>,
        show_id: ShowId,
        booking_id: BookingId,
    ) -> PyResult<Cancellation> {
        Ok(Cancellation(self.run(py, |core| core.cancel_booking(&show_id, &booking_id))?))
    }

    // ---- end of the hold lifecycle ----

    /// Deletes every expired hold; returns how many. (Seats of an expired hold are
    /// available from the moment it expires, swept or not.)
    fn sweep_expired(&self, py: Python<'_>) -> PyResult<u64> {
        self.run(py, |core| core.sweep_expired())
    }

    /// Reads a show's status in one consistent statement. Raises `ShowNotFoundError`.
    fn seat_status(&self, py: Python<'_>, show_id: ShowId) -> PyResult<ShowStatus> {
        Ok(ShowStatus(self.run(py, |core| core.seat_status(&show_id))?))
    }

    /// Clears every hold and booking of every show (seat maps stay), all or nothing.
    fn reset_all(&self, py: Python<'_>) -> PyResult<ResetCounts> {
        Ok(ResetCounts(self.run(py, |core| core.reset_all())?))
    }

    /// Checks that the database answers and has the schema; returns the number of shows.
    /// Raises `DatabaseError` (or a subclass) when it does not.
    fn health(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.run(py, |core| core.health())?.shows)
    }

    /// Checks every invariant of one show's rows (or of every show's, without `show_id`)
    /// in one read-only statement: no seat in two live holds or bookings, every held or
    /// booked seat backed by its hold or booking and the other way round, seat counts as
    /// declared. An unknown show is audited as empty (`shows == 0`).
    #[pyo3(signature = (show_id = None))]
    fn audit(&self, py: Python<'_>, show_id: Option<&Arg<'_>>) -> PyResult<Audit> {
        let show_id = args::optional_string("show_id", show_id)?;
        Ok(Audit(self.run(py, |core| core.audit(show_id.as_deref()))?))
    }

    // ---- the change log ----

    /// A page of `show_id`'s history, oldest first: the changes after change id `after`
    /// (0: from the beginning), only those about `seat_id` when given, at most `limit`
    /// (1 to `MAX_CHANGE_PAGE`), fewer once they name `MAX_CHANGE_PAGE_SEATS` seats. Pass
    /// the page's `next` as `after` for the following page.
    /// It includes every change committed before the call. Raises `ShowNotFoundError`, and
    /// `InvalidInputError` for a negative `after`, a `limit` out of range or a malformed
    /// `seat_id`.
    #[pyo3(
        signature = (show_id, *, after = Int(0), seat_id = None, limit = Int(seatcore::DEFAULT_CHANGE_PAGE as i64)),
        text_signature = "($self, show_id, *, after=0, seat_id=None, limit=100)"
    )]
    fn history(
        &self,
        py: Python<'_>,
        show_id: ShowId,
        after: Int,
        seat_id: Option<SeatId>,
        limit: Int,
    ) -> PyResult<changes::ChangePage> {
        let query = changes::query(after, seat_id, limit);
        Ok(changes::ChangePage(self.run(py, |core| core.history(&show_id, &query))?))
    }

    /// A `ChangeStream` of `show_id`: an iterator of its changes in id order, each once,
    /// after change id `after` (with None: from now, after every change committed before
    /// the call), waiting for each new one with the GIL released. With `timeout` (seconds)
    /// the iteration ends when no change came for that long. Raises `ShowNotFoundError`, and
    /// `InvalidInputError` for a negative `after`.
    #[pyo3(
        signature = (show_id, *, after = None, timeout = None),
        text_signature = "($self, show_id, *, after=None, timeout=None)"
    )]
    fn changes(
        &self,
        py: Python<'_>,
        show_id: ShowId,
        after: Option<Int>,
        timeout: Option<f64>,
    ) -> PyResult<changes::ChangeStream> {
        changes::stream(self, py, show_id, after, timeout)
    }

    /// Answers one request of the REST contract exactly as `seatcore-server` does, for a
    /// Python web app: `(status, JSON body)`, or `None` when `method path` is none of the
    /// endpoints it answers (`REST_ENDPOINTS`: every endpoint but the live event stream);
    /// answer that yourself (404, 405).
    ///
    /// `path` is the request's path as sent (percent-encoded); `query` the query string
    /// without its `?` (`GET /audit?show_id=...`). Holds are clamped into
    /// `min_hold_seconds..=max_hold_seconds` and last `default_hold_seconds` when the body
    /// names no duration (the contract's 60, 1800 and 60 unless given). Authentication
    /// (an admin token for `/reset`, `initialize`, `/audit` and `cancel-booking`) and
    /// headers are the app's.
    #[pyo3(
        signature = (
            method,
            path,
            *,
            body = &[] as &[u8],
            content_type = None,
            idempotency_key = None,
            query = None,
            min_hold_seconds = None,
            max_hold_seconds = None,
            default_hold_seconds = None,
        ),
        text_signature = "($self, method, path, *, body=b'', content_type=None, idempotency_key=None, query=None, min_hold_seconds=None, max_hold_seconds=None, default_hold_seconds=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn handle_rest<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        body: &[u8],
        content_type: Option<&str>,
        idempotency_key: Option<&str>,
        query: Option<&str>,
        min_hold_seconds: Option<Int>,
        max_hold_seconds: Option<Int>,
        default_hold_seconds: Option<Int>,
    ) -> PyResult<Option<(u16, Bound<'py, PyBytes>)>> {
        let defaults = rest::Settings::DEFAULT;
        let settings = rest::Settings {
            min_hold_seconds: min_hold_seconds.map_or(defaults.min_hold_seconds, |n| n.0),
            max_hold_seconds: max_hold_seconds.map_or(defaults.max_hold_seconds, |n| n.0),
            default_hold_seconds: default_hold_seconds.map_or(defaults.default_hold_seconds, |n| n.0),
        };
        settings.check().map_err(|e| error::to_py(py, e))?;
        let Some((endpoint, show_id)) = rest::resolve(path) else { return Ok(None) };
        if endpoint.method() != method || !answers(endpoint) {
            return Ok(None);
        }
        let rq = rest::Request { body, content_type, idempotency_key, query, last_event_id: None };
        let outcome = py.detach(|| {
            let reply = rest::handle(&self.core, &settings, endpoint, show_id.as_deref(), &rq);
            self.document(reply)
        });
        let reply = outcome.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(reply.map(|(status, document)| (status, PyBytes::new(py, &document))))
    }

    /// Opens the event stream of `GET path` (`/shows/<id>/events`) for a Python web app, as
    /// `seatcore-server` starts it: a `ChangeStream` of the show's changes after the query's
    /// `after`, else after the `Last-Event-ID` header's id, else from now (replaying the
    /// history first). Send each change as `Change.to_event()`. When the request is refused
    /// (an unknown show, a bad `after` or `Last-Event-ID`, a bad show id, the database
    /// unavailable), returns the contract's reply instead: `(status, JSON body)`. `None`
    /// when `path` is not the events endpoint (`EVENTS_ENDPOINT`). With `timeout` (seconds)
    /// the stream's iteration ends when no change came for that long (a web app's cue for a
    /// keep-alive comment); iterating again goes on.
    #[pyo3(
        signature = (path, *, query = None, last_event_id = None, timeout = None),
        text_signature = "($self, path, *, query=None, last_event_id=None, timeout=None)"
    )]
    fn open_events<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        query: Option<&str>,
        last_event_id: Option<&str>,
        timeout: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let timeout = changes::timeout(timeout)?;
        let Some((endpoint, show_id)) = rest::resolve(path) else { return Ok(None) };
        if endpoint != contract::Op::Events {
            return Ok(None);
        }
        let rq = rest::Request { query, last_event_id, ..rest::Request::default() };
        let outcome = py.detach(|| -> serde_json::Result<Opened> {
            let reply = rest::handle(&self.core, &rest::Settings::DEFAULT, endpoint, show_id.as_deref(), &rq);
            Ok(match reply.body {
                Body::Events { show_id, after } => match self.core.watch(&show_id, Some(after)) {
                    Ok(watch) => Opened::Stream(show_id, Box::new(watch)),
                    Err(e) => Opened::Refused(json(contract::rest_error(Op::Events, &e))?),
                },
                _ => Opened::Refused(self.document(reply)?.unwrap_or_default()),
            })
        });
        match outcome.map_err(|e| PyRuntimeError::new_err(e.to_string()))? {
            Opened::Refused((status, document)) => {
                Ok(Some((status, PyBytes::new(py, &document)).into_pyobject(py)?.into_any()))
            }
            Opened::Stream(show_id, watch) => {
                let stream = changes::ChangeStream::new(show_id, timeout, *watch);
                Ok(Some(Bound::new(py, stream)?.into_any()))
            }
        }
    }

    /// Counters since the pool was opened, and the pool's state.
    fn stats(&self, py: Python<'_>) -> PyResult<Stats> {
        Ok(Stats(self.run(py, |core| Ok(core.stats()))?))
    }

    /// Closes the pool's connections (calls in flight finish first on theirs). The next
    /// call opens a new pool, so disposing a handle that is still in use is safe.
    fn dispose(&self, py: Python<'_>) {
        py.detach(|| self.core.dispose())
    }

    /// The most connections the pool opens (the constructor's `pool_size`).
    #[getter]
    fn pool_size(&self) -> u32 {
        self.pool_size
    }

    /// True while a pool is open (false after `dispose()` until the next call).
    #[getter]
    fn is_open(&self) -> bool {
        self.core.is_open()
    }

    fn __repr__(&self) -> String {
        format!(
            "<seatcore.SeatCore pool_size={} {}>",
            self.pool_size,
            if self.is_open() { "open" } else { "disposed" }
        )
    }
}
