//! Reading one JSON value of any kind, as it arrives: a [`JsonValue`] reader says what it
//! does with each kind, and [`AnyValue`] hands it the value serde meets.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// What a reader does with each kind of JSON value, read by [`AnyValue`]. Every kind a
/// reader does not take is [`JsonValue::other`]; an array or object it does not take is
/// skipped first (without a depth limit past its own level).
pub(super) trait JsonValue<'de>: Sized {
    type Value;
    /// Any value the reader does not take.
    fn other(self) -> Self::Value;
    fn str(self, _: &str) -> Self::Value {
        self.other()
    }
    fn bool(self, _: bool) -> Self::Value {
        self.other()
    }
    fn int(self, _: i64) -> Self::Value {
        self.other()
    }
    fn float(self, _: f64) -> Self::Value {
        self.other()
    }
    fn null(self) -> Self::Value {
        self.other()
    }
    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.other())
    }
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.other())
    }
}

/// Reads one JSON value of any kind and hands it to its [`JsonValue`] reader.
pub(super) struct AnyValue<R>(pub(super) R);

impl<'de, R: JsonValue<'de>> DeserializeSeed<'de> for AnyValue<R> {
    type Value = R::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<R::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R: JsonValue<'de>> Visitor<'de> for AnyValue<R> {
    type Value = R::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, s: &str) -> Result<R::Value, E> {
        Ok(self.0.str(s))
    }
    fn visit_bool<E>(self, b: bool) -> Result<R::Value, E> {
        Ok(self.0.bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<R::Value, E> {
        Ok(self.0.int(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<R::Value, E> {
        Ok(match i64::try_from(n) {
            Ok(n) => self.0.int(n),
            Err(_) => self.0.float(n as f64),
        })
    }
    fn visit_f64<E>(self, x: f64) -> Result<R::Value, E> {
        Ok(self.0.float(x))
    }
    fn visit_unit<E>(self) -> Result<R::Value, E> {
        Ok(self.0.null())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<R::Value, A::Error> {
        self.0.seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<R::Value, A::Error> {
        self.0.map(map)
    }
}

/// A field read for its kind (a string, a number, true or false, null): scalars as they
/// are, an array or object as an empty one. Its elements are walked, so they count towards
/// serde_json's nesting limit as in a whole [`Value`], but none is kept: a large array costs
/// no memory.
pub(super) struct Kind;

impl<'de> JsonValue<'de> for Kind {
    type Value = Value;
    fn other(self) -> Value {
        Value::Null
    }
    fn str(self, s: &str) -> Value {
        Value::String(s.to_owned())
    }
    fn bool(self, b: bool) -> Value {
        Value::Bool(b)
    }
    fn int(self, n: i64) -> Value {
        Value::from(n)
    }
    fn float(self, x: f64) -> Value {
        Value::from(x)
    }
    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element_seed(AnyValue(Kind))?.is_some() {}
        Ok(Value::Array(Vec::new()))
    }
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(AnyValue(Kind))?;
        }
        Ok(Value::Object(Map::new()))
    }
}
