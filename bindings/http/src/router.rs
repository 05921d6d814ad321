//! Routing: a plain function from (method, path, headers, body) to a [`Reply`].
//!
//! No tiny_http types live here, so every handler is tested without sockets.

use seatcore::rest::{self, Endpoint};
use seatcore::SeatCore;
use serde_json::json;

use crate::config::Settings;
use crate::error::{error_reply, Op};
use crate::metrics::Metrics;
use crate::reply::{Payload, Reply};
use crate::status;

/// Largest request body in bytes, except for initialize (413 beyond it).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest initialize body in bytes: room for a 500,000-seat map of short ids.
pub const MAX_INITIALIZE_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The demo show created at start.
pub const DEMO_SHOW: &str = "avengers_2026_7pm";

const PAGE: &str = include_str!("page.html");
const OPENAPI: &str = include_str!("openapi.json");

/// What every handler shares.
pub struct App {
    pub core: SeatCore,
    pub settings: Settings,
    pub metrics: Metrics,
}

/// An incoming request, already read (the body up to its limit).
pub struct Request<'a> {
    pub method: &'a str,
    /// The request target as sent: path and optional query.
    pub url: &'a str,
    /// Header names as sent; looked up without regard to case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Page,
    Health,
    Metrics,
    OpenApi,
    Reset,
    Initialize,
    Seats,
    Hold,
    Book,
    Release,
}

impl Route {
    /// The route's template, the `route` label of the metrics.
    pub fn template(self) -> &'static str {
        match self {
            Route::Page => "/",
            Route::Health => "/health",
            Route::Metrics => "/metrics",
            Route::OpenApi => "/openapi.json",
            Route::Reset => "/reset",
            Route::Initialize => "/shows/{id}/initialize",
            Route::Seats => "/shows/{id}/seats",
            Route::Hold => "/shows/{id}/hold",
            Route::Book => "/shows/{id}/book",
            Route::Release => "/shows/{id}/release-hold",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Route::Page | Route::Health | Route::Metrics | Route::OpenApi | Route::Seats => "GET",
            _ => "POST",
        }
    }
}

/// The route a path names, and its percent-decoded show id (raw bytes: maybe not UTF-8).
/// The query string is ignored.
pub fn resolve(url: &str) -> Option<(Route, Option<Vec<u8>>)> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let fixed = match path {
        "/" => Some(Route::Page),
        "/health" => Some(Route::Health),
        "/metrics" => Some(Route::Metrics),
        "/openapi.json" => Some(Route::OpenApi),
        "/reset" => Some(Route::Reset),
        _ => None,
    };
    if let Some(route) = fixed {
        return Some((route, None));
    }
    let rest = path.strip_prefix("/shows/")?;
    let (id, action) = rest.split_once('/')?;
    let route = match action {
        "initialize" => Route::Initialize,
        "seats" => Route::Seats,
        "hold" => Route::Hold,
        "book" => Route::Book,
        "release-hold" => Route::Release,
        _ => return None,
    };
    if id.is_empty() {
        return None;
    }
    Some((route, Some(percent_encoding::percent_decode_str(id).collect())))
}

/// The most body bytes a request to `url` may carry.
pub fn body_limit(url: &str) -> usize {
    match resolve(url) {
        Some((Route::Initialize, _)) => MAX_INITIALIZE_BODY_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

/// The reply for a body over its limit.
pub fn too_large(limit: usize) -> Reply {
    Reply::error(413, &format!("request body must be at most {limit} bytes"))
}

/// Answers one request. The second value is the route's template for metrics and logs.
pub fn route(app: &App, rq: &Request) -> (Reply, &'static str) {
    let Some((route, raw_id)) = resolve(rq.url) else {
        return (Reply::error(404, "not found"), "unmatched");
    };
    let template = route.template();
    let method = rq.method;
    if method == "OPTIONS" {
        return (preflight(rq, route), template);
    }
    let allowed = route.method();
    if method != allowed && !(allowed == "GET" && method == "HEAD") {
        let allow = if allowed == "GET" { "GET, HEAD, OPTIONS" } else { "POST, OPTIONS" };
        let reply = Reply::error(405, "method not allowed").with_header("Allow", allow);
        return (reply, template);
    }
    let show_id = match raw_id.map(String::from_utf8) {
        None => String::new(),
        Some(Ok(id)) => id,
        Some(Err(_)) => {
            return (Reply::error(400, "show_id must be valid UTF-8 once percent-decoded"), template)
        }
    };
    let reply = match route {
        Route::Page => Reply { status: 200, headers: Vec::new(), payload: Payload::Html(PAGE) },
        Route::OpenApi => {
            Reply { status: 200, headers: Vec::new(), payload: Payload::Json(OPENAPI.as_bytes().to_vec()) }
        }
        Route::Metrics => Reply {
            status: 200,
            headers: Vec::new(),
            payload: Payload::Metrics(app.metrics.render(&app.core.stats())),
        },
        Route::Health => health(app),
        Route::Reset => reset(app, rq),
        Route::Initialize => initialize(app, rq, &show_id),
        Route::Seats => status::seats(&app.core, show_id),
        Route::Hold => hold(app, rq, &show_id),
        Route::Book => book(app, rq, &show_id),
        Route::Release => release(app, rq, &show_id),
    };
    (reply, template)
}

/// CORS headers every reply carries.
pub const CORS_ORIGIN: (&str, &str) = ("Access-Control-Allow-Origin", "*");

fn preflight(rq: &Request, route: Route) -> Reply {
    let methods = if route.method() == "GET" { "GET, HEAD, OPTIONS" } else { "POST, OPTIONS" };
    let headers = rq
        .header("Access-Control-Request-Headers")
        .filter(|h| h.len() <= 1024 && h.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
        .unwrap_or("Content-Type, Authorization, Idempotency-Key")
        .to_owned();
    Reply { status: 204, headers: Vec::new(), payload: Payload::Empty }
        .with_header("Access-Control-Allow-Methods", methods)
        .with_header("Access-Control-Allow-Headers", headers)
        .with_header("Access-Control-Max-Age", "86400")
        .with_header("Allow", methods)
}

/// Answers a contract endpoint with the core's REST handler.
fn contract(app: &App, rq: &Request, endpoint: Endpoint, show_id: &str) -> Reply {
    let settings = rest::Settings {
        min_hold_seconds: app.settings.min_hold_seconds,
        max_hold_seconds: app.settings.max_hold_seconds,
        default_hold_seconds: app.settings.default_hold_seconds,
    };
    let request = rest::Request {
        body: rq.body,
        content_type: rq.header("Content-Type"),
        idempotency_key: rq.header("Idempotency-Key"),
        query: rq.url.split_once('?').map(|(_, q)| q),
    };
    let reply = rest::handle(&app.core, &settings, endpoint, Some(show_id.as_bytes()), &request);
    let out = match reply.body {
        rest::Body::Json(value) => Reply::json(reply.status, &value),
        rest::Body::Status(id) => return status::seats(&app.core, id),
    };
    if reply.status == 503 {
        out.with_header("Retry-After", "1")
    } else {
        out
    }
}

/// `None` when no admin token is configured or the request carries it.
fn admin_refusal(app: &App, rq: &Request) -> Option<Reply> {
    let token = app.settings.admin_token.as_deref()?;
    let given = rq.header("Authorization").and_then(|h| {
        let (scheme, value) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("Bearer").then(|| value.trim())
    });
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => None,
        _ => Some(
            Reply::error(401, "admin token required: send Authorization: Bearer <token>")
                .with_header("WWW-Authenticate", "Bearer"),
        ),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn health(app: &App) -> Reply {
    match app.core.health() {
        Ok(h) => Reply::json(200, &json!({ "status": "healthy", "database": "connected", "shows": h.shows })),
        Err(e) => error_reply(Op::Health, &e),
    }
}

fn reset(app: &App, rq: &Request) -> Reply {
    if let Some(refusal) = admin_refusal(app, rq) {
        return refusal;
    }
    contract(app, rq, Endpoint::Reset, "")
}

fn initialize(app: &App, rq: &Request, show_id: &str) -> Reply {
    if let Some(refusal) = admin_refusal(app, rq) {
        return refusal;
    }
    contract(app, rq, Endpoint::Initialize, show_id)
}

fn hold(app: &App, rq: &Request, show_id: &str) -> Reply {
    contract(app, rq, Endpoint::Hold, show_id)
}

fn book(app: &App, rq: &Request, show_id: &str) -> Reply {
    contract(app, rq, Endpoint::Book, show_id)
}

fn release(app: &App, rq: &Request, show_id: &str) -> Reply {
    contract(app, rq, Endpoint::Release, show_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore::testing::TestDb;
    use serde_json::Value;

    #[test]
    fn paths_resolve_to_routes() {
        assert_eq!(resolve("/"), Some((Route::Page, None)));
        assert_eq!(resolve("/health?x=1"), Some((Route::Health, None)));
        assert_eq!(resolve("/shows/a%20b/hold"), Some((Route::Hold, Some(b"a b".to_vec()))));
        assert_eq!(resolve("/shows/%FF/seats"), Some((Route::Seats, Some(vec![0xFF]))));
        assert_eq!(resolve("/shows//hold"), None);
        assert_eq!(resolve("/shows/x/hold/"), None);
        assert_eq!(resolve("/shows/x/y/hold"), None);
        assert_eq!(resolve("/health/"), None);
        assert_eq!(resolve("/nope"), None);
        assert_eq!(body_limit("/shows/x/initialize"), MAX_INITIALIZE_BODY_BYTES);
        assert_eq!(body_limit("/shows/x/hold"), MAX_BODY_BYTES);
    }

    fn app(db: &TestDb, token: Option<&str>) -> App {
        let core = SeatCore::connect(&db.url, seatcore::Options { pool_size: 2, ..Default::default() })
            .expect("connecting");
        let settings = Settings { admin_token: token.map(str::to_owned), ..Settings::default() };
        App { core, settings, metrics: Metrics::default() }
    }

    fn call(app: &App, method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
        let headers: Vec<(String, String)> =
            headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let rq = Request { method, url, headers: &headers, body: body.as_bytes() };
        let (reply, _) = route(app, &rq);
        let status = reply.status;
        let bytes = reply.body_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];

    #[test]
    fn handlers_without_sockets() {
        let db = TestDb::new("router_handlers");
        let app = app(&db, Some("s3cret"));
        let (s, v) = call(&app, "POST", "/shows/s1/initialize", JSON, r#"{"seat_ids":["A1","A2"]}"#);
        assert_eq!(
            (s, v["error"].as_str()),
            (401, Some("admin token required: send Authorization: Bearer <token>"))
        );
        let auth = &[("Content-Type", "application/json"), ("Authorization", "Bearer s3cret")];
        let (s, v) = call(&app, "POST", "/shows/s1/initialize", auth, r#"{"seat_ids":["A1"," A2 "]}"#);
        assert_eq!(
            (s, v),
            (201, json!({"message": "show initialized with 2 seats", "show_id": "s1", "seat_count": 2}))
        );
        let (s, v) = call(
            &app,
            "POST",
            "/shows/s1/hold",
            JSON,
            r#"{"seat_ids":["A2"],"hold_duration_seconds":"120"}"#,
        );
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["seat_ids"], json!(["A2"]));
        let (s, v) = call(&app, "POST", "/shows/s1/hold", JSON, r#"{"seat_ids":["A1","A2"]}"#);
        assert_eq!((s, v), (409, json!({"error": "seats unavailable", "unavailable_seats": ["A2"]})));
        let (s, v) = call(&app, "GET", "/shows/s1/seats", &[], "");
        assert_eq!(s, 200);
        assert_eq!((v["total_seats"].as_u64(), v["held_seats"].as_u64()), (Some(2), Some(1)));
        assert_eq!(v["invariants_valid"], json!(true));
        assert_eq!(v["seats"][0], json!({"seat_id": "A1", "status": "available"}));
        let (s, _) = call(&app, "GET", "/shows/s1/hold", &[], "");
        assert_eq!(s, 405);
        let (s, _) =
            call(&app, "POST", "/shows/s1/book", &[("content-type", "text/plain")], r#"{"hold_id":"x"}"#);
        assert_eq!(s, 400);
        let (s, v) = call(&app, "POST", "/shows/s1/book", JSON, r#"{"hold_id":"not-a-uuid"}"#);
        assert_eq!((s, v), (400, json!({"error": "hold not found or expired"})));
        let (s, v) = call(&app, "POST", "/reset", &[("Authorization", "bearer s3cret")], "");
        assert_eq!((s, v["holds_cleared"].as_u64()), (200, Some(1)));
        let (s, _) = call(&app, "GET", "/nowhere", &[], "");
        assert_eq!(s, 404);
    }
}
