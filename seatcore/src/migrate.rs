//! Schema migrations: plain SQL files from `migrations/`, embedded at build time and applied
//! in order under an advisory lock, so any number of processes may start at once.

use postgres::Client;

use crate::error::Result;

/// One migration: its version (the `V<n>__` prefix) and its SQL.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, oldest first: each file of `migrations/`, listed by `build.rs`.
pub const MIGRATIONS: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Arbitrary, fixed key of the advisory lock that serializes migrations ("seatcore" in hex-ish).
const MIGRATION_LOCK_KEY: i64 = 0x5EA7_C04E;

/// Applies every migration the database lacks; returns how many were applied.
///
/// The whole run is one transaction holding a transaction-scoped advisory lock: a second
/// process waits, then finds the work done. It waits as long as the first takes (within the
/// statement timeout), whatever the connection's lock timeout: processes starting together
/// never fail for it. A failed migration leaves nothing behind.
pub fn migrate(client: &mut Client) -> Result<usize> {
    let mut tx = client.transaction()?;
    crate::pool::past_lock_timeout(&mut tx, |tx| {
        Ok(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])?)
    })?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS seatcore_migrations (
             version    integer     PRIMARY KEY,
             name       text        NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let applied: Vec<i32> =
        tx.query("SELECT version FROM seatcore_migrations", &[])?.iter().map(|row| row.get(0)).collect();
    let mut count = 0;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        tx.batch_execute(m.sql)?;
        tx.execute(
            "INSERT INTO seatcore_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )?;
        count += 1;
    }
    tx.commit()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_1_without_gaps_and_embed_their_files() {
        // build.rs lists and sorts the files; a missing file leaves a gap here
        let versions: Vec<i32> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(versions, (1..=MIGRATIONS.len() as i32).collect::<Vec<_>>());
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
        for m in MIGRATIONS {
            let file = std::fs::read_to_string(format!("{dir}/{}", m.name)).unwrap();
            assert_eq!(m.sql, file, "{} is embedded as it stands in migrations/", m.name);
        }
    }
}
