-- A group of holds in one call (and, called alone, one transaction): lock every asked seat
-- that looks free, in seat-map order; decide the holds in order (hold i wins when each of
-- its seats is locked free and not won by an earlier hold); record the winners as
-- `seatcore_record_holds` does. Hold i asks for the seats k with p_hold_of[k] = i (in order
-- of i), and holds p_secs[i] seconds. Answers each hold's expiry (NULL: it lost), and the
-- seats locked free (ids and numbers), from which the caller tells why the others lost.
-- Meant for small groups (the core sends a few hundred seats at most): the checks compare
-- arrays element by element.
CREATE OR REPLACE FUNCTION seatcore_hold_group(p_show text, p_holds uuid[], p_secs float8[],
                                    p_hold_of bigint[], p_seat_ids text[],
                                    OUT expires timestamptz[], OUT locked_ids text[], OUT locked_nos integer[])
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    v_k integer := 1;
    v_claimed text[] := '{}';
    v_seats text[];
    v_win_holds uuid[] := '{}';
    v_win_secs float8[] := '{}';
    v_win_of bigint[] := '{}';
    v_win_nos integer[] := '{}';
    v_win_ids text[] := '{}';
    v_seat text;
    v_row record;
BEGIN
    SELECT coalesce(array_agg(l.seat_id ORDER BY l.seat_no), '{}'),
           coalesce(array_agg(l.seat_no ORDER BY l.seat_no), '{}')
    INTO locked_ids, locked_nos
    FROM seatcore_lock_free_seats(p_show, ARRAY(SELECT DISTINCT unnest(p_seat_ids))) AS l;
    expires := array_fill(NULL::timestamptz, ARRAY[cardinality(p_holds)]);
    FOR i IN 1 .. cardinality(p_holds) LOOP
        v_seats := '{}';
        WHILE v_k <= cardinality(p_seat_ids) AND p_hold_of[v_k] = i LOOP
            v_seats := v_seats || p_seat_ids[v_k];
            v_k := v_k + 1;
        END LOOP;
        IF cardinality(v_seats) > 0 AND v_seats <@ locked_ids AND NOT (v_seats && v_claimed) THEN
            v_claimed := v_claimed || v_seats;
            v_win_holds := v_win_holds || p_holds[i];
            v_win_secs := v_win_secs || p_secs[i];
            FOREACH v_seat IN ARRAY v_seats LOOP
                v_win_of := v_win_of || cardinality(v_win_holds)::bigint;
                v_win_nos := v_win_nos || locked_nos[array_position(locked_ids, v_seat)];
                v_win_ids := v_win_ids || v_seat;
            END LOOP;
        END IF;
    END LOOP;
    IF cardinality(v_win_holds) > 0 THEN
        FOR v_row IN
            SELECT r.hold_id, r.expires_at
            FROM seatcore_record_holds(p_show, v_win_holds, v_win_secs, v_win_of, v_win_nos, v_win_ids) AS r
        LOOP
            expires[array_position(p_holds, v_row.hold_id)] := v_row.expires_at;
        END LOOP;
    END IF;
END
$$;
