-- seatcore schema, version 17: the head of a status read costs the same for a show with a
-- long history as for a new one, and a large read computes it once.
--
-- The head (version 15) tagged the show's records by the newest one's id and how many
-- there are: a count over every record the show ever had, which grows with each hold,
-- booking and expiry. Measured on one machine (2026-12-04, a 200,000-seat show with 80,181
-- records among 2.9 million), 8 to 14 ms a head, paid twice by a large read (its probe and
-- its head), and more while the records' pages are not all visible yet.
--
-- Records below the horizon (`seatcore_change_horizon`, version 2) are final: no record
-- below it appears later. So the newest of the show's records below the horizon, with the
-- newest and the count of those at or above it, change whenever a record of the show
-- appears: a new record either lands below the horizon of the later read (the newest below
-- it passes the earlier read's horizon, above every record counted below it before), or
-- at or above it, where it adds one to a count that has lost none (a record the earlier
-- read counted above its horizon and the later one finds below its own also moves the
-- newest below it). Only the records of transactions that finished while an older one was
-- in flight are counted, a handful; both parts are read off the (show_id, id) index.
-- The tag may change with no record of the show (the horizon passing its records): such a
-- reader is sent the same document again, never an old one as if it were new.
CREATE OR REPLACE FUNCTION seatcore_status_head(p_show text)
RETURNS TABLE (declared bigint, version bigint, changes text, live_holds bigint,
               replayed_at timestamptz, held_listed bigint, held_marks text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    horizon bigint := seatcore_change_horizon();
BEGIN
    PERFORM set_config(setting.name, setting.value, true)
    FROM (VALUES ('seatcore.status_show', p_show),
                 ('enable_seqscan', 'off'),
                 ('enable_bitmapscan', 'off'),
                 ('max_parallel_workers_per_gather', '0')) AS setting (name, value);
    RETURN QUERY
    SELECT (SELECT s.seat_count FROM shows s WHERE s.show_id = p_show)::int8,
           (SELECT coalesce(max(c.id), 0) FROM changes c WHERE c.id < horizon),
           (SELECT coalesce(max(c.id), 0) FROM changes c WHERE c.show_id = p_show AND c.id < horizon)
               || '.' || (SELECT coalesce(max(c.id), 0) || '.' || count(*)
                          FROM changes c WHERE c.show_id = p_show AND c.id >= horizon),
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

-- A status read first asks for the whole status of a small show in one statement (version
-- 13); for a larger show it then reads the head again, in the transaction of its seats
-- read. The first statement computed the head in full only to find the show large: with
-- many live holds that is most of the head's cost (measured as above, with 59,225 live
-- holds of one seat: 0.18 to 0.21 s a read, the first byte after 82 to 96 ms). It now looks
-- at the show's seat count first, and for a larger show (or none) answers with the count
-- alone.
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
