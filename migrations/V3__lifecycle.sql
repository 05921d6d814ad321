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

-- Ends the calling statement with an error (SQLSTATE SC001) unless `ok`, rolling back all
-- it wrote: the assertion of a statement that checks what it changed before it commits.
CREATE FUNCTION seatcore_assert(ok boolean, message text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION USING ERRCODE = 'SC001', MESSAGE = message;
    END IF;
    RETURN true;
END
$$;
