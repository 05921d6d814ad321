//! The seat operations. Each is one short transaction, usually one statement and one round
//! trip, written as SQL that reads top to bottom: lock, check, change, return.
//!
//! Locking rules, which together rule out deadlocks between seatcore's own statements:
//! - seat rows are always locked with an explicit `ORDER BY show_id, seat_no ... FOR UPDATE`
//!   before they are updated, except by a one-seat hold, which takes a single row lock and
//!   so can never close a cycle;
//! - a hold locks only seats that look free in its snapshot: refusals never wait;
//! - a statement that locks an existing hold row does so before it locks that hold's seats;
//!   a hold statement locks seats only and inserts its new hold row. The hold lifecycle
//!   keeps the rule: an extension or a partial release locks the hold row, then its seats
//!   in seat-map order; a cancellation locks the booking row (a booking is its hold, once
//!   booked), then its seats in seat-map order. No statement locks a hold or booking row
//!   after a seat, and each locks one such row at most;
//! - the sweep deletes expired hold rows only (`SKIP LOCKED`) and never locks a seat.
//!
//! Statements go through `query_typed` (the unnamed statement): one round trip, no
//! per-connection prepared-statement state, so a transaction-mode pooler (PgBouncer) works
//! without any configuration.

mod admin;
pub(crate) mod audit;
mod book;
pub(crate) mod cancel;
pub(crate) mod changes;
mod extend;
mod hold;
mod release;
pub(crate) mod release_seats;
mod show;
mod sweep;
