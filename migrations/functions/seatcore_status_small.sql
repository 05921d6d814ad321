-- The whole status of a small show in one statement (seatcore/src/ops/show.rs): the head
-- (`seatcore_status_head`) in the first row, then, when the show has at most `p_max` seats,
-- every seat in seat-map order. A big show's read is a read-only transaction of four round
-- trips (begin, the head, a `COPY` of the seats, commit); for a show of a few hundred seats,
-- polled again and again as a seat map, those round trips and that planning were most of
-- the read. STABLE, so every query in it sees the calling statement's snapshot: one
-- consistent moment, as the transaction gives the big read. Its plans are kept for the
-- session (generic), and its settings make the seats follow the (show_id, seat_no) index,
-- as the head's settings make the `COPY` do.
--
-- It looks at the show's seat count first, and for a larger show (or none) answers with the
-- count alone, without computing the head, whose cost is the show's live holds and records
-- (the caller reads the head again in its seats' transaction). Measured on one machine
-- (2026-12-04, a 200,000-seat show with 60,044 live one-seat holds and 141,659 records,
-- among 7.6 million seats, over HTTP): 0.218 to 0.290 s a read with the head computed here
-- as well, the first byte after 120 to 182 ms; 0.160 to 0.196 s, the first byte after 62 to
-- 96 ms, without.
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
