//! Releasing a hold early.

use postgres::types::Type;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::{bump, validate, OnLost, SeatCore};

/// Lock the live hold, lock its seats in order, free them, delete the hold, record the change.
///
/// The hold is found by its id: its expiry is tested as `(...) IS TRUE`, a form no index
/// serves, or a planner whose statistics of expiries lag behind the clock reads the live
/// holds by the expiry index (all of them) instead of the one by the key.
const RELEASE_SQL: &str = "
WITH h AS MATERIALIZED (
    SELECT hold_id, seat_nos, seat_ids FROM holds
    WHERE hold_id = $2 AND show_id = $1 AND (expires_at > now()) IS TRUE
    FOR UPDATE
), locked AS MATERIALIZED (
    SELECT s.seat_no
    FROM seats s JOIN h ON s.seat_no = ANY (h.seat_nos)
    WHERE s.show_id = $1 AND s.hold_id = h.hold_id
    ORDER BY s.seat_no
    FOR UPDATE OF s
), freed AS (
    UPDATE seats s SET hold_id = NULL, hold_expires_at = NULL
    FROM locked l
    WHERE s.show_id = $1 AND s.seat_no = l.seat_no
), gone AS (
    DELETE FROM holds WHERE hold_id IN (SELECT hold_id FROM h)
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
    SELECT seatcore_change_id(0), 'released', $1, seat_ids, hold_id FROM h
)
SELECT count(*) FROM h";

impl SeatCore {
    /// Releases a live hold, making its seats available at once.
    ///
    /// An expired hold counts as gone whether or not a sweep removed it yet, so the answer
    /// never depends on sweep timing. Errors: `HoldNotFound` (also for a non-UUID id).
    pub fn release(&self, show_id: &str, hold_id: &str) -> Result<()> {
        let show_id = validate::show_id(show_id)?;
        let Ok(hold_id) = Uuid::parse_str(hold_id.trim()) else {
            return Err(Error::HoldNotFound);
        };
        // Not retried after a lost connection: a repeat of a release that did commit
        // would wrongly answer "not found".
        self.with_conn(OnLost::Fail, |c, _| {
            let row = c.client.query_typed(RELEASE_SQL, &[(&show_id, Type::TEXT), (&hold_id, Type::UUID)])?;
            let released: i64 = row.first().map_or(0, |r| r.get(0));
            if released == 0 {
                return Err(Error::HoldNotFound);
            }
            bump(&self.inner.counters.releases, 1);
            self.notify_changes(&mut c.client);
            Ok(())
        })
    }
}
