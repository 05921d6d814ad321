//! Best-available holds: the best block of adjacent free seats of a show, held at once.
//!
//! Each process keeps a copy of a show's map and seat states (`best::Model`), loaded once
//! and brought up to date from the change log. The best-available holds of one show in one
//! process decide one at a time, and each sees every decision before it. Each is one
//! short transaction:
//!   1. under the show's lock (in this process), the copy is brought up to date with every
//!      change committed so far (the final part of the log is kept; the newest records, not
//!      final yet, are applied to a view of it), the blocks other threads are holding right
//!      now are marked taken in the view, and the transaction gets its id, so the log
//!      records the holds of a show in the order they were decided;
//!   2. the best block is chosen in memory (microseconds, whatever the show's size) and
//!      marked as being held; the lock is let go;
//!   3. the block is held by the same statement as a plain hold (lock the seats that look
//!      free, in seat-map order; hold only if that is every seat) and the transaction
//!      commits. A seat taken meanwhile (by a plain hold, or by another process) means
//!      another round from step 1, which then sees the seat taken.
//!
//! With `group_holds`, the requests of one show that arrive while two groups of it are
//! being made queue (`ops::queue`) and the next caller decides them all in one round:
//! one refresh, the blocks chosen in queue order (each on what the ones before it left),
//! then every block held by one grouped hold (`ops::group`) in the same transaction. A
//! request that arrives alone takes the round above at once.
//!
//! So the commits of one show's best-available holds overlap (group commit), and no two
//! threads of a process ever pick the same seat. Two processes may pick the same block at
//! once: the seat locks let one have it, and the other tries its next best. A request that
//! lost twice takes its next rounds in turn with the other such requests of the show,
//! cluster-wide (an advisory lock on the show until the round ends), and gives up (busy)
//! only after `lock_timeout` of lost rounds. Lock order: that advisory lock first, then the
//! plain hold's seats in seat-map order.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use postgres::GenericClient;
use uuid::Uuid;

use crate::best::{Filters, Model, ModelBuilder, State, MAX_COUNT};
use crate::error::{classify, DbFailure, Error, InputError, Result};
use crate::ops::changes::change;
use crate::ops::group::{self, Outcome};
use crate::ops::hold::{find, lost_key_race, try_hold};
use crate::ops::map::{derived_map, placed_seat};
use crate::ops::queue::{Answer, Grouped, Queues};
use crate::per_process::PerProcess;
use crate::seat_map::{MapBuilder, MAX_NAME_CHARS};
use crate::types::Hold;
use crate::{bump, validate, OnLost, SeatCore};

/// Shows whose copies a process keeps; past it, the least recently used goes.
const CACHED_SHOWS: usize = 32;

/// Rounds lost to other processes after which a request takes its rounds in turn with the
/// other such requests of the show, cluster-wide (an advisory lock on the show held until
/// its round ends), rather than racing them again.
const TAKE_TURNS_AFTER: usize = 2;

/// The advisory lock of a show's contended best-available rounds.
const TURN_SQL: &str = "SELECT pg_advisory_xact_lock(hashtextextended('seatcore.best:' || $1, 0))";

/// The show's map and seat states, the final id of the log they include, the database's
/// clock, and whether the map derives from the ids (then its columns are NULL; a stored
/// map's seats are those with a map row, as an inner join gives them): one statement, one
/// snapshot.
const LOAD_SQL: &str = "
SELECT s.seat_id, m.section, m.row_label, m.position, m.category, m.accessible, m.rank,
       s.hold_id, s.hold_expires_at, s.booking_id, s.block_reason IS NOT NULL AS blocked,
       (SELECT coalesce(max(id), 0) FROM changes WHERE id < seatcore_change_horizon()) AS final_id,
       now() AS db_now,
       (SELECT map_derived FROM shows WHERE show_id = $1) AS derived
FROM seats s LEFT JOIN seat_map m ON m.show_id = s.show_id AND m.seat_no = s.seat_no
WHERE s.show_id = $1 AND (m.seat_no IS NOT NULL OR (SELECT map_derived FROM shows WHERE show_id = $1))
ORDER BY s.seat_no";

/// The show's changes after `$2` (final or not), the horizon, and the database's clock
/// (one row with NULL changes when there are none); it gives the transaction its id
/// (`seatcore_best_refresh`, migrations/functions/: planned once per session). The columns of a
/// change come first, as `change` reads them.
const REFRESH_SQL: &str = "SELECT * FROM seatcore_best_refresh($1, $2)";

/// One show's copy: its state as of the final part of the log up to `cursor`, and the
/// blocks this process's threads are holding right now.
struct Copy {
    base: Model,
    cursor: i64,
    in_flight: HashMap<Uuid, Vec<usize>>,
    used: u64,
}

/// A show's copy (none until first used), and the signal that a block being held by a
/// thread of this process was held or given up.
#[derive(Default)]
struct Slot {
    copy: Mutex<Option<Copy>>,
    settled: Condvar,
}

/// How long a request with no block to take waits for the blocks other threads are holding
/// to settle, before it looks again anyway.
const SETTLE_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The copies of a process, by show. A child process after `fork()` starts with none: its
/// parent's threads may have been filling or using them.
#[derive(Default)]
pub(crate) struct Copies {
    shows: PerProcess<Mutex<HashMap<String, Arc<Slot>>>>,
    clock: std::sync::atomic::AtomicU64,
}

impl Copies {
    /// The slot of a show's copy; the least recently used copy goes when there are too many.
    fn slot(&self, show_id: &str) -> Arc<Slot> {
        let shows = self.shows.get();
        let mut shows = shows.lock().unwrap_or_else(|p| p.into_inner());
        if !shows.contains_key(show_id) && shows.len() >= CACHED_SHOWS {
            let oldest = shows
                .iter()
                .filter_map(|(k, v)| {
                    v.copy.try_lock().ok().map(|c| (c.as_ref().map_or(0, |c| c.used), k.clone()))
                })
                .min();
            if let Some((_, k)) = oldest {
                shows.remove(&k);
            }
        }
        Arc::clone(shows.entry(show_id.to_owned()).or_default())
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Checks a filter name.
fn filter(field: &'static str, raw: Option<&str>) -> Result<Option<String>, InputError> {
    match raw {
        Some(v) if v.chars().count() > MAX_NAME_CHARS || v.chars().any(char::is_control) => {
            Err(InputError::Filter {
                field,
                rule: "a string of at most 64 characters without control characters",
            })
        }
        v => Ok(v.map(str::to_owned)),
    }
}

impl SeatCore {
    /// Holds the best `count` adjacent seats of one row of `show_id` that match `filters`,
    /// for `seconds` (by the database's clock). The seats come in position order.
    ///
    /// Errors: `InvalidInput` (count not 1 to 50, bad filters, duration), `ShowNotFound`,
    /// `NoAdjacentSeats` (no block fits now; nothing was held).
    pub fn hold_best(&self, show_id: &str, count: usize, filters: &Filters, seconds: i64) -> Result<Hold> {
        self.hold_best_with_key(show_id, count, filters, seconds, None)
    }

    /// Like [`SeatCore::hold_best`], safe to retry after a lost reply when a `request_key` is
    /// given (`None`: exactly [`SeatCore::hold_best`]): a repeat with the same key returns the
    /// hold made under it, as long as it exists, whatever `count` and `filters` it asks for.
    /// Concurrent calls with one key make one hold and all get it.
    pub fn hold_best_with_key(
        &self,
        show_id: &str,
        count: usize,
        filters: &Filters,
        seconds: i64,
        request_key: Option<&str>,
    ) -> Result<Hold> {
        let key = request_key.map(validate::request_key).transpose()?;
        let show_id = validate::show_id(show_id)?;
        let request = BestRequest::checked(count, filters, seconds)?;
        let outcome = if key.is_none() && self.inner.group_holds {
            self.inner.best_groups.run(self, show_id, request)
        } else {
            self.hold_best_alone(show_id, &request, key)
        };
        self.count_best(&outcome);
        outcome
    }

    fn count_best(&self, outcome: &Result<Hold>) {
        let counters = &self.inner.counters;
        match outcome {
            Ok(_) => bump(&counters.holds_granted, 1),
            Err(Error::NoAdjacentSeats) => bump(&counters.holds_refused, 1),
            Err(_) => {}
        }
    }

    /// Holds, for each of `requests` (best-available requests of one show), the best
    /// block left by the requests before it. Each answer only once it is durable.
    ///
    /// Errors per request: as [`SeatCore::hold_best`].
    #[cfg(feature = "test-support")]
    pub fn hold_best_together(
        &self,
        show_id: &str,
        requests: &[(usize, &Filters, i64)],
    ) -> Vec<Result<Hold>> {
        let show_id = match validate::show_id(show_id) {
            Ok(id) => id,
            Err(e) => return requests.iter().map(|_| Err(Error::from(e.clone()))).collect(),
        };
        let checked: Vec<Result<BestRequest>> = requests
            .iter()
            .map(|(count, filters, seconds)| BestRequest::checked(*count, filters, *seconds))
            .collect();
        let answers =
            crate::ops::queue::together(checked, |valid| crate::ops::queue::in_order(self, show_id, valid));
        for answer in &answers {
            self.count_best(answer);
        }
        answers
    }

    /// One best-available hold, in rounds of its own (see the module's doc).
    fn hold_best_alone(&self, show_id: &str, request: &BestRequest, key: Option<&str>) -> Result<Hold> {
        let BestRequest { count, ref filters, seconds, hold_id } = *request;
        let slot = self.inner.copies.slot(show_id);
        self.with_conn(OnLost::Retry, |c, attempt| {
            // After a lost connection the first attempt may have committed; with a key, a
            // repeat is answered from the hold it made.
            if attempt > 0 || key.is_some() {
                if let Some(hold) = find(&mut c.client, show_id, hold_id, key)? {
                    return Ok(hold);
                }
            }
            // Every lost round is a hold another process made, so rounds go on while they
            // are lost, until the time a hold may wait on locks is up.
            let give_up = self.give_up_at(self.inner.primary.spec.lock_timeout);
            let mut lost = 0;
            while lost == 0 || Instant::now() < give_up {
                let mut tx = c.client.transaction()?;
                if lost >= TAKE_TURNS_AFTER {
                    tx.query_typed(TURN_SQL, &[(&show_id, Type::TEXT)])?;
                }
                let decision = {
                    let mut guard = slot.copy.lock().unwrap_or_else(|p| p.into_inner());
                    // The refresh also gives the transaction its id, so the holds of one
                    // show are recorded in the order this process decided them.
                    let free = refresh(&mut tx, show_id, &mut guard)?;
                    let copy = guard.as_mut().ok_or(Error::ShowNotFound)?;
                    copy.used = self.inner.copies.tick();
                    match copy.base.best_of(&free, count, filters) {
                        Some(block) => {
                            let seat_ids: Vec<String> =
                                block.seats.iter().map(|&i| copy.base.seat_id(i).to_owned()).collect();
                            copy.in_flight.insert(hold_id, block.seats);
                            Some(seat_ids)
                        }
                        None if copy.in_flight.is_empty() => return Err(Error::NoAdjacentSeats),
                        // Blocks other threads are holding right now may fail and come
                        // free: look again once one of them has settled.
                        None => {
                            let _settled = slot.settled.wait_timeout(guard, SETTLE_WAIT);
                            None
                        }
                    }
                };
                let Some(seats) = decision else { continue };
                let settle = Settle { slot: &slot, holds: vec![hold_id] };
                let held = try_hold(&mut tx, show_id, &seats, seconds, hold_id, key)
                    .and_then(|hold| tx.commit().map(|()| hold).map_err(Error::from));
                drop(settle);
                match held {
                    Ok(hold) => {
                        self.notify_changes(&mut c.client);
                        return Ok(hold);
                    }
                    // A concurrent request with the same key may have won (its hold took the
                    // key, or the seats): it answers this one. Otherwise the seats went to
                    // another hold, or the key's hold is gone already (booked or released in
                    // between, the key free again): another round.
                    Err(e) if key.is_some() && lost_key_race(&e) => {
                        if let Some(hold) = find(&mut c.client, show_id, hold_id, key)? {
                            return Ok(hold);
                        }
                        lost += 1;
                    }
                    // The hold's own id is taken: an attempt of this request whose connection
                    // was lost (in a group, before this request was left to its caller) made
                    // it in the meantime.
                    Err(Error::Database(e)) if classify(&e) == DbFailure::UniqueViolation => {
                        return find(&mut c.client, show_id, hold_id, None)?.ok_or(Error::Database(e));
                    }
                    // Taken since the copy was brought up to date: the next round sees it.
                    Err(Error::SeatsUnavailable { .. }) => lost += 1,
                    Err(e) => return Err(e),
                }
            }
            Err(Error::Busy(None))
        })
    }

    /// Several best-available holds of one show in one transaction: one refresh of the
    /// copy, the blocks chosen in queue order (each among the seats the ones before it left),
    /// then all held by one grouped hold (`ops::group`). A request that finds no block
    /// while blocks of other groups are in flight, or whose block lost a seat to another
    /// process or a plain hold, is left to be made alone by its caller once the group is
    /// done. Answers in order.
    fn best_group(&self, show_id: &str, requests: &[&BestRequest]) -> Vec<Answer<Hold>> {
        let slot = self.inner.copies.slot(show_id);
        let mut answers: Vec<Option<Result<Hold>>> = requests.iter().map(|_| None).collect();
        let outcome = self.with_conn(OnLost::Retry, |c, attempt| {
            if attempt > 0 {
                // The lost attempt may have committed: its winners exist; the others go again.
                for (i, r) in requests.iter().enumerate() {
                    if answers[i].is_none() {
                        if let Some(hold) = find(&mut c.client, show_id, r.hold_id, None)? {
                            answers[i] = Some(Ok(hold));
                        }
                    }
                }
            }
            let mut tx = c.client.transaction()?;
            let mut blocks: Vec<(usize, group::Request)> = Vec::new();
            let mut again: Vec<usize> = Vec::new();
            {
                let mut guard = slot.copy.lock().unwrap_or_else(|p| p.into_inner());
                let mut free = refresh(&mut tx, show_id, &mut guard)?;
                let copy = guard.as_mut().ok_or(Error::ShowNotFound)?;
                copy.used = self.inner.copies.tick();
                let others_in_flight = !copy.in_flight.is_empty();
                let open: Vec<usize> = (0..requests.len()).filter(|&i| answers[i].is_none()).collect();
                for i in open {
                    let r = requests[i];
                    match copy.base.best_of(&free, r.count, &r.filters) {
                        Some(block) => {
                            for &seat in &block.seats {
                                free[seat] = false;
                            }
                            let seat_ids =
                                block.seats.iter().map(|&s| copy.base.seat_id(s).to_owned()).collect();
                            copy.in_flight.insert(r.hold_id, block.seats);
                            blocks.push((
                                i,
                                group::Request { seat_ids, seconds: r.seconds, hold_id: r.hold_id },
                            ));
                        }
                        None if others_in_flight => again.push(i),
                        None => answers[i] = Some(Err(Error::NoAdjacentSeats)),
                    }
                }
            }
            let settle = Settle { slot: &slot, holds: blocks.iter().map(|(_, r)| r.hold_id).collect() };
            if blocks.is_empty() {
                return Ok(again);
            }
            let held: Vec<&group::Request> = blocks.iter().map(|(_, r)| r).collect();
            let every: Vec<usize> = (0..held.len()).collect();
            let outcomes = group::group_transaction(&mut tx, show_id, &held, &every)?;
            tx.commit()?;
            drop(settle);
            for ((i, _), outcome) in blocks.iter().zip(outcomes) {
                match outcome {
                    Outcome::Decided(Ok(hold)) => answers[*i] = Some(Ok(hold)),
                    // Taken since the copy was brought up to date: alone, it looks again.
                    Outcome::Decided(Err(Error::SeatsUnavailable { .. })) | Outcome::Again => again.push(*i),
                    Outcome::Decided(Err(e)) => answers[*i] = Some(Err(e)),
                }
            }
            self.notify_changes(&mut c.client);
            Ok(again)
        });
        match outcome {
            Ok(again) => {
                let mut answers: Vec<Answer<Hold>> =
                    answers.into_iter().map(|a| Answer::Made(a.unwrap_or(Err(Error::Busy(None))))).collect();
                for i in again {
                    answers[i] = Answer::Alone;
                }
                answers
            }
            Err(e) => answers
                .into_iter()
                .map(|a| Answer::Made(a.unwrap_or_else(|| Err(group::shared(&e)))))
                .collect(),
        }
    }
}

/// One best-available request: checked, with its own hold id.
pub(crate) struct BestRequest {
    count: usize,
    filters: Filters,
    seconds: i64,
    hold_id: Uuid,
}

impl BestRequest {
    fn checked(count: usize, filters: &Filters, seconds: i64) -> Result<BestRequest> {
        if !(1..=MAX_COUNT).contains(&count) {
            return Err(InputError::Count { max: MAX_COUNT }.into());
        }
        let filters = Filters {
            category: filter("category", filters.category.as_deref())?,
            section: filter("section", filters.section.as_deref())?,
            accessible: filters.accessible,
        };
        Ok(BestRequest { count, filters, seconds: validate::hold_seconds(seconds)?, hold_id: Uuid::new_v4() })
    }
}

impl Grouped for BestRequest {
    type Made = Hold;
    fn weight(&self) -> usize {
        self.count
    }
    fn make(core: &SeatCore, show_id: &str, requests: &[&BestRequest]) -> Vec<Answer<Hold>> {
        core.best_group(show_id, requests)
    }
    fn alone(&self, core: &SeatCore, show_id: &str) -> Result<Hold> {
        core.hold_best_alone(show_id, self, None)
    }
}

/// The queues of grouped best-available holds.
pub(crate) type BestGroups = Queues<BestRequest, Hold>;

/// Blocks being held by this process, marked in the show's copy: when it goes (held,
/// refused or failed), they are unmarked and the requests waiting for them look again.
struct Settle<'a> {
    slot: &'a Slot,
    holds: Vec<Uuid>,
}

impl Drop for Settle<'_> {
    fn drop(&mut self) {
        if let Some(copy) = self.slot.copy.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            for hold in &self.holds {
                copy.in_flight.remove(hold);
            }
        }
        self.slot.settled.notify_all();
    }
}

/// Brings the show's copy up to date (loading it the first time) and returns which seats
/// are free now, by seat index (the newest records applied, the blocks being held by this
/// process's threads taken), as [`Model::best_of`] reads it.
fn refresh(tx: &mut impl GenericClient, show_id: &str, copy: &mut Option<Copy>) -> Result<Vec<bool>> {
    if copy.is_none() {
        *copy = Some(load(tx, show_id)?);
    }
    let Some(current) = copy.as_mut() else { return Err(Error::ShowNotFound) };
    let rows = tx.query_typed(REFRESH_SQL, &[(&show_id, Type::TEXT), (&current.cursor, Type::INT8)])?;
    let Some(first) = rows.first() else { return Err(Error::ShowNotFound) };
    let horizon: i64 = first.get(8);
    let now: DateTime<Utc> = first.get(9);
    let mut pending = Vec::new();
    for row in rows.iter().filter(|r| r.get::<_, Option<i64>>(0).is_some()) {
        let change = change(row)?;
        if change.id < horizon {
            // Final: no record below it can appear any more.
            current.base.apply(&change);
            current.cursor = change.id;
        } else {
            pending.push(change);
        }
    }
    let mut free = current.base.free_after(&pending, now);
    for seats in current.in_flight.values() {
        for &seat in seats {
            free[seat] = false;
        }
    }
    Ok(free)
}

/// Reads a show's map and seat states, a row at a time. A map that derives from the ids is
/// derived once they are all read (their states kept meanwhile).
fn load(tx: &mut impl GenericClient, show_id: &str) -> Result<Copy> {
    let mut rows = tx.query_typed_raw(LOAD_SQL, [(show_id, Type::TEXT)])?;
    let mut model = ModelBuilder::new();
    let mut cursor = None;
    let mut derived: Option<(MapBuilder, Vec<State>)> = None;
    while let Some(r) = rows.next()? {
        let state = match (r.get::<_, Option<Uuid>>(9), r.get::<_, bool>(10), r.get::<_, Option<Uuid>>(7)) {
            (Some(booking), _, _) => State::Booked { booking },
            (None, true, _) => State::Blocked,
            (None, false, Some(hold)) => State::Held { hold, until: r.get(8) },
            (None, false, None) => State::Free,
        };
        cursor.get_or_insert(r.get::<_, i64>(11));
        if r.get::<_, Option<bool>>(13) == Some(true) {
            let (ids, states) = derived.get_or_insert_with(|| (MapBuilder::ids(), Vec::new()));
            ids.push_id(r.get(0));
            states.push(state);
        } else {
            model.push(&placed_seat(&r)?.to_entry(), state);
        }
    }
    let cursor = cursor.ok_or(Error::ShowNotFound)?;
    if let Some((ids, states)) = derived {
        let layout = derived_map(show_id, ids)?;
        for (seat, state) in layout.seats().zip(states) {
            model.push(&seat.to_entry(), state);
        }
    }
    Ok(Copy { base: model.finish(), cursor, in_flight: HashMap::new(), used: 0 })
}
