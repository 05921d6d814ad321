//! The background sweeper: one thread per handle that asks for it.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{OptionRange, SeatCore};

/// A running background sweeper. Dropping it stops the thread and waits for it.
///
/// Expired holds free their seats the moment they expire whether or not a sweep ran; the
/// sweeper deletes the dead rows and records their `expired` changes. It sleeps until the
/// next hold's expiry by the database's clock, but never longer than its interval, so holds
/// made by other processes are noticed too: an `expired` record follows a hold's expiry
/// within about the interval. It also deletes changes older than
/// [`Options::change_retention`](crate::Options::change_retention), about once a minute.
/// Errors are retried at the next wake-up.
///
/// After `fork()` the child has no sweeper thread: dropping an inherited `Sweeper` there
/// does nothing (the parent's thread goes on in the parent).
pub struct Sweeper {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    pid: u32,
}

/// How often old changes are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl Sweeper {
    /// The longest sleep between two looks at the holds: 1 ms to 1 day. The doors check
    /// the interval they are given against it.
    pub const INTERVAL: OptionRange<Duration> =
        OptionRange { name: "sweep_interval", range: Duration::from_millis(1)..=Duration::from_secs(86_400) };

    /// The interval the doors use by default: an `expired` record within half a second of
    /// a hold's expiry, even for holds made by another process.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(500);

    pub(crate) fn start(core: SeatCore, interval: Duration) -> Sweeper {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("seatcore-sweeper".into())
            .spawn(move || {
                let mut pruned: Option<Instant> = None;
                loop {
                    let _ = core.sweep_expired();
                    if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                        let _ = core.prune_changes();
                        pruned = Some(Instant::now());
                    }
                    let wait = match core.next_expiry() {
                        // a millisecond past the expiry, so the hold is expired by then
                        Ok(Some(left)) => (left + Duration::from_millis(1)).min(interval),
                        _ => interval,
                    };
                    match stopped.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => {}
                        // stop() sent, or the Sweeper was dropped
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .expect("spawning the sweeper thread");
        Sweeper { stop: Some(stop), thread: Some(thread), pid: std::process::id() }
    }

    /// Stops the thread and waits for a sweep in progress to finish.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.pid != std::process::id() {
            // Inherited through fork: the thread is not in this process.
            std::mem::forget(self.stop.take());
            std::mem::forget(self.thread.take());
            return;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.shutdown();
    }
}
