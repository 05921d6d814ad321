-- Live holds of one show released together (seatcore/src/ops/release.rs, and grouped
-- releases, seatcore/src/ops/lifecycle.rs): each hold of `p_holds` (of two requests for one
-- hold, the first; the other is made alone after) released as `seatcore_release` releases
-- one: the hold rows locked in order of hold id, then their seats in seat-map order, the
-- seats freed, the holds deleted, a `released` record each (the i-th request's with ordinal
-- i - 1). A row (the request's number, from 1) for each hold released.
--
-- Each hold is judged by the clock once its row is locked (a release that waited past the
-- hold's expiry finds no live hold and writes nothing), and released only when every seat
-- it lists still carries it; a hold whose seats do not is left to the sweep.
CREATE OR REPLACE FUNCTION seatcore_release_holds(p_show text, p_holds uuid[])
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
        SELECT holds.hold_id, holds.seat_nos, holds.seat_ids, holds.expires_at, req.n
        FROM holds JOIN req ON req.hold_id = holds.hold_id
        -- The holds are found by their ids: their expiry is tested as `(...) IS TRUE`, a
        -- form no index serves, or a planner whose statistics of expiries lag behind the
        -- clock reads the live holds by the expiry index (all of them) instead of by key.
        WHERE holds.hold_id = ANY (p_holds) AND holds.show_id = p_show
          AND (holds.expires_at > now()) IS TRUE
        ORDER BY holds.hold_id
        FOR UPDATE OF holds
    ), judged AS MATERIALIZED (
        SELECT h.* FROM h WHERE h.expires_at > clock_timestamp()
    ), locked AS MATERIALIZED (
        SELECT s.seat_no, s.hold_id
        FROM seats s JOIN judged j ON s.seat_no = ANY (j.seat_nos)
        WHERE s.show_id = p_show AND s.hold_id = j.hold_id
        ORDER BY s.seat_no
        FOR UPDATE OF s
    ), intact AS MATERIALIZED (
        SELECT j.* FROM judged j
        WHERE (SELECT count(*) FROM locked l WHERE l.hold_id = j.hold_id) = cardinality(j.seat_nos)
    ), freed AS (
        UPDATE seats s SET hold_id = NULL, hold_expires_at = NULL
        FROM locked l JOIN intact t ON t.hold_id = l.hold_id
        WHERE s.show_id = p_show AND s.seat_no = l.seat_no
    ), gone AS (
        DELETE FROM holds WHERE hold_id IN (SELECT hold_id FROM intact)
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
        SELECT seatcore_change_id(t.n - 1), 'released', p_show, t.seat_ids, t.hold_id FROM intact t
    )
    SELECT t.n FROM intact t ORDER BY t.n;
END
$$;
