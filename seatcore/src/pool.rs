//! The connection pool: r2d2 over r2d2_postgres, with session settings applied at connect
//! and a cheap, round-trip-free validity check at checkout; one pool per process.
//!
//! A pool may have several places to connect to, tried in order (see [`PoolSpec::targets`]):
//! a reader pool prefers a standby and falls back to any server, then to the primary. A
//! connection that did not go to the first choice is kept only for [`SECOND_CHOICE_LIFE`], so
//! the pool returns to its first choice once that is back.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::types::Type;
use postgres::Client;
use postgres_native_tls::MakeTlsConnector;
use r2d2_postgres::PostgresConnectionManager;

/// How long a connection that did not go to the pool's first choice is kept.
pub(crate) const SECOND_CHOICE_LIFE: Duration = Duration::from_secs(30);

/// A pooled connection and the pool generation it was opened in.
pub(crate) struct Conn {
    pub(crate) client: Client,
    generation: u64,
    /// For a connection to a second choice: when it is dropped at checkout.
    retire_at: Option<Instant>,
}

/// Opens connections and decides which ones are still good.
///
/// When any connection is found dead (the server restarted, say), the generation moves on
/// and every connection opened before is dropped at its next checkout instead of failing
/// one request each. This costs no round trip, unlike r2d2's default validation query.
pub(crate) struct Manager {
    /// Where to connect.
    first: PostgresConnectionManager<MakeTlsConnector>,
    /// Where to connect when `first` cannot be reached, in order.
    fallbacks: Vec<PostgresConnectionManager<MakeTlsConnector>>,
    session_sql: String,
    generation: Arc<AtomicU64>,
}

/// One place a pool may connect to.
pub(crate) type Target = (postgres::Config, MakeTlsConnector);

/// Everything needed to open a pool: kept so a pool can be opened again after
/// `dispose()` or in a child process.
#[derive(Clone)]
pub(crate) struct PoolSpec {
    /// Where the pool connects: the first choice (also what a listener connects to).
    pub(crate) config: postgres::Config,
    pub(crate) tls: MakeTlsConnector,
    /// Where it connects when the first choice cannot be reached, in order.
    pub(crate) fallbacks: Vec<Target>,
    /// Run on every new connection: timeouts and the time zone.
    pub(crate) session_sql: String,
    pub(crate) max_size: u32,
    pub(crate) min_idle: u32,
    pub(crate) checkout_timeout: Duration,
    /// The connections' `lock_timeout`: also how long a best-available hold may keep
    /// losing its seats to other processes.
    pub(crate) lock_timeout: Duration,
}

/// One process's pool.
///
/// A pool belongs to the process that opened it. After `fork()` the child must not touch
/// it: its sockets are the parent's sessions (a word on them would corrupt the parent's
/// conversation with the server), and its locks and helper threads were left behind by
/// the fork. The child opens a pool of its own and never drops the inherited one, which
/// would close (say goodbye on) the parent's sockets and join threads it does not have.
pub(crate) struct Pool {
    pub(crate) pid: u32,
    pub(crate) pool: r2d2::Pool<Manager>,
    pub(crate) generation: Arc<AtomicU64>,
}

impl Pool {
    /// Opens a pool. With `eager`, waits until `min_idle` connections are open (so a
    /// database that cannot be reached fails here); otherwise connections open on demand.
    pub(crate) fn open(spec: &PoolSpec, eager: bool) -> Result<Pool, r2d2::Error> {
        let generation = Arc::new(AtomicU64::new(0));
        let manager = Manager {
            first: PostgresConnectionManager::new(spec.config.clone(), spec.tls.clone()),
            fallbacks: spec
                .fallbacks
                .iter()
                .map(|(config, tls)| PostgresConnectionManager::new(config.clone(), tls.clone()))
                .collect(),
            session_sql: spec.session_sql.clone(),
            generation: Arc::clone(&generation),
        };
        let builder = r2d2::Pool::builder()
            .max_size(spec.max_size)
            .min_idle(Some(spec.min_idle))
            .connection_timeout(spec.checkout_timeout)
            .test_on_check_out(true) // our check costs no round trip; see `Manager`
            .error_handler(Box::new(r2d2::NopErrorHandler));
        let pool = if eager { builder.build(manager)? } else { builder.build_unchecked(manager) };
        Ok(Pool { pid: std::process::id(), pool, generation })
    }

    /// Marks every connection opened before now as suspect: each is dropped at its next
    /// checkout instead of failing one request.
    pub(crate) fn retire_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether this process opened the pool.
    pub(crate) fn is_ours(&self) -> bool {
        self.pid == std::process::id()
    }
}

/// Lets go of a pool: closes it when this process opened it, else leaves it untouched
/// (see [`Pool`]).
pub(crate) fn release(pool: Arc<Pool>) {
    if pool.is_ours() {
        drop(pool);
    } else {
        std::mem::forget(pool);
    }
}

/// Why a connection could not be opened or used.
#[derive(Debug)]
pub(crate) enum ConnError {
    Postgres(postgres::Error),
    Stale,
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Postgres(e) => write!(f, "{e}"),
            ConnError::Stale => {
                f.write_str("connection retired (opened before a connection failure, or a stand-in)")
            }
        }
    }
}

impl std::error::Error for ConnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnError::Postgres(e) => Some(e),
            ConnError::Stale => None,
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnError;

    fn connect(&self) -> Result<Conn, ConnError> {
        let generation = self.generation.load(Ordering::Acquire);
        // When every choice fails, the first one's failure says most.
        let (mut client, retire_at) = self
            .first
            .connect()
            .map(|client| (client, None))
            .or_else(|first_failure| {
                self.fallbacks
                    .iter()
                    .find_map(|target| target.connect().ok())
                    .map(|client| (client, Some(Instant::now() + SECOND_CHOICE_LIFE)))
                    .ok_or(first_failure)
            })
            .map_err(ConnError::Postgres)?;
        client.batch_execute(&self.session_sql).map_err(ConnError::Postgres)?;
        Ok(Conn { client, generation, retire_at })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnError> {
        if conn.client.is_closed()
            || conn.generation < self.generation.load(Ordering::Acquire)
            || conn.retire_at.is_some_and(|at| Instant::now() >= at)
        {
            Err(ConnError::Stale)
        } else {
            Ok(())
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// Runs `wait`, a statement that may wait for a lock as long as another transaction takes
/// (bounded by the statement timeout), with the transaction's lock timeout lifted for it and
/// put back after: a second initialize of a show, a second process migrating.
pub(crate) fn past_lock_timeout<'t, T>(
    tx: &mut postgres::Transaction<'t>,
    wait: impl FnOnce(&mut postgres::Transaction<'t>) -> crate::Result<T>,
) -> crate::Result<T> {
    const SET: &str = "SELECT set_config('lock_timeout', $1, true)";
    let rows = tx.query_typed("SELECT current_setting('lock_timeout')", &[])?;
    let lock_timeout: String = rows.first().map(|r| r.get(0)).unwrap_or_default();
    tx.query_typed(SET, &[(&"0", Type::TEXT)])?;
    let waited = wait(tx)?;
    tx.query_typed(SET, &[(&lock_timeout, Type::TEXT)])?;
    Ok(waited)
}
