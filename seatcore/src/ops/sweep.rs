//! Sweeping expired holds.

use postgres::types::Type;

use std::time::Duration;

use crate::error::Result;
use crate::{bump, OnLost, SeatCore};

/// One batch: delete up to $1 expired holds that no one else has locked (a concurrent
/// sweeper, a booking in progress), and record an `expired` change for each.
///
/// Seats are not touched. A seat whose hold expired is available by the rule every read and
/// write applies (`hold_expires_at <= now()`); its `hold_id` and `hold_expires_at` keep the
/// dead hold's values until the seat is held again, which overwrites them. So the sweep takes
/// no seat lock, never waits for one and never delays a hold or a booking: it is garbage
/// collection of the `holds` table, nothing more.
const SWEEP_SQL: &str = "
WITH doomed AS MATERIALIZED (
    SELECT hold_id FROM holds
    WHERE expires_at <= now()
    ORDER BY expires_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM holds h USING doomed d WHERE h.hold_id = d.hold_id
    RETURNING h.hold_id, h.show_id, h.seat_ids, h.expires_at
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
    SELECT seatcore_change_id(row_number() OVER (ORDER BY expires_at, hold_id) - 1),
           'expired', show_id, seat_ids, hold_id, expires_at
    FROM gone
    RETURNING 1
)
SELECT count(*) FROM logged";

/// How long until the next live hold expires, by the database's clock.
const NEXT_EXPIRY_SQL: &str = "
SELECT extract(epoch FROM min(expires_at) - now())::float8 FROM holds WHERE expires_at > now()";

/// One batch of changes older than the retention period.
const PRUNE_SQL: &str = "
DELETE FROM changes WHERE id IN (
    SELECT id FROM changes WHERE at < now() - make_interval(secs => $1) ORDER BY at LIMIT $2)";

/// Changes one prune transaction deletes.
const PRUNE_BATCH: i64 = 10_000;

impl SeatCore {
    /// How long until the next live hold (of any show) expires; `None` when none is live.
    pub fn next_expiry(&self) -> Result<Option<Duration>> {
        self.with_conn(OnLost::Retry, |c, _| {
            let rows = c.client.query_typed(NEXT_EXPIRY_SQL, &[])?;
            let secs: Option<f64> = rows.first().and_then(|r| r.get(0));
            Ok(secs.map(|s| Duration::try_from_secs_f64(s).unwrap_or_default()))
        })
    }

    /// Deletes changes older than [`Options::change_retention`](crate::Options), in
    /// batches; returns how many.
    pub fn prune_changes(&self) -> Result<u64> {
        let secs = self.inner.change_retention.as_secs_f64();
        let mut total = 0;
        loop {
            let deleted = self.with_conn(OnLost::Retry, |c, _| {
                Ok(c.client.execute_typed(PRUNE_SQL, &[(&secs, Type::FLOAT8), (&PRUNE_BATCH, Type::INT8)])?)
            })?;
            total += deleted;
            if deleted < PRUNE_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Deletes every expired hold, in batches of `Options::sweep_batch`, each its own short
    /// transaction; returns how many holds were removed.
    ///
    /// Seats of an expired hold are available from the moment it expires; sweeping only
    /// removes the dead hold rows (see `SWEEP_SQL`). Any number of sweepers may run at once: each skips the holds
    /// another has claimed instead of waiting.
    pub fn sweep_expired(&self) -> Result<u64> {
        let batch = self.inner.sweep_batch;
        let mut total = 0u64;
        loop {
            let swept = self.with_conn(OnLost::Retry, |c, _| {
                let rows = c.client.query_typed(SWEEP_SQL, &[(&batch, Type::INT8)])?;
                let swept = rows.first().map_or(0, |r| r.get::<_, i64>(0));
                if swept > 0 {
                    self.notify_changes(&mut c.client);
                }
                Ok(swept)
            })?;
            total += swept as u64;
            bump(&self.inner.counters.holds_expired_swept, swept as u64);
            if swept < batch {
                return Ok(total);
            }
        }
    }
}
