-- seatcore schema, version 15: the head of a status read in one pass over the live holds.
--
-- The head (version 11) gathered the show's live holds into a materialized CTE and read it
-- twice: once to count the holds, once to list their seats and sum the seats' marks. With
-- many live holds the CTE outgrew `work_mem` and went to a temporary file: measured on one
-- machine (2026-12-03, a 200,000-seat show with 53,384 live holds), 64 to 82 ms a head, of
-- which 32 ms reading the file back. Counted by a scan of their own and listed by a second
-- that unnests their seats as it goes, the same holds cost 6 ms and 35 ms, and nothing is
-- written. Both scans run in the calling statement's snapshot, with one `now()`, so they
-- see the same holds. The settings, local to the transaction, are those of version 11.
CREATE OR REPLACE FUNCTION seatcore_status_head(p_show text)
RETURNS TABLE (declared bigint, version bigint, changes text, live_holds bigint,
               replayed_at timestamptz, held_listed bigint, held_marks text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config(setting.name, setting.value, true)
    FROM (VALUES ('seatcore.status_show', p_show),
                 ('enable_seqscan', 'off'),
                 ('enable_bitmapscan', 'off'),
                 ('max_parallel_workers_per_gather', '0')) AS setting (name, value);
    RETURN QUERY
    SELECT (SELECT s.seat_count FROM shows s WHERE s.show_id = p_show)::int8,
           (SELECT coalesce(max(c.id), 0) FROM changes c WHERE c.id < seatcore_change_horizon()),
           (SELECT coalesce(max(c.id), 0) || '.' || count(*) FROM changes c WHERE c.show_id = p_show),
           (SELECT count(*) FROM holds h WHERE h.show_id = p_show AND (h.expires_at > now()) IS TRUE),
           CASE WHEN pg_is_in_recovery() THEN pg_last_xact_replay_timestamp() END,
           listed.seats,
           listed.marks::text
    FROM (SELECT count(*) AS seats,
                 coalesce(sum(seatcore_hold_mark(held.hold_id, held.seat_no, held.expires_at)), 0) AS marks
          FROM (SELECT h.hold_id, h.expires_at, unnest(h.seat_nos) AS seat_no
                FROM holds h
                WHERE h.show_id = p_show AND (h.expires_at > now()) IS TRUE) held) listed;
END
$$;
