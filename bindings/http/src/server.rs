//! The thin I/O layer: a fixed pool of worker threads; each request is read (body capped),
//! routed, answered, logged, counted. A worker hands its response to the connection's own
//! thread, which writes it (the vendored tiny_http): a client that reads slowly, or not at
//! all, never holds a worker.
//!
//! Workers take requests straight from tiny_http's queue, oldest first. Every request has
//! a deadline, [`App::deadline`] after it was queued (its head, and the body the library
//! reads ahead, are in). A watcher thread answers the requests still queued at their
//! deadline itself, with the contract's 503: it never waits for anything else, so such a
//! request is answered at its deadline even when every worker is busy. A worker's request
//! waits for a database connection until its deadline at most (`SeatCore::until`). Logs
//! and latency histograms count from the request's arrival (its head read), time in the
//! queue included.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seatcore::contract::Op;
use tiny_http::{Header, Method, Response, Server, StatusCode};

use crate::reply::{Payload, Reply};
use crate::router::{self, App, BodySource, CORS_ORIGIN};

/// The watcher looks at `stop` at least this often.
const TICK: Duration = Duration::from_millis(200);

/// Runs the watcher and `workers` threads until `stop` is set, then lets the workers finish
/// their requests and the requests already queued, waits for the connections' threads to
/// write the responses (at most `write_timeout`, their deadline), and returns.
pub fn serve(
    app: Arc<App>,
    server: Arc<Server>,
    workers: usize,
    write_timeout: Duration,
    stop: Arc<AtomicBool>,
) {
    let threads: Vec<_> = (0..workers)
        .map(|i| {
            let (app, server) = (Arc::clone(&app), Arc::clone(&server));
            std::thread::Builder::new()
                .name(format!("http-worker-{i}"))
                .spawn(move || {
                    // An error is the watcher's unblock: no more requests for this worker.
                    while let Ok(rq) = server.recv() {
                        let deadline = rq.queued() + app.deadline;
                        handle(&app, Queued { rq, deadline });
                    }
                })
                .expect("spawning a worker thread")
        })
        .collect();
    watch(&app, &server, &stop);
    // Each worker leaves at an unblock, queued after every request accepted so far.
    for _ in 0..workers {
        server.unblock();
    }
    for t in threads {
        let _ = t.join();
    }
    // Every request taken is answered; its response may still be on its way to the socket.
    let until = Instant::now() + write_timeout + Duration::from_secs(1);
    while server.responses_in_flight() > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A request taken from the queue, and its deadline.
struct Queued {
    rq: tiny_http::Request,
    deadline: Instant,
}

/// Answers each request still queued at its deadline, until `stop`. Never waits for a
/// worker or the database: it sleeps until the oldest queued request's deadline, or
/// [`TICK`] (a request queued meanwhile has its deadline later than that, as `TICK` is at
/// most half a deadline).
fn watch(app: &App, server: &Server, stop: &AtomicBool) {
    let tick = TICK.min(app.deadline / 2).max(Duration::from_millis(1));
    while !stop.load(Ordering::Acquire) {
        let now = Instant::now();
        let (late, oldest) = server.take_queued(|rq| rq.queued() + app.deadline <= now);
        for rq in late {
            // Past its deadline: answered at once, without the database or its body.
            let deadline = rq.queued() + app.deadline;
            handle(app, Queued { rq, deadline });
        }
        let wake = oldest.map_or(now + tick, |t| (t + app.deadline).min(now + tick));
        std::thread::sleep(wake.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)));
    }
}

impl BodySource for tiny_http::Request {
    fn declared_length(&self) -> Option<usize> {
        self.body_length()
    }

    fn reader(&mut self) -> &mut dyn Read {
        self.as_reader()
    }
}

fn handle(app: &App, Queued { mut rq, deadline }: Queued) {
    let arrived = rq.arrived();
    let method: &'static str = method_name(rq.method());
    let url = rq.url().to_owned();
    let headers: Vec<(String, String)> = rq
        .headers()
        .iter()
        .map(|h| (h.field.as_str().as_str().to_owned(), h.value.as_str().to_owned()))
        .collect();
    let head = router::Head { method, url: &url, headers: &headers };
    let (reply, route) = router::route(app, &head, deadline, &mut rq);
    let status = reply.status;
    let version = rq.http_version();
    let chunked = (version.0, version.1) >= (1, 1);
    let streams = method != "HEAD" && matches!(reply.payload, Payload::EventStream(_));
    let head = streams.then(|| stream_head(&reply, chunked));
    let sent = match (reply.payload, head) {
        (Payload::EventStream(opening), Some(head)) => {
            rq.hand_over(move |socket| opening.attach(socket, &head, chunked))
        }
        (payload, _) => rq.respond(to_response(Reply { payload, ..reply })),
    };
    let took = arrived.elapsed();
    app.metrics.record(route, method, status, took);
    if app.request_log {
        log_line(method, &url, status, took, sent.is_err());
    }
    if route == Op::Initialize.template() {
        release_freed_memory();
        if status == 201 {
            // The new show's planner statistics, taken once its client has its answer.
            app.core.settle_statistics();
        }
    }
}

/// Gives the memory freed in the allocator's arenas back to the system. An initialize
/// builds a seat map of up to tens of megabytes and frees it; glibc keeps what it freed
/// inside an arena resident (only the arena's top is given back), and the next initialize,
/// on another worker's arena, would add its own.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; callable from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The replies tiny_http makes by itself (`tiny_http::Limits::error_response`): a malformed
/// or refused request, a request not received in time, the connection cap, a request
/// dropped unanswered. JSON with the CORS header, as every reply.
pub fn library_reply(status: StatusCode, problem: &'static str) -> Response<Box<dyn Read + Send>> {
    let reply = match status.0 {
        503 => Reply::refusal(503, "too many connections, retry"),
        500 => Reply::refusal(500, "internal error"),
        code => Reply::refusal(code, problem),
    };
    to_response(reply)
}

fn method_name(m: &Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::NonStandard(_) => "OTHER",
    }
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// The header fields of every reply: CORS, the payload's type, the handler's own, and the
/// server's name.
fn fields(reply: &Reply) -> Vec<(&str, &str)> {
    let mut fields = Vec::with_capacity(reply.headers.len() + 4);
    fields.push(CORS_ORIGIN);
    fields.extend(reply.content_type().map(|ct| ("Content-Type", ct)));
    fields.extend(reply.headers.iter().map(|(n, v)| (*n, v.as_str())));
    if reply.status == 503 {
        // Every 503 (database busy or unreachable) is worth a retry soon.
        fields.push(("Retry-After", "1"));
    }
    fields.push(("Server", "seatcore-server"));
    fields
}

fn to_response(reply: Reply) -> Response<Box<dyn Read + Send>> {
    let headers: Vec<Header> = fields(&reply).into_iter().filter_map(|(n, v)| header(n, v)).collect();
    let (reader, length): (Box<dyn Read + Send>, Option<usize>) = match reply.payload {
        Payload::Json(bytes) => {
            let n = bytes.len();
            (Box::new(std::io::Cursor::new(bytes)), Some(n))
        }
        Payload::JsonStream(reader) => (reader, None),
        // A HEAD of an event stream: its head alone.
        Payload::EventStream(_) => (Box::new(std::io::empty()), None),
        Payload::Html(text) => (Box::new(text.as_bytes()), Some(text.len())),
        Payload::Metrics(text) => {
            let n = text.len();
            (Box::new(std::io::Cursor::new(text.into_bytes())), Some(n))
        }
        Payload::Empty => (Box::new(std::io::empty()), Some(0)),
    };
    // Bodies with a known length go out in one piece, whatever their size.
    Response::new(StatusCode(reply.status), headers, reader, length, None).with_chunked_threshold(usize::MAX)
}

/// The head of an event stream's response, which the event loop's socket gets first: the
/// stream is chunked for HTTP/1.1 clients, and the connection closes when it ends.
fn stream_head(reply: &Reply, chunked: bool) -> Vec<u8> {
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    let framing = [("Transfer-Encoding", "chunked")];
    let framing = if chunked { &framing[..] } else { &[] };
    for (name, value) in fields(reply).iter().chain(framing).chain(&[("Connection", "close")]) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// One line per request on stderr (unless `--no-request-log`): method, path, status,
/// milliseconds (from the request's arrival, its head read, until the response is handed to
/// the connection's thread).
fn log_line(method: &str, url: &str, status: u16, took: std::time::Duration, closed: bool) {
    let path: String = url.chars().take(256).flat_map(char::escape_default).collect();
    let note = if closed { " (connection closed)" } else { "" };
    let line = format!("{method} {path} {status} {:.2}ms{note}\n", took.as_secs_f64() * 1000.0);
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
