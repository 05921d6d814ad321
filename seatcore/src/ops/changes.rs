//! Reading the change log: a show's history, page by page, and the log's tail across all
//! shows for a process that fans changes out to watchers.
//!
//! Every read returns only records below the horizon (see migrations/V2__changes.sql): the
//! records of transactions older than any still in flight. So a reader that passes each
//! page's `next` as the following `after` never misses a committed record, whatever order
//! the writing transactions committed in.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postgres::types::{ToSql, Type};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Error, InputError, Result};
use crate::types::{optional_timestamp, timestamp};
use crate::{validate, Conn, OnLost, SeatCore};

/// Most records one page may carry.
pub const MAX_PAGE: u32 = 1000;
/// Records per page when none is asked for.
pub const DEFAULT_PAGE: u32 = 100;
/// Seat ids after which a page ends, whatever its `limit`: a page carries records until
/// they name this many seats, the record that reaches it included (a record is never
/// split, so a page always has at least one). What a page holds in memory is bounded by
/// this plus one record, not by `limit` records of whole-show size.
pub const MAX_PAGE_SEATS: u32 = 10_000;

/// What happened to seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// A show was created with its seat map (`seat_ids`: the whole map).
    Initialized,
    /// Seats were held (`hold_id`, `expires_at`).
    Held,
    /// A live hold was given a new expiry (`expires_at`).
    Extended,
    /// Seats of a live hold were released early: all of them, or the ones listed.
    Released,
    /// A hold ran out of time. Its seats were free from `expires_at` on, unless held again
    /// since (by a later `held` of another hold).
    Expired,
    /// A hold was booked (`booking_id` = `hold_id`).
    Booked,
    /// A booking was cancelled; its seats are free.
    Cancelled,
    /// Seats were blocked by the house.
    Blocked,
    /// Blocked seats were released by the house.
    Unblocked,
    /// An administrative reset freed these seats of the show.
    Reset,
}

impl ChangeKind {
    /// The kind's name, as in records and event streams.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Initialized => "initialized",
            ChangeKind::Held => "held",
            ChangeKind::Extended => "extended",
            ChangeKind::Released => "released",
            ChangeKind::Expired => "expired",
            ChangeKind::Booked => "booked",
            ChangeKind::Cancelled => "cancelled",
            ChangeKind::Blocked => "blocked",
            ChangeKind::Unblocked => "unblocked",
            ChangeKind::Reset => "reset",
        }
    }

    fn parse(name: &str) -> Option<ChangeKind> {
        Some(match name {
            "initialized" => ChangeKind::Initialized,
            "held" => ChangeKind::Held,
            "extended" => ChangeKind::Extended,
            "released" => ChangeKind::Released,
            "expired" => ChangeKind::Expired,
            "booked" => ChangeKind::Booked,
            "cancelled" => ChangeKind::Cancelled,
            "blocked" => ChangeKind::Blocked,
            "unblocked" => ChangeKind::Unblocked,
            "reset" => ChangeKind::Reset,
            _ => return None,
        })
    }
}

/// One record of the change log. Serializes to the contract's `{"id", "at", "kind",
/// "show_id", "seat_ids"}` plus `hold_id`, `booking_id`, `expires_at` where they apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Grows with every record a reader sees; pass it as `after` to read on.
    pub id: i64,
    #[serde(serialize_with = "timestamp")]
    pub at: DateTime<Utc>,
    pub kind: ChangeKind,
    pub show_id: String,
    pub seat_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<Uuid>,
    #[serde(serialize_with = "optional_timestamp", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A page of changes, oldest first. Serializes to `{"changes": [...], "next": id}`, plus
/// `replayed_at` when a standby served it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// The `after` of the next page: every record up to it has been returned (or filtered
    /// out), now and for good.
    pub next: i64,
    /// Set when a standby served the page ([`Options::read_url`](crate::Options::read_url)):
    /// the commit time of the last transaction it had replayed. Records the primary
    /// committed after it come in later pages. `None` from a primary.
    #[serde(serialize_with = "optional_timestamp", skip_serializing_if = "Option::is_none")]
    pub replayed_at: Option<DateTime<Utc>>,
}

impl ChangePage {
    /// Whether the page ended at `limit` records or at [`MAX_PAGE_SEATS`], so that more
    /// records may follow at once; a page short of both read up to the horizon.
    pub fn is_full(&self, limit: u32) -> bool {
        let seats: usize = self.changes.iter().map(|c| c.seat_ids.len()).sum();
        self.changes.len() >= limit as usize || seats >= MAX_PAGE_SEATS as usize
    }
}

/// What to read of a show's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only records after this id (0: from the beginning).
    pub after: i64,
    /// Only records about this seat.
    pub seat_id: Option<String>,
    /// Most records to return, 1 to [`MAX_PAGE`].
    pub limit: u32,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        HistoryQuery { after: 0, seat_id: None, limit: DEFAULT_PAGE }
    }
}

/// The columns of a change record as [`change`] reads them, from `changes c`.
macro_rules! change_columns {
    () => {
        "c.id, c.at, c.kind, c.show_id, c.seat_ids, c.hold_id, c.booking_id, c.expires_at"
    };
}

/// On a standby: the commit time of the last transaction it replayed. NULL on a primary.
macro_rules! replayed_at {
    () => {
        "CASE WHEN pg_is_in_recovery() THEN pg_last_xact_replay_timestamp() END"
    };
}

/// The records `$inner` selects (its columns, then `seats_before`), ordered by id, up to and
/// including the one that brings the seat ids named to the budget in parameter `$budget`
/// ([`MAX_PAGE_SEATS`]): each record whose predecessors name fewer seats than that.
macro_rules! within_seat_budget {
    ($inner:expr, $budget:literal) => {
        concat!(
            "
SELECT * FROM (
    SELECT page.*,
        sum(cardinality(page.seat_ids)) OVER (ORDER BY page.id) - cardinality(page.seat_ids)
            AS seats_before
    FROM (",
            $inner,
            ") page
) page
WHERE page.seats_before < ",
            $budget,
            "
ORDER BY page.id"
        )
    };
}

/// Records of one show after `$2`, below the horizon, optionally about seat `$3`, at most
/// `$4` and within the seat budget `$5`; each row also says when the server last replayed a
/// transaction, if it is a standby.
const HISTORY_SQL: &str = within_seat_budget!(
    concat!(
        "
WITH horizon AS MATERIALIZED (SELECT seatcore_change_horizon() AS h, ",
        replayed_at!(),
        " AS replayed_at)
SELECT ",
        change_columns!(),
        ", horizon.replayed_at
FROM horizon, changes c
WHERE c.show_id = $1 AND c.id > $2 AND c.id < horizon.h
  AND ($3::text IS NULL OR $3 = ANY (c.seat_ids))
ORDER BY c.id
LIMIT $4"
    ),
    "$5"
);

/// Whether the show exists, for a page with no records; and the replay time.
const SHOW_EXISTS_SQL: &str =
    concat!("SELECT EXISTS (SELECT 1 FROM shows WHERE show_id = $1), ", replayed_at!());

/// Records of every show after `$1`, below the horizon, at most `$2` and within the seat
/// budget `$3` (the parameters of [`SeatCore::tail`]).
const TAIL_SQL: &str = within_seat_budget!(
    concat!(
        "
WITH horizon AS MATERIALIZED (SELECT seatcore_change_horizon() AS h)
SELECT ",
        change_columns!(),
        "
FROM horizon, changes c
WHERE c.id > $1 AND c.id < horizon.h
ORDER BY c.id
LIMIT $2"
    ),
    "$3"
);

/// Records of the shows in `$4` after `$1`, below the horizon, each show's read by its own
/// range of `changes_show_id`, however many records of other shows lie after `$1`; at most
/// `$2` and within the seat budget `$3` (the parameters of [`SeatCore::tail`]).
const SHOWS_TAIL_SQL: &str = within_seat_budget!(
    concat!(
        "
WITH horizon AS MATERIALIZED (SELECT seatcore_change_horizon() AS h)
SELECT ",
        change_columns!(),
        "
FROM horizon, unnest($4::text[]) AS s(show_id)
CROSS JOIN LATERAL (
    SELECT * FROM changes c
    WHERE c.show_id = s.show_id AND c.id > $1 AND c.id < horizon.h
    ORDER BY c.id
    LIMIT $2
) c
ORDER BY c.id
LIMIT $2"
    ),
    "$3"
);

/// The newest record below the horizon (the primary key, read backwards: one row).
const LAST_FINAL_SQL: &str = "
SELECT coalesce(max(id), 0) FROM changes WHERE id < seatcore_change_horizon()";

/// The horizon, and where it must reach for every transaction in flight now to have ended.
const CATCH_UP_SQL: &str = "
SELECT seatcore_change_horizon(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint << 20";

/// How long a history read waits for the transactions in flight when it starts, so that
/// a caller sees the changes it made itself.
pub const CATCH_UP_WAIT: Duration = Duration::from_millis(500);

/// Waits (at most [`CATCH_UP_WAIT`]) until every transaction in flight now has ended, so
/// that everything committed before this call is below the horizon: a client reads its own
/// changes. A transaction left open longer (anywhere in the cluster) only delays the newest
/// records to a later page, never loses them.
fn catch_up(client: &mut postgres::Client) -> Result<()> {
    let started = Instant::now();
    let mut target = None;
    let mut pause = Duration::from_millis(1);
    loop {
        let row = client.query_typed(CATCH_UP_SQL, &[])?;
        let Some(row) = row.first() else { return Ok(()) };
        let horizon: i64 = row.get(0);
        let target = *target.get_or_insert(row.get::<_, i64>(1));
        if horizon >= target || started.elapsed() >= CATCH_UP_WAIT {
            return Ok(());
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

pub(crate) fn change(row: &postgres::Row) -> Result<Change> {
    let kind: &str = row.get(2);
    let kind =
        ChangeKind::parse(kind).ok_or_else(|| Error::Config(format!("unknown change kind {kind:?}")))?;
    Ok(Change {
        id: row.get(0),
        at: row.get(1),
        kind,
        show_id: row.get(3),
        seat_ids: row.get(4),
        hold_id: row.get(5),
        booking_id: row.get(6),
        expires_at: row.get(7),
    })
}

/// The page's `next`: the last record returned, else `after`.
///
/// Never the horizon itself: after a crash, PostgreSQL hands out again the transaction ids
/// it had given to transactions that left nothing in its log (they were in flight), so the
/// horizon of before the crash may lie above ids written after it. Every committed record
/// has an id below every id written after it commits, crash or not: a reader that stands
/// on the last record it saw misses nothing.
fn next_after(after: i64, changes: &[Change]) -> i64 {
    changes.last().map_or(after, |last| last.id.max(after))
}

/// Checks a page size.
pub fn page_limit(limit: u32) -> Result<u32, InputError> {
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(InputError::Limit { max: MAX_PAGE })
    }
}

impl SeatCore {
    /// A page of `show_id`'s history, oldest first. `ShowNotFound` for an unknown show.
    ///
    /// It first waits (briefly, see [`CATCH_UP_WAIT`]) for the transactions in flight, so
    /// it includes every change committed before the call.
    ///
    /// With a reader ([`Options::read_url`](crate::Options::read_url)), a standby serves it:
    /// the page then holds what the standby has replayed (`replayed_at`), which may not yet
    /// include the caller's own last changes.
    pub fn history(&self, show_id: &str, query: &HistoryQuery) -> Result<ChangePage> {
        self.history_page(show_id, query, true)
    }

    /// A page of history: from the reader for a caller's read (`wait`), from the primary
    /// for a watcher, which must stand on one server's log.
    fn history_page(&self, show_id: &str, query: &HistoryQuery, wait: bool) -> Result<ChangePage> {
        let show_id = validate::show_id(show_id)?;
        let limit = page_limit(query.limit)?;
        if query.after < 0 {
            return Err(InputError::After.into());
        }
        let seat = match &query.seat_id {
            Some(s) => Some(validate::seat_id(0, s).map_err(|_| InputError::SeatIdFilter)?),
            None => None,
        };
        let page = |c: &mut Conn, _| {
            if wait {
                catch_up(&mut c.client)?;
            }
            let rows = c.client.query_typed(
                HISTORY_SQL,
                &[
                    (&show_id, Type::TEXT),
                    (&query.after, Type::INT8),
                    (&seat, Type::TEXT),
                    (&i64::from(limit), Type::INT8),
                    (&i64::from(MAX_PAGE_SEATS), Type::INT8),
                ],
            )?;
            let replayed_at = match rows.first() {
                Some(row) => row.get(8),
                None => {
                    let row = c.client.query_typed(SHOW_EXISTS_SQL, &[(&show_id, Type::TEXT)])?;
                    match row.first() {
                        Some(row) if row.get::<_, bool>(0) => row.get(1),
                        _ => return Err(Error::ShowNotFound),
                    }
                }
            };
            let changes = rows.iter().map(change).collect::<Result<Vec<_>>>()?;
            let next = next_after(query.after, &changes);
            Ok(ChangePage { changes, next, replayed_at })
        };
        if wait {
            self.read(page)
        } else {
            self.with_conn(OnLost::Retry, page)
        }
    }

    /// Like [`SeatCore::history`] without a seat filter, and without waiting for the
    /// transactions in flight: for a watcher that will look again.
    pub fn show_changes_after(&self, show_id: &str, after: i64, limit: u32) -> Result<ChangePage> {
        let query = HistoryQuery { after, seat_id: None, limit };
        self.history_page(show_id, &query, false)
    }

    /// The log's tail across every show: up to `limit` records after `after`, oldest first.
    /// For a process that follows all changes and fans them out (a server's event streams).
    pub fn changes_after(&self, after: i64, limit: u32) -> Result<ChangePage> {
        self.tail(TAIL_SQL, after, limit, None)
    }

    /// The log's tail of some shows: up to `limit` records of the shows in `show_ids` after
    /// `after`, oldest first. For a process that fans the changes of the shows it has
    /// readers for out to them: it reads nothing of the other shows, however many records
    /// they wrote since `after`.
    pub fn shows_changes_after(&self, show_ids: &[&str], after: i64, limit: u32) -> Result<ChangePage> {
        self.tail(SHOWS_TAIL_SQL, after, limit, Some(show_ids))
    }

    /// A page of the log's tail: `sql` with `after`, `limit` and the seat budget as `$1` to
    /// `$3`, and the shows, when given, as `$4`.
    fn tail(&self, sql: &str, after: i64, limit: u32, show_ids: Option<&[&str]>) -> Result<ChangePage> {
        let limit = i64::from(page_limit(limit)?);
        let budget = i64::from(MAX_PAGE_SEATS);
        self.with_conn(OnLost::Retry, |c, _| {
            let mut params: Vec<(&(dyn ToSql + Sync), Type)> =
                vec![(&after, Type::INT8), (&limit, Type::INT8), (&budget, Type::INT8)];
            if let Some(shows) = &show_ids {
                params.push((shows, Type::TEXT_ARRAY));
            }
            let rows = c.client.query_typed(sql, &params)?;
            let changes = rows.iter().map(change).collect::<Result<Vec<_>>>()?;
            let next = next_after(after, &changes);
            Ok(ChangePage { changes, next, replayed_at: None })
        })
    }

    /// The id of the newest change that is final now (0 when there is none): a reader that
    /// starts after it misses nothing that commits later. A status read reports the same
    /// number as its version.
    pub fn last_change_id(&self) -> Result<i64> {
        self.with_conn(OnLost::Retry, |c, _| {
            Ok(c.client.query_typed(LAST_FINAL_SQL, &[])?.first().map_or(0, |r| r.get::<_, i64>(0)))
        })
    }

    /// Where a reader "from now" starts: the newest change once every transaction in flight
    /// at the call has ended (waiting at most [`CATCH_UP_WAIT`]), so that nothing committed
    /// before the call is reported as new.
    pub fn present_change_id(&self) -> Result<i64> {
        self.with_conn(OnLost::Retry, |c, _| {
            catch_up(&mut c.client)?;
            Ok(c.client.query_typed(LAST_FINAL_SQL, &[])?.first().map_or(0, |r| r.get::<_, i64>(0)))
        })
    }
}
