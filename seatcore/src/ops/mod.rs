//! The seat operations. Each is one short transaction, usually one statement and one round
//! trip, written as SQL that reads top to bottom: lock, check, change, return.
//!
//! Locking rules, which together rule out deadlocks between seatcore's own statements:
//! - seat rows are always locked with an explicit `ORDER BY show_id, seat_no ... FOR UPDATE`
//!   before they are updated, except by a one-seat hold, which takes a single row lock and
//!   so can never close a cycle; by a statement that changes one seat of a hold whose row
//!   it has locked before (a release of one seat): that single seat lock, taken last,
//!   cannot close one either; and by an extension of a hold that stays live past the
//!   statement, whose seats no other statement may change meanwhile (see below and
//!   `extend`);
//! - a hold locks only seats that look free in its snapshot: refusals never wait; a group of
//!   holds locks all its seats in one such statement, passing over seats another
//!   transaction has locked (it never waits for a lock; a hold that wants such a seat is
//!   made alone after the group);
//! - a statement that locks an existing hold row does so before it locks that hold's seats;
//!   a hold statement locks seats only and inserts its new hold row. The hold lifecycle
//!   keeps the rule: an extension or a partial release locks the hold row, then its seats
//!   in seat-map order; a cancellation locks the booking row (a booking is its hold, once
//!   booked), then its seats in seat-map order. No statement locks a hold or booking row
//!   after a seat, and each locks one such row at most, but a group of extensions, of
//!   partial releases or of releases of whole holds (`lifecycle`): it locks its hold rows
//!   first, in order of hold id, then their seats, so two groups never wait for each other
//!   in a cycle;
//! - the sweep deletes expired hold rows only (`SKIP LOCKED`) and never locks a seat.
//!
//! It follows that while a hold is live, only a statement holding the hold's row lock
//! changes its seats: a hold takes only seats that look free, and everything else locks the
//! hold row first. So an extension or a partial release of a hold that stays live beyond the
//! end of the statement itself (its expiry lies past `now()` plus the statement timeout)
//! knows, once it has the hold row, that the seats still carry the hold, and changes them
//! without a separate check (`extend`, `release_seats`); closer to the expiry they lock and
//! check the seats first, as a booking does.
//!
//! Statements go through `query_typed` (the unnamed statement): one round trip, no
//! per-connection prepared-statement state, so a transaction-mode pooler (PgBouncer) works
//! without any configuration.

mod admin;
pub(crate) mod audit;
pub(crate) mod best;
mod book;
pub(crate) mod cancel;
pub(crate) mod changes;
pub(crate) mod extend;
pub(crate) mod group;
pub(crate) mod hold;
pub(crate) mod lifecycle;
pub(crate) mod map;
pub(crate) mod queue;
mod release;
pub(crate) mod release_seats;
pub(crate) mod show;
mod sweep;
