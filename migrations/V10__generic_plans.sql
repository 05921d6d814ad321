-- seatcore schema, version 10: the booking and the reasons for a refusal planned once per
-- session, like the holds; and every such function told to keep its one plan.
--
-- PL/pgSQL plans a statement five times with its arguments, then keeps a generic plan only
-- while that looks no costlier than the ones made for the arguments. For the seats of a
-- hold (an array of ids) it often does not: measured with pg_stat_statements on one machine
-- (2026-12-03, 16 HTTP connections), the locking statement of a grouped hold was planned
-- afresh at 4,812 of 9,048 calls, and planning cost more than running it (0.10 against
-- 0.05 ms). A booking, sent as a statement, was planned at every call (0.48 ms of planning
-- against 0.52 ms of work), and so were the two reads that said why holds were refused
-- (0.09 to 0.11 ms of planning against 0.02 to 0.03 ms of work). The functions of version
-- 5 now force the generic plan, as those of versions 6 and 7 do (every PL/pgSQL function of
-- the schema that runs a statement); the booking and one refusal read for both become
-- functions that do too. Each is the statement it replaces: the same rows locked in the
-- same order, the same records written.

ALTER FUNCTION seatcore_hold_one(text, text, uuid, float8, text) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION seatcore_hold_many(text, text[], uuid, float8, text) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION seatcore_lock_free_seats(text, text[]) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION seatcore_record_holds(text, uuid[], float8[], bigint[], integer[], text[])
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION seatcore_release_one_live(text, uuid, text[]) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION seatcore_extend_live(text, uuid, float8, float8) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION seatcore_hold_group(text, uuid[], float8[], bigint[], text[])
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION seatcore_release(text, uuid) SET plan_cache_mode = force_generic_plan;

-- Booking a hold (seatcore/src/ops/book.rs): lock the hold, lock its seats in seat-map
-- order, check they still carry it, then write the booking, flip the seats, retire the hold
-- and record the change. No row when the show has no such hold; else whether the hold had
-- expired, whether its seats were intact, and the booking's seats and time when it was made.
CREATE FUNCTION seatcore_book(p_show text, p_hold uuid)
RETURNS TABLE (expired boolean, intact boolean, seat_ids text[], booked_at timestamptz)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH h AS MATERIALIZED (
        SELECT holds.hold_id, holds.seat_nos, holds.seat_ids, holds.expires_at <= now() AS expired
        FROM holds
        WHERE holds.hold_id = p_hold AND holds.show_id = p_show
        FOR UPDATE
    ), locked AS MATERIALIZED (
        SELECT s.seat_no, s.hold_id, s.booking_id
        FROM seats s JOIN h ON s.seat_no = ANY (h.seat_nos)
        WHERE s.show_id = p_show AND NOT h.expired
        ORDER BY s.seat_no
        FOR UPDATE OF s
    ), verdict AS MATERIALIZED (
        SELECT h.hold_id, h.seat_nos, h.seat_ids, h.expired,
               (SELECT count(*) FROM locked l
                WHERE l.hold_id = h.hold_id AND l.booking_id IS NULL) = cardinality(h.seat_nos) AS intact
        FROM h
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
    SELECT v.expired, v.intact, b.seat_ids, b.booked_at
    FROM verdict v LEFT JOIN booking b ON true;
END
$$;

-- Why holds were refused (seatcore/src/ops/hold.rs, a hold alone and the losers of a
-- group), read after the refusal: a first row of NULL seat whose `taken` says whether the
-- show exists, then each asked seat the show has, whether it is taken now (a group's
-- winners included) and its number, in seat-map order.
CREATE FUNCTION seatcore_refusals(p_show text, p_seats text[])
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
