//! Creating a show and reading its status.

use chrono::{DateTime, Utc};
use postgres::binary_copy::BinaryCopyOutIter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use postgres::IsolationLevel;

use crate::error::{Error, Result};
use crate::pool::Conn;
use crate::types::{Seat, SeatCounts, SeatRef, SeatState, ShowStatus, StatusHead};
use crate::{validate, SeatCore};

/// What decides a show's status document, read before its seats (in the same snapshot):
/// the show's declared seat count (NULL when there is no such show), the version (every
/// change up to it is in this read, see migrations/V2__changes.sql), and for the entity tag
/// this show's records in this read (the newest and how many: a record that commits late,
/// below the newest, still adds one) and its live holds (a hold that runs out changes the
/// document without a record). Changes of other shows leave the tag alone. On a standby, the
/// commit time of the last transaction it replayed. Then how many seats the show's live hold
/// rows list and the sum of their marks (migrations/V8__lean_big_shows.sql), which the seats read
/// must match. The function (migrations/V11__status_head_planned_once.sql, planned once per
/// session) also names the show for [`STATUS_SQL`], which as the query of a `COPY` takes no
/// parameters, and sets the transaction's planner settings for it (see `status_once`).
const STATUS_HEAD_SQL: &str = "SELECT * FROM seatcore_status_head($1)";

/// Every seat in seat-map order: its id; its state by the database's clock (0 available,
/// 1 held, 2 booked, 3 blocked) plus [`INCONSISTENT`] when the row is not consistent (held
/// and booked at once, blocked but held or booked); a held seat's expiry; and a live held
/// seat's mark, summed against the hold rows' (see [`STATUS_HEAD_SQL`]). Four narrow
/// columns: a 200,000-seat read is mostly the cost of each column of each row. Streamed by
/// `COPY`: the database sends rows as it makes them while the caller takes them in.
const STATUS_SQL: &str = "
COPY (
SELECT s.seat_id,
       (CASE WHEN s.booking_id IS NOT NULL THEN 2
             WHEN s.block_reason IS NOT NULL THEN 3
             WHEN s.hold_expires_at > now() THEN 1
             ELSE 0 END
        + CASE WHEN s.hold_id IS NOT NULL AND s.booking_id IS NOT NULL THEN 4
               WHEN s.block_reason IS NOT NULL AND (s.hold_id IS NOT NULL OR s.booking_id IS NOT NULL) THEN 4
               ELSE 0 END)::int4 AS state,
       CASE WHEN s.booking_id IS NULL AND s.hold_expires_at > now()
            THEN s.hold_expires_at END AS hold_expires_at,
       CASE WHEN s.booking_id IS NULL AND s.block_reason IS NULL AND s.hold_expires_at > now()
            THEN seatcore_hold_mark(s.hold_id, s.seat_no, s.hold_expires_at) END AS mark
FROM seats s
WHERE s.show_id = current_setting('seatcore.status_show')
ORDER BY s.show_id, s.seat_no
) TO STDOUT (FORMAT binary)";

/// The types of [`STATUS_SQL`]'s columns.
const STATUS_TYPES: [Type; 4] = [Type::TEXT, Type::INT4, Type::TIMESTAMPTZ, Type::INT8];

/// Added to a seat's state code by [`STATUS_SQL`] when its row is inconsistent.
const INCONSISTENT: i32 = 4;

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
    // Rows in seat-map order straight off the (show_id, seat_no) index, so the first arrive
    // at once and nothing is sorted; left alone, the planner picks a parallel bitmap scan,
    // or once the table holds a dozen big shows a sequential scan, plus an on-disk sort of
    // the whole show (measured for 200,000 seats among 2.8 million: 0.19 s by the index,
    // 0.84 s by the scan and sort). The head sets the planner so, for this read-only
    // transaction only, whose one snapshot both statements see.
    let mut tx = c
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let top = tx.query_typed(STATUS_HEAD_SQL, &[(&show_id, Type::TEXT)])?;
    let Some(top) = top.first() else { return Err(Error::ShowNotFound) };
    let Some(declared) = top.get::<_, Option<i64>>(0) else { return Err(Error::ShowNotFound) };
    let mut counts = SeatCounts {
        invariants_valid: true,
        version: top.get(1),
        replayed_at: top.get(4),
        ..SeatCounts::default()
    };
    let seats = u64::try_from(declared).unwrap_or(0);
    if let Some(head) = head.take() {
        let etag = format!("\"{}.{}\"", top.get::<_, &str>(2), top.get::<_, i64>(3));
        if !head(&StatusHead { version: counts.version, etag, seats }) {
            return Ok(None);
        }
    }
    let listed = u64::try_from(top.get::<_, i64>(5)).unwrap_or(u64::MAX);
    let listed_marks = top.get::<_, &str>(6).parse::<i128>().ok();
    let mut held_marks = 0_i128;
    let mut rows = BinaryCopyOutIter::new(tx.copy_out(STATUS_SQL)?, &STATUS_TYPES);
    while let Some(row) = rows.next()? {
        let code = row.try_get::<i32>(1)?;
        let state = match code & !INCONSISTENT {
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
        counts.invariants_valid &= code & INCONSISTENT == 0;
        if let Some(mark) = row.try_get::<Option<i64>>(3)? {
            held_marks += i128::from(mark);
        }
        *handed = true;
        each(SeatRef {
            seat_id: row.try_get::<&str>(0)?,
            state,
            hold_expires_at: row.try_get::<Option<DateTime<Utc>>>(2)?,
        });
    }
    drop(rows);
    tx.commit()?;
    if counts.total == 0 {
        return Err(Error::ShowNotFound);
    }
    counts.invariants_valid &= seats == counts.total
        && counts.available + counts.held + counts.booked + counts.blocked == counts.total
        && listed == counts.held
        && listed_marks == Some(held_marks);
    Ok(Some(counts))
}
