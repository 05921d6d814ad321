//! The change log in Python: `Change` (one record), `ChangePage` (a page of a show's
//! history) and `ChangeStream` (an iterator of a show's changes, built on the core's
//! `Watch`), with the arguments of `SeatCore.history` and `SeatCore.changes`.
//!
//! A stream waits detached from the interpreter, in slices of [`SLICE`]: between two slices
//! it runs the interpreter's pending signal handlers, so `KeyboardInterrupt` (or any
//! exception a handler raises) ends a wait within a slice.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, TryLockError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyIterator;
use seatcore::{HistoryQuery, Uuid, Watch};

use crate::args::{Int, SeatId, ShowId};
use crate::core::SeatCore;
use crate::error;
use crate::results::{result_methods, ReprField, Tuple};

/// Longest a stream waits detached before it looks at the interpreter's signals.
pub const SLICE: Duration = Duration::from_millis(200);

/// One record of a show's change log: what happened to which seats, and when.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct Change(pub seatcore::Change);

result_methods! {
    Change, hash = |c| c.id;
    getters {
        /// The record's id; ids grow. Pass it as `after` to read or follow on from here.
        id -> i64 = |c| c.id;
        /// When the change was committed, an aware UTC datetime (the database's clock).
        at -> DateTime<Utc> = |c| c.at;
        /// What happened: `"initialized"`, `"held"`, `"extended"`, `"released"`, `"expired"`,
        /// `"booked"`, `"cancelled"`, `"blocked"`, `"unblocked"` or `"reset"`.
        kind -> &'static str = |c| c.kind.as_str();
        /// The show the seats belong to.
        show_id -> &str = |c| &c.show_id;
        /// The seats the change is about.
        seat_ids -> Tuple<&[String]> = |c| Tuple(&c.seat_ids);
        /// The hold the change is about, or None.
        hold_id -> Option<Uuid> = |c| c.hold_id;
        /// The booking the change is about, or None.
        booking_id -> Option<Uuid> = |c| c.booking_id;
        /// When the hold ends (`held`, `extended`) or ended (`expired`), or None.
        expires_at -> Option<DateTime<Utc>> = |c| c.expires_at;
    }
    /// The record as the REST contract's JSON object: `{"id", "at", "kind", "show_id",
    /// "seat_ids"}` plus `"hold_id"`, `"booking_id"` and `"expires_at"` where they apply.
    to_dict;
    repr(id, kind, show_id, seat_ids, at, hold_id, booking_id, expires_at);
    methods {
        /// The record as one server-sent event of `GET /shows/<id>/events`, byte for byte what
        /// `seatcore-server` sends: `id:`, `event:` (the kind) and `data:` (`to_dict()` as JSON)
        /// lines, then a blank line.
        fn to_event(&self) -> String {
            seatcore::rest::event(&self.0)
        }
    }
}

/// A page of a show's history, oldest first, and where the next page starts.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct ChangePage(pub seatcore::ChangePage);

result_methods! {
    ChangePage;
    getters {
        /// The changes, oldest first.
        changes -> Tuple<Vec<Change>> = |p| Tuple(p.changes.iter().cloned().map(Change).collect());
        /// The `after` of the next page: every record up to it was returned (or filtered out),
        /// now and for good. Equal to `after` when the page is empty.
        next -> i64 = |p| p.next;
    }
    /// The document of `GET /shows/<id>/history`: `{"changes": [...], "next": id}`.
    to_dict;
    repr(changes, next);
    methods {
        fn __len__(&self) -> usize {
            self.0.changes.len()
        }

        fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
            self.changes().into_pyobject(py)?.as_any().try_iter()
        }
    }
}

/// A page's changes in its repr: how many.
impl ReprField for Tuple<Vec<Change>> {
    fn repr_field(&self) -> Option<String> {
        Some(format!("<{} changes>", self.0.len()))
    }
}

/// The history query of the arguments; their values are left to the core's checks.
pub fn query(after: Int, seat_id: Option<SeatId>, limit: Int) -> HistoryQuery {
    HistoryQuery {
        after: after.0,
        seat_id: seat_id.map(|s| s.0),
        // Beyond u32: the core's range check refuses it as it refuses 0.
        limit: u32::try_from(limit.0).unwrap_or(0),
    }
}

/// The `timeout` argument of a stream: seconds, 0 or more, or None (no timeout).
pub fn timeout(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout
        .map(|t| {
            seatcore::seconds("timeout", t).map_err(|_| {
                PyValueError::new_err(format!("timeout must be a number of seconds, 0 or more, not {t}"))
            })
        })
        .transpose()
}

/// `SeatCore.changes`: a stream of `show_id`'s changes after `after` (from now with None).
pub fn stream(
    core: &SeatCore,
    py: Python<'_>,
    show_id: ShowId,
    after: Option<Int>,
    timeout: Option<f64>,
) -> PyResult<ChangeStream> {
    let timeout = self::timeout(timeout)?;
    let watch = core.run(py, |c| c.watch(&show_id, after.map(|a| a.0)))?;
    Ok(ChangeStream::new(show_id.0, timeout, watch))
}

/// An iterator of one show's changes, in id order, each once: the changes after its
/// starting point, then each new one as it is committed (by any process). Made by
/// `SeatCore.changes(show_id, after=..., timeout=...)`.
///
/// It waits for the next change with the GIL released. Without `timeout` it waits for as
/// long as it takes; with one, the iteration ends when no change came for `timeout`
/// seconds (iterating again goes on from the same place). Signals are handled while it
/// waits: Ctrl-C raises `KeyboardInterrupt` from the wait, and the stream can go on.
///
/// It holds a database connection of its own (a `LISTEN`); `close()` (or leaving a `with`
/// block, or dropping the stream) closes it, after which iteration ends at once. One thread
/// iterates a stream at a time; `close()` may come from any thread.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct ChangeStream {
    show_id: String,
    timeout: Option<Duration>,
    /// The id of the last change returned (or the starting point).
    position: AtomicI64,
    /// Set by `close()` while another thread waits: that thread closes the watch.
    closing: AtomicBool,
    /// None once closed.
    watch: Mutex<Option<Watch>>,
}

impl ChangeStream {
    /// A stream of `show_id` on an open watch.
    pub fn new(show_id: String, timeout: Option<Duration>, watch: Watch) -> ChangeStream {
        ChangeStream {
            show_id,
            timeout,
            position: AtomicI64::new(watch.position()),
            closing: AtomicBool::new(false),
            watch: Mutex::new(Some(watch)),
        }
    }

    /// Closes the watch (its connection) now.
    fn shut(&self, watch: &mut Option<Watch>) {
        if let Some(w) = watch.take() {
            self.position.store(w.position(), Ordering::Release);
        }
    }
}

closed_by_with!(ChangeStream, close, "Closes the stream on leaving a `with` block.");

#[pymethods]
impl ChangeStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next change; waits for one (see the class). `StopIteration` once closed, or when
    /// `timeout` passed without a change.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Change>> {
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let mut guard = match self.watch.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                return Err(PyRuntimeError::new_err("another thread is iterating this change stream"))
            }
        };
        loop {
            if self.closing.load(Ordering::Acquire) {
                self.shut(&mut guard);
            }
            let Some(watch) = guard.as_mut() else { return Ok(None) };
            let slice = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()).min(SLICE),
                None => SLICE,
            };
            let got = py.detach(|| watch.next(slice));
            self.position.store(watch.position(), Ordering::Release);
            match got {
                Ok(Some(change)) => return Ok(Some(Change(change))),
                Ok(None) => {}
                Err(e) => return Err(error::to_py(py, e)),
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// Closes the stream's database connection; iteration ends. Safe to call twice, and
    /// from another thread while one waits (the wait then ends within a fraction of a
    /// second).
    fn close(&self, py: Python<'_>) {
        self.closing.store(true, Ordering::Release);
        let watch = match self.watch.try_lock() {
            Ok(mut guard) => guard.take(),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().take(),
            Err(TryLockError::WouldBlock) => None, // the iterating thread closes it
        };
        if let Some(watch) = watch {
            self.position.store(watch.position(), Ordering::Release);
            py.detach(move || drop(watch));
        }
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// The id of the last change returned (or the starting point): pass it as `after` to
    /// `SeatCore.changes` or `SeatCore.history` to go on from here.
    #[getter]
    fn position(&self) -> i64 {
        self.position.load(Ordering::Acquire)
    }

    /// The show watched.
    #[getter]
    fn show_id(&self) -> &str {
        &self.show_id
    }

    fn __repr__(&self) -> String {
        format!(
            "<seatcore.ChangeStream show_id={:?} position={}{}>",
            self.show_id,
            self.position(),
            if self.closed() { " closed" } else { "" }
        )
    }
}
