//! The typed, immutable results of the idiomatic API: each wraps the core's result type.
//!
//! Timestamps are aware `datetime`s in UTC; ids are `uuid.UUID`s; seat lists are tuples.
//! Each result's `to_dict()` is the core's serde shape of it (the REST contract's JSON
//! object, as plain `dict`, `list`, `str`, `int` and `bool` values).
//!
//! Each result class is a `#[pyclass]` struct wrapping the core's value; [`result_methods!`]
//! writes what they share: the `Hash`, the getters reading the wrapped value, `to_dict()`,
//! and `__repr__` from the getters. [`seats_result!`] declares the results that are one id,
//! one show's seats and one moment (`Hold`, `Booking`, `Cancellation`) whole.

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

/// How a result's `__repr__` writes one of its properties: Python-like (`True`, numbers as
/// Python writes them, ids and times quoted, text and lists as Rust writes them, escapes
/// included). `None` leaves the property out.
pub trait ReprField {
    /// The value's text in the repr, or None to leave the property out.
    fn repr_field(&self) -> Option<String>;
}

/// [`ReprField`] for each of the types: `Some` of the text the closure writes.
macro_rules! repr_with {
    ($($ty:ty),* => |$v:ident| $text:expr) => {
        $(
            impl ReprField for $ty {
                fn repr_field(&self) -> Option<String> {
                    let $v = self;
                    Some($text)
                }
            }
        )*
    };
}

repr_with!(u32, u64, i64 => |n| n.to_string());
repr_with!(f64 => |x| format!("{x:?}")); // with its `.0`, as Python writes a float
repr_with!(&str => |s| format!("{s:?}"));
repr_with!(Uuid => |id| format!("'{id}'"));
repr_with!(DateTime<Utc> => |t| format!("'{}'", iso8601(t)));
repr_with!(bool => |b| (if *b { "True" } else { "False" }).to_owned());

impl<T: std::fmt::Debug> ReprField for Tuple<&[T]> {
    fn repr_field(&self) -> Option<String> {
        Some(format!("{:?}", self.0))
    }
}

impl<T: ReprField> ReprField for Option<T> {
    fn repr_field(&self) -> Option<String> {
        self.as_ref().and_then(T::repr_field)
    }
}

/// `Class(name=value, ...)` of the properties' [`ReprField`] texts, in the order given.
pub fn repr(class: &str, fields: &[(&str, Option<String>)]) -> String {
    let shown: Vec<String> =
        fields.iter().filter_map(|(name, text)| Some(format!("{name}={}", text.as_ref()?))).collect();
    format!("{class}({})", shown.join(", "))
}

/// Writes what the result classes share, for a `#[pyclass]` struct wrapping a core value:
///
/// - `Class, hash = |value| key;` (the hash clause for `#[pyclass(hash)]`): `Hash` of the key;
/// - `getters { name -> Type = |value| expression; ... }`: a read-only property each, the
///   expression reading the wrapped core value (its doc comment is the property's);
/// - `to_dict;` (optional, with its doc comment): `to_dict()`, the core's serde shape;
/// - `repr(name, ...);`: `__repr__`, `Class(name=value, ...)` of those properties ([`repr`]);
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
        repr($($shown:ident),*);
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

            fn __repr__(&self) -> String {
                use crate::results::ReprField;
                crate::results::repr(
                    stringify!($class),
                    &[$((stringify!($shown), self.$shown().repr_field())),*],
                )
            }

            $($($methods)*)?
        }
    };
}
pub(crate) use result_methods;

/// Declares a result about some seats of one show, under one id, at one moment: the
/// `#[pyclass]` wrapping the core's type of the same name, compared by value and hashed by
/// its id. Its read-only properties are the id (`Uuid`), `show_id`, `seat_ids` and the moment
/// (an aware UTC datetime), each but `show_id` documented where it is named; `to_dict()`
/// is the core's serde shape (the contract's JSON object), `__repr__` shows the four.
macro_rules! seats_result {
    (
        $(#[$doc:meta])*
        $class:ident;
        $(#[$id_doc:meta])* $id:ident,
        $(#[$seats_doc:meta])* seat_ids,
        $(#[$at_doc:meta])* $at:ident,
    ) => {
        $(#[$doc])*
        #[pyo3::pyclass(frozen, eq, hash, module = "seatcore._seatcore")]
        #[derive(Clone, PartialEq, Eq)]
        pub struct $class(pub seatcore::$class);

        crate::results::result_methods! {
            $class, hash = |r| r.$id;
            getters {
                $(#[$id_doc])*
                $id -> seatcore::Uuid = |r| r.$id;
                /// The show the seats belong to.
                show_id -> &str = |r| &r.show_id;
                $(#[$seats_doc])*
                seat_ids -> crate::results::Tuple<&[String]> = |r| crate::results::Tuple(&r.seat_ids);
                $(#[$at_doc])*
                $at -> chrono::DateTime<chrono::Utc> = |r| r.$at;
            }
            /// The contract's JSON object for it (the class's doc names its keys), as a dict
            /// of text values.
            to_dict;
            repr($id, show_id, seat_ids, $at);
        }
    };
}
pub(crate) use seats_result;

seats_result! {
    /// A granted hold: the seats are the caller's until `expires_at` (by the database's clock).
    /// `to_dict()`: the contract's `{"hold_id", "expires_at", "seat_ids"}`.
    Hold;
    /// The hold's id (pass it, or its text, to `book` and `release`).
    hold_id,
    /// The held seat ids (trimmed), in request order.
    seat_ids,
    /// When the hold ends, an aware UTC datetime.
    expires_at,
}

seats_result! {
    /// A confirmed booking. `booking_id` equals the id of the hold it came from; booking the
    /// same hold again returns an equal value. `to_dict()`: the contract's `{"booking_id",
    /// "seat_ids", "booked_at"}`.
    Booking;
    /// The booking's id: the id of the hold it confirmed.
    booking_id,
    /// The booked seat ids, in the order the hold asked for them.
    seat_ids,
    /// When the first booking of the hold was made, an aware UTC datetime.
    booked_at,
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
    repr(seat_id, status, hold_expires_at);
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
    repr(show_id, total_seats, available_seats, held_seats, booked_seats, invariants_valid);
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
    repr(holds_cleared, bookings_cleared, seats_reset);
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
        ok -> bool = |a| a.summary.ok;
        /// How many problems were found in all.
        problem_count -> u64 = |a| a.summary.problem_count;
        /// The first problems found (at most `MAX_REPORTED_PROBLEMS`), each a sentence naming
        /// the show, seat and hold or booking.
        problems -> Tuple<&[String]> = |a| Tuple(&a.problems);
        /// Shows looked at (0 for an unknown show).
        shows -> u64 = |a| a.summary.shows;
        /// Seats looked at.
        seats -> u64 = |a| a.summary.seats;
        /// Seats held by a live hold at the audit's moment.
        held -> u64 = |a| a.summary.held;
        /// Seats booked at the audit's moment.
        booked -> u64 = |a| a.summary.booked;
    }
    /// The audit document (as `GET /audit` answers it).
    to_dict;
    repr(ok, shows, seats, held, booked, problem_count);
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
    repr(holds_granted, holds_refused, bookings, releases, holds_expired_swept, pool_connections, pool_idle, pool_max, hold_groups);
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
    repr(seat_id, section, row, position, category, accessible, rank);
}
