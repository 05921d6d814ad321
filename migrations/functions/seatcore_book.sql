-- Booking a hold (seatcore/src/ops/book.rs): lock the hold, lock its seats in seat-map
-- order, check they still carry it, then write the booking, flip the seats, retire the hold
-- and record the change. No row when the show has no such hold; else whether the hold had
-- expired, whether its seats were intact, and the booking's seats and time when it was made.
--
-- The hold is judged by `clock_timestamp()` once its row is locked, not by `now()` (the
-- start of the transaction, before any wait for the lock): a booking that waited for the
-- hold's row (locked by an extension, a partial release, another booking) past the hold's
-- expiry is refused as `hold expired`. So is one whose seats went elsewhere after the
-- expiry (judged by the clock at the verdict when its seats no longer carry it).
CREATE OR REPLACE FUNCTION seatcore_book(p_show text, p_hold uuid)
RETURNS TABLE (expired boolean, intact boolean, seat_ids text[], booked_at timestamptz)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH h AS MATERIALIZED (
        SELECT holds.hold_id, holds.seat_nos, holds.seat_ids, holds.expires_at
        FROM holds
        WHERE holds.hold_id = p_hold AND holds.show_id = p_show
        FOR UPDATE
    ), judged AS MATERIALIZED (
        SELECT h.*, h.expires_at <= clock_timestamp() AS expired FROM h
    ), locked AS MATERIALIZED (
        SELECT s.seat_no, s.hold_id, s.booking_id
        FROM seats s JOIN judged j ON s.seat_no = ANY (j.seat_nos)
        WHERE s.show_id = p_show AND NOT j.expired
        ORDER BY s.seat_no
        FOR UPDATE OF s
    ), verdict AS MATERIALIZED (
        SELECT j.hold_id, j.seat_nos, j.seat_ids, j.expires_at, j.expired,
               (SELECT count(*) FROM locked l
                WHERE l.hold_id = j.hold_id AND l.booking_id IS NULL) = cardinality(j.seat_nos) AS intact
        FROM judged j
    ), booking AS (
        INSERT INTO bookings (booking_id, show_id, seat_nos, seat_ids, booked_at)
        SELECT v.hold_id, p_show, v.seat_nos, v.seat_ids, now()
        FROM verdict v
        WHERE v.intact AND NOT v.expired
        RETURNING bookings.booking_id, bookings.seat_ids, bookings.booked_at
    ), flipped AS (
        UPDATE seats s
        SET hold_id = NULL, hold_expires_at = NULL, booking_id = b.booking_id
        FROM booking b, locked l
        WHERE s.show_id = p_show AND s.seat_no = l.seat_no
    ), spent AS (
        DELETE FROM holds WHERE holds.hold_id IN (SELECT b.booking_id FROM booking b)
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, booking_id)
        SELECT seatcore_change_id(0), 'booked', p_show, b.seat_ids, b.booking_id, b.booking_id
        FROM booking b
    )
    SELECT v.expired OR (NOT v.intact AND v.expires_at <= clock_timestamp()), v.intact,
           b.seat_ids, b.booked_at
    FROM verdict v LEFT JOIN booking b ON true;
END
$$;
