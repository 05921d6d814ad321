-- seatcore schema, version 12: a show's live holds found by the show, the expiry index for
-- the sweep alone.
--
-- A status read counts the show's live holds and the seats they list (the head,
-- migrations/V11). Through the index on (expires_at, show_id) of version 9 that walked every
-- live hold of every show in the index: measured at the end of `make bench` (2026-12-03,
-- 435,000 live holds over the bench's shows), the head of a 300-seat show with one hold took
-- 5.4 to 5.7 ms a call (18 ms at a session's first), and polling that show's status over
-- HTTP ran at 67 reads/s on one connection. Through (show_id, expires_at) it takes 0.14 to
-- 0.24 ms: the cost of a status read follows its own show's holds, not the whole
-- database's. The sweep (oldest expiry first) and the next-expiry probe read the expiry
-- alone, as they did before version 9; that index is narrowed back to it, so each hold
-- still costs one index on its expiry and one more, led by its show.
CREATE INDEX holds_show_expires_at ON holds (show_id, expires_at);
CREATE INDEX holds_expires_at ON holds (expires_at);
DROP INDEX holds_expires_at_show;
