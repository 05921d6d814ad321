-- pgbench script: the least SQL a hold needs, as one statement in one transaction:
-- lock and flip one available seat and record the hold. SHOW_ID is replaced by run.sh.
\set n random(1, 200000)
WITH h AS (
    INSERT INTO holds (hold_id, show_id, seat_nos, seat_ids, expires_at)
    VALUES (gen_random_uuid(), 'SHOW_ID', ARRAY[:n], ARRAY['S' || :n], now() + interval '10 minutes')
    RETURNING hold_id, expires_at
)
UPDATE seats s SET hold_id = h.hold_id, hold_expires_at = h.expires_at
FROM h
WHERE s.show_id = 'SHOW_ID' AND s.seat_no = :n
  AND s.booking_id IS NULL AND (s.hold_id IS NULL OR s.hold_expires_at <= now());
