//! Input rules shared by every door: one place, one set of limits.

use crate::error::InputError;

/// Longest show id, in characters.
pub const MAX_SHOW_ID_CHARS: usize = 128;
/// Longest seat id, in characters (after trimming).
pub const MAX_SEAT_ID_CHARS: usize = 64;
/// Most seats a show's seat map may have.
pub const MAX_SEATS_PER_SHOW: usize = 500_000;
/// Most seats one hold may take.
pub const MAX_SEATS_PER_HOLD: usize = 1_000;
/// Shortest hold the core accepts, in seconds. Servers clamp to tighter bounds.
pub const MIN_HOLD_SECONDS: i64 = 1;
/// Longest hold the core accepts, in seconds (one day).
pub const MAX_HOLD_SECONDS: i64 = 86_400;
/// Longest request (idempotency) key, in characters.
pub const MAX_REQUEST_KEY_CHARS: usize = 128;

/// Checks a show id. Show ids are used as given (not trimmed): they are names in URLs.
pub fn show_id(raw: &str) -> Result<&str, InputError> {
    let chars = raw.chars().count();
    if chars == 0 || chars > MAX_SHOW_ID_CHARS {
        return Err(InputError::ShowIdLength { max: MAX_SHOW_ID_CHARS });
    }
    if raw.chars().any(char::is_control) {
        return Err(InputError::ShowIdControlChar);
    }
    Ok(raw)
}

/// Trims and checks the seat id found at `index` of a request's list.
pub fn seat_id(index: usize, raw: &str) -> Result<String, InputError> {
    seat_id_str(index, raw).map(str::to_owned)
}

/// [`seat_id`], the trimmed id borrowed from `raw`.
pub fn seat_id_str(index: usize, raw: &str) -> Result<&str, InputError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(InputError::EmptySeatId { index });
    }
    if trimmed.chars().count() > MAX_SEAT_ID_CHARS {
        return Err(InputError::SeatIdTooLong { index, max: MAX_SEAT_ID_CHARS });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InputError::SeatIdControlChar { index });
    }
    Ok(trimmed)
}

/// Checks the length of a seat list before its elements are looked at.
pub fn seat_count(len: usize, max: usize) -> Result<(), InputError> {
    if len == 0 {
        return Err(InputError::NoSeats);
    }
    if len > max {
        return Err(InputError::TooManySeats { max });
    }
    Ok(())
}

/// Rejects a list of already trimmed seat ids that repeats one.
pub fn distinct(ids: &[String]) -> Result<(), InputError> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    if ids.iter().all(|id| seen.insert(id.as_str())) {
        Ok(())
    } else {
        Err(InputError::DuplicateSeatIds)
    }
}

/// Trims and checks a whole seat list, in the contract's order: count, then each element
/// in turn, then duplicates.
pub fn seat_ids<S: AsRef<str>>(raw: &[S], max: usize) -> Result<Vec<String>, InputError> {
    seat_count(raw.len(), max)?;
    let ids = raw.iter().enumerate().map(|(i, s)| seat_id(i, s.as_ref())).collect::<Result<Vec<_>, _>>()?;
    distinct(&ids)?;
    Ok(ids)
}

/// Checks a hold duration in seconds.
pub fn hold_seconds(secs: i64) -> Result<i64, InputError> {
    if (MIN_HOLD_SECONDS..=MAX_HOLD_SECONDS).contains(&secs) {
        Ok(secs)
    } else {
        Err(InputError::HoldDuration { min: MIN_HOLD_SECONDS, max: MAX_HOLD_SECONDS })
    }
}

/// Checks a request (idempotency) key.
pub fn request_key(raw: &str) -> Result<&str, InputError> {
    let chars = raw.chars().count();
    if chars == 0 || chars > MAX_REQUEST_KEY_CHARS || raw.chars().any(char::is_control) {
        return Err(InputError::RequestKey { max: MAX_REQUEST_KEY_CHARS });
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_ids_are_trimmed_and_checked_in_order() {
        assert_eq!(seat_ids(&[" A1 ", "B2"], 10).unwrap(), vec!["A1", "B2"]);
        assert_eq!(seat_ids::<&str>(&[], 10), Err(InputError::NoSeats));
        assert_eq!(seat_ids(&["A1", "  "], 10), Err(InputError::EmptySeatId { index: 1 }));
        // an empty element is reported before a later duplicate
        assert_eq!(seat_ids(&["A1", "A1", ""], 10), Err(InputError::EmptySeatId { index: 2 }));
        assert_eq!(seat_ids(&["A1", " A1"], 10), Err(InputError::DuplicateSeatIds));
        assert_eq!(seat_ids(&["A1", "A2", "A3"], 2), Err(InputError::TooManySeats { max: 2 }));
        assert_eq!(seat_ids(&["A\u{0}1"], 10), Err(InputError::SeatIdControlChar { index: 0 }));
        let long = "x".repeat(MAX_SEAT_ID_CHARS + 1);
        assert_eq!(
            seat_ids(&["A1", &long], 10),
            Err(InputError::SeatIdTooLong { index: 1, max: MAX_SEAT_ID_CHARS })
        );
        // limits count characters, not bytes
        let wide = "é".repeat(MAX_SEAT_ID_CHARS);
        assert_eq!(seat_ids(&[&wide], 10).unwrap(), vec![wide.clone()]);
    }

    #[test]
    fn show_ids() {
        assert!(show_id("avengers_2026_7pm").is_ok());
        assert_eq!(show_id(""), Err(InputError::ShowIdLength { max: MAX_SHOW_ID_CHARS }));
        assert!(show_id(&"s".repeat(MAX_SHOW_ID_CHARS)).is_ok());
        assert!(show_id(&"s".repeat(MAX_SHOW_ID_CHARS + 1)).is_err());
        assert_eq!(show_id("a\nb"), Err(InputError::ShowIdControlChar));
    }

    #[test]
    fn durations_and_keys() {
        assert!(hold_seconds(0).is_err());
        assert!(hold_seconds(-5).is_err());
        assert_eq!(hold_seconds(600), Ok(600));
        assert!(hold_seconds(MAX_HOLD_SECONDS + 1).is_err());
        assert!(request_key("").is_err());
        assert!(request_key("k-1").is_ok());
        assert!(request_key(&"k".repeat(MAX_REQUEST_KEY_CHARS + 1)).is_err());
    }
}
