//! Extending a live hold: one statement, one round trip.

use chrono::{DateTime, Utc};
use postgres::types::Type;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::types::Hold;
use crate::{validate, OnLost, SeatCore};

/// Lock the hold row, judge it by the clock at that moment, lock its seats in seat-map
/// order, check they still carry it, then move the expiry of the hold and of its seats and
/// record the change. No row when the hold does not exist.
///
/// The lock order is the rule of every statement (see `ops`): the hold row, then its seats
/// in seat-map order. So an extension can wait for a booking, a release or another
/// extension of the same hold, never deadlock with one.
///
/// `now()` is the start of the statement, which may have waited for the hold row (a
/// booking or release of it in flight): a hold is judged by `clock_timestamp()` taken once
/// its row is locked (in `judged`, whose rows come out of the locking scan), and the new
/// expiry counts from that moment too. A hold that was live then, but expired before its
/// seats were locked and lost them to another hold, no longer has them: the seats are
/// checked (`intact`, as a booking checks them), and nothing is written unless every seat
/// still carries the hold with its expiry.
const EXTEND_SQL: &str = "
WITH h AS MATERIALIZED (
    SELECT hold_id, seat_nos, seat_ids, expires_at, created_at
    FROM holds
    WHERE hold_id = $2 AND show_id = $1
    FOR UPDATE
), judged AS MATERIALIZED (
    SELECT h.*, clock_timestamp() AS locked_at FROM h
), live AS MATERIALIZED (
    SELECT j.*,
           least(j.locked_at + make_interval(secs => $3),
                 j.created_at + make_interval(secs => $4)) AS new_expiry
    FROM judged j
    WHERE j.expires_at > j.locked_at
), locked AS MATERIALIZED (
    SELECT s.seat_no, s.hold_id, s.hold_expires_at, s.booking_id
    FROM seats s JOIN live h ON s.seat_no = ANY (h.seat_nos)
    WHERE s.show_id = $1
    ORDER BY s.seat_no
    FOR UPDATE OF s
), verdict AS MATERIALIZED (
    SELECT h.hold_id, h.seat_ids, h.new_expiry,
           h.new_expiry > h.locked_at AS within_life,
           (SELECT count(*) FROM locked l
            WHERE l.hold_id = h.hold_id AND l.hold_expires_at = h.expires_at
              AND l.booking_id IS NULL) = cardinality(h.seat_nos) AS intact
    FROM live h
), extended AS (
    UPDATE holds SET expires_at = v.new_expiry
    FROM verdict v
    WHERE holds.hold_id = v.hold_id AND v.intact AND v.within_life
), flipped AS (
    UPDATE seats s SET hold_expires_at = v.new_expiry
    FROM verdict v, locked l
    WHERE v.intact AND v.within_life AND s.show_id = $1 AND s.seat_no = l.seat_no
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
    SELECT seatcore_change_id(0), 'extended', $1, seat_ids, hold_id, new_expiry
    FROM verdict WHERE intact AND within_life
)
SELECT j.expires_at > j.locked_at AS live, j.expires_at <= clock_timestamp() AS expired_now,
       v.intact, v.within_life, v.seat_ids, v.new_expiry
FROM judged j LEFT JOIN verdict v ON true";

impl SeatCore {
    /// Gives a live hold a new expiry: `seconds` from now by the database's clock, but
    /// never later than the hold's creation plus [`Options::max_hold_life`](crate::Options).
    /// The new expiry may be earlier than the old one: the hold then simply ends sooner.
    ///
    /// `seconds` is checked like a hold's (1 to [`validate::MAX_HOLD_SECONDS`]); `hold_id`
    /// is the hold's UUID as text, anything else is simply not found. A hold counts as live
    /// when its row is locked, by the database's clock at that moment, and only while
    /// every seat still carries it: an extension racing the hold's expiry, its booking or
    /// its release has exactly one outcome.
    ///
    /// Errors: `HoldNotFound` (never made, released, booked, swept, another show's, not a
    /// UUID), `HoldExpired` (its time ran out, or it has lived its maximum life already, so
    /// no extension can add time), `HoldInvalidated` (its seats no longer carry it),
    /// `InvalidInput`.
    pub fn extend(&self, show_id: &str, hold_id: &str, seconds: i64) -> Result<Hold> {
        let show_id = validate::show_id(show_id)?;
        let seconds = validate::hold_seconds(seconds)?;
        let Ok(hold_id) = Uuid::parse_str(hold_id.trim()) else {
            return Err(Error::HoldNotFound);
        };
        let secs = seconds as f64;
        let life = self.inner.max_hold_life.as_secs_f64();
        // A repeat after a lost connection sets the expiry again, from a moment later:
        // the same outcome as one call made a moment later.
        self.with_conn(OnLost::Retry, |c, _| {
            let rows = c.client.query_typed(
                EXTEND_SQL,
                &[
                    (&show_id, Type::TEXT),
                    (&hold_id, Type::UUID),
                    (&secs, Type::FLOAT8),
                    (&life, Type::FLOAT8),
                ],
            )?;
            let Some(row) = rows.first() else {
                return Err(Error::HoldNotFound);
            };
            if !row.get::<_, bool>("live") {
                return Err(Error::HoldExpired);
            }
            if row.get::<_, Option<bool>>("intact") != Some(true) {
                return Err(if row.get("expired_now") { Error::HoldExpired } else { Error::HoldInvalidated });
            }
            if row.get::<_, Option<bool>>("within_life") != Some(true) {
                return Err(Error::HoldExpired);
            }
            self.notify_changes(&mut c.client);
            Ok(Hold {
                hold_id,
                show_id: show_id.to_owned(),
                seat_ids: row.get("seat_ids"),
                expires_at: row.get::<_, DateTime<Utc>>("new_expiry"),
            })
        })
    }
}
