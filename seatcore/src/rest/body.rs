//! Request bodies: the JSON object, `seat_ids` validated while it is parsed, and
//! `hold_duration_seconds`. (An initialize body is read by `initialize`.)
//!
//! `seat_ids` is checked element by element as the parser meets it, so a 200,000-seat
//! initialize never holds a `serde_json::Value` per seat, and the checks run in the
//! contract's order: not a list, empty (or too many), then per element "not a string" or
//! the core's `validate::seat_id`, then duplicates.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::json::{AnyValue, JsonValue, Kind};
use super::Settings;
use crate::error::InputError;
use crate::validate;

/// Deepest nesting of arrays and objects a body may have (serde_json's own limit).
pub const MAX_DEPTH: usize = 128;

/// A key of a request's JSON object: the fields some endpoint reads. The initialize body's
/// reader takes its keys from here too, so a field is read the same way by every endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
pub enum Key {
    SeatIds,
    /// A seat map's seats (read by initialize only).
    Seats,
    /// Read as raw JSON text: numbers beyond `f64` (`1e400`) are valid JSON, and are read
    /// by [`hold_seconds`] rather than refused by the parser.
    HoldDurationSeconds,
    HoldId,
    /// The small fields of best-available holds and blocks.
    Count,
    Category,
    Section,
    Accessible,
    Reason,
    BookingId,
    #[serde(other)]
    Other,
}

/// A request's JSON object, reduced to the fields any endpoint reads.
///
/// A field given as `null` reads as `Some(Value::Null)`; a field not given as `None`. A
/// repeated key keeps its last value, as Python's `json` does.
#[derive(Debug, Default)]
pub struct JsonBody {
    pub seat_ids: Option<Result<Vec<String>, InputError>>,
    pub hold_duration_seconds: Option<Box<RawValue>>,
    /// The other fields read as JSON values, one entry per key.
    values: Vec<(Key, Value)>,
    /// How many keys the object had.
    pub keys: usize,
}

impl JsonBody {
    /// The validated, trimmed seat ids.
    pub fn seat_ids(&mut self) -> Result<Vec<String>, InputError> {
        self.seat_ids.take().unwrap_or(Err(InputError::SeatIdsNotAList))
    }

    /// A field read as a JSON value (`hold_id`, `count`, ...), as given.
    pub fn value(&self, key: Key) -> Option<&Value> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    fn set_value(&mut self, key: Key, value: Value) {
        match self.values.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.values.push((key, value)),
        }
    }
}

/// Whether a `Content-Type` says JSON, the way Flask's `request.is_json` decides.
pub fn is_json_content_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Parses `bytes` as one JSON object; `max_seats` caps `seat_ids`. `NotAnObject` when the
/// body is not a JSON object (malformed, another JSON type, trailing garbage), `TooDeep`
/// when it nests past [`MAX_DEPTH`].
pub fn parse_object(bytes: &[u8], max_seats: usize) -> Result<JsonBody, InputError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body = (&mut de).deserialize_map(Object(BodySeed { max_seats })).map_err(|e| not_an_object(&e))?;
    de.end().map_err(|e| not_an_object(&e))?;
    Ok(body)
}

/// serde_json reports its nesting limit only in its message (pinned by a test below).
pub(super) fn not_an_object(e: &serde_json::Error) -> InputError {
    if e.to_string().starts_with("recursion limit exceeded") {
        InputError::TooDeep { max: MAX_DEPTH }
    } else {
        InputError::NotAnObject
    }
}

/// What reads the entries of a body, read by [`Object`]: the value of each key.
pub(super) trait Entries<'de> {
    type Body: Default;
    /// Reads the value of `key` from `map` into `body`.
    fn entry<A: MapAccess<'de>>(&self, body: &mut Self::Body, key: Key, map: &mut A) -> Result<(), A::Error>;
}

/// A body, read by `deserialize_map`: a JSON object (anything else is serde's "invalid
/// type" error), its entries read in order by the [`Entries`] reader; a repeated key is read
/// again.
pub(super) struct Object<R>(pub(super) R);

impl<'de, R: Entries<'de>> Visitor<'de> for Object<R> {
    type Value = R::Body;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<R::Body, A::Error> {
        let mut body = R::Body::default();
        while let Some(key) = map.next_key::<Key>()? {
            self.0.entry(&mut body, key, &mut map)?;
        }
        Ok(body)
    }
}

/// The body of every endpoint but initialize.
struct BodySeed {
    max_seats: usize,
}

impl<'de> Entries<'de> for BodySeed {
    type Body = JsonBody;
    fn entry<A: MapAccess<'de>>(&self, body: &mut JsonBody, key: Key, map: &mut A) -> Result<(), A::Error> {
        body.keys += 1;
        match key {
            Key::SeatIds => {
                body.seat_ids = Some(map.next_value_seed(AnyValue(SeatIdsSeed { max: self.max_seats }))?)
            }
            Key::HoldDurationSeconds => body.hold_duration_seconds = Some(map.next_value()?),
            Key::Seats | Key::Other => {
                map.next_value::<IgnoredAny>()?;
            }
            _ => body.set_value(key, map.next_value_seed(AnyValue(Kind))?),
        }
        Ok(())
    }
}

/// `seat_ids`: anything but an array is "not a list"; nested values are skipped, not stored.
struct SeatIdsSeed {
    max: usize,
}

impl<'de> JsonValue<'de> for SeatIdsSeed {
    type Value = Result<Vec<String>, InputError>;
    fn other(self) -> Self::Value {
        Err(InputError::SeatIdsNotAList)
    }
    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut ids = Vec::new();
        let mut first_error = None;
        let mut len = 0usize;
        while let Some(element) = seq.next_element_seed(AnyValue(ElementSeed))? {
            // Past the first problem or the limit, elements are only counted.
            if first_error.is_none() && len < self.max {
                match element {
                    Some(s) => match validate::seat_id(len, &s) {
                        Ok(id) => ids.push(id),
                        Err(e) => first_error = Some(e),
                    },
                    None => first_error = Some(InputError::SeatIdNotAString { index: len }),
                }
            }
            len += 1;
        }
        if let Err(e) = validate::seat_count(len, self.max) {
            return Ok(Err(e));
        }
        if let Some(e) = first_error {
            return Ok(Err(e));
        }
        if let Err(e) = validate::distinct(&ids) {
            return Ok(Err(e));
        }
        Ok(Ok(ids))
    }
}

/// One element of `seat_ids`: a string, or `None` for anything else (skipped without
/// storing it).
struct ElementSeed;

impl<'de> JsonValue<'de> for ElementSeed {
    type Value = Option<String>;
    fn other(self) -> Option<String> {
        None
    }
    fn str(self, s: &str) -> Option<String> {
        Some(s.to_owned())
    }
}

/// `hold_duration_seconds` as the contract reads it: absent → the default; a boolean →
/// refused; a number → its integer part (any magnitude: `1e400` is just very long); a
/// string of ASCII digits → that number; anything else → refused. The result is clamped
/// into the server's bounds.
pub fn hold_seconds(raw: Option<&RawValue>, s: &Settings) -> Result<i64, InputError> {
    let refused = || InputError::HoldDurationType { min: s.min_hold_seconds, max: s.max_hold_seconds };
    let Some(raw) = raw else {
        return Ok(s.default_hold_seconds);
    };
    let text = raw.get();
    let secs = match text.as_bytes().first() {
        // A JSON number: Rust's float parser takes the whole JSON number grammar and
        // saturates to infinity; `as` then saturates to the i64 range.
        Some(b'-' | b'0'..=b'9') => match text.parse::<i64>() {
            Ok(n) => n,
            Err(_) => text.parse::<f64>().map_err(|_| refused())?.trunc() as i64,
        },
        Some(b'"') => match serde_json::from_str::<String>(text) {
            Ok(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
                t.parse::<i64>().unwrap_or(i64::MAX)
            }
            _ => return Err(refused()),
        },
        _ => return Err(refused()),
    };
    Ok(secs.clamp(s.min_hold_seconds, s.max_hold_seconds))
}

/// `hold_id` of book and release: a non-empty string (whitespace only counts as empty).
pub fn hold_id(raw: Option<&Value>) -> Result<&str, InputError> {
    match raw {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.as_str()),
        _ => Err(InputError::HoldIdMissing),
    }
}

/// `booking_id` of cancel-booking: a non-empty string (whitespace only counts as empty).
pub fn booking_id(raw: Option<&Value>) -> Result<&str, InputError> {
    match raw {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.as_str()),
        _ => Err(InputError::BookingIdMissing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InputError::*;

    fn ids(body: &str) -> Result<Vec<String>, InputError> {
        parse_object(body.as_bytes(), 3).expect("an object").seat_ids()
    }

    #[test]
    fn only_objects_are_bodies() {
        for bad in ["", "[]", "[1]", "\"x\"", "null", "1", "{", "{}x", "{\"a\":}"] {
            assert_eq!(parse_object(bad.as_bytes(), 10).err(), Some(NotAnObject), "{bad:?}");
        }
        assert_eq!(parse_object(b" {} ", 10).unwrap().keys, 0);
        assert_eq!(parse_object(br#"{"x": [1, {"y": 2}]}"#, 10).unwrap().keys, 1);
    }

    #[test]
    fn nesting_past_the_limit_is_named() {
        let nested =
            |key: &str, depth: usize| format!("{{\"{key}\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
        let deep = nested("hold_id", MAX_DEPTH + 5);
        assert_eq!(parse_object(deep.as_bytes(), 10).err(), Some(TooDeep { max: MAX_DEPTH }));
        assert!(parse_object(nested("hold_id", MAX_DEPTH - 2).as_bytes(), 10).is_ok());
        // values nobody reads are skipped without a depth limit (and without recursion)
        assert!(parse_object(nested("x", 10 * MAX_DEPTH).as_bytes(), 10).is_ok());
        let ids = parse_object(nested("seat_ids", 10 * MAX_DEPTH).as_bytes(), 10).unwrap().seat_ids();
        assert_eq!(ids, Err(SeatIdNotAString { index: 0 }));
    }

    #[test]
    fn fields_read_for_their_kind_keep_no_elements() {
        let many = format!(
            r#"{{"count": [{}{{"": 0}}], "reason": {{"a": [1, 2]}}, "hold_id": "h"}}"#,
            r#"{"": 0},"#.repeat(10_000)
        );
        let body = parse_object(many.as_bytes(), 10).unwrap();
        assert_eq!(body.value(Key::Count), Some(&Value::Array(Vec::new())));
        assert_eq!(body.value(Key::Reason), Some(&Value::Object(serde_json::Map::new())));
        assert_eq!(body.value(Key::HoldId), Some(&Value::from("h")));
        let scalars =
            parse_object(br#"{"count": 4, "accessible": true, "section": null, "category": 1.5}"#, 10)
                .unwrap();
        assert_eq!(body_values(&scalars), [Value::from(4), Value::Bool(true), Value::Null, Value::from(1.5)]);
    }

    fn body_values(body: &JsonBody) -> Vec<Value> {
        [Key::Count, Key::Accessible, Key::Section, Key::Category]
            .into_iter()
            .map(|k| body.value(k).cloned().expect("a value"))
            .collect()
    }

    #[test]
    fn seat_ids_in_contract_order() {
        assert_eq!(ids(r#"{}"#), Err(SeatIdsNotAList));
        assert_eq!(ids(r#"{"seat_ids": "A1"}"#), Err(SeatIdsNotAList));
        assert_eq!(ids(r#"{"seat_ids": null}"#), Err(SeatIdsNotAList));
        assert_eq!(ids(r#"{"seat_ids": {"0": "A1"}}"#), Err(SeatIdsNotAList));
        assert_eq!(ids(r#"{"seat_ids": []}"#), Err(NoSeats));
        assert_eq!(ids(r#"{"seat_ids": ["A1", 2, ""]}"#), Err(SeatIdNotAString { index: 1 }));
        assert_eq!(ids(r#"{"seat_ids": ["A1", " ", 2]}"#), Err(EmptySeatId { index: 1 }));
        assert_eq!(ids(r#"{"seat_ids": ["A1", [], " "]}"#), Err(SeatIdNotAString { index: 1 }));
        assert_eq!(ids(r#"{"seat_ids": ["A1", " A1"]}"#), Err(DuplicateSeatIds));
        assert_eq!(ids(r#"{"seat_ids": ["A1","A2","A3","A4"]}"#), Err(TooManySeats { max: 3 }));
        assert_eq!(ids(r#"{"seat_ids": [" A1 ", "B\u0032"]}"#), Ok(vec!["A1".to_string(), "B2".to_string()]));
        // the last of repeated keys counts
        assert_eq!(ids(r#"{"seat_ids": 1, "seat_ids": ["A1"]}"#), Ok(vec!["A1".to_string()]));
        let e = ids(r#"{"seat_ids": ["A1", 7]}"#).unwrap_err();
        assert_eq!((e.to_string().as_str(), e.index()), ("each seat_id must be a string", Some(1)));
    }

    #[test]
    fn durations_follow_the_contract() {
        let s = Settings::default();
        let d = |text: &str| {
            let body = format!("{{\"hold_duration_seconds\": {text}}}");
            let parsed = parse_object(body.as_bytes(), 10).expect("an object");
            hold_seconds(parsed.hold_duration_seconds.as_deref(), &s)
        };
        assert_eq!(hold_seconds(None, &s), Ok(60));
        assert_eq!(d("120"), Ok(120));
        assert_eq!(d("120.9"), Ok(120));
        assert_eq!(d("1.2e2"), Ok(120));
        assert_eq!(d(r#""300""#), Ok(300));
        assert_eq!(d("5"), Ok(60));
        assert_eq!(d("-5"), Ok(60));
        assert_eq!(d("99999"), Ok(1800));
        assert_eq!(d("1e300"), Ok(1800));
        assert_eq!(d("1e400"), Ok(1800));
        assert_eq!(d("-1e400"), Ok(60));
        assert_eq!(d("18446744073709551615"), Ok(1800));
        assert_eq!(d(r#""99999999999999999999999""#), Ok(1800));
        let msg = "hold_duration_seconds must be an integer between 60 and 1800 seconds";
        for bad in ["true", "null", r#""12a""#, r#""""#, r#""-5""#, "{}", "[60]"] {
            assert_eq!(d(bad).map_err(|e| e.to_string()), Err(msg.to_string()), "{bad}");
        }
    }

    #[test]
    fn hold_ids_must_be_nonempty_strings() {
        use serde_json::json;
        assert_eq!(hold_id(Some(&json!("abc"))), Ok("abc"));
        assert_eq!(hold_id(Some(&json!("  "))), Err(HoldIdMissing));
        assert_eq!(hold_id(Some(&json!(5))), Err(HoldIdMissing));
        assert_eq!(hold_id(None), Err(HoldIdMissing));
        assert_eq!(booking_id(Some(&json!("b"))), Ok("b"));
        for bad in [json!(""), json!(" "), json!(null), json!(7), json!(["b"])] {
            assert_eq!(booking_id(Some(&bad)), Err(BookingIdMissing), "{bad}");
        }
        assert_eq!(booking_id(None), Err(BookingIdMissing));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type(Some("application/json")));
        assert!(is_json_content_type(Some("Application/JSON; charset=utf-8")));
        assert!(is_json_content_type(Some("application/vnd.api+json")));
        assert!(!is_json_content_type(Some("text/plain")));
        assert!(!is_json_content_type(None));
    }
}
