//! `GET /shows/<id>/events`: every show's changes fanned out to any number of readers from
//! one follower of the change log per server, written to their sockets by one event loop.
//!
//! The hub's thread follows the log's tail of the shows that have readers
//! (`SeatCore::shows_changes_after`), woken by the log's notifications (one listening
//! connection per server) or its own poll, and hands each page of changes to the event
//! loop. Changes of shows nobody reads are never read; with no reader it reads nothing,
//! and the next reader moves it to the log's end.
//!
//! A reader starts as an [`Opening`]: registered with the loop at the hub's cursor (the
//! loop keeps what arrives for it meanwhile), then, on the connection's own thread, the
//! response head and the show's history from the reader's start (`?after=` or
//! `Last-Event-ID`) up to that cursor are written, and the socket goes to the loop, which
//! sends it everything after. Both parts read the log below its horizon, so a reader never
//! misses a committed change, and the ids it sees only grow.
//!
//! The loop (`mio`, one thread) serves every stream socket: thousands of idle readers cost
//! a few kilobytes each, no thread. The changes of a batch are formatted once per show, and
//! that text is shared by every reader of the show, each at its own offset (a change of a
//! whole big show is held once, however many read it). A reader's unsent bytes beyond the
//! piece it is writing are bounded ([`BUFFER`]): a reader too slow to keep up, or one that
//! takes nothing for a write deadline, is cut off (its stream closes) rather than growing
//! the server's memory; it resumes with `Last-Event-ID`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use mio::net::TcpStream as LoopStream;
use mio::{Events, Interest, Poll, Token, Waker};
use seatcore::{Change, SeatCore};

/// Unsent bytes one reader may have beyond the piece it is writing (its oldest batch of
/// events, however large) before it is cut off as too slow.
pub const BUFFER: usize = 256 << 10;
/// Pieces handed to the socket in one write at most.
const WRITE_PIECES: usize = 64;
/// By default, a comment line goes out when no event did for this long, so proxies and
/// clients see the stream is alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// By default, at most this many streams are open at once; one more is refused (503).
pub const MAX_STREAMS: usize = 16_384;
/// A reader that takes none of its pending bytes for this long is cut off.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Changes one read of the log returns at most.
const PAGE: u32 = 1000;
/// Least time between two reads of the log's tail: notifications come as often as every
/// few milliseconds under load (`seatcore::NOTIFY_GAP` per writing process), and each read
/// is a query; changes that come meanwhile go out together, this much later at most.
const READ_GAP: Duration = Duration::from_millis(25);
/// The loop's own token, for the hub's and the openings' commands.
const WAKER: Token = Token(usize::MAX);
const KEEP_ALIVE_COMMENT: &[u8] = b": keep-alive\n\n";
/// The loop looks at its readers' deadlines and keep-alives at least this often.
const TICK: Duration = Duration::from_millis(100);
/// Keep-alive comments sent per tick at most: 16,384 readers take 3.3 s, within the last
/// quarter of the default keep-alive.
const KEEP_ALIVES_PER_TICK: usize = 500;

/// The fan-out of changes to readers.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    core: SeatCore,
    state: Arc<Mutex<State>>,
    /// To the event loop, which `waker` wakes.
    commands: Mutex<Sender<Command>>,
    waker: Waker,
    /// Readers registered with the loop and not closed yet.
    readers: Arc<AtomicUsize>,
    max_streams: usize,
    next_token: AtomicUsize,
}

struct State {
    /// Every change up to this id of the shows read has been handed to the loop.
    cursor: i64,
    /// The shows with readers, and how many each: the hub reads their changes only.
    shows: HashMap<Arc<str>, usize>,
    /// Counts the shows added to `shows`: a page read before a show was added lacks its
    /// changes and is read again.
    generation: u64,
    /// No reader since the hub last read the log: the hub reads nothing, and the cursor
    /// may lag behind the log's end until a reader comes.
    idle: bool,
    stopped: bool,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the loop is told, in the order it happened.
enum Command {
    /// A reader of `show`'s changes after `last`; its socket comes with `Attach`.
    Add {
        token: Token,
        show: Arc<str>,
        last: i64,
    },
    Attach {
        token: Token,
        socket: TcpStream,
        chunked: bool,
    },
    /// The reader's opening failed: its client is gone.
    Gone {
        token: Token,
    },
    /// Changes of any show, in id order, all above the cursor of every reader added before.
    Changes(Vec<Change>),
    Stop,
}

/// Why a stream is not opened.
#[derive(Debug)]
pub enum Refused {
    /// As many streams are open as the server allows.
    Full,
    Stopping,
}

impl Hub {
    /// Starts the hub's thread from the present end of the log, and the event loop; streams
    /// send a comment after `keep_alive` without an event, and at most `max_streams` are
    /// open at once.
    pub fn start(core: SeatCore, keep_alive: Duration, max_streams: usize) -> seatcore::Result<Hub> {
        let unavailable = |e: io::Error| seatcore::Error::Unavailable(Box::new(e));
        let cursor = core.last_change_id()?;
        let poll = Poll::new().map_err(unavailable)?;
        let waker = Waker::new(poll.registry(), WAKER).map_err(unavailable)?;
        let (tx, rx) = channel();
        let readers = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(Mutex::new(State {
            cursor,
            shows: HashMap::new(),
            generation: 0,
            idle: true,
            stopped: false,
        }));
        let hub = Hub {
            inner: Arc::new(Inner {
                core,
                state: Arc::clone(&state),
                commands: Mutex::new(tx),
                waker,
                readers: Arc::clone(&readers),
                max_streams,
                next_token: AtomicUsize::new(0),
            }),
        };
        let event_loop = EventLoop {
            poll,
            commands: rx,
            readers: HashMap::new(),
            by_show: HashMap::new(),
            state,
            count: readers,
            keep_alive,
        };
        std::thread::Builder::new()
            .name("event-streams".into())
            .spawn(move || event_loop.run())
            .map_err(unavailable)?;
        let follower = hub.clone();
        std::thread::Builder::new()
            .name("change-hub".into())
            .spawn(move || follower.follow())
            .map_err(unavailable)?;
        Ok(hub)
    }

    /// Stops the hub's thread and the loop, which ends every stream.
    pub fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        self.send(Command::Stop);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    fn send(&self, command: Command) {
        let sent = self.inner.commands.lock().unwrap_or_else(|p| p.into_inner()).send(command);
        if sent.is_ok() {
            let _ = self.inner.waker.wake();
        }
    }

    fn follow(&self) {
        let mut listener = self.inner.core.listener();
        loop {
            let (cursor, shows, generation) = {
                let state = self.lock();
                if state.stopped {
                    return;
                }
                if state.idle {
                    // Nobody to hand changes to: read nothing, only take the notifications
                    // off the listening connection. The first reader moves the cursor.
                    drop(state);
                    listener.wait(seatcore::CHANGE_POLL);
                    continue;
                }
                let shows: Vec<Arc<str>> = state.shows.keys().cloned().collect();
                (state.cursor, shows, state.generation)
            };
            let names: Vec<&str> = shows.iter().map(|s| &**s).collect();
            let page = match self.inner.core.shows_changes_after(&names, cursor, PAGE) {
                Ok(page) => page,
                Err(_) => {
                    // The database is away: readers keep their streams (with keep-alives)
                    // and get everything once it is back.
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
            };
            let full = page.is_full(PAGE);
            {
                let mut state = self.lock();
                if state.stopped {
                    return;
                }
                if state.generation != generation {
                    // A show was added meanwhile: its changes are not in this page.
                    continue;
                }
                if !page.changes.is_empty() {
                    // Sent under the lock: a reader added later never gets these.
                    self.send(Command::Changes(page.changes));
                }
                state.cursor = state.cursor.max(page.next);
                state.idle = state.shows.is_empty();
            }
            if !full {
                std::thread::sleep(READ_GAP);
                listener.wait(seatcore::CHANGE_POLL);
            }
        }
    }

    /// A reader of `show_id`'s changes after `after`, registered with the loop; it starts
    /// once its socket is handed to [`Opening::attach`].
    pub fn subscribe(&self, show_id: String, after: i64) -> Result<Opening, Refused> {
        if self.inner.readers.load(Ordering::Acquire) >= self.inner.max_streams {
            return Err(Refused::Full);
        }
        let idle = self.lock().idle;
        // The hub wakes from idling at the log's end, not at the change it last handed over.
        let end = if idle { self.inner.core.last_change_id().ok() } else { None };
        let token = Token(self.inner.next_token.fetch_add(1, Ordering::Relaxed) % (usize::MAX - 1));
        let show: Arc<str> = Arc::from(show_id.as_str());
        let cursor = {
            let mut state = self.lock();
            if state.stopped {
                return Err(Refused::Stopping);
            }
            if state.idle {
                // Nothing between the cursor and `end` is owed to anyone: nobody subscribed.
                state.cursor = state.cursor.max(end.unwrap_or(0));
                state.idle = false;
            }
            let readers = state.shows.entry(Arc::clone(&show)).or_insert(0);
            *readers += 1;
            if *readers == 1 {
                state.generation += 1;
            }
            self.inner.readers.fetch_add(1, Ordering::AcqRel);
            self.send(Command::Add { token, show, last: after });
            state.cursor
        };
        // Replayed from the log: what lies between the reader's start and the hub's
        // cursor; the loop sends everything after it. When the reader starts ahead of the
        // hub, the loop drops what the hub has yet to hand over up to `after`.
        let replay = (after < cursor).then_some((after, cursor));
        Ok(Opening { hub: self.clone(), token, show_id, replay, attached: false })
    }

    /// How many readers are open now.
    pub fn subscribers(&self) -> usize {
        self.inner.readers.load(Ordering::Acquire)
    }
}

/// A reader registered with the loop, waiting for its socket.
pub struct Opening {
    hub: Hub,
    token: Token,
    show_id: String,
    /// History to replay: after the first id, up to the second.
    replay: Option<(i64, i64)>,
    attached: bool,
}

impl Opening {
    /// Writes `head` (the response's status line and headers) and the history to replay to
    /// `socket`, each within the write deadline, then gives the socket to the loop.
    /// `chunked`: the stream goes in chunks (HTTP/1.1), or as it is until the connection
    /// closes (HTTP/1.0).
    pub fn attach(mut self, mut socket: TcpStream, head: &[u8], chunked: bool) {
        self.attached = true;
        let written = socket
            .set_write_timeout(Some(WRITE_TIMEOUT))
            .and_then(|()| socket.write_all(head))
            .and_then(|()| self.replay(&mut socket, chunked));
        match written {
            Ok(()) => self.hub.send(Command::Attach { token: self.token, socket, chunked }),
            Err(_) => {
                let _ = socket.shutdown(Shutdown::Both);
                self.hub.send(Command::Gone { token: self.token });
            }
        }
    }

    fn replay(&mut self, socket: &mut TcpStream, chunked: bool) -> io::Result<()> {
        let core = &self.hub.inner.core;
        while let Some((after, until)) = self.replay.take() {
            let page = core.show_changes_after(&self.show_id, after, PAGE).map_err(io::Error::other)?;
            let mut text = Vec::new();
            for change in page.changes.iter().filter(|c| c.id <= until) {
                text.extend_from_slice(seatcore::rest::event(change).as_bytes());
            }
            if !text.is_empty() {
                let mut out = Vec::with_capacity(text.len() + 12);
                frame(&mut out, &text, chunked);
                socket.write_all(&out)?;
            }
            // More history before `until` when the page was full and ended below it.
            if page.next < until && page.changes.last().is_some_and(|c| c.id <= until) {
                self.replay = Some((page.next, until));
            }
        }
        Ok(())
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        if !self.attached {
            self.hub.send(Command::Gone { token: self.token });
        }
    }
}

/// Appends `text` to `out` as one chunk of a chunked body, or as it is.
fn frame(out: &mut Vec<u8>, text: &[u8], chunked: bool) {
    if chunked {
        out.extend_from_slice(chunk_head(text.len()).as_bytes());
    }
    out.extend_from_slice(text);
    if chunked {
        out.extend_from_slice(CHUNK_END);
    }
}

/// What comes before a chunk of `len` bytes.
fn chunk_head(len: usize) -> String {
    format!("{len:x}\r\n")
}

/// What comes after a chunk.
const CHUNK_END: &[u8] = b"\r\n";

/// One open stream.
struct Reader {
    show: Arc<str>,
    /// The id of the last event queued: nothing at or below it is sent again.
    last: i64,
    chunked: bool,
    /// `None` until the opening hands the socket over.
    socket: Option<LoopStream>,
    /// Bytes not yet taken by the socket; until the socket comes, the events' text
    /// unframed (the opening decides the framing).
    out: Pending,
    /// When bytes were last queued (for the keep-alive).
    queued_at: Instant,
    /// Since when pending bytes have waited for the socket without any taken.
    stalled_since: Option<Instant>,
}

impl Reader {
    /// Queues `text` (one piece, or several of one chunk), framed when the stream is.
    fn queue(&mut self, text: impl IntoIterator<Item = Bytes>, now: Instant) {
        let framed = self.chunked && self.socket.is_some();
        self.out.push_framed(text, framed);
        self.queued_at = now;
    }

    /// Writes what the socket takes; false when the reader is to be closed.
    fn flush(&mut self, now: Instant) -> bool {
        let Some(socket) = self.socket.as_mut() else { return true };
        while !self.out.is_empty() {
            let mut slices = [IoSlice::new(&[]); WRITE_PIECES];
            let count = self.out.slices(&mut slices);
            match socket.write_vectored(&slices[..count]) {
                Ok(0) => return false,
                Ok(n) => {
                    self.out.advance(n);
                    self.stalled_since = None;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.stalled_since.get_or_insert(now);
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        self.out = Pending::default();
        true
    }
}

/// A reader's unsent bytes: pieces in order, the first perhaps partly sent. A piece of
/// events is a slice of a batch's text, shared with the other readers of its show; chunk
/// heads and ends are pieces of their own. The bytes go in units (a batch's events with
/// their framing, a comment, the body's end), each unit's length kept in `units`.
#[derive(Default)]
struct Pending {
    pieces: VecDeque<Bytes>,
    units: VecDeque<usize>,
    len: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes beyond the first unit: what the reader has fallen behind by, the unit it is
    /// writing aside.
    fn behind(&self) -> usize {
        self.len - self.units.front().copied().unwrap_or(0)
    }

    /// Appends `text` as one unit: one chunk of a chunked body, or as it is. Nothing for no
    /// text (an empty chunk would end the body).
    fn push_framed(&mut self, text: impl IntoIterator<Item = Bytes>, chunked: bool) {
        let text: Vec<Bytes> = text.into_iter().filter(|t| !t.is_empty()).collect();
        let len: usize = text.iter().map(Bytes::len).sum();
        if len == 0 {
            return;
        }
        let head = chunked.then(|| Bytes::from(chunk_head(len)));
        let end = chunked.then_some(Bytes::from_static(CHUNK_END));
        let unit: Vec<Bytes> = head.into_iter().chain(text).chain(end).collect();
        self.push_unit(unit);
    }

    /// Appends `pieces` as one unit, as they are.
    fn push_unit(&mut self, pieces: impl IntoIterator<Item = Bytes>) {
        let before = self.len;
        for piece in pieces {
            self.len += piece.len();
            self.pieces.push_back(piece);
        }
        if self.len > before {
            self.units.push_back(self.len - before);
        }
    }

    /// The first pieces, as many as fit in `slices`; how many.
    fn slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut count = 0;
        for (slot, piece) in slices.iter_mut().zip(&self.pieces) {
            *slot = IoSlice::new(piece);
            count += 1;
        }
        count
    }

    /// Drops the first `n` bytes (the socket took them).
    fn advance(&mut self, n: usize) {
        self.len -= n;
        let mut left = n;
        while let Some(front) = self.pieces.front_mut() {
            if left < front.len() {
                front.advance(left);
                break;
            }
            left -= front.len();
            self.pieces.pop_front();
        }
        let mut left = n;
        while let Some(unit) = self.units.front_mut() {
            if left < *unit {
                *unit -= left;
                break;
            }
            left -= *unit;
            self.units.pop_front();
        }
    }
}

/// One show's events of a batch: their text, and where each event starts in it.
#[derive(Default)]
struct ShowText {
    text: Vec<u8>,
    starts: Vec<(i64, usize)>,
}

struct EventLoop {
    poll: Poll,
    commands: Receiver<Command>,
    readers: HashMap<Token, Reader>,
    by_show: HashMap<Arc<str>, HashSet<Token>>,
    /// The hub's: which shows it reads.
    state: Arc<Mutex<State>>,
    /// Shared with the hub: readers added and not closed.
    count: Arc<AtomicUsize>,
    keep_alive: Duration,
}

impl EventLoop {
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let tick = (self.keep_alive / 4).clamp(Duration::from_millis(10), TICK);
        let mut next_tick = Instant::now() + tick;
        let mut stopping = false;
        loop {
            let timeout = next_tick.saturating_duration_since(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    eprintln!("seatcore-server: event streams: {e}");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let now = Instant::now();
            let mut closing = Vec::new();
            for event in events.iter() {
                let token = event.token();
                if token == WAKER {
                    continue;
                }
                let Some(reader) = self.readers.get_mut(&token) else { continue };
                let gone = (event.is_readable() && !drain_input(reader))
                    || event.is_error()
                    || (event.is_writable() && !reader.flush(now));
                if gone {
                    closing.push(token);
                }
            }
            while let Ok(command) = self.commands.try_recv() {
                match command {
                    Command::Add { token, show, last } => {
                        self.by_show.entry(Arc::clone(&show)).or_default().insert(token);
                        let reader = Reader {
                            show,
                            last,
                            chunked: false,
                            socket: None,
                            out: Pending::default(),
                            queued_at: now,
                            stalled_since: None,
                        };
                        self.readers.insert(token, reader);
                    }
                    Command::Attach { token, socket, chunked } => {
                        self.attach(token, socket, chunked, now, &mut closing);
                    }
                    Command::Gone { token } => closing.push(token),
                    Command::Changes(changes) => self.deliver(&changes, now, &mut closing),
                    Command::Stop => stopping = true,
                }
            }
            if stopping {
                self.end_all();
                return;
            }
            if now >= next_tick {
                next_tick = now + tick;
                // Readers that got the same events at once fall due together: a few hundred
                // comments per tick, from three quarters of the keep-alive on, spread them
                // out (a burst of thousands of writes would stall the server's other work)
                // and still send each before the keep-alive has passed.
                let due = self.keep_alive * 3 / 4;
                let mut budget = KEEP_ALIVES_PER_TICK;
                for (token, reader) in &mut self.readers {
                    if reader.socket.is_none() {
                        continue;
                    }
                    if reader.stalled_since.is_some_and(|t| now.duration_since(t) >= WRITE_TIMEOUT) {
                        closing.push(*token);
                    } else if budget > 0
                        && reader.out.is_empty()
                        && now.duration_since(reader.queued_at) >= due
                    {
                        budget -= 1;
                        reader.queue([Bytes::from_static(KEEP_ALIVE_COMMENT)], now);
                        if !reader.flush(now) {
                            closing.push(*token);
                        }
                    }
                }
            }
            for token in closing {
                self.close(token);
            }
        }
    }

    fn attach(
        &mut self,
        token: Token,
        socket: TcpStream,
        chunked: bool,
        now: Instant,
        closing: &mut Vec<Token>,
    ) {
        // A reader cut off before its socket came: the socket closes here.
        let Some(reader) = self.readers.get_mut(&token) else { return };
        if socket.set_nonblocking(true).is_err() {
            closing.push(token);
            return;
        }
        let mut socket = LoopStream::from_std(socket);
        if self.poll.registry().register(&mut socket, token, Interest::READABLE | Interest::WRITABLE).is_err()
        {
            closing.push(token);
            return;
        }
        reader.socket = Some(socket);
        reader.chunked = chunked;
        // What came while the history was written goes out as one chunk.
        let early = std::mem::take(&mut reader.out);
        reader.queue(early.pieces, now);
        if !reader.flush(now) {
            closing.push(token);
        }
    }

    /// Queues each change for the readers of its show, formatted once and shared, and
    /// writes.
    fn deliver(&mut self, changes: &[Change], now: Instant, closing: &mut Vec<Token>) {
        let mut texts: HashMap<&str, ShowText> = HashMap::new();
        for change in changes {
            if self.by_show.contains_key(change.show_id.as_str()) {
                let ShowText { text, starts } = texts.entry(change.show_id.as_str()).or_default();
                starts.push((change.id, text.len()));
                text.extend_from_slice(seatcore::rest::event(change).as_bytes());
            }
        }
        for (show, ShowText { text, starts }) in texts {
            let Some(tokens) = self.by_show.get(show) else { continue };
            let text = Bytes::from(text);
            let newest = starts.last().map_or(0, |s| s.0);
            for token in tokens {
                let Some(reader) = self.readers.get_mut(token) else { continue };
                let first = starts.partition_point(|(id, _)| *id <= reader.last);
                let Some(&(_, from)) = starts.get(first) else { continue };
                reader.last = newest;
                reader.queue([text.slice(from..)], now);
                if !reader.flush(now) || reader.out.behind() > BUFFER {
                    closing.push(*token);
                }
            }
        }
    }

    fn close(&mut self, token: Token) {
        let Some(mut reader) = self.readers.remove(&token) else { return };
        if let Some(socket) = reader.socket.as_mut() {
            let _ = self.poll.registry().deregister(socket);
        }
        if let Some(tokens) = self.by_show.get_mut(&reader.show) {
            tokens.remove(&token);
            if tokens.is_empty() {
                self.by_show.remove(&reader.show);
            }
        }
        let mut state = lock(&self.state);
        if let Some(readers) = state.shows.get_mut(&reader.show) {
            *readers -= 1;
            if *readers == 0 {
                state.shows.remove(&reader.show);
            }
        }
        self.count.fetch_sub(1, Ordering::AcqRel);
    }

    /// The server stops: each stream gets its end (the last chunk) if its socket takes it.
    fn end_all(&mut self) {
        let now = Instant::now();
        for reader in self.readers.values_mut() {
            if reader.chunked {
                reader.out.push_unit([Bytes::from_static(b"0\r\n\r\n")]);
            }
            reader.flush(now);
            if let Some(socket) = reader.socket.as_ref() {
                let _ = socket.shutdown(Shutdown::Write);
            }
        }
        let tokens: Vec<Token> = self.readers.keys().copied().collect();
        for token in tokens {
            self.close(token);
        }
    }
}

/// Reads and drops what a reader's client sends (nothing is expected); false when the
/// client has closed its side or the connection failed.
fn drain_input(reader: &mut Reader) -> bool {
    let Some(socket) = reader.socket.as_mut() else { return true };
    let mut buf = [0u8; 1024];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(p: &Pending) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); WRITE_PIECES];
        let count = p.slices(&mut slices);
        slices[..count].iter().flat_map(|s| s.iter().copied()).collect()
    }

    #[test]
    fn pending_bytes_go_in_framed_units_and_count_behind_the_first() {
        let batch = Bytes::from_static(b"abcdefgh");
        let mut p = Pending::default();
        p.push_framed([batch.slice(3..), Bytes::new()], true);
        p.push_framed(Vec::<Bytes>::new(), true);
        assert_eq!(bytes(&p), b"5\r\ndefgh\r\n");
        assert_eq!(p.behind(), 0, "one unit, however large, is not behind");
        p.push_framed([Bytes::from_static(KEEP_ALIVE_COMMENT)], true);
        assert_eq!(p.behind(), KEEP_ALIVE_COMMENT.len() + 5);
        p.advance(4);
        assert_eq!(p.behind(), KEEP_ALIVE_COMMENT.len() + 5, "the first unit is still being written");
        p.advance(6);
        assert_eq!(p.behind(), 0);
        assert_eq!(bytes(&p), [b"e\r\n".as_slice(), KEEP_ALIVE_COMMENT, b"\r\n"].concat());
        p.push_framed([batch.slice(..2)], false);
        p.push_unit([Bytes::from_static(b"0\r\n\r\n")]);
        assert_eq!(p.behind(), 2 + 5);
        p.advance(KEEP_ALIVE_COMMENT.len() + 5 + 2);
        assert_eq!(bytes(&p), b"0\r\n\r\n");
        assert_eq!(p.behind(), 0);
        p.advance(5);
        assert!(p.is_empty() && p.units.is_empty() && p.pieces.is_empty());
    }

    #[test]
    fn the_contract_states_these_stream_bounds() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/contract.md"))
            .expect("docs/contract.md");
        let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
        let streams = MAX_STREAMS.to_string();
        let (high, low) = streams.split_at(streams.len() - 3);
        for phrase in [
            format!("at least every {} s", KEEP_ALIVE.as_secs()),
            format!("falls {} KiB behind", BUFFER >> 10),
            format!("takes nothing for {} s", WRITE_TIMEOUT.as_secs()),
            format!("(`--max-event-streams`, {high},{low})"),
        ] {
            assert!(doc.contains(&phrase), "docs/contract.md does not say {phrase:?}");
        }
    }
}
