-- seatcore schema, version 9: a show's live holds found through the expiry index.
--
-- A status read counts the show's live holds and the seats they list, in the snapshot of its
-- seats (seatcore/src/ops/show.rs). The index on (expires_at) alone took it through every
-- live hold of every show, each read from the table: 70 to 160 ms on a database with 275,000
-- live holds, for a show that has 31,000 of them. With the show beside the expiry in the
-- same index, the walk passes the other shows' holds in the index alone (20 to 30 ms there).
-- The sweep (oldest expiry first) and the next-expiry probe read it as before. Still one
-- index to keep up with each hold, a little wider.
CREATE INDEX holds_expires_at_show ON holds (expires_at, show_id);
DROP INDEX holds_expires_at;
