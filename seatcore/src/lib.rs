//! seatcore: seat holds, bookings, releases and sweeps for movie shows, locked in PostgreSQL.
//!
//! One [`SeatCore`] value is shared by every thread of a process (it is `Clone`, `Send` and
//! `Sync`); any number of processes may share one database. No seat is ever granted twice:
//! every operation is a short transaction that locks the seat rows it changes, in seat-map
//! order, and every expiry decision uses the database's clock.
//!
//! ```no_run
//! use seatcore::{Options, SeatCore};
//! # fn main() -> seatcore::Result<()> {
//! let core = SeatCore::connect("postgres://postgres@127.0.0.1/seatcore", Options::default())?;
//! core.initialize_show("avengers_2026_7pm", &["A1", "A2", "A3"])?;
//! let hold = core.hold("avengers_2026_7pm", &["A1", "A2"], 120)?;
//! let booking = core.book("avengers_2026_7pm", &hold.hold_id.to_string())?;
//! assert_eq!(booking.booking_id, hold.hold_id);
//! # Ok(()) }
//! ```

mod error;
pub mod migrate;
mod ops;
mod pool;
mod sweeper;
mod tls;
#[cfg(feature = "test-support")]
pub mod testing;
mod types;
pub mod validate;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use error::{Error, ErrorKind, InputError, Result};
pub use sweeper::Sweeper;
pub use types::{
    iso8601, Booking, Health, Hold, ResetCounts, Seat, SeatCounts, SeatRef, SeatState, ShowStatus,
    Stats,
};
pub use uuid::Uuid;
pub use chrono::{DateTime, Utc};

use error::{classify, DbFailure};
use pool::{Conn, Manager};

/// How a [`SeatCore`] connects. The defaults suit one app instance on one machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Most connections the pool opens (default 16).
    pub pool_size: u32,
    /// Connections kept open while idle (default 2); the rest open on demand.
    pub min_idle: u32,
    /// How long a caller waits for a free connection before `Unavailable` (default 5 s).
    pub checkout_timeout: Duration,
    /// How long opening a TCP connection may take (default 5 s).
    pub connect_timeout: Duration,
    /// Server-side cap on one statement (default 10 s).
    pub statement_timeout: Duration,
    /// Server-side cap on waiting for a row lock (default 3 s): a stuck lock becomes
    /// `Busy`, never a hang.
    pub lock_timeout: Duration,
    /// Most holds one sweep transaction removes (default 5,000); concurrent sweepers skip
    /// each other's batches.
    pub sweep_batch: u32,
    /// Apply the embedded migrations when connecting (default true).
    pub migrate: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pool_size: 16,
            min_idle: 2,
            checkout_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(3),
            sweep_batch: 5_000,
            migrate: true,
        }
    }
}

/// A handle on the seat database, shared by all threads. Cloning is cheap (one pool).
#[derive(Clone)]
pub struct SeatCore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: r2d2::Pool<Manager>,
    generation: Arc<AtomicU64>,
    sweep_batch: i64,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    holds_granted: AtomicU64,
    holds_refused: AtomicU64,
    bookings: AtomicU64,
    releases: AtomicU64,
    holds_expired_swept: AtomicU64,
}

/// Whether an operation may be run again after its connection died mid-flight.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnLost {
    /// Running it twice has the effect of running it once (reads, bookings, sweeps, and
    /// holds, which check for their own id first).
    Retry,
    /// A second run could answer differently (a release would say "not found").
    Fail,
}

/// Attempts per operation: the first, plus retries after deadlocks or lost connections.
const ATTEMPTS: u32 = 4;

impl std::fmt::Debug for SeatCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.pool.state();
        f.debug_struct("SeatCore")
            .field("connections", &state.connections)
            .field("idle", &state.idle_connections)
            .finish()
    }
}

impl SeatCore {
    /// Connects to `url` (a `postgres://` URL or `key=value` string), opens the pool and
    /// applies the schema migrations the database lacks.
    ///
    /// TLS follows libpq: `sslmode=disable|prefer|require|verify-ca|verify-full`, with
    /// `sslrootcert`, `sslcert` and `sslkey` (PEM files).
    ///
    /// Fails with `Unavailable` when the database cannot be reached within the timeouts.
    pub fn connect(url: &str, options: Options) -> Result<SeatCore> {
        let (mut config, tls) = tls::configure(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("seatcore");
        }
        config.keepalives(true).keepalives_idle(Duration::from_secs(30));
        // Plain SET (not startup options) so a transaction-mode pooler needs no configuration.
        let session_sql = format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; \
             SET idle_in_transaction_session_timeout = {}; SET TIME ZONE 'UTC'",
            options.statement_timeout.as_millis().max(1),
            options.lock_timeout.as_millis().max(1),
            (options.statement_timeout.as_millis() * 3).max(1),
        );
        let manager = Manager::new(config, tls, session_sql);
        let generation = manager.generation();
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(options.min_idle.min(options.pool_size.max(1))))
            .connection_timeout(options.checkout_timeout)
            .test_on_check_out(true) // our check costs no round trip; see pool::Manager
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build(manager)?;
        let core = SeatCore {
            inner: Arc::new(Inner {
                pool,
                generation,
                sweep_batch: i64::from(options.sweep_batch.max(1)),
                counters: Counters::default(),
            }),
        };
        if options.migrate {
            core.with_conn(OnLost::Retry, |c, _| migrate::migrate(&mut c.client))?;
        }
        Ok(core)
    }

    /// Runs `op` on a pooled connection, retrying deadlocks and serialization failures
    /// (always safe: the statement was rolled back) and, when `on_lost` allows, lost
    /// connections. `op` receives the attempt number, starting at 0.
    fn with_conn<T>(&self, on_lost: OnLost, mut op: impl FnMut(&mut Conn, u32) -> Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            let mut conn = self.inner.pool.get()?;
            let outcome = op(&mut conn, attempt);
            let failure = match &outcome {
                Err(Error::Database(e)) | Err(Error::Busy(Some(e))) => Some(classify(e)),
                Err(Error::Unavailable(e)) => {
                    e.downcast_ref::<postgres::Error>().map(classify)
                }
                _ => None,
            };
            if failure == Some(DbFailure::Lost) || conn.client.is_closed() {
                // Every connection opened before now is suspect: drop them at checkout.
                self.inner.generation.fetch_add(1, Ordering::AcqRel);
            }
            attempt += 1;
            let again = match failure {
                Some(DbFailure::Retry) => true,
                Some(DbFailure::Lost) => on_lost == OnLost::Retry,
                _ => false,
            };
            if !again || attempt >= ATTEMPTS {
                return outcome;
            }
            drop(conn);
            std::thread::sleep(Duration::from_millis(5 * u64::from(attempt)));
        }
    }

    /// Counters since this handle was opened, and the pool's state.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        let state = self.inner.pool.state();
        Stats {
            holds_granted: c.holds_granted.load(Ordering::Relaxed),
            holds_refused: c.holds_refused.load(Ordering::Relaxed),
            bookings: c.bookings.load(Ordering::Relaxed),
            releases: c.releases.load(Ordering::Relaxed),
            holds_expired_swept: c.holds_expired_swept.load(Ordering::Relaxed),
            pool_connections: state.connections,
            pool_idle: state.idle_connections,
            pool_max: self.inner.pool.max_size(),
        }
    }

    /// Starts a background thread that sweeps expired holds every `interval`, until the
    /// returned [`Sweeper`] is stopped or dropped.
    pub fn start_sweeper(&self, interval: Duration) -> Sweeper {
        Sweeper::start(self.clone(), interval)
    }
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}
