-- A hold of several seats: lock those that look free, in seat-map order, keep those still
-- free once locked; if that is every asked seat, record the hold and flip them. The hold's
-- expiry, or NULL (nothing written).
CREATE OR REPLACE FUNCTION seatcore_hold_many(p_show text, p_seats text[], p_hold uuid, p_secs float8, p_key text)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    v_expires timestamptz;
BEGIN
    WITH locked AS MATERIALIZED (
        SELECT seat_no FROM seats
        WHERE show_id = p_show AND seat_id = ANY (p_seats)
          AND booking_id IS NULL AND block_reason IS NULL
          AND (hold_expires_at IS NULL OR hold_expires_at <= now())
        ORDER BY seat_no
        FOR UPDATE
    ), new_hold AS (
        INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at, request_key)
        SELECT p_hold, p_show, array_agg(seat_no ORDER BY seat_no), p_seats,
               now() + make_interval(secs => p_secs), p_key
        FROM locked
        HAVING count(*) = cardinality(p_seats)
        RETURNING hold_id, expires_at
    ), flipped AS (
        UPDATE seats s
        SET hold_id = h.hold_id, hold_expires_at = h.expires_at
        FROM new_hold h, locked l
        WHERE s.show_id = p_show AND s.seat_no = l.seat_no
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(0), 'held', p_show, p_seats, hold_id, expires_at FROM new_hold
    )
    SELECT expires_at INTO v_expires FROM new_hold;
    RETURN v_expires;
END
$$;
