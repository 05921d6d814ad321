//! Releasing some seats of a live hold: one statement, one round trip.

use postgres::types::Type;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::{bump, validate, OnLost, SeatCore};

/// What a partial release did.
///
/// Serializes to the contract's `{"message": "seats released", "seat_ids",
/// "remaining_seat_ids"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatsReleased {
    pub hold_id: Uuid,
    pub show_id: String,
    /// The released seats (trimmed), in request order. They are available.
    pub seat_ids: Vec<String>,
    /// The seats the hold keeps, in the order it was asked for; empty when every seat was
    /// released, which releases the hold itself.
    pub remaining_seat_ids: Vec<String>,
}

impl Serialize for SeatsReleased {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("message", "seats released")?;
        m.serialize_entry("seat_ids", &self.seat_ids)?;
        m.serialize_entry("remaining_seat_ids", &self.remaining_seat_ids)?;
        m.end()
    }
}

/// Lock the hold row and judge it by the clock at that moment; name the asked seats it
/// does not have; if it has them all, lock them in seat-map order and check they still
/// carry it; then free them, shrink the hold (or delete it when nothing is left) and record
/// the change with the released seats only. No row when the hold does not exist.
///
/// The lock order is the rule of every statement (see `ops`): the hold row, then its seats
/// in seat-map order; so a partial release can wait for a booking, an extension or another
/// release of the same hold, never deadlock with one. Liveness is judged by
/// `clock_timestamp()` once the row is locked, not by `now()` (the statement's start,
/// before any wait for the lock); seats lost to another hold after an expiry do not carry
/// this one and are never freed (`intact`).
const RELEASE_SEATS_SQL: &str = "
WITH h AS MATERIALIZED (
    SELECT hold_id, seat_nos, seat_ids, expires_at
    FROM holds
    WHERE hold_id = $2 AND show_id = $1
    FOR UPDATE
), judged AS MATERIALIZED (
    SELECT h.*, h.expires_at > clock_timestamp() AS live FROM h
), missing AS MATERIALIZED (
    SELECT coalesce(array_agg(r.seat_id ORDER BY r.i), '{}') AS seat_ids
    FROM judged j, unnest($3::text[]) WITH ORDINALITY AS r (seat_id, i)
    WHERE j.live AND r.seat_id <> ALL (j.seat_ids)
), locked AS MATERIALIZED (
    SELECT s.seat_no, s.hold_id, s.hold_expires_at, s.booking_id
    FROM seats s, judged j, missing m
    WHERE j.live AND cardinality(m.seat_ids) = 0
      AND s.show_id = $1 AND s.seat_id = ANY ($3) AND s.seat_no = ANY (j.seat_nos)
    ORDER BY s.seat_no
    FOR UPDATE OF s
), verdict AS MATERIALIZED (
    SELECT j.hold_id,
           (SELECT count(*) FROM locked l
            WHERE l.hold_id = j.hold_id AND l.hold_expires_at = j.expires_at
              AND l.booking_id IS NULL) = cardinality($3::text[]) AS intact,
           ARRAY(SELECT n FROM unnest(j.seat_nos) AS n
                 WHERE n NOT IN (SELECT seat_no FROM locked) ORDER BY n) AS kept_nos,
           ARRAY(SELECT k.seat_id FROM unnest(j.seat_ids) WITH ORDINALITY AS k (seat_id, i)
                 WHERE k.seat_id <> ALL ($3) ORDER BY k.i) AS kept_ids
    FROM judged j, missing m
    WHERE j.live AND cardinality(m.seat_ids) = 0
), freed AS (
    UPDATE seats s SET hold_id = NULL, hold_expires_at = NULL
    FROM verdict v, locked l
    WHERE v.intact AND s.show_id = $1 AND s.seat_no = l.seat_no
), kept AS (
    UPDATE holds SET seat_nos = v.kept_nos, seat_ids = v.kept_ids
    FROM verdict v
    WHERE holds.hold_id = v.hold_id AND v.intact AND cardinality(v.kept_nos) > 0
), gone AS (
    DELETE FROM holds USING verdict v
    WHERE holds.hold_id = v.hold_id AND v.intact AND cardinality(v.kept_nos) = 0
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
    SELECT seatcore_change_id(0), 'released', $1, $3, hold_id FROM verdict WHERE intact
)
SELECT j.live, j.expires_at <= clock_timestamp() AS expired_now, m.seat_ids AS missing,
       v.intact, v.kept_ids
FROM judged j LEFT JOIN missing m ON true LEFT JOIN verdict v ON true";

impl SeatCore {
    /// Releases some seats of a live hold: they are available at once, and the hold keeps
    /// the rest (with its expiry). Releasing every seat releases the hold, as
    /// [`SeatCore::release`] does. Booking the hold afterwards books the seats it kept.
    ///
    /// Seat ids are checked and trimmed like a hold's. Errors: `HoldNotFound` (never made,
    /// expired, released, booked, another show's, not a UUID), `SeatsNotInHold` (with the
    /// seats the hold does not have, in request order; nothing is released),
    /// `HoldInvalidated`, `InvalidInput`.
    pub fn release_seats<S: AsRef<str>>(
        &self,
        show_id: &str,
        hold_id: &str,
        seat_ids: &[S],
    ) -> Result<SeatsReleased> {
        let show_id = validate::show_id(show_id)?;
        let seat_ids = validate::seat_ids(seat_ids, validate::MAX_SEATS_PER_HOLD)?;
        let Ok(hold_id) = Uuid::parse_str(hold_id.trim()) else {
            return Err(Error::HoldNotFound);
        };
        // Not retried after a lost connection: a repeat of a release that did commit
        // would wrongly answer that the seats are not in the hold.
        self.with_conn(OnLost::Fail, |c, _| {
            let rows = c.client.query_typed(
                RELEASE_SEATS_SQL,
                &[(&show_id, Type::TEXT), (&hold_id, Type::UUID), (&seat_ids, Type::TEXT_ARRAY)],
            )?;
            let Some(row) = rows.first() else {
                return Err(Error::HoldNotFound);
            };
            if !row.get::<_, bool>("live") {
                return Err(Error::HoldNotFound);
            }
            let missing: Vec<String> = row.get("missing");
            if !missing.is_empty() {
                return Err(Error::SeatsNotInHold { seat_ids: missing });
            }
            if row.get::<_, Option<bool>>("intact") != Some(true) {
                return Err(if row.get("expired_now") {
                    Error::HoldNotFound
                } else {
                    Error::HoldInvalidated
                });
            }
            bump(&self.inner.counters.releases, 1);
            self.notify_changes(&mut c.client);
            Ok(SeatsReleased {
                hold_id,
                show_id: show_id.to_owned(),
                seat_ids: seat_ids.clone(),
                remaining_seat_ids: row.get("kept_ids"),
            })
        })
    }
}
