//! Following the change log as it grows: a listener woken by PostgreSQL's LISTEN/NOTIFY,
//! and a watch of one show built on it.
//!
//! Writers do not NOTIFY inside their transactions: a notifying transaction takes a
//! database-wide lock until its commit is flushed, which would serialize every write. Each
//! process instead sends `NOTIFY seatcore_changes` on its own right after a write commits, at
//! most once per [`NOTIFY_GAP`]; a listener also looks at the log every [`POLL`] on its own,
//! which covers writes that fell inside a gap, and lost notifications. Neither decides what
//! a reader sees: that is always the log below the horizon, so a reader never misses a
//! record, whatever the notifications did.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use crate::error::Result;
use crate::ops::changes::{Change, MAX_PAGE};
use crate::pool::PoolSpec;
use crate::SeatCore;

/// The notification channel of the change log.
pub const CHANNEL: &str = "seatcore_changes";
/// Least time between two notifications one process sends.
pub const NOTIFY_GAP: Duration = Duration::from_millis(5);
/// Longest a listener waits before it looks at the log anyway.
pub const POLL: Duration = Duration::from_millis(100);

/// A connection of its own that LISTENs on [`CHANNEL`]. It reconnects by itself after the
/// database restarts; while it cannot, [`Listener::wait`] just waits out its timeout.
///
/// Its connection belongs to the process that opened it. A listener inherited through
/// `fork()` opens a connection of its own in the child on its next wait, and never uses or
/// closes the inherited one, which is the parent's session (as with the pool).
pub struct Listener {
    spec: PoolSpec,
    client: Option<postgres::Client>,
    /// The process that opened `client`.
    pid: u32,
    /// No reconnection attempt before this.
    retry_at: Option<Instant>,
}

impl Listener {
    pub(crate) fn new(spec: PoolSpec) -> Listener {
        Listener { spec, client: None, pid: std::process::id(), retry_at: None }
    }

    /// Lets go of a connection inherited through `fork()` without a word on it.
    fn disown_inherited(&mut self) {
        let pid = std::process::id();
        if self.pid != pid {
            std::mem::forget(self.client.take());
            self.pid = pid;
            self.retry_at = None;
        }
    }

    fn connect(&mut self) -> Option<&mut postgres::Client> {
        self.disown_inherited();
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return self.client.as_mut();
        }
        self.client = None;
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return None;
        }
        let opened = self.spec.config.connect(self.spec.tls.clone()).and_then(|mut c| {
            c.batch_execute(&format!("LISTEN {CHANNEL}"))?;
            Ok(c)
        });
        match opened {
            Ok(c) => {
                self.retry_at = None;
                self.client = Some(c);
                self.client.as_mut()
            }
            Err(_) => {
                self.retry_at = Some(Instant::now() + Duration::from_secs(1));
                None
            }
        }
    }

    /// Waits up to `timeout` for a notification; true when one came (all that came are
    /// taken at once), false when the time ran out or the connection is down.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        let started = Instant::now();
        let Some(client) = self.connect() else {
            std::thread::sleep(timeout.saturating_sub(started.elapsed()));
            return false;
        };
        let left = timeout.saturating_sub(started.elapsed());
        let outcome = {
            let mut notifications = client.notifications();
            let first = notifications.timeout_iter(left).next();
            // Several notifications mean the same thing: look at the log.
            while let Ok(Some(_)) = notifications.iter().next() {}
            first
        };
        match outcome {
            Ok(Some(_)) => true,
            Ok(None) => false,
            Err(_) => {
                self.client = None;
                false
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.disown_inherited();
    }
}

/// A watch of one show's changes, from a given change id on: [`Watch::next`] returns each
/// committed change once, in id order, waiting for the next when there is none.
///
/// It has a database connection of its own (the listener) besides the pool's. Dropping it
/// closes that connection. A watch inherited through `fork()` goes on in the child from its
/// position, on connections of the child's own (see [`Listener`] and the pool).
pub struct Watch {
    core: SeatCore,
    show_id: String,
    after: i64,
    buffer: VecDeque<Change>,
    listener: Listener,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").field("show_id", &self.show_id).field("after", &self.after).finish()
    }
}

impl Watch {
    /// The id of the last change returned (or the starting point): pass it as `after` to
    /// resume elsewhere.
    pub fn position(&self) -> i64 {
        self.after
    }

    /// The next change, waiting up to `timeout` for one; `None` when none came in time.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Change>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(change) = self.buffer.pop_front() {
                self.after = self.after.max(change.id);
                return Ok(Some(change));
            }
            let page = self.core.show_changes_after(&self.show_id, self.after, MAX_PAGE)?;
            let full = page.is_full(MAX_PAGE);
            self.buffer.extend(page.changes);
            if self.buffer.is_empty() {
                // Nothing new below the horizon: remember how far the log is final.
                self.after = self.after.max(page.next);
            }
            if !self.buffer.is_empty() || full {
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.listener.wait(left.min(POLL));
        }
    }
}

impl SeatCore {
    /// A listener on the change log's notifications, on a connection of its own.
    pub fn listener(&self) -> Listener {
        Listener::new(self.inner.primary.spec.clone())
    }

    /// Watches `show_id` from change id `after` on (exclusive), or from now with `None`.
    /// `ShowNotFound` for an unknown show.
    pub fn watch(&self, show_id: &str, after: Option<i64>) -> Result<Watch> {
        let show_id = crate::validate::show_id(show_id)?.to_owned();
        if after.is_some_and(|a| a < 0) {
            return Err(crate::InputError::After.into());
        }
        let after = match after {
            Some(a) => a,
            None => self.present_change_id()?,
        };
        // The first page; also proves the show exists.
        let first = self.show_changes_after(&show_id, after, MAX_PAGE)?;
        Ok(Watch {
            core: self.clone(),
            show_id,
            after,
            buffer: first.changes.into(),
            listener: self.listener(),
        })
    }

    /// Tells listeners that changes were committed: a `NOTIFY` on `conn`, at most once per
    /// [`NOTIFY_GAP`] per process. Best effort: a listener polls the log anyway.
    pub(crate) fn notify_changes(&self, client: &mut postgres::Client) {
        use std::sync::atomic::Ordering;
        // Microseconds since the handle was made; 0 means "never notified".
        let now = (self.inner.started.elapsed().as_micros() as u64).max(1);
        let last = self.inner.last_notify.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < NOTIFY_GAP.as_micros() as u64 {
            return;
        }
        if self.inner.last_notify.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            let _ = client.batch_execute(&format!("NOTIFY {CHANNEL}"));
        }
    }
}
