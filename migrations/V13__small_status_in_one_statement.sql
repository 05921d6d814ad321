-- seatcore schema, version 13: the status of a small show in one statement.
--
-- A status read (seatcore/src/ops/show.rs) reads its head (version 11), then the seats, in
-- one snapshot. For a big show that is a read-only transaction of four round trips: begin,
-- the head, a `COPY` of the seats (planned at each call: a `COPY` keeps no plan), commit.
-- For a show of a few hundred seats, polled again and again as a seat map, those round
-- trips and that planning were most of the read. `seatcore_status_small` answers it in one
-- statement: the head in the first row, then, when the show has at most `p_max` seats,
-- every seat in seat-map order. It is STABLE, so every query in it sees the calling
-- statement's snapshot: one consistent moment, as the transaction gives the big read. Its
-- plans are kept for the session (generic), and its settings make the seats follow the
-- (show_id, seat_no) index, as the head's settings make the `COPY` do.
--
-- The head (`seatcore_status_head`, version 11) becomes STABLE, so that its queries too see
-- the snapshot of the statement that calls it; it changes no data (its settings are local
-- to the transaction, and the small read's own settings, below, are the same). The seats'
-- columns are written once (`seatcore_status_seats`, a single SELECT the planner flattens
-- into the big read's `COPY` as well).
ALTER FUNCTION seatcore_status_head(text) STABLE;

-- Every seat of a show: its place in the seat map; its id; its state by the database's
-- clock (0 available, 1 held, 2 booked, 3 blocked), plus 4 when the row is not consistent
-- (held and booked at once, blocked but held or booked); a held seat's expiry; and a live
-- held seat's mark (version 8), summed against the head's. Unordered, so that the planner
-- flattens it into its caller, whose `ORDER BY seat_no` the (show_id, seat_no) index then
-- serves with no step between the index and the caller.
CREATE FUNCTION seatcore_status_seats(p_show text)
RETURNS TABLE (seat_no integer, seat_id text, state int4, hold_expires_at timestamptz, mark bigint)
LANGUAGE sql STABLE AS $$
SELECT s.seat_no,
       s.seat_id,
       (CASE WHEN s.booking_id IS NOT NULL THEN 2
             WHEN s.block_reason IS NOT NULL THEN 3
             WHEN s.hold_expires_at > now() THEN 1
             ELSE 0 END
        + CASE WHEN s.hold_id IS NOT NULL AND s.booking_id IS NOT NULL THEN 4
               WHEN s.block_reason IS NOT NULL AND (s.hold_id IS NOT NULL OR s.booking_id IS NOT NULL) THEN 4
               ELSE 0 END)::int4,
       CASE WHEN s.booking_id IS NULL AND s.hold_expires_at > now()
            THEN s.hold_expires_at END,
       CASE WHEN s.booking_id IS NULL AND s.block_reason IS NULL AND s.hold_expires_at > now()
            THEN seatcore_hold_mark(s.hold_id, s.seat_no, s.hold_expires_at) END
FROM seats s
WHERE s.show_id = p_show
$$;

CREATE FUNCTION seatcore_status_small(p_show text, p_max bigint)
RETURNS TABLE (declared bigint, version bigint, changes text, live_holds bigint,
               replayed_at timestamptz, held_listed bigint, held_marks text,
               seat_id text, state int4, hold_expires_at timestamptz, mark bigint)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    top record;
BEGIN
    SELECT * INTO top FROM seatcore_status_head(p_show);
    RETURN QUERY SELECT top.declared, top.version, top.changes, top.live_holds, top.replayed_at,
                        top.held_listed, top.held_marks, NULL::text, NULL::int4, NULL::timestamptz, NULL::int8;
    IF top.declared IS NULL OR top.declared > p_max THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT NULL::int8, NULL::int8, NULL::text, NULL::int8, NULL::timestamptz, NULL::int8, NULL::text,
                        s.seat_id, s.state, s.hold_expires_at, s.mark
                 FROM seatcore_status_seats(p_show) s
                 ORDER BY s.seat_no;
END
$$;
