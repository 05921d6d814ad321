//! Sweeping expired holds.

use postgres::types::Type;

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

impl SeatCore {
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
                Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)))
            })?;
            total += swept as u64;
            bump(&self.inner.counters.holds_expired_swept, swept as u64);
            if swept < batch {
                return Ok(total);
            }
        }
    }
}
