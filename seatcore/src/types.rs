//! The values seatcore returns.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A granted hold: its seats are the caller's until `expires_at` (database clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub hold_id: Uuid,
    pub show_id: String,
    /// The seats as requested (trimmed), in request order.
    pub seat_ids: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// A confirmed booking. `booking_id` is the id of the hold it came from; booking the same
/// hold again returns an equal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub booking_id: Uuid,
    pub show_id: String,
    pub seat_ids: Vec<String>,
    pub booked_at: DateTime<Utc>,
}

/// The state of one seat at the moment of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum SeatState {
    Available = 0,
    Held = 1,
    Booked = 2,
}

impl SeatState {
    /// The contract's name of the state: `available`, `held` or `booked`.
    pub fn as_str(self) -> &'static str {
        match self {
            SeatState::Available => "available",
            SeatState::Held => "held",
            SeatState::Booked => "booked",
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

/// A borrowed view of one seat, handed to a streaming status reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatRef<'a> {
    pub seat_id: &'a str,
    pub state: SeatState,
    pub hold_expires_at: Option<DateTime<Utc>>,
}

/// The counts of a status read, and whether the data was consistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeatCounts {
    pub total: u64,
    pub available: u64,
    pub held: u64,
    pub booked: u64,
    /// Computed from the rows read: every seat of the seat map present exactly once, the
    /// counts add up, no seat both held and booked, every held seat backed by its live hold.
    pub invariants_valid: bool,
}

/// A whole show's status, seats in seat-map order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowStatus {
    pub show_id: String,
    pub counts: SeatCounts,
    pub seats: Vec<Seat>,
}

/// What an administrative reset cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

/// Counters since this handle was opened, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
}

/// Formats a timestamp the way Python's `datetime.isoformat()` does for an aware UTC
/// datetime: `2026-11-23T21:37:14.123456+00:00`, or without the fraction when it is zero.
pub fn iso8601(t: &DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
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
    }
}
