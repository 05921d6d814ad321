-- seatcore schema, version 17: a status read of a large show computes its head once.
--
-- A status read first asks for the whole status of a small show in one statement (version
-- 13); for a larger show it then reads the head again, in the transaction of its seats
-- read. The first statement computed the head in full only to find the show large, and the
-- head's cost is the show's live holds and records. It now looks at the show's seat count
-- first, and for a larger show (or none) answers with the count alone. Measured on one
-- machine (2026-12-04, a 200,000-seat show with 60,044 live one-seat holds and 141,659
-- records, among 7.6 million seats; over HTTP, the two versions of this function swapped in
-- turn): 0.218 to 0.290 s a read, the first byte after 120 to 182 ms, before; 0.160 to
-- 0.196 s, the first byte after 62 to 96 ms, after.
CREATE OR REPLACE FUNCTION seatcore_status_small(p_show text, p_max bigint)
RETURNS TABLE (declared bigint, version bigint, changes text, live_holds bigint,
               replayed_at timestamptz, held_listed bigint, held_marks text,
               seat_id text, state int4, hold_expires_at timestamptz, mark bigint)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    seat_count bigint := (SELECT s.seat_count FROM shows s WHERE s.show_id = p_show);
BEGIN
    IF seat_count IS NULL OR seat_count > p_max THEN
        RETURN QUERY SELECT seat_count, NULL::int8, NULL::text, NULL::int8, NULL::timestamptz, NULL::int8,
                            NULL::text, NULL::text, NULL::int4, NULL::timestamptz, NULL::int8;
    ELSE
        RETURN QUERY SELECT h.*, NULL::text, NULL::int4, NULL::timestamptz, NULL::int8
                     FROM seatcore_status_head(p_show) h;
        RETURN QUERY SELECT NULL::int8, NULL::int8, NULL::text, NULL::int8, NULL::timestamptz, NULL::int8,
                            NULL::text, s.seat_id, s.state, s.hold_expires_at, s.mark
                     FROM seatcore_status_seats(p_show) s
                     ORDER BY s.seat_no;
    END IF;
END
$$;
