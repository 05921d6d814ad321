-- A group of holds, step 2: record the winners (their seats flipped, their holds, their
-- change records: the i-th winner's record is the transaction's i-th). Winner i holds
-- p_secs[i] seconds; seat k (number p_seat_nos[k], id p_seat_ids[k]) goes to winner
-- p_hold_of[k]. Each new hold's id and expiry.
CREATE OR REPLACE FUNCTION seatcore_record_holds(p_show text, p_holds uuid[], p_secs float8[],
                                      p_hold_of bigint[], p_seat_nos integer[], p_seat_ids text[])
RETURNS TABLE (hold_id uuid, expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH h AS (
        SELECT w.i, w.hold_id, now() + make_interval(secs => w.secs) AS expires_at
        FROM unnest(p_holds, p_secs) WITH ORDINALITY AS w(hold_id, secs, i)
    ), s AS (
        SELECT * FROM unnest(p_hold_of, p_seat_nos, p_seat_ids) WITH ORDINALITY AS s(hold_i, seat_no, seat_id, ord)
    ), flipped AS (
        UPDATE seats t SET hold_id = h.hold_id, hold_expires_at = h.expires_at
        FROM s JOIN h ON h.i = s.hold_i
        WHERE t.show_id = p_show AND t.seat_no = s.seat_no
    ), new_holds AS (
        INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at)
        SELECT h.hold_id, p_show, array_agg(s.seat_no ORDER BY s.seat_no), array_agg(s.seat_id ORDER BY s.ord),
               h.expires_at
        FROM h JOIN s ON s.hold_i = h.i
        GROUP BY h.i, h.hold_id, h.expires_at
        RETURNING hold_id, seat_ids, expires_at
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(h.i - 1), 'held', p_show, n.seat_ids, n.hold_id, n.expires_at
        FROM new_holds n JOIN h USING (hold_id)
    )
    SELECT n.hold_id, n.expires_at FROM new_holds n;
END
$$;
