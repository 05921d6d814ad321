//! Routing: a plain function from a request's head (and a way to read its body) to a
//! [`Reply`]. The contract's endpoints are answered by `seatcore::rest`; this door adds
//! what belongs to HTTP: CORS preflight, 404 and 405, the admin token, the page, the
//! metrics, the API description, and streaming of the seat status.
//!
//! No tiny_http types live here, so every branch is tested without sockets.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use seatcore::contract::Op;
use seatcore::rest::{self, Param, Settings};
use seatcore::{Error, InputError, SeatCore};

use crate::events::{Hub, Refused};
use crate::metrics::Metrics;
use crate::openapi;
use crate::reply::{Payload, Reply};
use crate::status::{self, Streams};

/// The demo show created at start.
pub const DEMO_SHOW: &str = "avengers_2026_7pm";

/// The server's own refusals (the contract's replies come from the core).
pub const NOT_FOUND: &str = "not found";
pub const METHOD_NOT_ALLOWED: &str = "method not allowed";
pub const ADMIN_TOKEN_REQUIRED: &str = "admin token required: send Authorization: Bearer <token>";

/// CORS header every reply carries.
pub const CORS_ORIGIN: (&str, &str) = ("Access-Control-Allow-Origin", "*");

const PAGE: &str = include_str!("page.html");

/// What every request shares.
pub struct App {
    pub core: SeatCore,
    pub settings: Settings,
    /// When set, the admin endpoints ([`Op::requires_admin`]) need it as a bearer token.
    pub admin_token: Option<String>,
    pub metrics: Metrics,
    /// The fan-out of change events (none in handler tests that need no streams).
    pub hub: Option<Hub>,
    /// From a request's arrival, how long it may wait (for a worker, a database connection,
    /// a pass for a large status read) before it gets its 503.
    pub deadline: Duration,
    /// The bounds on large status reads.
    pub streams: Arc<Streams>,
    /// A line on stderr for every request answered.
    pub request_log: bool,
    /// `/openapi.json`, built once from the settings.
    openapi: Vec<u8>,
}

impl App {
    /// An application with the default deadline (the pool timeout plus [`DEADLINE_MARGIN`])
    /// and status bounds (see `crate::config`), logging every request.
    pub fn new(core: SeatCore, settings: Settings, admin_token: Option<String>, hub: Option<Hub>) -> App {
        let openapi = openapi::document(&settings, admin_token.is_some()).to_string().into_bytes();
        let options = seatcore::Options::DEFAULT;
        let streams = Streams::new(
            status_reads(options.pool_size as usize),
            (status::DEFAULT_BUFFER_MIB << 20) as usize,
        );
        App {
            core,
            settings,
            admin_token,
            metrics: Metrics::default(),
            hub,
            deadline: options.checkout_timeout + DEADLINE_MARGIN,
            streams: Arc::new(streams),
            request_log: true,
            openapi,
        }
    }
}

/// The default deadline of a request is the pool timeout plus this: a request that finds a
/// worker at once still waits the whole pool timeout for a connection.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

/// The default number of large status reads at once for `workers` workers: a quarter of
/// them (at least one), so that however many clients ask for large documents, most database
/// connections stay free for everything else.
pub fn status_reads(workers: usize) -> usize {
    (workers / 4).max(1)
}

/// A request's head: method, target and headers.
pub struct Head<'a> {
    pub method: &'a str,
    /// The request target as sent: path and optional query.
    pub url: &'a str,
    /// Header names as sent; looked up without regard to case.
    pub headers: &'a [(String, String)],
}

impl Head<'_> {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The query string, without its `?`.
    fn query(&self) -> Option<&str> {
        let (_, query) = self.url.split_once('?')?;
        query.split('#').next()
    }
}

/// A request's body, not read yet.
pub trait BodySource {
    /// The length the request declares (`Content-Length`), if any.
    fn declared_length(&self) -> Option<usize>;
    /// The body as it arrives: its end, or an error when the client stopped sending or sent
    /// a broken chunked encoding.
    fn reader(&mut self) -> &mut dyn Read;
}

/// Why a body could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// The client stopped sending, or sent a broken chunked encoding.
    Unreadable,
}

/// Reads a whole body, at most `limit` bytes.
fn read_body(body: &mut dyn BodySource, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut bytes = Vec::with_capacity(body.declared_length().unwrap_or(0).min(limit));
    match body.reader().take(limit as u64 + 1).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() > limit => Err(BodyError::TooLarge),
        Ok(_) => Ok(bytes),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// What a path names: a page of the server's own, or an endpoint of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Page,
    Metrics,
    OpenApi,
    Api(Op),
}

impl Route {
    /// The server's own pages, all read with `GET`.
    pub const OWN: [Route; 3] = [Route::Page, Route::Metrics, Route::OpenApi];

    /// The path template: the `route` label of the metrics.
    pub fn template(self) -> &'static str {
        match self {
            Route::Page => "/",
            Route::Metrics => "/metrics",
            Route::OpenApi => "/openapi.json",
            Route::Api(e) => e.template(),
        }
    }

    fn method(self) -> &'static str {
        match self {
            Route::Api(e) => e.method(),
            Route::Page | Route::Metrics | Route::OpenApi => "GET",
        }
    }

    /// The `Allow` header: `HEAD` wherever `GET` is allowed, `OPTIONS` everywhere.
    fn allow(self) -> &'static str {
        if self.method() == "GET" {
            "GET, HEAD, OPTIONS"
        } else {
            "POST, OPTIONS"
        }
    }
}

/// The route a path names, and the percent-decoded show id of a contract endpoint (raw
/// bytes: maybe not UTF-8). The query string is ignored.
pub fn resolve(url: &str) -> Option<(Route, Option<Vec<u8>>)> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    if let Some(own) = Route::OWN.into_iter().find(|r| r.template() == path) {
        return Some((own, None));
    }
    rest::resolve(url).map(|(endpoint, show_id)| (Route::Api(endpoint), show_id))
}

/// Answers one request. Its body is read only once the request is known to need it, at
/// most [`Op::body_limit`] bytes: whole, or for an initialize by `rest::read_initialize`
/// (the seat map is checked and stored compactly as it is parsed; a body over 4 MiB or
/// without a declared length as it arrives). The second value is the route's
/// template for metrics and logs.
///
/// Nothing waits past `deadline`: an endpoint of the contract reached after it gets the
/// contract's 503 (database unavailable) at once, without its body read; one reached before
/// it waits for its database connection until it at most. The time spent receiving the
/// body (a body longer than what tiny_http reads ahead) moves the deadline back by as much.
pub fn route(app: &App, rq: &Head, deadline: Instant, body: &mut dyn BodySource) -> (Reply, &'static str) {
    let Some((route, show_id)) = resolve(rq.url) else {
        return (Reply::refusal(404, NOT_FOUND), "unmatched");
    };
    let label = route.template();
    if rq.method == "OPTIONS" {
        return (preflight(rq, route), label);
    }
    let allowed = route.method();
    if rq.method != allowed && !(allowed == "GET" && rq.method == "HEAD") {
        return (Reply::refusal(405, METHOD_NOT_ALLOWED).with_header("Allow", route.allow()), label);
    }
    let endpoint = match route {
        Route::Page => {
            return (Reply { status: 200, headers: Vec::new(), payload: Payload::Html(PAGE) }, label)
        }
        Route::OpenApi => {
            let payload = Payload::Json(app.openapi.clone());
            return (Reply { status: 200, headers: Vec::new(), payload }, label);
        }
        Route::Metrics => {
            let streams = app.hub.as_ref().map_or(0, Hub::subscribers);
            let payload =
                Payload::Metrics(app.metrics.render(&app.core.stats(), streams, app.streams.buffered()));
            return (Reply { status: 200, headers: Vec::new(), payload }, label);
        }
        Route::Api(endpoint) => endpoint,
    };
    if endpoint.requires_admin() {
        if let Some(refusal) = admin_refusal(app, rq) {
            return (refusal, label);
        }
    }
    if Instant::now() >= deadline {
        let late = Error::Unavailable("the request's deadline passed".into());
        let r = seatcore::contract::rest_error(endpoint, &late);
        return (Reply::json(r.status, &r.body), label);
    }
    let limit = endpoint.body_limit();
    let reading = Instant::now();
    let body = if body.declared_length().is_some_and(|n| n > limit) {
        Err(BodyError::TooLarge)
    } else if endpoint == Op::Initialize {
        let request = api_request(rq, &[]);
        let length = body.declared_length();
        let read = rest::read_initialize(show_id.as_deref(), &request, body.reader(), length);
        // Receiving a body longer than what was read ahead is the client's time, not a wait.
        let deadline = deadline + reading.elapsed();
        let core = app.core.until(deadline);
        let reply = rest::initialize_read(&core, read);
        return (answer(app, &core, deadline, reply, None), label);
    } else {
        read_body(body, limit)
    };
    // Receiving a body longer than what was read ahead is the client's time, not a wait.
    let deadline = deadline + reading.elapsed();
    let core = app.core.until(deadline);
    let body = match body {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return (answer(app, &core, deadline, rest::Reply::too_large(endpoint, limit), None), label)
        }
        Err(BodyError::Unreadable) => {
            let refused = rest::Reply::error(endpoint, &InputError::NotAnObject.into());
            return (answer(app, &core, deadline, refused, None), label);
        }
    };
    let request = api_request(rq, &body);
    let reply = rest::handle(&core, &app.settings, endpoint, show_id.as_deref(), &request);
    (answer(app, &core, deadline, reply, rq.header("If-None-Match").map(str::to_owned)), label)
}

/// The parts of a request the contract reads.
fn api_request<'a>(rq: &'a Head, body: &'a [u8]) -> rest::Request<'a> {
    rest::Request {
        body,
        content_type: rq.header("Content-Type"),
        idempotency_key: rq.header(Param::IdempotencyKey.name()),
        query: rq.query(),
        last_event_id: rq.header(Param::LastEventId.name()),
    }
}

/// The HTTP reply of a contract reply: a JSON document, the streamed status of a show, or
/// its event stream.
fn answer(
    app: &App,
    core: &SeatCore,
    deadline: Instant,
    reply: rest::Reply,
    if_none_match: Option<String>,
) -> Reply {
    match reply.body {
        rest::Body::Json(json) => {
            Reply { status: reply.status, headers: Vec::new(), payload: Payload::Json(json.into_bytes()) }
        }
        rest::Body::Status(show_id) => status::stream(core, &app.streams, deadline, show_id, if_none_match),
        rest::Body::Map(show_id) => status::map(core, &app.streams, deadline, show_id),
        rest::Body::Events { show_id, after } => {
            match app.hub.as_ref().map(|hub| hub.subscribe(show_id, after)) {
                Some(Ok(opening)) => Reply {
                    status: 200,
                    headers: vec![("Cache-Control", "no-cache".to_owned())],
                    payload: Payload::EventStream(opening),
                },
                Some(Err(Refused::Full)) => Reply::refusal(503, "too many event streams, retry"),
                Some(Err(Refused::Stopping)) => Reply::refusal(503, "the server is stopping"),
                None => Reply::refusal(503, "event streams are not running on this server"),
            }
        }
    }
}

fn preflight(rq: &Head, route: Route) -> Reply {
    let headers = rq
        .header("Access-Control-Request-Headers")
        .filter(|h| h.len() <= 1024 && h.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
        .unwrap_or("Content-Type, Authorization, Idempotency-Key")
        .to_owned();
    Reply { status: 204, headers: Vec::new(), payload: Payload::Empty }
        .with_header("Access-Control-Allow-Methods", route.allow())
        .with_header("Access-Control-Allow-Headers", headers)
        .with_header("Access-Control-Max-Age", "86400")
        .with_header("Allow", route.allow())
}

/// `None` when no admin token is configured or the request carries it.
fn admin_refusal(app: &App, rq: &Head) -> Option<Reply> {
    let token = app.admin_token.as_deref()?;
    let given = rq.header("Authorization").and_then(|h| {
        let (scheme, value) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("Bearer").then(|| value.trim())
    });
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => None,
        _ => Some(Reply::refusal(401, ADMIN_TOKEN_REQUIRED).with_header("WWW-Authenticate", "Bearer")),
    }
}

/// Compares without stopping at the first difference, so the time taken tells nothing
/// about how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore::testing::TestDb;
    use serde_json::{json, Value};

    /// The server's own documents; every endpoint of the contract goes to the contract (whose
    /// own tests cover query strings and percent-decoding).
    #[test]
    fn paths_resolve_to_routes() {
        for (path, route) in
            [("/", Route::Page), ("/metrics?x", Route::Metrics), ("/openapi.json", Route::OpenApi)]
        {
            assert_eq!(resolve(path), Some((route, None)), "{path}");
        }
        for path in ["/nope", "/metrics/"] {
            assert_eq!(resolve(path), None, "{path}");
        }
        assert_eq!(resolve("/shows/a%20b/hold").unwrap().1, Some(b"a b".to_vec()));
        for e in Op::ALL {
            let (route, _) = resolve(&e.template().replace("{show_id}", "s")).unwrap();
            assert_eq!((route, route.template()), (Route::Api(*e), e.template()));
        }
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn app(db: &TestDb, token: Option<&str>) -> App {
        let core = SeatCore::connect(&db.url, seatcore::Options { pool_size: 2, ..Default::default() })
            .expect("connecting");
        App::new(core, Settings::DEFAULT, token.map(str::to_owned), None)
    }

    struct Answer {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Value,
        label: &'static str,
        /// Whether the body was read.
        read: bool,
    }

    impl Answer {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }
    }

    /// A body for [`route`]: these bytes, or a body over any limit, or one whose client
    /// stops sending; it records whether it was read.
    struct TestBody<'a> {
        body: Result<&'a [u8], BodyError>,
        /// Whether its length is declared (else it comes in chunks).
        declared: bool,
        read: bool,
    }

    impl<'a> TestBody<'a> {
        fn new(body: Result<&'a [u8], BodyError>) -> TestBody<'a> {
            TestBody { body, declared: true, read: false }
        }
    }

    impl BodySource for TestBody<'_> {
        fn declared_length(&self) -> Option<usize> {
            match self.body {
                Ok(b) => self.declared.then_some(b.len()),
                Err(BodyError::TooLarge) => Some(usize::MAX),
                Err(BodyError::Unreadable) => None,
            }
        }

        fn reader(&mut self) -> &mut dyn Read {
            self.read = true;
            self
        }
    }

    impl Read for TestBody<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            match &mut self.body {
                Ok(b) => b.read(out),
                Err(_) => Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "the client left")),
            }
        }
    }

    fn call_with(
        app: &App,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Result<&str, BodyError>,
    ) -> Answer {
        let headers: Vec<(String, String)> =
            headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let mut body = TestBody::new(body.map(str::as_bytes));
        let (reply, label) = route(app, &Head { method, url, headers: &headers }, soon(), &mut body);
        let (status, headers) = (reply.status, reply.headers.clone());
        let bytes = reply.body_bytes();
        let body_json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, headers, body: body_json, label, read: body.read }
    }

    fn call(app: &App, method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        call_with(app, method, url, headers, Ok(body))
    }

    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
    static JSON_OWNED: std::sync::LazyLock<Vec<(String, String)>> =
        std::sync::LazyLock::new(|| vec![("content-type".into(), "application/json".into())]);

    #[test]
    fn the_admin_token_guards_the_admin_endpoints() {
        let db = TestDb::new("router_admin");
        let app = app(&db, Some("s3cret"));
        let refused = json!({"error": ADMIN_TOKEN_REQUIRED});
        for auth in [None, Some("Bearer wrong"), Some("Basic s3cret"), Some("Bearer s3cre"), Some("Bearer")] {
            let headers: Vec<(&str, &str)> =
                JSON.iter().copied().chain(auth.map(|a| ("Authorization", a))).collect();
            for e in Op::ALL.iter().filter(|e| e.requires_admin()) {
                let url = e.template().replace("{show_id}", "s1");
                let a = call(&app, e.method(), &url, &headers, r#"{"seat_ids":["A1"]}"#);
                assert_eq!((a.status, &a.body), (401, &refused), "{url} {auth:?}");
                assert_eq!(a.header("WWW-Authenticate"), Some("Bearer"));
                assert!(!a.read, "the body of a refused request is not read");
            }
        }
        assert_eq!(app.core.health().unwrap().shows, 0, "nothing was written");
        let auth = &[("Content-Type", "application/json"), ("Authorization", "bearer  s3cret ")];
        let a = call(&app, "POST", "/shows/s1/initialize", auth, r#"{"seat_ids":["A1"," A2 "]}"#);
        assert_eq!(a.status, 201, "{}", a.body);
        assert!(a.read);
        let a = call(&app, "GET", "/audit?show_id=s1", auth, "");
        assert_eq!((a.status, a.body["ok"].as_bool(), a.body["seats"].as_u64()), (200, Some(true), Some(2)));
        // everything else stays open
        let a = call(&app, "POST", "/shows/s1/hold", JSON, r#"{"seat_ids":["A1"]}"#);
        assert_eq!(a.status, 201, "{}", a.body);
        let a = call(&app, "POST", "/reset", &auth[1..], "");
        assert_eq!((a.status, a.body["holds_cleared"].as_u64()), (200, Some(1)));
    }

    #[test]
    fn preflight_405_404_and_the_server_pages() {
        let db = TestDb::new("router_http");
        let app = app(&db, None);
        let a = call(
            &app,
            "OPTIONS",
            "/shows/x/hold",
            &[("Access-Control-Request-Headers", "content-type, idempotency-key")],
            "",
        );
        assert_eq!((a.status, a.label, a.read), (204, "/shows/{show_id}/hold", false));
        assert_eq!(a.header("Access-Control-Allow-Methods"), Some("POST, OPTIONS"));
        assert_eq!(a.header("Access-Control-Allow-Headers"), Some("content-type, idempotency-key"));
        let a = call(&app, "OPTIONS", "/metrics", &[("Access-Control-Request-Headers", "x\u{7f}")], "");
        assert_eq!(a.header("Access-Control-Allow-Methods"), Some("GET, HEAD, OPTIONS"));
        assert_eq!(
            a.header("Access-Control-Allow-Headers"),
            Some("Content-Type, Authorization, Idempotency-Key")
        );

        for (method, url, allow) in [
            ("GET", "/shows/x/hold", "POST, OPTIONS"),
            ("DELETE", "/health", "GET, HEAD, OPTIONS"),
            ("POST", "/audit", "GET, HEAD, OPTIONS"),
            ("POST", "/openapi.json", "GET, HEAD, OPTIONS"),
            ("HEAD", "/reset", "POST, OPTIONS"),
        ] {
            let a = call(&app, method, url, &[], "");
            assert_eq!((a.status, &a.body), (405, &json!({"error": METHOD_NOT_ALLOWED})), "{method} {url}");
            assert_eq!((a.header("Allow"), a.read), (Some(allow), false), "{method} {url}");
        }
        let a = call(&app, "GET", "/shows/x/nope", &[], "");
        assert_eq!((a.status, &a.body, a.label), (404, &json!({"error": NOT_FOUND}), "unmatched"));
        let a = call(&app, "HEAD", "/health", &[], "");
        assert_eq!((a.status, a.body["status"].as_str()), (200, Some("healthy")));

        let (reply, _) =
            route(&app, &Head { method: "GET", url: "/", headers: &[] }, soon(), &mut TestBody::new(Ok(b"")));
        assert_eq!(reply.content_type(), Some("text/html; charset=utf-8"));
        let a = call(&app, "GET", "/openapi.json", &[], "");
        assert_eq!((a.status, a.body["openapi"].as_str()), (200, Some("3.0.3")));
        let (reply, _) = route(
            &app,
            &Head { method: "GET", url: "/metrics", headers: &[] },
            soon(),
            &mut TestBody::new(Ok(b"")),
        );
        assert!(String::from_utf8(reply.body_bytes()).unwrap().contains("seatcore_pool_max_connections 2"));
    }

    #[test]
    fn bodies_are_read_up_to_the_endpoint_limit() {
        let db = TestDb::new("router_bodies");
        let app = app(&db, None);
        let too_large =
            |limit: usize| json!({"error": format!("request body must be at most {limit} bytes")});
        // a declared length over the limit: refused unread
        let a = call_with(&app, "POST", "/shows/s/hold", JSON, Err(BodyError::TooLarge));
        assert_eq!((a.status, a.read, a.body), (413, false, too_large(rest::MAX_BODY_BYTES)));
        let a = call_with(&app, "POST", "/shows/s/initialize", JSON, Err(BodyError::TooLarge));
        assert_eq!((a.status, a.read, a.body), (413, false, too_large(rest::MAX_INITIALIZE_BODY_BYTES)));
        // a body without a declared length: read up to the limit
        let long = format!("{{\"seat_ids\": [{}\"A1\"]}}", " ".repeat(rest::MAX_BODY_BYTES));
        let chunked = |url: &str, body: &str| {
            let mut body = TestBody { declared: false, ..TestBody::new(Ok(body.as_bytes())) };
            let (reply, _) =
                route(&app, &Head { method: "POST", url, headers: JSON_OWNED.as_slice() }, soon(), &mut body);
            let status = reply.status;
            (status, serde_json::from_slice::<Value>(&reply.body_bytes()).unwrap(), body.read)
        };
        assert_eq!(chunked("/shows/s/hold", &long), (413, too_large(rest::MAX_BODY_BYTES), true));
        let long = format!("{{\"seat_ids\": [\"A1\"]}}{}", " ".repeat(rest::MAX_INITIALIZE_BODY_BYTES));
        assert_eq!(
            chunked("/shows/s/initialize", &long),
            (413, too_large(rest::MAX_INITIALIZE_BODY_BYTES), true)
        );
        // over the limit, whatever comes before the limit
        let long = format!("[{}", " ".repeat(rest::MAX_INITIALIZE_BODY_BYTES));
        assert_eq!(
            chunked("/shows/s/initialize", &long),
            (413, too_large(rest::MAX_INITIALIZE_BODY_BYTES), true)
        );
        let not_an_object = json!({"error": "request body must be a JSON object"});
        assert_eq!(chunked("/shows/s/initialize", &long[..1000]), (400, not_an_object.clone(), true));
        for url in ["/shows/s/book", "/shows/s/initialize"] {
            let a = call_with(&app, "POST", url, JSON, Err(BodyError::Unreadable));
            assert_eq!((a.status, &a.body), (400, &not_an_object), "{url}");
        }
        assert_eq!(app.core.health().unwrap().shows, 0, "nothing was written");
        // the contract's answers come through unchanged, with the query string
        let a = call(&app, "GET", "/audit?show_id=", &[], "");
        assert_eq!(
            (a.status, a.body),
            (400, json!({"error": "show_id must be between 1 and 128 characters"}))
        );
        let a = call(&app, "GET", "/shows/nope/seats", &[], "");
        assert_eq!((a.status, a.body), (404, json!({"error": "show not found"})));
        let key = &[("Content-Type", "application/json"), ("Idempotency-Key", "")];
        let a = call(&app, "POST", "/shows/s/hold", key, r#"{"seat_ids":["A1"]}"#);
        assert_eq!(a.status, 400, "{}", a.body);
    }

    #[test]
    fn a_request_past_its_deadline_gets_503_without_touching_the_database() {
        let db = TestDb::new("router_late");
        let app = app(&db, None);
        let late = Instant::now();
        let call_late = |method: &str, url: &str| {
            let mut body = TestBody::new(Ok(br#"{"seat_ids":["A1"]}"#));
            let (reply, label) =
                route(&app, &Head { method, url, headers: JSON_OWNED.as_slice() }, late, &mut body);
            let status = reply.status;
            (status, reply.body_bytes(), label, body.read)
        };
        for e in Op::ALL {
            let url = e.template().replace("{show_id}", "s1");
            let (status, body, label, read) = call_late(e.method(), &url);
            let expected = seatcore::contract::rest_error(*e, &Error::Unavailable("late".into()));
            assert_eq!((status, label, read), (expected.status, e.template(), false), "{url}");
            assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), expected.body, "{url}");
        }
        let (status, body, ..) = call_late("POST", "/shows/s1/hold");
        assert_eq!(
            (status, serde_json::from_slice::<Value>(&body).unwrap()),
            (503, json!({"error": "database unavailable, try again"}))
        );
        // What needs no database is answered as ever.
        assert_eq!(call_late("GET", "/openapi.json").0, 200);
        assert_eq!(call_late("GET", "/metrics").0, 200);
        assert_eq!(call_late("OPTIONS", "/shows/s1/hold").0, 204);
        assert_eq!(call_late("GET", "/nope").0, 404);
        assert_eq!(call_late("GET", "/shows/s1/hold").0, 405);
        assert_eq!(app.core.health().unwrap().shows, 0, "nothing was written");
    }

    #[test]
    fn receiving_the_body_does_not_count_against_the_deadline() {
        let db = TestDb::new("router_slow_body");
        let app = app(&db, None);
        app.core.initialize_show("s1", &["A1"]).unwrap();
        // A client that takes a second to send its body (past the deadline as given), read
        // whole (a hold) or as it arrives (an initialize).
        struct Slow(&'static [u8]);
        impl BodySource for Slow {
            fn declared_length(&self) -> Option<usize> {
                None
            }
            fn reader(&mut self) -> &mut dyn Read {
                self
            }
        }
        impl Read for Slow {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_secs(1));
                self.0.read(out)
            }
        }
        for url in ["/shows/s1/hold", "/shows/s2/initialize"] {
            let deadline = Instant::now() + Duration::from_millis(500);
            let head = Head { method: "POST", url, headers: JSON_OWNED.as_slice() };
            let (reply, _) = route(&app, &head, deadline, &mut Slow(br#"{"seat_ids":["A1"]}"#));
            let status = reply.status;
            assert_eq!(status, 201, "{url}: {}", String::from_utf8_lossy(&reply.body_bytes()));
        }
    }
}
