-- Why holds were refused (seatcore/src/ops/hold.rs, a hold alone and the losers of a
-- group), read after the refusal: a first row of NULL seat whose `taken` says whether the
-- show exists, then each asked seat the show has, whether it is taken now (a group's
-- winners included) and its number, in seat-map order.
CREATE OR REPLACE FUNCTION seatcore_refusals(p_show text, p_seats text[])
RETURNS TABLE (seat_id text, taken boolean, seat_no integer)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.seat_id::text,
           s.booking_id IS NOT NULL OR s.block_reason IS NOT NULL
               OR coalesce(s.hold_expires_at > now(), false),
           s.seat_no
    FROM seats s
    WHERE s.show_id = p_show AND s.seat_id = ANY (p_seats)
    UNION ALL
    SELECT NULL, EXISTS (SELECT 1 FROM shows WHERE shows.show_id = p_show), NULL
    ORDER BY 3 NULLS FIRST;
END
$$;
