-- A hold of one seat: flip it if it is free, record the hold and its change. The hold's
-- expiry, or NULL (nothing written) when the seat is taken, unknown, or the show unknown.
-- A seat that is taken in the statement's snapshot is never locked.
CREATE OR REPLACE FUNCTION seatcore_hold_one(
    p_show text, p_seat text, p_hold uuid, p_secs float8, p_key text, OUT v_expires timestamptz
)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    WITH flipped AS (
        UPDATE seats
        SET hold_id = p_hold, hold_expires_at = now() + make_interval(secs => p_secs)
        WHERE show_id = p_show AND seat_id = p_seat
          AND booking_id IS NULL AND block_reason IS NULL
          AND (hold_expires_at IS NULL OR hold_expires_at <= now())
        RETURNING seat_no, hold_expires_at
    ), new_hold AS (
        INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at, request_key)
        SELECT p_hold, p_show, ARRAY[seat_no], ARRAY[p_seat], hold_expires_at, p_key FROM flipped
        RETURNING expires_at
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(0), 'held', p_show, ARRAY[p_seat], p_hold, expires_at FROM new_hold
    )
    SELECT expires_at INTO v_expires FROM new_hold;
END
$$;
