-- A live hold released alone, as a group of one of `seatcore_release_holds`: 1, or 0
-- (nothing written) when the show has no such live hold.
CREATE OR REPLACE FUNCTION seatcore_release(p_show text, p_hold uuid)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN (SELECT count(*) FROM seatcore_release_holds(p_show, ARRAY[p_hold]));
END
$$;
