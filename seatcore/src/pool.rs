//! The connection pool: r2d2 over r2d2_postgres, with session settings applied at connect
//! and a cheap, round-trip-free validity check at checkout; one pool per process.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::Client;
use postgres_native_tls::MakeTlsConnector;
use r2d2_postgres::PostgresConnectionManager;

/// A pooled connection and the pool generation it was opened in.
pub(crate) struct Conn {
    pub(crate) client: Client,
    generation: u64,
}

/// Opens connections and decides which ones are still good.
///
/// When any connection is found dead (the server restarted, say), the generation moves on
/// and every connection opened before is dropped at its next checkout instead of failing
/// one request each. This costs no round trip, unlike r2d2's default validation query.
pub(crate) struct Manager {
    inner: PostgresConnectionManager<MakeTlsConnector>,
    session_sql: String,
    generation: Arc<AtomicU64>,
}

/// Everything needed to open a pool: kept so a pool can be opened again after
/// `dispose()` or in a child process.
#[derive(Clone)]
pub(crate) struct PoolSpec {
    pub(crate) config: postgres::Config,
    pub(crate) tls: MakeTlsConnector,
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
///
/// A caller that finds no idle connection waits on the standard library's condition
/// variable here, not inside r2d2: r2d2 parks its waiters in parking_lot's process-wide
/// table, which a `fork()` copies with entries of threads the child does not have, mid-way
/// through changes those threads were making. Kept out of that table, the parent's waiting
/// threads leave it consistent for a child, whose own pool uses it again.
pub(crate) struct Pool {
    pub(crate) pid: u32,
    pub(crate) pool: r2d2::Pool<Manager>,
    pub(crate) generation: Arc<AtomicU64>,
    waiting: Mutex<()>,
    returned: Condvar,
}

/// How long a waiting caller sleeps at most before it looks for a connection again: a
/// connection r2d2 opened in the background wakes nobody here.
const LOOK_AGAIN: Duration = Duration::from_millis(5);

/// What r2d2 answers for a checkout that timed out with no connect error to report.
const BARE_TIMEOUT: &str = "timed out waiting for connection";

/// A connection out of a [`Pool`]; it goes back, and wakes a waiting caller, when dropped.
pub(crate) struct Checkout<'a> {
    conn: Option<r2d2::PooledConnection<Manager>>,
    pool: &'a Pool,
}

impl Deref for Checkout<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("a checkout holds its connection until dropped")
    }
}

impl DerefMut for Checkout<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("a checkout holds its connection until dropped")
    }
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        drop(self.conn.take());
        self.pool.returned.notify_one();
    }
}

impl Pool {
    /// Opens a pool. With `eager`, waits until `min_idle` connections are open (so a
    /// database that cannot be reached fails here); otherwise connections open on demand.
    pub(crate) fn open(spec: &PoolSpec, eager: bool) -> Result<Pool, r2d2::Error> {
        let generation = Arc::new(AtomicU64::new(0));
        let manager = Manager {
            inner: PostgresConnectionManager::new(spec.config.clone(), spec.tls.clone()),
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
        Ok(Pool {
            pid: std::process::id(),
            pool,
            generation,
            waiting: Mutex::new(()),
            returned: Condvar::new(),
        })
    }

    /// A connection, waiting at most `wait` for one. Each look asks r2d2 without waiting
    /// (which also has it open another connection when the pool may grow); between looks
    /// the caller waits here for a connection to come back (see [`Pool`]). The error after
    /// the last look says why no connection could be had (r2d2 keeps the last connect error).
    pub(crate) fn checkout(&self, wait: Duration) -> Result<Checkout<'_>, r2d2::Error> {
        let deadline = Instant::now() + wait;
        // r2d2 hands its last connect error to one look only (its `Display` is the bare
        // timeout without one): keep the latest that carries one.
        let mut kept: Option<r2d2::Error> = None;
        loop {
            match self.pool.get_timeout(Duration::ZERO) {
                Ok(conn) => return Ok(Checkout { conn: Some(conn), pool: self }),
                Err(e) => {
                    let now = Instant::now();
                    let bare = e.to_string() == BARE_TIMEOUT;
                    let why = match kept.take() {
                        Some(earlier) if bare => earlier,
                        _ => e,
                    };
                    if now >= deadline {
                        return Err(why);
                    }
                    let idle = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
                    drop(self.returned.wait_timeout(idle, (deadline - now).min(LOOK_AGAIN)));
                    kept = Some(why);
                }
            }
        }
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
            ConnError::Stale => f.write_str("connection opened before a connection failure"),
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
        let mut client = self.inner.connect().map_err(ConnError::Postgres)?;
        client.batch_execute(&self.session_sql).map_err(ConnError::Postgres)?;
        Ok(Conn { client, generation })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnError> {
        if conn.client.is_closed() || conn.generation < self.generation.load(Ordering::Acquire) {
            Err(ConnError::Stale)
        } else {
            Ok(())
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}
