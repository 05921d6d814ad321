//! Seat maps: creating a show with its map, reading the map, blocking and unblocking seats.

use postgres::types::Type;

use crate::error::{Error, InputError, Result};
use crate::seat_map::{self, MapEntry, MapSeat, ShowMap};
use crate::{validate, OnLost, SeatCore};

/// One statement: the show row, its seats, its map and its `initialized` change, or nothing
/// when the show exists.
const INITIALIZE_SQL: &str = "
WITH new_show AS (
    INSERT INTO shows (show_id, seat_count)
    VALUES ($1, cardinality($2::text[]))
    ON CONFLICT (show_id) DO NOTHING
    RETURNING show_id
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids)
    SELECT seatcore_change_id(0), 'initialized', show_id, $2 FROM new_show
), mapped AS (
    INSERT INTO seat_map (show_id, seat_no, section, row_label, position, category, accessible, rank)
    SELECT new_show.show_id, t.seat_no::integer, t.section, t.row_label, t.position, t.category,
           t.accessible, t.rank
    FROM new_show,
         unnest($3::text[], $4::text[], $5::int4[], $6::text[], $7::bool[], $8::float8[])
             WITH ORDINALITY AS t (section, row_label, position, category, accessible, rank, seat_no)
)
INSERT INTO seats (show_id, seat_no, seat_id)
SELECT new_show.show_id, t.seat_no::integer, t.seat_id
FROM new_show, unnest($2::text[]) WITH ORDINALITY AS t (seat_id, seat_no)";

const ANALYZE_SQL: &str = "ANALYZE seats (show_id)";

/// A show's map, in map order.
const MAP_SQL: &str = "
SELECT s.seat_id, m.section, m.row_label, m.position, m.category, m.accessible, m.rank
FROM seats s JOIN seat_map m ON m.show_id = s.show_id AND m.seat_no = s.seat_no
WHERE s.show_id = $1
ORDER BY s.seat_no";

/// Lock the named seats in seat-map order; if every one exists and none is held or booked,
/// block them (clearing what an expired hold left) and record the change. Returns how many
/// were found, the taken ones, and whether the show exists.
const BLOCK_SQL: &str = "
WITH locked AS MATERIALIZED (
    SELECT seat_no, seat_id, booking_id, hold_expires_at FROM seats
    WHERE show_id = $1 AND seat_id = ANY ($2)
    ORDER BY seat_no
    FOR UPDATE
), verdict AS MATERIALIZED (
    SELECT count(*) AS found,
           coalesce(array_agg(seat_id ORDER BY seat_no)
                    FILTER (WHERE booking_id IS NOT NULL OR hold_expires_at > now()), '{}') AS taken
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

/// Longest block reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;

impl SeatCore {
    /// Creates a show with its seat map (a flat list of seat ids: rows and positions come
    /// from ids like `A1`; see [`seat_map`]). Seat ids are trimmed. Returns the seat count.
    ///
    /// Errors: `InvalidInput` (bad show id, empty/duplicate/over-long seat ids, more than
    /// [`validate::MAX_SEATS_PER_SHOW`]), `ShowExists`.
    pub fn initialize_show<S: AsRef<str>>(&self, show_id: &str, seat_ids: &[S]) -> Result<usize> {
        validate::seat_count(seat_ids.len(), validate::MAX_SEATS_PER_SHOW)?;
        let seats: Vec<MapSeat> = seat_ids.iter().map(|s| MapSeat::flat(s.as_ref())).collect();
        self.initialize_map(show_id, &seats)
    }

    /// Creates a show with a structured seat map: sections, rows, positions, categories,
    /// accessibility and ranks ([`seat_map::resolve`] checks it and fills in defaults).
    /// Returns the seat count.
    ///
    /// Errors: `InvalidInput` (with the index of the seat at fault where there is one),
    /// `ShowExists`.
    pub fn initialize_map(&self, show_id: &str, seats: &[MapSeat]) -> Result<usize> {
        let show_id = validate::show_id(show_id)?;
        let map = seat_map::resolve(seats)?;
        let seat_ids: Vec<&str> = map.iter().map(|e| e.seat_id.as_str()).collect();
        let sections: Vec<&str> = map.iter().map(|e| e.section.as_str()).collect();
        let rows: Vec<Option<&str>> = map.iter().map(|e| e.row.as_deref()).collect();
        let positions: Vec<Option<i32>> =
            map.iter().map(|e| e.position.map(|p| i32::try_from(p).unwrap_or(i32::MAX))).collect();
        let categories: Vec<&str> = map.iter().map(|e| e.category.as_str()).collect();
        let accessible: Vec<bool> = map.iter().map(|e| e.accessible).collect();
        let ranks: Vec<f64> = map.iter().map(|e| e.rank).collect();
        self.with_conn(OnLost::Fail, |c, _| {
            let inserted = c.client.execute_typed(
                INITIALIZE_SQL,
                &[
                    (&show_id, Type::TEXT),
                    (&seat_ids, Type::TEXT_ARRAY),
                    (&sections, Type::TEXT_ARRAY),
                    (&rows, Type::TEXT_ARRAY),
                    (&positions, Type::INT4_ARRAY),
                    (&categories, Type::TEXT_ARRAY),
                    (&accessible, Type::BOOL_ARRAY),
                    (&ranks, Type::FLOAT8_ARRAY),
                ],
            )?;
            if inserted == 0 {
                return Err(Error::ShowExists);
            }
            // Until the planner's statistics know the new show, it takes the show for a
            // handful of rows and plans every hold as a scan of the whole seat map (300 ms
            // instead of 1 for 300k seats). A bulk load wants an ANALYZE; only the column the
            // estimates hinge on, so it costs one sample of the table. Best effort: a role
            // that may not analyze still gets its show.
            let _ = c.client.batch_execute(ANALYZE_SQL);
            self.notify_changes(&mut c.client);
            Ok(inserted as usize)
        })
    }

    /// A show's map, in map order. `ShowNotFound` for an unknown show.
    ///
    /// With a reader ([`Options::read_url`](crate::Options::read_url)), a standby serves it.
    /// A map is written once, with its show, and never changes: a standby has all of it or
    /// none (then the primary is asked), so a map read is never behind.
    pub fn seat_map(&self, show_id: &str) -> Result<ShowMap> {
        let show_id = validate::show_id(show_id)?;
        self.read(|c, _| {
            let rows = c.client.query_typed(MAP_SQL, &[(&show_id, Type::TEXT)])?;
            if rows.is_empty() {
                return Err(Error::ShowNotFound);
            }
            let seats = rows
                .iter()
                .map(|r| MapEntry {
                    seat_id: r.get(0),
                    section: r.get(1),
                    row: r.get(2),
                    position: r.get::<_, Option<i32>>(3).and_then(|p| u32::try_from(p).ok()),
                    category: r.get(4),
                    accessible: r.get(5),
                    rank: r.get(6),
                })
                .collect();
            Ok(ShowMap { show_id: show_id.to_owned(), seats })
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
