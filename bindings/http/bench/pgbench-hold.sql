-- The least SQL a hold needs, for pgbench: insert the hold row and point one free seat at it,
-- in one statement (one round trip), as seatcore-server's hold does.
\set n random(1, 320000)
WITH h AS (
  INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at)
  VALUES (gen_random_uuid(), 'pgbench_show', ARRAY[:n], ARRAY['S' || (:n - 1)], now() + interval '60 seconds')
  RETURNING hold_id, expires_at)
UPDATE seats s SET hold_id = h.hold_id, hold_expires_at = h.expires_at
FROM h
WHERE s.show_id = 'pgbench_show' AND s.seat_no = :n AND s.booking_id IS NULL
  AND (s.hold_expires_at IS NULL OR s.hold_expires_at <= now());
