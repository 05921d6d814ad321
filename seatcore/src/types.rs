//! The values seatcore returns.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

/// A granted hold: its seats are the caller's until `expires_at` (database clock).
///
/// Serializes to the contract's `{"hold_id", "expires_at", "seat_ids"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub hold_id: Uuid,
    #[serde(skip)]
    pub show_id: String,
    #[serde(serialize_with = "timestamp")]
    pub expires_at: DateTime<Utc>,
    /// The seats as requested (trimmed), in request order.
    pub seat_ids: Vec<String>,
}

/// The counts of an invariant audit.
// Plain integers, laid out for C: the C API's `seatcore_audit_summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[repr(C)]
pub struct AuditSummary {
    /// Whether every invariant holds (no problem found).
    pub ok: bool,
    /// How many shows the audit looked at (1 or 0 for one show).
    pub shows: u64,
    /// How many seats the audit looked at.
    pub seats: u64,
    /// How many of those seats a live hold held at the audit's moment.
    pub held: u64,
    /// How many of those seats were booked.
    pub booked: u64,
    /// How many problems the audit found in all (0 exactly when `ok`).
    pub problem_count: u64,
}

/// A confirmed booking. `booking_id` is the id of the hold it came from; booking the same
/// hold again returns an equal value.
///
/// Serializes to the contract's `{"booking_id", "seat_ids", "booked_at"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Booking {
    pub booking_id: Uuid,
    #[serde(skip)]
    pub show_id: String,
    pub seat_ids: Vec<String>,
    #[serde(serialize_with = "timestamp")]
    pub booked_at: DateTime<Utc>,
}

/// The state of one seat at the moment of a read.
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
// Laid out for C: the C API's `seatcore_seat_state`, whose constants are
// `SEATCORE_SEAT_STATE_` + the variant's name (`SEATCORE_SEAT_STATE_HELD`). Serialized as
// its contract name (`held`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeatState {
    Available = 0,
    Held = 1,
    Booked = 2,
    /// Blocked by the house: neither held nor booked, and not for sale until unblocked.
    Blocked = 3,
}

impl SeatState {
    /// The contract's name of the state: `available`, `held`, `booked` or `blocked`.
    pub fn as_str(self) -> &'static str {
        match self {
            SeatState::Available => "available",
            SeatState::Held => "held",
            SeatState::Booked => "booked",
            SeatState::Blocked => "blocked",
        }
    }
}

/// One seat of a status read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub seat_id: String,
    pub state: SeatState,
    /// When the hold ends; `Some` exactly when `state` is `Held`.
    pub hold_expires_at: Option<DateTime<Utc>>,
}

impl Seat {
    /// A borrowed view of this seat.
    pub fn as_ref(&self) -> SeatRef<'_> {
        SeatRef { seat_id: &self.seat_id, state: self.state, hold_expires_at: self.hold_expires_at }
    }
}

impl Serialize for Seat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_ref().serialize(s)
    }
}

/// A borrowed view of one seat, handed to a streaming status reader.
///
/// Serializes to the contract's `{"seat_id", "status", "hold_expires_at"}`, the expiry only
/// when the seat is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeatRef<'a> {
    pub seat_id: &'a str,
    #[serde(rename = "status")]
    pub state: SeatState,
    #[serde(serialize_with = "optional_timestamp", skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<DateTime<Utc>>,
}

/// The counts of a status read, and whether the data was consistent.
///
/// Serializes to the contract's `total_seats`, `available_seats`, `held_seats`,
/// `booked_seats` and `invariants_valid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SeatCounts {
    #[serde(rename = "total_seats")]
    pub total: u64,
    #[serde(rename = "available_seats")]
    pub available: u64,
    #[serde(rename = "held_seats")]
    pub held: u64,
    #[serde(rename = "booked_seats")]
    pub booked: u64,
    #[serde(rename = "blocked_seats")]
    pub blocked: u64,
    /// Computed from the rows read: every seat of the seat map present exactly once, the
    /// counts add up, no seat both held and booked, every held seat backed by its live hold.
    pub invariants_valid: bool,
    /// Every change with an id up to this is in the read (later ones may be too): follow
    /// the change stream from here to miss nothing.
    pub version: i64,
    /// Set when a standby served the read ([`Options::read_url`](crate::Options::read_url)):
    /// the commit time of the last transaction it had replayed, so the read holds every
    /// change the primary committed until about then. `None` from a primary, and from a
    /// standby that has replayed nothing since it started (the primary wrote nothing since).
    #[serde(serialize_with = "optional_timestamp", skip_serializing_if = "Option::is_none")]
    pub replayed_at: Option<DateTime<Utc>>,
}

/// What a status read knows before its first seat: its version and an entity tag that
/// changes whenever the document would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusHead {
    pub version: i64,
    /// A strong HTTP entity tag, quotes included.
    pub etag: String,
    /// The show's seat count, as declared when it was created: how many seats follow.
    pub seats: u64,
}

/// A whole show's status, seats in seat-map order.
///
/// Serializes to the contract's document of `GET /shows/<id>/seats`, byte for byte what
/// [`StatusJson`] streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowStatus {
    pub show_id: String,
    pub counts: SeatCounts,
    pub seats: Vec<Seat>,
}

impl Serialize for ShowStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The counts' own keys, after the seats: a streamed document knows them only then.
        #[derive(Serialize)]
        struct Document<'a> {
            seats: &'a [Seat],
            #[serde(flatten)]
            counts: &'a SeatCounts,
        }
        Document { seats: &self.seats, counts: &self.counts }.serialize(s)
    }
}

/// A JSON array written one item at a time, on whatever precedes it in `out`.
pub(crate) struct JsonItems<W: std::io::Write> {
    pub(crate) out: W,
    first: bool,
}

impl<W: std::io::Write> JsonItems<W> {
    /// Writes `opening` (which ends with the array's `[`) on `out`.
    pub(crate) fn open(mut out: W, opening: &[u8]) -> std::io::Result<Self> {
        out.write_all(opening)?;
        Ok(JsonItems { out, first: true })
    }

    /// Appends one item.
    pub(crate) fn push(&mut self, item: &impl Serialize) -> std::io::Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, item).map_err(std::io::Error::from)
    }

    /// Ends the array and writes `closing`.
    pub(crate) fn close(mut self, closing: &[u8]) -> std::io::Result<W> {
        self.out.write_all(b"]")?;
        self.out.write_all(closing)?;
        Ok(self.out)
    }
}

/// Writes the status document of `GET /shows/<id>/seats` while the seats arrive: the
/// `seats` array first, the counts after it (they are known only at the end; key order
/// means nothing in JSON). The output equals `serde_json::to_vec(&ShowStatus)`.
pub struct StatusJson<W: std::io::Write>(JsonItems<W>);

impl<W: std::io::Write> StatusJson<W> {
    /// Starts the document on `out`.
    pub fn new(out: W) -> std::io::Result<Self> {
        JsonItems::open(out, b"{\"seats\":[").map(StatusJson)
    }

    /// Appends one seat.
    pub fn seat(&mut self, seat: SeatRef<'_>) -> std::io::Result<()> {
        self.0.push(&seat)
    }

    /// The writer, for a caller that moves what was written so far elsewhere.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.0.out
    }

    /// Ends the document with the counts and returns the writer.
    pub fn finish(self, counts: &SeatCounts) -> std::io::Result<W> {
        let counts = serde_json::to_vec(counts).map_err(std::io::Error::from)?;
        // `{"total_seats":...}` without its opening brace continues the document's object.
        self.0.close(b",").and_then(|mut out| out.write_all(&counts[1..]).map(|()| out))
    }
}

/// What an administrative reset cleared. Serializes to the contract's
/// `{"holds_cleared", "bookings_cleared", "seats_reset"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ResetCounts {
    pub holds_cleared: u64,
    pub bookings_cleared: u64,
    /// Seats that were held or booked and are available now.
    pub seats_reset: u64,
}

/// A successful health probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// How many shows the database holds.
    pub shows: u64,
}

/// The contract's `{"status": "healthy", "database": "connected", "shows": N}`.
impl Serialize for Health {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("status", "healthy")?;
        m.serialize_entry("database", "connected")?;
        m.serialize_entry("shows", &self.shows)?;
        m.end()
    }
}

/// Counters since this handle was opened, for metrics.
// Plain integers in C's layout, so that a binding may hand the struct out as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Stats {
    pub holds_granted: u64,
    pub holds_refused: u64,
    pub bookings: u64,
    pub releases: u64,
    pub holds_expired_swept: u64,
    /// Connections open in the pool, and how many of them are idle.
    pub pool_connections: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    /// Groups of holds made (holds grouped into one transaction), by size: element `i`
    /// counts groups of `2^i` to `2^(i+1) - 1` holds (1, 2-3, 4-7, ...; the last, 256 and
    /// more). A hold made alone is a group of one.
    pub hold_groups: [u64; crate::GROUP_SIZE_BUCKETS],
}

/// Serializes a timestamp as [`iso8601`] text.
pub(crate) fn timestamp<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso8601(t))
}

pub(crate) fn optional_timestamp<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => timestamp(t, s),
        None => s.serialize_none(),
    }
}

/// Formats a timestamp the way Python's `datetime.isoformat()` does for an aware UTC
/// datetime: `2026-11-23T21:37:14.123456+00:00`, or without the fraction when it is zero.
pub fn iso8601(t: &DateTime<Utc>) -> String {
    // RFC 3339 with the offset written out is that form (and, unlike a format string, is
    // not parsed again for every timestamp: a status read writes one per held seat).
    let fraction = if t.timestamp_subsec_micros() == 0 { SecondsFormat::Secs } else { SecondsFormat::Micros };
    t.to_rfc3339_opts(fraction, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn iso8601_matches_python() {
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 21, 37, 14).unwrap();
        assert_eq!(iso8601(&t), "2026-11-23T21:37:14+00:00");
        let t = t + chrono::Duration::microseconds(123_456);
        assert_eq!(iso8601(&t), "2026-11-23T21:37:14.123456+00:00");
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::microseconds(50);
        assert_eq!(iso8601(&t), "2026-01-02T03:04:05.000050+00:00");
        // below a microsecond (never from PostgreSQL): cut, as Python's isoformat() does
        let t = t + chrono::Duration::nanoseconds(999);
        assert_eq!(iso8601(&t), "2026-01-02T03:04:05.000050+00:00");
    }
}
