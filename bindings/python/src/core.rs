//! `seatcore.SeatCore`: the native handle. Every database call runs detached from the
//! interpreter (`py.detach`), so other Python threads run meanwhile: arguments are
//! converted to owned values first, the core works detached, results are converted after.

use std::sync::{Mutex, RwLock};

use pyo3::prelude::*;
use seatcore::{validate, Options};

use crate::args;
use crate::error;
use crate::results::{Booking, Hold, ResetCounts, ShowStatus, Stats};

/// A connection pool on the seat database, shared by every thread of the process.
///
/// `SeatCore(url, *, pool_size=16, ...)` connects and applies any missing schema
/// migrations. Methods raise `seatcore.SeatcoreError` subclasses; while one waits on the
/// database, other Python threads run. `dispose()` closes the pooled connections; the next
/// call opens a fresh pool (as SQLAlchemy's `Engine.dispose()` does).
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct SeatCore {
    url: String,
    options: Options,
    /// The live pool, or None after `dispose()` until the next call reopens one.
    core: RwLock<Option<seatcore::SeatCore>>,
    /// Taken (while detached) by whoever reopens the pool, so only one thread does.
    reopen: Mutex<()>,
}

impl SeatCore {
    /// The live pool, reopened when disposed. Call only while detached: it may block on
    /// the locks and on connecting.
    fn handle(&self) -> seatcore::Result<seatcore::SeatCore> {
        if let Some(core) = self.core.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(core.clone());
        }
        let _reopening = self.reopen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(core) = self.core.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(core.clone());
        }
        let core = seatcore::SeatCore::connect(&self.url, self.options.clone())?;
        *self.core.write().unwrap_or_else(|p| p.into_inner()) = Some(core.clone());
        Ok(core)
    }

    /// Runs `op` on the pool, detached from the interpreter, and maps its error.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        op: impl FnOnce(&seatcore::SeatCore) -> seatcore::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| self.handle().and_then(|core| op(&core))).map_err(|e| error::to_py(py, e))
    }
}

#[pymethods]
impl SeatCore {
    /// Connects to `url` (`postgres://user:password@host:port/db?options=...`) and applies
    /// missing schema migrations. Durations are in seconds.
    #[new]
    #[pyo3(signature = (
        url,
        *,
        pool_size = 16,
        min_idle = 2,
        checkout_timeout = 5.0,
        connect_timeout = 5.0,
        statement_timeout = 10.0,
        lock_timeout = 3.0,
        sweep_batch = 5000,
        migrate = true,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: &Bound<'_, PyAny>,
        pool_size: i64,
        min_idle: i64,
        checkout_timeout: f64,
        connect_timeout: f64,
        statement_timeout: f64,
        lock_timeout: f64,
        sweep_batch: i64,
        migrate: bool,
    ) -> PyResult<Self> {
        let url = args::string("url", url)?;
        let options = Options {
            pool_size: args::count("pool_size", pool_size, 1, 1_000)?,
            min_idle: args::count("min_idle", min_idle, 0, 1_000)?,
            checkout_timeout: args::duration("checkout_timeout", checkout_timeout)?,
            connect_timeout: args::duration("connect_timeout", connect_timeout)?,
            statement_timeout: args::duration("statement_timeout", statement_timeout)?,
            lock_timeout: args::duration("lock_timeout", lock_timeout)?,
            sweep_batch: args::count("sweep_batch", sweep_batch, 1, 1_000_000)?,
            migrate,
            change_retention: Options::DEFAULT.change_retention,
        };
        let core = py
            .detach(|| seatcore::SeatCore::connect(&url, options.clone()))
            .map_err(|e| error::to_py(py, e))?;
        Ok(SeatCore { url, options, core: RwLock::new(Some(core)), reopen: Mutex::new(()) })
    }

    /// Creates a show with its seat map (seat ids trimmed, order kept); returns the number
    /// of seats. Raises `ShowExistsError` when the show exists (its seat map is unchanged).
    fn initialize_show(
        &self,
        py: Python<'_>,
        show_id: &Bound<'_, PyAny>,
        seat_ids: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let show_id = args::string("show_id", show_id)?;
        let seat_ids = args::seat_ids(seat_ids, validate::MAX_SEATS_PER_SHOW)?;
        self.run(py, |core| core.initialize_show(&show_id, &seat_ids))
    }

    /// Holds `seat_ids` of `show_id` for `seconds`, all or none, by the database's clock.
    ///
    /// With `request_key`, a retry of the same request (same show and seats) returns the
    /// hold the first attempt made instead of a second hold. Raises `ShowNotFoundError`,
    /// `InvalidSeatIdsError`, `SeatsUnavailableError` (with `.seat_ids`),
    /// `RequestKeyReusedError`, `InvalidInputError`.
    #[pyo3(
        signature = (show_id, seat_ids, seconds = args::Seconds(600), *, request_key = None),
        text_signature = "($self, show_id, seat_ids, seconds=600, *, request_key=None)"
    )]
    fn hold(
        &self,
        py: Python<'_>,
        show_id: &Bound<'_, PyAny>,
        seat_ids: &Bound<'_, PyAny>,
        seconds: args::Seconds,
        request_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Hold> {
        let show_id = args::string("show_id", show_id)?;
        let seat_ids = args::seat_ids(seat_ids, validate::MAX_SEATS_PER_HOLD)?;
        let seconds = seconds.0;
        let key = request_key.map(|k| args::string("request_key", k)).transpose()?;
        let hold = self.run(py, |core| match &key {
            Some(key) => core.hold_with_key(&show_id, &seat_ids, seconds, key),
            None => core.hold(&show_id, &seat_ids, seconds),
        })?;
        Ok(hold.into())
    }

    /// Books the seats of a live hold; idempotent (booking it again returns an equal
    /// `Booking`). `hold_id` is a `str` or `uuid.UUID`. Raises `HoldNotFoundError`,
    /// `HoldExpiredError`, `HoldInvalidatedError`.
    fn book(
        &self,
        py: Python<'_>,
        show_id: &Bound<'_, PyAny>,
        hold_id: &Bound<'_, PyAny>,
    ) -> PyResult<Booking> {
        let show_id = args::string("show_id", show_id)?;
        let hold_id = args::hold_id(hold_id)?;
        Ok(self.run(py, |core| core.book(&show_id, &hold_id))?.into())
    }

    /// Releases a live hold, freeing its seats at once. Raises `HoldNotFoundError`
    /// (also for an expired hold).
    fn release(
        &self,
        py: Python<'_>,
        show_id: &Bound<'_, PyAny>,
        hold_id: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let show_id = args::string("show_id", show_id)?;
        let hold_id = args::hold_id(hold_id)?;
        self.run(py, |core| core.release(&show_id, &hold_id))
    }

    /// Deletes every expired hold; returns how many. (Seats of an expired hold are
    /// available from the moment it expires, swept or not.)
    fn sweep_expired(&self, py: Python<'_>) -> PyResult<u64> {
        self.run(py, |core| core.sweep_expired())
    }

    /// Reads a show's status in one consistent statement. Raises `ShowNotFoundError`.
    fn seat_status(&self, py: Python<'_>, show_id: &Bound<'_, PyAny>) -> PyResult<ShowStatus> {
        let show_id = args::string("show_id", show_id)?;
        Ok(self.run(py, |core| core.seat_status(&show_id))?.into())
    }

    /// Clears every hold and booking of every show (seat maps stay), all or nothing.
    fn reset_all(&self, py: Python<'_>) -> PyResult<ResetCounts> {
        let counts = self.run(py, |core| core.reset_all())?;
        Ok(ResetCounts {
            holds_cleared: counts.holds_cleared,
            bookings_cleared: counts.bookings_cleared,
            seats_reset: counts.seats_reset,
        })
    }

    /// Checks that the database answers and has the schema; returns the number of shows.
    /// Raises `DatabaseError` (or a subclass) when it does not.
    fn health(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.run(py, |core| core.health())?.shows)
    }

    /// Counters since the pool was opened, and the pool's state.
    fn stats(&self, py: Python<'_>) -> PyResult<Stats> {
        Ok(self.run(py, |core| Ok(core.stats()))?.into())
    }

    /// Closes the pool's connections (calls in flight finish first on theirs). The next
    /// call opens a new pool, so disposing a handle that is still in use is safe.
    fn dispose(&self, py: Python<'_>) {
        py.detach(|| {
            let _reopening = self.reopen.lock().unwrap_or_else(|p| p.into_inner());
            let old = self.core.write().unwrap_or_else(|p| p.into_inner()).take();
            // Dropped here, outside the write lock: closing connections does I/O.
            drop(old);
        })
    }

    /// True while a pool is open (false after `dispose()` until the next call).
    #[getter]
    fn is_open(&self) -> bool {
        self.core.read().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Disposes the pool on leaving a `with` block.
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.dispose(py);
        false
    }

    fn __repr__(&self) -> String {
        let open = self.core.read().unwrap_or_else(|p| p.into_inner()).is_some();
        format!(
            "<seatcore.SeatCore pool_size={} {}>",
            self.options.pool_size,
            if open { "open" } else { "disposed" }
        )
    }
}
