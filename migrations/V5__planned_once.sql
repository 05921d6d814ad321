-- seatcore schema, version 5: the busiest statements as functions, planned once per session.
--
-- A statement sent by a client is parsed and planned at every call; for these statements
-- that costs about as much as running them. The statements of a PL/pgSQL function are
-- planned once per database session and the plan is kept (and made again when the schema
-- or the search_path changes). Unlike statements the client prepares, this needs nothing
-- of a pooler in transaction mode: a call is one ordinary statement.
--
-- Each function is one statement of the core, its parameters the function's arguments: the
-- rows it locks, the order it locks them in, the records it writes and its now() are the
-- statement's.

-- A hold of one seat: flip it if it is free, record the hold and its change. The hold's
-- expiry, or NULL (nothing written) when the seat is taken, unknown, or the show unknown.
-- A seat that is taken in the statement's snapshot is never locked.
CREATE FUNCTION seatcore_hold_one(
    p_show text, p_seat text, p_hold uuid, p_secs float8, p_key text, OUT v_expires timestamptz
)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    WITH flipped AS (
        UPDATE seats
        SET hold_id = p_hold, hold_expires_at = now() + make_interval(secs => p_secs)
        WHERE show_id = p_show AND seat_id = p_seat
          AND booking_id IS NULL AND block_reason IS NULL
          AND (hold_expires_at IS NULL OR hold_expires_at <= now())
        RETURNING seat_no, hold_expires_at
    ), new_hold AS (
        INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at, request_key)
        SELECT p_hold, p_show, ARRAY[seat_no], ARRAY[p_seat], hold_expires_at, p_key FROM flipped
        RETURNING expires_at
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(0), 'held', p_show, ARRAY[p_seat], p_hold, expires_at FROM new_hold
    )
    SELECT expires_at INTO v_expires FROM new_hold;
END
$$;

-- A hold of several seats: lock those that look free, in seat-map order, keep those still
-- free once locked; if that is every asked seat, record the hold and flip them. The hold's
-- expiry, or NULL (nothing written).
CREATE FUNCTION seatcore_hold_many(p_show text, p_seats text[], p_hold uuid, p_secs float8, p_key text)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_expires timestamptz;
BEGIN
    WITH locked AS MATERIALIZED (
        SELECT seat_no FROM seats
        WHERE show_id = p_show AND seat_id = ANY (p_seats)
          AND booking_id IS NULL AND block_reason IS NULL
          AND (hold_expires_at IS NULL OR hold_expires_at <= now())
        ORDER BY seat_no
        FOR UPDATE
    ), new_hold AS (
        INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at, request_key)
        SELECT p_hold, p_show, array_agg(seat_no ORDER BY seat_no), p_seats,
               now() + make_interval(secs => p_secs), p_key
        FROM locked
        HAVING count(*) = cardinality(p_seats)
        RETURNING hold_id, expires_at
    ), flipped AS (
        UPDATE seats s
        SET hold_id = h.hold_id, hold_expires_at = h.expires_at
        FROM new_hold h, locked l
        WHERE s.show_id = p_show AND s.seat_no = l.seat_no
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(0), 'held', p_show, p_seats, hold_id, expires_at FROM new_hold
    )
    SELECT expires_at INTO v_expires FROM new_hold;
    RETURN v_expires;
END
$$;

-- A group of holds, step 1: lock every asked seat that looks free, in seat-map order; the
-- seats still free once locked.
CREATE FUNCTION seatcore_lock_free_seats(p_show text, p_seats text[])
RETURNS TABLE (seat_no integer, seat_id text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.seat_no, s.seat_id::text FROM seats s
    WHERE s.show_id = p_show AND s.seat_id = ANY (p_seats)
      AND s.booking_id IS NULL AND s.block_reason IS NULL
      AND (s.hold_expires_at IS NULL OR s.hold_expires_at <= now())
    ORDER BY s.seat_no
    FOR UPDATE;
END
$$;

-- A group of holds, step 2: record the winners (their seats flipped, their holds, their
-- change records: the i-th winner's record is the transaction's i-th). Winner i holds
-- p_secs[i] seconds; seat k (number p_seat_nos[k], id p_seat_ids[k]) goes to winner
-- p_hold_of[k]. Each new hold's id and expiry.
CREATE FUNCTION seatcore_record_holds(p_show text, p_holds uuid[], p_secs float8[],
                                      p_hold_of bigint[], p_seat_nos integer[], p_seat_ids text[])
RETURNS TABLE (hold_id uuid, expires_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH h AS (
        SELECT w.i, w.hold_id, now() + make_interval(secs => w.secs) AS expires_at
        FROM unnest(p_holds, p_secs) WITH ORDINALITY AS w(hold_id, secs, i)
    ), s AS (
        SELECT * FROM unnest(p_hold_of, p_seat_nos, p_seat_ids) WITH ORDINALITY AS s(hold_i, seat_no, seat_id, ord)
    ), flipped AS (
        UPDATE seats t SET hold_id = h.hold_id, hold_expires_at = h.expires_at
        FROM s JOIN h ON h.i = s.hold_i
        WHERE t.show_id = p_show AND t.seat_no = s.seat_no
    ), new_holds AS (
        INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at)
        SELECT h.hold_id, p_show, array_agg(s.seat_no ORDER BY s.seat_no), array_agg(s.seat_id ORDER BY s.ord),
               h.expires_at
        FROM h JOIN s ON s.hold_i = h.i
        GROUP BY h.i, h.hold_id, h.expires_at
        RETURNING hold_id, seat_ids, expires_at
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(h.i - 1), 'held', p_show, n.seat_ids, n.hold_id, n.expires_at
        FROM new_holds n JOIN h USING (hold_id)
    )
    SELECT n.hold_id, n.expires_at FROM new_holds n;
END
$$;

-- One seat released from a live hold that keeps others (see `RELEASE_ONE_LIVE_SQL` in
-- seatcore/src/ops/release_seats.rs for when that is safe): the seats the hold keeps, or
-- NULL (nothing written) when the request is not such a request. A seat that does not carry
-- the hold ends the call with SQLSTATE SC001 (`seatcore_assert`), nothing written.
CREATE FUNCTION seatcore_release_one_live(p_show text, p_hold uuid, p_seats text[])
RETURNS text[]
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_kept text[];
BEGIN
    WITH seat AS MATERIALIZED (
        SELECT seat_no FROM seats WHERE show_id = p_show AND seat_id = p_seats[1]
    ), kept AS (
        UPDATE holds h
        SET seat_nos = array_remove(h.seat_nos, s.seat_no), seat_ids = array_remove(h.seat_ids, p_seats[1])
        FROM seat s
        WHERE h.hold_id = p_hold AND h.show_id = p_show AND s.seat_no = ANY (h.seat_nos)
          AND cardinality(h.seat_nos) > 1
          -- IS TRUE: a form no index serves, so the hold is found by its id even when the
          -- statistics of expiries lag behind the clock (the expiry index would read every
          -- live hold).
          AND (h.expires_at > now() + nullif(current_setting('statement_timeout'), '0')::interval + interval '1 second') IS TRUE
        RETURNING h.hold_id, h.seat_ids
    ), freed AS (
        UPDATE seats SET hold_id = NULL, hold_expires_at = NULL
        FROM seat s, kept k
        WHERE seats.show_id = p_show AND seats.seat_no = s.seat_no AND seats.hold_id = k.hold_id
          AND seats.booking_id IS NULL
        RETURNING 1
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
        SELECT seatcore_change_id(0), 'released', p_show, p_seats, hold_id FROM kept
    )
    SELECT seat_ids INTO v_kept FROM kept
    WHERE seatcore_assert((SELECT count(*) FROM freed) = 1, 'a released seat did not carry its hold');
    RETURN v_kept;
END
$$;

-- A live hold extended (see `EXTEND_LIVE_SQL` in seatcore/src/ops/extend.rs for when that is
-- safe): the hold's seat ids and new expiry, or no row (nothing written) when it is not such
-- a hold. Seats that do not all carry the hold end the call with SQLSTATE SC001 (nothing
-- written).
CREATE FUNCTION seatcore_extend_live(p_show text, p_hold uuid, p_secs float8, p_life float8)
RETURNS TABLE (seat_ids text[], expires_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH h AS (
        UPDATE holds
        SET expires_at = least(clock_timestamp() + make_interval(secs => p_secs),
                               created_at + make_interval(secs => p_life))
        WHERE hold_id = p_hold AND show_id = p_show
          AND least(expires_at, created_at + make_interval(secs => p_life))
              > now() + nullif(current_setting('statement_timeout'), '0')::interval + interval '1 second'
        RETURNING seat_nos, seat_ids, expires_at
    ), flipped AS (
        UPDATE seats SET hold_expires_at = (SELECT expires_at FROM h)
        WHERE show_id = p_show AND seat_no = ANY ((SELECT seat_nos FROM h)::integer[]) AND hold_id = p_hold
          AND booking_id IS NULL
        RETURNING 1
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, expires_at)
        SELECT seatcore_change_id(0), 'extended', p_show, seat_ids, p_hold, expires_at FROM h
    )
    SELECT h.seat_ids, h.expires_at FROM h
    WHERE seatcore_assert((SELECT count(*) FROM flipped) = cardinality(h.seat_nos),
                          'an extended hold''s seats do not all carry it');
END
$$;

-- A group of holds in one call (and, called alone, one transaction): lock every asked seat
-- that looks free, in seat-map order; decide the holds in order (hold i wins when each of
-- its seats is locked free and not won by an earlier hold); record the winners as
-- `seatcore_record_holds` does. Hold i asks for the seats k with p_hold_of[k] = i (in order
-- of i), and holds p_secs[i] seconds. Answers each hold's expiry (NULL: it lost), and the
-- seats locked free (ids and numbers), from which the caller tells why the others lost.
-- Meant for small groups (the core sends a few hundred seats at most): the checks compare
-- arrays element by element.
CREATE FUNCTION seatcore_hold_group(p_show text, p_holds uuid[], p_secs float8[],
                                    p_hold_of bigint[], p_seat_ids text[],
                                    OUT expires timestamptz[], OUT locked_ids text[], OUT locked_nos integer[])
LANGUAGE plpgsql VOLATILE AS $$
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
