//! Holding seats: one statement, one round trip.

use chrono::{DateTime, Utc};
use postgres::types::Type;
use uuid::Uuid;

use crate::error::{classify, DbFailure, Error, Result};
use crate::pool::Conn;
use crate::types::Hold;
use crate::{bump, validate, OnLost, SeatCore};

/// Peek, lock, check, change.
///
/// `peek` reads the requested seats without locking. If one is already taken (booked, or
/// held by a live hold) in that snapshot, the hold is refused at once: a seat only becomes
/// free again by a release, an expiry or a reset, so the refusal was true at the snapshot's
/// moment, and a crowd of refused callers never queues on the seat's row lock.
///
/// Otherwise `wanted` locks the seats in seat-map order and re-reads their newest versions,
/// `verdict` decides on those, and only then are the hold row and the seats written.
const HOLD_SQL: &str = "
WITH peek AS MATERIALIZED (
    SELECT seat_no, seat_id,
           (booking_id IS NOT NULL OR hold_expires_at > now()) AS taken
    FROM seats
    WHERE show_id = $1 AND seat_id = ANY ($2)
), gate AS MATERIALIZED (
    SELECT count(*) AS found, coalesce(bool_or(taken), false) AS any_taken FROM peek
), wanted AS MATERIALIZED (
    SELECT s.seat_no, s.seat_id,
           (s.booking_id IS NOT NULL OR s.hold_expires_at > now()) AS taken
    FROM seats s, gate g
    WHERE s.show_id = $1 AND s.seat_id = ANY ($2)
      AND g.found = cardinality($2) AND NOT g.any_taken
    ORDER BY s.seat_no
    FOR UPDATE OF s
), verdict AS MATERIALIZED (
    SELECT g.found,
           CASE WHEN g.any_taken
                THEN (SELECT array_agg(seat_id ORDER BY seat_no) FROM peek WHERE taken)
                ELSE coalesce((SELECT array_agg(seat_id ORDER BY seat_no) FROM wanted WHERE taken),
                              '{}')
           END AS taken,
           (SELECT array_agg(seat_no ORDER BY seat_no) FROM wanted) AS seat_nos
    FROM gate g
), new_hold AS (
    INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at, request_key)
    SELECT $3, $1, v.seat_nos, $2, now() + make_interval(secs => $4), $5
    FROM verdict v
    WHERE v.found = cardinality($2) AND cardinality(v.taken) = 0
    RETURNING hold_id, expires_at
), flipped AS (
    UPDATE seats s
    SET hold_id = h.hold_id, hold_expires_at = h.expires_at
    FROM new_hold h, wanted w
    WHERE s.show_id = $1 AND s.seat_no = w.seat_no
    RETURNING 1
)
SELECT CASE WHEN v.found < cardinality($2)
            THEN EXISTS (SELECT 1 FROM shows WHERE show_id = $1)
            ELSE true END AS show_exists,
       v.found,
       v.taken,
       (SELECT expires_at FROM new_hold) AS expires_at,
       (SELECT count(*) FROM flipped) AS flipped
FROM verdict v";

/// A hold of this show by id or by request key, live or not.
const FIND_SQL: &str = "
SELECT hold_id, seat_ids, expires_at FROM holds
WHERE show_id = $1 AND (hold_id = $2 OR ($3::text IS NOT NULL AND request_key = $3))";

impl SeatCore {
    /// Holds `seat_ids` of `show_id` for `seconds` (by the database's clock), all or none.
    ///
    /// Seat ids are trimmed. Errors: `InvalidInput`, `ShowNotFound`, `InvalidSeatIds`
    /// (a seat not on the map), `SeatsUnavailable` (with the taken seats, in seat-map order).
    pub fn hold<S: AsRef<str>>(&self, show_id: &str, seat_ids: &[S], seconds: i64) -> Result<Hold> {
        self.hold_inner(show_id, seat_ids, seconds, None)
    }

    /// Like [`SeatCore::hold`], made safe to retry after a lost reply: the first call with a
    /// given `request_key` for a show makes the hold; a repeat with the same key returns that
    /// same hold (even if it has expired since) for as long as the hold exists, that is until
    /// it is booked, released, or swept after expiry. A repeat that asks for other seats
    /// fails with `RequestKeyReused`.
    pub fn hold_with_key<S: AsRef<str>>(
        &self,
        show_id: &str,
        seat_ids: &[S],
        seconds: i64,
        request_key: &str,
    ) -> Result<Hold> {
        let key = validate::request_key(request_key)?;
        self.hold_inner(show_id, seat_ids, seconds, Some(key))
    }

    fn hold_inner<S: AsRef<str>>(
        &self,
        show_id: &str,
        seat_ids: &[S],
        seconds: i64,
        key: Option<&str>,
    ) -> Result<Hold> {
        let show_id = validate::show_id(show_id)?;
        let seat_ids = validate::seat_ids(seat_ids, validate::MAX_SEATS_PER_HOLD)?;
        let seconds = validate::hold_seconds(seconds)?;
        let hold_id = Uuid::new_v4();
        let outcome = self.with_conn(OnLost::Retry, |c, attempt| {
            // After a lost connection the first attempt may have committed: look for it.
            // With a key, a repeat of an earlier request is answered from its hold.
            if attempt > 0 || key.is_some() {
                if let Some(hold) = find(c, show_id, hold_id, key)? {
                    return same_request(hold, &seat_ids);
                }
            }
            match try_hold(c, show_id, &seat_ids, seconds, hold_id, key) {
                // Raced with a concurrent request carrying the same key: answer with its hold.
                Err(e) if key.is_some() && lost_key_race(&e) => {
                    match find(c, show_id, hold_id, key)? {
                        Some(hold) => same_request(hold, &seat_ids),
                        None => Err(e),
                    }
                }
                other => other,
            }
        });
        let counters = &self.inner.counters;
        match &outcome {
            Ok(_) => bump(&counters.holds_granted, 1),
            Err(Error::SeatsUnavailable { .. }) => bump(&counters.holds_refused, 1),
            Err(_) => {}
        }
        outcome
    }
}

fn try_hold(
    c: &mut Conn,
    show_id: &str,
    seat_ids: &[String],
    seconds: i64,
    hold_id: Uuid,
    key: Option<&str>,
) -> Result<Hold> {
    let rows = c.client.query_typed(
        HOLD_SQL,
        &[
            (&show_id, Type::TEXT),
            (&seat_ids, Type::TEXT_ARRAY),
            (&hold_id, Type::UUID),
            (&(seconds as f64), Type::FLOAT8),
            (&key, Type::TEXT),
        ],
    );
    let rows = rows?;
    let row = rows.first().ok_or(Error::ShowNotFound)?;
    if !row.get::<_, bool>("show_exists") {
        return Err(Error::ShowNotFound);
    }
    if row.get::<_, i64>("found") < seat_ids.len() as i64 {
        return Err(Error::InvalidSeatIds);
    }
    let taken: Vec<String> = row.get("taken");
    if !taken.is_empty() {
        return Err(Error::SeatsUnavailable { seat_ids: taken });
    }
    let expires_at: Option<DateTime<Utc>> = row.get("expires_at");
    let flipped: i64 = row.get("flipped");
    match expires_at {
        Some(expires_at) if flipped == seat_ids.len() as i64 => Ok(Hold {
            hold_id,
            show_id: show_id.to_owned(),
            seat_ids: seat_ids.to_vec(),
            expires_at,
        }),
        _ => Err(Error::Unavailable(
            format!("hold statement changed {flipped} of {} seats", seat_ids.len()).into(),
        )),
    }
}

/// A keyed hold that failed because a concurrent request with the same key won: the
/// request-key index said no (hold ids are fresh v4 UUIDs, so nothing else can), or the
/// winner took the seats first.
fn lost_key_race(e: &Error) -> bool {
    match e {
        Error::SeatsUnavailable { .. } => true,
        Error::Database(db) => classify(db) == DbFailure::UniqueViolation,
        _ => false,
    }
}

fn find(c: &mut Conn, show_id: &str, hold_id: Uuid, key: Option<&str>) -> Result<Option<Hold>> {
    let rows = c.client.query_typed(
        FIND_SQL,
        &[(&show_id, Type::TEXT), (&hold_id, Type::UUID), (&key, Type::TEXT)],
    )?;
    Ok(rows.first().map(|row| Hold {
        hold_id: row.get(0),
        show_id: show_id.to_owned(),
        seat_ids: row.get(1),
        expires_at: row.get(2),
    }))
}

/// A found hold answers a repeated request only if it asked for the same seats.
fn same_request(hold: Hold, seat_ids: &[String]) -> Result<Hold> {
    let mut a: Vec<&String> = hold.seat_ids.iter().collect();
    let mut b: Vec<&String> = seat_ids.iter().collect();
    a.sort();
    b.sort();
    if a == b {
        Ok(hold)
    } else {
        Err(Error::RequestKeyReused)
    }
}
