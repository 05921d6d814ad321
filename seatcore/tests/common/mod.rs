//! Helpers shared by the integration tests (each test file that needs them declares
//! `mod common;`).
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Polls `done` until it holds; fails after a minute, naming `what` it waited for.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs the ignored test `body` of this test binary in a child process, with `env` set and
/// its stdout piped.
pub fn spawn_child(body: &str, env: &[(&str, &str)]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", body, "--ignored", "--nocapture", "--test-threads=1"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// What a child process reported, once it has exited successfully: the comma-separated
/// items of its line `MARKER a,b,c` (the test harness may print its own words before it on
/// the same line).
pub fn reported(child: Child, marker: &str) -> Vec<String> {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "a child process failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.split_once(marker)).expect("child reported").1;
    line.trim().split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Runs `body` on `n` threads at once, each given its number and a barrier that all `n`
/// wait at; returns what each returned, by number.
pub fn in_threads<T: Send>(n: usize, body: impl Fn(usize, &Barrier) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..n)
            .map(|t| {
                let (body, barrier) = (&body, &barrier);
                s.spawn(move || body(t, barrier))
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

/// The head of a status read of `show` (its version, entity tag and seat count), the seats
/// left unread.
pub fn head(core: &seatcore::SeatCore, show: &str) -> seatcore::StatusHead {
    let mut seen = None;
    core.seat_status_with(
        show,
        |h| {
            seen = Some(h.clone());
            false
        },
        |_| {},
    )
    .unwrap();
    seen.expect("the head comes before any seat")
}

/// Waits until a session of `db` waits for a lock that the session `pid` holds, or until
/// `finished` (the call expected to wait has ended without waiting).
pub fn wait_for_a_waiter(db: &seatcore::testing::TestDb, pid: i32, mut finished: impl FnMut() -> bool) {
    let mut c = db.client();
    wait_until("a session waiting for the lock", || {
        finished()
            || c.query_one(
                "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid)))",
                &[&pid],
            )
            .unwrap()
            .get(0)
    });
}
