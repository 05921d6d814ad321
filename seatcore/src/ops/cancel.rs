//! Cancelling a booking: one statement, one round trip.

use chrono::{DateTime, Utc};
use postgres::types::Type;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::{validate, OnLost, SeatCore};

/// A cancelled booking. The booking's row is kept, marked cancelled; its seats are
/// available. Cancelling it again returns an equal value.
///
/// Serializes to the contract's `{"message": "booking cancelled", "seat_ids"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "message", rename = "booking cancelled")]
pub struct Cancellation {
    /// The booking's id (the id of the hold it confirmed).
    #[serde(skip)]
    pub booking_id: Uuid,
    #[serde(skip)]
    pub show_id: String,
    /// The booking's seats, in the order the hold asked for them.
    pub seat_ids: Vec<String>,
    /// When the booking was cancelled (the first cancellation, by the database's clock).
    #[serde(skip)]
    pub cancelled_at: DateTime<Utc>,
}

/// Lock the booking row, then (if it is in force) its seats in seat-map order, free the
/// seats that carry it, mark it cancelled and record the change. A cancelled booking is
/// answered as it is, with nothing written. No row when the booking does not exist.
///
/// The lock order is the rule of every statement (see `ops`): the one hold or booking row
/// the statement is about (a booking's id is its hold's), then seats in seat-map order.
const CANCEL_SQL: &str = "
WITH b AS MATERIALIZED (
    SELECT booking_id, seat_nos, seat_ids, cancelled_at
    FROM bookings
    WHERE booking_id = $2 AND show_id = $1
    FOR UPDATE
), locked AS MATERIALIZED (
    SELECT s.seat_no
    FROM seats s JOIN b ON s.seat_no = ANY (b.seat_nos)
    WHERE s.show_id = $1 AND b.cancelled_at IS NULL AND s.booking_id = b.booking_id
    ORDER BY s.seat_no
    FOR UPDATE OF s
), freed AS (
    UPDATE seats s SET booking_id = NULL
    FROM locked l
    WHERE s.show_id = $1 AND s.seat_no = l.seat_no
), marked AS (
    UPDATE bookings SET cancelled_at = now()
    WHERE booking_id IN (SELECT booking_id FROM b WHERE cancelled_at IS NULL)
    RETURNING booking_id, seat_ids, cancelled_at
), logged AS (
    INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, booking_id)
    SELECT seatcore_change_id(0), 'cancelled', $1, seat_ids, booking_id, booking_id FROM marked
)
SELECT b.seat_ids, coalesce(m.cancelled_at, b.cancelled_at) AS cancelled_at, m.booking_id IS NOT NULL AS fresh
FROM b LEFT JOIN marked m ON true";

impl SeatCore {
    /// Cancels a booking: its seats are available at once. The booking is kept, marked
    /// cancelled (see [`Cancellation`]); cancelling it again returns the same value and
    /// changes nothing. Booking its hold again fails with `BookingCancelled`.
    ///
    /// `booking_id` is the booking's UUID as text; anything else is simply not found.
    /// Errors: `BookingNotFound` (never made, another show's, not a UUID), `InvalidInput`
    /// (a bad show id).
    pub fn cancel_booking(&self, show_id: &str, booking_id: &str) -> Result<Cancellation> {
        let show_id = validate::show_id(show_id)?;
        let Ok(booking_id) = Uuid::parse_str(booking_id.trim()) else {
            return Err(Error::BookingNotFound);
        };
        // Idempotent, so safe to run again after a lost connection.
        self.with_conn(OnLost::Retry, |c, _| {
            let rows =
                c.client.query_typed(CANCEL_SQL, &[(&show_id, Type::TEXT), (&booking_id, Type::UUID)])?;
            let row = rows.first().ok_or(Error::BookingNotFound)?;
            if row.get::<_, bool>("fresh") {
                self.notify_changes(&mut c.client);
            }
            Ok(Cancellation {
                booking_id,
                show_id: show_id.to_owned(),
                seat_ids: row.get("seat_ids"),
                cancelled_at: row.get("cancelled_at"),
            })
        })
    }
}
