//! A handle made before `fork()` keeps working in the parent and in every child, while the
//! parent's threads are busy on it: each child opens a pool of its own and never touches
//! the parent's connections (as with Python's multiprocessing or gunicorn --preload).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use seatcore::testing::TestDb;
use seatcore::{Options, SeatCore};

const CHILDREN: usize = 4;
const HOLDS_PER_CHILD: usize = 20;

fn seat(n: usize) -> String {
    format!("S{n}")
}

/// A fresh schema with the show `s` of 200 seats (S0 to S199).
fn setup(label: &str, options: Options) -> (TestDb, SeatCore) {
    let db = TestDb::new(label);
    let core = SeatCore::connect(&db.url, options).unwrap();
    let seats: Vec<String> = (0..200).map(seat).collect();
    core.initialize_show("s", &seats).unwrap();
    (db, core)
}

/// Forks: the child's pid in the parent, `None` in the child (which must end in
/// [`in_child`]).
fn fork() -> Option<libc::pid_t> {
    // SAFETY: every child runs seatcore calls only and then `_exit`s (in_child), never
    // returning into the test harness.
    match unsafe { libc::fork() } {
        -1 => panic!("fork failed"),
        0 => None,
        pid => Some(pid),
    }
}

/// Ends a forked child with the exit code `body` returns (1 if it panics).
fn in_child(body: impl FnOnce() -> i32) -> ! {
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(1);
    // SAFETY: leaves the child at once, as it must after fork().
    unsafe { libc::_exit(code) }
}

/// Threads of the parent calling `step(core, thread, i)` for i = 0, 1, 2... until stopped,
/// keeping what each failed call says.
struct Busy {
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicU64>,
    threads: Vec<JoinHandle<Vec<String>>>,
}

impl Busy {
    fn start(
        core: &SeatCore,
        threads: usize,
        step: fn(&SeatCore, usize, usize) -> Result<(), String>,
    ) -> Busy {
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU64::new(0));
        let threads = (0..threads)
            .map(|t| {
                let (core, stop, calls) = (core.clone(), Arc::clone(&stop), Arc::clone(&calls));
                std::thread::spawn(move || {
                    let mut errors = Vec::new();
                    let mut i = 0;
                    while !stop.load(Ordering::Acquire) {
                        if let Err(e) = step(&core, t, i) {
                            errors.push(e);
                        }
                        calls.fetch_add(1, Ordering::Release);
                        i += 1;
                    }
                    errors
                })
            })
            .collect();
        Busy { stop, calls, threads }
    }

    /// Waits until the threads have made `n` more calls in all.
    fn wait_for_calls(&self, n: u64) {
        let before = self.calls.load(Ordering::Acquire);
        while self.calls.load(Ordering::Acquire) < before + n {
            std::thread::yield_now();
        }
    }

    /// Stops the threads and asserts that no call of theirs failed.
    fn stop(self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads {
            let errors = t.join().unwrap();
            assert!(errors.is_empty(), "the parent's threads failed: {errors:?}");
        }
    }
}

/// The child's work: its own seats, one hold each. Returns the exit code.
fn child(core: &SeatCore, k: usize) -> i32 {
    for i in 0..HOLDS_PER_CHILD {
        if let Err(e) = core.hold("s", &[seat(k * HOLDS_PER_CHILD + i)], 600) {
            eprintln!("child {k}: hold {i} failed: {e}");
            return 1;
        }
    }
    match core.health() {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("child {k}: health failed: {e}");
            1
        }
    }
}

/// Waits for every child to exit, at most `limit` in all; each one's exit code, or `None`
/// for a child that hung (it is killed).
fn wait_all(children: &[libc::pid_t], limit: Duration) -> Vec<Option<i32>> {
    let deadline = Instant::now() + limit;
    children
        .iter()
        .map(|&pid| loop {
            let mut status = 0;
            // SAFETY: plain waitpid on our own child.
            let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if done == pid {
                break libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
            }
            if Instant::now() > deadline {
                // SAFETY: killing and reaping our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        })
        .collect()
}

#[test]
fn a_handle_made_before_fork_works_in_children_and_parent() {
    let (_db, core) = setup("fork", Options { pool_size: 6, ..Options::default() });

    // The parent's threads keep the pool busy across the forks.
    let busy = Busy::start(&core, 3, |core, t, i| {
        let h = core.hold("s", &[seat(100 + t * 30 + i % 30)], 60).map_err(|e| e.to_string())?;
        core.release("s", &h.hold_id.to_string()).map_err(|e| e.to_string())
    });
    busy.wait_for_calls(30);

    let children: Vec<_> = (0..CHILDREN)
        .map(|k| match fork() {
            Some(pid) => pid,
            None => in_child(|| child(&core, k)),
        })
        .collect();
    let exits = wait_all(&children, Duration::from_secs(60));
    assert_eq!(exits, vec![Some(0); CHILDREN], "every child did its holds and exited (None: hung)");
    busy.wait_for_calls(30);
    busy.stop();

    let status = core.seat_status("s").unwrap();
    assert_eq!(status.counts.held as usize, CHILDREN * HOLDS_PER_CHILD, "every child's holds are there");
    for (i, s) in status.seats.iter().enumerate().take(CHILDREN * HOLDS_PER_CHILD) {
        assert_eq!(s.state, seatcore::SeatState::Held, "seat {i}");
    }
    let audit = core.audit(Some("s")).unwrap();
    assert!(audit.summary.ok, "{:?}", audit.problems);
}

#[test]
fn dispose_closes_the_pool_and_the_next_call_opens_one() {
    let db = TestDb::new("dispose");
    let core = SeatCore::connect(&db.url, Options { pool_size: 2, ..Options::default() }).unwrap();
    assert!(core.is_open());
    assert!(core.stats().pool_connections > 0);
    core.dispose();
    assert!(!core.is_open());
    assert_eq!(core.stats().pool_connections, 0);
    core.initialize_show("s", &["A1"]).unwrap();
    assert!(core.is_open());
}

#[test]
fn a_deadline_in_the_past_refuses_at_once() {
    let db = TestDb::new("deadline");
    let core = SeatCore::connect(&db.url, Options { pool_size: 1, ..Options::default() }).unwrap();
    core.initialize_show("s", &["A1", "A2"]).unwrap();
    let late = core.until(Instant::now());
    let err = late.hold("s", &["A1"], 60).unwrap_err();
    assert_eq!(err.kind(), seatcore::ErrorKind::Unavailable, "{err}");
    assert_eq!(core.seat_status("s").unwrap().counts.held, 0, "nothing was written");
    // with time left it works as usual
    core.until(Instant::now() + Duration::from_secs(5)).hold("s", &["A1"], 60).unwrap();
}

/// The backends of `application_name` that LISTEN for changes.
fn listening(db: &TestDb, application_name: &str) -> Vec<i32> {
    let rows = db
        .client()
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %' \
             ORDER BY pid",
            &[&application_name],
        )
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// Waits on `watch` (nothing is to come) until `n` backends of `application_name` listen, at
/// most 30 s; returns them.
fn wait_listening(db: &TestDb, watch: &mut seatcore::Watch, application_name: &str, n: usize) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // an empty wait goes to the listener, which connects first
        assert_eq!(watch.next(Duration::from_millis(50)).unwrap(), None, "a change nobody made");
        let pids = listening(db, application_name);
        if pids.len() >= n || Instant::now() > deadline {
            return pids;
        }
    }
}

/// The child's part of the next test: the inherited watch goes on, on a listening connection
/// of the child's own. Returns the exit code.
fn watch_in_child(db: &TestDb, core: &SeatCore, watch: &mut seatcore::Watch, name: &str, parent: i32) -> i32 {
    let hold = match core.hold("s", &["A2"], 60) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("child: hold failed: {e}");
            return 1;
        }
    };
    match watch.next(Duration::from_secs(30)) {
        Ok(Some(c)) if c.hold_id == Some(hold.hold_id) => {}
        other => {
            eprintln!("child: the watch gave {other:?}, not the child's hold");
            return 1;
        }
    }
    let listeners = wait_listening(db, watch, name, 2);
    if listeners.len() != 2 || !listeners.contains(&parent) {
        eprintln!("child: listening backends {listeners:?}: want the parent's {parent} and the child's own");
        return 1;
    }
    // Dropping the inherited watch closes the child's connection, never the parent's.
    0
}

#[test]
fn a_watch_made_before_fork_goes_on_in_the_child_on_its_own_connection() {
    let db = TestDb::new("fork_watch");
    let name = format!("fork_watch_{}", std::process::id());
    let url = format!("{}&application_name={name}", db.url);
    let core = SeatCore::connect(&url, Options { pool_size: 2, ..Options::default() }).unwrap();
    core.initialize_show("s", &["A1", "A2", "A3"]).unwrap();
    let mut watch = core.watch("s", Some(0)).unwrap();
    assert_eq!(watch.next(Duration::from_secs(10)).unwrap().unwrap().kind, seatcore::ChangeKind::Initialized);
    let parent = wait_listening(&db, &mut watch, &name, 1);
    assert_eq!(parent.len(), 1, "the parent's watch listens on one connection: {parent:?}");

    let pid = match fork() {
        Some(pid) => pid,
        None => in_child(|| {
            let code = watch_in_child(&db, &core, &mut watch, &name, parent[0]);
            drop(watch);
            code
        }),
    };
    assert_eq!(wait_all(&[pid], Duration::from_secs(60)), vec![Some(0)], "the child's watch worked");

    // The parent's watch goes on, on the connection it had: the child never used or closed it.
    let held = core.hold("s", &["A3"], 60).unwrap();
    let mut seen = Vec::new();
    while seen.last() != Some(&Some(held.hold_id)) {
        let change = watch.next(Duration::from_secs(30)).unwrap().expect("the parent's hold is seen");
        seen.push(change.hold_id);
    }
    assert_eq!(seen.len(), 2, "the child's hold, then the parent's: {seen:?}");
    assert_eq!(listening(&db, &name), parent, "the parent's listening connection is the one it had");
}

/// The child's part of the next test: threads of its own, more than the pool's one
/// connection, so they wait for each other in the child's pool. Returns the exit code.
fn contend_in_child(core: &SeatCore, k: usize) -> i32 {
    let failures: usize = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..3)
            .map(|t| {
                scope.spawn(move || {
                    (0..5).filter(|i| core.hold("s", &[seat(100 + k * 15 + t * 5 + i)], 600).is_err()).count()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap_or(1)).sum()
    });
    i32::from(failures != 0)
}

/// Children forked while the parent's threads wait for the pool's only connection, whose
/// own threads then wait for the only connection of the child's pool: nobody in a child
/// waits on anything the parent's threads were holding or waiting in at the fork.
#[test]
fn children_wait_in_their_own_pool_while_the_parents_threads_wait_in_theirs() {
    let (_db, core) = setup("fork_waiters", Options { pool_size: 1, min_idle: 1, ..Options::default() });
    let busy = Busy::start(&core, 4, |core, _, _| {
        core.seat_status("s").map_err(|e| e.to_string())?;
        core.health().map(drop).map_err(|e| e.to_string())
    });
    let children: Vec<_> = (0..6)
        .map(|k| {
            busy.wait_for_calls(5);
            match fork() {
                Some(pid) => pid,
                None => in_child(|| contend_in_child(&core, k)),
            }
        })
        .collect();
    let exits = wait_all(&children, Duration::from_secs(60));
    busy.stop();
    assert_eq!(exits, vec![Some(0); 6], "every child made its holds (None: hung)");
    let audit = core.audit(Some("s")).unwrap();
    assert!(audit.summary.ok && audit.summary.held == 6 * 15, "{audit:?}");
}
