-- Every seat of a show: its place in the seat map; its id; its state by the database's
-- clock (0 available, 1 held, 2 booked, 3 blocked), plus 4 when the row is not consistent
-- (held and booked at once, blocked but held or booked); a held seat's expiry; and a live
-- held seat's mark (`seatcore_hold_mark`), summed against the head's. Unordered, so that
-- the planner flattens it into its caller, whose `ORDER BY seat_no` the (show_id, seat_no)
-- index then serves with no step between the index and the caller.
CREATE OR REPLACE FUNCTION seatcore_status_seats(p_show text)
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
