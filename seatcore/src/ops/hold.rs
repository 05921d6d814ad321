//! Holding seats: one statement, one round trip.

use postgres::types::{ToSql, Type};
use uuid::Uuid;

use crate::error::{classify, DbFailure, Error, Result};
use crate::ops::group::Request;
use crate::types::Hold;
use crate::{bump, validate, OnLost, SeatCore};
use postgres::GenericClient;

/// One seat: flip it if it is free, and record the hold and its change, in one statement
/// shaped like the least SQL a hold needs (`seatcore_hold_one`, migrations/functions/: planned once
/// per session). A statement that takes one row lock and waits for at most one can never
/// be part of a deadlock, so no ordering is needed. A seat that is taken in the statement's
/// snapshot is never locked: refusals do not queue behind each other. The hold's expiry, or
/// NULL when nothing was written.
const HOLD_ONE_SQL: &str = "SELECT seatcore_hold_one($1, $2, $3, $4, $5)";

/// Several seats: lock those that look free, in seat-map order (so overlapping holds never
/// deadlock), keeping only those still free once locked; if that is every requested seat,
/// record the hold and flip them, else change nothing (`seatcore_hold_many`,
/// migrations/functions/). Seats taken in the statement's snapshot are never locked, so a crowd of
/// refused callers does not queue on them. The hold's expiry, or NULL.
const HOLD_MANY_SQL: &str = "SELECT seatcore_hold_many($1, $2, $3, $4, $5)";

/// Why holds were refused: run only after a refusal, as its own statement
/// (`seatcore_refusals`, migrations/functions/: planned once per session).
const REFUSALS_SQL: &str = "SELECT seat_id, taken, seat_no FROM seatcore_refusals($1, $2)";

/// How often a refused hold whose seats all look free a moment later is tried again
/// (the seats were released or expired in between).
const REFUSAL_RETRIES: u32 = 3;

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
        self.hold_with_key(show_id, seat_ids, seconds, None)
    }

    /// Like [`SeatCore::hold`], made safe to retry after a lost reply when a `request_key` is
    /// given (`None`: exactly [`SeatCore::hold`]): the first call with a given key for a show
    /// makes the hold; a repeat with the same key returns that same hold (even if it has
    /// expired since) for as long as the hold exists, that is until it is booked, released,
    /// or swept after expiry. A repeat that asks for other seats than the hold has (after a
    /// partial release, the first request's seats are other seats) fails with
    /// `RequestKeyReused`. Concurrent calls with one key make one hold and all get it.
    pub fn hold_with_key<S: AsRef<str>>(
        &self,
        show_id: &str,
        seat_ids: &[S],
        seconds: i64,
        request_key: Option<&str>,
    ) -> Result<Hold> {
        let key = request_key.map(validate::request_key).transpose()?;
        let show_id = validate::show_id(show_id)?;
        let seat_ids = validate::seat_ids(seat_ids, validate::MAX_SEATS_PER_HOLD)?;
        let seconds = validate::hold_seconds(seconds)?;
        let hold_id = Uuid::new_v4();
        if key.is_none() && self.inner.group_holds {
            let outcome = self.hold_grouped(show_id, Request { seat_ids, seconds, hold_id });
            self.count_hold(&outcome);
            return outcome;
        }
        let outcome = self.with_conn(OnLost::Retry, |c, attempt| {
            // After a lost connection the first attempt may have committed: look for it.
            // With a key, a repeat of an earlier request is answered from its hold.
            if attempt > 0 || key.is_some() {
                if let Some(hold) = find(&mut c.client, show_id, hold_id, key)? {
                    return same_request(hold, &seat_ids);
                }
            }
            let mut again = true;
            loop {
                match try_hold(&mut c.client, show_id, &seat_ids, seconds, hold_id, key) {
                    // Raced with a concurrent request carrying the same key: answer with its
                    // hold. When that hold is gone already (booked or released in between),
                    // the key is free again and this request goes once more.
                    Err(e) if key.is_some() && lost_key_race(&e) => {
                        match find(&mut c.client, show_id, hold_id, key)? {
                            Some(hold) => return same_request(hold, &seat_ids),
                            None if again && matches!(e, Error::Database(_)) => again = false,
                            None => return Err(e),
                        }
                    }
                    Ok(hold) => {
                        self.notify_changes(&mut c.client);
                        return Ok(hold);
                    }
                    other => return refused_on_retry(&mut c.client, show_id, hold_id, attempt, other)?,
                }
            }
        });
        self.count_hold(&outcome);
        outcome
    }

    pub(crate) fn count_hold(&self, outcome: &Result<Hold>) {
        let counters = &self.inner.counters;
        match outcome {
            Ok(_) => bump(&counters.holds_granted, 1),
            Err(Error::SeatsUnavailable { .. }) => bump(&counters.holds_refused, 1),
            Err(_) => {}
        }
    }
}

pub(crate) fn try_hold(
    c: &mut impl GenericClient,
    show_id: &str,
    seat_ids: &[String],
    seconds: i64,
    hold_id: Uuid,
    key: Option<&str>,
) -> Result<Hold> {
    let secs = seconds as f64;
    for _ in 0..=REFUSAL_RETRIES {
        // One seat flips without a lock phase; several are locked in seat-map order first.
        let (sql, seats): (_, (&(dyn ToSql + Sync), Type)) = match seat_ids {
            [seat] => (HOLD_ONE_SQL, (seat, Type::TEXT)),
            _ => (HOLD_MANY_SQL, (&seat_ids, Type::TEXT_ARRAY)),
        };
        let rows = c.query_typed(
            sql,
            &[
                (&show_id, Type::TEXT),
                seats,
                (&hold_id, Type::UUID),
                (&secs, Type::FLOAT8),
                (&key, Type::TEXT),
            ],
        )?;
        if let Some(expires_at) = rows.first().and_then(|row| row.get::<_, Option<_>>(0)) {
            return Ok(Hold {
                hold_id,
                show_id: show_id.to_owned(),
                seat_ids: seat_ids.to_vec(),
                expires_at,
            });
        }
        let Some(seats) = asked_seats(c, show_id, seat_ids)? else {
            return Err(Error::ShowNotFound);
        };
        if seats.len() < seat_ids.len() {
            return Err(Error::InvalidSeatIds);
        }
        let taken: Vec<String> = seats.into_iter().filter(|s| s.taken).map(|s| s.seat_id).collect();
        if !taken.is_empty() {
            return Err(Error::SeatsUnavailable { seat_ids: taken });
        }
        // Every seat is free now: they were freed between the two statements. Again.
    }
    Err(Error::Busy(None))
}

/// An asked seat of a refused hold, as it is now.
pub(crate) struct AskedSeat {
    pub(crate) seat_id: String,
    /// Held, booked or blocked.
    pub(crate) taken: bool,
    pub(crate) seat_no: i32,
}

/// The asked seats the show has, in seat-map order, as they are now; `None` when there is
/// no such show.
pub(crate) fn asked_seats<S: ToSql + Sync>(
    c: &mut impl GenericClient,
    show_id: &str,
    seat_ids: &[S],
) -> Result<Option<Vec<AskedSeat>>> {
    let rows = c.query_typed(REFUSALS_SQL, &[(&show_id, Type::TEXT), (&seat_ids, Type::TEXT_ARRAY)])?;
    let mut show_exists = false;
    let mut seats = Vec::with_capacity(rows.len());
    for r in &rows {
        match r.get::<_, Option<String>>(0) {
            Some(seat_id) => seats.push(AskedSeat { seat_id, taken: r.get(1), seat_no: r.get(2) }),
            None => show_exists = r.get(1),
        }
    }
    Ok(show_exists.then_some(seats))
}

/// A keyed hold that failed because a concurrent request with the same key won: the
/// request-key index said no (hold ids are fresh v4 UUIDs, so nothing else can), or the
/// winner took the seats first.
pub(crate) fn lost_key_race(e: &Error) -> bool {
    match e {
        Error::SeatsUnavailable { .. } => true,
        Error::Database(db) => classify(db) == DbFailure::UniqueViolation,
        _ => false,
    }
}

pub(crate) fn find(
    c: &mut impl GenericClient,
    show_id: &str,
    hold_id: Uuid,
    key: Option<&str>,
) -> Result<Option<Hold>> {
    let params: [(&(dyn postgres::types::ToSql + Sync), Type); 3] =
        [(&show_id, Type::TEXT), (&hold_id, Type::UUID), (&key, Type::TEXT)];
    let rows = c.query_typed(FIND_SQL, &params)?;
    Ok(rows.first().map(|row| Hold {
        hold_id: row.get(0),
        show_id: show_id.to_owned(),
        seat_ids: row.get(1),
        expires_at: row.get(2),
    }))
}

/// The answer of attempt `attempt` at the hold `hold_id`: a refusal on a retry after a lost
/// connection stands only if the hold does not exist. The lost attempt may still have been
/// running (waiting for a seat's lock) when the retry looked for it, and committed while
/// the retry waited behind it for the same lock: the seats the retry found taken are the
/// hold's own. The outer error is a failure of that lookup.
pub(crate) fn refused_on_retry(
    c: &mut impl GenericClient,
    show_id: &str,
    hold_id: Uuid,
    attempt: u32,
    answer: Result<Hold>,
) -> Result<Result<Hold>> {
    if attempt > 0 && matches!(answer, Err(Error::SeatsUnavailable { .. })) {
        if let Some(hold) = find(c, show_id, hold_id, None)? {
            return Ok(Ok(hold));
        }
    }
    Ok(answer)
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
