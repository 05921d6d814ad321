//! `GET /openapi.json`: the OpenAPI 3.0 description of the server, built at start from the
//! core's definitions, so no number or message can drift from what the server does:
//! the endpoints ([`Op::ALL`]: paths, methods, summaries, admin flags, body limits),
//! the limits of `seatcore::validate`, the server's hold bounds, and every error reply,
//! taken from `seatcore::contract::rest_error` for the errors each endpoint can meet.

use std::collections::BTreeMap;

use seatcore::contract::{self, Op};
use seatcore::rest::{self, Param, Settings};
use seatcore::{validate, Error, ErrorKind, InputError};
use serde_json::{json, Map, Value};

use crate::router::{Route, ADMIN_TOKEN_REQUIRED};

/// The document for a server with these hold bounds; `admin_token` when the admin
/// endpoints need a bearer token.
pub fn document(settings: &Settings, admin_token: bool) -> Value {
    let mut paths = Map::new();
    for route in Route::OWN {
        if let Some(item) = own_page(route) {
            paths.insert(route.template().to_owned(), item);
        }
    }
    for &endpoint in Op::ALL {
        let mut item = Map::new();
        item.insert(endpoint.method().to_ascii_lowercase(), operation(endpoint, settings, admin_token));
        paths.insert(endpoint.template().to_owned(), Value::Object(item));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "seatcore REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Seat holds, bookings and releases for movie shows, served by seatcore-server. \
                 Every response carries Access-Control-Allow-Origin: *; every 503 carries Retry-After. \
                 Request bodies are limited to {} bytes ({} for initialize); holds last {}..={} seconds \
                 ({} when a request gives none).",
                rest::MAX_BODY_BYTES,
                rest::MAX_INITIALIZE_BODY_BYTES,
                settings.min_hold_seconds,
                settings.max_hold_seconds,
                settings.default_hold_seconds
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "adminToken": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas(settings),
        },
    })
}

/// `/`, `/metrics` and `/openapi.json` (`None` for a contract endpoint).
fn own_page(route: Route) -> Option<Value> {
    let (id, summary, media) = match route {
        Route::Page => ("page", "The demo seat map page.", "text/html"),
        Route::Metrics => ("metrics", "Prometheus text-format metrics.", "text/plain"),
        Route::OpenApi => ("openapi", "This description.", "application/json"),
        Route::Api(_) => return None,
    };
    let schema =
        if media == "application/json" { json!({"type": "object"}) } else { json!({"type": "string"}) };
    Some(json!({ "get": {
        "operationId": id,
        "summary": summary,
        "responses": { "200": { "description": summary, "content": { media: { "schema": schema } } } },
    }}))
}

fn operation(endpoint: Op, settings: &Settings, admin_token: bool) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(operation_id(endpoint)));
    let mut summary = endpoint.summary().to_owned();
    if endpoint.requires_admin() {
        summary.push_str(" Needs `Authorization: Bearer <token>` when the server has an admin token.");
        // With a token configured the endpoint refuses requests without it; without one,
        // anyone may call it.
        let security =
            if admin_token { json!([{ "adminToken": [] }]) } else { json!([{}, { "adminToken": [] }]) };
        op.insert("security".into(), security);
    }
    op.insert("summary".into(), json!(summary));
    op.insert("x-max-body-bytes".into(), json!(endpoint.body_limit()));
    let (parameters, body) = request(endpoint);
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = body {
        op.insert("requestBody".into(), body);
    }
    op.insert("responses".into(), responses(endpoint, settings));
    Value::Object(op)
}

/// `initializeShow`-style names from the endpoint's own name.
fn operation_id(endpoint: Op) -> String {
    let name = format!("{endpoint:?}");
    let mut chars = name.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

fn show_id_schema() -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": validate::MAX_SHOW_ID_CHARS,
        "pattern": NO_CONTROL_CHARACTERS,
    })
}

/// Rust's `char::is_control` (Unicode Cc), which `validate` refuses in ids.
const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$";

/// The parameters and the request body of `endpoint`.
fn request(endpoint: Op) -> (Vec<Value>, Option<Value>) {
    let mut parameters = Vec::new();
    if endpoint.template().contains("{show_id}") {
        parameters.push(parameter("show_id", "path", "The show's id, percent-encoded.", show_id_schema()));
    }
    for &param in endpoint.params() {
        let location = if param.is_header() { "header" } else { "query" };
        parameters.push(parameter(param.name(), location, param.description(), param_schema(param)));
    }
    let body = |schema: &str, required: bool| {
        json!({
            "required": required,
            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } },
        })
    };
    let body = match endpoint {
        Op::Health | Op::Audit | Op::Status | Op::Map | Op::History | Op::Events => None,
        Op::Reset => Some(body("EmptyObject", false)),
        Op::Initialize => Some(body("SeatMap", true)),
        Op::Hold => Some(body("HoldRequest", true)),
        Op::Book => Some(body("HoldRef", true)),
        Op::Release => Some(body("ReleaseRequest", true)),
        Op::Extend => Some(body("ExtendRequest", true)),
        Op::CancelBooking => Some(body("BookingRef", true)),
        Op::HoldBest => Some(body("BestRequest", true)),
        Op::Block => Some(body("BlockRequest", true)),
        Op::Unblock => Some(body("SeatList", true)),
    };
    (parameters, body)
}

/// The schema of a parameter's value.
fn param_schema(param: Param) -> Value {
    match param {
        Param::After => json!({ "type": "integer", "minimum": 0 }),
        Param::SeatId => {
            json!({ "type": "string", "minLength": 1, "maxLength": validate::MAX_SEAT_ID_CHARS })
        }
        Param::Limit => json!({ "type": "integer", "minimum": 1, "maximum": seatcore::MAX_CHANGE_PAGE,
                                "default": seatcore::DEFAULT_CHANGE_PAGE }),
        Param::ShowId => show_id_schema(),
        Param::LastEventId => json!({ "type": "string", "pattern": "^[0-9]+$" }),
        Param::IdempotencyKey => {
            json!({ "type": "string", "minLength": 1, "maxLength": validate::MAX_REQUEST_KEY_CHARS })
        }
    }
}

/// A parameter `name` found `in` the path (so required), the query or a header.
fn parameter(name: &str, location: &str, description: &str, schema: Value) -> Value {
    json!({
        "name": name,
        "in": location,
        "required": location == "path",
        "description": description,
        "schema": schema,
    })
}

/// The success document of `endpoint`: a schema of `components`.
fn success_schema(endpoint: Op) -> &'static str {
    match endpoint {
        Op::Health => "Healthy",
        Op::Audit => "Audit",
        Op::Reset => "ResetResult",
        Op::Initialize => "Initialized",
        Op::Status => "SeatStatus",
        Op::Hold => "Hold",
        Op::Book => "Booking",
        Op::Release => "Released",
        Op::History => "ChangePage",
        Op::Events => "EventStream",
        Op::Map => "SeatMapDocument",
        Op::HoldBest => "Hold",
        Op::Block => "Blocked",
        Op::Unblock => "Unblocked",
        Op::Extend => "Hold",
        Op::CancelBooking => "Cancelled",
    }
}

/// Whether `endpoint` can meet an error of `kind`. Input errors and the database's
/// failures can meet every endpoint.
fn meets(endpoint: Op, kind: ErrorKind) -> bool {
    use Op::*;
    match kind {
        ErrorKind::ShowNotFound => {
            matches!(
                endpoint,
                Status | Hold | Book | Release | History | Events | Map | HoldBest | Block | Unblock
            )
        }
        ErrorKind::ShowExists => endpoint == Initialize,
        ErrorKind::InvalidSeatIds => matches!(endpoint, Hold | Block | Unblock),
        ErrorKind::SeatsUnavailable => matches!(endpoint, Hold | Block),
        ErrorKind::RequestKeyReused => endpoint == Hold,
        ErrorKind::NoAdjacentSeats => endpoint == HoldBest,
        ErrorKind::HoldNotFound => matches!(endpoint, Book | Release | Extend),
        ErrorKind::HoldExpired => matches!(endpoint, Book | Extend),
        ErrorKind::HoldInvalidated => matches!(endpoint, Book | Release | Extend),
        ErrorKind::BookingNotFound => endpoint == CancelBooking,
        ErrorKind::SeatsNotInHold => endpoint == Release,
        ErrorKind::BookingCancelled => endpoint == Book,
        ErrorKind::InvalidInput
        | ErrorKind::Busy
        | ErrorKind::Unavailable
        | ErrorKind::Database
        | ErrorKind::Config => true,
    }
}

/// The input errors `endpoint` can meet: every reply shape, and the messages worth
/// listing in the description.
fn input_errors(endpoint: Op, settings: &Settings) -> Vec<InputError> {
    let mut errors = vec![InputError::BodyTooLarge { max: endpoint.body_limit() }];
    let show_id =
        [InputError::ShowIdLength { max: validate::MAX_SHOW_ID_CHARS }, InputError::ShowIdControlChar];
    let object = [InputError::NotAnObject, InputError::TooDeep { max: rest::MAX_DEPTH }];
    let seat_ids = |max: usize| {
        [
            InputError::SeatIdsNotAList,
            InputError::NoSeats,
            InputError::TooManySeats { max },
            InputError::SeatIdNotAString { index: 0 },
            InputError::EmptySeatId { index: 0 },
            InputError::SeatIdTooLong { index: 0, max: validate::MAX_SEAT_ID_CHARS },
            InputError::SeatIdControlChar { index: 0 },
            InputError::DuplicateSeatIds,
        ]
    };
    match endpoint {
        Op::Health => {}
        Op::Audit | Op::Status => errors.extend(show_id),
        Op::Reset => errors.push(InputError::ResetPayload),
        Op::Initialize => {
            errors.extend(show_id);
            errors.extend(object);
            errors.extend(seat_ids(validate::MAX_SEATS_PER_SHOW));
            errors.extend([
                InputError::SeatMapTwice,
                InputError::SeatsNotAList,
                InputError::NoMapSeats,
                InputError::SeatNotAnObject { index: 0 },
                InputError::SeatField {
                    index: 0,
                    field: "position",
                    rule: seatcore::seat_map::POSITION_RULE,
                },
                InputError::PositionTaken { index: 1 },
            ]);
        }
        Op::Hold => {
            errors.extend(show_id);
            errors.extend(object);
            errors.extend(seat_ids(validate::MAX_SEATS_PER_HOLD));
            errors.push(InputError::HoldDurationType {
                min: settings.min_hold_seconds,
                max: settings.max_hold_seconds,
            });
            errors.push(InputError::RequestKey { max: validate::MAX_REQUEST_KEY_CHARS });
        }
        Op::Book => {
            errors.extend(show_id);
            errors.extend(object);
            errors.push(InputError::HoldIdMissing);
        }
        Op::Release => {
            errors.extend(show_id);
            errors.extend(object);
            errors.push(InputError::HoldIdMissing);
            errors.extend(seat_ids(validate::MAX_SEATS_PER_HOLD));
        }
        Op::Extend => {
            errors.extend(show_id);
            errors.extend(object);
            errors.push(InputError::HoldIdMissing);
            errors.push(InputError::HoldDurationType {
                min: settings.min_hold_seconds,
                max: settings.max_hold_seconds,
            });
        }
        Op::CancelBooking => {
            errors.extend(show_id);
            errors.extend(object);
            errors.push(InputError::BookingIdMissing);
        }
        Op::History => {
            errors.extend(show_id);
            errors.push(InputError::After);
            errors.push(InputError::Limit { max: seatcore::MAX_CHANGE_PAGE });
            errors.push(InputError::SeatIdFilter);
        }
        Op::Events => {
            errors.extend(show_id);
            errors.push(InputError::After);
        }
        Op::Map => errors.extend(show_id),
        Op::HoldBest => {
            errors.extend(show_id);
            errors.extend(object);
            errors.push(InputError::Count { max: seatcore::BEST_MAX_COUNT });
            errors.push(InputError::Filter { field: "category", rule: "a string" });
            errors.push(InputError::Filter { field: "accessible", rule: "true or false" });
            errors.push(InputError::HoldDurationType {
                min: settings.min_hold_seconds,
                max: settings.max_hold_seconds,
            });
            errors.push(InputError::RequestKey { max: validate::MAX_REQUEST_KEY_CHARS });
        }
        Op::Block | Op::Unblock => {
            errors.extend(show_id);
            errors.extend(object);
            errors.extend(seat_ids(validate::MAX_SEATS_PER_SHOW));
            if endpoint == Op::Block {
                errors.push(InputError::BlockReason { max: seatcore::MAX_BLOCK_REASON_CHARS });
            }
        }
    }
    errors
}

/// The errors of `kind` that describe `endpoint`'s replies.
fn examples(endpoint: Op, kind: ErrorKind, settings: &Settings) -> Vec<Error> {
    match kind {
        ErrorKind::ShowNotFound => vec![Error::ShowNotFound],
        ErrorKind::ShowExists => vec![Error::ShowExists],
        ErrorKind::InvalidSeatIds => vec![Error::InvalidSeatIds],
        ErrorKind::SeatsUnavailable => vec![Error::SeatsUnavailable { seat_ids: vec!["A1".into()] }],
        ErrorKind::HoldNotFound => vec![Error::HoldNotFound],
        ErrorKind::HoldExpired => vec![Error::HoldExpired],
        ErrorKind::HoldInvalidated => vec![Error::HoldInvalidated],
        ErrorKind::RequestKeyReused => vec![Error::RequestKeyReused],
        ErrorKind::NoAdjacentSeats => vec![Error::NoAdjacentSeats],
        ErrorKind::BookingNotFound => vec![Error::BookingNotFound],
        ErrorKind::SeatsNotInHold => vec![Error::SeatsNotInHold { seat_ids: vec!["A1".into()] }],
        ErrorKind::BookingCancelled => vec![Error::BookingCancelled],
        ErrorKind::InvalidInput => {
            input_errors(endpoint, settings).into_iter().map(Error::InvalidInput).collect()
        }
        ErrorKind::Busy => vec![Error::Busy(None)],
        ErrorKind::Unavailable => vec![Error::Unavailable("unreachable".into())],
        // A driver error cannot be made without a database; a configuration error stands
        // for it (both are failures a client is told nothing about).
        ErrorKind::Database | ErrorKind::Config => vec![Error::Config(String::new())],
    }
}

/// Every reply `endpoint` can give: its success, the errors it can meet (as the core
/// answers them), and the admin token's 401.
fn responses(endpoint: Op, settings: &Settings) -> Value {
    let mut errors: BTreeMap<u16, Vec<Value>> = BTreeMap::new();
    for &kind in ErrorKind::ALL.iter().filter(|&&k| meets(endpoint, k)) {
        for err in examples(endpoint, kind, settings) {
            let reply = contract::rest_error(endpoint, &err);
            errors.entry(reply.status).or_default().push(reply.body);
        }
    }
    let mut out = Map::new();
    // For an event stream, the schema describes each event (OpenAPI before 3.2); a comment
    // line goes out at least every 15 s.
    let media = if endpoint == Op::Events { "text/event-stream" } else { "application/json" };
    out.insert(
        endpoint.success_status().to_string(),
        json!({
            "description": endpoint.summary(),
            "content": { media: {
                "schema": { "$ref": format!("#/components/schemas/{}", success_schema(endpoint)) },
            }},
        }),
    );
    if endpoint.requires_admin() {
        let body = contract::error_body(ADMIN_TOKEN_REQUIRED);
        let mut reply = error_response(&[body]);
        reply["headers"] =
            json!({ "WWW-Authenticate": { "required": true, "schema": { "type": "string" } } });
        out.insert("401".into(), reply);
    }
    for (status, bodies) in errors {
        let mut reply = error_response(&bodies);
        if status == 503 {
            reply["headers"] = json!({
                "Retry-After": { "description": "Seconds to wait.", "required": true, "schema": { "type": "string" } },
            });
        }
        out.insert(status.to_string(), reply);
    }
    Value::Object(out)
}

/// A response whose body is one of `bodies`: described by their messages, its schema
/// inferred from them.
fn error_response(bodies: &[Value]) -> Value {
    let mut messages: Vec<&str> = Vec::new();
    for message in bodies.iter().filter_map(|b| b.get("error").or_else(|| b.get("status"))?.as_str()) {
        if !messages.contains(&message) {
            messages.push(message);
        }
    }
    let schema = bodies.iter().map(infer).reduce(merge).unwrap_or_else(|| json!({"type": "object"}));
    json!({
        "description": messages.join("; "),
        "content": { "application/json": { "schema": schema, "example": bodies[0] } },
    })
}

/// The schema of a JSON document: its types, every key of an object required.
fn infer(value: &Value) -> Value {
    match value {
        Value::Null => json!({ "nullable": true }),
        Value::Bool(_) => json!({ "type": "boolean" }),
        Value::Number(n) if n.is_f64() => json!({ "type": "number" }),
        Value::Number(_) => json!({ "type": "integer" }),
        Value::String(_) => json!({ "type": "string" }),
        Value::Array(items) => match items.first() {
            Some(item) => json!({ "type": "array", "items": infer(item) }),
            None => json!({ "type": "array" }),
        },
        Value::Object(map) => {
            let properties: Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), infer(v))).collect();
            json!({ "type": "object", "required": map.keys().collect::<Vec<_>>(), "properties": properties })
        }
    }
}

/// A schema that admits what either admits, for objects: every property of either,
/// required when both require it.
fn merge(a: Value, b: Value) -> Value {
    let (Some(pa), Some(pb)) = (a["properties"].as_object(), b["properties"].as_object()) else {
        return json!({ "anyOf": [a, b] });
    };
    let mut properties = pa.clone();
    for (k, v) in pb {
        properties.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let required_b: Vec<&Value> = b["required"].as_array().map(|r| r.iter().collect()).unwrap_or_default();
    let required: Vec<Value> = a["required"]
        .as_array()
        .map(|r| r.iter().filter(|k| required_b.contains(k)).cloned().collect())
        .unwrap_or_default();
    json!({ "type": "object", "required": required, "properties": properties })
}

/// Every kind of change, as records and events name them.
const CHANGE_KINDS: [&str; 10] = [
    "initialized",
    "held",
    "extended",
    "released",
    "expired",
    "booked",
    "cancelled",
    "blocked",
    "unblocked",
    "reset",
];

/// The request bodies and success documents.
fn schemas(settings: &Settings) -> Value {
    let Settings { min_hold_seconds: min, max_hold_seconds: max, default_hold_seconds: default } = *settings;
    let seat_id = json!({
        "type": "string",
        "minLength": 1,
        "maxLength": validate::MAX_SEAT_ID_CHARS,
        "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$",
        "description": "Trimmed of surrounding whitespace; no control characters.",
    });
    let seat_ids = |max: usize| {
        json!({
            "type": "array",
            "minItems": 1,
            "maxItems": max,
            "uniqueItems": true,
            "items": seat_id,
            "description": "Seat ids, trimmed; no duplicates after trimming.",
        })
    };
    let timestamp = json!({ "type": "string", "format": "date-time" });
    let uuid = json!({ "type": "string", "format": "uuid" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let hold_id = json!({ "type": "string", "minLength": 1, "description": "The hold's UUID; anything else is simply not found." });
    let hold_seconds = |description: String| {
        json!({
            "description": description,
            "default": default,
            "x-clamped-to": { "minimum": min, "maximum": max },
            "oneOf": [ { "type": "number" }, { "type": "string", "pattern": "^[0-9]+$" } ],
        })
    };
    let count = json!({ "type": "integer", "minimum": 0 });
    let name = json!({
        "type": "string",
        "maxLength": seatcore::seat_map::MAX_NAME_CHARS,
        "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
    });
    let nullable = |schema: &Value, description: &str| {
        let mut schema = schema.clone();
        schema["nullable"] = json!(true);
        schema["description"] = json!(description);
        schema
    };
    let object = |required: &[&str], properties: Value| json!({ "type": "object", "required": required, "properties": properties });
    let mut released_seats = seat_ids(validate::MAX_SEATS_PER_HOLD);
    released_seats["description"] = json!(
        "Release only these seats (trimmed, no duplicates) of the hold, which keeps the rest; all of them \
         release the hold. Without it, the whole hold."
    );
    json!({
        "EmptyObject": { "type": "object", "maxProperties": 0 },
        "SeatMap": {
            "description": "A flat list of seat ids (rows and positions come from ids like A1), or a structured map.",
            "oneOf": [
                object(&["seat_ids"], json!({ "seat_ids": seat_ids(validate::MAX_SEATS_PER_SHOW) })),
                object(&["seats"], json!({ "seats": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": validate::MAX_SEATS_PER_SHOW,
                    "items": { "$ref": "#/components/schemas/MapSeatRequest" },
                }})),
            ],
        },
        "MapSeatRequest": object(&["seat_id"], json!({
            "seat_id": seat_id,
            "section": name.clone(),
            "row": nullable(&name, "Absent or null: a seat in no row (a box, a standing place); such seats rank after all rows."),
            "position": { "type": "integer", "minimum": 0, "maximum": seatcore::seat_map::MAX_POSITION, "nullable": true, "description": "Required when row is given; adjacent seats differ by 1." },
            "category": name.clone(),
            "accessible": { "type": "boolean" },
            "rank": { "type": "number", "nullable": true, "description": "Lower is better; absent or null: by row, then distance from the row's middle." },
        })),
        "MapSeat": object(&["seat_id", "section", "row", "position", "category", "accessible", "rank"], json!({
            "seat_id": { "type": "string" },
            "section": { "type": "string" },
            "row": { "type": "string", "nullable": true },
            "position": { "type": "integer", "minimum": 0, "maximum": seatcore::seat_map::MAX_POSITION, "nullable": true },
            "category": { "type": "string" },
            "accessible": { "type": "boolean" },
            "rank": { "type": "number" },
        })),
        "SeatMapDocument": object(&["show_id", "seats"], json!({
            "show_id": { "type": "string" },
            "seats": { "type": "array", "items": { "$ref": "#/components/schemas/MapSeat" } },
        })),
        "BestRequest": object(&["count"], json!({
            "count": { "type": "integer", "minimum": 1, "maximum": seatcore::BEST_MAX_COUNT },
            "category": name.clone(),
            "section": name.clone(),
            "accessible": { "type": "boolean" },
            "hold_duration_seconds": {
                "description": format!("As for a hold: clamped into {min}..={max} seconds; {default} when absent."),
                "oneOf": [ { "type": "number" }, { "type": "string", "pattern": "^[0-9]+$" } ],
            },
        })),
        "SeatList": object(&["seat_ids"], json!({ "seat_ids": seat_ids(validate::MAX_SEATS_PER_SHOW) })),
        "BlockRequest": object(&["seat_ids"], json!({
            "seat_ids": seat_ids(validate::MAX_SEATS_PER_SHOW),
            "reason": { "type": "string", "maxLength": seatcore::MAX_BLOCK_REASON_CHARS,
                        "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$" },
        })),
        "Blocked": object(&["blocked"], json!({ "blocked": strings })),
        "Unblocked": object(&["unblocked"], json!({ "unblocked": strings })),
        "HoldRequest": object(&["seat_ids"], json!({
            "seat_ids": seat_ids(validate::MAX_SEATS_PER_HOLD),
            "hold_duration_seconds": hold_seconds(format!(
                "Absent: {default}. A number (its integer part) or a string of digits, clamped into \
                 {min}..={max} seconds. Booleans and anything else are refused."
            )),
        })),
        "HoldRef": object(&["hold_id"], json!({
            "hold_id": hold_id,
        })),
        "ReleaseRequest": object(&["hold_id"], json!({
            "hold_id": hold_id,
            "seat_ids": released_seats,
        })),
        "ExtendRequest": object(&["hold_id"], json!({
            "hold_id": hold_id,
            "hold_duration_seconds": hold_seconds(format!(
                "The hold ends this long from now (not added to the time left). Absent: {default}. A number \
                 (its integer part) or a string of digits, clamped into {min}..={max} seconds; never past the \
                 hold's creation plus the server's maximum hold life (--max-hold-life-seconds). Booleans and \
                 anything else are refused."
            )),
        })),
        "BookingRef": object(&["booking_id"], json!({
            "booking_id": { "type": "string", "minLength": 1, "description": "The booking's UUID (its hold's id); anything else is simply not found." },
        })),
        "Released": object(&["message"], json!({
            "message": { "type": "string", "enum": ["hold released", "seats released"] },
            "seat_ids": { "type": "array", "items": { "type": "string" }, "description": "With seat_ids in the request: the seats released." },
            "remaining_seat_ids": { "type": "array", "items": { "type": "string" }, "description": "With seat_ids in the request: the seats the hold keeps (none: the hold is released)." },
        })),
        "Cancelled": object(&["message", "seat_ids"], json!({
            "message": { "type": "string", "enum": ["booking cancelled"] },
            "seat_ids": strings,
        })),
        "Initialized": object(&["message", "show_id", "seat_count"], json!({
            "message": { "type": "string" },
            "show_id": { "type": "string" },
            "seat_count": count,
        })),
        "Seat": object(&["seat_id", "status"], json!({
            "seat_id": { "type": "string" },
            "status": { "type": "string", "enum": ["available", "held", "booked", "blocked"] },
            "hold_expires_at": { "type": "string", "format": "date-time", "description": "Only when held." },
        })),
        "SeatStatus": object(
            &["seats", "total_seats", "available_seats", "held_seats", "booked_seats", "blocked_seats", "invariants_valid", "version"],
            json!({
                "seats": { "type": "array", "items": { "$ref": "#/components/schemas/Seat" } },
                "total_seats": count,
                "available_seats": count,
                "held_seats": count,
                "booked_seats": count,
                "blocked_seats": count,
                "invariants_valid": { "type": "boolean" },
                "version": { "type": "integer", "description": "Every change up to this id is in the document: follow the event stream from here." },
                "replayed_at": {
                    "type": "string", "format": "date-time",
                    "description": "Only when a standby served the read (--read-database-url): the commit time of the last transaction it had replayed.",
                },
            }),
        ),
        "Hold": object(&["hold_id", "expires_at", "seat_ids"], json!({
            "hold_id": uuid, "expires_at": timestamp, "seat_ids": strings,
        })),
        "Booking": object(&["booking_id", "seat_ids", "booked_at"], json!({
            "booking_id": uuid, "seat_ids": strings, "booked_at": timestamp,
        })),
        "ResetResult": object(&["message", "holds_cleared", "bookings_cleared", "seats_reset"], json!({
            "message": { "type": "string" },
            "holds_cleared": count,
            "bookings_cleared": count,
            "seats_reset": count,
        })),
        "Healthy": object(&["status", "database", "shows"], json!({
            "status": { "type": "string", "enum": ["healthy"] },
            "database": { "type": "string", "enum": ["connected"] },
            "shows": count,
        })),
        "Change": object(&["id", "at", "kind", "show_id", "seat_ids"], json!({
            "id": { "type": "integer", "minimum": 1, "description": "Grows with every change a reader sees." },
            "at": timestamp,
            "kind": { "type": "string", "enum": CHANGE_KINDS },
            "show_id": { "type": "string" },
            "seat_ids": strings,
            "hold_id": uuid,
            "booking_id": uuid,
            "expires_at": timestamp,
        })),
        "ChangePage": object(&["changes", "next"], json!({
            "changes": { "type": "array", "maxItems": seatcore::MAX_CHANGE_PAGE,
                         "items": { "$ref": "#/components/schemas/Change" } },
            "next": { "type": "integer", "minimum": 0, "description": "Pass as `after` to read on." },
            "replayed_at": {
                "type": "string", "format": "date-time",
                "description": "Only when a standby served the page (--read-database-url): the commit time of the last transaction it had replayed; later records come in later pages.",
            },
        })),
        "EventStream": object(&["data", "event"], json!({
            "id": { "type": "string", "pattern": "^[0-9]+$", "description": "The change's id." },
            "event": { "type": "string", "enum": CHANGE_KINDS },
            "data": {
                "type": "string",
                "description": "The change (a Change) as JSON.",
                "contentMediaType": "application/json",
            },
        })),
        "Audit": object(&["ok", "shows", "seats", "held", "booked", "problem_count", "problems"], json!({
            "ok": { "type": "boolean", "description": "Whether every invariant holds." },
            "shows": count,
            "seats": count,
            "held": count,
            "booked": count,
            "problem_count": count,
            "problems": {
                "type": "array",
                "maxItems": seatcore::MAX_REPORTED_PROBLEMS,
                "items": { "type": "string" },
                "description": "The first problems found, each naming the show, seat and hold or booking.",
            },
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore::{
        Audit, AuditSummary, Booking, Cancellation, Health, Hold, ResetCounts, Seat, SeatCounts, SeatState,
        SeatsReleased, ShowStatus, Utc, Uuid,
    };

    fn doc() -> Value {
        document(&Settings { min_hold_seconds: 5, max_hold_seconds: 900, default_hold_seconds: 30 }, false)
    }

    fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
        let name = reference.strip_prefix("#/components/schemas/").expect("a schema reference");
        let schema = &doc["components"]["schemas"][name];
        assert!(schema.is_object(), "{reference} is not defined");
        schema
    }

    /// Every `$ref` in `v` names a schema of `doc`.
    fn refs_resolve(doc: &Value, v: &Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    resolve(doc, r);
                }
                m.values().for_each(|x| refs_resolve(doc, x));
            }
            Value::Array(a) => a.iter().for_each(|x| refs_resolve(doc, x)),
            _ => {}
        }
    }

    #[test]
    fn every_endpoint_and_page_is_described() {
        let doc = doc();
        refs_resolve(&doc, &doc);
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), Op::ALL.len() + Route::OWN.len());
        for route in Route::OWN {
            assert!(paths[route.template()]["get"]["responses"]["200"].is_object(), "{}", route.template());
        }
        for &e in Op::ALL {
            let item = paths[e.template()].as_object().unwrap_or_else(|| panic!("{} missing", e.template()));
            assert_eq!(item.keys().collect::<Vec<_>>(), [&e.method().to_ascii_lowercase()]);
            let op = &item[&e.method().to_ascii_lowercase()];
            assert!(op["summary"].as_str().unwrap().starts_with(e.summary()));
            assert_eq!(op["x-max-body-bytes"], json!(e.body_limit()));
            assert_eq!(op.get("security").is_some(), e.requires_admin(), "{}", e.template());
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key(&e.success_status().to_string()));
            assert_eq!(responses.contains_key("401"), e.requires_admin(), "{}", e.template());
            // every endpoint answers an over-long body and a failing database (the contract
            // answers every failed reset with 500, every failed health check with 503)
            let failures: &[&str] = match e {
                Op::Reset => &["413", "500"],
                Op::Health => &["413", "503"],
                _ => &["413", "500", "503"],
            };
            for status in failures {
                assert!(responses.contains_key(*status), "{} lacks {status}", e.template());
            }
            if let Some(r) = responses.get("503") {
                assert_eq!(r["headers"]["Retry-After"]["required"], true);
            }
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|p| {
                    p.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect()
                })
                .unwrap_or_default();
            let in_path: Vec<&str> =
                if e.template().contains("{show_id}") { vec!["show_id"] } else { vec![] };
            assert_eq!(declared, in_path, "{}", e.template());
        }
        let token = document(&Settings::DEFAULT, true);
        assert_eq!(token["paths"]["/reset"]["post"]["security"], json!([{ "adminToken": [] }]));
    }

    #[test]
    fn the_numbers_are_the_cores() {
        let doc = doc();
        let s = &doc["components"]["schemas"];
        let map = &s["SeatMap"]["oneOf"];
        assert_eq!(map[0]["properties"]["seat_ids"]["maxItems"], json!(validate::MAX_SEATS_PER_SHOW));
        assert_eq!(map[1]["properties"]["seats"]["maxItems"], json!(validate::MAX_SEATS_PER_SHOW));
        assert_eq!(s["BestRequest"]["properties"]["count"]["maximum"], json!(seatcore::BEST_MAX_COUNT));
        assert_eq!(
            s["BlockRequest"]["properties"]["reason"]["maxLength"],
            json!(seatcore::MAX_BLOCK_REASON_CHARS)
        );
        let hold = &s["HoldRequest"]["properties"];
        assert_eq!(hold["seat_ids"]["maxItems"], json!(validate::MAX_SEATS_PER_HOLD));
        assert_eq!(hold["seat_ids"]["items"]["maxLength"], json!(validate::MAX_SEAT_ID_CHARS));
        assert_eq!(hold["hold_duration_seconds"]["default"], json!(30));
        assert_eq!(hold["hold_duration_seconds"]["x-clamped-to"], json!({ "minimum": 5, "maximum": 900 }));
        assert!(hold["hold_duration_seconds"]["description"].as_str().unwrap().contains("5..=900"));
        let hold_op = &doc["paths"]["/shows/{show_id}/hold"]["post"];
        let params = hold_op["parameters"].as_array().unwrap();
        assert_eq!(params[0]["schema"]["maxLength"], json!(validate::MAX_SHOW_ID_CHARS));
        assert_eq!(params[1]["name"], "Idempotency-Key");
        assert_eq!(params[1]["schema"]["maxLength"], json!(validate::MAX_REQUEST_KEY_CHARS));
        let too_large = |path: &str, method: &str| {
            doc["paths"][path][method]["responses"]["413"]["description"].as_str().unwrap().to_owned()
        };
        assert_eq!(
            too_large("/shows/{show_id}/hold", "post"),
            format!("request body must be at most {} bytes", rest::MAX_BODY_BYTES)
        );
        assert_eq!(
            too_large("/shows/{show_id}/initialize", "post"),
            format!("request body must be at most {} bytes", rest::MAX_INITIALIZE_BODY_BYTES)
        );
        let info = doc["info"]["description"].as_str().unwrap();
        assert!(info.contains(&rest::MAX_BODY_BYTES.to_string()) && info.contains("5..=900 seconds"));
        assert_eq!(s["Audit"]["properties"]["problems"]["maxItems"], json!(seatcore::MAX_REPORTED_PROBLEMS));
    }

    #[test]
    fn error_replies_are_the_cores() {
        let doc = doc();
        let responses = |path: &str, method: &str| doc["paths"][path][method]["responses"].clone();
        let hold = responses("/shows/{show_id}/hold", "post");
        assert_eq!(
            hold["409"]["content"]["application/json"]["example"],
            json!({"error": "seats unavailable", "unavailable_seats": ["A1"]})
        );
        let schema_409 = &hold["409"]["content"]["application/json"]["schema"];
        assert_eq!(schema_409["required"], json!(["error", "unavailable_seats"]));
        let schema_400 = &hold["400"]["content"]["application/json"]["schema"];
        assert_eq!(schema_400["required"], json!(["error"]), "details is optional");
        assert_eq!(schema_400["properties"]["details"]["properties"]["index"]["type"], "integer");
        let described = hold["400"]["description"].as_str().unwrap();
        assert!(described.contains("invalid seat ID(s)"), "{described}");
        assert!(described.contains("between 5 and 900 seconds"), "{described}");
        assert!(
            described.contains(&format!("at most {} seats", validate::MAX_SEATS_PER_HOLD)),
            "{described}"
        );
        assert!(hold["422"].is_object());
        let release = responses("/shows/{show_id}/release-hold", "post");
        assert_eq!(release["404"]["description"], "hold not found");
        let described = release["400"]["description"].as_str().unwrap();
        assert!(described.contains("seats not in hold"), "{described}");
        let schema_400 = &release["400"]["content"]["application/json"]["schema"];
        assert_eq!(schema_400["properties"]["seat_ids"]["type"], "array");
        let extend = responses("/shows/{show_id}/extend-hold", "post");
        let described = extend["400"]["description"].as_str().unwrap();
        assert!(described.contains("hold not found or expired"), "{described}");
        assert!(described.contains("between 5 and 900 seconds"), "{described}");
        assert!(extend.get("404").is_none(), "an extension answers 400 for every hold it cannot extend");
        let cancel = responses("/shows/{show_id}/cancel-booking", "post");
        assert_eq!(cancel["404"]["description"], "booking not found");
        assert!(cancel["401"].is_object(), "cancel-booking needs the admin token");
        let book = responses("/shows/{show_id}/book", "post");
        assert!(book["400"]["description"].as_str().unwrap().contains("booking cancelled"));
        let health = responses("/health", "get");
        assert_eq!(
            health["503"]["content"]["application/json"]["schema"]["required"],
            json!(["database", "error", "status"])
        );
        assert!(health.get("400").is_none());
        let reset = responses("/reset", "post");
        assert_eq!(
            reset["500"]["content"]["application/json"]["schema"]["required"],
            json!(["details", "error"])
        );
        assert_eq!(reset["401"]["description"], ADMIN_TOKEN_REQUIRED);
        let seats = responses("/shows/{show_id}/seats", "get");
        assert_eq!(seats["404"]["description"], "show not found");
    }

    /// The keys and types of a schema of `components` and of the core's own document.
    fn check_shape(doc: &Value, name: &str, sample: &Value, optional: &[&str]) {
        let schema = resolve(doc, &format!("#/components/schemas/{name}"));
        let props = schema["properties"].as_object().unwrap();
        let sample = sample.as_object().unwrap();
        let mut keys: Vec<&String> = sample.keys().collect();
        keys.extend(optional.iter().filter_map(|k| props.get_key_value(*k).map(|(k, _)| k)));
        keys.sort();
        keys.dedup();
        assert_eq!(props.keys().collect::<Vec<_>>(), keys, "{name}: properties");
        let mut required: Vec<&str> =
            schema["required"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
        required.sort();
        let mut want: Vec<&str> =
            sample.keys().map(String::as_str).filter(|k| !optional.contains(k)).collect();
        want.sort();
        assert_eq!(required, want, "{name}: required");
        for (k, v) in sample {
            let declared = &props[k];
            let inferred = infer(v)["type"].clone();
            if declared.get("$ref").is_none() {
                assert_eq!(declared["type"], inferred, "{name}.{k}");
            }
        }
    }

    #[test]
    fn success_schemas_are_the_cores_documents() {
        let doc = doc();
        let now = Utc::now();
        let hold = Hold {
            hold_id: Uuid::new_v4(),
            show_id: "s".into(),
            expires_at: now,
            seat_ids: vec!["A1".into()],
        };
        let booking = Booking {
            booking_id: Uuid::new_v4(),
            show_id: "s".into(),
            seat_ids: vec!["A1".into()],
            booked_at: now,
        };
        let seat = Seat { seat_id: "A1".into(), state: SeatState::Held, hold_expires_at: Some(now) };
        let status =
            ShowStatus { show_id: "s".into(), counts: SeatCounts::default(), seats: vec![seat.clone()] };
        let summary = AuditSummary { ok: true, shows: 1, seats: 1, held: 0, booked: 0, problem_count: 0 };
        let audit = Audit { summary, problems: vec![] };
        check_shape(&doc, "Hold", &serde_json::to_value(&hold).unwrap(), &[]);
        check_shape(&doc, "Booking", &serde_json::to_value(&booking).unwrap(), &[]);
        check_shape(&doc, "Seat", &serde_json::to_value(&seat).unwrap(), &["hold_expires_at"]);
        check_shape(&doc, "SeatStatus", &serde_json::to_value(&status).unwrap(), &["replayed_at"]);
        check_shape(&doc, "Healthy", &serde_json::to_value(Health { shows: 3 }).unwrap(), &[]);
        check_shape(&doc, "Audit", &serde_json::to_value(&audit).unwrap(), &[]);
        check_shape(&doc, "ResetResult", &contract::reset(&ResetCounts::default()), &[]);
        check_shape(&doc, "Initialized", &contract::initialized("s", 2), &[]);
        let optional = ["seat_ids", "remaining_seat_ids"];
        check_shape(&doc, "Released", &contract::released(), &optional);
        let partial = SeatsReleased {
            hold_id: Uuid::new_v4(),
            show_id: "s".into(),
            seat_ids: vec!["A1".into()],
            remaining_seat_ids: vec!["A2".into()],
        };
        check_shape(&doc, "Released", &serde_json::to_value(&partial).unwrap(), &optional);
        let cancelled = Cancellation {
            booking_id: Uuid::new_v4(),
            show_id: "s".into(),
            seat_ids: vec!["A1".into()],
            cancelled_at: now,
        };
        check_shape(&doc, "Cancelled", &serde_json::to_value(&cancelled).unwrap(), &[]);
        let released = &doc["components"]["schemas"]["Released"]["properties"]["message"]["enum"];
        assert_eq!(
            released,
            &json!([contract::released()["message"], serde_json::to_value(&partial).unwrap()["message"]])
        );
        let healthy = &doc["components"]["schemas"]["Healthy"]["properties"];
        let health = serde_json::to_value(Health { shows: 3 }).unwrap();
        assert_eq!(healthy["status"]["enum"][0], health["status"]);
        assert_eq!(healthy["database"]["enum"][0], health["database"]);
    }
}
