//! The hold lifecycle's results: a partial release and a cancelled booking. (`extend`
//! returns a [`crate::results::Hold`].)

use pyo3::prelude::*;
use seatcore::Uuid;

use crate::results::{result_methods, seats_result, Tuple};

/// What a partial release did: the seats released, and those the hold keeps.
#[pyclass(frozen, eq, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct SeatsReleased(pub seatcore::SeatsReleased);

result_methods! {
    SeatsReleased;
    getters {
        /// The hold the seats came from.
        hold_id -> Uuid = |r| r.hold_id;
        /// The show the seats belong to.
        show_id -> &str = |r| &r.show_id;
        /// The released seat ids (trimmed), in request order. They are available.
        seat_ids -> Tuple<&[String]> = |r| Tuple(&r.seat_ids);
        /// The seats the hold keeps, in the order it asked for them; empty when every seat was
        /// released, which releases the hold.
        remaining_seat_ids -> Tuple<&[String]> = |r| Tuple(&r.remaining_seat_ids);
    }
    /// The contract's dict: `{"message": "seats released", "seat_ids", "remaining_seat_ids"}`.
    to_dict;
    repr(hold_id, show_id, seat_ids, remaining_seat_ids);
}

seats_result! {
    /// A cancelled booking: kept, marked cancelled; its seats are available. Cancelling it
    /// again returns an equal value. `to_dict()`: the contract's `{"message": "booking
    /// cancelled", "seat_ids"}`.
    Cancellation;
    /// The booking's id (the id of the hold it confirmed).
    booking_id,
    /// The booking's seats, now available.
    seat_ids,
    /// When the booking was first cancelled, an aware UTC datetime.
    cancelled_at,
}
