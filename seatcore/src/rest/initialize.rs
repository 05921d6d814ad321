//! The initialize body: the elements of `seat_ids` or `seats` go straight into a
//! [`MapBuilder`] as the parser meets them. No value and no string is kept per seat (the
//! builder keeps every id in one buffer), so a 200,000-seat body costs the compact map and
//! the body's bytes (a body of declared length up to [`READ_WHOLE`], read whole, then
//! parsed) or a read buffer (a longer or chunked one, parsed as it arrives).
//!
//! The checks, their messages and their order are those of [`super::parse_object`] and
//! [`crate::seat_map::resolve`]: a body the one refuses, this refuses with the same error.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::body::{not_an_object, Entries, Key, Object};
use super::json::{AnyValue, JsonValue, Kind, Scalar};
use crate::error::InputError;
use crate::seat_map::{MapBuilder, SeatSpec, Stage};

/// Bytes read from the body at a time.
const READ_BUFFER: usize = 64 * 1024;

/// What an initialize body asks for, once read.
#[derive(Default)]
pub(super) struct InitializeBody {
    /// `seat_ids`: the map, or `None` when the value was not a list.
    seat_ids: Option<Option<MapBuilder>>,
    /// `seats`: the map, or `None` when the value was not a list.
    seats: Option<Option<MapBuilder>>,
}

impl InitializeBody {
    /// The map to create, and how far its problems go before the show id's: a flat list is
    /// checked whole before the show id, a structured map as far as its seats' types.
    pub(super) fn into_map(self) -> Result<(MapBuilder, Stage), InputError> {
        match (self.seat_ids, self.seats) {
            (Some(_), Some(_)) => Err(InputError::SeatMapTwice),
            (None, Some(seats)) => seats.map(|m| (m, Stage::Shape)).ok_or(InputError::SeatsNotAList),
            (Some(ids), None) => ids.map(|m| (m, Stage::Clash)).ok_or(InputError::SeatIdsNotAList),
            (None, None) => Err(InputError::SeatIdsNotAList),
        }
    }
}

/// Reads a whole body held in memory.
pub(super) fn from_slice(bytes: &[u8]) -> Result<InitializeBody, InputError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body = (&mut de)
        .deserialize_map(Object(BodyVisitor { size_hint: bytes.len() }))
        .map_err(|e| not_an_object(&e))?;
    de.end().map_err(|e| not_an_object(&e))?;
    Ok(body)
}

/// Why a streamed body could not be had.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum StreamError {
    /// More than the limit.
    TooLarge,
    /// The body is not a JSON object, or could not be read to its end.
    Input(InputError),
}

/// A body that declares at most this many bytes is read whole, then parsed: serde_json
/// takes a reader a byte at a time (reading the JSON so was 22 % of the server's CPU for an
/// initialize of 200,000 ids; read whole first, the initialize is some 30 ms faster,
/// docs/bench.md). Such a body costs its bytes beside the map being built, until the parse
/// ends: a list of 200,000 ids like `S123456` takes 2.1 MB.
const READ_WHOLE: usize = 4 * 1024 * 1024;

/// Reads a body from `body`, at most `limit` bytes of it. A body that turns out not to be
/// a JSON object is still read to its end (up to the limit), so that a body over the limit
/// is reported as such whatever it holds.
/// `length` is the length the request declares, if any: a body of declared length up to
/// [`READ_WHOLE`] is read whole, any other is parsed as it arrives; a body that ends before
/// its declared length or runs past it is refused as malformed.
pub(super) fn from_reader(
    body: impl Read,
    length: Option<usize>,
    limit: usize,
) -> Result<InitializeBody, StreamError> {
    if let Some(length) = length.filter(|&n| n <= READ_WHOLE.min(limit)) {
        let mut bytes = Vec::with_capacity(length);
        let past_length = length as u64 + 1;
        Limited::new(body, limit).take(past_length).read_to_end(&mut bytes).map_err(|e| read_failure(&e))?;
        if bytes.len() != length {
            return Err(StreamError::Input(InputError::NotAnObject));
        }
        return from_slice(&bytes).map_err(StreamError::Input);
    }
    let size_hint = length.unwrap_or(0).min(limit);
    let mut reader = BufReader::with_capacity(READ_BUFFER, Limited::new(body, limit));
    let mut de = serde_json::Deserializer::from_reader(&mut reader);
    let parsed =
        (&mut de).deserialize_map(Object(BodyVisitor { size_hint })).and_then(|body| de.end().map(|()| body));
    match parsed {
        // `end` read to the body's end: every byte of it was taken
        Ok(_) if length.is_some_and(|n| n != limit - reader.get_ref().left) => {
            Err(StreamError::Input(InputError::NotAnObject))
        }
        Ok(body) => Ok(body),
        Err(e) if e.is_io() => Err(read_failure(&io::Error::from(e))),
        Err(e) => {
            drain(&mut reader)?;
            Err(StreamError::Input(not_an_object(&e)))
        }
    }
}

/// The refusal of a body refused before it was parsed: `problem`, unless the body is over
/// `limit` or cannot be read (it is read to its end, and dropped).
pub(super) fn refuse(body: impl Read, limit: usize, problem: InputError) -> StreamError {
    let mut reader = BufReader::with_capacity(READ_BUFFER, Limited::new(body, limit));
    match drain(&mut reader) {
        Ok(()) => StreamError::Input(problem),
        Err(e) => e,
    }
}

/// Reads what is left of a body, at most its limit; `Ok` when it ends within it.
fn drain(body: &mut impl BufRead) -> Result<(), StreamError> {
    loop {
        match body.fill_buf() {
            Ok([]) => return Ok(()),
            Ok(buf) => {
                let n = buf.len();
                body.consume(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_failure(&e)),
        }
    }
}

/// A failed read of the body: past its limit, or the client stopped sending.
fn read_failure(e: &io::Error) -> StreamError {
    if e.get_ref().is_some_and(|inner| inner.is::<TooLarge>()) {
        StreamError::TooLarge
    } else {
        StreamError::Input(InputError::NotAnObject)
    }
}

/// The error of a read past the limit.
#[derive(Debug)]
struct TooLarge;

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the body is longer than its limit")
    }
}

impl std::error::Error for TooLarge {}

/// A reader that gives at most `left` bytes, and fails with [`TooLarge`] when more follow.
struct Limited<R> {
    inner: R,
    left: usize,
}

impl<R: Read> Limited<R> {
    fn new(inner: R, limit: usize) -> Limited<R> {
        Limited { inner, left: limit }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(TooLarge)),
            };
        }
        let n = buf.len().min(self.left);
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got;
        Ok(got)
    }
}

/// The body: a JSON object; a repeated key keeps its last value. `size_hint` is the body's
/// length when known: at most a quarter of it are seat ids of a flat list (`"A",`), a
/// sixteenth seats of a map (`{"seat_id":"A"},`).
struct BodyVisitor {
    size_hint: usize,
}

impl<'de> Entries<'de> for BodyVisitor {
    type Body = InitializeBody;
    fn entry<A: MapAccess<'de>>(
        &self,
        body: &mut InitializeBody,
        key: Key,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match key {
            Key::SeatIds => self.list(map, &mut body.seat_ids, true)?,
            Key::Seats => self.list(map, &mut body.seats, false)?,
            Key::HoldDurationSeconds => {
                map.next_value::<Box<RawValue>>()?;
            }
            Key::Other => {
                map.next_value::<IgnoredAny>()?;
            }
            // A field another endpoint reads for its kind (so refused where it would be).
            _ => {
                map.next_value_seed(AnyValue(Kind))?;
            }
        }
        Ok(())
    }
}

impl BodyVisitor {
    /// Reads the value of `seat_ids` (`flat`) or `seats` into `slot`. A repeated key: the
    /// earlier list is let go before the new one is read.
    fn list<'de, A: MapAccess<'de>>(
        &self,
        map: &mut A,
        slot: &mut Option<Option<MapBuilder>>,
        flat: bool,
    ) -> Result<(), A::Error> {
        *slot = None;
        let (mut list, bytes_per_seat) = if flat { (MapBuilder::ids(), 4) } else { (MapBuilder::map(), 16) };
        list.reserve(self.size_hint / bytes_per_seat, self.size_hint);
        let listed = map.next_value_seed(AnyValue(ListSeed { map: &mut list, flat }))?;
        *slot = Some(listed.then_some(list));
        Ok(())
    }
}

/// `seat_ids` (`flat`) or `seats`: each element goes into `map`. The value is whether it
/// was a list; anything else is skipped.
struct ListSeed<'m> {
    map: &'m mut MapBuilder,
    flat: bool,
}

impl<'de> JsonValue<'de> for ListSeed<'_> {
    type Value = bool;
    fn other(self) -> bool {
        false
    }
    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        if self.flat {
            while seq.next_element_seed(AnyValue(IdSeed { map: self.map }))?.is_some() {}
        } else {
            let mut scratch = Scratch::default();
            while seq
                .next_element_seed(AnyValue(SeatSeed { map: self.map, scratch: &mut scratch }))?
                .is_some()
            {}
        }
        Ok(true)
    }
}

/// One element of `seat_ids`: a string is a seat id; anything else is "not a string".
struct IdSeed<'m> {
    map: &'m mut MapBuilder,
}

impl<'de> JsonValue<'de> for IdSeed<'_> {
    type Value = ();
    fn other(self) {
        self.map.push_unreadable(InputError::SeatIdNotAString { index: self.map.len() });
    }
    fn str(self, s: &str) {
        self.map.push_id(s);
    }
}

/// The text fields of the seat being read, reused from seat to seat.
#[derive(Default)]
struct Scratch {
    seat_id: String,
    section: String,
    row: String,
    category: String,
    /// Fields nobody reads.
    other: String,
}

/// A field of a map's seat.
#[derive(Clone, Copy, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    SeatId,
    Row,
    Position,
    Section,
    Category,
    Accessible,
    Rank,
    #[serde(other)]
    Other,
}

/// Reads one field's value: a scalar, its string copied into `buf`; `None` for an array or
/// object (skipped without storing it).
struct ScalarSeed<'b> {
    buf: &'b mut String,
}

impl<'de, 'b> JsonValue<'de> for ScalarSeed<'b> {
    type Value = Option<Scalar<'b>>;
    fn other(self) -> Option<Scalar<'b>> {
        None
    }
    fn scalar(self, value: Scalar<'_>) -> Option<Scalar<'b>> {
        Some(value.kept_in(self.buf))
    }
}

/// One seat of a map: an object whose fields have the right JSON types goes into the
/// builder; anything else is the first problem of its kind at this index.
struct SeatSeed<'m, 's> {
    map: &'m mut MapBuilder,
    scratch: &'s mut Scratch,
}

impl<'de> JsonValue<'de> for SeatSeed<'_, '_> {
    type Value = ();
    fn other(self) {
        self.map.push_unreadable(InputError::SeatNotAnObject { index: self.map.len() });
    }
    fn map<A: MapAccess<'de>>(self, mut fields: A) -> Result<(), A::Error> {
        let index = self.map.len();
        let s = self.scratch;
        let wrong = |field, rule| InputError::SeatField { index, field, rule };
        let (mut seat_id, mut section, mut row, mut category) = (false, false, false, false);
        let (mut position, mut accessible, mut rank) = (None, None, None);
        let mut error = None;
        while let Some(field) = fields.next_key::<Field>()? {
            let buf = match field {
                Field::SeatId => &mut s.seat_id,
                Field::Section => &mut s.section,
                Field::Row => &mut s.row,
                Field::Category => &mut s.category,
                _ => &mut s.other,
            };
            let value = fields.next_value_seed(AnyValue(ScalarSeed { buf }))?;
            // The first problem of the seat is the one reported.
            let mut refuse = |field, rule| {
                error.get_or_insert(wrong(field, rule));
            };
            match (field, value) {
                (Field::SeatId, Some(Scalar::Str(_))) => seat_id = true,
                (Field::SeatId, _) => refuse("seat_id", "a string"),
                (Field::Row, Some(Scalar::Str(_))) => row = true,
                (Field::Row | Field::Position | Field::Rank, Some(Scalar::Null)) | (Field::Other, _) => {}
                (Field::Row, _) => refuse("row", "a string"),
                (Field::Position, Some(Scalar::Int(n))) => position = Some(n),
                (Field::Position, _) => refuse("position", crate::seat_map::POSITION_RULE),
                (Field::Section, Some(Scalar::Str(_))) => section = true,
                (Field::Section, _) => refuse("section", "a string"),
                (Field::Category, Some(Scalar::Str(_))) => category = true,
                (Field::Category, _) => refuse("category", "a string"),
                (Field::Accessible, Some(Scalar::Bool(b))) => accessible = Some(b),
                (Field::Accessible, _) => refuse("accessible", "true or false"),
                (Field::Rank, Some(Scalar::Int(n))) => rank = Some(n as f64),
                (Field::Rank, Some(Scalar::Float(x))) => rank = Some(x),
                (Field::Rank, _) => refuse("rank", "a number"),
            }
        }
        let error = error.or_else(|| (!seat_id).then(|| wrong("seat_id", "given")));
        match error {
            Some(e) => self.map.push_unreadable(e),
            None => self.map.push(SeatSpec {
                seat_id: &s.seat_id,
                section: section.then_some(s.section.as_str()),
                row: row.then_some(s.row.as_str()),
                position,
                category: category.then_some(s.category.as_str()),
                accessible,
                rank,
                derive_place: false,
            }),
        }
        Ok(())
    }
}
