-- seatcore schema, version 7: releasing whole holds (alone and grouped), and bringing a
-- process's copy of a show up to date for best-available holds, planned once per session
-- (as the functions of version 5; see there why).

-- A show's records after `p_after`, final or not, for a process's copy of the show
-- (seatcore/src/ops/best.rs): a row per record, oldest first (one row of NULL record
-- columns when there are none), each with the horizon and the database's clock. It gives
-- the calling transaction its id, so the records that transaction writes come after every
-- decision taken on what this call returned.
CREATE FUNCTION seatcore_best_refresh(p_show text, p_after bigint)
RETURNS TABLE (id bigint, at timestamptz, kind text, show_id text, seat_ids text[], hold_id uuid,
               booking_id uuid, expires_at timestamptz, change_horizon bigint, db_now timestamptz)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH horizon AS MATERIALIZED (
        SELECT seatcore_change_horizon() AS h, now() AS db_now, pg_current_xact_id() AS xid)
    SELECT c.id, c.at, c.kind, c.show_id, c.seat_ids, c.hold_id, c.booking_id, c.expires_at,
           horizon.h, horizon.db_now
    FROM horizon LEFT JOIN changes c ON c.show_id = p_show AND c.id > p_after
    ORDER BY c.id;
END
$$;

-- Whole holds of one show released together (seatcore/src/ops/lifecycle.rs): each live
-- hold of `p_holds` (of two requests for one hold, the first; the other is made alone
-- after) released as `seatcore_release` releases one: the group's hold rows locked in order
-- of hold id, then their seats in seat-map order, the seats freed, the holds deleted, a
-- `released` record each (the i-th request's with ordinal i - 1). A row (the request's
-- number, from 1) for each hold released.
CREATE FUNCTION seatcore_release_holds(p_show text, p_holds uuid[])
RETURNS TABLE (i int)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH req AS MATERIALIZED (
        SELECT DISTINCT ON (r.hold_id) r.hold_id, r.n::int AS n
        FROM unnest(p_holds) WITH ORDINALITY AS r(hold_id, n)
        ORDER BY r.hold_id, r.n
    ), h AS MATERIALIZED (
        SELECT holds.hold_id, holds.seat_nos, holds.seat_ids, req.n
        FROM holds JOIN req ON req.hold_id = holds.hold_id
        -- The holds are found by their ids: their expiry is tested as `(...) IS TRUE`, a
        -- form no index serves, or a planner whose statistics of expiries lag behind the
        -- clock reads the live holds by the expiry index (all of them) instead of by key.
        WHERE holds.hold_id = ANY (p_holds) AND holds.show_id = p_show
          AND (holds.expires_at > now()) IS TRUE
        ORDER BY holds.hold_id
        FOR UPDATE OF holds
    ), locked AS MATERIALIZED (
        SELECT s.seat_no
        FROM seats s JOIN h ON s.seat_no = ANY (h.seat_nos)
        WHERE s.show_id = p_show AND s.hold_id = h.hold_id
        ORDER BY s.seat_no
        FOR UPDATE OF s
    ), freed AS (
        UPDATE seats s SET hold_id = NULL, hold_expires_at = NULL
        FROM locked l
        WHERE s.show_id = p_show AND s.seat_no = l.seat_no
    ), gone AS (
        DELETE FROM holds WHERE hold_id IN (SELECT hold_id FROM h)
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
        SELECT seatcore_change_id(h.n - 1), 'released', p_show, h.seat_ids, h.hold_id FROM h
    )
    SELECT h.n FROM h ORDER BY h.n;
END
$$;

-- A live hold released alone, as a group of one of `seatcore_release_holds`: 1, or 0
-- (nothing written) when the show has no such live hold.
CREATE FUNCTION seatcore_release(p_show text, p_hold uuid)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (SELECT count(*) FROM seatcore_release_holds(p_show, ARRAY[p_hold]));
END
$$;
