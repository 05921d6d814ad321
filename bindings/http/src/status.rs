//! `GET /shows/<id>/seats`, streamed: a 200,000-seat map is never built in memory.
//!
//! A producer thread reads the seats with `seat_status_with` and writes the core's
//! [`StatusJson`] into chunks of [`CHUNK_BYTES`] sent over a bounded channel; the reply's
//! body reads them. A show that fits in one chunk gets a plain reply with a length, and a
//! read that fails before anything was sent gets the contract's error reply, because
//! nothing was sent before the answer. Every reply carries the read's `ETag`; a request
//! whose `If-None-Match` names it gets `304 Not Modified` without the seats.

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use seatcore::{Error, SeatCore, StatusJson};

use crate::reply::{Payload, Reply};

/// Bytes of JSON per chunk.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks in flight between the producer and the socket: memory per stream is bounded by
/// about `(IN_FLIGHT + 2) * CHUNK_BYTES`.
const IN_FLIGHT: usize = 4;

enum Msg {
    /// The read's entity tag, before anything else.
    Head(String),
    /// The client has this document: the read stopped.
    NotModified,
    /// The whole document (it fit in one chunk).
    Whole(Vec<u8>),
    /// Part of a longer document.
    Chunk(Vec<u8>),
    /// The document is complete.
    Done,
    /// The read failed before anything was sent.
    Failed(Error),
    /// The read failed after part of the document was sent: the reply must break off.
    Broken,
}

/// Where the producer's [`StatusJson`] writes: a buffer that becomes a chunk when full.
struct Chunks {
    buf: Vec<u8>,
    tx: SyncSender<Msg>,
    /// A chunk went out.
    started: bool,
    /// The reader is still there.
    listening: bool,
}

impl Chunks {
    /// Sends the buffer once it holds a chunk's worth.
    fn ship_if_full(&mut self) {
        if self.listening && self.buf.len() >= CHUNK_BYTES {
            self.started = true;
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES + 256));
            self.listening = self.tx.send(Msg::Chunk(full)).is_ok();
        }
    }
}

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // Once the client left, what is left of the read is dropped.
        if self.listening {
            self.buf.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The reply for the status of `show_id` (a valid show id). `if_none_match` is the
/// request's `If-None-Match`.
pub fn stream(core: &SeatCore, show_id: String, if_none_match: Option<String>) -> Reply {
    let (tx, rx) = sync_channel::<Msg>(IN_FLIGHT);
    let producer = core.clone();
    let spawned = std::thread::Builder::new()
        .name("seat-status".into())
        .spawn(move || produce(&producer, &show_id, if_none_match.as_deref(), tx));
    if let Err(e) = spawned {
        // No thread to read with: the server is out of resources for now.
        return failed(&Error::Unavailable(Box::new(e)));
    }
    let mut headers = Vec::new();
    loop {
        return match rx.recv() {
            Ok(Msg::Head(etag)) => {
                headers.push(("ETag", etag));
                continue;
            }
            Ok(Msg::NotModified) => Reply { status: 304, headers, payload: Payload::Empty },
            Ok(Msg::Whole(bytes)) => Reply { status: 200, headers, payload: Payload::Json(bytes) },
            Ok(Msg::Chunk(bytes)) => Reply {
                status: 200,
                headers,
                payload: Payload::JsonStream(Box::new(ChunkReader {
                    current: bytes,
                    pos: 0,
                    rx,
                    done: false,
                })),
            },
            Ok(Msg::Failed(e)) => failed(&e),
            // The producer ended without a word (it panicked): nothing was sent, try again.
            Ok(Msg::Done | Msg::Broken) | Err(_) => {
                failed(&Error::Unavailable("the seat status reader stopped".into()))
            }
        };
    }
}

/// Whether an `If-None-Match` value names `etag` (or is `*`).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// The producer thread: reads the seats into chunks, then says how it ended.
fn produce(core: &SeatCore, show_id: &str, if_none_match: Option<&str>, tx: SyncSender<Msg>) {
    let chunks = Chunks {
        buf: Vec::with_capacity(CHUNK_BYTES + 256),
        tx: tx.clone(),
        started: false,
        listening: true,
    };
    // Writing into a Vec cannot fail.
    let Ok(mut json) = StatusJson::new(chunks) else { return };
    let head = |head: &seatcore::StatusHead| {
        let _ = tx.send(Msg::Head(head.etag.clone()));
        !if_none_match.is_some_and(|tags| matches(tags, &head.etag))
    };
    let outcome = core.seat_status_with(show_id, head, |seat| {
        if json.get_mut().listening {
            let _ = json.seat(seat);
            json.get_mut().ship_if_full();
        }
    });
    let started = json.get_mut().started;
    let _ = match outcome {
        Ok(None) => tx.send(Msg::NotModified),
        Ok(Some(counts)) => match json.finish(&counts) {
            Ok(Chunks { buf, listening: true, started: true, .. }) => {
                tx.send(Msg::Chunk(buf)).and_then(|()| tx.send(Msg::Done))
            }
            Ok(Chunks { buf, listening: true, started: false, .. }) => tx.send(Msg::Whole(buf)),
            Ok(Chunks { listening: false, .. }) => Ok(()),
            Err(_) => tx.send(Msg::Broken),
        },
        Err(e) if !started => tx.send(Msg::Failed(e)),
        Err(_) => tx.send(Msg::Broken),
    };
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
                Ok(Msg::Chunk(bytes) | Msg::Whole(bytes)) => {
                    self.current = bytes;
                    self.pos = 0;
                }
                Ok(Msg::Done) => self.done = true,
                Ok(Msg::Head(_) | Msg::NotModified) => {}
                Ok(Msg::Failed(_) | Msg::Broken) | Err(_) => {
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

/// The contract's reply for a status read that failed before anything was sent.
fn failed(err: &Error) -> Reply {
    let r = seatcore::contract::rest_error(seatcore::contract::Op::Status, err);
    Reply::json(r.status, &r.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use seatcore::testing::TestDb;
    use serde_json::Value;

    #[test]
    fn large_maps_stream_and_small_ones_do_not() {
        let db = TestDb::new("status_stream");
        let core =
            SeatCore::connect(&db.url, seatcore::Options { pool_size: 2, ..Default::default() }).unwrap();
        let big: Vec<String> = (0..20_000).map(|i| format!("R{}_S{}", i / 100, i % 100)).collect();
        core.initialize_show("big", &big).unwrap();
        core.initialize_show("small", &["A1", "A2"]).unwrap();
        let hold = core.hold("big", &["R150_S7"], 60).unwrap();

        let reply = stream(&core, "big".into(), None);
        assert!(matches!(reply.payload, Payload::JsonStream(_)));
        let etag = reply.headers.iter().find(|(n, _)| *n == "ETag").map(|(_, v)| v.clone()).expect("an ETag");
        let bytes = reply.body_bytes();
        // the core's document (two reads may differ in their version only)
        let without_version = |bytes: &[u8]| {
            let mut v: Value = serde_json::from_slice(bytes).unwrap();
            assert!(v["version"].is_i64(), "{}", v["version"]);
            v.as_object_mut().unwrap().remove("version");
            v
        };
        assert_eq!(
            without_version(&bytes),
            without_version(&serde_json::to_vec(&core.seat_status("big").unwrap()).unwrap())
        );
        // a client that has it gets a 304; another tag gets the document
        let reply = stream(&core, "big".into(), Some(format!("W/\"x\", {etag}")));
        assert_eq!((reply.status, matches!(reply.payload, Payload::Empty)), (304, true));
        let reply = stream(&core, "big".into(), Some("\"other\"".into()));
        assert_eq!(reply.status, 200);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
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

        let reply = stream(&core, "small".into(), None);
        assert!(matches!(reply.payload, Payload::Json(_)));
        assert_eq!(reply.body_json()["total_seats"], 2);

        let reply = stream(&core, "nope".into(), None);
        assert_eq!(reply.status, 404);
        assert_eq!(reply.body_json(), serde_json::json!({"error": "show not found"}));
    }

    #[test]
    fn a_reader_that_leaves_early_stops_the_stream() {
        let db = TestDb::new("status_leave");
        let core =
            SeatCore::connect(&db.url, seatcore::Options { pool_size: 1, min_idle: 0, ..Default::default() })
                .unwrap();
        let big: Vec<String> = (0..30_000).map(|i| format!("SEAT_{i}")).collect();
        core.initialize_show("big", &big).unwrap();
        let reply = stream(&core, "big".into(), None);
        let Payload::JsonStream(mut reader) = reply.payload else { panic!("not streamed") };
        let mut first = [0u8; 16];
        reader.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"{\"seats\":[{\"seat");
        drop(reader);
        // The producer finishes its read and gives its connection back: the one-connection
        // pool serves the next read.
        assert_eq!(core.seat_status("big").unwrap().counts.total, 30_000);
    }
}
