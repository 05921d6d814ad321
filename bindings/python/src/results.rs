//! The typed, immutable results of the idiomatic API: each wraps the core's result type.
//!
//! Timestamps are aware `datetime`s in UTC; ids are `uuid.UUID`s; seat lists are tuples.
//! Each result's `to_dict()` is the core's serde shape of it (the REST contract's JSON
//! object, as plain `dict`, `list`, `str`, `int` and `bool` values).
//!
//! Each result class is a `#[pyclass]` struct wrapping the core's value; [`result_methods!`]
//! writes what they share: the `Hash`, the getters reading the wrapped value, `to_dict()`,
//! `__repr__`.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use seatcore::{iso8601, Uuid};

/// A sequence handed to Python as a tuple (the results' sequences are immutable).
pub struct Tuple<I>(pub I);

impl<'py, I, T> IntoPyObject<'py> for Tuple<I>
where
    I: IntoIterator<Item = T>,
    I::IntoIter: ExactSizeIterator,
    T: IntoPyObject<'py>,
{
    type Target = PyTuple;
    type Output = Bound<'py, PyTuple>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.0)
    }
}

/// Writes what the result classes share, for a `#[pyclass]` struct wrapping a core value:
///
/// - `Class, hash = |value| key;` (the hash clause for `#[pyclass(hash)]`): `Hash` of the key;
/// - `getters { name -> Type = |value| expression; ... }`: a read-only property each, the
///   expression reading the wrapped core value (its doc comment is the property's);
/// - `to_dict;` (optional, with its doc comment): `to_dict()`, the core's serde shape;
/// - `repr = |value| expression;` (optional): `__repr__`, the expression's `String`;
/// - `methods { ... }` (optional): the class's other methods, written out.
///
/// The getters, `to_dict()`, `__repr__` and the methods make the class's one `#[pymethods]` block.
macro_rules! result_methods {
    (
        $class:ident $(, hash = |$h:ident| $key:expr)?;
        getters {
            $( $(#[$($getter_attr:tt)*])* $getter:ident -> $ty:ty = |$v:ident| $value:expr; )*
        }
        $( $(#[$($dict_attr:tt)*])* to_dict; )?
        $(repr = |$r:ident| $repr:expr;)?
        $(methods { $($methods:tt)* })?
    ) => {
        $(
            impl std::hash::Hash for $class {
                fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                    let $h = &self.0;
                    std::hash::Hash::hash(&$key, state);
                }
            }
        )?

        #[pyo3::pymethods]
        impl $class {
            $(
                $(#[$($getter_attr)*])*
                #[getter]
                fn $getter(&self) -> $ty {
                    let $v = &self.0;
                    $value
                }
            )*

            $(
                $(#[$($dict_attr)*])*
                fn to_dict<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                    Ok(pythonize::pythonize(py, &self.0)?)
                }
            )?

            $(
                fn __repr__(&self) -> String {
                    let $r = &self.0;
                    $repr
                }
            )?

            $($($methods)*)?
        }
    };
}
pub(crate) use result_methods;

/// A granted hold: the seats are the caller's until `expires_at` (by the database's clock).
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct Hold(pub seatcore::Hold);

result_methods! {
    Hold, hash = |h| h.hold_id;
    getters {
        /// The hold's id (pass it, or its text, to `book` and `release`).
        hold_id -> Uuid = |h| h.hold_id;
        /// The show the seats belong to.
        show_id -> &str = |h| &h.show_id;
        /// The held seat ids (trimmed), in request order.
        seat_ids -> Tuple<&[String]> = |h| Tuple(&h.seat_ids);
        /// When the hold ends, an aware UTC datetime.
        expires_at -> DateTime<Utc> = |h| h.expires_at;
    }
    /// The contract's dict: `{"hold_id", "expires_at", "seat_ids"}` with text values.
    to_dict;
    repr = |h| format!(
        "Hold(hold_id='{}', show_id={:?}, seat_ids={:?}, expires_at='{}')",
        h.hold_id,
        h.show_id,
        h.seat_ids,
        iso8601(&h.expires_at)
    );
}

/// A confirmed booking. `booking_id` equals the id of the hold it came from; booking the
/// same hold again returns an equal value.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct Booking(pub seatcore::Booking);

result_methods! {
    Booking, hash = |b| b.booking_id;
    getters {
        /// The booking's id: the id of the hold it confirmed.
        booking_id -> Uuid = |b| b.booking_id;
        /// The show the seats belong to.
        show_id -> &str = |b| &b.show_id;
        /// The booked seat ids, in the order the hold asked for them.
        seat_ids -> Tuple<&[String]> = |b| Tuple(&b.seat_ids);
        /// When the first booking of the hold was made, an aware UTC datetime.
        booked_at -> DateTime<Utc> = |b| b.booked_at;
    }
    /// The contract's dict: `{"booking_id", "seat_ids", "booked_at"}` with text values.
    to_dict;
    repr = |b| format!(
        "Booking(booking_id='{}', show_id={:?}, seat_ids={:?}, booked_at='{}')",
        b.booking_id,
        b.show_id,
        b.seat_ids,
        iso8601(&b.booked_at)
    );
}

/// One seat of a status read.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct Seat(pub seatcore::Seat);

result_methods! {
    Seat, hash = |s| (&s.seat_id, &s.state);
    getters {
        /// The seat's id.
        seat_id -> &str = |s| &s.seat_id;
        /// `"available"`, `"held"` or `"booked"`.
        status -> &'static str = |s| s.state.as_str();
        /// When the seat's hold ends; set exactly when `status == "held"`.
        hold_expires_at -> Option<DateTime<Utc>> = |s| s.hold_expires_at;
    }
    repr = |s| match &s.hold_expires_at {
        Some(t) => format!(
            "Seat(seat_id={:?}, status='{}', hold_expires_at='{}')",
            s.seat_id,
            s.state.as_str(),
            iso8601(t)
        ),
        None => format!("Seat(seat_id={:?}, status='{}')", s.seat_id, s.state.as_str()),
    };
}

/// A show's status at one moment: counts, every seat in seat-map order, and whether the
/// data satisfied the invariants.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct ShowStatus(pub seatcore::ShowStatus);

result_methods! {
    ShowStatus;
    getters {
        /// The show's id.
        show_id -> &str = |s| &s.show_id;
        /// Seats on the seat map.
        total_seats -> u64 = |s| s.counts.total;
        /// Seats neither held, booked nor blocked.
        available_seats -> u64 = |s| s.counts.available;
        /// Seats under a live hold.
        held_seats -> u64 = |s| s.counts.held;
        /// Seats booked.
        booked_seats -> u64 = |s| s.counts.booked;
        /// Seats blocked by the house (neither available nor holdable).
        blocked_seats -> u64 = |s| s.counts.blocked;
        /// Computed from the rows read: every seat present once, counts adding up, no seat
        /// both held and booked, every held seat backed by its live hold.
        invariants_valid -> bool = |s| s.counts.invariants_valid;
        /// Every change with an id up to this is in the read (later ones may be too): follow
        /// the change stream from here to miss nothing.
        version -> i64 = |s| s.counts.version;
        /// Set when a standby served the read (`read_url`): the commit time of the last
        /// transaction it had replayed, an aware UTC datetime. `None` from the primary.
        replayed_at -> Option<DateTime<Utc>> = |s| s.counts.replayed_at;
        /// Every seat, in seat-map order.
        seats -> Tuple<Vec<Seat>> = |s| Tuple(s.seats.iter().cloned().map(Seat).collect());
    }
    /// The document of `GET /shows/<id>/seats`: `seats` as a list of `{"seat_id",
    /// "status"}` dicts (with `"hold_expires_at"` only on held seats), the counts,
    /// `invariants_valid`, `version`, and `replayed_at` when a standby served the read.
    to_dict;
    repr = |s| format!(
        "ShowStatus(show_id={:?}, total_seats={}, available_seats={}, held_seats={}, booked_seats={}, invariants_valid={})",
        s.show_id,
        s.counts.total,
        s.counts.available,
        s.counts.held,
        s.counts.booked,
        python_bool(s.counts.invariants_valid)
    );
    methods {
        fn __len__(&self) -> usize {
            self.0.seats.len()
        }
    }
}

/// What an administrative reset cleared.
#[pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq, Eq)]
pub struct ResetCounts(pub seatcore::ResetCounts);

result_methods! {
    ResetCounts, hash = |c| (c.holds_cleared, c.bookings_cleared, c.seats_reset);
    getters {
        /// Holds deleted.
        holds_cleared -> u64 = |c| c.holds_cleared;
        /// Bookings deleted.
        bookings_cleared -> u64 = |c| c.bookings_cleared;
        /// Seats that were held or booked and are available now.
        seats_reset -> u64 = |c| c.seats_reset;
    }
    /// The contract's dict: `{"holds_cleared", "bookings_cleared", "seats_reset"}`.
    to_dict;
    repr = |c| format!(
        "ResetCounts(holds_cleared={}, bookings_cleared={}, seats_reset={})",
        c.holds_cleared, c.bookings_cleared, c.seats_reset
    );
}

/// What the invariant audit found: every promise the rows must keep, checked in one
/// read-only statement. `ok` exactly when `problems` is empty.
#[pyclass(frozen, eq, module = "seatcore._seatcore")]
#[derive(PartialEq, Eq)]
pub struct Audit(pub seatcore::Audit);

result_methods! {
    Audit;
    getters {
        /// Whether every invariant holds.
        ok -> bool = |a| a.ok;
        /// Shows looked at (0 for an unknown show).
        shows -> u64 = |a| a.shows;
        /// Seats looked at.
        seats -> u64 = |a| a.seats;
        /// Seats held by a live hold at the audit's moment.
        held -> u64 = |a| a.held;
        /// Seats booked at the audit's moment.
        booked -> u64 = |a| a.booked;
        /// How many problems were found in all.
        problem_count -> u64 = |a| a.problem_count;
        /// The first problems found (at most `MAX_REPORTED_PROBLEMS`), each a sentence naming
        /// the show, seat and hold or booking.
        problems -> Tuple<&[String]> = |a| Tuple(&a.problems);
    }
    /// The audit document (as `GET /audit` answers it).
    to_dict;
    repr = |a| format!(
        "Audit(ok={}, shows={}, seats={}, held={}, booked={}, problem_count={})",
        python_bool(a.ok),
        a.shows,
        a.seats,
        a.held,
        a.booked,
        a.problem_count
    );
}

/// Counters since the handle was opened (or last disposed), and the pool's state.
#[pyclass(frozen, module = "seatcore._seatcore")]
pub struct Stats(pub seatcore::Stats);

result_methods! {
    Stats;
    getters {
        /// Holds granted.
        holds_granted -> u64 = |s| s.holds_granted;
        /// Holds refused because seats were taken.
        holds_refused -> u64 = |s| s.holds_refused;
        /// First bookings made (repeats not counted).
        bookings -> u64 = |s| s.bookings;
        /// Holds released early.
        releases -> u64 = |s| s.releases;
        /// Expired holds deleted by sweeps.
        holds_expired_swept -> u64 = |s| s.holds_expired_swept;
        /// Connections open in the pool.
        pool_connections -> u32 = |s| s.pool_connections;
        /// Open connections that are idle.
        pool_idle -> u32 = |s| s.pool_idle;
        /// Most connections the pool opens.
        pool_max -> u32 = |s| s.pool_max;
        /// Groups of holds made, by size: element `i` counts groups of `2**i` to
        /// `2**(i+1) - 1` holds (1, 2-3, 4-7, ...; the last, 256 and more).
        hold_groups -> Tuple<&[u64]> = |s| Tuple(&s.hold_groups);
    }
    repr = |s| format!(
        "Stats(holds_granted={}, holds_refused={}, bookings={}, releases={}, holds_expired_swept={}, pool_connections={}, pool_idle={}, pool_max={}, hold_groups={:?})",
        s.holds_granted,
        s.holds_refused,
        s.bookings,
        s.releases,
        s.holds_expired_swept,
        s.pool_connections,
        s.pool_idle,
        s.pool_max,
        s.hold_groups
    );
}

/// One seat of a show's map (`SeatCore.seat_map`), every field settled.
#[pyclass(frozen, eq, module = "seatcore._seatcore")]
#[derive(Clone, PartialEq)]
pub struct MapSeat(pub seatcore::seat_map::MapEntry);

result_methods! {
    MapSeat;
    getters {
        /// The seat's id.
        seat_id -> &str = |s| &s.seat_id;
        /// The seat's section ("" when the map names none).
        section -> &str = |s| &s.section;
        /// The seat's row, or None for a seat in no row.
        row -> Option<&str> = |s| s.row.as_deref();
        /// The seat's place in its row (adjacent seats differ by 1), or None.
        position -> Option<u32> = |s| s.position;
        /// The seat's category ("" when the map names none).
        category -> &str = |s| &s.category;
        /// Whether the seat is accessible.
        accessible -> bool = |s| s.accessible;
        /// The seat's rank: lower is better.
        rank -> f64 = |s| s.rank;
    }
    /// The contract's dict: `{"seat_id", "section", "row", "position", "category",
    /// "accessible", "rank"}`.
    to_dict;
    repr = |s| format!(
        "MapSeat(seat_id={:?}, section={:?}, row={}, position={}, category={:?}, accessible={}, rank={})",
        s.seat_id,
        s.section,
        s.row.as_ref().map_or("None".to_owned(), |r| format!("{r:?}")),
        s.position.map_or("None".to_owned(), |p| p.to_string()),
        s.category,
        python_bool(s.accessible),
        s.rank
    );
}

/// A `bool` as Python writes it in a repr.
fn python_bool(value: bool) -> &'static str {
    if value {
        "True"
    } else {
        "False"
    }
}
