-- One seat released from a live hold that keeps others (see `RELEASE_ONE_LIVE_SQL` in
-- seatcore/src/ops/release_seats.rs for when that is safe): the seats the hold keeps, or
-- NULL (nothing written) when the request is not such a request. A seat that does not carry
-- the hold ends the call with SQLSTATE SC001 (`seatcore_assert`), nothing written.
CREATE OR REPLACE FUNCTION seatcore_release_one_live(p_show text, p_hold uuid, p_seats text[])
RETURNS text[]
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    v_kept text[];
BEGIN
    WITH seat AS MATERIALIZED (
        SELECT seat_no FROM seats WHERE show_id = p_show AND seat_id = p_seats[1]
    ), kept AS (
        UPDATE holds h
        SET seat_nos = array_remove(h.seat_nos, s.seat_no), seat_ids = array_remove(h.seat_ids, p_seats[1])
        FROM seat s
        WHERE h.hold_id = p_hold AND h.show_id = p_show AND s.seat_no = ANY (h.seat_nos)
          AND cardinality(h.seat_nos) > 1
          -- IS TRUE: a form no index serves, so the hold is found by its id even when the
          -- statistics of expiries lag behind the clock (the expiry index would read every
          -- live hold).
          AND (h.expires_at > now() + nullif(current_setting('statement_timeout'), '0')::interval + interval '1 second') IS TRUE
        RETURNING h.hold_id, h.seat_ids
    ), freed AS (
        UPDATE seats SET hold_id = NULL, hold_expires_at = NULL
        FROM seat s, kept k
        WHERE seats.show_id = p_show AND seats.seat_no = s.seat_no AND seats.hold_id = k.hold_id
          AND seats.booking_id IS NULL
        RETURNING 1
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
        SELECT seatcore_change_id(0), 'released', p_show, p_seats, hold_id FROM kept
    )
    SELECT seat_ids INTO v_kept FROM kept
    WHERE seatcore_assert((SELECT count(*) FROM freed) = 1, 'a released seat did not carry its hold');
    RETURN v_kept;
END
$$;
