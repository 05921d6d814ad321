//! Creating a show and reading its status.

use chrono::{DateTime, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;

use crate::error::{Error, Result};
use crate::pool::Conn;
use crate::types::{Seat, SeatCounts, SeatRef, SeatState, ShowStatus, StatusHead};
use crate::{validate, SeatCore};

/// Every seat in seat-map order with its state by the database's clock, the show's declared
/// seat count (once, as an init plan; NULL if the show row is missing), and whether the row is
/// consistent: never held and booked at once, and a live
/// hold backed by its hold row. The hold row is looked up by key for live-held seats only (a
/// scalar subquery, so never a scan of every hold of every show).
///
/// Also, once each (init plans): the version (every change up to it is in this read, see
/// migrations/V2__changes.sql) and what decides the document, for its entity tag: this
/// show's records in this read (the newest and how many: a record that commits late, below
/// the newest, still adds one) and its live holds (a hold that runs out changes the document
/// without a record). Changes of other shows leave the tag alone. On a standby, the commit
/// time of the last transaction it replayed.
const STATUS_SQL: &str = "
SELECT s.seat_id,
       CASE WHEN s.booking_id IS NOT NULL THEN 2
            WHEN s.block_reason IS NOT NULL THEN 3
            WHEN s.hold_expires_at > now() THEN 1
            ELSE 0 END::int4 AS state,
       CASE WHEN s.booking_id IS NULL AND s.hold_expires_at > now()
            THEN s.hold_expires_at END AS hold_expires_at,
       (SELECT seat_count FROM shows WHERE show_id = $1)::int8 AS declared,
       CASE WHEN s.hold_id IS NOT NULL AND s.booking_id IS NOT NULL THEN false
            WHEN s.block_reason IS NOT NULL AND (s.hold_id IS NOT NULL OR s.booking_id IS NOT NULL) THEN false
            WHEN s.hold_expires_at > now() THEN
                coalesce((SELECT h.expires_at = s.hold_expires_at AND h.show_id = s.show_id
                                 AND s.seat_no = ANY (h.seat_nos)
                          FROM holds h WHERE h.hold_id = s.hold_id), false)
            ELSE true END AS consistent,
       (SELECT coalesce(max(id), 0) FROM changes WHERE id < seatcore_change_horizon()) AS version,
       (SELECT coalesce(max(id), 0) || '.' || count(*) FROM changes WHERE show_id = $1) AS changes,
       (SELECT count(*) FROM holds WHERE show_id = $1 AND expires_at > now()) AS live_holds,
       (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_xact_replay_timestamp() END) AS replayed_at
FROM seats s
WHERE s.show_id = $1
ORDER BY s.show_id, s.seat_no";

impl SeatCore {
    /// Reads a show's status, handing each seat to `each` in seat-map order as it arrives
    /// from the database (nothing is collected), and returns the counts.
    ///
    /// The read is one statement, so it sees one consistent moment. `ShowNotFound` when no
    /// such show exists; `each` is then never called.
    pub fn seat_status_each(&self, show_id: &str, each: impl FnMut(SeatRef<'_>)) -> Result<SeatCounts> {
        self.seat_status_with(show_id, |_| true, each).map(|c| c.unwrap_or_default())
    }

    /// Like [`SeatCore::seat_status_each`], but first hands `head` the read's version, ETag
    /// and seat count, before any seat: when it returns false the read stops there and
    /// `Ok(None)` is returned (a client that has this document already, or a reader that
    /// will not take this many seats now).
    ///
    /// With a reader ([`Options::read_url`](crate::Options::read_url)), a standby serves the
    /// read; the counts then carry `replayed_at`, and `version` is what the standby holds.
    pub fn seat_status_with(
        &self,
        show_id: &str,
        head: impl FnOnce(&StatusHead) -> bool,
        mut each: impl FnMut(SeatRef<'_>),
    ) -> Result<Option<SeatCounts>> {
        let show_id = validate::show_id(show_id)?;
        let mut head = Some(head);
        // Whether `each` has seen a seat: from then on the read is never run again.
        let mut handed = false;
        self.read(|c, _| {
            status_once(c, show_id, &mut head, &mut each, &mut handed).map_err(|e| {
                if handed {
                    e.broke_off()
                } else {
                    e
                }
            })
        })
    }

    /// Reads a show's whole status: counts and every seat, in seat-map order.
    pub fn seat_status(&self, show_id: &str) -> Result<ShowStatus> {
        let mut seats = Vec::new();
        let counts = self.seat_status_each(show_id, |s| {
            seats.push(Seat {
                seat_id: s.seat_id.to_owned(),
                state: s.state,
                hold_expires_at: s.hold_expires_at,
            })
        })?;
        Ok(ShowStatus { show_id: show_id.to_owned(), counts, seats })
    }
}

/// One attempt at a status read (see [`SeatCore::seat_status_with`]).
fn status_once(
    c: &mut Conn,
    show_id: &str,
    head: &mut Option<impl FnOnce(&StatusHead) -> bool>,
    each: &mut impl FnMut(SeatRef<'_>),
    handed: &mut bool,
) -> Result<Option<SeatCounts>> {
    // Rows in seat-map order straight off the (show_id, seat_no) index, so the first
    // arrive at once and nothing is sorted; left alone, the planner may pick a parallel
    // bitmap scan plus an on-disk sort of the whole show (measured: 0.4 s vs 0.15 s for
    // 200,000 seats). Settings scoped to this read-only transaction.
    let mut tx = c.client.build_transaction().read_only(true).start()?;
    tx.batch_execute("SET LOCAL enable_bitmapscan = off; SET LOCAL max_parallel_workers_per_gather = 0")?;
    let mut rows = tx.query_typed_raw(STATUS_SQL, [(show_id, Type::TEXT)])?;
    let mut counts = SeatCounts { invariants_valid: true, ..SeatCounts::default() };
    let mut declared = None;
    while let Some(row) = rows.next()? {
        if counts.total == 0 {
            counts.version = row.get(5);
            counts.replayed_at = row.get(8);
            if let Some(head) = head.take() {
                let etag = format!("\"{}.{}\"", row.get::<_, &str>(6), row.get::<_, i64>(7));
                let seats = row.get::<_, Option<i64>>(3).and_then(|d| u64::try_from(d).ok()).unwrap_or(0);
                if !head(&StatusHead { version: counts.version, etag, seats }) {
                    return Ok(None);
                }
            }
        }
        let state = match row.get::<_, i32>(1) {
            3 => SeatState::Blocked,
            2 => SeatState::Booked,
            1 => SeatState::Held,
            _ => SeatState::Available,
        };
        match state {
            SeatState::Available => counts.available += 1,
            SeatState::Held => counts.held += 1,
            SeatState::Booked => counts.booked += 1,
            SeatState::Blocked => counts.blocked += 1,
        }
        counts.total += 1;
        declared = row.get::<_, Option<i64>>(3);
        counts.invariants_valid &= row.get::<_, bool>(4);
        *handed = true;
        each(SeatRef {
            seat_id: row.get::<_, &str>(0),
            state,
            hold_expires_at: row.get::<_, Option<DateTime<Utc>>>(2),
        });
    }
    drop(rows);
    tx.commit()?;
    if counts.total == 0 {
        return Err(Error::ShowNotFound);
    }
    counts.invariants_valid &= declared.and_then(|d| u64::try_from(d).ok()) == Some(counts.total)
        && counts.available + counts.held + counts.booked + counts.blocked == counts.total;
    Ok(Some(counts))
}
