//! Creating a show and reading its status.

use chrono::{DateTime, Utc};
use postgres::binary_copy::BinaryCopyOutIter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use postgres::{IsolationLevel, Row};

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
/// rows list and the sum of their marks (`seatcore_hold_mark`), which the seats read
/// must match. The function (`seatcore_status_head`, migrations/functions/, planned once per
/// session) also names the show for
/// [`STATUS_SQL`], which as the query of a `COPY` takes no parameters, and sets the
/// transaction's planner settings for it (see `status_once`).
const STATUS_HEAD_SQL: &str = "SELECT * FROM seatcore_status_head($1)";

/// Every seat in seat-map order (`seatcore_status_seats`): its id; its state
/// by the database's clock (0 available, 1 held, 2 booked, 3 blocked) plus [`INCONSISTENT`]
/// when the row is not consistent (held and booked at once, blocked but held or booked); a
/// held seat's expiry; and a live held seat's mark, summed against the hold rows' (see
/// [`STATUS_HEAD_SQL`]). Streamed by `COPY`: the database sends rows as it makes them while
/// the caller takes them in.
///
/// A row is a chunk of up to 1,024 consecutive places of the seat map (`seat_no`), each
/// column an array of the chunk's seats in seat-map order. A row is a message the driver
/// takes in with a fixed cost (entering its runtime, waking its connection task): with a row
/// per seat that cost is most of the caller's work in a big read (measured on a
/// 200,000-seat show: 150 to 220 ms of the server's CPU per read, against 30 to 70 ms in
/// chunks; docs/bench.md). The order holds by the plan's shape: a `LATERAL` join is a nested loop,
/// here over the chunk numbers in ascending order, and each chunk aggregates the rows of an
/// ordered subquery that the (show_id, seat_no) index serves. A chunk with no seat (a gap
/// in the places) is a row of NULLs.
const STATUS_SQL: &str = "
COPY (SELECT c.seat_ids, c.states, c.hold_expires_at, c.marks
      FROM generate_series(0, (SELECT max(s.seat_no) FROM seats s
                               WHERE s.show_id = current_setting('seatcore.status_show')) / 1024) g,
      LATERAL (SELECT array_agg(s.seat_id) AS seat_ids, array_agg(s.state) AS states,
                      array_agg(s.hold_expires_at) AS hold_expires_at, array_agg(s.mark) AS marks
               FROM (SELECT * FROM seatcore_status_seats(current_setting('seatcore.status_show')) s
                     WHERE s.seat_no >= g * 1024 AND s.seat_no < (g + 1) * 1024
                     ORDER BY s.seat_no) s) c) TO STDOUT (FORMAT binary)";

/// The types of [`STATUS_SQL`]'s columns.
const STATUS_TYPES: [Type; 4] =
    [Type::TEXT_ARRAY, Type::INT4_ARRAY, Type::TIMESTAMPTZ_ARRAY, Type::INT8_ARRAY];

/// The status of a show of at most [`SMALL_STATUS_SEATS`] seats in one statement, no transaction
/// (`seatcore_status_small`, planned once per session): the head's
/// columns in the first row, then the seats' columns (as [`STATUS_SQL`]'s) in one row each.
/// For a bigger show, or none, one row with the declared seat count alone (NULL for none).
const STATUS_SMALL_SQL: &str = "SELECT * FROM seatcore_status_small($1, $2)";

/// A show of at most this many seats is small: its status is read in one statement
/// ([`STATUS_SMALL_SQL`]), whose rows arrive together; a bigger one's is streamed.
pub const SMALL_STATUS_SEATS: u64 = 1_000;

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
    let small = SMALL_STATUS_SEATS as i64;
    let rows = c.client.query_typed(STATUS_SMALL_SQL, &[(&show_id, Type::TEXT), (&small, Type::INT8)])?;
    let Some(top) = rows.first() else { return Err(Error::ShowNotFound) };
    if top.get::<_, Option<i64>>(0).is_none_or(|declared| declared <= small) {
        let Some(mut tally) = Tally::start(top, head)? else { return Ok(None) };
        for row in &rows[1..] {
            *handed = true;
            tally.seat(row.try_get(7)?, row.try_get(8)?, row.try_get(9)?, row.try_get(10)?, each);
        }
        return tally.finish();
    }
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
    let Some(mut tally) = Tally::start(top, head)? else { return Ok(None) };
    let mut rows = BinaryCopyOutIter::new(tx.copy_out(STATUS_SQL)?, &STATUS_TYPES);
    while let Some(row) = rows.next()? {
        let Some(seat_ids) = row.try_get::<Option<Vec<&str>>>(0)? else { continue };
        let states: Vec<i32> = row.try_get(1)?;
        let expiries: Vec<Option<DateTime<Utc>>> = row.try_get(2)?;
        let marks: Vec<Option<i64>> = row.try_get(3)?;
        let seats = seat_ids.into_iter().zip(states).zip(expiries).zip(marks);
        for (((seat_id, code), hold_expires_at), mark) in seats {
            *handed = true;
            tally.seat(seat_id, code, hold_expires_at, mark, each);
        }
    }
    drop(rows);
    tx.commit()?;
    tally.finish()
}

/// A status read's counts as its seats go by, and what they must match at its end.
struct Tally {
    counts: SeatCounts,
    /// The show's declared seat count.
    declared: u64,
    /// Seats the show's live hold rows list, and the sum of their marks.
    listed: u64,
    listed_marks: Option<i128>,
    /// The sum of the marks of the live held seats read.
    held_marks: i128,
}

impl Tally {
    /// Starts from the head's row (the columns of `seatcore_status_head` first) and hands
    /// `head` the read's version, entity tag and seat count; `Ok(None)` when `head` stops
    /// the read. `ShowNotFound`, before `head`, when there is no such show.
    fn start(top: &Row, head: &mut Option<impl FnOnce(&StatusHead) -> bool>) -> Result<Option<Tally>> {
        let Some(declared) = top.get::<_, Option<i64>>(0) else { return Err(Error::ShowNotFound) };
        let declared = u64::try_from(declared).unwrap_or(0);
        let counts = SeatCounts {
            invariants_valid: true,
            version: top.get(1),
            replayed_at: top.get(4),
            ..SeatCounts::default()
        };
        if let Some(head) = head.take() {
            let etag = format!("\"{}.{}\"", top.get::<_, &str>(2), top.get::<_, i64>(3));
            if !head(&StatusHead { version: counts.version, etag, seats: declared }) {
                return Ok(None);
            }
        }
        Ok(Some(Tally {
            counts,
            declared,
            listed: u64::try_from(top.get::<_, i64>(5)).unwrap_or(u64::MAX),
            listed_marks: top.get::<_, &str>(6).parse::<i128>().ok(),
            held_marks: 0,
        }))
    }

    /// Counts one seat (the columns of [`STATUS_SQL`]) and hands it to `each`.
    fn seat(
        &mut self,
        seat_id: &str,
        code: i32,
        hold_expires_at: Option<DateTime<Utc>>,
        mark: Option<i64>,
        each: &mut impl FnMut(SeatRef<'_>),
    ) {
        let state = match code & !INCONSISTENT {
            3 => SeatState::Blocked,
            2 => SeatState::Booked,
            1 => SeatState::Held,
            _ => SeatState::Available,
        };
        let counts = &mut self.counts;
        match state {
            SeatState::Available => counts.available += 1,
            SeatState::Held => counts.held += 1,
            SeatState::Booked => counts.booked += 1,
            SeatState::Blocked => counts.blocked += 1,
        }
        counts.total += 1;
        counts.invariants_valid &= code & INCONSISTENT == 0;
        if let Some(mark) = mark {
            self.held_marks += i128::from(mark);
        }
        each(SeatRef { seat_id, state, hold_expires_at });
    }

    /// The counts, checked against the head; `ShowNotFound` when no seat was read.
    fn finish(self) -> Result<Option<SeatCounts>> {
        let mut counts = self.counts;
        if counts.total == 0 {
            return Err(Error::ShowNotFound);
        }
        counts.invariants_valid &= self.declared == counts.total
            && counts.available + counts.held + counts.booked + counts.blocked == counts.total
            && self.listed == counts.held
            && self.listed_marks == Some(self.held_marks);
        Ok(Some(counts))
    }
}
