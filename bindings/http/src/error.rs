//! The one place a `seatcore::Error` becomes an HTTP status and JSON body.
//!
//! The status depends on the endpoint where the contract says so ("show not found" is a
//! 404 on a status read but a 400 on a hold; "hold not found" is a 400 on book, 404 on
//! release). Infrastructure failures never show their source: no SQL, no addresses.

use seatcore::{Error, ErrorKind};
use serde_json::json;

use crate::reply::Reply;

/// The operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Initialize,
    Status,
    Hold,
    Book,
    Release,
    Reset,
    Health,
}

/// The reply for `err` raised by `op`.
pub fn error_reply(op: Op, err: &Error) -> Reply {
    let kind = err.kind();
    if matches!(kind, ErrorKind::Busy | ErrorKind::Unavailable | ErrorKind::Database) {
        return infrastructure(op, kind);
    }
    match (err, op) {
        (Error::ShowNotFound, Op::Status) => Reply::error(404, "show not found"),
        (Error::ShowNotFound, Op::Book) => Reply::error(400, "hold not found or expired"),
        (Error::ShowNotFound, Op::Release) => Reply::error(404, "hold not found"),
        (Error::ShowNotFound, _) => Reply::error(400, "show not found"),
        (Error::ShowExists, _) => Reply::error(409, "show already exists"),
        (Error::InvalidSeatIds, _) => Reply::error(400, "invalid seat ID(s)"),
        (Error::SeatsUnavailable { seat_ids }, _) => Reply::json(
            409,
            &json!({ "error": "seats unavailable", "unavailable_seats": seat_ids }),
        ),
        (Error::HoldNotFound, Op::Release) => Reply::error(404, "hold not found"),
        (Error::HoldNotFound, _) => Reply::error(400, "hold not found or expired"),
        (Error::HoldExpired, _) => Reply::error(400, "hold expired"),
        (Error::HoldInvalidated, _) => Reply::error(400, "hold invalidated (seat state mismatch)"),
        (Error::RequestKeyReused, _) => Reply::error(
            422,
            "Idempotency-Key already used for a different hold request of this show",
        ),
        (Error::InvalidInput(input), _) => match input.index() {
            Some(index) => Reply::json(
                400,
                &json!({ "error": input.to_string(), "details": { "index": index } }),
            ),
            None => Reply::error(400, &input.to_string()),
        },
        // A kind added to the core later: say nothing about it.
        _ => infrastructure(op, ErrorKind::Database),
    }
}

/// A generic message for the kind; 503 (with `Retry-After`) when waiting may help.
fn infrastructure(op: Op, kind: ErrorKind) -> Reply {
    let (status, message) = match kind {
        ErrorKind::Busy => (503, "database busy, try again"),
        ErrorKind::Unavailable => (503, "database unavailable, try again"),
        _ => (500, "internal error"),
    };
    let reply = match op {
        // The contract fixes both shapes.
        Op::Reset => Reply::json(500, &json!({ "error": "reset failed", "details": message })),
        Op::Health => Reply::json(
            503,
            &json!({ "status": "unhealthy", "database": "disconnected", "error": message }),
        ),
        _ => Reply::error(status, message),
    };
    if status == 503 {
        reply.with_header("Retry-After", "1")
    } else {
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore::InputError;

    fn answer(op: Op, err: Error) -> (u16, serde_json::Value) {
        let r = error_reply(op, &err);
        (r.status, r.body_json())
    }

    #[test]
    fn domain_errors_follow_the_contract() {
        assert_eq!(answer(Op::Status, Error::ShowNotFound), (404, json!({"error": "show not found"})));
        assert_eq!(answer(Op::Hold, Error::ShowNotFound), (400, json!({"error": "show not found"})));
        assert_eq!(answer(Op::Initialize, Error::ShowExists), (409, json!({"error": "show already exists"})));
        assert_eq!(answer(Op::Hold, Error::InvalidSeatIds), (400, json!({"error": "invalid seat ID(s)"})));
        assert_eq!(
            answer(Op::Hold, Error::SeatsUnavailable { seat_ids: vec!["A1".into(), "A3".into()] }),
            (409, json!({"error": "seats unavailable", "unavailable_seats": ["A1", "A3"]}))
        );
        assert_eq!(answer(Op::Book, Error::HoldNotFound), (400, json!({"error": "hold not found or expired"})));
        assert_eq!(answer(Op::Book, Error::ShowNotFound), (400, json!({"error": "hold not found or expired"})));
        assert_eq!(answer(Op::Book, Error::HoldExpired), (400, json!({"error": "hold expired"})));
        assert_eq!(
            answer(Op::Book, Error::HoldInvalidated),
            (400, json!({"error": "hold invalidated (seat state mismatch)"}))
        );
        assert_eq!(answer(Op::Release, Error::HoldNotFound), (404, json!({"error": "hold not found"})));
        assert_eq!(answer(Op::Release, Error::ShowNotFound), (404, json!({"error": "hold not found"})));
        assert_eq!(answer(Op::Hold, Error::RequestKeyReused).0, 422);
    }

    #[test]
    fn input_errors_carry_their_index() {
        assert_eq!(
            answer(Op::Hold, Error::InvalidInput(InputError::EmptySeatId { index: 2 })),
            (400, json!({"error": "seat_ids must not contain empty strings", "details": {"index": 2}}))
        );
        assert_eq!(
            answer(Op::Hold, Error::InvalidInput(InputError::ShowIdLength { max: 128 })),
            (400, json!({"error": "show_id must be between 1 and 128 characters"}))
        );
    }

    #[test]
    fn infrastructure_errors_hide_their_source() {
        let down = || Error::Unavailable("connection refused to 10.0.0.7: SELECT secret FROM t".into());
        let r = error_reply(Op::Hold, &down());
        assert_eq!(r.status, 503);
        assert!(r.headers.iter().any(|(n, v)| *n == "Retry-After" && v == "1"));
        let body = r.body_json().to_string();
        assert!(!body.contains("SELECT") && !body.contains("10.0.0.7"), "{body}");
        assert_eq!(
            answer(Op::Health, down()),
            (503, json!({"status": "unhealthy", "database": "disconnected", "error": "database unavailable, try again"}))
        );
        assert_eq!(
            answer(Op::Reset, down()),
            (500, json!({"error": "reset failed", "details": "database unavailable, try again"}))
        );
    }
}
