//! The connection pool: r2d2 over r2d2_postgres, with session settings applied at connect
//! and a cheap, round-trip-free validity check at checkout.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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

impl Manager {
    pub(crate) fn new(config: postgres::Config, tls: MakeTlsConnector, session_sql: String) -> Self {
        Manager {
            inner: PostgresConnectionManager::new(config, tls),
            session_sql,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn generation(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.generation)
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
