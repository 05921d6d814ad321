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

mod best;
pub mod contract;
mod error;
pub mod migrate;
mod ops;
mod options;
mod per_process;
mod pool;
pub mod rest;
pub mod seat_map;
mod sweeper;
#[cfg(feature = "test-support")]
pub mod testing;
mod tls;
mod types;
pub mod validate;
mod watch;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;

pub use best::{Filters as BestFilters, MAX_COUNT as BEST_MAX_COUNT};
pub use chrono::{DateTime, Utc};
pub use error::{Error, ErrorKind, InputError, Result};
pub use ops::audit::{Audit, MAX_REPORTED_PROBLEMS};
pub use ops::cancel::Cancellation;
pub use ops::changes::{
    Change, ChangeKind, ChangePage, HistoryQuery, DEFAULT_PAGE as DEFAULT_CHANGE_PAGE,
    MAX_PAGE as MAX_CHANGE_PAGE, MAX_PAGE_SEATS as MAX_CHANGE_PAGE_SEATS,
};
pub use ops::group::ONE_CALL_SEATS;
pub use ops::map::MAX_REASON_CHARS as MAX_BLOCK_REASON_CHARS;
pub use ops::queue::{GROUP_SIZE_BUCKETS, MAX_GROUP};
pub use ops::release_seats::SeatsReleased;
pub use ops::show::SMALL_STATUS_SEATS;
pub use options::{seconds, OptionRange, Options};
pub use sweeper::Sweeper;
pub use types::{
    iso8601, AuditSummary, Booking, Health, Hold, ResetCounts, Seat, SeatCounts, SeatRef, SeatState,
    ShowStatus, Stats, StatusHead, StatusJson,
};
pub use uuid::Uuid;
pub use watch::{Listener, Watch, CHANNEL as CHANGE_CHANNEL, NOTIFY_GAP, POLL as CHANGE_POLL};

use error::{classify, BrokeOff, DbFailure};
use pool::{Conn, Pool, PoolSpec};
use tls::SessionAttrs;

/// A handle on the seat database, shared by all threads. Cloning is cheap (one pool).
///
/// Safe across `fork()`: a child process that uses a handle made before the fork opens a
/// pool of its own on its first call and never touches the parent's connections.
pub struct SeatCore {
    inner: Arc<Inner>,
    /// When set, no operation of this handle waits past it (see [`SeatCore::until`]).
    deadline: Option<Instant>,
}

struct Inner {
    /// The primary: every write, and every read not routed to the reader.
    primary: Site,
    /// Where status, map and history reads go, when [`Options::read_url`] is set.
    reader: Option<Site>,
    sweep_batch: i64,
    change_retention: Duration,
    max_hold_life: Duration,
    counters: Counters,
    /// When the handle was made, and when it last sent a change notification (µs since).
    started: Instant,
    last_notify: AtomicU64,
    /// Copies of shows' maps and seat states for best-available holds.
    copies: ops::best::Copies,
    /// Whether holds that arrive together are made as one group ([`Options::group_holds`]),
    /// and the queues of those groups.
    group_holds: bool,
    groups: ops::group::Groups,
    /// The queues of grouped best-available holds (also [`Options::group_holds`]).
    best_groups: ops::best::BestGroups,
    /// The queues of grouped extensions, partial releases and releases of whole holds (also
    /// [`Options::group_holds`]).
    extensions: ops::lifecycle::Extensions,
    partial_releases: ops::lifecycle::PartialReleases,
    releases: ops::lifecycle::Releases,
    /// Whether a show was created whose planner statistics are left to
    /// [`SeatCore::settle_statistics`] (an initialize over HTTP, answered first).
    statistics_owed: AtomicBool,
}

/// One database (or list of hosts) the handle connects to, and this process's pool there.
struct Site {
    spec: PoolSpec,
    /// This process's pool: none after `dispose()` until the next call opens one; a pool of
    /// another process after `fork()`, which the next call replaces (see `pool::Pool`).
    pool: ArcSwapOption<Pool>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.dispose();
    }
}

impl Site {
    fn new(spec: PoolSpec, pool: Option<Pool>) -> Site {
        Site { spec, pool: ArcSwapOption::new(pool.map(Arc::new)) }
    }

    fn dispose(&self) {
        if let Some(pool) = self.pool.swap(None) {
            pool::release(pool);
        }
    }

    fn is_open(&self) -> bool {
        self.pool.load().as_ref().is_some_and(|p| p.is_ours())
    }

    /// This process's pool, opened on first use after `dispose()` or `fork()`.
    fn pool(&self) -> Result<Arc<Pool>> {
        loop {
            let current = self.pool.load_full();
            if let Some(pool) = current.as_ref().filter(|p| p.is_ours()) {
                return Ok(Arc::clone(pool));
            }
            let fresh = Arc::new(Pool::open(&self.spec, false)?);
            let previous = self.pool.compare_and_swap(&current, Some(Arc::clone(&fresh)));
            let installed = match (previous.as_ref(), current.as_ref()) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            // Let go of what we loaded, and of the reference the swap handed back when ours
            // won: a pool of another process is left untouched (see `pool::Pool`).
            if installed {
                if let Some(stored) = arc_swap::Guard::into_inner(previous) {
                    pool::release(stored);
                }
            } else {
                drop(previous);
            }
            if let Some(loaded) = current {
                pool::release(loaded);
            }
            if installed {
                return Ok(fresh);
            }
            // Another thread opened one first: close ours and use theirs.
        }
    }
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
        let stats = self.stats();
        f.debug_struct("SeatCore")
            .field("connections", &stats.pool_connections)
            .field("idle", &stats.pool_idle)
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
        // Several hosts: the writer wants the one that takes writes, the reader a standby.
        let (config, tls, fallbacks) = endpoint(url, &options, SessionAttrs::ReadWrite)?;
        // Plain SET (not startup options) so a transaction-mode pooler needs no configuration.
        // No JIT: the planner's estimate for reading a big show's seats (a status read, a
        // best-available choice) passes its thresholds, and compiling the plan then takes 20
        // to 250 ms of a read that runs 100 ms without it.
        let session_sql = format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; \
             SET idle_in_transaction_session_timeout = {}; SET TIME ZONE 'UTC'; SET jit = off",
            options.statement_timeout.as_millis(),
            options.lock_timeout.as_millis(),
            options.statement_timeout.as_millis() * 3,
        );
        let spec = PoolSpec {
            config,
            tls,
            fallbacks,
            session_sql,
            max_size: options.pool_size,
            min_idle: options.min_idle.min(options.pool_size),
            checkout_timeout: options.checkout_timeout,
            lock_timeout: options.lock_timeout,
        };
        let reader = match &options.read_url {
            None => None,
            Some(read_url) => {
                let (config, tls, mut fallbacks) = endpoint(read_url, &options, SessionAttrs::PreferStandby)?;
                // When no server of the read URL answers, the primary serves the reads.
                fallbacks.push((spec.config.clone(), spec.tls.clone()));
                let spec = PoolSpec { config, tls, fallbacks, ..spec.clone() };
                // Opened now, filled in the background: a standby that is down does not stop
                // the handle from connecting.
                let pool = Pool::open(&spec, false)?;
                Some(Site::new(spec, Some(pool)))
            }
        };
        let pool = Pool::open(&spec, true)?;
        let core = SeatCore {
            inner: Arc::new(Inner {
                primary: Site::new(spec, Some(pool)),
                reader,
                sweep_batch: i64::from(options.sweep_batch),
                change_retention: options.change_retention,
                max_hold_life: options.max_hold_life,
                counters: Counters::default(),
                started: Instant::now(),
                last_notify: AtomicU64::new(0),
                copies: Default::default(),
                group_holds: options.group_holds,
                groups: Default::default(),
                best_groups: Default::default(),
                extensions: Default::default(),
                partial_releases: Default::default(),
                releases: Default::default(),
                statistics_owed: AtomicBool::new(false),
            }),
            deadline: None,
        };
        if options.migrate {
            core.with_conn(OnLost::Retry, |c, _| migrate::migrate(&mut c.client))?;
        }
        Ok(core)
    }

    /// A handle on the same pool whose operations never wait past `deadline`: waiting for
    /// a pooled connection, or to retry, ends there with `Unavailable`. For servers that
    /// answer each request by a deadline counted from its arrival.
    pub fn until(&self, deadline: Instant) -> SeatCore {
        SeatCore { inner: Arc::clone(&self.inner), deadline: Some(deadline) }
    }

    /// Closes every pooled connection (operations in flight finish on theirs first). The
    /// next operation opens a new pool, so disposing a handle still in use is safe.
    pub fn dispose(&self) {
        self.inner.primary.dispose();
        if let Some(reader) = &self.inner.reader {
            reader.dispose();
        }
    }

    /// Whether a pool is open in this process (false after [`SeatCore::dispose`] until
    /// the next operation, and in a child process until its first operation).
    pub fn is_open(&self) -> bool {
        self.inner.primary.is_open()
    }

    /// When an operation that began now must give up waiting on others: after `wait`, or
    /// at the deadline if that comes first.
    fn give_up_at(&self, wait: Duration) -> Instant {
        let at = Instant::now() + wait;
        self.deadline.map_or(at, |deadline| deadline.min(at))
    }

    /// How long a checkout may wait: the pool's timeout, cut short by the deadline.
    fn checkout_wait(&self) -> Result<Duration> {
        let wait = self.inner.primary.spec.checkout_timeout;
        match self.deadline {
            None => Ok(wait),
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Ok(wait.min(left)),
                _ => Err(Error::Unavailable("the request's deadline passed".into())),
            },
        }
    }

    /// Runs `op` on a pooled connection to the primary, retrying deadlocks and serialization
    /// failures (always safe: the statement was rolled back) and, when `on_lost` allows,
    /// lost connections (a server that went away or no longer takes writes). `op` receives
    /// the attempt number, starting at 0.
    fn with_conn<T>(&self, on_lost: OnLost, op: impl FnMut(&mut Conn, u32) -> Result<T>) -> Result<T> {
        self.run_at(&self.inner.primary, on_lost, op)
    }

    /// Runs a read where reads go: the reader ([`Options::read_url`]) when there is one, else
    /// the primary; retried as [`OnLost::Retry`] allows. A standby may not have replayed a
    /// show made a moment ago, so `ShowNotFound` from the reader is asked again of the
    /// primary: a read is late at worst, never wrong.
    fn read<T>(&self, mut op: impl FnMut(&mut Conn, u32) -> Result<T>) -> Result<T> {
        if let Some(reader) = &self.inner.reader {
            match self.run_at(reader, OnLost::Retry, &mut op) {
                Err(Error::ShowNotFound) => {}
                other => return other,
            }
        }
        self.run_at(&self.inner.primary, OnLost::Retry, op)
    }

    fn run_at<T>(
        &self,
        site: &Site,
        on_lost: OnLost,
        mut op: impl FnMut(&mut Conn, u32) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            let pool = site.pool()?;
            let mut conn = pool.pool.get_timeout(self.checkout_wait()?)?;
            let outcome = op(&mut conn, attempt);
            // A read that broke off after handing over part of its rows is never run again.
            let mut broke_off = false;
            let failure = match &outcome {
                Err(Error::Database(e)) | Err(Error::Busy(Some(e))) => Some(classify(e)),
                Err(Error::Unavailable(e)) => match e.downcast_ref::<BrokeOff>() {
                    Some(BrokeOff(e)) => {
                        broke_off = true;
                        Some(classify(e))
                    }
                    None => e.downcast_ref::<postgres::Error>().map(classify),
                },
                _ => None,
            };
            if failure == Some(DbFailure::Lost) || conn.client.is_closed() {
                pool.retire_all();
            }
            attempt += 1;
            let again = !broke_off
                && match failure {
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

    /// Counters since this handle was opened, and the pool's state (zeros while no pool is
    /// open in this process).
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        let pool = self.inner.primary.pool.load();
        let state = pool.as_ref().filter(|p| p.is_ours()).map(|p| p.pool.state());
        Stats {
            holds_granted: c.holds_granted.load(Ordering::Relaxed),
            holds_refused: c.holds_refused.load(Ordering::Relaxed),
            bookings: c.bookings.load(Ordering::Relaxed),
            releases: c.releases.load(Ordering::Relaxed),
            holds_expired_swept: c.holds_expired_swept.load(Ordering::Relaxed),
            pool_connections: state.as_ref().map_or(0, |s| s.connections),
            pool_idle: state.as_ref().map_or(0, |s| s.idle_connections),
            pool_max: self.inner.primary.spec.max_size,
            hold_groups: self.inner.groups.sizes().read(),
        }
    }

    /// Starts a background thread that sweeps expired holds every `interval`, until the
    /// returned [`Sweeper`] is stopped or dropped.
    pub fn start_sweeper(&self, interval: Duration) -> Sweeper {
        Sweeper::start(self.clone(), interval)
    }
}

impl Clone for SeatCore {
    fn clone(&self) -> Self {
        SeatCore { inner: Arc::clone(&self.inner), deadline: self.deadline }
    }
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// What a pool connects to for `url`: the driver's config with the options' timeouts, the TLS
/// connector, and the stand-ins tried when the first choice cannot be reached.
///
/// A URL that names several hosts and no `target_session_attrs` gets `default_attrs`
/// (connecting to whichever host answers first is never what a writer or a reader wants);
/// `prefer-standby` becomes `read-only`, then `any` as a stand-in.
fn endpoint(
    url: &str,
    options: &Options,
    default_attrs: SessionAttrs,
) -> Result<(postgres::Config, postgres_native_tls::MakeTlsConnector, Vec<pool::Target>)> {
    use postgres::config::TargetSessionAttrs;
    let target = tls::configure(url)?;
    let attrs = target.session_attrs.or((target.host_count() > 1).then_some(default_attrs));
    let mut config = target.config;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(options.connect_timeout);
    }
    if config.get_application_name().is_none() {
        config.application_name("seatcore");
    }
    config.keepalives(true);
    // The driver's default is two hours: far too long to notice a server that vanished.
    if config.get_keepalives_idle() == Duration::from_secs(7200) {
        config.keepalives_idle(Duration::from_secs(30));
    }
    let mut fallbacks = Vec::new();
    match attrs {
        None | Some(SessionAttrs::Any) => {}
        Some(SessionAttrs::ReadWrite) => {
            config.target_session_attrs(TargetSessionAttrs::ReadWrite);
        }
        Some(SessionAttrs::ReadOnly) => {
            config.target_session_attrs(TargetSessionAttrs::ReadOnly);
        }
        Some(SessionAttrs::PreferStandby) => {
            let mut any = config.clone();
            any.target_session_attrs(TargetSessionAttrs::Any);
            fallbacks.push((any, target.tls.clone()));
            config.target_session_attrs(TargetSessionAttrs::ReadOnly);
        }
    }
    Ok((config, target.tls, fallbacks))
}
