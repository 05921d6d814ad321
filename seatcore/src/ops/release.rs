//! Releasing a hold early.

use postgres::types::Type;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::ops::lifecycle::Release;
use crate::{bump, validate, OnLost, SeatCore};

/// Lock the hold, judge it by the clock then, lock its seats in order and, when they all
/// still carry it, free them, delete the hold and record the change: 1, or 0 when there is
/// no such live hold (`seatcore_release` over `seatcore_release_holds`, migrations/functions/:
/// planned once per session).
const RELEASE_SQL: &str = "SELECT seatcore_release($1, $2)";

impl SeatCore {
    /// Releases a live hold, making its seats available at once.
    ///
    /// An expired hold counts as gone whether or not a sweep removed it yet, so the answer
    /// never depends on sweep timing. Errors: `HoldNotFound` (also for a non-UUID id).
    pub fn release(&self, show_id: &str, hold_id: &str) -> Result<()> {
        let show_id = validate::show_id(show_id)?;
        let request = Release::checked(hold_id)?;
        self.inner.releases.run(self, show_id, request)
    }

    /// Releases a live hold by its own statement.
    pub(crate) fn release_alone(&self, show_id: &str, hold_id: Uuid) -> Result<()> {
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
