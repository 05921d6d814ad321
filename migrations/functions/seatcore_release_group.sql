-- Partial releases: request i gives up the seats p_seat_ids[k] with p_release_of[k] = i (in
-- order of i) of hold p_holds[i]; a hold that gives up every seat is deleted. A row (i, the
-- seats the hold keeps, none when it went) for each request made; of requests for the same
-- hold, the first only.
CREATE OR REPLACE FUNCTION seatcore_release_group(p_show text, p_holds uuid[], p_release_of bigint[], p_seat_ids text[])
RETURNS TABLE (i integer, kept text[])
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH asked AS MATERIALIZED (
        SELECT DISTINCT ON (p_holds[r.req]) r.req::integer AS req, p_holds[r.req] AS hold_id, r.seats, r.nos
        FROM (
            SELECT a.req, array_agg(a.seat ORDER BY a.k) AS seats,
                   array_agg(s.seat_no ORDER BY s.seat_no) FILTER (WHERE s.seat_no IS NOT NULL) AS nos
            FROM unnest(p_seat_ids, p_release_of) WITH ORDINALITY AS a (seat, req, k)
            LEFT JOIN (SELECT m.seat_id, m.seat_no FROM seats m
                       WHERE m.show_id = p_show AND m.seat_id = ANY (p_seat_ids)) s ON s.seat_id = a.seat
            GROUP BY a.req
        ) r
        WHERE cardinality(r.nos) = cardinality(r.seats)
        ORDER BY p_holds[r.req], r.req
    ), locked AS MATERIALIZED (
        SELECT a.req, a.hold_id, a.seats, a.nos, h.seat_nos, h.seat_ids
        FROM asked a JOIN holds h ON h.hold_id = a.hold_id
        WHERE h.hold_id = ANY (p_holds) AND h.show_id = p_show AND h.seat_nos @> a.nos
          -- IS TRUE: a form no index serves, so the holds are found by their ids.
          AND (h.expires_at
               > now() + nullif(current_setting('statement_timeout'), '0')::interval + interval '1 second') IS TRUE
        ORDER BY a.hold_id
        FOR UPDATE OF h
    ), kept AS (
        UPDATE holds h
        -- (one seat, the common case, without a subquery)
        SET seat_nos = CASE WHEN cardinality(l.nos) = 1 THEN array_remove(l.seat_nos, l.nos[1])
                            ELSE ARRAY(SELECT n FROM unnest(l.seat_nos) AS n WHERE n <> ALL (l.nos) ORDER BY n) END,
            seat_ids = CASE WHEN cardinality(l.seats) = 1 THEN array_remove(l.seat_ids, l.seats[1])
                            ELSE ARRAY(SELECT k.id FROM unnest(l.seat_ids) WITH ORDINALITY AS k (id, o)
                                       WHERE k.id <> ALL (l.seats) ORDER BY k.o) END
        FROM locked l
        WHERE h.hold_id = ANY (p_holds) AND h.hold_id = l.hold_id AND cardinality(l.seat_nos) > cardinality(l.nos)
        RETURNING l.req, h.seat_ids
    ), gone AS (
        DELETE FROM holds h USING locked l
        WHERE h.hold_id = ANY (p_holds) AND h.hold_id = l.hold_id AND cardinality(l.seat_nos) = cardinality(l.nos)
        RETURNING l.req
    ), freed AS (
        UPDATE seats s SET hold_id = NULL, hold_expires_at = NULL
        FROM locked l
        WHERE s.show_id = p_show AND s.seat_no = ANY (l.nos) AND s.hold_id = l.hold_id
          AND s.booking_id IS NULL
        RETURNING 1
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
        SELECT seatcore_change_id(row_number() OVER (ORDER BY l.req) - 1), 'released', p_show, l.seats, l.hold_id
        FROM locked l
    )
    SELECT d.req, d.kept
    FROM (SELECT k.req, k.seat_ids AS kept FROM kept k UNION ALL SELECT g.req, '{}'::text[] FROM gone g) d
    WHERE seatcore_assert((SELECT count(*) FROM freed) = (SELECT sum(cardinality(x.nos)) FROM locked x),
                          'a released seat did not carry its hold');
END
$$;
