//! Reading one JSON value of any kind, as it arrives: a [`JsonValue`] reader says what it
//! does with each kind, and [`AnyValue`] hands it the value serde meets.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON scalar as serde meets it: a string is borrowed for the call only.
#[derive(Clone, Copy, Debug)]
pub(super) enum Scalar<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Float(f64),
    Null,
}

impl Scalar<'_> {
    /// The same scalar with its string, if any, copied into `buf`: kept past the call that
    /// read it.
    #[inline]
    pub(super) fn kept_in(self, buf: &mut String) -> Scalar<'_> {
        match self {
            Scalar::Str(s) => {
                buf.clear();
                buf.push_str(s);
                Scalar::Str(buf)
            }
            Scalar::Bool(b) => Scalar::Bool(b),
            Scalar::Int(n) => Scalar::Int(n),
            Scalar::Float(x) => Scalar::Float(x),
            Scalar::Null => Scalar::Null,
        }
    }
}

/// What a reader does with each kind of JSON value, read by [`AnyValue`]. Every kind a
/// reader does not take is [`JsonValue::other`]; an array or object it does not take is
/// skipped first (without a depth limit past its own level).
pub(super) trait JsonValue<'de>: Sized {
    type Value;
    /// Any value the reader does not take.
    fn other(self) -> Self::Value;
    /// A string, for a reader that takes strings only.
    fn str(self, _: &str) -> Self::Value {
        self.other()
    }
    /// Any scalar; by default a string goes to [`JsonValue::str`], the rest to `other`.
    fn scalar(self, value: Scalar<'_>) -> Self::Value {
        match value {
            Scalar::Str(s) => self.str(s),
            _ => self.other(),
        }
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
        Ok(self.0.scalar(Scalar::Str(s)))
    }
    fn visit_bool<E>(self, b: bool) -> Result<R::Value, E> {
        Ok(self.0.scalar(Scalar::Bool(b)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<R::Value, E> {
        Ok(self.0.scalar(Scalar::Int(n)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<R::Value, E> {
        Ok(self.0.scalar(i64::try_from(n).map_or(Scalar::Float(n as f64), Scalar::Int)))
    }
    fn visit_f64<E>(self, x: f64) -> Result<R::Value, E> {
        Ok(self.0.scalar(Scalar::Float(x)))
    }
    fn visit_unit<E>(self) -> Result<R::Value, E> {
        Ok(self.0.scalar(Scalar::Null))
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
    fn scalar(self, value: Scalar<'_>) -> Value {
        match value {
            Scalar::Str(s) => Value::String(s.to_owned()),
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(n) => Value::from(n),
            Scalar::Float(x) => Value::from(x),
            Scalar::Null => Value::Null,
        }
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
