-- seatcore schema, version 8: big shows made and read with less work. The mark of a held
-- seat, by which a status read checks that the seats' holds and the hold rows agree without
-- looking up a hold per seat; and no stored map for a show made from a flat list of ids.

-- A show made from a flat list of seat ids has a map that derives from the ids alone, in
-- seat-map order (rows and positions from ids like A1, ranks from the rows; see
-- seatcore::seat_map): it is not stored, and a reader derives it from the seats
-- (seatcore/src/ops/map.rs, seatcore/src/ops/best.rs). Writing it cost as much as writing
-- the seats (1.2 s of PostgreSQL's 2.9 s for 200,000 seats). Shows made before keep the rows
-- version 4 gave them.
ALTER TABLE shows ADD COLUMN map_derived boolean NOT NULL DEFAULT false;

-- The functions this version made or changed stand, each as it is now, in
-- migrations/functions/ (seatcore/src/migrate.rs applies a function whenever its file changes).
