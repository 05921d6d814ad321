-- The head of a status read (seatcore/src/ops/show.rs): what decides its document, the
-- show's declared seat count, the version, this show's records and live holds for the
-- entity tag, the replay time on a standby, and the count and sum of the marks its live
-- hold rows list (`seatcore_hold_mark`). Sent as a statement it was planned at every call,
-- and planning cost more than running it: measured with pg_stat_statements on one machine
-- (2026-12-03, a 300-seat show polled over 16 HTTP connections, 20,000 live holds of
-- another show), 0.83 ms of planning against 0.38 ms of work. Its generic plan is kept for
-- the session. It also names the show for the seats read that follows in the same
-- transaction (a `COPY`, which takes no parameters), and makes that read follow the
-- (show_id, seat_no) index (see `status_once`): settings local to the transaction, as
-- `SET LOCAL` makes them. STABLE: its queries see the snapshot of the statement that calls
-- it (it changes no data).
--
-- The kept plan is made once, with the statistics of that moment, and serves every show
-- after. The show's live holds are found by the show (the index on (show_id, expires_at));
-- the expiry is tested in a form no index serves (`(...) IS TRUE`), so that the plan never
-- walks the expiry index instead, through every live hold of every show. Measured with
-- statistics sampled while one show had holds and 550,000 holds of 20 other shows came
-- after, planned as the function plans it: 74 to 87 ms a call through the expiry index,
-- 0.03 ms through the show's.
--
-- The live holds are counted by a scan of their own and listed by a second that unnests
-- their seats as it goes, both in the calling statement's snapshot with one `now()`, so
-- they see the same holds. Gathered once into a materialized CTE read twice, they outgrew
-- `work_mem` and went to a temporary file: measured on one machine (2026-12-03, a
-- 200,000-seat show with 53,384 live holds), 64 to 82 ms a head that way, 6 and 35 ms for
-- the two scans.
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
