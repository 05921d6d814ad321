-- Records with an id below this are final for the calling statement's snapshot.
CREATE OR REPLACE FUNCTION seatcore_change_horizon() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20;
