//! `GET /shows/<id>/events`: every show's changes fanned out to any number of readers from
//! one follower of the change log per server.
//!
//! The hub's thread follows the log's tail across all shows (`SeatCore::changes_after`),
//! woken by the log's notifications (one listening connection per server) or its own poll,
//! and hands each change to the subscribers of its show. With no subscriber it reads
//! nothing; the next subscriber moves it to the log's end. A subscriber that starts in the
//! past (`?after=` or `Last-Event-ID`) first replays the show's history up to where the hub
//! was when it subscribed; the hub delivers everything after. Both parts read the log below
//! its horizon, so a reader never misses a committed change, and the ids it sees only grow.
//!
//! A subscriber's queue is bounded: a reader too slow to keep up is cut off (its stream
//! ends) rather than growing the server's memory; it resumes with `Last-Event-ID`.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seatcore::{Change, SeatCore};

/// Changes queued for one reader before it is cut off as too slow.
pub const QUEUE: usize = 4096;
/// By default, a comment line goes out when no event did for this long, so proxies and
/// clients see the stream is alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Changes one read of the log returns at most.
const PAGE: u32 = 1000;

/// The fan-out of changes to readers.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    core: SeatCore,
    keep_alive: Duration,
    state: Mutex<State>,
}

struct State {
    /// Every change up to this id has been handed to the subscribers of its time.
    cursor: i64,
    subscribers: HashMap<String, Vec<SyncSender<Arc<Change>>>>,
    /// No subscriber since the hub last read the log: the hub reads nothing, and the
    /// cursor may lag behind the log's end until a subscriber comes.
    idle: bool,
    stopped: bool,
}

impl Hub {
    /// Starts the hub's thread from the present end of the log; streams send a comment
    /// after `keep_alive` without an event.
    pub fn start(core: SeatCore, keep_alive: Duration) -> seatcore::Result<Hub> {
        let cursor = core.last_change_id()?;
        let hub = Hub {
            inner: Arc::new(Inner {
                core,
                keep_alive,
                state: Mutex::new(State { cursor, subscribers: HashMap::new(), idle: true, stopped: false }),
            }),
        };
        let follower = hub.clone();
        std::thread::Builder::new()
            .name("change-hub".into())
            .spawn(move || follower.follow())
            .map_err(|e| seatcore::Error::Unavailable(Box::new(e)))?;
        Ok(hub)
    }

    /// Stops the hub's thread and ends every stream.
    pub fn stop(&self) {
        let mut state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        state.stopped = true;
        state.subscribers.clear();
    }

    fn follow(&self) {
        let mut listener = self.inner.core.listener();
        loop {
            let cursor = {
                let state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
                if state.stopped {
                    return;
                }
                if state.idle {
                    // Nobody to hand changes to: read nothing, only take the notifications
                    // off the listening connection. The first subscriber moves the cursor.
                    drop(state);
                    listener.wait(seatcore::CHANGE_POLL);
                    continue;
                }
                state.cursor
            };
            let page = match self.inner.core.changes_after(cursor, PAGE) {
                Ok(page) => page,
                Err(_) => {
                    // The database is away: readers keep their streams (with keep-alives)
                    // and get everything once it is back.
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
            };
            let full = page.changes.len() as u32 >= PAGE;
            {
                let mut state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
                if state.stopped {
                    return;
                }
                for change in page.changes {
                    let change = Arc::new(change);
                    if let Some(subs) = state.subscribers.get_mut(&change.show_id) {
                        // A full queue: too slow a reader; dropping its sender ends its stream.
                        subs.retain(|tx| tx.try_send(Arc::clone(&change)).is_ok());
                    }
                }
                state.subscribers.retain(|_, subs| !subs.is_empty());
                state.cursor = state.cursor.max(page.next);
                state.idle = state.subscribers.is_empty();
            }
            if !full {
                listener.wait(seatcore::CHANGE_POLL);
            }
        }
    }

    /// A reader of `show_id`'s changes after `after`.
    pub fn subscribe(&self, show_id: String, after: i64) -> Subscription {
        let (tx, rx) = sync_channel(QUEUE);
        let idle = self.inner.state.lock().unwrap_or_else(|p| p.into_inner()).idle;
        // The hub wakes from idling at the log's end, not at the change it last handed over.
        let end = if idle { self.inner.core.last_change_id().ok() } else { None };
        let cursor = {
            let mut state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.idle {
                // Nothing between the cursor and `end` is owed to anyone: nobody subscribed.
                state.cursor = state.cursor.max(end.unwrap_or(0));
                state.idle = false;
            }
            if !state.stopped {
                state.subscribers.entry(show_id.clone()).or_default().push(tx);
            }
            state.cursor
        };
        // Replayed from the log: what lies between the reader's start and the hub's
        // cursor; the hub hands over everything after it.
        // When the reader starts ahead of the hub, what the hub has yet to hand over up to
        // `after` is dropped by `last`.
        let replay = (after < cursor).then_some((after, cursor));
        Subscription {
            core: self.inner.core.clone(),
            keep_alive: self.inner.keep_alive,
            show_id,
            replay,
            live: rx,
            last: after,
            out: Vec::new(),
            pos: 0,
            ended: false,
        }
    }

    /// How many readers are subscribed now.
    pub fn subscribers(&self) -> usize {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner()).subscribers.values().map(Vec::len).sum()
    }
}

/// One reader's stream: the text of its server-sent events, produced as they come.
pub struct Subscription {
    core: SeatCore,
    keep_alive: Duration,
    show_id: String,
    /// History still to replay: after the first id, up to the second.
    replay: Option<(i64, i64)>,
    live: Receiver<Arc<Change>>,
    /// The id of the last event sent: nothing at or below it is sent again.
    last: i64,
    out: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl Subscription {
    /// Fills `out` with the next events, or a keep-alive comment; false at the end.
    fn produce(&mut self) -> io::Result<bool> {
        if let Some((after, until)) = self.replay.take() {
            let page = self.core.show_changes_after(&self.show_id, after, PAGE).map_err(io::Error::other)?;
            for change in page.changes.iter().filter(|c| c.id <= until) {
                self.push(change);
            }
            // More history before `until` when the page was full and ended below it.
            if page.next < until && page.changes.last().is_some_and(|c| c.id <= until) {
                self.replay = Some((page.next, until));
            }
            return Ok(true);
        }
        match self.live.recv_timeout(self.keep_alive) {
            Ok(change) => {
                self.push(&change);
                // Whatever else is queued goes out with it.
                while let Ok(change) = self.live.try_recv() {
                    self.push(&change);
                }
                if self.out.is_empty() {
                    self.out.extend_from_slice(b": keep-alive\n\n");
                }
                Ok(true)
            }
            Err(RecvTimeoutError::Timeout) => {
                self.out.extend_from_slice(b": keep-alive\n\n");
                Ok(true)
            }
            Err(RecvTimeoutError::Disconnected) => Ok(false),
        }
    }

    fn push(&mut self, change: &Change) {
        if change.id > self.last {
            self.last = change.id;
            self.out.extend_from_slice(seatcore::rest::event(change).as_bytes());
        }
    }
}

impl Read for Subscription {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            if self.ended || !self.produce()? {
                self.ended = true;
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
