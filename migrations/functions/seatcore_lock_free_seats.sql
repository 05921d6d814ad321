-- A group of holds, step 1 (`seatcore_hold_group`): lock every asked seat that looks free,
-- in seat-map order, passing over any seat another transaction has locked (a hold, a
-- booking, a block of many seats, an operator's session): the seats still free once locked.
-- The group never waits for a lock, so a lock held elsewhere holds up none of its holds: the
-- holds that want no locked seat are decided at once; a hold that wants one loses in the
-- group with that seat not taken, and the core makes it alone after the group
-- (seatcore/src/ops/group.rs), where it waits for the lock as any single hold does and is
-- refused for the seat, or busy, by itself.
CREATE OR REPLACE FUNCTION seatcore_lock_free_seats(p_show text, p_seats text[])
RETURNS TABLE (seat_no integer, seat_id text)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.seat_no, s.seat_id::text FROM seats s
    WHERE s.show_id = p_show AND s.seat_id = ANY (p_seats)
      AND s.booking_id IS NULL AND s.block_reason IS NULL
      AND (s.hold_expires_at IS NULL OR s.hold_expires_at <= now())
    ORDER BY s.seat_no
    FOR UPDATE SKIP LOCKED;
END
$$;
