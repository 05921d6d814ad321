//! Booking a hold: one statement for a first booking, a second read for a repeat.

use chrono::{DateTime, Utc};
use postgres::types::Type;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::pool::Conn;
use crate::types::Booking;
use crate::{bump, validate, OnLost, SeatCore};

/// Lock the hold, judge it by the clock then, lock its seats in seat-map order, check they
/// still carry it, then write the booking, flip the seats, retire the hold and record the
/// change (`seatcore_book`, migrations/functions/: planned once per session). No row when the hold
/// does not exist.
const BOOK_SQL: &str = "SELECT expired, intact, seat_ids, booked_at FROM seatcore_book($1, $2)";

/// An earlier booking of this hold. Run as its own statement: a concurrent first booking
/// that committed while we waited for the hold row is visible only to a new snapshot.
const PRIOR_SQL: &str = "
SELECT seat_ids, booked_at, cancelled_at IS NOT NULL FROM bookings WHERE booking_id = $2 AND show_id = $1";

impl SeatCore {
    /// Books the seats of a live hold. Idempotent: booking the same hold again returns the
    /// same booking (same id, seats and `booked_at`), until the booking is cancelled: then
    /// booking the hold again fails with `BookingCancelled` and never takes the seats back.
    ///
    /// `hold_id` is the hold's UUID as text; anything else is simply not found.
    /// Errors: `HoldNotFound` (never made, released, swept, another show's, not a UUID),
    /// `HoldExpired`, `HoldInvalidated`, `BookingCancelled`.
    pub fn book(&self, show_id: &str, hold_id: &str) -> Result<Booking> {
        let show_id = validate::show_id(show_id)?;
        let Ok(hold_id) = Uuid::parse_str(hold_id.trim()) else {
            return Err(Error::HoldNotFound);
        };
        let outcome = self.with_conn(OnLost::Retry, |c, _| {
            let outcome = book_once(c, show_id, hold_id);
            if let Ok((_, true)) = &outcome {
                self.notify_changes(&mut c.client);
            }
            outcome
        });
        if let Ok((_, true)) = &outcome {
            bump(&self.inner.counters.bookings, 1);
        }
        outcome.map(|(booking, _)| booking)
    }
}

/// The booking, and whether this call made it (false for a repeat).
fn book_once(c: &mut Conn, show_id: &str, hold_id: Uuid) -> Result<(Booking, bool)> {
    let params: [(&(dyn postgres::types::ToSql + Sync), Type); 2] =
        [(&show_id, Type::TEXT), (&hold_id, Type::UUID)];
    let rows = c.client.query_typed(BOOK_SQL, &params)?;
    let booking = |seat_ids: Vec<String>, booked_at: DateTime<Utc>| Booking {
        booking_id: hold_id,
        show_id: show_id.to_owned(),
        seat_ids,
        booked_at,
    };
    if let Some(row) = rows.first() {
        if row.get::<_, bool>("expired") {
            return Err(Error::HoldExpired);
        }
        if !row.get::<_, bool>("intact") {
            return Err(Error::HoldInvalidated);
        }
        return Ok((booking(row.get("seat_ids"), row.get("booked_at")), true));
    }
    let prior = c.client.query_typed(PRIOR_SQL, &params)?;
    match prior.first() {
        Some(row) if row.get::<_, bool>(2) => Err(Error::BookingCancelled),
        Some(row) => Ok((booking(row.get(0), row.get(1)), false)),
        None => Err(Error::HoldNotFound),
    }
}
