-- seatcore schema, version 1.
--
-- A seat's state is derived from its row, never stored twice:
--   booked    booking_id IS NOT NULL
--   held      hold_id IS NOT NULL AND hold_expires_at > now()   (the database's clock)
--   available otherwise; an expired hold frees its seats the moment it expires, before any sweep.
-- A seat's hold_id/hold_expires_at may keep an expired hold's values (the sweep deletes hold
-- rows only and never locks seats); the next hold of the seat overwrites them.
--
-- Deliberately absent: foreign keys from seats/holds/bookings to shows. Every such key makes
-- PostgreSQL take a KEY SHARE lock on the show row per inserted row, which turns one busy
-- show into a multixact hot spot and costs a trigger query per seat at initialize. The core
-- writes a show and its seats in one statement instead.

CREATE TABLE shows (
    show_id    text        COLLATE "C" PRIMARY KEY CHECK (show_id <> '' AND char_length(show_id) <= 128),
    seat_count integer     NOT NULL CHECK (seat_count > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bookings (
    booking_id uuid        PRIMARY KEY,           -- equals the hold_id it confirmed
    show_id    text        COLLATE "C" NOT NULL,
    seat_nos   integer[]   NOT NULL,
    seat_ids   text[]      NOT NULL,
    booked_at  timestamptz NOT NULL,
    CHECK (cardinality(seat_nos) > 0 AND cardinality(seat_nos) = cardinality(seat_ids))
);

CREATE TABLE holds (
    hold_id     uuid        PRIMARY KEY,
    show_id     text        COLLATE "C" NOT NULL,
    seat_nos    integer[]   NOT NULL,             -- positions in the seat map, ascending
    seat_ids    text[]      NOT NULL,             -- as requested (trimmed), for the reply
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    request_key text        CHECK (request_key <> '' AND char_length(request_key) <= 128),
    CHECK (cardinality(seat_nos) > 0 AND cardinality(seat_nos) = cardinality(seat_ids)),
    CHECK (expires_at > created_at)
);
-- The sweep walks expired holds oldest first.
CREATE INDEX holds_expires_at ON holds (expires_at);
-- A retried request (same show, same key) finds the hold it already made.
CREATE UNIQUE INDEX holds_request_key ON holds (show_id, request_key) WHERE request_key IS NOT NULL;

CREATE TABLE seats (
    show_id         text        COLLATE "C" NOT NULL,
    seat_no         integer     NOT NULL CHECK (seat_no > 0),   -- position in the seat map
    seat_id         text        COLLATE "C" NOT NULL CHECK (seat_id <> '' AND char_length(seat_id) <= 64),
    hold_id         uuid,
    hold_expires_at timestamptz,
    booking_id      uuid        REFERENCES bookings (booking_id),
    PRIMARY KEY (show_id, seat_no),
    UNIQUE (show_id, seat_id),
    -- a held seat always has both its hold and that hold's expiry
    CHECK ((hold_id IS NULL) = (hold_expires_at IS NULL)),
    -- a seat is never held and booked at once
    CHECK (hold_id IS NULL OR booking_id IS NULL)
) WITH (fillfactor = 90);  -- room on each page for HOT updates of hold columns
-- The planner needs to know each show's size (initialize runs ANALYZE seats (show_id) so a
-- new show is known at once); a small sample is plenty for that and keeps the ANALYZE cheap
-- on a big table (about 50 ms instead of 430 ms for 3.3 million seats).
ALTER TABLE seats ALTER COLUMN show_id SET STATISTICS 20;
-- Lets a booking be deleted (reset) without scanning every seat for references.
CREATE INDEX seats_booking_id ON seats (booking_id) WHERE booking_id IS NOT NULL;
