//! The contract's shapes, owned here once for every door: the HTTP status and JSON body of
//! each error per operation, the success documents that are not plain result types, and the
//! failure values of the Python `DatabaseManager`. Result types serialize to their own
//! contract shapes (see [`crate::Hold`], [`crate::Booking`], [`crate::ShowStatus`], ...).
//!
//! The doors add only what belongs to their medium: HTTP headers and streaming, Python
//! tuples and `None`, C accessors.

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{Error, ErrorKind, InputError};
use crate::{Seat, ShowStatus};

/// The operations of the contract, each served by one REST endpoint (its path, method and
/// limits are `rest`'s). An error's reply depends on the operation where the contract says
/// so ("show not found" is a 404 on a status read but a 400 on a hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Initialize,
    Status,
    Hold,
    Book,
    Release,
    Reset,
    Health,
    Audit,
    History,
    Events,
    Map,
    HoldBest,
    Block,
    Unblock,
    /// Extending a hold.
    Extend,
    /// Cancelling a booking.
    CancelBooking,
}

/// A reply of the REST contract: its status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct RestReply {
    pub status: u16,
    pub body: Value,
}

/// The message of a successful initialize.
pub fn initialized_message(seat_count: usize) -> String {
    format!("show initialized with {seat_count} seats")
}

/// `201 {"message", "show_id", "seat_count"}` of `POST /shows/<id>/initialize`.
pub fn initialized(show_id: &str, seat_count: usize) -> Value {
    json!({ "message": initialized_message(seat_count), "show_id": show_id, "seat_count": seat_count })
}

/// `200 {"blocked": [...]}` of `POST /shows/<id>/block`: the seats named, now all blocked.
pub fn blocked(seat_ids: &[String]) -> Value {
    json!({ "blocked": seat_ids })
}

/// `200 {"unblocked": [...]}` of `POST /shows/<id>/unblock`: the seats named, now none blocked.
pub fn unblocked(seat_ids: &[String]) -> Value {
    json!({ "unblocked": seat_ids })
}

/// `200 {"message": "hold released"}` of `POST /shows/<id>/release-hold`.
pub fn released() -> Value {
    json!({ "message": "hold released" })
}

/// `200 {"message": "all shows reset", "holds_cleared", "bookings_cleared", "seats_reset"}`.
pub fn reset(counts: &crate::ResetCounts) -> Value {
    let mut body = serde_json::to_value(counts).unwrap_or_default();
    body["message"] = json!("all shows reset");
    body
}

/// The contract's unhealthy document, with `error` as given.
pub fn unhealthy(error: &str) -> Value {
    json!({ "status": "unhealthy", "database": "disconnected", "error": error })
}

/// The Python `DatabaseManager`'s `get_seat_status` dict: the old class's keys in its order,
/// the counts, `seats`, then `invariants_valid` (a Python dict keeps its order). It is the
/// document of `GET /shows/<id>/seats` (as [`ShowStatus`] serializes it) without the
/// change-stream `version`, which the old class did not have; the streamed REST document
/// puts `seats` first, as a JSON object's order means nothing.
pub fn manager_status(status: &ShowStatus) -> impl Serialize + '_ {
    #[derive(Serialize)]
    struct Ordered<'a> {
        total_seats: u64,
        available_seats: u64,
        held_seats: u64,
        booked_seats: u64,
        blocked_seats: u64,
        seats: &'a [Seat],
        invariants_valid: bool,
    }
    let c = &status.counts;
    Ordered {
        total_seats: c.total,
        available_seats: c.available,
        held_seats: c.held,
        booked_seats: c.booked,
        blocked_seats: c.blocked,
        seats: &status.seats,
        invariants_valid: c.invariants_valid,
    }
}

impl Op {
    /// The HTTP status of success.
    pub fn success_status(self) -> u16 {
        match self {
            Op::Initialize | Op::Hold | Op::HoldBest => 201,
            _ => 200,
        }
    }
}

/// `{"error": message}`.
pub fn error_body(message: &str) -> Value {
    json!({ "error": message })
}

/// The REST body of an input error: `{"error"}` plus `"details": {"index"}` where the
/// error is about one element of a list.
fn input_body(e: &InputError) -> Value {
    match e.index() {
        Some(index) => json!({ "error": e.to_string(), "details": { "index": index } }),
        None => error_body(&e.to_string()),
    }
}

/// The HTTP status of an input error: 413 for an oversized body, else 400.
fn input_status(e: &InputError) -> u16 {
    match e {
        InputError::BodyTooLarge { .. } => 413,
        _ => 400,
    }
}

/// What an untrusted client is told of an infrastructure failure: never its source.
pub fn infrastructure_message(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Busy => "database busy, try again",
        ErrorKind::Unavailable => "database unavailable, try again",
        _ => "internal error",
    }
}

/// The REST reply for `err` raised by `op`.
pub fn rest_error(op: Op, err: &Error) -> RestReply {
    let kind = err.kind();
    let (status, body) = match (kind, op) {
        (ErrorKind::Busy | ErrorKind::Unavailable | ErrorKind::Database | ErrorKind::Config, _) => {
            let message = infrastructure_message(kind);
            let status = if matches!(kind, ErrorKind::Busy | ErrorKind::Unavailable) { 503 } else { 500 };
            match op {
                Op::Reset => (500, json!({ "error": "reset failed", "details": message })),
                Op::Health => (503, unhealthy(message)),
                _ => (status, error_body(message)),
            }
        }
        (
            ErrorKind::ShowNotFound,
            Op::Status | Op::History | Op::Events | Op::Map | Op::Block | Op::Unblock,
        ) => (404, error_body("show not found")),
        // The hold lifecycle: an extension names every hold it cannot extend alike.
        (
            ErrorKind::ShowNotFound
            | ErrorKind::HoldNotFound
            | ErrorKind::HoldExpired
            | ErrorKind::HoldInvalidated,
            Op::Extend,
        ) => (400, error_body("hold not found or expired")),
        (ErrorKind::ShowNotFound | ErrorKind::BookingNotFound, Op::CancelBooking) => {
            (404, error_body("booking not found"))
        }
        (ErrorKind::BookingNotFound, _) => (404, error_body("booking not found")),
        (ErrorKind::SeatsNotInHold, _) => {
            (400, json!({ "error": "seats not in hold", "seat_ids": err.seats_not_in_hold() }))
        }
        (ErrorKind::BookingCancelled, _) => (400, error_body("booking cancelled")),
        (ErrorKind::ShowNotFound | ErrorKind::HoldNotFound, Op::Book) => {
            (400, error_body("hold not found or expired"))
        }
        (ErrorKind::ShowNotFound | ErrorKind::HoldNotFound, Op::Release) => {
            (404, error_body("hold not found"))
        }
        (ErrorKind::ShowNotFound, _) => (400, error_body("show not found")),
        (ErrorKind::HoldNotFound, _) => (400, error_body("hold not found or expired")),
        (ErrorKind::ShowExists, _) => (409, error_body("show already exists")),
        (ErrorKind::InvalidSeatIds, _) => (400, error_body("invalid seat ID(s)")),
        (ErrorKind::SeatsUnavailable, _) => {
            (409, json!({ "error": "seats unavailable", "unavailable_seats": err.unavailable_seats() }))
        }
        (ErrorKind::HoldExpired, _) => (400, error_body("hold expired")),
        (ErrorKind::NoAdjacentSeats, _) => (409, error_body("no adjacent seats available")),
        (ErrorKind::HoldInvalidated, _) => (400, error_body("hold invalidated (seat state mismatch)")),
        (ErrorKind::RequestKeyReused, _) => {
            (422, error_body("Idempotency-Key already used for a different hold request of this show"))
        }
        (ErrorKind::InvalidInput, _) => match err.input() {
            Some(input) => (input_status(input), input_body(input)),
            None => (400, error_body(&err.to_string())),
        },
    };
    RestReply { status, body }
}

/// The failure value of the Python `DatabaseManager` method for `op`: the dict (or, for
/// `initialize_show`, the message string) its `(False, ...)` tuple carries. Database
/// failures read `"internal error: ..."`, as the old class's did; they name what failed
/// but carry no SQL text.
pub fn manager_error(op: Op, err: &Error) -> Value {
    let kind = err.kind();
    let internal = || format!("internal error: {err}");
    if op == Op::Initialize {
        let message = match kind {
            ErrorKind::ShowExists | ErrorKind::InvalidInput => err.to_string(),
            _ => internal(),
        };
        return Value::String(message);
    }
    match (kind, op) {
        (ErrorKind::Busy | ErrorKind::Unavailable | ErrorKind::Database | ErrorKind::Config, Op::Health) => {
            unhealthy(&err.to_string())
        }
        (ErrorKind::Busy | ErrorKind::Unavailable | ErrorKind::Database | ErrorKind::Config, _) => {
            error_body(&internal())
        }
        (ErrorKind::InvalidInput, Op::Hold) if err.input() == Some(&InputError::DuplicateSeatIds) => {
            error_body("duplicate seats in request")
        }
        (ErrorKind::SeatsUnavailable, _) => {
            json!({ "error": "seats unavailable", "unavailable_seats": err.unavailable_seats() })
        }
        (ErrorKind::InvalidInput, _) => match err.input() {
            Some(input) => input_body(input),
            None => error_body(&err.to_string()),
        },
        (ErrorKind::ShowNotFound | ErrorKind::HoldNotFound, Op::Book) => {
            error_body("hold not found or expired")
        }
        // Every other domain error: the REST body of the same operation.
        _ => rest_error(op, err).body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest(op: Op, err: Error) -> (u16, Value) {
        let r = rest_error(op, &err);
        (r.status, r.body)
    }

    #[test]
    fn domain_errors_follow_the_contract() {
        assert_eq!(rest(Op::Status, Error::ShowNotFound), (404, json!({"error": "show not found"})));
        assert_eq!(rest(Op::Hold, Error::ShowNotFound), (400, json!({"error": "show not found"})));
        assert_eq!(rest(Op::Initialize, Error::ShowExists), (409, json!({"error": "show already exists"})));
        assert_eq!(rest(Op::Hold, Error::InvalidSeatIds), (400, json!({"error": "invalid seat ID(s)"})));
        assert_eq!(
            rest(Op::Hold, Error::SeatsUnavailable { seat_ids: vec!["A1".into(), "A3".into()] }),
            (409, json!({"error": "seats unavailable", "unavailable_seats": ["A1", "A3"]}))
        );
        assert_eq!(rest(Op::Book, Error::HoldNotFound), (400, json!({"error": "hold not found or expired"})));
        assert_eq!(rest(Op::Book, Error::ShowNotFound), (400, json!({"error": "hold not found or expired"})));
        assert_eq!(rest(Op::Book, Error::HoldExpired), (400, json!({"error": "hold expired"})));
        assert_eq!(
            rest(Op::Book, Error::HoldInvalidated),
            (400, json!({"error": "hold invalidated (seat state mismatch)"}))
        );
        assert_eq!(rest(Op::Release, Error::HoldNotFound), (404, json!({"error": "hold not found"})));
        assert_eq!(rest(Op::Release, Error::ShowNotFound), (404, json!({"error": "hold not found"})));
        assert_eq!(rest(Op::Hold, Error::RequestKeyReused).0, 422);
    }

    #[test]
    fn lifecycle_errors_follow_the_contract() {
        let gone = json!({"error": "hold not found or expired"});
        for e in [Error::HoldNotFound, Error::HoldExpired, Error::HoldInvalidated, Error::ShowNotFound] {
            assert_eq!(rest(Op::Extend, e), (400, gone.clone()));
        }
        assert_eq!(
            rest(Op::Release, Error::SeatsNotInHold { seat_ids: vec!["B7".into(), "Z1".into()] }),
            (400, json!({"error": "seats not in hold", "seat_ids": ["B7", "Z1"]}))
        );
        assert_eq!(
            rest(Op::CancelBooking, Error::BookingNotFound),
            (404, json!({"error": "booking not found"}))
        );
        assert_eq!(rest(Op::Book, Error::BookingCancelled), (400, json!({"error": "booking cancelled"})));
        assert_eq!(manager_error(Op::Extend, &Error::HoldExpired), gone);
        assert_eq!(
            manager_error(Op::CancelBooking, &Error::BookingNotFound),
            json!({"error": "booking not found"})
        );
        assert_eq!(manager_error(Op::Release, &Error::HoldNotFound), json!({"error": "hold not found"}));
    }

    #[test]
    fn input_errors_carry_their_index_and_status() {
        assert_eq!(
            rest(Op::Hold, Error::InvalidInput(InputError::EmptySeatId { index: 2 })),
            (400, json!({"error": "seat_ids must not contain empty strings", "details": {"index": 2}}))
        );
        assert_eq!(
            rest(Op::Hold, Error::InvalidInput(InputError::ShowIdLength { max: 128 })),
            (400, json!({"error": "show_id must be between 1 and 128 characters"}))
        );
        assert_eq!(rest(Op::Hold, Error::InvalidInput(InputError::BodyTooLarge { max: 10 })).0, 413);
    }

    #[test]
    fn infrastructure_errors_hide_their_source() {
        let down = || Error::Unavailable("connection refused to 10.0.0.7: SELECT secret FROM t".into());
        let (status, body) = rest(Op::Hold, down());
        assert_eq!(status, 503);
        let text = body.to_string();
        assert!(!text.contains("SELECT") && !text.contains("10.0.0.7"), "{text}");
        assert_eq!(
            rest(Op::Health, down()),
            (
                503,
                json!({"status": "unhealthy", "database": "disconnected", "error": "database unavailable, try again"})
            )
        );
        assert_eq!(
            rest(Op::Reset, down()),
            (500, json!({"error": "reset failed", "details": "database unavailable, try again"}))
        );
        assert_eq!(
            rest(Op::Hold, Error::Config("bad sslmode".into())),
            (500, json!({"error": "internal error"}))
        );
    }

    #[test]
    fn manager_failures_follow_the_old_class() {
        assert_eq!(manager_error(Op::Initialize, &Error::ShowExists), json!("show already exists"));
        assert_eq!(
            manager_error(Op::Hold, &Error::InvalidInput(InputError::DuplicateSeatIds)),
            json!({"error": "duplicate seats in request"})
        );
        assert_eq!(manager_error(Op::Hold, &Error::ShowNotFound), json!({"error": "show not found"}));
        assert_eq!(
            manager_error(Op::Book, &Error::HoldNotFound),
            json!({"error": "hold not found or expired"})
        );
        assert_eq!(manager_error(Op::Book, &Error::HoldExpired), json!({"error": "hold expired"}));
        let down = Error::Unavailable("no route".into());
        assert_eq!(
            manager_error(Op::Hold, &down),
            json!({"error": "internal error: database unavailable: no route"})
        );
        assert_eq!(
            manager_error(Op::Initialize, &down),
            json!("internal error: database unavailable: no route")
        );
        assert_eq!(manager_error(Op::Health, &down)["status"], json!("unhealthy"));
    }

    #[test]
    fn the_manager_status_is_the_status_document_in_the_old_order() {
        use crate::{SeatCounts, SeatState};
        let status = ShowStatus {
            show_id: "s".into(),
            counts: SeatCounts {
                total: 2,
                available: 1,
                held: 0,
                booked: 1,
                blocked: 0,
                invariants_valid: true,
                version: 7,
                replayed_at: None,
            },
            seats: vec![
                Seat { seat_id: "A1".into(), state: SeatState::Available, hold_expires_at: None },
                Seat { seat_id: "A2".into(), state: SeatState::Booked, hold_expires_at: None },
            ],
        };
        let ordered = serde_json::to_string(&manager_status(&status)).unwrap();
        assert!(ordered.starts_with(
            r#"{"total_seats":2,"available_seats":1,"held_seats":0,"booked_seats":1,"blocked_seats":0,"seats":["#
        ));
        assert!(ordered.ends_with(r#"],"invariants_valid":true}"#), "{ordered}");
        let same: Value = serde_json::from_str(&ordered).unwrap();
        let mut document = serde_json::to_value(&status).unwrap();
        assert_eq!(document.as_object_mut().unwrap().remove("version"), Some(json!(7)));
        assert_eq!(same, document);
    }

    #[test]
    fn success_documents() {
        assert_eq!(
            initialized("s1", 2),
            json!({"message": "show initialized with 2 seats", "show_id": "s1", "seat_count": 2})
        );
        let counts = crate::ResetCounts { holds_cleared: 1, bookings_cleared: 2, seats_reset: 3 };
        assert_eq!(
            reset(&counts),
            json!({"message": "all shows reset", "holds_cleared": 1, "bookings_cleared": 2, "seats_reset": 3})
        );
        assert_eq!(Op::Hold.success_status(), 201);
        assert_eq!(Op::Book.success_status(), 200);
    }
}
