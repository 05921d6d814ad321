//! Sweeping expired holds.

use postgres::types::Type;

use crate::error::Result;
use crate::{bump, OnLost, SeatCore};

/// One batch: claim up to $1 expired holds that no one else has locked (a concurrent
/// sweeper, a booking in progress), lock the seats still carrying them in global order,
/// free those seats and delete the holds.
const SWEEP_SQL: &str = "
WITH doomed AS MATERIALIZED (
    SELECT hold_id, show_id, seat_nos FROM holds
    WHERE expires_at <= now()
    ORDER BY expires_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
), locked AS MATERIALIZED (
    SELECT s.show_id, s.seat_no
    FROM doomed d
    JOIN seats s ON s.show_id = d.show_id AND s.seat_no = ANY (d.seat_nos)
    WHERE s.hold_id = d.hold_id
    ORDER BY s.show_id, s.seat_no
    FOR UPDATE OF s
), freed AS (
    UPDATE seats s SET hold_id = NULL, hold_expires_at = NULL
    FROM locked l
    WHERE s.show_id = l.show_id AND s.seat_no = l.seat_no
), gone AS (
    DELETE FROM holds WHERE hold_id IN (SELECT hold_id FROM doomed)
)
SELECT count(*) FROM doomed";

impl SeatCore {
    /// Deletes every expired hold, in batches of `Options::sweep_batch`, each its own short
    /// transaction; returns how many holds were removed.
    ///
    /// Seats of an expired hold are available from the moment it expires; sweeping only
    /// removes dead rows. Any number of sweepers may run at once: each skips the holds
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
