-- seatcore schema, version 14: a show's seats written without a trigger call per seat.
--
-- A new show's seats are written by one `COPY` (seatcore/src/ops/map.rs). The foreign key
-- from seats.booking_id to bookings queued a check for every inserted seat, though a new
-- seat never carries a booking: PostgreSQL runs the check of an inserted row even when its
-- key is NULL (it opens bookings, locks it and fetches the new row before it looks at the
-- key). That was a ninth of the database's time in a 200,000-seat initialize.
--
-- The key gives way to two triggers that keep its promise, a seat's booking exists, and
-- run only where a booking is concerned: one when a seat is given a booking (booking a
-- hold: once per booked seat, as the key's check was), whose condition keeps the check out
-- of the event queue for every other row; one when a booking is deleted (a reset) or its
-- id changed. Like the key's checks they run at the end of the statement, so a statement
-- that writes a booking and its seats together (booking a hold, a reset) is judged on the
-- result; the seat's check locks the booking FOR KEY SHARE as the key did, so a booking
-- cannot be deleted under a seat being given it. The error is the key's
-- (foreign_key_violation).
ALTER TABLE seats DROP CONSTRAINT IF EXISTS seats_booking_id_fkey;

CREATE FUNCTION seatcore_seat_booking_exists() RETURNS trigger
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM 1 FROM bookings WHERE booking_id = NEW.booking_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('seat %s of show %s is booked by %s, which is no booking',
                             NEW.seat_id, NEW.show_id, NEW.booking_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER seats_booking_exists
AFTER INSERT OR UPDATE OF booking_id ON seats
FOR EACH ROW WHEN (NEW.booking_id IS NOT NULL)
EXECUTE FUNCTION seatcore_seat_booking_exists();

-- Finds the seats by the partial index seats_booking_id (version 1).
CREATE FUNCTION seatcore_booking_unreferenced() RETURNS trigger
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.booking_id = OLD.booking_id THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM seats WHERE booking_id = OLD.booking_id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('booking %s is still the booking of seats', OLD.booking_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER bookings_unreferenced
AFTER DELETE OR UPDATE OF booking_id ON bookings
FOR EACH ROW
EXECUTE FUNCTION seatcore_booking_unreferenced();

-- The `initialized` change lists every seat of the show: 2.4 MB of ids for 200,000 seats,
-- compressed when it is stored. lz4 compresses it several times faster than the default
-- (pglz), for a few percent more bytes. A PostgreSQL built without lz4 keeps the default.
DO $$
BEGIN
    ALTER TABLE changes ALTER COLUMN seat_ids SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    NULL;
END
$$;
