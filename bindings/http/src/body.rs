//! Request bodies: the JSON object, `seat_ids` validated while it is parsed, and
//! `hold_duration_seconds`.
//!
//! `seat_ids` is checked element by element as the parser meets it, so a 200,000-seat
//! initialize never holds a `serde_json::Value` per seat, and the checks run in the
//! contract's order: not a list, empty (or too many), then per element "not a string" or
//! the core's `validate::seat_id`, then duplicates.

use std::fmt;

use seatcore::{validate, InputError};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::config::Settings;

/// Why a `seat_ids` field was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatIdsError {
    /// Missing, or not a JSON array.
    NotList,
    /// The element at `index` is not a string.
    NotString { index: usize },
    /// A rule of `seatcore::validate`.
    Input(InputError),
}

impl SeatIdsError {
    /// The contract's message.
    pub fn message(&self) -> String {
        match self {
            SeatIdsError::NotList => "seat_ids must be provided as a non-empty JSON array".into(),
            SeatIdsError::NotString { .. } => "each seat_id must be a string".into(),
            SeatIdsError::Input(e) => e.to_string(),
        }
    }

    /// The `details.index` of the reply, if any.
    pub fn index(&self) -> Option<usize> {
        match self {
            SeatIdsError::NotList => None,
            SeatIdsError::NotString { index } => Some(*index),
            SeatIdsError::Input(e) => e.index(),
        }
    }
}

/// A request's JSON object, reduced to the fields any endpoint reads.
///
/// `Some(Value::Null)` is a field given as `null`; `None` is a field not given. A repeated
/// key keeps its last value, as Python's `json` does.
#[derive(Debug, Default)]
pub struct JsonBody {
    pub seat_ids: Option<Result<Vec<String>, SeatIdsError>>,
    pub hold_duration_seconds: Option<Value>,
    pub hold_id: Option<Value>,
    /// How many keys the object had.
    pub keys: usize,
}

impl JsonBody {
    /// The validated, trimmed seat ids.
    pub fn seat_ids(&mut self) -> Result<Vec<String>, SeatIdsError> {
        self.seat_ids.take().unwrap_or(Err(SeatIdsError::NotList))
    }
}

/// The message for any body that is not a JSON object.
pub const NOT_AN_OBJECT: &str = "request body must be a JSON object";

/// Whether a `Content-Type` says JSON, the way Flask's `request.is_json` decides.
pub fn is_json_content_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Parses `bytes` as one JSON object; `max_seats` caps `seat_ids`. `Err` means the body
/// is not a JSON object (malformed, another JSON type, trailing garbage).
pub fn parse_object(bytes: &[u8], max_seats: usize) -> Result<JsonBody, ()> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body = BodySeed { max_seats }.deserialize(&mut de).map_err(|_| ())?;
    de.end().map_err(|_| ())?;
    Ok(body)
}

struct BodySeed {
    max_seats: usize,
}

impl<'de> DeserializeSeed<'de> for BodySeed {
    type Value = JsonBody;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonBody, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BodySeed {
    type Value = JsonBody;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonBody, A::Error> {
        let mut body = JsonBody::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            body.keys += 1;
            match key.as_ref() {
                "seat_ids" => body.seat_ids = Some(map.next_value_seed(SeatIdsSeed { max: self.max_seats })?),
                "hold_duration_seconds" => body.hold_duration_seconds = Some(map.next_value()?),
                "hold_id" => body.hold_id = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(body)
    }
}

struct SeatIdsSeed {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for SeatIdsSeed {
    type Value = Result<Vec<String>, SeatIdsError>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// Anything but an array is "not a list"; nested values are skipped, not stored.
impl<'de> Visitor<'de> for SeatIdsSeed {
    type Value = Result<Vec<String>, SeatIdsError>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(SeatIdsError::NotList))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(SeatIdsError::NotList))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(SeatIdsError::NotList))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(SeatIdsError::NotList))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(SeatIdsError::NotList))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(SeatIdsError::NotList))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err(SeatIdsError::NotList))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut ids = Vec::new();
        let mut first_error = None;
        let mut len = 0usize;
        while let Some(element) = seq.next_element::<Element>()? {
            // Past the first problem or the limit, elements are only counted.
            if first_error.is_none() && len < self.max {
                match element {
                    Element::Str(s) => match validate::seat_id(len, &s) {
                        Ok(id) => ids.push(id),
                        Err(e) => first_error = Some(SeatIdsError::Input(e)),
                    },
                    Element::Other => first_error = Some(SeatIdsError::NotString { index: len }),
                }
            }
            len += 1;
        }
        if let Err(e) = validate::seat_count(len, self.max) {
            return Ok(Err(SeatIdsError::Input(e)));
        }
        if let Some(e) = first_error {
            return Ok(Err(e));
        }
        if let Err(e) = validate::distinct(&ids) {
            return Ok(Err(SeatIdsError::Input(e)));
        }
        Ok(Ok(ids))
    }
}

/// One element of `seat_ids`: a string, or anything else (skipped without storing it).
enum Element {
    Str(String),
    Other,
}

impl<'de> de::Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Element;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, s: &str) -> Result<Element, E> {
                Ok(Element::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Element, E> {
                Ok(Element::Str(s))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_unit<E>(self) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Element::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Element::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The contract's message for a `hold_duration_seconds` of the wrong kind.
pub fn duration_message(s: &Settings) -> String {
    format!(
        "hold_duration_seconds must be an integer between {} and {} seconds",
        s.min_hold_seconds, s.max_hold_seconds
    )
}

/// `hold_duration_seconds` as the contract reads it: absent → the default; a boolean →
/// refused; a number → its integer part; a string of ASCII digits → that number; anything
/// else → refused. The result is clamped into the server's bounds.
pub fn hold_seconds(raw: Option<&Value>, s: &Settings) -> Result<i64, String> {
    let secs = match raw {
        None => s.default_hold_seconds,
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                i
            } else if n.as_u64().is_some() {
                i64::MAX
            } else {
                // `as` saturates, and JSON has no NaN or infinities.
                n.as_f64().map_or(i64::MAX, |f| f.trunc() as i64)
            }
        }
        Some(Value::String(t)) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            t.parse::<i64>().unwrap_or(i64::MAX)
        }
        Some(_) => return Err(duration_message(s)),
    };
    Ok(secs.clamp(s.min_hold_seconds, s.max_hold_seconds))
}

/// `hold_id` of book and release: a non-empty string (whitespace only counts as empty).
pub fn hold_id(raw: Option<&Value>) -> Option<&str> {
    match raw {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(body: &str) -> Result<Vec<String>, SeatIdsError> {
        parse_object(body.as_bytes(), 3).expect("an object").seat_ids()
    }

    #[test]
    fn only_objects_are_bodies() {
        for bad in ["", "[]", "[1]", "\"x\"", "null", "1", "{", "{}x", "{\"a\":}"] {
            assert!(parse_object(bad.as_bytes(), 10).is_err(), "{bad:?}");
        }
        assert_eq!(parse_object(b" {} ", 10).unwrap().keys, 0);
        assert_eq!(parse_object(br#"{"x": [1, {"y": 2}]}"#, 10).unwrap().keys, 1);
    }

    #[test]
    fn seat_ids_in_contract_order() {
        use InputError::*;
        assert_eq!(ids(r#"{}"#), Err(SeatIdsError::NotList));
        assert_eq!(ids(r#"{"seat_ids": "A1"}"#), Err(SeatIdsError::NotList));
        assert_eq!(ids(r#"{"seat_ids": null}"#), Err(SeatIdsError::NotList));
        assert_eq!(ids(r#"{"seat_ids": {"0": "A1"}}"#), Err(SeatIdsError::NotList));
        assert_eq!(ids(r#"{"seat_ids": []}"#), Err(SeatIdsError::Input(NoSeats)));
        assert_eq!(ids(r#"{"seat_ids": ["A1", 2, ""]}"#), Err(SeatIdsError::NotString { index: 1 }));
        assert_eq!(ids(r#"{"seat_ids": ["A1", " ", 2]}"#), Err(SeatIdsError::Input(EmptySeatId { index: 1 })));
        assert_eq!(ids(r#"{"seat_ids": ["A1", [], " "]}"#), Err(SeatIdsError::NotString { index: 1 }));
        assert_eq!(ids(r#"{"seat_ids": ["A1", " A1"]}"#), Err(SeatIdsError::Input(DuplicateSeatIds)));
        assert_eq!(ids(r#"{"seat_ids": ["A1","A2","A3","A4"]}"#), Err(SeatIdsError::Input(TooManySeats { max: 3 })));
        assert_eq!(ids(r#"{"seat_ids": [" A1 ", "B\u0032"]}"#), Ok(vec!["A1".to_string(), "B2".to_string()]));
        // the last of repeated keys counts
        assert_eq!(ids(r#"{"seat_ids": 1, "seat_ids": ["A1"]}"#), Ok(vec!["A1".to_string()]));
        let e = ids(r#"{"seat_ids": ["A1", 7]}"#).unwrap_err();
        assert_eq!((e.message().as_str(), e.index()), ("each seat_id must be a string", Some(1)));
    }

    #[test]
    fn durations_follow_the_contract() {
        let s = Settings::default();
        let d = |v: Value| hold_seconds(Some(&v), &s);
        assert_eq!(hold_seconds(None, &s), Ok(60));
        assert_eq!(d(json!(120)), Ok(120));
        assert_eq!(d(json!(120.9)), Ok(120));
        assert_eq!(d(json!("300")), Ok(300));
        assert_eq!(d(json!(5)), Ok(60));
        assert_eq!(d(json!(-5)), Ok(60));
        assert_eq!(d(json!(99999)), Ok(1800));
        assert_eq!(d(json!(1e300)), Ok(1800));
        assert_eq!(d(json!(u64::MAX)), Ok(1800));
        assert_eq!(d(json!("99999999999999999999999")), Ok(1800));
        let msg = "hold_duration_seconds must be an integer between 60 and 1800 seconds";
        for bad in [json!(true), json!(null), json!("12a"), json!(""), json!("-5"), json!({}), json!([60])] {
            assert_eq!(d(bad.clone()), Err(msg.to_string()), "{bad}");
        }
    }

    #[test]
    fn hold_ids_must_be_nonempty_strings() {
        assert_eq!(hold_id(Some(&json!("abc"))), Some("abc"));
        assert_eq!(hold_id(Some(&json!("  "))), None);
        assert_eq!(hold_id(Some(&json!(5))), None);
        assert_eq!(hold_id(None), None);
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
