//! The thin I/O layer: each request is read (body capped), routed, answered, logged and
//! counted on its connection's own thread (the vendored tiny_http), at most `workers` at once:
//! a request needs a turn, and the turns are as many as the database connections. A request
//! that arrives while every turn is taken waits for one, oldest first, until its deadline,
//! [`App::deadline`] after it was read (its head, and the body the library reads ahead, are
//! in); then it is answered with the contract's 503 without the database or its body. A
//! request's wait for a database connection ends at that deadline too (`SeatCore::until`).
//! The turn ends when the handler has its response; the connection's thread writes it, so a
//! client that reads slowly, or not at all, never holds a turn. Handled where it was read, a
//! request costs no hand-over between threads. Logs and latency histograms count from the
//! request's arrival (its head read), the wait for a turn included.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use seatcore::contract::Op;
use tiny_http::{Header, Method, Response, Server, StatusCode};

use crate::reply::{Payload, Reply};
use crate::router::{self, App, BodySource, CORS_ORIGIN};

/// How often a stopping server looks whether its requests are done.
const TICK: Duration = Duration::from_millis(10);

/// What each connection's thread runs for each of its requests: waits for a turn (within
/// the request's deadline), handles the request, gives the turn back. Once `stop` is set,
/// a request gets a 503 at once (the server is shutting down).
pub fn handler(app: Arc<App>, turns: Arc<Turns>, stop: Arc<AtomicBool>) -> tiny_http::Handler {
    Arc::new(move |rq: tiny_http::Request| {
        let deadline = rq.queued() + app.deadline;
        let _inside = turns.enter();
        if stop.load(Ordering::SeqCst) {
            let _ = rq.respond(to_response(Reply::refusal(503, "the server is shutting down")));
            return;
        }
        // Without a turn by its deadline, the request is answered so: without the database
        // or its body.
        let _turn = turns.take(deadline);
        handle(&app, rq, deadline);
    })
}

/// Waits until `stop` is set, then until every request that came in before has been
/// handled (those after get a 503 at once) and its response written, or given up at its
/// write deadline (`write_timeout`).
pub fn serve(server: &Server, turns: &Turns, write_timeout: Duration, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
    }
    while turns.inside.load(Ordering::SeqCst) > 0 {
        std::thread::sleep(TICK);
    }
    // Every request taken is answered; its response may still be on its way to the socket.
    let until = Instant::now() + write_timeout + Duration::from_secs(1);
    while server.responses_in_flight() > 0 && Instant::now() < until {
        std::thread::sleep(TICK);
    }
}

/// The turns to handle a request: at most as many requests are handled at once (each with
/// at most one database connection); the others wait, oldest first.
pub struct Turns {
    state: Mutex<TurnsState>,
    /// Requests in the handler (waiting for a turn, or with one).
    inside: AtomicUsize,
}

struct TurnsState {
    free: usize,
    waiting: VecDeque<Arc<Waiter>>,
}

/// A request waiting for a turn: given one (under the lock) by the request that ends its
/// own.
#[derive(Default)]
struct Waiter {
    given: AtomicBool,
    ready: Condvar,
}

/// A turn taken (when `Some`), given back when dropped.
struct Turn<'a>(Option<&'a Turns>);

/// A request in the handler, until dropped.
struct Inside<'a>(&'a Turns);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Turns {
    pub fn new(turns: usize) -> Turns {
        Turns {
            state: Mutex::new(TurnsState { free: turns, waiting: VecDeque::new() }),
            inside: AtomicUsize::new(0),
        }
    }

    fn enter(&self) -> Inside<'_> {
        self.inside.fetch_add(1, Ordering::SeqCst);
        Inside(self)
    }

    /// A turn, once one is free and every request that waited longer has had its own; none
    /// when `deadline` passes first.
    fn take(&self, deadline: Instant) -> Turn<'_> {
        let mut state = lock(&self.state);
        if state.free > 0 && state.waiting.is_empty() {
            state.free -= 1;
            return Turn(Some(self));
        }
        let me = Arc::new(Waiter::default());
        state.waiting.push_back(Arc::clone(&me));
        loop {
            if me.given.load(Ordering::Relaxed) {
                return Turn(Some(self));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.waiting.retain(|w| !Arc::ptr_eq(w, &me));
                return Turn(None);
            }
            state = me.ready.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Gives a turn back: to the request that has waited longest, if any.
    fn give_back(&self) {
        let mut state = lock(&self.state);
        match state.waiting.pop_front() {
            Some(next) => {
                next.given.store(true, Ordering::Relaxed);
                next.ready.notify_one();
            }
            None => state.free += 1,
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Some(turns) = self.0 {
            turns.give_back();
        }
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.inside.fetch_sub(1, Ordering::SeqCst);
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

fn handle(app: &App, mut rq: tiny_http::Request, deadline: Instant) {
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
        // After the answer, which the connection's thread writes once this handler returns:
        // the memory the seat list took given back, the new show's planner statistics taken.
        let core = app.core.clone();
        let after = std::thread::Builder::new().name("after-initialize".into()).spawn(move || {
            release_freed_memory();
            if status == 201 {
                core.settle_statistics();
            }
        });
        // Without a thread the statistics stay owed, for the next initialize.
        drop(after);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (without a time limit of its own) until `n` requests wait for a turn.
    fn until_waiting(turns: &Turns, n: usize) {
        while lock(&turns.state).waiting.len() != n {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn turns_are_given_oldest_first() {
        let turns = Arc::new(Turns::new(1));
        let first = turns.take(Instant::now() + Duration::from_secs(60));
        let order = Arc::new(Mutex::new(Vec::new()));
        let waiters: Vec<_> = (1..=4)
            .map(|i| {
                let (mine, order) = (Arc::clone(&turns), Arc::clone(&order));
                let waiter = std::thread::spawn(move || {
                    let turn = mine.take(Instant::now() + Duration::from_secs(60));
                    assert!(turn.0.is_some(), "request {i} got no turn");
                    lock(&order).push(i);
                });
                // each queues after the one before
                until_waiting(&turns, i);
                waiter
            })
            .collect();
        drop(first);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*lock(&order), [1, 2, 3, 4]);
        assert_eq!(lock(&turns.state).free, 1, "every turn given back");
    }

    #[test]
    fn a_request_without_a_turn_by_its_deadline_stops_waiting_and_leaves_the_line() {
        let turns = Turns::new(2);
        let a = turns.take(Instant::now());
        let b = turns.take(Instant::now());
        assert!(a.0.is_some() && b.0.is_some(), "free turns are taken even at the deadline");
        let late = turns.take(Instant::now() + Duration::from_millis(20));
        assert!(late.0.is_none());
        assert!(lock(&turns.state).waiting.is_empty());
        drop(late);
        drop((a, b));
        assert_eq!(lock(&turns.state).free, 2);
    }
}
