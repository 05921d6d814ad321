//! Extending a live hold: one statement, one round trip (two for a hold near its expiry or
//! its maximum life, and for refusals).

use chrono::{DateTime, Utc};
use postgres::types::{ToSql, Type};
use postgres::Row;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::ops::lifecycle::Extension;
use crate::types::Hold;
use crate::{validate, OnLost, SeatCore};

/// The common case, one statement shaped like a hold: a hold that stays live until after
/// this statement can have ended (its expiry lies beyond `now()` plus the statement timeout,
/// which bounds the statement's life, plus a second), and whose maximum life does too.
/// While a hold is live, only a statement holding its row lock changes its seats (a hold
/// takes only seats that look free, see `ops`), so such a hold's seats carry it for the
/// whole statement. The hold row is updated straight away, which locks it; then its seats
/// are updated in one scan of the seats' primary key, which visits them in seat-map order,
/// so the lock order is that of every statement (hold row, then seats in seat-map order);
/// then the record is written. No statement can hold those seats' locks meanwhile but a
/// booking of an expired hold that once had them (`BOOK_SQL` locks its hold's seats in
/// seat-map order before it finds they are no longer its own); should a plan ever visit
/// them in another order, PostgreSQL reports the deadlock and the core runs the statement
/// again. No row when the hold is not such a hold (missing, expired, near its expiry or its
/// maximum life, or the session has no statement timeout): `EXTEND_SQL` decides then.
///
/// The seats are still checked: every seat of the hold must carry it, or `seatcore_assert`
/// ends the statement with SQLSTATE SC001 and nothing is written.
///
/// The statement is the function `seatcore_extend_live` (migrations/functions/: planned once per
/// session).
const EXTEND_LIVE_SQL: &str = "SELECT seat_ids, expires_at FROM seatcore_extend_live($1, $2, $3, $4)";

/// Every other case: lock the hold row, judge it by the clock at that moment, lock its
/// seats in seat-map order, check they still carry it, then move the expiry of the hold and
/// of its seats and record the change. No row when the hold does not exist.
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

/// Whether a statement ended on `seatcore_assert` (SQLSTATE SC001): it wrote nothing.
pub(crate) fn is_assertion(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code() == "SC001")
}

/// The statements of a change to one live hold: `live`, one statement for the common
/// case, whose first row `done` reads, and `judged`, which locks and checks first.
/// `Done` when `live` made the change; otherwise (`done` found nothing in its row, or
/// `live` ended on its assertion, having written nothing) `judged` runs, and its row,
/// which says what it made or why it refused, is `Judge`d by the caller. `HoldNotFound`
/// when `judged` returns no row.
pub(crate) fn live_or_judged<T>(
    client: &mut postgres::Client,
    (live, judged): (&str, &str),
    params: &[(&(dyn ToSql + Sync), Type)],
    done: impl FnOnce(&Row) -> Option<T>,
) -> Result<Verdict<T>> {
    match client.query_typed(live, params) {
        Ok(rows) => {
            if let Some(t) = rows.first().and_then(done) {
                return Ok(Verdict::Done(t));
            }
        }
        Err(e) if is_assertion(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let mut rows = client.query_typed(judged, params)?;
    if rows.is_empty() {
        return Err(Error::HoldNotFound);
    }
    Ok(Verdict::Judge(rows.swap_remove(0)))
}

/// What [`live_or_judged`] found.
pub(crate) enum Verdict<T> {
    Done(T),
    Judge(Row),
}

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
    /// One statement, about as costly as a hold, for a hold with more than the statement
    /// timeout (and a second) left, of its time and of its maximum life; a second statement,
    /// which locks and checks the seats first, for one closer to its end and for refusals.
    ///
    /// Errors: `HoldNotFound` (never made, released, booked, swept, another show's, not a
    /// UUID), `HoldExpired` (its time ran out, or it has lived its maximum life already, so
    /// no extension can add time), `HoldInvalidated` (its seats no longer carry it),
    /// `InvalidInput`.
    pub fn extend(&self, show_id: &str, hold_id: &str, seconds: i64) -> Result<Hold> {
        let show_id = validate::show_id(show_id)?;
        let request = Extension::checked(hold_id, seconds)?;
        self.inner.extensions.run(self, show_id, request)
    }

    /// Extends one hold by its own statements (checked input).
    pub(crate) fn extend_alone(&self, show_id: &str, hold_id: Uuid, seconds: i64) -> Result<Hold> {
        let secs = seconds as f64;
        let life = self.inner.max_hold_life.as_secs_f64();
        // A repeat after a lost connection sets the expiry again, from a moment later:
        // the same outcome as one call made a moment later.
        let params: [(&(dyn postgres::types::ToSql + Sync), Type); 4] =
            [(&show_id, Type::TEXT), (&hold_id, Type::UUID), (&secs, Type::FLOAT8), (&life, Type::FLOAT8)];
        self.with_conn(OnLost::Retry, |c, _| {
            let verdict = live_or_judged(&mut c.client, (EXTEND_LIVE_SQL, EXTEND_SQL), &params, |row| {
                Some((row.get(0), row.get::<_, DateTime<Utc>>(1)))
            })?;
            let row = match verdict {
                Verdict::Done((seat_ids, expires_at)) => {
                    self.notify_changes(&mut c.client);
                    return Ok(Hold { hold_id, show_id: show_id.to_owned(), seat_ids, expires_at });
                }
                Verdict::Judge(row) => row,
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
