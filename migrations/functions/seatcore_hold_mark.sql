-- The mark of a held seat, by which a status read checks that the seats' holds and the hold
-- rows agree without looking up a hold per seat.
--
-- A live hold's seat carries (hold_id, hold_expires_at) on its row, and the hold's row lists
-- the seat (seat_nos) with the same expiry. A status read (seatcore/src/ops/show.rs) sums
-- the marks of the show's live held seats as it streams them, and in the same snapshot the
-- marks of every (hold, seat) its live hold rows list: the two multisets agree exactly when
-- the count and the sum agree, up to a collision of 64-bit hashes. A seat claiming a hold
-- that does not exist, or that does not list it, or with another expiry, and a hold listing
-- a seat that is not held by it, each make them differ.
--
-- One SQL expression, inlined by the planner: hashing costs a status read about 3 ms per
-- 200,000 seats, where looking up each held seat's hold row cost 3 µs per held seat.
CREATE OR REPLACE FUNCTION seatcore_hold_mark(p_hold uuid, p_seat_no integer, p_expires_at timestamptz)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT uuid_hash_extended(p_hold, p_seat_no)
           # interval_hash_extended(p_expires_at - timestamptz 'epoch', p_seat_no)
$$;
