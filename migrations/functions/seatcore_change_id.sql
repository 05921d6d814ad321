-- The id of the `ordinal`-th record (from 0) a transaction writes.
CREATE OR REPLACE FUNCTION seatcore_change_id(ordinal bigint) RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
RETURN (pg_current_xact_id()::text::bigint << 20) | ordinal;
