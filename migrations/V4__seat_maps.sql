-- seatcore schema, version 4: seat maps with sections, rows and positions; blocked seats.
--
-- The map is static once a show is initialized, so it lives beside the seats, not in them:
-- status reads, holds and bookings never read it (they stay as fast as before), and only
-- best-available holds and map reads do. Two seats of one section and row are adjacent
-- exactly when their positions differ by 1; a gap in positions is an aisle.

CREATE TABLE seat_map (
    show_id    text             COLLATE "C" NOT NULL,
    seat_no    integer          NOT NULL,
    section    text             COLLATE "C" NOT NULL DEFAULT '',
    row_label  text             COLLATE "C",
    position   integer          CHECK (position >= 0),
    category   text             COLLATE "C" NOT NULL DEFAULT 'standard',
    accessible boolean          NOT NULL DEFAULT false,
    -- lower is better; see seatcore::seat_map for the default
    rank       double precision NOT NULL,
    PRIMARY KEY (show_id, seat_no),
    -- a seat in a row has a position in it
    CHECK (row_label IS NULL OR position IS NOT NULL)
);
-- No two seats share a place in a row.
CREATE UNIQUE INDEX seat_map_place ON seat_map (show_id, section, row_label, position)
    WHERE row_label IS NOT NULL;

-- A blocked seat (house seat, broken seat) is neither held nor booked; holds refuse it like
-- a taken seat, and a reset leaves it blocked. Blocking clears what an expired hold left on
-- the seat.
ALTER TABLE seats ADD COLUMN block_reason text CHECK (char_length(block_reason) <= 200);
ALTER TABLE seats ADD CONSTRAINT seats_blocked_seat_is_free
    CHECK (block_reason IS NULL OR (hold_id IS NULL AND booking_id IS NULL));

-- Shows made before seat maps get the map a flat list of seat ids gets today: an id of
-- letters then digits (A1, B10, AA07) is in row "A", "B", "AA" at position 1, 10, 7 (the
-- first such seat of a place keeps it; a later one, "A01" after "A1", has no row), other
-- ids have no row; rows rank in the order they first appear, and within a row by the
-- distance from its middle (seatcore::seat_map::default_rank is the same formula).
INSERT INTO seat_map (show_id, seat_no, row_label, position, rank)
WITH parsed AS (
    SELECT show_id, seat_no, regexp_match(seat_id, '^([A-Za-z]+)([0-9]{1,9})$') AS m
    FROM seats
), placed AS (
    SELECT show_id, seat_no, m[1] AS row_label, m[2]::integer AS position,
           row_number() OVER (PARTITION BY show_id, m[1], m[2]::integer ORDER BY seat_no) AS nth
    FROM parsed
), rows AS (
    SELECT show_id, row_label, min(seat_no) AS first_seat, min(position) AS lo, max(position) AS hi
    FROM placed WHERE row_label IS NOT NULL AND nth = 1
    GROUP BY show_id, row_label
), ordered AS (
    SELECT *, row_number() OVER (PARTITION BY show_id ORDER BY first_seat) - 1 AS row_order FROM rows
)
SELECT p.show_id, p.seat_no,
       CASE WHEN p.nth = 1 THEN p.row_label END,
       CASE WHEN p.nth = 1 THEN p.position END,
       CASE WHEN p.nth = 1 AND o.row_order IS NOT NULL
            THEN o.row_order * 1000000 + abs(p.position - (o.lo + o.hi) / 2.0)
            ELSE 1e12 + p.seat_no END
FROM placed p LEFT JOIN ordered o ON o.show_id = p.show_id AND o.row_label = p.row_label;
