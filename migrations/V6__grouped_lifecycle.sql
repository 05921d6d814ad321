-- seatcore schema, version 6: extensions and partial releases of one show made in groups,
-- one transaction for many requests (as holds are, `seatcore_hold_group`).
--
-- Each function takes the requests of a group and makes those that are in the common case
-- of their single-request statement (`seatcore_extend_live`, `seatcore_release_one_live`):
-- a hold that stays live past the end of the call (its expiry lies beyond now() plus the
-- statement timeout, plus a second; none in a session without a statement timeout). It
-- answers one row for each request it made; the core makes every other request alone
-- afterwards, with the statements that judge the hold by the clock once its row is locked.
-- Of several requests for one hold, the first is made in the group, the others alone.
--
-- Lock order: the hold rows first, in order of hold id (one statement, `ORDER BY ... FOR
-- UPDATE`), then their seats. Two groups take hold rows in the same order and so never
-- deadlock with each other; nothing else locks a seat of a live hold without its hold row
-- but a booking of an expired hold that once had it (see `seatcore/src/ops/mod.rs`), whose
-- rare deadlock PostgreSQL reports and the core answers by making the group again.
--
-- While a hold is live, only a statement holding its row lock changes its seats, so the
-- seats of such a hold carry it. That is still checked: should a seat not, the call ends
-- with SQLSTATE SC001 (nothing written) and the core makes each request alone.
--
-- The i-th record a call writes has the transaction's i-th change id. The plans are
-- generic (`plan_cache_mode`): made once per session, not for every call's arrays, and so
-- made without the arrays' sizes and often without statistics of the columns (a new
-- show's seats are analyzed by show only). Every table is therefore reached through an
-- index condition on the arrays themselves (`hold_id = ANY (p_holds)`, `seat_no = ANY
-- (...)`), never by a join a planner could turn into a scan of a whole show.

-- Extensions: hold p_holds[i] for p_secs[i] seconds more from now (by the database's clock),
-- never past its creation plus p_life seconds. A row (i, the hold's seat ids, its new
-- expiry) for each hold extended; of requests for the same hold, the first only.
CREATE FUNCTION seatcore_extend_group(p_show text, p_holds uuid[], p_secs float8[], p_life float8)
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

-- Partial releases: request i gives up the seats p_seat_ids[k] with p_release_of[k] = i (in
-- order of i) of hold p_holds[i]; a hold that gives up every seat is deleted. A row (i, the
-- seats the hold keeps, none when it went) for each request made; of requests for the same
-- hold, the first only.
CREATE FUNCTION seatcore_release_group(p_show text, p_holds uuid[], p_release_of bigint[], p_seat_ids text[])
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
