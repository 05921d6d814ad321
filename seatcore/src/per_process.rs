//! State that belongs to one process: after `fork()` the child starts from a fresh value.
//!
//! A child inherits the parent's memory but not its threads. A lock one of those threads
//! held at the fork stays locked forever in the child, and a queue it was leading is never
//! served. So the child never touches the inherited value (not even to drop it, which could
//! run code that waits on such a lock): it makes its own and leaves the old one in place.

use std::sync::Arc;

use arc_swap::ArcSwap;

struct Owned<T> {
    pid: u32,
    value: Arc<T>,
}

/// A `T` of this process, made with `T::default()` on first use in each process.
pub(crate) struct PerProcess<T> {
    current: ArcSwap<Owned<T>>,
}

impl<T: Default> Default for PerProcess<T> {
    fn default() -> Self {
        PerProcess {
            current: ArcSwap::from_pointee(Owned { pid: std::process::id(), value: Arc::default() }),
        }
    }
}

impl<T: Default> PerProcess<T> {
    /// This process's value.
    pub(crate) fn get(&self) -> Arc<T> {
        let pid = std::process::id();
        loop {
            let current = self.current.load_full();
            if current.pid == pid {
                return Arc::clone(&current.value);
            }
            let fresh = Arc::new(Owned { pid, value: Arc::default() });
            let previous = self.current.compare_and_swap(&current, Arc::clone(&fresh));
            let won = Arc::ptr_eq(&previous, &current);
            // The inherited value is left as it is (see the module's documentation).
            std::mem::forget(current);
            if won {
                std::mem::forget(previous);
                return Arc::clone(&fresh.value);
            }
            // Another thread of this process made one first: use that.
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::PerProcess;

    #[test]
    fn a_child_gets_its_own_value_while_the_parents_is_locked() {
        let shared: PerProcess<Mutex<u32>> = PerProcess::default();
        *shared.get().lock().unwrap() = 7;
        let parents = shared.get();
        // Locked across the fork, as by a thread the child does not have.
        let guard = parents.lock().unwrap();
        // SAFETY: the child only reads memory and `_exit`s.
        match unsafe { libc::fork() } {
            0 => {
                let fresh = shared.get();
                let own = fresh.try_lock().is_ok_and(|v| *v == 0);
                let kept = Arc::ptr_eq(&fresh, &shared.get());
                // SAFETY: ends the child without running the test harness.
                unsafe { libc::_exit(if own && kept { 0 } else { 1 }) }
            }
            -1 => panic!("fork failed"),
            pid => {
                let mut status = 0;
                // SAFETY: waiting for our own child.
                assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
                assert!(
                    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                    "the child had a fresh value"
                );
            }
        }
        drop(guard);
        assert_eq!(*shared.get().lock().unwrap(), 7, "the parent keeps its value");
        assert!(Arc::ptr_eq(&parents, &shared.get()));
    }
}
