//! The REST contract as a plain function: an endpoint and a request's parts in, a status
//! and a JSON document out. No sockets, no HTTP library: the HTTP door (`seatcore-server`)
//! adds headers, authentication, streaming and I/O; a Python web app can call the same
//! function through the Python door and answer exactly as the server does.

mod body;
mod initialize;
mod json;

use std::io::Read;

use serde_json::Value;

use crate::best::MAX_COUNT as BEST_MAX_COUNT;
use crate::contract::{self, Op};
use crate::error::{Error, InputError, Result};
use crate::ops::changes::MAX_PAGE;
use crate::ops::map::{Statistics, MAX_REASON_CHARS};
use crate::{validate, BestFilters, Change, HistoryQuery, SeatCore};
use initialize::{InitializeBody, StreamError};

pub use body::{is_json_content_type, parse_object, JsonBody, Key, MAX_DEPTH};

/// Largest request body in bytes, except for initialize (413 beyond it).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest initialize body in bytes: room for a 500,000-seat map of short ids.
pub const MAX_INITIALIZE_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The hold durations a REST server grants: requests are clamped into `min..=max` seconds;
/// a request without a duration gets `default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub min_hold_seconds: i64,
    pub max_hold_seconds: i64,
    pub default_hold_seconds: i64,
}

impl Settings {
    /// The contract's defaults: holds of 60 to 1,800 s, 60 s when none is asked for.
    pub const DEFAULT: Settings =
        Settings { min_hold_seconds: 60, max_hold_seconds: 1800, default_hold_seconds: 60 };

    /// Checks that every bound is a duration the core accepts and that `min <= max`.
    pub fn check(&self) -> Result<()> {
        for (name, secs) in [
            ("min_hold_seconds", self.min_hold_seconds),
            ("max_hold_seconds", self.max_hold_seconds),
            ("default_hold_seconds", self.default_hold_seconds),
        ] {
            if validate::hold_seconds(secs).is_err() {
                return Err(Error::Config(format!(
                    "{name} must be from {} to {} seconds, not {secs}",
                    validate::MIN_HOLD_SECONDS,
                    validate::MAX_HOLD_SECONDS
                )));
            }
        }
        if self.min_hold_seconds > self.max_hold_seconds {
            return Err(Error::Config(format!(
                "the minimum hold ({} s) is longer than the maximum ({} s)",
                self.min_hold_seconds, self.max_hold_seconds
            )));
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::DEFAULT
    }
}

/// Each operation of the contract is one endpoint.
impl Op {
    /// Every endpoint, in the order the documentation lists them.
    pub const ALL: &'static [Op] = &[
        Op::Health,
        Op::Audit,
        Op::Reset,
        Op::Initialize,
        Op::Status,
        Op::Hold,
        Op::Book,
        Op::Release,
        Op::Extend,
        Op::CancelBooking,
        Op::History,
        Op::Events,
        Op::Map,
        Op::HoldBest,
        Op::Block,
        Op::Unblock,
    ];

    /// The path template, e.g. `/shows/{show_id}/hold`; also the `route` label of metrics.
    pub fn template(self) -> &'static str {
        match self {
            Op::Health => "/health",
            Op::Audit => "/audit",
            Op::Reset => "/reset",
            Op::Initialize => "/shows/{show_id}/initialize",
            Op::Status => "/shows/{show_id}/seats",
            Op::Hold => "/shows/{show_id}/hold",
            Op::Book => "/shows/{show_id}/book",
            Op::Release => "/shows/{show_id}/release-hold",
            Op::History => "/shows/{show_id}/history",
            Op::Events => "/shows/{show_id}/events",
            Op::Map => "/shows/{show_id}/map",
            Op::HoldBest => "/shows/{show_id}/hold-best",
            Op::Block => "/shows/{show_id}/block",
            Op::Unblock => "/shows/{show_id}/unblock",
            Op::Extend => "/shows/{show_id}/extend-hold",
            Op::CancelBooking => "/shows/{show_id}/cancel-booking",
        }
    }

    /// The last path segment after `/shows/<id>/`, for endpoints of one show.
    fn action(self) -> Option<&'static str> {
        self.template().strip_prefix("/shows/{show_id}/")
    }

    /// `GET` or `POST`.
    pub fn method(self) -> &'static str {
        match self {
            Op::Health | Op::Audit | Op::Status | Op::History | Op::Events | Op::Map => "GET",
            Op::Reset
            | Op::Initialize
            | Op::Hold
            | Op::Book
            | Op::Release
            | Op::HoldBest
            | Op::Block
            | Op::Unblock
            | Op::Extend
            | Op::CancelBooking => "POST",
        }
    }

    /// Whether an operator would restrict it: it needs the admin token when one is set.
    pub fn requires_admin(self) -> bool {
        matches!(self, Op::Audit | Op::Reset | Op::Initialize | Op::Block | Op::Unblock | Op::CancelBooking)
    }

    /// The most body bytes a request may carry (413 beyond).
    pub fn body_limit(self) -> usize {
        match self {
            Op::Initialize | Op::Block | Op::Unblock => MAX_INITIALIZE_BODY_BYTES,
            _ => MAX_BODY_BYTES,
        }
    }

    /// One line on what it does, for the API's documentation.
    pub fn summary(self) -> &'static str {
        match self {
            Op::Health => "Whether the database answers, and how many shows it holds.",
            Op::Audit => "Checks every invariant of one show (?show_id=) or of all shows.",
            Op::Reset => "Clears every hold and booking of every show; seat maps stay.",
            Op::Initialize => "Creates a show with its seat map.",
            Op::Status => "Every seat of a show with its state, and the counts.",
            Op::Hold => "Holds seats, all or none, until expires_at.",
            Op::Book => "Books a live hold; booking it again returns the same booking.",
            Op::Release => {
                "Releases a live hold early: all of it, or only the seats listed (the hold keeps the rest)."
            }
            Op::Extend => {
                "Gives a live hold a new expiry from now, never past its creation plus the maximum hold life."
            }
            Op::CancelBooking => {
                "Cancels a booking: its seats are available again; the booking is kept, marked cancelled."
            }
            Op::History => {
                "A page of the show's changes, oldest first (?after=&seat_id=&limit=); it also \
                 ends at the change that brings its seat ids to 10,000."
            }
            Op::Events => {
                "The show's changes as server-sent events, live (from now, ?after= or Last-Event-ID)."
            }
            Op::Map => "The show's seat map: sections, rows, positions, categories, accessibility, ranks.",
            Op::HoldBest => {
                "Holds the best `count` adjacent seats of one row, leaving no lone seat where it can."
            }
            Op::Block => "Blocks seats (house seats, broken seats), all or none.",
            Op::Unblock => "Unblocks seats.",
        }
    }
}

/// A parameter of a request besides the path's show id and the body: a query parameter or
/// a header. Declared once, for the parser here and the API's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `?after=`: a change id.
    After,
    /// `?seat_id=`: one seat's changes only.
    SeatId,
    /// `?limit=`: the most changes in a page.
    Limit,
    /// `?show_id=`: one show only.
    ShowId,
    /// The `Last-Event-ID` header: where a resumed event stream starts.
    LastEventId,
    /// The `Idempotency-Key` header of holds.
    IdempotencyKey,
}

impl Param {
    /// Its name in the query string, or the header's name.
    pub fn name(self) -> &'static str {
        match self {
            Param::After => "after",
            Param::SeatId => "seat_id",
            Param::Limit => "limit",
            Param::ShowId => "show_id",
            Param::LastEventId => "Last-Event-ID",
            Param::IdempotencyKey => "Idempotency-Key",
        }
    }

    /// Whether it is a header (else a query parameter).
    pub fn is_header(self) -> bool {
        matches!(self, Param::LastEventId | Param::IdempotencyKey)
    }

    /// What it does, for the API's documentation.
    pub fn description(self) -> &'static str {
        match self {
            Param::After => "Only changes after this change id (0: from the beginning).",
            Param::SeatId => "Only changes about this seat.",
            Param::Limit => "Most changes in the page.",
            Param::ShowId => "Audit this show only; without it, every show.",
            Param::LastEventId => "Resume after this change id (when `after` is not given).",
            Param::IdempotencyKey => {
                "Makes the hold safe to retry: a repeat with the same key returns the same hold \
                 (for a plain hold, only with the same seats; with other seats, 422)."
            }
        }
    }
}

impl Op {
    /// The parameters it reads besides the path and the body.
    pub fn params(self) -> &'static [Param] {
        match self {
            Op::Audit => &[Param::ShowId],
            Op::Hold | Op::HoldBest => &[Param::IdempotencyKey],
            Op::History => &[Param::After, Param::SeatId, Param::Limit],
            Op::Events => &[Param::After, Param::LastEventId],
            Op::Health
            | Op::Reset
            | Op::Initialize
            | Op::Status
            | Op::Book
            | Op::Release
            | Op::Extend
            | Op::CancelBooking
            | Op::Map
            | Op::Block
            | Op::Unblock => &[],
        }
    }
}

/// The endpoint a path names, and its show id, percent-decoded (raw bytes: maybe not
/// UTF-8; [`handle`] refuses those). The query string is ignored.
pub fn resolve(url: &str) -> Option<(Op, Option<Vec<u8>>)> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    // `/`'s page and the server's own documents are the HTTP door's, not the contract's.
    if let Some(e) = Op::ALL.iter().find(|e| e.action().is_none() && e.template() == path) {
        return Some((*e, None));
    }
    let rest = path.strip_prefix("/shows/")?;
    let (id, action) = rest.split_once('/')?;
    let endpoint = Op::ALL.iter().find(|e| e.action() == Some(action))?;
    if id.is_empty() {
        return None;
    }
    Some((*endpoint, Some(percent_encoding::percent_decode_str(id).collect())))
}

/// The parts of a request the contract reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The body, already read (at most [`Op::body_limit`] bytes).
    pub body: &'a [u8],
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<&'a str>,
    /// The query string, without its `?`.
    pub query: Option<&'a str>,
    /// The `Last-Event-ID` header (event streams).
    pub last_event_id: Option<&'a str>,
}

impl Request<'_> {
    /// The first value of query parameter `param`, percent-decoded (`+` as a space).
    pub fn param(&self, param: Param) -> Option<String> {
        url::form_urlencoded::parse(self.query?.as_bytes())
            .find(|(k, _)| k == param.name())
            .map(|(_, v)| v.into_owned())
    }
}

/// What the contract answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A JSON document.
    Json(Json),
    /// The status document of this show: stream it with [`SeatCore::seat_status_with`]
    /// into a [`crate::StatusJson`], answering [`status_error`] if the read fails before
    /// anything was sent.
    Status(String),
    /// The map document of this show: stream it with [`SeatCore::seat_map_each`] into a
    /// [`crate::seat_map::MapJson`], answering [`Reply::error`] to [`Op::Map`] if the read
    /// fails before anything was sent.
    Map(String),
    /// The show's change stream (the show exists): server-sent events of every change
    /// after `after`, one event per change, `id:` the change id, `event:` its kind, `data:`
    /// the change as JSON ([`event`]).
    Events { show_id: String, after: i64 },
}

/// A status and a body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Body,
}

/// A JSON document, serialized once, straight from the core's result types: no value tree
/// in between (a history page with the `initialized` change of a 200,000-seat show stays
/// one buffer of 1.9 MB, not a tree of 200,000 values).
#[derive(Clone, PartialEq, Eq)]
pub struct Json(Vec<u8>);

impl Json {
    /// `value`, serialized. The core's result types serialize to plain maps, strings and
    /// numbers: that cannot fail.
    pub fn of(value: &impl serde::Serialize) -> Json {
        Json(serde_json::to_vec(value).unwrap_or_default())
    }

    /// The document's text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The document's text, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The document, parsed.
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl Reply {
    fn json(status: u16, body: Json) -> Reply {
        Reply { status, body: Body::Json(body) }
    }

    /// The reply for `err` raised by `op`.
    pub fn error(op: Op, err: &Error) -> Reply {
        let r = contract::rest_error(op, err);
        Reply::json(r.status, Json::of(&r.body))
    }

    /// The reply for a body over `limit` bytes.
    pub fn too_large(op: Op, limit: usize) -> Reply {
        Reply::error(op, &Error::InvalidInput(InputError::BodyTooLarge { max: limit }))
    }
}

/// The reply for a status read that failed before any of it was sent.
pub fn status_error(err: &Error) -> Reply {
    Reply::error(Op::Status, err)
}

/// Answers one request to `op`'s endpoint. `show_id` is the raw, percent-decoded id from the
/// path (see [`resolve`]); ignored by endpoints without one.
pub fn handle(core: &SeatCore, settings: &Settings, op: Op, show_id: Option<&[u8]>, rq: &Request) -> Reply {
    if rq.body.len() > op.body_limit() {
        return Reply::too_large(op, op.body_limit());
    }
    let show_id = match show_id.map(std::str::from_utf8) {
        None => "",
        Some(Ok(id)) => id,
        Some(Err(_)) => return Reply::error(op, &InputError::ShowIdUtf8.into()),
    };
    let outcome = match op {
        Op::Health => core.health().map(|h| Json::of(&h)),
        Op::Audit => core.audit(rq.param(Param::ShowId).as_deref()).map(|a| Json::of(&a)),
        Op::Reset => reset(core, rq),
        Op::Initialize => initialize(core, show_id, rq),
        Op::Status => return read_later(op, show_id, Body::Status),
        Op::Hold => hold(core, settings, show_id, rq),
        Op::Book => hold_id_of(rq).and_then(|id| core.book(show_id, &id)).map(|b| Json::of(&b)),
        Op::Release => release(core, show_id, rq),
        Op::Extend => extend(core, settings, show_id, rq),
        Op::CancelBooking => cancel_booking(core, show_id, rq),
        Op::History => history_query(rq).and_then(|q| core.history(show_id, &q)).map(|p| Json::of(&p)),
        Op::Map => return read_later(op, show_id, Body::Map),
        Op::HoldBest => hold_best(core, settings, show_id, rq),
        Op::Block => block(core, show_id, rq),
        Op::Unblock => unblock(core, show_id, rq),
        Op::Events => {
            return match events_start(core, show_id, rq) {
                Ok(after) => Reply { status: 200, body: Body::Events { show_id: show_id.to_owned(), after } },
                Err(e) => Reply::error(op, &e),
            }
        }
    };
    match outcome {
        Ok(body) => Reply::json(op.success_status(), body),
        Err(e) => Reply::error(op, &e),
    }
}

/// The reply to `op` for a document of `show_id` that the door reads and streams itself:
/// `body` of the id once it is a valid show id.
fn read_later(op: Op, show_id: &str, body: fn(String) -> Body) -> Reply {
    match validate::show_id(show_id) {
        Ok(_) => Reply { status: op.success_status(), body: body(show_id.to_owned()) },
        Err(e) => Reply::error(op, &e.into()),
    }
}

/// The request's JSON object, or the contract's 400.
fn json_object(rq: &Request, max_seats: usize) -> Result<JsonBody> {
    if !is_json_content_type(rq.content_type) {
        return Err(InputError::NotAnObject.into());
    }
    Ok(parse_object(rq.body, max_seats)?)
}

fn reset(core: &SeatCore, rq: &Request) -> Result<Json> {
    let empty =
        rq.body.iter().all(u8::is_ascii_whitespace) || parse_object(rq.body, 0).is_ok_and(|b| b.keys == 0);
    if !empty {
        return Err(InputError::ResetPayload.into());
    }
    core.reset_all().map(|c| Json::of(&contract::reset(&c)))
}

/// `{"seat_ids": [...]}` or `{"seats": [{...}]}`, not both.
fn initialize(core: &SeatCore, show_id: &str, rq: &Request) -> Result<Json> {
    if !is_json_content_type(rq.content_type) {
        return Err(InputError::NotAnObject.into());
    }
    create_show(core, show_id, initialize::from_slice(rq.body)?, Statistics::Now)
}

fn create_show(core: &SeatCore, show_id: &str, body: InitializeBody, statistics: Statistics) -> Result<Json> {
    let (map, checked_first) = body.into_map()?;
    let n = core.initialize_checked(show_id, map, Some(checked_first), statistics)?;
    Ok(Json::of(&contract::initialized(show_id, n)))
}

/// A `POST /shows/{show_id}/initialize` whose body was read from its connection
/// ([`read_initialize`]): the seat map, built and checked as far as it can be without the
/// database, or the reply that refuses the request.
pub struct InitializeRequest {
    show_id: String,
    body: std::result::Result<InitializeBody, Reply>,
}

/// Reads the body of `POST /shows/{show_id}/initialize` from `body`, at most
/// [`Op::body_limit`] bytes (whole when it declares a length of at most 4 MiB, else as it
/// arrives), each seat checked and stored compactly as the parser meets it;
/// [`initialize_read`] then creates the show. Together they answer exactly what
/// [`handle`] answers for the same request with its body in memory (`rq.body` is not
/// read). `show_id` is the raw id from the path (see [`resolve`]); `length` the length the
/// request declares (`Content-Length`), if any, by which the seat map is sized up front.
///
/// A body that is refused before its end (a wrong `Content-Type`, malformed JSON) is
/// still read to its end, so that a body over the limit gets its 413 whatever it holds.
pub fn read_initialize(
    show_id: Option<&[u8]>,
    rq: &Request,
    body: impl Read,
    length: Option<usize>,
) -> InitializeRequest {
    let op = Op::Initialize;
    let limit = Op::Initialize.body_limit();
    let (show_id, early) = match show_id.map(std::str::from_utf8) {
        None => (String::new(), None),
        Some(Ok(id)) => (id.to_owned(), None),
        Some(Err(_)) => (String::new(), Some(InputError::ShowIdUtf8)),
    };
    let early = early.or_else(|| (!is_json_content_type(rq.content_type)).then_some(InputError::NotAnObject));
    let body = match early {
        Some(problem) => Err(initialize::refuse(body, limit, problem)),
        None => initialize::from_reader(body, length, limit),
    };
    let body = body.map_err(|e| match e {
        StreamError::TooLarge => Reply::too_large(op, limit),
        StreamError::Input(e) => Reply::error(op, &e.into()),
    });
    InitializeRequest { show_id, body }
}

/// Creates the show of a request read by [`read_initialize`], or refuses it. The new
/// show's planner statistics are left owed: call [`SeatCore::settle_statistics`] once the
/// reply is sent.
pub fn initialize_read(core: &SeatCore, request: InitializeRequest) -> Reply {
    let op = Op::Initialize;
    let outcome = match request.body {
        Ok(body) => create_show(core, &request.show_id, body, Statistics::Owed),
        Err(refusal) => return refusal,
    };
    match outcome {
        Ok(body) => Reply::json(op.success_status(), body),
        Err(e) => Reply::error(op, &e),
    }
}

/// `{"count", "category"?, "section"?, "accessible"?, "hold_duration_seconds"?}`.
fn hold_best(core: &SeatCore, settings: &Settings, show_id: &str, rq: &Request) -> Result<Json> {
    let body = json_object(rq, 0)?;
    let count = match body.value(Key::Count) {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        _ => None,
    }
    .filter(|n| (1..=BEST_MAX_COUNT).contains(n))
    .ok_or(InputError::Count { max: BEST_MAX_COUNT })?;
    let text = |field: &'static str, v: Option<&Value>| match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(InputError::Filter { field, rule: "a string" }),
    };
    let filters = BestFilters {
        category: text("category", body.value(Key::Category))?,
        section: text("section", body.value(Key::Section))?,
        accessible: match body.value(Key::Accessible) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(InputError::Filter { field: "accessible", rule: "true or false" }.into()),
        },
    };
    let seconds = body::hold_seconds(body.hold_duration_seconds.as_deref(), settings)?;
    Ok(Json::of(&core.hold_best_with_key(show_id, count, &filters, seconds, rq.idempotency_key)?))
}

/// `{"seat_ids": [...], "reason"?}` → `{"blocked": [...]}`.
fn block(core: &SeatCore, show_id: &str, rq: &Request) -> Result<Json> {
    let mut body = json_object(rq, validate::MAX_SEATS_PER_SHOW)?;
    let seat_ids = body.seat_ids()?;
    let reason = match body.value(Key::Reason) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(InputError::BlockReason { max: MAX_REASON_CHARS }.into()),
    };
    Ok(Json::of(&contract::blocked(&core.block(show_id, &seat_ids, reason)?)))
}

/// `{"seat_ids": [...]}` → `{"unblocked": [...]}`.
fn unblock(core: &SeatCore, show_id: &str, rq: &Request) -> Result<Json> {
    let seat_ids = json_object(rq, validate::MAX_SEATS_PER_SHOW)?.seat_ids()?;
    Ok(Json::of(&contract::unblocked(&core.unblock(show_id, &seat_ids)?)))
}

fn hold(core: &SeatCore, settings: &Settings, show_id: &str, rq: &Request) -> Result<Json> {
    let mut body = json_object(rq, validate::MAX_SEATS_PER_HOLD)?;
    let seat_ids = body.seat_ids()?;
    let seconds = body::hold_seconds(body.hold_duration_seconds.as_deref(), settings)?;
    Ok(Json::of(&core.hold_with_key(show_id, &seat_ids, seconds, rq.idempotency_key)?))
}

/// `release-hold`: the whole hold, or only the seats of `seat_ids` when the body has them.
fn release(core: &SeatCore, show_id: &str, rq: &Request) -> Result<Json> {
    let mut body = json_object(rq, validate::MAX_SEATS_PER_HOLD)?;
    let hold_id = body::hold_id(body.value(Key::HoldId))?.to_owned();
    if body.seat_ids.is_none() {
        return core.release(show_id, &hold_id).map(|()| Json::of(&contract::released()));
    }
    let seat_ids = body.seat_ids()?;
    core.release_seats(show_id, &hold_id, &seat_ids).map(|r| Json::of(&r))
}

/// `extend-hold`: the duration is read and clamped as a hold's.
fn extend(core: &SeatCore, settings: &Settings, show_id: &str, rq: &Request) -> Result<Json> {
    let body = json_object(rq, 0)?;
    let hold_id = body::hold_id(body.value(Key::HoldId))?;
    let seconds = body::hold_seconds(body.hold_duration_seconds.as_deref(), settings)?;
    core.extend(show_id, hold_id, seconds).map(|h| Json::of(&h))
}

fn cancel_booking(core: &SeatCore, show_id: &str, rq: &Request) -> Result<Json> {
    let body = json_object(rq, 0)?;
    let booking_id = body::booking_id(body.value(Key::BookingId))?;
    core.cancel_booking(show_id, booking_id).map(|c| Json::of(&c))
}

/// A change id from a query parameter or header.
fn change_id(raw: &str) -> Result<i64> {
    let raw = raw.trim();
    match raw.parse::<i64>() {
        Ok(id) if raw.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => Err(InputError::After.into()),
    }
}

/// `?after=&seat_id=&limit=` of a history read.
fn history_query(rq: &Request) -> Result<HistoryQuery> {
    let mut q = HistoryQuery::default();
    if let Some(after) = rq.param(Param::After) {
        q.after = change_id(&after)?;
    }
    if let Some(limit) = rq.param(Param::Limit) {
        q.limit = limit.trim().parse::<u32>().map_err(|_| InputError::Limit { max: MAX_PAGE })?;
    }
    q.seat_id = rq.param(Param::SeatId);
    Ok(q)
}

/// Where an event stream starts: `?after=`, else `Last-Event-ID`, else now. The show must
/// exist.
fn events_start(core: &SeatCore, show_id: &str, rq: &Request) -> Result<i64> {
    // Both are checked when both are given; `after` wins.
    let resume = rq.last_event_id.map(change_id).transpose()?;
    let after = match rq.param(Param::After) {
        Some(a) => Some(change_id(&a)?),
        None => resume,
    };
    // Proves the show exists before the stream starts (a 404 cannot follow a 200).
    core.show_changes_after(show_id, i64::MAX, 1)?;
    match after {
        Some(after) => Ok(after),
        None => core.present_change_id(),
    }
}

/// One change as a server-sent event: `id:`, `event:` and `data:` lines and a blank line.
pub fn event(change: &Change) -> String {
    let data = serde_json::to_string(change).unwrap_or_default();
    format!("id: {}\nevent: {}\ndata: {data}\n\n", change.id, change.kind.as_str())
}

/// The `hold_id` of a book or release body.
fn hold_id_of(rq: &Request) -> Result<String> {
    let body = json_object(rq, 0)?;
    Ok(body::hold_id(body.value(Key::HoldId))?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_endpoints() {
        assert_eq!(resolve("/health?x=1"), Some((Op::Health, None)));
        assert_eq!(resolve("/reset"), Some((Op::Reset, None)));
        assert_eq!(resolve("/audit?show_id=x"), Some((Op::Audit, None)));
        assert_eq!(resolve("/shows/a%20b/hold"), Some((Op::Hold, Some(b"a b".to_vec()))));
        assert_eq!(resolve("/shows/%FF/seats"), Some((Op::Status, Some(vec![0xFF]))));
        assert_eq!(resolve("/shows/x/release-hold"), Some((Op::Release, Some(b"x".to_vec()))));
        assert_eq!(resolve("/shows//hold"), None);
        assert_eq!(resolve("/shows/x/hold/"), None);
        assert_eq!(resolve("/shows/x/y/hold"), None);
        assert_eq!(resolve("/health/"), None);
        assert_eq!(resolve("/nope"), None);
        assert_eq!(resolve("/"), None);
        for e in Op::ALL {
            let path = e.template().replace("{show_id}", "s1");
            assert_eq!(resolve(&path).map(|(e, _)| e), Some(*e), "{path}");
        }
        assert_eq!(Op::Initialize.body_limit(), MAX_INITIALIZE_BODY_BYTES);
        assert_eq!(Op::Hold.body_limit(), MAX_BODY_BYTES);
    }

    #[test]
    fn settings_are_checked() {
        Settings::DEFAULT.check().unwrap();
        let bad = Settings { min_hold_seconds: 100, max_hold_seconds: 50, ..Settings::DEFAULT };
        assert!(bad.check().is_err());
        let bad = Settings { default_hold_seconds: 0, ..Settings::DEFAULT };
        assert!(bad.check().unwrap_err().to_string().contains("default_hold_seconds"));
    }
}
