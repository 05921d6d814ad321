-- seatcore schema, version 3: the hold lifecycle (extend a hold, release part of it,
-- cancel a booking).
--
-- A cancelled booking keeps its row, marked with the moment it was cancelled: box offices
-- need the history. Its seats carry it no more (their booking_id is NULL again), so it
-- owns no seat; booking its hold again is refused (the booking was cancelled), never
-- answered with the seats. Every other rule of version 1 stands: a booking in force is
-- one whose cancelled_at is NULL, and the seats it lists carry it.

ALTER TABLE bookings ADD COLUMN cancelled_at timestamptz,
    ADD CHECK (cancelled_at IS NULL OR cancelled_at >= booked_at);

-- The functions this version made or changed stand, each as it is now, in
-- migrations/functions/ (seatcore/src/migrate.rs applies a function whenever its file changes).
