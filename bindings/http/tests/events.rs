//! `GET /shows/<id>/events` over real sockets: every change of every process, in id order,
//! resumable with `Last-Event-ID`; keep-alive comments; readers that never read cost
//! nothing to the others; a database restart loses nothing.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    id: i64,
    kind: String,
    data: Value,
}

/// An open event stream, read line by line.
struct Stream {
    lines: BufReader<chunked_transfer::Decoder<BufReader<TcpStream>>>,
    /// Comment lines seen so far.
    comments: usize,
}

impl Stream {
    /// Opens `path` on `addr` with extra request headers; checks the 200 and the headers.
    fn open(addr: &str, path: &str, headers: &[(&str, &str)]) -> Stream {
        let socket = TcpStream::connect(addr).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n");
        for (n, v) in headers {
            request.push_str(&format!("{n}: {v}\r\n"));
        }
        request.push_str("\r\n");
        (&socket).write_all(request.as_bytes()).unwrap();
        let mut reader = BufReader::new(socket);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            head.push(line.trim().to_ascii_lowercase());
        }
        assert!(head.iter().any(|h| h == "content-type: text/event-stream"), "{head:?}");
        assert!(head.iter().any(|h| h == "access-control-allow-origin: *"), "{head:?}");
        assert!(head.iter().any(|h| h == "transfer-encoding: chunked"), "{head:?}");
        Stream { lines: BufReader::new(chunked_transfer::Decoder::new(reader)), comments: 0 }
    }

    /// The next event; comment lines are counted and skipped. `None` when the stream ends.
    fn next(&mut self) -> Option<Event> {
        let (mut id, mut kind, mut data) = (None, None, None);
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches('\n');
            if line.is_empty() {
                if let (Some(id), Some(kind), Some(data)) = (id.take(), kind.take(), data.take()) {
                    return Some(Event { id, kind, data });
                }
            } else if line.starts_with(':') {
                self.comments += 1;
            } else if let Some(v) = line.strip_prefix("id: ") {
                id = Some(v.parse().unwrap());
            } else if let Some(v) = line.strip_prefix("event: ") {
                kind = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = Some(serde_json::from_str(v).unwrap());
            } else {
                panic!("not an event-stream line: {line:?}");
            }
        }
    }

    /// Reads until a comment line arrives (a keep-alive).
    fn keep_alive(&mut self) {
        let before = self.comments;
        while self.comments == before {
            let mut line = String::new();
            assert!(self.lines.read_line(&mut line).unwrap() > 0, "the stream ended");
            if line.starts_with(':') {
                self.comments += 1;
            }
        }
    }
}

fn hold<S: AsRef<str>>(srv: &Server, show: &str, seats: &[S]) -> String {
    let seats: Vec<&str> = seats.iter().map(AsRef::as_ref).collect();
    let v = srv.post_json(&format!("/shows/{show}/hold"), &json!({ "seat_ids": seats })).expect(201);
    v["hold_id"].as_str().unwrap().to_owned()
}

#[test]
fn changes_of_every_process_arrive_in_order_and_resume() {
    let db = TestDb::new("events_order");
    let a = Server::start(&db.url, &["--no-demo", "--event-keep-alive-seconds", "1"]);
    let b = Server::start(&db.url, &["--no-demo"]);
    a.show("s", &["A1", "A2", "A3", "A4"]);
    a.show("t", &["B1"]);
    let mut stream = Stream::open(&a.addr, "/shows/s/events", &[]);

    // Changes made through the other server, and through the core directly.
    let h1 = hold(&b, "s", &["A1", "A2"]);
    hold(&b, "t", &["B1"]); // another show: not in this stream
    b.post_json("/shows/s/book", &json!({ "hold_id": h1 })).expect(200);
    let core = seatcore::SeatCore::connect(&db.url, seatcore::Options { pool_size: 1, ..Default::default() })
        .unwrap();
    let h2 = core.hold("s", &["A3"], 60).unwrap();
    core.release("s", &h2.hold_id.to_string()).unwrap();

    let events: Vec<Event> = (0..4).map(|_| stream.next().expect("an event")).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["held", "booked", "held", "released"], "{events:#?}");
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids grow");
    for e in &events {
        assert_eq!(e.data["id"], e.id);
        assert_eq!(e.data["kind"], e.kind.as_str());
        assert_eq!(e.data["show_id"], "s");
    }
    assert_eq!(events[0].data["hold_id"], h1.as_str());
    assert_eq!(events[0].data["seat_ids"], json!(["A1", "A2"]));
    assert_eq!(events[1].data["booking_id"], h1.as_str());
    // a comment line keeps the quiet stream alive
    stream.keep_alive();

    // A reader that comes back with Last-Event-ID gets what followed, then what is new.
    let mut resumed =
        Stream::open(&b.addr, "/shows/s/events", &[("Last-Event-ID", &events[1].id.to_string())]);
    assert_eq!(resumed.next().map(|e| e.id), Some(events[2].id));
    assert_eq!(resumed.next().map(|e| e.id), Some(events[3].id));
    let h3 = hold(&a, "s", &["A4"]);
    let live = resumed.next().expect("the new hold");
    assert_eq!((live.kind.as_str(), live.data["hold_id"].as_str()), ("held", Some(h3.as_str())));
    assert_eq!(stream.next().map(|e| e.id), Some(live.id), "the first reader sees it too");
    // ?after= replays from the beginning of the show's history
    let mut from_start = Stream::open(&a.addr, "/shows/s/events?after=0", &[]);
    assert_eq!(from_start.next().map(|e| e.kind), Some("initialized".to_owned()));

    // Bad starts and unknown shows are refused before any stream starts.
    a.get("/shows/s/events?after=x").expect(400);
    a.request("GET", "/shows/s/events", &[("Last-Event-ID", "-3")], None).expect(400);
    a.get("/shows/nope/events").expect(404);
    a.audit_ok("s");
}

#[test]
fn readers_that_never_read_do_not_stall_the_others() {
    let (_db, srv) = serve("events_stuck");
    let seats: Vec<String> = (1..=300).map(|i| format!("S{i}")).collect();
    srv.show("s", &seats);
    // Readers that open a stream and never read from it.
    let stuck: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(&srv.addr).unwrap();
            s.write_all(b"GET /shows/s/events?after=0 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            s
        })
        .collect();
    let mut reader = Stream::open(&srv.addr, "/shows/s/events", &[]);
    let started = Instant::now();
    for seat in &seats {
        let h = hold(&srv, "s", &[seat]);
        srv.post_json("/shows/s/release-hold", &json!({ "hold_id": h })).expect(200);
    }
    // the reading reader gets every change, in order
    let mut last = 0;
    for i in 0..2 * seats.len() {
        let e = reader.next().unwrap_or_else(|| panic!("event {i} missing"));
        assert!(e.id > last);
        last = e.id;
    }
    srv.get("/health").expect(200);
    println!("600 changes through 21 streams (20 never read) in {:?}", started.elapsed());
    drop(stuck);
    srv.audit_ok("s");
}

#[test]
fn a_database_restart_loses_no_event() {
    let cluster = seatcore::testing::Cluster::start("events_restart", false);
    let url = cluster.url("127.0.0.1", "");
    let srv = Server::start(&url, &["--no-demo", "--pool-timeout-seconds", "2"]);
    srv.show("s", &["A1", "A2", "A3", "A4"]);
    let mut stream = Stream::open(&srv.addr, "/shows/s/events", &[]);
    hold(&srv, "s", &["A1"]);
    let first = stream.next().expect("the first hold");

    cluster.crash();
    cluster.up();
    // Once the database is back, changes flow again; a reader that lost its stream comes
    // back with Last-Event-ID and misses nothing.
    let deadline = Instant::now() + Duration::from_secs(60);
    let h2 = loop {
        let r = srv.post_json("/shows/s/hold", &json!({ "seat_ids": ["A2"] }));
        if r.status == 201 {
            break r.json()["hold_id"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "the database did not come back: {}", r.status);
        std::thread::sleep(Duration::from_millis(100));
    };
    hold(&srv, "s", &["A3"]);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match stream.next() {
            Some(e) => seen.push(e),
            None => {
                let last = seen.last().map_or(first.id, |e: &Event| e.id);
                stream = Stream::open(&srv.addr, "/shows/s/events", &[("Last-Event-ID", &last.to_string())]);
            }
        }
    }
    assert_eq!(seen[0].data["hold_id"], h2.as_str(), "{first:?} then {seen:#?}");
    assert_eq!(seen[1].data["seat_ids"], json!(["A3"]));
    assert!(first.id < seen[0].id && seen[0].id < seen[1].id);
    srv.audit_ok("s");
}

/// The open streams, as the server counts them.
/// Makes the show `s` of `n` seats whose ids are 60 characters long (big events); its ids.
fn show_of_long_ids(srv: &Server, n: usize) -> Vec<String> {
    let seats: Vec<String> = (0..n).map(|i| format!("{i:0>60}")).collect();
    srv.show("s", &seats);
    seats
}

fn streams_open(srv: &Server) -> usize {
    let text = srv.get("/metrics").body;
    let line = text.lines().find(|l| l.starts_with("seatcore_event_streams ")).expect("the streams gauge");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn streams_have_a_cap_of_their_own_beside_the_connection_cap() {
    let db = TestDb::new("events_many");
    let srv = Server::start(&db.url, &["--no-demo", "--max-connections", "8", "--max-event-streams", "60"]);
    srv.show("s", &["A1", "A2"]);
    // Far more streams than connections: a stream leaves the connections' count once open.
    let mut streams: Vec<Stream> = (0..60).map(|_| Stream::open(&srv.addr, "/shows/s/events", &[])).collect();
    assert_eq!(streams_open(&srv), 60);
    let refused = srv.get("/shows/s/events");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.json()["error"], "too many event streams, retry");
    srv.get("/health").expect(200);

    // An HTTP/1.0 reader gets the events unframed, until the connection closes.
    streams.pop();
    wait_until("a closed stream to leave the count", || streams_open(&srv) <= 59);
    let mut old = TcpStream::connect(&srv.addr).unwrap();
    old.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    old.write_all(b"GET /shows/s/events HTTP/1.0\r\n\r\n").unwrap();
    let mut old = BufReader::new(old);
    // Its head comes once the stream is registered: the hold below is after its start.
    let mut head = Vec::new();
    let mut line = String::new();
    while old.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
        head.push(line.trim().to_ascii_lowercase());
        line.clear();
    }
    assert!(head[0].starts_with("http/1.1 200"), "{head:?}");
    assert!(!head.iter().any(|h| h.starts_with("transfer-encoding")), "{head:?}");

    let h = hold(&srv, "s", &["A1"]);
    for s in &mut streams {
        let e = s.next().expect("the hold's event");
        assert_eq!((e.kind.as_str(), &e.data["hold_id"]), ("held", &json!(h)));
    }
    line.clear();
    while old.read_line(&mut line).unwrap() > 0 && !line.starts_with("event: held") {
        line.clear();
    }
    assert_eq!(line, "event: held\n");
    let mut data = String::new();
    old.read_line(&mut data).unwrap();
    assert!(data.starts_with("data: ") && data.contains(&h), "{data:?}");

    drop(streams);
    drop(old);
    wait_until("closed streams to leave the count", || streams_open(&srv) == 0);
    srv.audit_ok("s");
}

#[test]
fn a_change_larger_than_a_readers_bound_reaches_it_on_the_same_stream() {
    let (_db, srv) = serve("events_big_change");
    // Blocking all 5,000 seats is one event of about 320 KB, more than a reader's bound
    // (256 KiB), in one batch of its own.
    let seats = show_of_long_ids(&srv, 5000);
    let mut reader = Stream::open(&srv.addr, "/shows/s/events", &[]);
    wait_until("the reader's stream to open", || streams_open(&srv) == 1);
    srv.post_json("/shows/s/block", &json!({ "seat_ids": seats, "reason": "private event" })).expect(200);
    let blocked = reader.next().expect("the block's event on the stream");
    assert_eq!(blocked.kind, "blocked");
    assert_eq!(blocked.data["seat_ids"], json!(seats));
    // The stream goes on: the next change comes on it, nothing was cut.
    srv.post_json("/shows/s/unblock", &json!({ "seat_ids": [seats[0]] })).expect(200);
    let unblocked = reader.next().expect("the next event on the same stream");
    assert_eq!((unblocked.kind.as_str(), &unblocked.data["seat_ids"]), ("unblocked", &json!([seats[0]])));
    assert!(unblocked.id > blocked.id);
    assert_eq!(streams_open(&srv), 1);
    srv.audit_ok("s");
}

#[test]
fn a_reader_that_falls_behind_is_cut_off_and_the_others_get_everything() {
    let (_db, srv) = serve("events_behind");
    // An event of a 1,000-seat hold is about 63 KB.
    let seats = show_of_long_ids(&srv, 1000);
    let mut stuck = TcpStream::connect(&srv.addr).unwrap();
    stuck.write_all(b"GET /shows/s/events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reader = Stream::open(&srv.addr, "/shows/s/events", &[]);
    wait_until("the stuck reader's stream to open", || streams_open(&srv) >= 2);
    // Far more than the reader's bound (256 KiB) and what the sockets' buffers take: the
    // stuck reader is cut off, the one that reads gets every event, in order.
    let mut cycles = 0;
    while streams_open(&srv) > 1 {
        assert!(cycles < 2000, "a reader that never reads was never cut off");
        let h = hold(&srv, "s", &seats);
        srv.post_json("/shows/s/release-hold", &json!({ "hold_id": h })).expect(200);
        cycles += 1;
        for kind in ["held", "released"] {
            let e = reader.next().expect("the reader's next event");
            assert_eq!((e.kind.as_str(), &e.data["hold_id"]), (kind, &json!(h)));
        }
    }
    println!("the stuck reader was cut off after {cycles} holds and releases of 1,000 seats");
    // Its stream ends (the socket closes once what was sent is read).
    stuck.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut sink = Vec::new();
    std::io::Read::read_to_end(&mut stuck, &mut sink).expect("the cut-off stream closes");
    assert!(sink.starts_with(b"HTTP/1.1 200"));
    srv.audit_ok("s");
}
