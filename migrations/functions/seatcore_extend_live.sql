-- A live hold extended (see `EXTEND_LIVE_SQL` in seatcore/src/ops/extend.rs for when that is
-- safe): the hold's seat ids and new expiry, or no row (nothing written) when it is not such
-- a hold. Seats that do not all carry the hold end the call with SQLSTATE SC001 (nothing
-- written).
CREATE OR REPLACE FUNCTION seatcore_extend_live(p_show text, p_hold uuid, p_secs float8, p_life float8)
RETURNS TABLE (seat_ids text[], expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH h AS (
        UPDATE holds
        SET expires_at = least(clock_timestamp() + make_interval(secs => p_secs),
                               created_at + make_interval(secs => p_life))
        WHERE hold_id = p_hold AND show_id = p_show
          AND least(expires_at, created_at + make_interval(secs => p_life))
              > now() + nullif(current_setting('statement_timeout'), '0')::interval + interval '1 second'
        RETURNING seat_nos, seat_ids, expires_at
    ), flipped AS (
        UPDATE seats SET hold_expires_at = (SELECT expires_at FROM h)
        WHERE show_id = p_show AND seat_no = ANY ((SELECT seat_nos FROM h)::integer[]) AND hold_id = p_hold
          AND booking_id IS NULL
        RETURNING 1
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(0), 'extended', p_show, seat_ids, p_hold, expires_at FROM h
    )
    SELECT h.seat_ids, h.expires_at FROM h
    WHERE seatcore_assert((SELECT count(*) FROM flipped) = cardinality(h.seat_nos),
                          'an extended hold''s seats do not all carry it');
END
$$;
