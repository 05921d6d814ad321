-- Extensions: hold p_holds[i] for p_secs[i] seconds more from now (by the database's clock),
-- never past its creation plus p_life seconds. A row (i, the hold's seat ids, its new
-- expiry) for each hold extended; of requests for the same hold, the first only.
CREATE OR REPLACE FUNCTION seatcore_extend_group(p_show text, p_holds uuid[], p_secs float8[], p_life float8)
RETURNS TABLE (i integer, seat_ids text[], expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH asked AS MATERIALIZED (
        SELECT DISTINCT ON (a.hold_id) a.req::integer AS req, a.hold_id, a.secs
        FROM unnest(p_holds, p_secs) WITH ORDINALITY AS a (hold_id, secs, req)
        ORDER BY a.hold_id, a.req
    ), locked AS MATERIALIZED (
        SELECT a.req, a.hold_id, a.secs, h.created_at
        FROM asked a JOIN holds h ON h.hold_id = a.hold_id
        WHERE h.hold_id = ANY (p_holds) AND h.show_id = p_show
          -- IS TRUE: a form no index serves, so the holds are found by their ids.
          AND (least(h.expires_at, h.created_at + make_interval(secs => p_life))
               > now() + nullif(current_setting('statement_timeout'), '0')::interval + interval '1 second') IS TRUE
        ORDER BY a.hold_id
        FOR UPDATE OF h
    ), extended AS (
        UPDATE holds h
        SET expires_at = least(clock_timestamp() + make_interval(secs => l.secs),
                               l.created_at + make_interval(secs => p_life))
        FROM locked l
        WHERE h.hold_id = ANY (p_holds) AND h.hold_id = l.hold_id
        RETURNING l.req, h.hold_id, h.seat_nos, h.seat_ids, h.expires_at
    ), flipped AS (
        UPDATE seats s SET hold_expires_at = e.expires_at
        FROM extended e
        WHERE s.show_id = p_show AND s.seat_no = ANY (e.seat_nos) AND s.hold_id = e.hold_id
          AND s.booking_id IS NULL
        RETURNING 1
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(row_number() OVER (ORDER BY e.req) - 1), 'extended', p_show,
               e.seat_ids, e.hold_id, e.expires_at
        FROM extended e
    )
    SELECT e.req, e.seat_ids, e.expires_at FROM extended e
    WHERE seatcore_assert((SELECT count(*) FROM flipped) = (SELECT sum(cardinality(x.seat_nos)) FROM extended x),
                          'an extended hold''s seats do not all carry it');
END
$$;
