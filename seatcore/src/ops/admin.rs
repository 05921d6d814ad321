//! Administrative reset and the health probe.

use crate::error::Result;
use crate::types::{Health, ResetCounts};
use crate::{OnLost, SeatCore};

/// Table locks first, in one fixed order, so a reset waits for in-flight seat operations
/// instead of interleaving with them. Cancelled bookings are deleted too, but only the
/// bookings in force count as cleared.
const RESET_SQL: &str = "
WITH h AS (DELETE FROM holds RETURNING 1),
     s AS (UPDATE seats SET hold_id = NULL, hold_expires_at = NULL, booking_id = NULL
           WHERE hold_id IS NOT NULL OR booking_id IS NOT NULL
           RETURNING 1),
     b AS (DELETE FROM bookings RETURNING cancelled_at),
     -- the same snapshot as the update, and the table lock keeps it true
     taken AS (SELECT show_id, seat_no, seat_id FROM seats
               WHERE booking_id IS NOT NULL OR hold_expires_at > now()),
     -- one `reset` change per show whose seats it freed
     logged AS (INSERT INTO changes (id, kind, show_id, seat_ids)
                SELECT seatcore_change_id(row_number() OVER (ORDER BY show_id) - 1),
                       'reset', show_id, array_agg(seat_id ORDER BY seat_no)
                FROM taken GROUP BY show_id)
SELECT (SELECT count(*) FROM h), (SELECT count(*) FROM b WHERE cancelled_at IS NULL), (SELECT count(*) FROM taken)";

impl SeatCore {
    /// Clears every hold and booking of every show; seat maps stay. All or nothing.
    /// `seats_reset` counts the seats that were held (by a live hold) or booked.
    pub fn reset_all(&self) -> Result<ResetCounts> {
        self.with_conn(OnLost::Fail, |c, _| {
            let mut tx = c.client.transaction()?;
            tx.batch_execute("LOCK TABLE holds, seats, bookings IN SHARE ROW EXCLUSIVE MODE")?;
            let row = tx.query_one(RESET_SQL, &[])?;
            let counts = ResetCounts {
                holds_cleared: row.get::<_, i64>(0) as u64,
                bookings_cleared: row.get::<_, i64>(1) as u64,
                seats_reset: row.get::<_, i64>(2) as u64,
            };
            tx.commit()?;
            self.notify_changes(&mut c.client);
            Ok(counts)
        })
    }

    /// Checks that the database answers and the schema is there; counts the shows.
    pub fn health(&self) -> Result<Health> {
        self.with_conn(OnLost::Retry, |c, _| {
            let rows = c.client.query_typed("SELECT count(*) FROM shows", &[])?;
            let shows: i64 = rows.first().map_or(0, |r| r.get(0));
            Ok(Health { shows: shows as u64 })
        })
    }
}
