//! Per-show queues of requests that are made together, one transaction for each group.
//!
//! A request that finds no group of its show being made makes its own at once (no added
//! latency on an idle system). A request that arrives while [`RUNNING_PER_SHOW`] groups of
//! its show are being made waits in the show's queue; the next caller to find room takes
//! everything queued (up to [`MAX_GROUP`] requests and a weight of [`MAX_GROUP_WEIGHT`])
//! and makes it as one group. Every caller gets its own answer, once its group is done.
//!
//! Holds, best-available holds, extensions, partial releases and releases of whole holds
//! each have queues of their own (`group`, `best`, `lifecycle`): a group is made of one kind
//! of request.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::per_process::PerProcess;
use crate::SeatCore;

/// Groups of one show made at once (each on its own connection): while one commits, the
/// next is being decided. Not one: a group whose request waits on a row lock (a seat another
/// transaction holds) would stall every other request of the show until its lock timeout.
/// One at a time measured faster for holds on distinct seats, three or four slower
/// (docs/bench.md).
pub const RUNNING_PER_SHOW: usize = 2;

/// Most requests in one group.
pub const MAX_GROUP: usize = 256;

/// Most weight (seats, for holds), over all its requests, in one group.
const MAX_GROUP_WEIGHT: usize = 10_000;

/// A request that can be made in a group: its weight counts towards [`MAX_GROUP_WEIGHT`].
pub(crate) trait Grouped: Sized {
    /// What a request made answers.
    type Made;
    fn weight(&self) -> usize {
        1
    }
    /// Makes `requests` of show `show_id`, two or more, as a group and answers each, in
    /// order ([`Answer::Alone`] for one the group leaves to its caller).
    fn make(core: &SeatCore, show_id: &str, requests: &[&Self]) -> Vec<Answer<Self::Made>>;
    /// Makes this request alone: a group of one, one made while the core does not group
    /// requests, or one that its group left to its caller.
    fn alone(&self, core: &SeatCore, show_id: &str) -> Result<Self::Made>;
}

/// A group's answer to one of its requests.
pub(crate) enum Answer<A> {
    /// Made or refused in the group.
    Made(Result<A>),
    /// Left to its caller, to make alone on its own thread and connection once the group is
    /// done (a request that may wait for a lock another transaction holds): it never holds
    /// up the group's other requests, nor a group's room in its show's queue.
    Alone,
}

impl<A> Answer<A> {
    /// The answer, the request made by `alone` when the group left it.
    pub(crate) fn or_alone(self, alone: impl FnOnce() -> Result<A>) -> Result<A> {
        match self {
            Answer::Made(answer) => answer,
            Answer::Alone => alone(),
        }
    }
}

/// A request in a show's queue, and its answer once its group is done.
struct Ticket<R, A> {
    request: R,
    /// The caller's deadline: its group gives up waiting at the earliest of its requests'.
    deadline: Option<std::time::Instant>,
    answer: Mutex<Option<Answer<A>>>,
    /// Signalled (under the lane's lock) when its answer is in, or when it heads the queue
    /// and there is room for a group: each waiter is woken for its own reasons only.
    ready: Condvar,
}

struct LaneState<R, A> {
    queue: Vec<Arc<Ticket<R, A>>>,
    running: usize,
}

/// One show's queue.
struct Lane<R, A> {
    state: Mutex<LaneState<R, A>>,
}

impl<R, A> Default for Lane<R, A> {
    fn default() -> Self {
        Lane { state: Mutex::new(LaneState { queue: Vec::new(), running: 0 }) }
    }
}

impl<R, A> LaneState<R, A> {
    /// Wakes the queue's first ticket when there is room for a group: it makes the next one.
    fn wake_next(&self) {
        if self.running < RUNNING_PER_SHOW {
            if let Some(first) = self.queue.first() {
                first.ready.notify_one();
            }
        }
    }
}

/// A process's queues of one kind of request, by show.
type Lanes<R, A> = Mutex<HashMap<String, Arc<Lane<R, A>>>>;

/// The queues of a process for one kind of request, by show, and how many requests each
/// group had. A child process after `fork()` starts with no queues: the groups its
/// parent's threads were making are not its own.
pub(crate) struct Queues<R, A> {
    lanes: PerProcess<Lanes<R, A>>,
    sizes: GroupSizes,
}

impl<R, A> Default for Queues<R, A> {
    fn default() -> Self {
        Queues { lanes: PerProcess::default(), sizes: GroupSizes::default() }
    }
}

/// How many groups had 1, 2-3, 4-7, ... requests: bucket `i` counts groups of `2^i` to
/// `2^(i+1) - 1` requests (the last bucket, 256 and more).
#[derive(Default)]
pub(crate) struct GroupSizes([std::sync::atomic::AtomicU64; GROUP_SIZE_BUCKETS]);

/// Buckets of [`crate::Stats::hold_groups`]: groups of 1, 2-3, 4-7, ..., 256 and more.
pub const GROUP_SIZE_BUCKETS: usize = 9;

impl GroupSizes {
    pub(crate) fn count(&self, requests: usize) {
        let bucket = (usize::BITS - 1 - requests.max(1).leading_zeros()) as usize;
        self.0[bucket.min(GROUP_SIZE_BUCKETS - 1)].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> [u64; GROUP_SIZE_BUCKETS] {
        std::array::from_fn(|i| self.0[i].load(std::sync::atomic::Ordering::Relaxed))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<R: Grouped<Made = A>, A> Queues<R, A> {
    /// How many groups had 1, 2-3, 4-7, ... requests (see [`GROUP_SIZE_BUCKETS`]).
    pub(crate) fn sizes(&self) -> &GroupSizes {
        &self.sizes
    }

    /// How many requests of the show wait in its queue.
    #[cfg(feature = "test-support")]
    pub(crate) fn queued(&self, show_id: &str) -> usize {
        let lanes = self.lanes.get();
        let lanes = lock(&lanes);
        lanes.get(show_id).map_or(0, |lane| lock(&lane.state).queue.len())
    }

    fn lane(&self, show_id: &str) -> Arc<Lane<R, A>> {
        let lanes = self.lanes.get();
        let mut lanes = lock(&lanes);
        if let Some(lane) = lanes.get(show_id) {
            return Arc::clone(lane);
        }
        // Forget the queues of shows nobody is using.
        if lanes.len() >= 1024 {
            lanes.retain(|_, lane| Arc::strong_count(lane) > 1);
        }
        Arc::clone(lanes.entry(show_id.to_owned()).or_default())
    }

    /// Makes `request` as part of a group of the show's requests that arrive together
    /// when the core groups them (`group_holds`; else alone): [`make`] makes a group (with
    /// a handle cut short by the group's earliest deadline; a group of one alone) and
    /// answers each of its requests, in order; a request it leaves [`Answer::Alone`] is made
    /// by [`Grouped::alone`], with the caller's own handle, once the group is done.
    pub(crate) fn run(&self, core: &SeatCore, show_id: &str, request: R) -> Result<A> {
        if !core.inner.group_holds {
            return request.alone(core, show_id);
        }
        let lane = self.lane(show_id);
        let ticket = Arc::new(Ticket {
            request,
            deadline: core.deadline,
            answer: Mutex::new(None),
            ready: Condvar::new(),
        });
        let mut state = lock(&lane.state);
        state.queue.push(Arc::clone(&ticket));
        loop {
            let answered = lock(&ticket.answer).take();
            if let Some(answer) = answered {
                drop(state);
                return answer.or_alone(|| ticket.request.alone(core, show_id));
            }
            let queued = state.queue.iter().any(|t| Arc::ptr_eq(t, &ticket));
            let now = std::time::Instant::now();
            let passed = |t: &Ticket<R, A>| t.deadline.is_some_and(|d| d <= now);
            if queued && state.running < RUNNING_PER_SHOW && !passed(&ticket) {
                // Room for a group: this caller makes one of everything queued. A request
                // whose deadline passed while it waited is answered so at once: in the
                // group, it would cut the group's wait for a connection short for all.
                state.queue.retain(|t| {
                    if passed(t) {
                        *lock(&t.answer) = Some(Answer::Made(Err(deadline_passed())));
                        t.ready.notify_one();
                    }
                    !passed(t)
                });
                let group = take_group(&mut state.queue);
                state.running += 1;
                // What the group left (past its size) goes next, if there is room.
                state.wake_next();
                drop(state);
                self.sizes.count(group.len());
                let finished = Finished { lane: &lane, group: &group };
                let requests: Vec<&R> = group.iter().map(|t| &t.request).collect();
                let answers = match group.iter().filter_map(|t| t.deadline).min() {
                    Some(deadline) => make(&core.until(deadline), show_id, &requests),
                    None => make(core, show_id, &requests),
                };
                for (ticket, answer) in group.iter().zip(answers) {
                    *lock(&ticket.answer) = Some(answer);
                }
                drop(finished);
                state = lock(&lane.state);
                continue;
            }
            if queued {
                if let Some(deadline) = core.deadline {
                    // Not taken into a group yet: give up at the deadline.
                    let left = deadline.saturating_duration_since(now);
                    if left.is_zero() {
                        state.queue.retain(|t| !Arc::ptr_eq(t, &ticket));
                        // It may have been woken to make the next group: pass that on.
                        state.wake_next();
                        return Err(deadline_passed());
                    }
                    state = ticket.ready.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
                    continue;
                }
            }
            state = ticket.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Makes `requests` of show `show_id` and answers each, in order: one alone
/// ([`Grouped::alone`]), two or more as a group ([`Grouped::make`]).
fn make<R: Grouped>(core: &SeatCore, show_id: &str, requests: &[&R]) -> Vec<Answer<R::Made>> {
    match requests {
        [] => Vec::new(),
        [one] => vec![Answer::Made(one.alone(core, show_id))],
        _ => R::make(core, show_id, requests),
    }
}

/// The answers, in order, of `requests` of show `show_id` made by one call of
/// [`make`], those it left alone made one after another, in order.
pub(crate) fn in_order<R: Grouped>(core: &SeatCore, show_id: &str, requests: &[&R]) -> Vec<Result<R::Made>> {
    let answers = make(core, show_id, requests);
    answers.into_iter().zip(requests).map(|(a, r)| a.or_alone(|| r.alone(core, show_id))).collect()
}

/// The answers, in order, to requests checked one by one: a request that failed its check
/// gets its own error; the others are made together by one call of `make` (not called when
/// there are none), which answers each of them, in order.
pub(crate) fn together<R, A>(
    checked: Vec<Result<R>>,
    make: impl FnOnce(&[&R]) -> Vec<Result<A>>,
) -> Vec<Result<A>> {
    let mut made = {
        let valid: Vec<&R> = checked.iter().filter_map(|r| r.as_ref().ok()).collect();
        if valid.is_empty() {
            Vec::new()
        } else {
            make(&valid)
        }
    }
    .into_iter();
    checked.into_iter().map(|r| r.and_then(|_| made.next().unwrap_or(Err(Error::Busy(None))))).collect()
}

/// The answer of a request whose deadline passed before it was made.
fn deadline_passed() -> Error {
    Error::Unavailable("the request's deadline passed".into())
}

/// Takes the queue's first requests, up to [`MAX_GROUP`] requests and [`MAX_GROUP_WEIGHT`].
fn take_group<R: Grouped, A>(queue: &mut Vec<Arc<Ticket<R, A>>>) -> Vec<Arc<Ticket<R, A>>> {
    let mut weight = 0;
    let mut n = 0;
    for t in queue.iter() {
        let w = t.request.weight();
        if n == MAX_GROUP || (n > 0 && weight + w > MAX_GROUP_WEIGHT) {
            break;
        }
        weight += w;
        n += 1;
    }
    queue.drain(..n).collect()
}

/// Ends a group however it ends (a panic included): every ticket has an answer, the group's
/// room is free, its callers are woken, and so is the queue's first ticket.
struct Finished<'a, R, A> {
    lane: &'a Lane<R, A>,
    group: &'a [Arc<Ticket<R, A>>],
}

impl<R, A> Drop for Finished<'_, R, A> {
    fn drop(&mut self) {
        for t in self.group {
            let mut answer = lock(&t.answer);
            if answer.is_none() {
                *answer = Some(Answer::Made(Err(Error::Busy(None))));
            }
        }
        let mut state = lock(&self.lane.state);
        state.running -= 1;
        for t in self.group {
            t.ready.notify_one();
        }
        state.wake_next();
    }
}
