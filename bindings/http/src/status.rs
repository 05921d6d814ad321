//! `GET /shows/<id>/seats`, streamed: a 200,000-seat map is never built in memory.
//!
//! A producer thread reads the seats with `seat_status_each` and writes the JSON into
//! chunks of [`CHUNK_BYTES`] sent over a bounded channel; the reply's body reads them. The
//! `seats` array comes first and the counts after it (they are known only at the end;
//! key order means nothing in JSON). A show that fits in one chunk gets a plain reply
//! with a length, and an unknown show a 404, because nothing was sent before the answer.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver};

use seatcore::{SeatCore, SeatCounts, SeatRef, SeatState};

use crate::error::{error_reply, Op};
use crate::reply::{Payload, Reply};

/// Bytes of JSON per chunk.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks in flight between the producer and the socket: memory per stream is bounded by
/// about `(IN_FLIGHT + 2) * CHUNK_BYTES`.
const IN_FLIGHT: usize = 4;

enum Msg {
    /// The whole document (it fit in one chunk).
    Whole(Vec<u8>),
    /// Part of a longer document.
    Chunk(Vec<u8>),
    /// The document is complete.
    Done,
    /// The read failed before anything was sent.
    Failed(seatcore::Error),
    /// The read failed after part of the document was sent: the reply must break off.
    Broken,
}

/// The reply for a show's status.
pub fn seats(core: &SeatCore, show_id: String) -> Reply {
    let (tx, rx) = sync_channel::<Msg>(IN_FLIGHT);
    let core = core.clone();
    let spawned = std::thread::Builder::new().name("seat-status".into()).spawn(move || {
        let mut buf = Vec::with_capacity(CHUNK_BYTES + 256);
        buf.extend_from_slice(b"{\"seats\":[");
        let mut started = false; // a chunk went out
        let mut listening = true; // the reader is still there
        let mut first = true;
        let outcome = core.seat_status_each(&show_id, |seat| {
            if !listening {
                return; // the client left; let the read finish and free the connection
            }
            if !first {
                buf.push(b',');
            }
            first = false;
            write_seat(&mut buf, seat);
            if buf.len() >= CHUNK_BYTES {
                started = true;
                let full = std::mem::replace(&mut buf, Vec::with_capacity(CHUNK_BYTES + 256));
                listening = tx.send(Msg::Chunk(full)).is_ok();
            }
        });
        let _ = match outcome {
            Ok(counts) => {
                write_counts(&mut buf, &counts);
                if started {
                    tx.send(Msg::Chunk(buf)).and_then(|()| tx.send(Msg::Done))
                } else {
                    tx.send(Msg::Whole(buf))
                }
            }
            Err(e) if !started => tx.send(Msg::Failed(e)),
            Err(_) => tx.send(Msg::Broken),
        };
    });
    if spawned.is_err() {
        return Reply::error(503, "server busy, try again").with_header("Retry-After", "1");
    }
    match rx.recv() {
        Ok(Msg::Whole(bytes)) => Reply { status: 200, headers: Vec::new(), payload: Payload::Json(bytes) },
        Ok(Msg::Chunk(bytes)) => Reply {
            status: 200,
            headers: Vec::new(),
            payload: Payload::JsonStream(Box::new(ChunkReader { current: bytes, pos: 0, rx, done: false })),
        },
        Ok(Msg::Failed(e)) => error_reply(Op::Status, &e),
        Ok(Msg::Done) | Ok(Msg::Broken) | Err(_) => Reply::error(500, "internal error"),
    }
}

fn write_seat(buf: &mut Vec<u8>, seat: SeatRef<'_>) {
    buf.extend_from_slice(b"{\"seat_id\":");
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, seat.seat_id);
    buf.extend_from_slice(b",\"status\":\"");
    buf.extend_from_slice(seat.state.as_str().as_bytes());
    buf.push(b'"');
    if let (SeatState::Held, Some(t)) = (seat.state, seat.hold_expires_at) {
        buf.extend_from_slice(b",\"hold_expires_at\":\"");
        buf.extend_from_slice(seatcore::iso8601(&t).as_bytes());
        buf.push(b'"');
    }
    buf.push(b'}');
}

fn write_counts(buf: &mut Vec<u8>, c: &SeatCounts) {
    use std::io::Write;
    let _ = write!(
        buf,
        "],\"total_seats\":{},\"available_seats\":{},\"held_seats\":{},\"booked_seats\":{},\"invariants_valid\":{}}}",
        c.total, c.available, c.held, c.booked, c.invariants_valid
    );
}

/// Reads the chunks of a streamed document; an error if the producer broke off, so the
/// HTTP layer ends the reply without its final chunk and the client sees it is truncated.
struct ChunkReader {
    current: Vec<u8>,
    pos: usize,
    rx: Receiver<Msg>,
    done: bool,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Msg::Chunk(bytes)) | Ok(Msg::Whole(bytes)) => {
                    self.current = bytes;
                    self.pos = 0;
                }
                Ok(Msg::Done) => self.done = true,
                Ok(Msg::Failed(_)) | Ok(Msg::Broken) | Err(_) => {
                    return Err(io::Error::other("seat status read failed midway"));
                }
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore::testing::TestDb;
    use serde_json::Value;

    #[test]
    fn large_maps_stream_and_small_ones_do_not() {
        let db = TestDb::new("status_stream");
        let core = SeatCore::connect(&db.url, seatcore::Options { pool_size: 2, ..Default::default() }).unwrap();
        let big: Vec<String> = (0..20_000).map(|i| format!("R{}_S{}", i / 100, i % 100)).collect();
        core.initialize_show("big", &big).unwrap();
        core.initialize_show("small", &["A1", "A2"]).unwrap();
        let hold = core.hold("big", &["R150_S7"], 60).unwrap();

        let reply = seats(&core, "big".into());
        assert!(matches!(reply.payload, Payload::JsonStream(_)));
        let v = reply.body_json();
        assert_eq!(v["total_seats"], 20_000);
        assert_eq!(v["held_seats"], 1);
        assert_eq!(v["available_seats"], 19_999);
        assert_eq!(v["invariants_valid"], true);
        let list = v["seats"].as_array().unwrap();
        assert_eq!(list.len(), 20_000);
        assert_eq!(list[0]["seat_id"], "R0_S0");
        assert_eq!(list[19_999]["seat_id"], "R199_S99");
        let held = &list[15_007];
        assert_eq!(held["status"], "held");
        assert_eq!(held["hold_expires_at"], Value::String(seatcore::iso8601(&hold.expires_at)));
        assert!(list[0].get("hold_expires_at").is_none());

        let reply = seats(&core, "small".into());
        assert!(matches!(reply.payload, Payload::Json(_)));
        assert_eq!(reply.body_json()["total_seats"], 2);

        let reply = seats(&core, "nope".into());
        assert_eq!(reply.status, 404);
        assert_eq!(reply.body_json(), serde_json::json!({"error": "show not found"}));
    }
}
