//! Seat maps: creating a show with its map, reading the map, blocking and unblocking seats.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use postgres::{CopyInWriter, Transaction};

use crate::error::{Error, InputError, Result};
use crate::seat_map::{Layout, MapBuilder, MapSeat, PlacedSeat, ShowMap, Stage};
use crate::{validate, Conn, OnLost, SeatCore};

/// The show row, or nothing when the show exists (waiting for a transaction that is
/// creating it to end). Returns the id of the transaction's first change record: the
/// show's `initialized` change, written last.
///
/// That wait lasts as long as the other initialize (bounded by the statement timeout), not
/// the lock timeout: a second initialize of a show being made answers `ShowExists` (or makes
/// the show, when the first fails), never `Busy` (`pool::past_lock_timeout`).
const CREATE_SQL: &str = "
INSERT INTO shows (show_id, seat_count, map_derived)
VALUES ($1, $2, $3)
ON CONFLICT (show_id) DO NOTHING
RETURNING seatcore_change_id(0)";

/// The seats, the map (unless it derives from the ids, see migrations/V8__lean_big_shows.sql)
/// and the `initialized` change of a new show, in PostgreSQL's binary COPY format, in the
/// transaction that creates the show row.
const COPY_SEATS_SQL: &str = "COPY seats (show_id, seat_no, seat_id) FROM STDIN (FORMAT binary)";
const COPY_MAP_SQL: &str = "COPY seat_map (show_id, seat_no, section, row_label, position, category, \
                            accessible, rank) FROM STDIN (FORMAT binary)";
const COPY_CHANGE_SQL: &str = "COPY changes (id, kind, show_id, seat_ids) FROM STDIN (FORMAT binary)";

/// The planner's statistics of the seats' show column. Until they know a new show, the
/// planner takes it for a handful of rows, and a statement planned for its arguments (a
/// block, an unblock) scans the show's whole seat map (147 ms instead of 1.5 for 200,000
/// seats). Only that column, so it costs one sample of the table.
const ANALYZE_SQL: &str = "ANALYZE seats (show_id)";

/// When a new show's planner statistics are taken ([`ANALYZE_SQL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Statistics {
    /// Before the initialize returns.
    Now,
    /// By the next [`SeatCore::settle_statistics`]: the caller answers its client first.
    Owed,
}

/// A show's map, in map order, and whether it derives from the ids (then the map's columns
/// are NULL). A stored map's seats are those with a map row, as an inner join gives them.
const MAP_SQL: &str = "
SELECT s.seat_id, m.section, m.row_label, m.position, m.category, m.accessible, m.rank,
       (SELECT map_derived FROM shows WHERE show_id = $1) AS derived
FROM seats s LEFT JOIN seat_map m ON m.show_id = s.show_id AND m.seat_no = s.seat_no
WHERE s.show_id = $1 AND (m.seat_no IS NOT NULL OR (SELECT map_derived FROM shows WHERE show_id = $1))
ORDER BY s.seat_no";

/// Lock the named seats in seat-map order; if every one exists and none is held or booked,
/// block them (clearing what an expired hold left) and record the change. Returns how many
/// were found, the taken ones, and whether the show exists. Holds are judged by the clock
/// once every seat is locked (the scalar subquery runs once, after reading all of `locked`),
/// not by `now()`, the statement's start: a block that waited for a seat past its hold's
/// expiry finds the seat free.
const BLOCK_SQL: &str = "
WITH locked AS MATERIALIZED (
    SELECT seat_no, seat_id, booking_id, hold_expires_at FROM seats
    WHERE show_id = $1 AND seat_id = ANY ($2)
    ORDER BY seat_no
    FOR UPDATE
), verdict AS MATERIALIZED (
    SELECT count(*) AS found,
           coalesce(array_agg(seat_id ORDER BY seat_no)
                    FILTER (WHERE booking_id IS NOT NULL
                            OR hold_expires_at > (SELECT clock_timestamp() FROM (SELECT count(*) FROM locked) every)),
                    '{}') AS taken
    FROM locked
), ok AS (
    SELECT 1 FROM verdict WHERE found = cardinality($2) AND cardinality(taken) = 0
), blocked AS (
    UPDATE seats s SET block_reason = $3, hold_id = NULL, hold_expires_at = NULL
    FROM locked l
    WHERE s.show_id = $1 AND s.seat_no = l.seat_no AND EXISTS (SELECT 1 FROM ok)
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids)
    SELECT seatcore_change_id(0), 'blocked', $1, $2 FROM ok
)
SELECT found, taken, EXISTS (SELECT 1 FROM shows WHERE show_id = $1) FROM verdict";

/// Lock the named seats in seat-map order; if every one exists, unblock them and record
/// the change. Returns how many were found, and whether the show exists.
const UNBLOCK_SQL: &str = "
WITH locked AS MATERIALIZED (
    SELECT seat_no FROM seats
    WHERE show_id = $1 AND seat_id = ANY ($2)
    ORDER BY seat_no
    FOR UPDATE
), ok AS (
    SELECT 1 WHERE (SELECT count(*) FROM locked) = cardinality($2)
), freed AS (
    UPDATE seats s SET block_reason = NULL
    FROM locked l
    WHERE s.show_id = $1 AND s.seat_no = l.seat_no AND EXISTS (SELECT 1 FROM ok)
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids)
    SELECT seatcore_change_id(0), 'unblocked', $1, $2 FROM ok
)
SELECT (SELECT count(*) FROM locked), EXISTS (SELECT 1 FROM shows WHERE show_id = $1)";

/// A seat of a map from the first columns of a row: seat id, section, row, position,
/// category, accessible, rank (as [`MAP_SQL`] reads them).
pub(crate) fn placed_seat(r: &postgres::Row) -> Result<PlacedSeat<'_>> {
    Ok(PlacedSeat {
        seat_id: r.try_get(0)?,
        section: r.try_get(1)?,
        row: r.try_get(2)?,
        position: r.try_get::<_, Option<i32>>(3)?.and_then(|p| u32::try_from(p).ok()),
        category: r.try_get(4)?,
        accessible: r.try_get(5)?,
        rank: r.try_get(6)?,
    })
}

/// One attempt at a map read (see [`SeatCore::seat_map_each`]): the rows one at a time, as
/// they arrive, never all of them at once.
fn map_once(
    c: &mut Conn,
    show_id: &str,
    each: &mut impl FnMut(PlacedSeat<'_>),
    handed: &mut bool,
) -> Result<u64> {
    let mut rows = c.client.query_typed_raw(MAP_SQL, [(show_id, Type::TEXT)])?;
    let Some(first) = rows.next()? else { return Err(Error::ShowNotFound) };
    if first.try_get::<_, Option<bool>>(7)? == Some(true) {
        let mut ids = MapBuilder::ids();
        ids.push_id(first.try_get(0)?);
        while let Some(r) = rows.next()? {
            ids.push_id(r.try_get(0)?);
        }
        let layout = derived_map(show_id, ids)?;
        for seat in layout.seats() {
            *handed = true;
            each(seat);
        }
        return Ok(layout.len() as u64);
    }
    *handed = true;
    each(placed_seat(&first)?);
    let mut n = 1;
    while let Some(r) = rows.next()? {
        each(placed_seat(&r)?);
        n += 1;
    }
    Ok(n)
}

/// The map of a show made from a flat list of ids, from its seat ids given in map order to
/// a [`MapBuilder::ids`].
pub(crate) fn derived_map(show_id: &str, ids: MapBuilder) -> Result<Layout> {
    // The ids were checked when the show was made, and the database keeps them unique:
    // only rows changed behind seatcore's back fail here.
    ids.finish().map_err(|e| {
        Error::Unavailable(format!("the seat ids of show {show_id:?} do not make a seat map ({e})").into())
    })
}

/// Longest block reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;

impl SeatCore {
    /// Creates a show with its seat map (a flat list of seat ids: rows and positions come
    /// from ids like `A1`; see [`crate::seat_map`]). Seat ids are trimmed. Returns the seat count.
    ///
    /// Errors: `InvalidInput` (more than [`validate::MAX_SEATS_PER_SHOW`] seats or none,
    /// then a bad show id, then empty/over-long seat ids, then duplicates), `ShowExists`.
    pub fn initialize_show<S: AsRef<str>>(&self, show_id: &str, seat_ids: &[S]) -> Result<usize> {
        validate::seat_count(seat_ids.len(), validate::MAX_SEATS_PER_SHOW)?;
        let mut map = MapBuilder::ids();
        map.reserve(seat_ids.len(), seat_ids.iter().map(|s| s.as_ref().len()).sum());
        for id in seat_ids {
            map.push_id(id.as_ref());
        }
        self.initialize_built(show_id, map)
    }

    /// Creates a show with a structured seat map: sections, rows, positions, categories,
    /// accessibility and ranks ([`crate::seat_map::resolve`]'s rules and defaults).
    /// Returns the seat count.
    ///
    /// Errors: `InvalidInput` (a bad show id first, then the map's first problem, with the
    /// index of the seat at fault where there is one), `ShowExists`.
    pub fn initialize_map(&self, show_id: &str, seats: &[MapSeat]) -> Result<usize> {
        let show_id = validate::show_id(show_id)?;
        let mut map = MapBuilder::map();
        map.reserve(seats.len(), seats.iter().map(|s| s.seat_id.len()).sum());
        for seat in seats {
            map.push(seat.spec());
        }
        self.initialize_built(show_id, map)
    }

    /// Creates a show from a map built seat by seat ([`MapBuilder`]): the show id is
    /// checked first, then the map. Returns the seat count.
    ///
    /// One transaction: the show row and its `initialized` change, then the seats and the
    /// map streamed to PostgreSQL with `COPY`, straight from the compact map.
    ///
    /// Errors: as [`SeatCore::initialize_map`].
    pub fn initialize_built(&self, show_id: &str, map: MapBuilder) -> Result<usize> {
        self.initialize_checked(show_id, map, None, Statistics::Now)
    }

    /// [`SeatCore::initialize_built`], with the map's problems up to `before_show_id`
    /// reported before a bad show id (a REST body is read before its path is looked at),
    /// and the new show's planner statistics taken now or left owed.
    pub(crate) fn initialize_checked(
        &self,
        show_id: &str,
        map: MapBuilder,
        before_show_id: Option<Stage>,
        statistics: Statistics,
    ) -> Result<usize> {
        if let Some(stage) = before_show_id {
            map.check(stage)?;
        }
        let show_id = validate::show_id(show_id)?;
        let layout = map.finish()?;
        self.create_show(show_id, &layout, statistics)
    }

    /// Brings the planner's statistics up to date with the shows created since the last
    /// call whose statistics were left owed (an initialize over HTTP, answered first: the
    /// server calls this on a thread of its own, so that the reply does not wait for it).
    /// Until then a statement planned for its arguments (a block, an unblock) is slower on
    /// such a show, never wrong; the holds, bookings and releases that run as functions
    /// keep generic plans, which do not depend on the show. Nothing to do (no round trip)
    /// when nothing is owed. An `ANALYZE` that fails (no connection, a lock wait past the
    /// lock timeout) leaves the statistics owed, for the next call.
    pub fn settle_statistics(&self) {
        if self.inner.statistics_owed.swap(false, Ordering::AcqRel) {
            // Without the caller's deadline: the request it came with is answered.
            let core = SeatCore { inner: Arc::clone(&self.inner), deadline: None };
            if core.with_conn(OnLost::Fail, |c, _| Ok(c.client.batch_execute(ANALYZE_SQL)?)).is_err() {
                self.inner.statistics_owed.store(true, Ordering::Release);
            }
        }
    }

    fn create_show(&self, show_id: &str, layout: &Layout, statistics: Statistics) -> Result<usize> {
        let seat_count = i32::try_from(layout.len()).unwrap_or(i32::MAX);
        // The rows go in the order of the unique (show_id, seat_id) index (the ids' byte
        // order: their collation is "C"), each entry beside the one before: that index fills
        // faster and packed (some 40 % smaller than from rows in map order), the primary key
        // (show_id, seat_no), whose keys compare faster, less packed; the two together are
        // smaller and the load is faster (docs/bench.md). Sorted before a connection is
        // taken, so the transaction waits for nothing but the database. Each seat is sorted
        // by its id's first eight bytes first (one integer comparison, which settles all
        // but ids that share them), then by the whole id.
        let mut order: Vec<(u64, u32)> =
            (0..layout.len() as u32).map(|i| (id_prefix(layout.seat_id(i)), i)).collect();
        order.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| layout.seat_id(a.1).cmp(layout.seat_id(b.1)))
        });
        self.with_conn(OnLost::Fail, |c, _| {
            let mut tx = c.client.transaction()?;
            let derived = layout.is_flat();
            let created = crate::pool::past_lock_timeout(&mut tx, |tx| {
                Ok(tx.query_typed(
                    CREATE_SQL,
                    &[(&show_id, Type::TEXT), (&seat_count, Type::INT4), (&derived, Type::BOOL)],
                )?)
            })?;
            let Some(change_id) = created.first().map(|r| r.get::<_, i64>(0)) else {
                return Err(Error::ShowExists);
            };
            let mut seats = BinaryRows::start(&mut tx, COPY_SEATS_SQL)?;
            for &(_, i) in &order {
                seats.row(3)?;
                seats.text(show_id);
                seats.int4(seat_no(i as usize));
                seats.text(layout.seat_id(i));
            }
            seats.finish()?;
            if !derived {
                copy_map(&mut tx, show_id, layout)?;
            }
            let mut log = BinaryRows::start(&mut tx, COPY_CHANGE_SQL)?;
            log.row(4)?;
            log.int8(change_id);
            log.text("initialized");
            log.text(show_id);
            log.text_array(layout.seat_ids(), layout.seat_ids_bytes())?;
            log.finish()?;
            tx.commit()?;
            // A bulk load wants an ANALYZE. Best effort: a role that may not analyze still
            // gets its show.
            match statistics {
                Statistics::Now => {
                    let _ = c.client.batch_execute(ANALYZE_SQL);
                }
                Statistics::Owed => self.inner.statistics_owed.store(true, Ordering::Release),
            }
            self.notify_changes(&mut c.client);
            Ok(layout.len())
        })
    }

    /// A show's map, in map order. `ShowNotFound` for an unknown show.
    ///
    /// With a reader ([`Options::read_url`](crate::Options::read_url)), a standby serves it.
    /// A map is written once, with its show, and never changes: a standby has all of it or
    /// none (then the primary is asked), so a map read is never behind.
    pub fn seat_map(&self, show_id: &str) -> Result<ShowMap> {
        let mut seats = Vec::new();
        self.seat_map_each(show_id, |seat| seats.push(seat.to_entry()))?;
        Ok(ShowMap { show_id: show_id.to_owned(), seats })
    }

    /// Reads a show's map like [`SeatCore::seat_map`], handing each seat to `each` in map
    /// order instead of collecting them, and returns how many there were. A stored map's
    /// seats come as the database sends them; a map derived from the seat ids is settled
    /// once every id is in (the ids alone are kept meanwhile). `ShowNotFound` when no such
    /// show exists; `each` is then never called.
    pub fn seat_map_each(&self, show_id: &str, mut each: impl FnMut(PlacedSeat<'_>)) -> Result<u64> {
        let show_id = validate::show_id(show_id)?;
        // Whether `each` has seen a seat: from then on the read is never run again.
        let mut handed = false;
        self.read(|c, _| {
            map_once(c, show_id, &mut each, &mut handed).map_err(|e| if handed { e.broke_off() } else { e })
        })
    }

    /// Blocks seats (house seats, broken seats), all or none: a blocked seat cannot be held
    /// or booked until it is unblocked, and a reset leaves it blocked. Blocking a blocked
    /// seat again is fine (the reason is replaced). Returns the seats, trimmed.
    ///
    /// Errors: `InvalidInput`, `ShowNotFound`, `InvalidSeatIds` (a seat not on the map),
    /// `SeatsUnavailable` (some are held or booked, listed in seat-map order).
    pub fn block<S: AsRef<str>>(
        &self,
        show_id: &str,
        seat_ids: &[S],
        reason: Option<&str>,
    ) -> Result<Vec<String>> {
        let show_id = validate::show_id(show_id)?;
        let seat_ids = validate::seat_ids(seat_ids, validate::MAX_SEATS_PER_SHOW)?;
        let reason = reason.unwrap_or("");
        if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
            return Err(InputError::BlockReason { max: MAX_REASON_CHARS }.into());
        }
        self.with_conn(OnLost::Retry, |c, _| {
            let rows = c.client.query_typed(
                BLOCK_SQL,
                &[(&show_id, Type::TEXT), (&seat_ids, Type::TEXT_ARRAY), (&reason, Type::TEXT)],
            )?;
            let row = rows.first().ok_or(Error::ShowNotFound)?;
            if !row.get::<_, bool>(2) {
                return Err(Error::ShowNotFound);
            }
            if row.get::<_, i64>(0) < seat_ids.len() as i64 {
                return Err(Error::InvalidSeatIds);
            }
            let taken: Vec<String> = row.get(1);
            if !taken.is_empty() {
                return Err(Error::SeatsUnavailable { seat_ids: taken });
            }
            self.notify_changes(&mut c.client);
            Ok(seat_ids.clone())
        })
    }

    /// Unblocks seats, all or none (seats that are not blocked stay as they are). Returns
    /// the seats, trimmed.
    ///
    /// Errors: `InvalidInput`, `ShowNotFound`, `InvalidSeatIds`.
    pub fn unblock<S: AsRef<str>>(&self, show_id: &str, seat_ids: &[S]) -> Result<Vec<String>> {
        let show_id = validate::show_id(show_id)?;
        let seat_ids = validate::seat_ids(seat_ids, validate::MAX_SEATS_PER_SHOW)?;
        self.with_conn(OnLost::Retry, |c, _| {
            let rows = c
                .client
                .query_typed(UNBLOCK_SQL, &[(&show_id, Type::TEXT), (&seat_ids, Type::TEXT_ARRAY)])?;
            let row = rows.first().ok_or(Error::ShowNotFound)?;
            if !row.get::<_, bool>(1) {
                return Err(Error::ShowNotFound);
            }
            if row.get::<_, i64>(0) < seat_ids.len() as i64 {
                return Err(Error::InvalidSeatIds);
            }
            self.notify_changes(&mut c.client);
            Ok(seat_ids.clone())
        })
    }
}

/// The first eight bytes of `id` as a big-endian integer, zeros past its end: of two ids
/// whose prefixes differ, the smaller prefix is the smaller id in byte order.
fn id_prefix(id: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = id.len().min(8);
    bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// The seat number of the `i`-th seat of a map (from 0): its position in the map, from 1.
fn seat_no(i: usize) -> i32 {
    i32::try_from(i + 1).unwrap_or(i32::MAX)
}

/// Writes a show's map (its seats' places, categories and ranks) by `COPY`.
fn copy_map(tx: &mut Transaction<'_>, show_id: &str, layout: &Layout) -> Result<()> {
    let mut map = BinaryRows::start(tx, COPY_MAP_SQL)?;
    for (i, seat) in layout.seats().enumerate() {
        map.row(8)?;
        map.text(show_id);
        map.int4(seat_no(i));
        map.text(seat.section);
        match seat.row {
            Some(row) => map.text(row),
            None => map.null(),
        }
        match seat.position {
            Some(p) => map.int4(i32::try_from(p).unwrap_or(i32::MAX)),
            None => map.null(),
        }
        map.text(seat.category);
        map.bool(seat.accessible);
        map.float8(seat.rank);
    }
    map.finish()?;
    Ok(())
}

/// Bytes handed to PostgreSQL at a time during a `COPY`.
const COPY_PIECE: usize = 64 * 1024;

/// Rows written in PostgreSQL's binary `COPY` format (a header, then per row its field
/// count and each field as a length and big-endian bytes, then a trailer), and handed over
/// in pieces of [`COPY_PIECE`] bytes. `postgres::binary_copy` would do the encoding, but it
/// hands every row to the driver on its own, which costs more than the row for a big map
/// (measured for 200,000 rows of three fields: 0.11 s of CPU against 0.006 s), and it
/// writes a value, such as the 200,000 ids of the `initialized` change, in one piece.
struct BinaryRows<'a> {
    out: CopyInWriter<'a>,
    buf: Vec<u8>,
}

impl<'a> BinaryRows<'a> {
    fn start(tx: &'a mut Transaction<'_>, sql: &str) -> Result<BinaryRows<'a>> {
        let out = tx.copy_in(sql)?;
        let mut buf = Vec::with_capacity(COPY_PIECE + 1024);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        // flags, then the length of the header extension: none
        buf.extend_from_slice(&0i32.to_be_bytes());
        buf.extend_from_slice(&0i32.to_be_bytes());
        Ok(BinaryRows { out, buf })
    }

    /// Starts a row of `fields` fields.
    fn row(&mut self, fields: i16) -> Result<()> {
        self.send_if_full()?;
        self.buf.extend_from_slice(&fields.to_be_bytes());
        Ok(())
    }

    fn send_if_full(&mut self) -> Result<()> {
        if self.buf.len() >= COPY_PIECE {
            self.send()?;
        }
        Ok(())
    }

    /// A one-dimensional `text[]` of `ids` (without NULLs), whose texts are `bytes` long
    /// together, written as it goes: the array's length, its header (dimensions, no NULLs,
    /// element type, size, lower bound 1), then each element as a field is.
    fn text_array<'s>(&mut self, ids: impl ExactSizeIterator<Item = &'s str>, bytes: usize) -> Result<()> {
        let n = ids.len();
        // At most 500,000 ids of at most 256 bytes: far below 2 GiB.
        self.buf.extend_from_slice(&((20 + 4 * n + bytes) as i32).to_be_bytes());
        for word in [1, 0, Type::TEXT.oid() as i32, n as i32, 1] {
            self.buf.extend_from_slice(&word.to_be_bytes());
        }
        for id in ids {
            self.send_if_full()?;
            self.text(id);
        }
        Ok(())
    }

    fn field(&mut self, bytes: &[u8]) {
        // Fields are at most a few hundred bytes (seat ids, names and show ids are bounded).
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    fn text(&mut self, s: &str) {
        self.field(s.as_bytes());
    }

    fn int4(&mut self, v: i32) {
        self.field(&v.to_be_bytes());
    }

    fn int8(&mut self, v: i64) {
        self.field(&v.to_be_bytes());
    }

    fn float8(&mut self, v: f64) {
        self.field(&v.to_be_bytes());
    }

    fn bool(&mut self, v: bool) {
        self.field(&[u8::from(v)]);
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn send(&mut self) -> Result<()> {
        self.out.write_all(&self.buf).map_err(copy_failed)?;
        self.buf.clear();
        Ok(())
    }

    /// Ends the data and the `COPY`; returns the rows written.
    fn finish(mut self) -> Result<u64> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.send()?;
        Ok(self.out.finish()?)
    }
}

/// The database's failure behind a `COPY` write.
fn copy_failed(e: std::io::Error) -> Error {
    match e.into_inner().map(|inner| inner.downcast::<postgres::Error>()) {
        Some(Ok(db)) => Error::from(*db),
        Some(Err(other)) => Error::Unavailable(other),
        None => Error::Unavailable("writing to the database failed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::id_prefix;

    #[test]
    fn ids_sorted_by_prefix_then_whole_are_in_byte_order() {
        let ids = [
            "",
            "A",
            "A\0",
            "A\0B",
            "AB",
            "A10",
            "A9",
            "ABCDEFGG~",
            "ABCDEFGH",
            "ABCDEFGH\0",
            "ABCDEFGHI",
            "S100000",
            "S99999",
            "Z",
            "z",
            "é",
            "éa",
        ];
        for a in ids {
            for b in ids {
                if id_prefix(a) < id_prefix(b) {
                    assert!(a.as_bytes() < b.as_bytes(), "{a:?} ordered before {b:?}");
                }
            }
        }
        let mut by_prefix = ids.to_vec();
        by_prefix.reverse();
        by_prefix.sort_by(|a, b| id_prefix(a).cmp(&id_prefix(b)).then_with(|| a.cmp(b)));
        let mut by_bytes = ids.to_vec();
        by_bytes.reverse();
        by_bytes.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(by_prefix, by_bytes);
    }
}
