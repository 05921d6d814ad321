-- A show's records after `p_after`, final or not, for a process's copy of the show
-- (seatcore/src/ops/best.rs): a row per record, oldest first (one row of NULL record
-- columns when there are none), each with the horizon and the database's clock. It gives
-- the calling transaction its id, so the records that transaction writes come after every
-- decision taken on what this call returned.
CREATE OR REPLACE FUNCTION seatcore_best_refresh(p_show text, p_after bigint)
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
