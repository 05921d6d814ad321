//! `GET /shows/<id>/seats` and `GET /shows/<id>/map`, streamed: a 200,000-seat document is
//! never built as one value, and its database read never waits for the client.
//!
//! A show the server knows to be small (at most [`LARGE_SEATS`] seats, remembered from an
//! earlier read) is read on the request's own thread into one document. Any other is read
//! by a producer thread, which reads the seats (`seat_status_with`, `seat_map_each`) and
//! writes the core's [`StatusJson`] or [`MapJson`] into chunks of [`CHUNK_BYTES`]; the
//! reply's body reads them. A show that fits in one chunk gets a plain reply with a length,
//! and a read that fails before anything was sent gets the contract's error reply, because
//! nothing was sent before the answer. Every status reply carries the read's `ETag`; a
//! request whose `If-None-Match` names it gets `304 Not Modified` without the seats.
//!
//! The producer reads at the database's pace and keeps the chunks the client has not taken
//! yet, so a client that reads slowly, or not at all, never holds a database connection: it
//! holds memory, until its reply's write deadline. [`Streams`] bounds that memory for the
//! whole server. The status or map of a show of more than [`LARGE_SEATS`] seats is a *large read*,
//! which needs a pass (at most `reads` large reads at once) and a buffer not yet full
//! (`buffer_bytes`, every reply's unsent chunks together) before it starts: before its
//! query for a show known to be large (or not known yet: the server remembers each show's
//! seat count from its reads), at its first row for a show that turns out larger than
//! remembered. It waits for both within its request's deadline, with at most `reads` reads
//! waiting, and otherwise gets the contract's 503 (database busy) at once. An admitted read
//! is read to its end, never waiting for room. Memory for status chunks therefore stays
//! below `buffer_bytes`, plus `reads` whole documents, plus a small document per worker;
//! and large reads hold at most `2 * reads` workers and database connections.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use seatcore::contract::Op;
use seatcore::seat_map::MapJson;
use seatcore::{Error, SeatCore, StatusJson};

use crate::reply::{Payload, Reply};

/// Bytes of JSON per chunk.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// A show of more seats than this makes a large read (its document is over 40 KB): the
/// core's bound of a small status read.
pub const LARGE_SEATS: u64 = seatcore::SMALL_STATUS_SEATS;
/// Shows whose seat count is remembered at most.
const MAX_REMEMBERED: usize = 10_000;
/// Default of `--status-buffer-mib`: unsent status chunks of all replies together.
pub const DEFAULT_BUFFER_MIB: u64 = 64;

/// The server-wide bounds on large status reads (see the module's documentation).
pub struct Streams {
    /// Large reads in progress, and waiting for a pass.
    reads: Mutex<Passes>,
    /// The seat count of each show read so far (cleared when it reaches `MAX_REMEMBERED`).
    seats: Mutex<HashMap<String, u64>>,
    /// Signalled when a pass is given back.
    pass_freed: Condvar,
    max_reads: usize,
    buffer: Arc<Buffer>,
}

#[derive(Default)]
struct Passes {
    active: usize,
    waiting: usize,
}

/// Bytes of unsent chunks, all replies together.
struct Buffer {
    used: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

impl Buffer {
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.used.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn give_back(&self, n: usize) {
        let mut used = self.lock();
        *used = used.saturating_sub(n);
        self.freed.notify_all();
    }
}

/// A chunk, counted in the buffer until it is dropped (sent, or its reply given up).
struct Chunk {
    bytes: Vec<u8>,
    buffer: Arc<Buffer>,
}

impl Chunk {
    fn new(bytes: Vec<u8>, buffer: &Arc<Buffer>) -> Chunk {
        *buffer.lock() += bytes.capacity();
        Chunk { bytes, buffer: Arc::clone(buffer) }
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        self.buffer.give_back(self.bytes.capacity());
    }
}

/// A large read's pass, given back when the read ends.
struct Pass<'a>(&'a Streams);

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        let mut reads = self.0.lock_reads();
        reads.active -= 1;
        self.0.pass_freed.notify_one();
    }
}

impl Streams {
    /// At most `max_reads` large reads at once (and as many waiting), and `buffer_bytes` of
    /// unsent chunks (at least one chunk is always let through).
    pub fn new(max_reads: usize, buffer_bytes: usize) -> Streams {
        Streams {
            reads: Mutex::new(Passes::default()),
            seats: Mutex::new(HashMap::new()),
            pass_freed: Condvar::new(),
            max_reads: max_reads.max(1),
            buffer: Arc::new(Buffer { used: Mutex::new(0), freed: Condvar::new(), limit: buffer_bytes }),
        }
    }

    /// Bytes of unsent status chunks now.
    pub fn buffered(&self) -> usize {
        *self.buffer.lock()
    }

    /// Whether the status of `show_id` is a large read, as far as the server knows (a show
    /// never read is taken for a large one).
    fn large(&self, show_id: &str) -> bool {
        let seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        seats.get(show_id).is_none_or(|&n| n > LARGE_SEATS)
    }

    fn remember(&self, show_id: &str, n: u64) {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        if seats.get(show_id) != Some(&n) {
            if seats.len() >= MAX_REMEMBERED {
                seats.clear();
            }
            seats.insert(show_id.to_owned(), n);
        }
    }

    fn lock_reads(&self) -> MutexGuard<'_, Passes> {
        self.reads.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A pass for a large read and room in the buffer, waiting until `deadline` at most;
    /// `None` when none came in time, or too many reads wait already.
    fn admit(&self, deadline: Instant) -> Option<Pass<'_>> {
        let mut reads = self.lock_reads();
        if reads.active >= self.max_reads {
            if reads.waiting >= self.max_reads {
                return None;
            }
            reads.waiting += 1;
            while reads.active >= self.max_reads {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    reads.waiting -= 1;
                    return None;
                }
                reads = self.pass_freed.wait_timeout(reads, left).unwrap_or_else(|p| p.into_inner()).0;
            }
            reads.waiting -= 1;
        }
        reads.active += 1;
        drop(reads);
        let pass = Pass(self);
        let mut used = self.buffer.lock();
        while *used > 0 && *used >= self.buffer.limit {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            used = self.buffer.freed.wait_timeout(used, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        Some(pass)
    }
}

enum Msg {
    /// The read's entity tag, before anything else.
    Head(String),
    /// The client has this document: the read stopped.
    NotModified,
    /// The whole document (it fit in one chunk).
    Whole(Vec<u8>),
    /// Part of a longer document.
    Chunk(Chunk),
    /// The document is complete.
    Done,
    /// The read failed before anything was sent.
    Failed(Error),
    /// The read failed after part of the document was sent: the reply must break off.
    Broken,
}

/// Where the producer's [`StatusJson`] writes: a buffer that becomes a chunk when full.
struct Chunks<'a> {
    buf: Vec<u8>,
    tx: Sender<Msg>,
    buffer: &'a Arc<Buffer>,
    /// A chunk went out.
    started: bool,
    /// The reader is still there.
    listening: bool,
}

impl<'a> Chunks<'a> {
    fn new(tx: &Sender<Msg>, buffer: &'a Arc<Buffer>) -> Self {
        Chunks {
            buf: Vec::with_capacity(CHUNK_BYTES + 256),
            tx: tx.clone(),
            buffer,
            started: false,
            listening: true,
        }
    }

    /// Whether the reply still wants what is read (it stops wanting it once `gone`).
    fn wanted(&mut self, gone: &AtomicBool) -> bool {
        if self.listening && gone.load(Ordering::Acquire) {
            self.listening = false;
        }
        self.listening
    }

    /// Sends the buffer once it holds a chunk's worth.
    fn ship_if_full(&mut self) {
        if self.listening && self.buf.len() >= CHUNK_BYTES {
            self.started = true;
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES + 256));
            let chunk = Chunk::new(full, self.buffer);
            self.listening = self.tx.send(Msg::Chunk(chunk)).is_ok();
        }
    }
}

impl Write for Chunks<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // Once the client left, what is left of the read is dropped.
        if self.listening {
            self.buf.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The reply for the status of `show_id` (a valid show id). `core` carries the request's
/// deadline; `if_none_match` is the request's `If-None-Match`.
pub fn stream(
    core: &SeatCore,
    streams: &Arc<Streams>,
    deadline: Instant,
    show_id: String,
    if_none_match: Option<String>,
) -> Reply {
    if !streams.large(&show_id) {
        if let Some(reply) = small(core, streams, &show_id, if_none_match.as_deref()) {
            return reply;
        }
    }
    let (core, streams) = (core.until(deadline), Arc::clone(streams));
    read_aside(Op::Status, deadline, move |tx, gone| {
        produce(&core, &streams, deadline, &show_id, if_none_match.as_deref(), tx, gone)
    })
}

/// The reply for the map of `show_id` (a valid show id): read on the request's own thread
/// for a show known to be small, else streamed as a large read (see the module's
/// documentation). `core` carries the request's deadline.
pub fn map(core: &SeatCore, streams: &Arc<Streams>, deadline: Instant, show_id: String) -> Reply {
    if !streams.large(&show_id) {
        // Writing into a Vec cannot fail. A show larger than remembered (another database
        // behind the same name) is not kept past its first LARGE_SEATS seats: read streamed.
        let mut json = MapJson::new(Vec::new(), &show_id).expect("writing into a Vec");
        let mut kept = 0;
        match core.seat_map_each(&show_id, |seat| {
            kept += 1;
            if kept <= LARGE_SEATS {
                let _ = json.seat(&seat);
            }
        }) {
            Ok(n) if n <= LARGE_SEATS => {
                let whole = json.finish().unwrap_or_default();
                return Reply { status: 200, headers: Vec::new(), payload: Payload::Json(whole) };
            }
            Ok(n) => streams.remember(&show_id, n),
            Err(e) => return failed(Op::Map, &e),
        }
    }
    let (core, streams) = (core.until(deadline), Arc::clone(streams));
    read_aside(Op::Map, deadline, move |tx, gone| produce_map(&core, &streams, deadline, &show_id, tx, gone))
}

/// Runs `produce` on a thread of its own, which reads the document into chunks and sends
/// them (and how the read ended) to the reply, and answers with what it sends first: the
/// whole document, or the start of a streamed one, or the contract's error reply to `op`.
fn read_aside(
    op: Op,
    deadline: Instant,
    produce: impl FnOnce(Sender<Msg>, &AtomicBool) + Send + 'static,
) -> Reply {
    // Unbounded: the producer never waits for the client (`Streams` bounds the memory).
    let (tx, rx) = channel::<Msg>();
    let gone = Arc::new(AtomicBool::new(false));
    let spawned = {
        let gone = Arc::clone(&gone);
        std::thread::Builder::new().name("seat-reader".into()).spawn(move || produce(tx, &gone))
    };
    if let Err(e) = spawned {
        // No thread to read with: the server is out of resources for now.
        return failed(op, &Error::Unavailable(Box::new(e)));
    }
    let mut headers = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        return match rx.recv_timeout(left) {
            Ok(Msg::Head(etag)) => {
                headers.push(("ETag", etag));
                continue;
            }
            Ok(Msg::NotModified) => Reply { status: 304, headers, payload: Payload::Empty },
            Ok(Msg::Whole(bytes)) => Reply { status: 200, headers, payload: Payload::Json(bytes) },
            Ok(Msg::Chunk(chunk)) => Reply {
                status: 200,
                headers,
                payload: Payload::JsonStream(Box::new(ChunkReader {
                    current: Some(chunk),
                    pos: 0,
                    rx,
                    done: false,
                    gone,
                })),
            },
            Ok(Msg::Failed(e)) => failed(op, &e),
            Err(RecvTimeoutError::Timeout) => {
                gone.store(true, Ordering::Release);
                failed(op, &Error::Unavailable("the request's deadline passed".into()))
            }
            // The producer ended without a word (it panicked): nothing was sent, try again.
            Ok(Msg::Done | Msg::Broken) | Err(RecvTimeoutError::Disconnected) => {
                failed(op, &Error::Unavailable("the seat reader stopped".into()))
            }
        };
    }
}

/// The status of a show known to be small, read on the request's own thread into one
/// document (a producer thread would cost more than the read). `None` when the show turns
/// out to be large after all: nothing was read past its head, and it is read streamed.
fn small(core: &SeatCore, streams: &Streams, show_id: &str, if_none_match: Option<&str>) -> Option<Reply> {
    // Writing into a Vec cannot fail.
    let mut json = StatusJson::new(Vec::new()).ok()?;
    let (mut etag, mut large) = (None, false);
    let head = |head: &seatcore::StatusHead| {
        streams.remember(show_id, head.seats);
        etag = Some(head.etag.clone());
        large = head.seats > LARGE_SEATS;
        !large && !if_none_match.is_some_and(|tags| matches(tags, &head.etag))
    };
    let outcome = core.seat_status_with(show_id, head, |seat| {
        let _ = json.seat(seat);
    });
    let headers = etag.map(|etag| vec![("ETag", etag)]).unwrap_or_default();
    Some(match outcome {
        Ok(None) if large => return None,
        Ok(None) => Reply { status: 304, headers, payload: Payload::Empty },
        Ok(Some(counts)) => {
            Reply { status: 200, headers, payload: Payload::Json(json.finish(&counts).ok()?) }
        }
        Err(e) => failed(Op::Status, &e),
    })
}

/// Whether an `If-None-Match` value names `etag` (or is `*`).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// The producer thread: reads the seats into chunks, then says how it ended.
fn produce(
    core: &SeatCore,
    streams: &Streams,
    deadline: Instant,
    show_id: &str,
    if_none_match: Option<&str>,
    tx: Sender<Msg>,
    gone: &AtomicBool,
) {
    // Writing into a Vec cannot fail.
    let Ok(mut json) = StatusJson::new(Chunks::new(&tx, &streams.buffer)) else { return };
    // A large read's pass, held until the read ends; whether it was refused one.
    let (mut pass, mut refused) = (None, false);
    if streams.large(show_id) {
        pass = streams.admit(deadline);
        if pass.is_none() {
            return send(&tx, Msg::Failed(Error::Busy(None)));
        }
    }
    let head = |head: &seatcore::StatusHead| {
        streams.remember(show_id, head.seats);
        let _ = tx.send(Msg::Head(head.etag.clone()));
        if if_none_match.is_some_and(|tags| matches(tags, &head.etag)) {
            return false;
        }
        if head.seats > LARGE_SEATS && pass.is_none() {
            pass = streams.admit(deadline);
            refused = pass.is_none();
        }
        !refused
    };
    let outcome = core.seat_status_with(show_id, head, |seat| {
        if json.get_mut().wanted(gone) {
            let _ = json.seat(seat);
            json.get_mut().ship_if_full();
        }
    });
    let started = json.get_mut().started;
    match outcome {
        Ok(None) if refused => send(&tx, Msg::Failed(Error::Busy(None))),
        Ok(None) => send(&tx, Msg::NotModified),
        Ok(Some(counts)) => send_end(&tx, json.finish(&counts)),
        Err(e) => send_failure(&tx, e, started),
    }
    drop(pass);
}

/// The producer thread of a large map read: a pass, then the seats into chunks.
fn produce_map(
    core: &SeatCore,
    streams: &Streams,
    deadline: Instant,
    show_id: &str,
    tx: Sender<Msg>,
    gone: &AtomicBool,
) {
    // Writing into a Vec cannot fail.
    let Ok(mut json) = MapJson::new(Chunks::new(&tx, &streams.buffer), show_id) else { return };
    let Some(pass) = streams.admit(deadline) else { return send(&tx, Msg::Failed(Error::Busy(None))) };
    let outcome = core.seat_map_each(show_id, |seat| {
        if json.get_mut().wanted(gone) {
            let _ = json.seat(&seat);
            json.get_mut().ship_if_full();
        }
    });
    let started = json.get_mut().started;
    match outcome {
        Ok(seats) => {
            streams.remember(show_id, seats);
            send_end(&tx, json.finish());
        }
        Err(e) => send_failure(&tx, e, started),
    }
    drop(pass);
}

/// Sends `msg`; a reply that is gone no longer listens, and that is fine.
fn send(tx: &Sender<Msg>, msg: Msg) {
    let _ = tx.send(msg);
}

/// Sends the end of a document that was read to its end: its last chunk, or the whole of
/// it when it fit in one.
fn send_end(tx: &Sender<Msg>, finished: io::Result<Chunks<'_>>) {
    match finished {
        Ok(Chunks { buf, listening: true, started: true, buffer, .. }) => {
            send(tx, Msg::Chunk(Chunk::new(buf, buffer)));
            send(tx, Msg::Done);
        }
        Ok(Chunks { buf, listening: true, started: false, .. }) => send(tx, Msg::Whole(buf)),
        Ok(Chunks { listening: false, .. }) => {}
        Err(_) => send(tx, Msg::Broken),
    }
}

/// Sends how a read that failed ended: with the error when nothing was sent yet, else broken off.
fn send_failure(tx: &Sender<Msg>, e: Error, started: bool) {
    send(tx, if started { Msg::Broken } else { Msg::Failed(e) });
}

/// Reads the chunks of a streamed document; an error if the producer broke off, so the
/// HTTP layer ends the reply without its final chunk and the client sees it is truncated.
/// Dropped (the reply sent, or given up), it tells the producer to stop keeping chunks.
struct ChunkReader {
    current: Option<Chunk>,
    pos: usize,
    rx: Receiver<Msg>,
    done: bool,
    gone: Arc<AtomicBool>,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(chunk) = &self.current {
                if self.pos < chunk.bytes.len() {
                    let n = out.len().min(chunk.bytes.len() - self.pos);
                    out[..n].copy_from_slice(&chunk.bytes[self.pos..self.pos + n]);
                    self.pos += n;
                    return Ok(n);
                }
            }
            // Sent: its memory goes back to the buffer.
            self.current = None;
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Msg::Chunk(chunk)) => {
                    self.current = Some(chunk);
                    self.pos = 0;
                }
                Ok(Msg::Done) => self.done = true,
                Ok(Msg::Head(_) | Msg::NotModified | Msg::Whole(_)) => {}
                Ok(Msg::Failed(_) | Msg::Broken) | Err(_) => {
                    return Err(io::Error::other("the read failed midway"));
                }
            }
        }
    }
}

impl Drop for ChunkReader {
    fn drop(&mut self) {
        self.gone.store(true, Ordering::Release);
    }
}

/// The contract's reply to `op` for a read that failed before anything was sent.
fn failed(op: Op, err: &Error) -> Reply {
    let r = seatcore::contract::rest_error(op, err);
    Reply::json(r.status, &r.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore::testing::TestDb;
    use serde_json::Value;
    use std::time::Duration;

    fn streams() -> Arc<Streams> {
        Arc::new(Streams::new(4, 64 << 20))
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[test]
    fn large_maps_stream_and_small_ones_do_not() {
        let db = TestDb::new("status_stream");
        let core =
            SeatCore::connect(&db.url, seatcore::Options { pool_size: 2, ..Default::default() }).unwrap();
        let big: Vec<String> = (0..20_000).map(|i| format!("R{}_S{}", i / 100, i % 100)).collect();
        core.initialize_show("big", &big).unwrap();
        core.initialize_show("small", &["A1", "A2"]).unwrap();
        let hold = core.hold("big", &["R150_S7"], 60).unwrap();

        let reply = stream(&core, &streams(), soon(), "big".into(), None);
        assert!(matches!(reply.payload, Payload::JsonStream(_)));
        let etag = reply.headers.iter().find(|(n, _)| *n == "ETag").map(|(_, v)| v.clone()).expect("an ETag");
        let bytes = reply.body_bytes();
        // the core's document (two reads may differ in their version only)
        let without_version = |bytes: &[u8]| {
            let mut v: Value = serde_json::from_slice(bytes).unwrap();
            assert!(v["version"].is_i64(), "{}", v["version"]);
            v.as_object_mut().unwrap().remove("version");
            v
        };
        assert_eq!(
            without_version(&bytes),
            without_version(&serde_json::to_vec(&core.seat_status("big").unwrap()).unwrap())
        );
        // a client that has it gets a 304; another tag gets the document
        let reply = stream(&core, &streams(), soon(), "big".into(), Some(format!("W/\"x\", {etag}")));
        assert_eq!((reply.status, matches!(reply.payload, Payload::Empty)), (304, true));
        let reply = stream(&core, &streams(), soon(), "big".into(), Some("\"other\"".into()));
        assert_eq!(reply.status, 200);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["total_seats"], 20_000);
        assert_eq!(v["held_seats"], 1);
        assert_eq!(v["available_seats"], 19_999);
        assert_eq!(v["invariants_valid"], true);
        let list = v["seats"].as_array().unwrap();
        assert_eq!(list.len(), 20_000);
        assert_eq!(list[0]["seat_id"], "R0_S0");
        assert_eq!(list[19_999]["seat_id"], "R199_S99");
        let held = &list[15_007];
        assert_eq!(held["status"], "held");
        assert_eq!(held["hold_expires_at"], Value::String(seatcore::iso8601(&hold.expires_at)));
        assert!(list[0].get("hold_expires_at").is_none());

        let reply = stream(&core, &streams(), soon(), "small".into(), None);
        assert!(matches!(reply.payload, Payload::Json(_)));
        assert_eq!(reply.body_json()["total_seats"], 2);

        let reply = stream(&core, &streams(), soon(), "nope".into(), None);
        assert_eq!(reply.status, 404);
        assert_eq!(reply.body_json(), serde_json::json!({"error": "show not found"}));
    }

    #[test]
    fn shows_known_to_be_small_are_read_whole_and_a_show_that_grew_is_streamed() {
        let db = TestDb::new("status_small");
        let core =
            SeatCore::connect(&db.url, seatcore::Options { pool_size: 2, ..Default::default() }).unwrap();
        core.initialize_show("small", &["A1", "A2", "A3"]).unwrap();
        core.hold("small", &["A2"], 60).unwrap();
        let streams = streams();
        let first = stream(&core, &streams, soon(), "small".into(), None);
        assert!(!streams.large("small"), "its size is known after one read");
        let again = stream(&core, &streams, soon(), "small".into(), None);
        let etag = |r: &Reply| r.headers.iter().find(|(n, _)| *n == "ETag").map(|(_, v)| v.clone());
        assert_eq!((again.status, etag(&again)), (200, etag(&first)));
        assert!(matches!(again.payload, Payload::Json(_)));
        let tag = etag(&again).expect("an ETag");
        let (a, b) = (first.body_json(), again.body_json());
        assert_eq!(
            (a["seats"].clone(), a["held_seats"].clone()),
            (b["seats"].clone(), b["held_seats"].clone())
        );
        assert_eq!(b["seats"][1]["status"], "held");
        let unchanged = stream(&core, &streams, soon(), "small".into(), Some(tag.clone()));
        assert_eq!((unchanged.status, etag(&unchanged)), (304, Some(tag)));
        assert!(matches!(unchanged.payload, Payload::Empty));

        // A show remembered smaller than it is (another database behind the same name)
        // is read streamed, whole.
        let big: Vec<String> = (0..5_000).map(|i| format!("B{i}")).collect();
        core.initialize_show("big", &big).unwrap();
        streams.remember("big", 3);
        let reply = stream(&core, &streams, soon(), "big".into(), None);
        assert!(matches!(reply.payload, Payload::JsonStream(_)));
        let v: Value = serde_json::from_slice(&reply.body_bytes()).unwrap();
        assert_eq!(
            (v["total_seats"].clone(), v["seats"].as_array().map(Vec::len)),
            (5_000.into(), Some(5_000))
        );
        assert!(streams.large("big"));

        // The map likewise: whole for a show known to be small, streamed for a big one
        // remembered small, and the core's document either way.
        let reply = map(&core, &streams, soon(), "small".into());
        assert!(matches!(reply.payload, Payload::Json(_)));
        assert_eq!(reply.body_bytes(), serde_json::to_vec(&core.seat_map("small").unwrap()).unwrap());
        streams.remember("big", 3);
        let reply = map(&core, &streams, soon(), "big".into());
        assert!(matches!(reply.payload, Payload::JsonStream(_)));
        assert_eq!(reply.body_bytes(), serde_json::to_vec(&core.seat_map("big").unwrap()).unwrap());
        assert!(streams.large("big"));
        let reply = map(&core, &streams, soon(), "none".into());
        assert_eq!((reply.status, reply.body_json()["error"].clone()), (404, "show not found".into()));
    }

    /// A database of its own with a show "big" of 30,000 seats, and a core with
    /// `pool_size` connections opened on demand.
    fn big_show(name: &str, pool_size: u32) -> (TestDb, SeatCore) {
        let db = TestDb::new(name);
        let core =
            SeatCore::connect(&db.url, seatcore::Options { pool_size, min_idle: 0, ..Default::default() })
                .unwrap();
        let big: Vec<String> = (0..30_000).map(|i| format!("SEAT_{i}")).collect();
        core.initialize_show("big", &big).unwrap();
        (db, core)
    }

    #[test]
    fn a_reader_that_leaves_early_stops_the_stream() {
        let (_db, core) = big_show("status_leave", 1);
        let reply = stream(&core, &streams(), soon(), "big".into(), None);
        let Payload::JsonStream(mut reader) = reply.payload else { panic!("not streamed") };
        let mut first = [0u8; 16];
        reader.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"{\"seats\":[{\"seat");
        drop(reader);
        // The producer finishes its read and gives its connection back: the one-connection
        // pool serves the next read.
        assert_eq!(core.seat_status("big").unwrap().counts.total, 30_000);
    }

    /// Waits until `what` holds, at most 60 s.
    fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
        let started = Instant::now();
        while !check() {
            assert!(started.elapsed() < Duration::from_secs(60), "never: {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn large_reads_are_read_to_the_end_without_the_client_and_bounded() {
        let (_db, core) = big_show("status_bounds", 2);
        core.initialize_show("small", &["A1"]).unwrap();
        // One large read at a time, and a buffer of one byte: a single unread reply fills it.
        let streams = Arc::new(Streams::new(1, 1));
        // A show read once is known to be small.
        assert_eq!(stream(&core, &streams, soon(), "small".into(), None).status, 200);

        let first = stream(&core, &streams, soon(), "big".into(), None);
        let Payload::JsonStream(mut unread) = first.payload else { panic!("not streamed") };
        // The whole document is read and kept, though nobody reads it; the connection is back.
        wait_for("the first read to end", || core.stats().pool_idle == core.stats().pool_connections);
        let kept = streams.buffered();
        assert!(kept > 30_000 * 30, "{kept} bytes kept");

        // The buffer is full: the next large read waits until its deadline, then gets 503.
        let started = Instant::now();
        let deadline = started + Duration::from_millis(300);
        let refused = stream(&core, &streams, deadline, "big".into(), None);
        assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
        assert_eq!(refused.status, 503);
        // busy (the producer gave up at the deadline) or unavailable (the worker did first)
        let error = refused.body_json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.starts_with("database") && error.ends_with(", try again"), "{error}");
        // Small documents need no room; a show never read is taken for a large one.
        assert_eq!(stream(&core, &streams, soon(), "small".into(), None).status, 200);
        core.initialize_show("new", &["A1"]).unwrap();
        let started = Instant::now();
        let unknown = stream(&core, &streams, started + Duration::from_millis(300), "new".into(), None);
        assert_eq!(unknown.status, 503);
        assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());

        // The client reads: the buffer empties as it goes, and the next large read is served.
        let mut all = Vec::new();
        unread.read_to_end(&mut all).unwrap();
        drop(unread);
        assert_eq!(serde_json::from_slice::<Value>(&all).unwrap()["total_seats"], 30_000);
        wait_for("the buffer to empty", || streams.buffered() == 0);
        let again = stream(&core, &streams, soon(), "big".into(), None);
        assert_eq!(again.status, 200);
        assert_eq!(again.body_json()["total_seats"], 30_000);
        wait_for("the buffer to empty", || streams.buffered() == 0);
    }

    #[test]
    fn a_reply_given_up_gives_its_memory_back() {
        let (_db, core) = big_show("status_given_up", seatcore::Options::DEFAULT.pool_size);
        let streams = streams();
        let replies: Vec<Reply> =
            (0..3).map(|_| stream(&core, &streams, soon(), "big".into(), None)).collect();
        assert!(replies.iter().all(|r| matches!(r.payload, Payload::JsonStream(_))));
        wait_for("three documents kept", || streams.buffered() > 3 * 30_000 * 30);
        drop(replies);
        wait_for("the buffer to empty", || streams.buffered() == 0);
    }
}
