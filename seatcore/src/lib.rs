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

pub mod contract;
mod error;
pub mod migrate;
mod ops;
mod options;
mod pool;
pub mod rest;
mod sweeper;
#[cfg(feature = "test-support")]
pub mod testing;
mod tls;
mod types;
pub mod validate;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use chrono::{DateTime, Utc};
pub use error::{Error, ErrorKind, InputError, Result};
pub use ops::audit::{Audit, MAX_REPORTED_PROBLEMS};
pub use options::{seconds, OptionRange, Options};
pub use sweeper::Sweeper;
pub use types::{
    iso8601, Booking, Health, Hold, ResetCounts, Seat, SeatCounts, SeatRef, SeatState, ShowStatus, Stats,
    StatusJson,
};
pub use uuid::Uuid;

use error::{classify, DbFailure};
use pool::{Conn, Manager};

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
    /// Fails with `Config` when the URL, a TLS setting or an option cannot work (retrying
    /// changes nothing), and with `Unavailable` when the database cannot be reached within
    /// the timeouts.
    pub fn connect(url: &str, options: Options) -> Result<SeatCore> {
        options.check()?;
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
            options.statement_timeout.as_millis(),
            options.lock_timeout.as_millis(),
            options.statement_timeout.as_millis() * 3,
        );
        let manager = Manager::new(config, tls, session_sql);
        let generation = manager.generation();
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(options.min_idle))
            .connection_timeout(options.checkout_timeout)
            .test_on_check_out(true) // our check costs no round trip; see pool::Manager
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build(manager)?;
        let core = SeatCore {
            inner: Arc::new(Inner {
                pool,
                generation,
                sweep_batch: i64::from(options.sweep_batch),
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
                Err(Error::Unavailable(e)) => e.downcast_ref::<postgres::Error>().map(classify),
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
