//! Releasing some seats of a live hold: one statement, one round trip (two for a hold near
//! its expiry, and for refusals).

use postgres::types::Type;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::ops::extend::{live_or_judged, Verdict};
use crate::ops::lifecycle::PartialRelease;
use crate::{bump, validate, OnLost, SeatCore};

/// What a partial release did.
///
/// Serializes to the contract's `{"message": "seats released", "seat_ids",
/// "remaining_seat_ids"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "message", rename = "seats released")]
pub struct SeatsReleased {
    #[serde(skip)]
    pub hold_id: Uuid,
    #[serde(skip)]
    pub show_id: String,
    /// The released seats (trimmed), in request order. They are available.
    pub seat_ids: Vec<String>,
    /// The seats the hold keeps, in the order it was asked for; empty when every seat was
    /// released, which releases the hold itself.
    pub remaining_seat_ids: Vec<String>,
}

/// The common case, one statement: one seat released from a hold that keeps others and
/// stays live until after this statement can have ended (its expiry lies beyond `now()`
/// plus the statement timeout, which bounds the statement's life, plus a second). While a
/// hold is live, only a statement holding its row lock changes its seats (a hold takes
/// only seats that look free, see `ops`), so such a hold's seats carry it for the whole
/// statement: the hold row is updated straight away (which locks it), then the seat (one
/// row lock), then the record is written. No row when the request is not such a request
/// (the hold is missing, expired or near its expiry, the seat is not in it or is its last,
/// or the session has no statement timeout): `RELEASE_SEATS_SQL` decides then. The seat is
/// still checked: if it does not carry the hold, `seatcore_assert` ends the statement with
/// SQLSTATE SC001 and nothing is written.
///
/// The statement is the function `seatcore_release_one_live` (migrations/functions/: planned once
/// per session); it answers the kept seats, or NULL.
const RELEASE_ONE_LIVE_SQL: &str = "SELECT seatcore_release_one_live($1, $2, $3)";

/// `RELEASE_ONE_LIVE_SQL` for several seats: they are locked in seat-map order (`locked`,
/// after the hold row, as every statement locks them) before they are freed. The hold is
/// found by its id: its expiry is tested in a form no index serves (`(...) IS TRUE`), as in
/// `RELEASE_SQL`.
const RELEASE_MANY_LIVE_SQL: &str = "
WITH asked AS MATERIALIZED (
    SELECT array_agg(seat_no) AS nos FROM seats WHERE show_id = $1 AND seat_id = ANY ($3)
), kept AS (
    UPDATE holds h
    SET seat_nos = ARRAY(SELECT n FROM unnest(h.seat_nos) AS n WHERE n <> ALL (a.nos) ORDER BY n),
        seat_ids = ARRAY(SELECT k.id FROM unnest(h.seat_ids) WITH ORDINALITY AS k (id, i)
                         WHERE k.id <> ALL ($3) ORDER BY k.i)
    FROM asked a
    WHERE h.hold_id = $2 AND h.show_id = $1 AND cardinality(a.nos) = cardinality($3::text[])
      AND h.seat_nos @> a.nos AND cardinality(h.seat_nos) > cardinality(a.nos)
      AND (h.expires_at > now() + nullif(current_setting('statement_timeout'), '0')::interval + interval '1 second') IS TRUE
    RETURNING h.hold_id, h.seat_ids
), locked AS MATERIALIZED (
    SELECT s.seat_no FROM seats s, asked a, kept k
    WHERE s.show_id = $1 AND s.seat_no = ANY (a.nos)
    ORDER BY s.seat_no
    FOR UPDATE OF s
), freed AS (
    UPDATE seats s SET hold_id = NULL, hold_expires_at = NULL
    FROM locked l
    WHERE s.show_id = $1 AND s.seat_no = l.seat_no AND s.hold_id = $2 AND s.booking_id IS NULL
    RETURNING 1
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
    SELECT seatcore_change_id(0), 'released', $1, $3, hold_id FROM kept
)
SELECT seat_ids FROM kept
WHERE seatcore_assert((SELECT count(*) FROM freed) = cardinality($3::text[]),
                      'a released seat did not carry its hold')";

/// Every other case: lock the hold row and judge it by the clock at that moment; name the
/// asked seats it does not have; if it has them all, lock them in seat-map order and check
/// they still carry it; then free them, shrink the hold (or delete it when nothing is left)
/// and record the change with the released seats only. No row when the hold does not exist.
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
    /// One statement, about as costly as a hold, when the hold keeps seats and has more than
    /// the statement timeout (and a second) left; a second statement, which locks and checks
    /// the seats first, when it is closer to its end, gives up its last seats, or refuses.
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
        let request = PartialRelease::checked(hold_id, seat_ids)?;
        self.inner.partial_releases.run(self, show_id, request)
    }

    /// Releases some seats of one hold by its own statements (checked input).
    pub(crate) fn release_seats_alone(
        &self,
        show_id: &str,
        hold_id: Uuid,
        seat_ids: &[String],
    ) -> Result<SeatsReleased> {
        let params: [(&(dyn postgres::types::ToSql + Sync), Type); 3] =
            [(&show_id, Type::TEXT), (&hold_id, Type::UUID), (&seat_ids, Type::TEXT_ARRAY)];
        let live_sql = if seat_ids.len() == 1 { RELEASE_ONE_LIVE_SQL } else { RELEASE_MANY_LIVE_SQL };
        // Not retried after a lost connection: a repeat of a release that did commit
        // would wrongly answer that the seats are not in the hold.
        self.with_conn(OnLost::Fail, |c, _| {
            let released = |c: &mut crate::pool::Conn, kept: Vec<String>| {
                bump(&self.inner.counters.releases, 1);
                self.notify_changes(&mut c.client);
                Ok(SeatsReleased {
                    hold_id,
                    show_id: show_id.to_owned(),
                    seat_ids: seat_ids.to_vec(),
                    remaining_seat_ids: kept,
                })
            };
            let verdict = live_or_judged(&mut c.client, (live_sql, RELEASE_SEATS_SQL), &params, |row| {
                row.get::<_, Option<Vec<String>>>(0)
            })?;
            let row = match verdict {
                Verdict::Done(kept) => return released(c, kept),
                Verdict::Judge(row) => row,
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
            let kept = row.get("kept_ids");
            released(c, kept)
        })
    }
}
