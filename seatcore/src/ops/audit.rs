//! The invariant audit: one read-only statement that checks every promise the rows must
//! keep, for one show or all of them. Operators run it (`seatcore-server audit`, the
//! admin endpoint, the Python and C calls); every test suite checks its end state with it.

use postgres::types::Type;
use serde::Serialize;

use crate::error::Result;
use crate::{validate, AuditSummary, OnLost, SeatCore};

/// Most problems one audit reports; the count says how many there were in all.
pub const MAX_REPORTED_PROBLEMS: usize = 100;

/// What an audit found. `problems` is empty exactly when every invariant holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// What was looked at and how many problems were found. Serialized inline: the audit
    /// document is `{"ok", "shows", "seats", "held", "booked", "problem_count", "problems"}`.
    #[serde(flatten)]
    pub summary: AuditSummary,
    /// The first [`MAX_REPORTED_PROBLEMS`] problems, each a sentence naming the show, seat
    /// and hold or booking.
    pub problems: Vec<String>,
}

/// Every check as one `problem` text per violation. `$1` is a show id, or NULL for all.
/// Checks: a seat in two live holds or two bookings in force; a live hold's seat that does
/// not carry it (or carries another expiry, or is booked); a seat held by no live hold that
/// lists it; a booking's seat that does not carry it; a booked seat its booking does not
/// list; a seat that carries a cancelled booking (a cancelled booking owns no seat); a show
/// whose seat count differs from its seat rows.
const PROBLEMS_SQL: &str = "
WITH live AS (
    SELECT hold_id, show_id, expires_at, unnest(seat_nos) AS seat_no
    FROM holds WHERE expires_at > now() AND ($1::text IS NULL OR show_id = $1)
), booked AS (
    SELECT booking_id, show_id, unnest(seat_nos) AS seat_no
    FROM bookings WHERE cancelled_at IS NULL AND ($1::text IS NULL OR show_id = $1)
), picked AS (
    SELECT * FROM seats WHERE $1::text IS NULL OR show_id = $1
), problems AS (
    SELECT format('show %s: seat #%s is in %s live holds', show_id, seat_no, count(*)) AS problem
    FROM live GROUP BY show_id, seat_no HAVING count(*) > 1
    UNION ALL
    SELECT format('show %s: seat #%s is in %s bookings', show_id, seat_no, count(*))
    FROM booked GROUP BY show_id, seat_no HAVING count(*) > 1
    UNION ALL
    SELECT format('show %s: live hold %s lists seat #%s, which does not carry it', l.show_id, l.hold_id, l.seat_no)
    FROM live l LEFT JOIN picked s ON s.show_id = l.show_id AND s.seat_no = l.seat_no
    WHERE s.hold_id IS DISTINCT FROM l.hold_id OR s.hold_expires_at IS DISTINCT FROM l.expires_at
       OR s.booking_id IS NOT NULL
    UNION ALL
    SELECT format('show %s: seat %s is held by %s, which is no live hold of it', s.show_id, s.seat_id, s.hold_id)
    FROM picked s
    WHERE s.hold_expires_at > now()
      AND NOT EXISTS (SELECT 1 FROM live l
                      WHERE l.show_id = s.show_id AND l.seat_no = s.seat_no AND l.hold_id = s.hold_id)
    UNION ALL
    SELECT format('show %s: booking %s lists seat #%s, which does not carry it', b.show_id, b.booking_id, b.seat_no)
    FROM booked b LEFT JOIN picked s ON s.show_id = b.show_id AND s.seat_no = b.seat_no
    WHERE s.booking_id IS DISTINCT FROM b.booking_id
    UNION ALL
    SELECT format('show %s: seat %s is booked by %s, which does not list it', s.show_id, s.seat_id, s.booking_id)
    FROM picked s
    WHERE s.booking_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM booked b
                      WHERE b.show_id = s.show_id AND b.seat_no = s.seat_no AND b.booking_id = s.booking_id)
      AND NOT EXISTS (SELECT 1 FROM bookings c WHERE c.booking_id = s.booking_id AND c.cancelled_at IS NOT NULL)
    UNION ALL
    SELECT format('show %s: seat %s is booked by %s, which was cancelled', s.show_id, s.seat_id, s.booking_id)
    FROM picked s JOIN bookings c ON c.booking_id = s.booking_id
    WHERE c.cancelled_at IS NOT NULL
    UNION ALL
    SELECT format('show %s: declares %s seats but has %s', sh.show_id, sh.seat_count, coalesce(n.seats, 0))
    FROM shows sh LEFT JOIN (SELECT show_id, count(*) AS seats FROM picked GROUP BY show_id) n USING (show_id)
    WHERE ($1::text IS NULL OR sh.show_id = $1) AND sh.seat_count <> coalesce(n.seats, 0)
)
SELECT (SELECT count(*) FROM shows WHERE $1::text IS NULL OR show_id = $1) AS shows,
       (SELECT count(*) FROM picked) AS seats,
       (SELECT count(*) FROM picked WHERE booking_id IS NULL AND hold_expires_at > now()) AS held,
       (SELECT count(*) FROM picked WHERE booking_id IS NOT NULL) AS booked,
       (SELECT count(*) FROM problems) AS problem_count,
       coalesce((SELECT array_agg(problem ORDER BY problem)
                 FROM (SELECT problem FROM problems ORDER BY problem LIMIT $2) p), '{}') AS problems";

impl SeatCore {
    /// Checks every invariant of the rows of `show_id` (or of every show, with `None`) in
    /// one read-only statement, so it sees one consistent moment while holds, bookings and
    /// sweeps go on. An unknown show is audited as empty (`shows` is 0).
    pub fn audit(&self, show_id: Option<&str>) -> Result<Audit> {
        if let Some(id) = show_id {
            validate::show_id(id)?;
        }
        let limit = MAX_REPORTED_PROBLEMS as i64;
        self.with_conn(OnLost::Retry, |c, _| {
            let row = c
                .client
                .query_typed(PROBLEMS_SQL, &[(&show_id, Type::TEXT), (&limit, Type::INT8)])?
                .into_iter()
                .next()
                .expect("an aggregate returns one row");
            let count = |i: usize| row.get::<_, i64>(i) as u64;
            let problems: Vec<String> = row.get(5);
            let summary = AuditSummary {
                ok: count(4) == 0,
                shows: count(0),
                seats: count(1),
                held: count(2),
                booked: count(3),
                problem_count: count(4),
            };
            Ok(Audit { summary, problems })
        })
    }
}
