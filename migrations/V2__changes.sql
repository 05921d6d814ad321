-- seatcore schema, version 2: the change log.
--
-- Every committed change of seats is recorded by the statement that makes it, in the same
-- transaction: no change without its record, no record without its change. One record per
-- operation (a hold of four seats is one `held` record), never one per seat.
--
-- Record ids must let a reader page with "after id X" and never miss a record, although ids
-- are handed out before commit and transactions commit in any order. So an id is made of the
-- writing transaction's id (xid8) and the record's ordinal within that transaction:
--   id = (pg_current_xact_id() << 20) | ordinal
-- and a reader returns only records below the horizon
--   pg_snapshot_xmin(pg_current_snapshot()) << 20
-- i.e. records of transactions older than every transaction still in flight. Those are all
-- finished (committed or rolled back), so the set of records below the horizon never grows
-- once a reader has seen it, and every record that appears later has a larger id. Records
-- of transactions that committed while an older one is still open wait until it ends.

CREATE TABLE changes (
    id         bigint      PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    kind       text        NOT NULL CHECK (kind IN ('initialized', 'held', 'extended', 'released', 'expired',
                                                    'booked', 'cancelled', 'blocked', 'unblocked', 'reset')),
    show_id    text        COLLATE "C" NOT NULL,
    seat_ids   text[]      NOT NULL,
    hold_id    uuid,
    booking_id uuid,
    expires_at timestamptz
);
-- History of one show, oldest first; and the retention sweep by age.
CREATE INDEX changes_show_id ON changes (show_id, id);
CREATE INDEX changes_at ON changes (at);

-- The functions this version made or changed stand, each as it is now, in
-- migrations/functions/ (seatcore/src/migrate.rs applies a function whenever its file changes).
