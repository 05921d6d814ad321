//! Grouped holds: the holds of one show that arrive together are made by one transaction.
//!
//! The holds of a show queue as `queue` describes (a hold that arrives alone is made at
//! once, with the single-hold statement); a group of several is made this way:
//!   1. every requested seat that looks free is locked, in seat-map order, passing over
//!      any that another transaction has locked (the group never waits for a lock, so it
//!      never deadlocks and a lock held elsewhere delays none of its other holds);
//!   2. the holds are decided in queue order: a hold wins when each of its seats is locked
//!      and not claimed by an earlier winner of the group;
//!   3. the winners are recorded (seats, holds, change log);
//!   4. the transaction commits, and only then does any caller get its answer (each
//!      winner's as soon as the group has committed).
//!
//! A group of up to [`ONE_CALL_SEATS`] seats does steps 1 to 4 in one call of the database
//! function `seatcore_hold_group` (one round trip); a bigger one in a transaction of one
//! statement per step. When some holds lost, one more statement says why each lost (taken
//! seats, unknown seats, unknown show).
//!
//! So each hold stays all-or-none and independent: a hold is refused only for a seat that
//! is taken or that an earlier hold of the group won. A hold that lost only for seats that
//! were not taken (locked by another transaction, or freed since the lock statement's
//! snapshot) is left to its caller ([`Answer::Alone`]), who makes it with the single-hold
//! statement once the group is done, on its own connection, waiting for a lock as any
//! single hold does: it is decided after the group's winners, and holds up none of them.
//! Holds with a request key are made alone (their lookup of an earlier request is per key).

use std::collections::{HashMap, HashSet};

use postgres::types::{ToSql, Type};
use postgres::GenericClient;
use uuid::Uuid;

use crate::error::InputError;
use crate::error::{Error, Result};
use crate::ops::hold::{asked_seats, refused_on_retry, try_hold};
use crate::ops::queue::{in_order, together, Answer, Grouped, Queues, MAX_GROUP};
use crate::types::Hold;
use crate::{validate, OnLost, SeatCore};

/// Lock every requested seat that looks free and that no other transaction has locked, in
/// seat-map order (`seatcore_lock_free_seats`, migrations/functions/: planned once per session).
const LOCK_SQL: &str = "SELECT seat_no, seat_id FROM seatcore_lock_free_seats($1, $2)";

/// Record the winners: their seats flipped, their holds, their change records (the i-th
/// winner's record is the transaction's i-th) (`seatcore_record_holds`).
const RECORD_SQL: &str = "SELECT hold_id, expires_at FROM seatcore_record_holds($1, $2, $3, $4, $6, $5)";

/// A whole group in one call (`seatcore_hold_group`, migrations/functions/): each hold's expiry
/// (NULL: lost), and the seats locked free.
const GROUP_SQL: &str = "SELECT expires, locked_ids, locked_nos FROM seatcore_hold_group($1, $2, $3, $4, $5)";

/// One hold waiting to be made: validated, with its own id.
pub(crate) struct Request {
    pub(crate) seat_ids: Vec<String>,
    pub(crate) seconds: i64,
    pub(crate) hold_id: Uuid,
}

impl Grouped for Request {
    type Made = Hold;
    fn weight(&self) -> usize {
        self.seat_ids.len()
    }
    fn make(core: &SeatCore, show_id: &str, requests: &[&Request]) -> Vec<Answer<Hold>> {
        core.hold_group(show_id, requests)
    }
    fn alone(&self, core: &SeatCore, show_id: &str) -> Result<Hold> {
        core.hold_alone(show_id, self)
    }
}

/// The queues of grouped holds.
pub(crate) type Groups = Queues<Request, Hold>;

impl SeatCore {
    /// Makes a hold as part of a group of the show's holds that arrive together.
    pub(crate) fn hold_grouped(&self, show_id: &str, request: Request) -> Result<Hold> {
        self.inner.groups.run(self, show_id, request)
    }

    /// Makes one hold with the single-hold statement, which waits for a seat's lock.
    fn hold_alone(&self, show_id: &str, request: &Request) -> Result<Hold> {
        let Request { ref seat_ids, seconds, hold_id } = *request;
        self.with_conn(OnLost::Retry, |c, attempt| {
            if attempt > 0 {
                if let Some(hold) = crate::ops::hold::find(&mut c.client, show_id, hold_id, None)? {
                    return Ok(hold);
                }
            }
            let answer = try_hold(&mut c.client, show_id, seat_ids, seconds, hold_id, None);
            let hold = refused_on_retry(&mut c.client, show_id, hold_id, attempt, answer)??;
            self.notify_changes(&mut c.client);
            Ok(hold)
        })
    }

    /// Holds seats of one show for several requests at once, in one transaction: each
    /// request (seat ids, seconds) is all-or-none and independent, refused only for a seat
    /// that is taken or that an earlier request of the group won, or for its own bad input.
    /// The answers come in request order, once the group is durable. At most [`MAX_GROUP`]
    /// requests.
    pub fn hold_together<S: AsRef<str>>(&self, show_id: &str, requests: &[(&[S], i64)]) -> Vec<Result<Hold>> {
        let show_id = match validate::show_id(show_id) {
            Ok(id) => id,
            Err(e) => return requests.iter().map(|_| Err(Error::from(e.clone()))).collect(),
        };
        if requests.len() > MAX_GROUP {
            let e = InputError::TooManyRequests { max: MAX_GROUP };
            return requests.iter().map(|_| Err(Error::from(e.clone()))).collect();
        }
        let checked: Vec<Result<Request>> = requests
            .iter()
            .map(|(seats, seconds)| {
                Ok(Request {
                    seat_ids: validate::seat_ids(seats, validate::MAX_SEATS_PER_HOLD)?,
                    seconds: validate::hold_seconds(*seconds)?,
                    hold_id: Uuid::new_v4(),
                })
            })
            .collect();
        let count = checked.iter().filter(|r| r.is_ok()).count();
        let answers = together(checked, |valid| in_order(self, show_id, valid));
        if count > 0 {
            self.inner.groups.sizes().count(count);
        }
        for answer in &answers {
            self.count_hold(answer);
        }
        answers
    }

    /// Makes the holds of one show in one transaction; an answer per request, in order. A
    /// hold that lost only for seats that were not taken is left to be made alone.
    fn hold_group(&self, show_id: &str, requests: &[&Request]) -> Vec<Answer<Hold>> {
        let mut answers: Vec<Option<Answer<Hold>>> = requests.iter().map(|_| None).collect();
        let outcome = self.with_conn(OnLost::Retry, |c, attempt| {
            if attempt > 0 {
                // The lost attempt may have committed: its winners exist; the others go again.
                for (i, r) in requests.iter().enumerate() {
                    if answers[i].is_none() {
                        if let Some(hold) = crate::ops::hold::find(&mut c.client, show_id, r.hold_id, None)? {
                            answers[i] = Some(Answer::Made(Ok(hold)));
                        }
                    }
                }
            }
            let open: Vec<usize> = (0..requests.len()).filter(|&i| answers[i].is_none()).collect();
            let decided = group_transaction(&mut c.client, show_id, requests, &open)?;
            // The group is durable: its outcomes are kept before anything else can fail. On a
            // retry, a refusal may be the lost attempt's own hold, committed while this
            // attempt waited, and a seat passed over may be locked by the lost attempt, still
            // committing this very hold: those are settled here, where a refusal is looked up
            // by the hold's id (and go again when the lookup fails).
            let mut retried = Vec::new();
            for (i, outcome) in open.into_iter().zip(decided) {
                if attempt > 0
                    && matches!(
                        outcome,
                        Outcome::Again | Outcome::Decided(Err(Error::SeatsUnavailable { .. }))
                    )
                {
                    retried.push((i, outcome));
                    continue;
                }
                answers[i] = Some(match outcome {
                    Outcome::Decided(answer) => Answer::Made(answer),
                    Outcome::Again => Answer::Alone,
                });
            }
            self.notify_changes(&mut c.client);
            let retrying = !retried.is_empty();
            for (i, outcome) in retried {
                let r = requests[i];
                let answer = match outcome {
                    Outcome::Decided(refusal) => refusal,
                    Outcome::Again => {
                        match try_hold(&mut c.client, show_id, &r.seat_ids, r.seconds, r.hold_id, None) {
                            // Lost again: the next attempt looks for the hold by its id first.
                            Err(e) if c.client.is_closed() => return Err(e),
                            answer => answer,
                        }
                    }
                };
                answers[i] =
                    Some(Answer::Made(refused_on_retry(&mut c.client, show_id, r.hold_id, attempt, answer)?));
            }
            if retrying {
                self.notify_changes(&mut c.client);
            }
            Ok(())
        });
        answers
            .into_iter()
            .map(|a| match (&outcome, a) {
                (_, Some(answer)) => answer,
                (Err(e), None) => Answer::Made(Err(shared(e))),
                (Ok(()), None) => Answer::Made(Err(Error::Busy(None))),
            })
            .collect()
    }
}

#[cfg(feature = "test-support")]
impl SeatCore {
    /// How many holds of the show wait in its queue for a group.
    #[doc(hidden)]
    pub fn holds_queued(&self, show_id: &str) -> usize {
        self.inner.groups.queued(show_id)
    }
}

/// The failure of a group's transaction, for each of its holds: a busy database is busy
/// for all of them, and any other failure says that the database failed them.
pub(crate) fn shared(e: &Error) -> Error {
    match e {
        Error::Busy(_) => Error::Busy(None),
        other => Error::Unavailable(other.to_string().into()),
    }
}

/// A hold that lost in its group: its index, the seats earlier winners took (with their
/// numbers), and the seats the lock statement did not find free.
type Loser<'a> = (usize, Vec<(i32, String)>, Vec<&'a str>);

/// What a group's transaction decided for one of its holds.
pub(crate) enum Outcome {
    Decided(Result<Hold>),
    /// The lock statement passed over some of its seats and none of them is taken now
    /// (another transaction had them locked, or they were released or expired in between):
    /// make it alone, after the group.
    Again,
}

/// One attempt at the group `open` (indexes into `requests`): lock, decide, record, say why
/// the others lost, commit. A group of at most [`ONE_CALL_SEATS`] seats is made by one call
/// of `seatcore_hold_group` (one round trip, its own transaction; the losers are explained
/// after it); a bigger one by a transaction of three statements.
pub(crate) fn group_transaction(
    client: &mut impl GenericClient,
    show_id: &str,
    requests: &[&Request],
    open: &[usize],
) -> Result<Vec<Outcome>> {
    let seats: usize = open.iter().map(|&i| requests[i].seat_ids.len()).sum();
    if seats <= ONE_CALL_SEATS {
        return group_in_one_call(client, show_id, requests, open);
    }
    let mut tx = client.transaction()?;
    let wanted: Vec<&str> =
        distinct(open.iter().flat_map(|&i| requests[i].seat_ids.iter().map(String::as_str)));
    let rows = tx.query_typed(LOCK_SQL, &[(&show_id, Type::TEXT), (&wanted, Type::TEXT_ARRAY)])?;
    // Seat id -> seat number, of the seats locked free.
    let locked: HashMap<String, i32> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
    let (winners, losers) = decide(requests, open, &locked);

    let mut expires = HashMap::new();
    if !winners.is_empty() {
        let holds = arrays(requests, &winners);
        let seat_nos: Vec<i32> = holds.seat_ids.iter().map(|s| locked[*s]).collect();
        let mut params = holds.params(&show_id);
        params.push((&seat_nos, Type::INT4_ARRAY));
        let rows = tx.query_typed(RECORD_SQL, &params)?;
        for r in &rows {
            expires.insert(r.get::<_, Uuid>(0), r.get::<_, chrono::DateTime<chrono::Utc>>(1));
        }
    }
    let why = explain(&mut tx, show_id, losers)?;
    tx.commit()?;
    Ok(answers(show_id, requests, open, why, &expires))
}

/// Holds as the database functions take them: each hold's id and seconds, and every seat
/// with the (1-based) number of its hold among them.
struct Arrays<'a> {
    hold_ids: Vec<Uuid>,
    secs: Vec<f64>,
    hold_of: Vec<i64>,
    seat_ids: Vec<&'a str>,
}

/// The holds `which` (indexes into `requests`, in order) as [`Arrays`].
fn arrays<'a>(requests: &[&'a Request], which: &[usize]) -> Arrays<'a> {
    let mut out =
        Arrays { hold_ids: Vec::new(), secs: Vec::new(), hold_of: Vec::new(), seat_ids: Vec::new() };
    for (n, &i) in which.iter().enumerate() {
        let r = requests[i];
        out.hold_ids.push(r.hold_id);
        out.secs.push(r.seconds as f64);
        for seat in &r.seat_ids {
            out.hold_of.push(n as i64 + 1);
            out.seat_ids.push(seat.as_str());
        }
    }
    out
}

impl Arrays<'_> {
    /// `$1` to `$5` of the statements that take holds as arrays: the show, the holds' ids
    /// and seconds, and each seat's hold and id.
    fn params<'p>(&'p self, show_id: &'p &str) -> Vec<(&'p (dyn ToSql + Sync), Type)> {
        vec![
            (show_id, Type::TEXT),
            (&self.hold_ids, Type::UUID_ARRAY),
            (&self.secs, Type::FLOAT8_ARRAY),
            (&self.hold_of, Type::INT8_ARRAY),
            (&self.seat_ids, Type::TEXT_ARRAY),
        ]
    }
}

/// Most seats, over all its holds, of a group made by one call of the database function
/// `seatcore_hold_group` (whose checks compare arrays element by element); a bigger group
/// is made by a transaction of three statements.
pub const ONE_CALL_SEATS: usize = 256;

/// The group `open` in one call: lock, decide, record and commit by `seatcore_hold_group`;
/// then why the others lost (the same rule, decided again from the seats it locked free).
fn group_in_one_call(
    client: &mut impl GenericClient,
    show_id: &str,
    requests: &[&Request],
    open: &[usize],
) -> Result<Vec<Outcome>> {
    let holds = arrays(requests, open);
    let rows = client.query_typed(GROUP_SQL, &holds.params(&show_id))?;
    let row = rows.first().ok_or(Error::Busy(None))?;
    let made: Vec<Option<chrono::DateTime<chrono::Utc>>> = row.get(0);
    let locked_ids: Vec<String> = row.get(1);
    let locked_nos: Vec<i32> = row.get(2);
    let locked: HashMap<String, i32> = locked_ids.into_iter().zip(locked_nos).collect();
    let expires: HashMap<Uuid, chrono::DateTime<chrono::Utc>> =
        holds.hold_ids.iter().zip(made).filter_map(|(id, e)| Some((*id, e?))).collect();
    let (_, losers) = decide(requests, open, &locked);
    let why = explain(client, show_id, losers)?;
    Ok(answers(show_id, requests, open, why, &expires))
}

/// Decides the group in queue order: a hold wins when each of its seats is locked free
/// (`locked`) and not won by an earlier hold. A loser's seats are those an earlier winner
/// took, and those the lock statement did not find free (why: [`explain`]).
fn decide<'a>(
    requests: &'a [&Request],
    open: &[usize],
    locked: &HashMap<String, i32>,
) -> (Vec<usize>, Vec<Loser<'a>>) {
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut winners: Vec<usize> = Vec::new();
    let mut losers: Vec<Loser> = Vec::new();
    for &i in open {
        let seats = &requests[i].seat_ids;
        let free = |s: &String| locked.contains_key(s) && !claimed.contains(s.as_str());
        if seats.iter().all(free) {
            claimed.extend(seats.iter().map(String::as_str));
            winners.push(i);
        } else {
            let to_earlier: Vec<(i32, String)> = seats
                .iter()
                .filter(|s| claimed.contains(s.as_str()))
                .map(|s| (locked[s], s.clone()))
                .collect();
            let outside: Vec<&str> =
                seats.iter().filter(|s| !locked.contains_key(*s)).map(String::as_str).collect();
            losers.push((i, to_earlier, outside));
        }
    }
    (winners, losers)
}

/// Why each loser lost: the seats the lock statement did not find free were taken,
/// unknown, or the show is; a loser none of whose seats is taken now goes again alone.
fn explain(
    c: &mut impl GenericClient,
    show_id: &str,
    losers: Vec<Loser<'_>>,
) -> Result<HashMap<usize, Outcome>> {
    let mut why: HashMap<usize, Outcome> = HashMap::new();
    let asked: Vec<&str> = distinct(losers.iter().flat_map(|(_, _, outside)| outside.iter().copied()));
    let (mut show_exists, mut state) = (true, HashMap::new());
    if !asked.is_empty() {
        match asked_seats(c, show_id, &asked)? {
            Some(seats) => state.extend(seats.into_iter().map(|s| (s.seat_id, (s.taken, s.seat_no)))),
            None => show_exists = false,
        }
    }
    for (i, to_earlier, outside) in losers {
        let outcome = if !show_exists {
            Outcome::Decided(Err(Error::ShowNotFound))
        } else if outside.iter().any(|s| !state.contains_key(*s)) {
            Outcome::Decided(Err(Error::InvalidSeatIds))
        } else {
            let mut taken = to_earlier;
            taken.extend(outside.iter().filter(|s| state[**s].0).map(|s| (state[*s].1, (*s).to_owned())));
            taken.sort();
            if taken.is_empty() {
                Outcome::Again
            } else {
                Outcome::Decided(Err(Error::SeatsUnavailable {
                    seat_ids: taken.into_iter().map(|(_, s)| s).collect(),
                }))
            }
        };
        why.insert(i, outcome);
    }
    Ok(why)
}

/// Each open hold's outcome: the hold it won (its expiry in `expires`, what the database
/// recorded), else its loss (`why`).
fn answers(
    show_id: &str,
    requests: &[&Request],
    open: &[usize],
    mut why: HashMap<usize, Outcome>,
    expires: &HashMap<Uuid, chrono::DateTime<chrono::Utc>>,
) -> Vec<Outcome> {
    open.iter()
        .map(|&i| {
            let r = requests[i];
            match expires.get(&r.hold_id) {
                Some(&expires_at) => Outcome::Decided(Ok(Hold {
                    hold_id: r.hold_id,
                    show_id: show_id.to_owned(),
                    seat_ids: r.seat_ids.clone(),
                    expires_at,
                })),
                None => why.remove(&i).unwrap_or(Outcome::Decided(Err(Error::Busy(None)))),
            }
        })
        .collect()
}

/// The distinct seat ids of `seats`, in first-seen order.
fn distinct<'a>(seats: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    seats.filter(|s| seen.insert(*s)).collect()
}
