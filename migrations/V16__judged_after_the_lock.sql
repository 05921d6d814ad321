-- seatcore schema, version 16: a booking and a release judge the hold by the clock once its
-- row is locked, and touch it only while every seat still carries it.
--
-- `now()` is the start of the statement's transaction. Judged by it, a booking or a release
-- that waited for the hold's row (locked by an extension, a partial release, another
-- booking) past the hold's expiry takes the hold for live; if another hold took its seats
-- meanwhile, the booking is refused as `hold invalidated` and the release deletes the hold
-- and records as released seats it never freed. Judged by `clock_timestamp()` once the row
-- is locked, as extend-hold and the partial release judge (version 3), the booking is
-- refused as `hold expired` and the release finds no live hold and writes nothing. A release
-- also leaves alone a hold whose seats do not all carry it (the sweep finds it), and a
-- booking refused because its seats went elsewhere after the expiry says `hold expired`.

-- Booking a hold (seatcore/src/ops/book.rs): as in version 10, the hold judged after its
-- row lock. No row when the show has no such hold; else whether the hold had expired (by
-- the clock once its row was locked, or by the clock at the verdict when its seats no
-- longer carry it), whether its seats were intact, and the booking's seats and time when
-- it was made.
CREATE OR REPLACE FUNCTION seatcore_book(p_show text, p_hold uuid)
RETURNS TABLE (expired boolean, intact boolean, seat_ids text[], booked_at timestamptz)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH h AS MATERIALIZED (
        SELECT holds.hold_id, holds.seat_nos, holds.seat_ids, holds.expires_at
        FROM holds
        WHERE holds.hold_id = p_hold AND holds.show_id = p_show
        FOR UPDATE
    ), judged AS MATERIALIZED (
        SELECT h.*, h.expires_at <= clock_timestamp() AS expired FROM h
    ), locked AS MATERIALIZED (
        SELECT s.seat_no, s.hold_id, s.booking_id
        FROM seats s JOIN judged j ON s.seat_no = ANY (j.seat_nos)
        WHERE s.show_id = p_show AND NOT j.expired
        ORDER BY s.seat_no
        FOR UPDATE OF s
    ), verdict AS MATERIALIZED (
        SELECT j.hold_id, j.seat_nos, j.seat_ids, j.expires_at, j.expired,
               (SELECT count(*) FROM locked l
                WHERE l.hold_id = j.hold_id AND l.booking_id IS NULL) = cardinality(j.seat_nos) AS intact
        FROM judged j
    ), booking AS (
        INSERT INTO bookings (booking_id, show_id, seat_nos, seat_ids, booked_at)
        SELECT v.hold_id, p_show, v.seat_nos, v.seat_ids, now()
        FROM verdict v
        WHERE v.intact AND NOT v.expired
        RETURNING bookings.booking_id, bookings.seat_ids, bookings.booked_at
    ), flipped AS (
        UPDATE seats s
        SET hold_id = NULL, hold_expires_at = NULL, booking_id = b.booking_id
        FROM booking b, locked l
        WHERE s.show_id = p_show AND s.seat_no = l.seat_no
    ), spent AS (
        DELETE FROM holds WHERE holds.hold_id IN (SELECT b.booking_id FROM booking b)
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id, booking_id)
        SELECT seatcore_change_id(0), 'booked', p_show, b.seat_ids, b.booking_id, b.booking_id
        FROM booking b
    )
    SELECT v.expired OR (NOT v.intact AND v.expires_at <= clock_timestamp()), v.intact,
           b.seat_ids, b.booked_at
    FROM verdict v LEFT JOIN booking b ON true;
END
$$;

-- Releasing live holds of one show (seatcore/src/ops/release.rs, and grouped releases): as
-- in version 7, each hold judged by the clock once its row is locked, and released only
-- when every seat it lists still carries it; a `released` record each (the i-th request's
-- with ordinal i - 1). A row (the request's number, from 1) for each hold released.
CREATE OR REPLACE FUNCTION seatcore_release_holds(p_show text, p_holds uuid[])
RETURNS TABLE (i int)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH req AS MATERIALIZED (
        SELECT DISTINCT ON (r.hold_id) r.hold_id, r.n::int AS n
        FROM unnest(p_holds) WITH ORDINALITY AS r(hold_id, n)
        ORDER BY r.hold_id, r.n
    ), h AS MATERIALIZED (
        SELECT holds.hold_id, holds.seat_nos, holds.seat_ids, holds.expires_at, req.n
        FROM holds JOIN req ON req.hold_id = holds.hold_id
        -- The holds are found by their ids: their expiry is tested as `(...) IS TRUE`, a
        -- form no index serves, or a planner whose statistics of expiries lag behind the
        -- clock reads the live holds by the expiry index (all of them) instead of by key.
        WHERE holds.hold_id = ANY (p_holds) AND holds.show_id = p_show
          AND (holds.expires_at > now()) IS TRUE
        ORDER BY holds.hold_id
        FOR UPDATE OF holds
    ), judged AS MATERIALIZED (
        SELECT h.* FROM h WHERE h.expires_at > clock_timestamp()
    ), locked AS MATERIALIZED (
        SELECT s.seat_no, s.hold_id
        FROM seats s JOIN judged j ON s.seat_no = ANY (j.seat_nos)
        WHERE s.show_id = p_show AND s.hold_id = j.hold_id
        ORDER BY s.seat_no
        FOR UPDATE OF s
    ), intact AS MATERIALIZED (
        SELECT j.* FROM judged j
        WHERE (SELECT count(*) FROM locked l WHERE l.hold_id = j.hold_id) = cardinality(j.seat_nos)
    ), freed AS (
        UPDATE seats s SET hold_id = NULL, hold_expires_at = NULL
        FROM locked l JOIN intact t ON t.hold_id = l.hold_id
        WHERE s.show_id = p_show AND s.seat_no = l.seat_no
    ), gone AS (
        DELETE FROM holds WHERE hold_id IN (SELECT hold_id FROM intact)
    ), logged AS (
        INSERT INTO changes (id, kind, show_id, seat_ids, hold_id)
        SELECT seatcore_change_id(t.n - 1), 'released', p_show, t.seat_ids, t.hold_id FROM intact t
    )
    SELECT t.n FROM intact t ORDER BY t.n;
END
$$;
