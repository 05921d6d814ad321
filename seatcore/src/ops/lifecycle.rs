//! Grouped extensions, partial releases and releases of whole holds: those of one show that
//! arrive together are made by one transaction, as holds are (`group`; the queues are
//! `queue`'s).
//!
//! A request that arrives alone is made at once by its own statements (`extend`,
//! `release_seats`, `release`). A group of several is one call of `seatcore_extend_group`,
//! `seatcore_release_group` or `seatcore_release_holds` (migrations/functions/):
//! each request whose hold stays live past the
//! call is made there, its hold row then its seats locked in seat-map order (the rule of
//! every statement, see `ops`), the holds taken in order of hold id so that two groups
//! never wait for each other in a cycle. Every other request of the group (a hold near its
//! expiry, missing, or whose seats do not carry it) is made alone by its caller once the
//! group has committed, by the statements that judge it by the clock once its row is
//! locked: its answer is the one it would have had alone a moment later. A group that waits
//! for a lock past the lock timeout (another transaction keeps a hold row or a seat locked)
//! writes nothing, and each caller makes its request alone: only those that want the locked
//! rows fail as busy, the others after the group's wait. Each caller gets its answer once
//! its change is durable.

use postgres::types::{ToSql, Type};
use uuid::Uuid;

use crate::error::{is_lock_timeout, Result};
use crate::ops::extend::is_assertion;
use crate::ops::group::shared;
use crate::ops::queue::{Answer, Grouped, Queues};
use crate::ops::release_seats::SeatsReleased;
use crate::types::Hold;
use crate::{bump, OnLost, SeatCore};

/// The extensions of a group that are made in it: a row (request number from 1, seat ids,
/// new expiry) for each (`seatcore_extend_group`).
const EXTEND_GROUP_SQL: &str = "SELECT i, seat_ids, expires_at FROM seatcore_extend_group($1, $2, $3, $4)";

/// The partial releases of a group that are made in it: a row (request number from 1, the
/// seats the hold keeps) for each (`seatcore_release_group`).
const RELEASE_GROUP_SQL: &str = "SELECT i, kept FROM seatcore_release_group($1, $2, $3, $4)";

/// The releases of whole holds of a group that are made in it: a row (request number from
/// 1) for each (`seatcore_release_holds`).
const RELEASE_HOLDS_SQL: &str = "SELECT i FROM seatcore_release_holds($1, $2)";

/// A request about one live hold, made in groups by one statement: `GROUP_SQL` takes the
/// show (`$1`) and the holds' ids (`$2`), then the parameters of its kind; its rows are the
/// requests it made (request number from 1 first). `ON_LOST` says whether a group may be
/// made again after a lost connection.
pub(crate) trait OnHold: Grouped {
    const GROUP_SQL: &'static str;
    const ON_LOST: OnLost;
    fn hold_id(&self) -> Uuid;
}

/// `OnHold` for a request type with a `hold_id` field: its group statement and lost-connection rule.
macro_rules! on_hold {
    ($request:ty, $sql:expr, $on_lost:expr) => {
        impl OnHold for $request {
            const GROUP_SQL: &'static str = $sql;
            const ON_LOST: OnLost = $on_lost;
            fn hold_id(&self) -> Uuid {
                self.hold_id
            }
        }
    };
}

// A repeat of extensions after a lost connection sets the expiries again, from a moment
// later: the same outcome as calls made a moment later.
on_hold!(Extension, EXTEND_GROUP_SQL, OnLost::Retry);
// Releases are not made again after a lost connection: a repeat of releases that did
// commit would wrongly answer that the seats are not in their holds, or the holds not found.
on_hold!(PartialRelease, RELEASE_GROUP_SQL, OnLost::Fail);
on_hold!(Release, RELEASE_HOLDS_SQL, OnLost::Fail);

/// A hold id as a request gives it: one that is not a UUID is simply not found.
fn hold_uuid(hold_id: &str) -> Result<Uuid> {
    Uuid::parse_str(hold_id.trim()).map_err(|_| crate::Error::HoldNotFound)
}

/// One extension waiting to be made (checked input).
pub(crate) struct Extension {
    pub(crate) hold_id: Uuid,
    pub(crate) seconds: i64,
}

impl Grouped for Extension {
    type Made = Hold;
    fn make(core: &SeatCore, show_id: &str, requests: &[&Extension]) -> Vec<Answer<Hold>> {
        let secs: Vec<f64> = requests.iter().map(|r| r.seconds as f64).collect();
        let life = core.inner.max_hold_life.as_secs_f64();
        core.make_lifecycle_group(
            show_id,
            requests,
            &[(&secs, Type::FLOAT8_ARRAY), (&life, Type::FLOAT8)],
            |r, row| Hold {
                hold_id: r.hold_id,
                show_id: show_id.to_owned(),
                seat_ids: row.get(1),
                expires_at: row.get(2),
            },
        )
    }
    fn alone(&self, core: &SeatCore, show_id: &str) -> Result<Hold> {
        core.extend_alone(show_id, self.hold_id, self.seconds)
    }
}

impl Extension {
    /// The request `extend` takes: `seconds` checked like a hold's; a hold id that is not a
    /// UUID is simply not found.
    pub(crate) fn checked(hold_id: &str, seconds: i64) -> Result<Extension> {
        let seconds = crate::validate::hold_seconds(seconds)?;
        let hold_id = hold_uuid(hold_id)?;
        Ok(Extension { hold_id, seconds })
    }
}

/// One partial release waiting to be made (checked input).
pub(crate) struct PartialRelease {
    pub(crate) hold_id: Uuid,
    pub(crate) seat_ids: Vec<String>,
}

impl PartialRelease {
    /// The request `release_seats` takes: seat ids checked and trimmed like a hold's; a hold
    /// id that is not a UUID is simply not found.
    pub(crate) fn checked<S: AsRef<str>>(hold_id: &str, seat_ids: &[S]) -> Result<PartialRelease> {
        let seat_ids = crate::validate::seat_ids(seat_ids, crate::validate::MAX_SEATS_PER_HOLD)?;
        let hold_id = hold_uuid(hold_id)?;
        Ok(PartialRelease { hold_id, seat_ids })
    }
}

impl Grouped for PartialRelease {
    type Made = SeatsReleased;
    fn weight(&self) -> usize {
        self.seat_ids.len()
    }
    fn make(core: &SeatCore, show_id: &str, requests: &[&PartialRelease]) -> Vec<Answer<SeatsReleased>> {
        let mut release_of: Vec<i64> = Vec::new();
        let mut seat_ids: Vec<&str> = Vec::new();
        for (n, r) in requests.iter().enumerate() {
            for seat in &r.seat_ids {
                release_of.push(n as i64 + 1);
                seat_ids.push(seat);
            }
        }
        core.make_lifecycle_group(
            show_id,
            requests,
            &[(&release_of, Type::INT8_ARRAY), (&seat_ids, Type::TEXT_ARRAY)],
            |r, row| {
                bump(&core.inner.counters.releases, 1);
                SeatsReleased {
                    hold_id: r.hold_id,
                    show_id: show_id.to_owned(),
                    seat_ids: r.seat_ids.clone(),
                    remaining_seat_ids: row.get(1),
                }
            },
        )
    }
    fn alone(&self, core: &SeatCore, show_id: &str) -> Result<SeatsReleased> {
        core.release_seats_alone(show_id, self.hold_id, &self.seat_ids)
    }
}

/// One release of a whole hold waiting to be made (checked input).
pub(crate) struct Release {
    pub(crate) hold_id: Uuid,
}

impl Grouped for Release {
    type Made = ();
    fn make(core: &SeatCore, show_id: &str, requests: &[&Release]) -> Vec<Answer<()>> {
        core.make_lifecycle_group(show_id, requests, &[], |_, _| bump(&core.inner.counters.releases, 1))
    }
    fn alone(&self, core: &SeatCore, show_id: &str) -> Result<()> {
        core.release_alone(show_id, self.hold_id)
    }
}

impl Release {
    /// The request `release` takes: a hold id that is not a UUID is simply not found.
    pub(crate) fn checked(hold_id: &str) -> Result<Release> {
        let hold_id = hold_uuid(hold_id)?;
        Ok(Release { hold_id })
    }
}

/// The queues of grouped extensions.
pub(crate) type Extensions = Queues<Extension, Hold>;

/// The queues of grouped releases of whole holds.
pub(crate) type Releases = Queues<Release, ()>;

/// The queues of grouped partial releases.
pub(crate) type PartialReleases = Queues<PartialRelease, SeatsReleased>;

impl SeatCore {
    /// Makes `requests` by their group statement ([`OnHold`]; `more` its parameters after
    /// the show and the holds), whose rows are the requests it made, each answered by
    /// `answer`; every other request is left to be made alone by its caller, every request
    /// when the statement waited for a lock past the lock timeout. Any other failure of the
    /// statement fails every request.
    fn make_lifecycle_group<R: OnHold<Made = A>, A>(
        &self,
        show_id: &str,
        requests: &[&R],
        more: &[(&(dyn ToSql + Sync), Type)],
        answer: impl Fn(&R, &postgres::Row) -> A,
    ) -> Vec<Answer<A>> {
        let hold_ids: Vec<Uuid> = requests.iter().map(|r| r.hold_id()).collect();
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> =
            vec![(&show_id, Type::TEXT), (&hold_ids, Type::UUID_ARRAY)];
        params.extend_from_slice(more);
        let made = self.with_conn(R::ON_LOST, |c, _| {
            let rows = match c.client.query_typed(R::GROUP_SQL, &params) {
                Ok(rows) => rows,
                // A seat did not carry its hold, or a hold row or seat stayed locked by
                // another transaction past the lock timeout: nothing was written; each goes
                // alone, so that a lock held elsewhere fails only the requests that wait for it.
                Err(e) if is_assertion(&e) || is_lock_timeout(&e) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            if !rows.is_empty() {
                self.notify_changes(&mut c.client);
            }
            Ok(rows)
        });
        let rows = match made {
            Ok(rows) => rows,
            Err(e) => return requests.iter().map(|_| Answer::Made(Err(shared(&e)))).collect(),
        };
        let mut answers: Vec<Answer<A>> = requests.iter().map(|_| Answer::Alone).collect();
        for row in &rows {
            let i = row.get::<_, i32>(0) as usize - 1;
            answers[i] = Answer::Made(Ok(answer(requests[i], row)));
        }
        answers
    }
}

#[cfg(feature = "test-support")]
impl SeatCore {
    /// Extends holds of one show as one group, whatever else is queued: each request (hold
    /// id, seconds) checked as [`SeatCore::extend`] checks it; the answers in order.
    #[doc(hidden)]
    pub fn extend_together(&self, show_id: &str, requests: &[(&str, i64)]) -> Vec<Result<Hold>> {
        together(show_id, requests.iter().map(|(id, secs)| Extension::checked(id, *secs)), |valid| {
            crate::ops::queue::in_order(self, show_id, valid)
        })
    }

    /// Releases seats of holds of one show as one group, whatever else is queued: each
    /// request (hold id, seat ids) checked as [`SeatCore::release_seats`] checks it; the
    /// answers in order.
    #[doc(hidden)]
    pub fn release_seats_together(
        &self,
        show_id: &str,
        requests: &[(&str, &[&str])],
    ) -> Vec<Result<SeatsReleased>> {
        together(show_id, requests.iter().map(|(id, seats)| PartialRelease::checked(id, seats)), |valid| {
            crate::ops::queue::in_order(self, show_id, valid)
        })
    }
}

#[cfg(feature = "test-support")]
impl SeatCore {
    /// Releases whole holds of one show as one group, whatever else is queued: each hold id
    /// checked as [`SeatCore::release`] checks it; the answers in order.
    #[doc(hidden)]
    pub fn release_together(&self, show_id: &str, hold_ids: &[&str]) -> Vec<Result<()>> {
        together(show_id, hold_ids.iter().map(|id| Release::checked(id)), |valid| {
            crate::ops::queue::in_order(self, show_id, valid)
        })
    }
}

/// The answers, in order, to `checked` requests of show `show_id`: a bad one answered by
/// its own error, the others made by one call of `make`.
#[cfg(feature = "test-support")]
fn together<R, A>(
    show_id: &str,
    checked: impl Iterator<Item = Result<R>>,
    make: impl FnOnce(&[&R]) -> Vec<Result<A>>,
) -> Vec<Result<A>> {
    let checked: Vec<Result<R>> =
        checked.map(|r| crate::validate::show_id(show_id).map_err(crate::Error::from).and(r)).collect();
    crate::ops::queue::together(checked, make)
}
