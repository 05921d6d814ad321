//! The background sweeper: one thread per handle that asks for it.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{OptionRange, SeatCore};

/// A running background sweeper. Dropping it stops the thread and waits for it.
///
/// Expired holds free their seats the moment they expire whether or not a sweep ran; the
/// sweeper only deletes the dead rows. Errors are retried at the next tick.
///
/// After `fork()` the child has no sweeper thread: dropping an inherited `Sweeper` there
/// does nothing (the parent's thread goes on in the parent).
pub struct Sweeper {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    pid: u32,
}

impl Sweeper {
    /// The interval between sweeps: 1 ms to 1 day. The doors check the interval they are
    /// given against it.
    pub const INTERVAL: OptionRange<Duration> =
        OptionRange { name: "sweep_interval", range: Duration::from_millis(1)..=Duration::from_secs(86_400) };

    pub(crate) fn start(core: SeatCore, interval: Duration) -> Sweeper {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("seatcore-sweeper".into())
            .spawn(move || loop {
                match stopped.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => {
                        let _ = core.sweep_expired();
                    }
                    // stop() sent, or the Sweeper was dropped
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
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
