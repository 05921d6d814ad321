//! Schema migrations: plain SQL files from `migrations/`, embedded at build time and applied
//! under an advisory lock, so any number of processes may start at once.
//!
//! Tables, indexes and triggers change by versions (`V<n>__<what>.sql`), each applied once, in
//! order. A SQL function stands once, as it is now, in `migrations/functions/<name>.sql`
//! (`CREATE OR REPLACE`), and is applied after the versions whenever its file differs from
//! what the database last applied: changing a function is editing its file, and its history
//! is that file's. A function whose signature changes, or that goes, is dropped by a version
//! (`DROP FUNCTION IF EXISTS`: on a new database the functions come after every version),
//! which also deletes its row of `seatcore_functions`, so that its file is applied again.

use std::collections::HashMap;

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

/// One SQL function: its name and its file's text.
pub struct Function {
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every function of `migrations/functions/`, by name: each file, listed by `build.rs`.
pub const FUNCTIONS: &[Function] = include!(concat!(env!("OUT_DIR"), "/functions.rs"));

/// Arbitrary, fixed key of the advisory lock that serializes migrations ("seatcore" in hex-ish).
const MIGRATION_LOCK_KEY: i64 = 0x5EA7_C04E;

/// Applies every migration the database lacks, then every function whose text it lacks;
/// returns how many of both were applied.
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
         );
         CREATE TABLE IF NOT EXISTS seatcore_functions (
             name       text        PRIMARY KEY,
             definition text        NOT NULL,
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
    // Bodies are checked when called, as pg_dump restores them: a function may call one
    // whose file comes later.
    tx.batch_execute("SET LOCAL check_function_bodies = off")?;
    let applied: HashMap<String, String> = tx
        .query("SELECT name, definition FROM seatcore_functions", &[])?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    for f in FUNCTIONS.iter().filter(|f| applied.get(f.name).map(String::as_str) != Some(f.sql)) {
        tx.batch_execute(f.sql)?;
        tx.execute(
            "INSERT INTO seatcore_functions (name, definition) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, applied_at = now()",
            &[&f.name, &f.sql],
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
        let names: Vec<String> = std::fs::read_dir(format!("{dir}/functions"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), FUNCTIONS.len());
        for f in FUNCTIONS {
            let file = std::fs::read_to_string(format!("{dir}/functions/{}.sql", f.name)).unwrap();
            assert_eq!(f.sql, file, "{} is embedded as it stands in migrations/functions/", f.name);
        }
    }

    #[test]
    fn no_version_makes_or_alters_a_function_that_has_a_file() {
        // its file is the one text of the function
        for m in MIGRATIONS {
            for f in FUNCTIONS {
                for verb in ["CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", "ALTER FUNCTION"] {
                    let statement = format!("{verb} {}(", f.name);
                    assert!(!m.sql.contains(&statement), "{}: {statement}", m.name);
                }
            }
        }
    }
}
