//! The REST contract as a function, against a real PostgreSQL: every door that serves HTTP
//! (the server, a Python web app) answers through `seatcore::rest::handle`.

use seatcore::contract::Op;
use seatcore::rest::{self, Body, Request, Settings};
use seatcore::testing::TestDb;
use seatcore::{Options, SeatCore, SeatCounts, StatusJson};
use serde_json::{json, Value};

fn core(db: &TestDb) -> SeatCore {
    SeatCore::connect(&db.url, Options { pool_size: 2, ..Options::default() }).unwrap()
}

/// Calls `path` with `body` (as JSON unless `content_type` says otherwise).
fn call(core: &SeatCore, path: &str, content_type: Option<&str>, body: &str) -> (u16, Value) {
    let (endpoint, show_id) = rest::resolve(path).expect("a contract path");
    let query = path.split_once('?').map(|(_, q)| q);
    let rq =
        Request { body: body.as_bytes(), content_type, idempotency_key: None, query, last_event_id: None };
    let reply = rest::handle(core, &Settings::DEFAULT, endpoint, show_id.as_deref(), &rq);
    let body = match reply.body {
        Body::Json(json) => json.value(),
        Body::Status(show) => serde_json::to_value(core.seat_status(&show).unwrap()).unwrap(),
        Body::Map(show) => match core.seat_map(&show) {
            Ok(map) => serde_json::to_value(map).unwrap(),
            Err(e) => {
                let r = seatcore::contract::rest_error(Op::Map, &e);
                return (r.status, r.body);
            }
        },
        Body::Events { show_id, after } => json!({ "events": show_id, "after": after }),
    };
    (reply.status, body)
}

const JSON: Option<&str> = Some("application/json");

#[test]
fn every_endpoint_answers_the_contract() {
    let db = TestDb::new("rest_contract");
    let core = core(&db);
    let (s, v) = call(&core, "/shows/s1/initialize", JSON, r#"{"seat_ids":["A1"," A2 "]}"#);
    assert_eq!(
        (s, v),
        (201, json!({"message": "show initialized with 2 seats", "show_id": "s1", "seat_count": 2}))
    );
    let (s, v) = call(&core, "/shows/s1/initialize", JSON, r#"{"seat_ids":["A1"]}"#);
    assert_eq!((s, v), (409, json!({"error": "show already exists"})));
    let (s, v) = call(&core, "/shows/s1/hold", JSON, r#"{"seat_ids":["A2"],"hold_duration_seconds":"120"}"#);
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["seat_ids"], json!(["A2"]));
    assert_eq!(v.as_object().unwrap().len(), 3, "hold_id, expires_at, seat_ids: {v}");
    let hold_id = v["hold_id"].as_str().unwrap().to_owned();
    let (s, v) = call(&core, "/shows/s1/hold", JSON, r#"{"seat_ids":["A1","A2"]}"#);
    assert_eq!((s, v), (409, json!({"error": "seats unavailable", "unavailable_seats": ["A2"]})));
    let (s, v) = call(&core, "/shows/s1/hold", JSON, r#"{"seat_ids":["A9"]}"#);
    assert_eq!((s, v), (400, json!({"error": "invalid seat ID(s)"})));
    let (s, v) = call(&core, "/shows/nope/hold", JSON, r#"{"seat_ids":["A1"]}"#);
    assert_eq!((s, v), (400, json!({"error": "show not found"})));

    let (s, v) = call(&core, "/shows/s1/seats", None, "");
    assert_eq!(s, 200);
    assert_eq!((v["total_seats"].as_u64(), v["held_seats"].as_u64()), (Some(2), Some(1)));
    assert_eq!(v["invariants_valid"], json!(true));
    assert_eq!(v["seats"][0], json!({"seat_id": "A1", "status": "available"}));
    assert_eq!(v["seats"][1]["status"], json!("held"));

    let (s, v) = call(&core, "/shows/s1/book", Some("text/plain"), &format!(r#"{{"hold_id":"{hold_id}"}}"#));
    assert_eq!((s, v), (400, json!({"error": "request body must be a JSON object"})));
    let (s, v) = call(&core, "/shows/s1/book", JSON, r#"{"hold_id":"not-a-uuid"}"#);
    assert_eq!((s, v), (400, json!({"error": "hold not found or expired"})));
    let (s, v) = call(&core, "/shows/s1/book", JSON, r#"{"hold_id":"  "}"#);
    assert_eq!((s, v), (400, json!({"error": "hold_id must be a non-empty string"})));
    let (s, first) = call(&core, "/shows/s1/book", JSON, &format!(r#"{{"hold_id":"{hold_id}"}}"#));
    assert_eq!(s, 200, "{first}");
    let (s, again) = call(&core, "/shows/s1/book", JSON, &format!(r#"{{"hold_id":"{hold_id}"}}"#));
    assert_eq!((s, &again), (200, &first), "booking is idempotent");
    let (s, v) = call(&core, "/shows/s1/release-hold", JSON, &format!(r#"{{"hold_id":"{hold_id}"}}"#));
    assert_eq!((s, v), (404, json!({"error": "hold not found"})));

    let (s, v) = call(&core, "/reset", JSON, r#"{"x": 1}"#);
    assert_eq!((s, v), (400, json!({"error": "reset payload must be empty"})));
    let (s, v) = call(&core, "/reset", None, "");
    assert_eq!(
        (s, v),
        (
            200,
            json!({"message": "all shows reset", "holds_cleared": 0, "bookings_cleared": 1, "seats_reset": 1})
        )
    );
    let (s, v) = call(&core, "/shows/s1/history?limit=2", None, "");
    assert_eq!((s, v["changes"].as_array().map(Vec::len)), (200, Some(2)), "{v}");
    assert_eq!(v["changes"][0]["kind"], "initialized");
    let (s, v) = call(&core, "/shows/s1/history?seat_id=A2", None, "");
    let kinds: Vec<&str> =
        v["changes"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!((s, kinds), (200, vec!["initialized", "held", "booked", "reset"]));
    let (s, v) = call(&core, "/shows/s1/history?limit=0", None, "");
    assert_eq!((s, v), (400, json!({"error": "limit must be an integer between 1 and 1000"})));
    let (s, v) = call(&core, "/shows/s1/history?after=-5", None, "");
    assert_eq!((s, v), (400, json!({"error": "after must be a change id (an integer of 0 or more)"})));
    let (s, v) = call(&core, "/shows/nope/history", None, "");
    assert_eq!((s, v), (404, json!({"error": "show not found"})));
    let (s, v) = call(&core, "/shows/s1/events?after=12", None, "");
    assert_eq!((s, v), (200, json!({"events": "s1", "after": 12})));
    // From now: the newest change once the transactions in flight anywhere in the cluster
    // have ended; one that another test keeps open long enough leaves it lower, never below
    // what was final before the call.
    let before = core.last_change_id().unwrap();
    let (s, v) = call(&core, "/shows/s1/events", None, "");
    let newest: i64 = db.client().query_one("SELECT max(id) FROM changes", &[]).unwrap().get(0);
    assert!(
        s == 200 && v["after"].as_i64().is_some_and(|after| (before..=newest).contains(&after)),
        "from now: {v}, {before} to {newest}"
    );
    let (s, v) = call(&core, "/shows/s1/events?after=x", None, "");
    assert_eq!(s, 400, "{v}");
    let (s, _) = call(&core, "/shows/nope/events", None, "");
    assert_eq!(s, 404);
    let (s, v) = call(&core, "/audit?show_id=s1", None, "");
    assert_eq!((s, &v["ok"], &v["shows"], &v["seats"]), (200, &json!(true), &json!(1), &json!(2)), "{v}");
    let (s, v) = call(&core, "/audit", None, "");
    assert_eq!((s, &v["problems"]), (200, &json!([])), "{v}");
    let (s, v) = call(&core, "/health", None, "");
    assert_eq!((s, v), (200, json!({"status": "healthy", "database": "connected", "shows": 1})));
}

#[test]
fn an_unknown_show_is_a_404_on_a_status_read() {
    let db = TestDb::new("rest_status_404");
    let core = core(&db);
    let (endpoint, show_id) = rest::resolve("/shows/nope/seats").unwrap();
    assert_eq!(endpoint, Op::Status);
    let reply = rest::handle(&core, &Settings::DEFAULT, endpoint, show_id.as_deref(), &Request::default());
    let Body::Status(show) = reply.body else { panic!("a status body") };
    let err = core.seat_status(&show).unwrap_err();
    let reply = rest::status_error(&err);
    let Body::Json(body) = reply.body else { panic!("a JSON reply") };
    assert_eq!((reply.status, body.value()), (404, json!({"error": "show not found"})));
    let (endpoint, show_id) = rest::resolve("/shows/%FF/seats").unwrap();
    let reply = rest::handle(&core, &Settings::DEFAULT, endpoint, show_id.as_deref(), &Request::default());
    assert_eq!(reply.status, 400);
}

#[test]
fn the_streamed_status_equals_the_serialized_one() {
    let db = TestDb::new("rest_status_stream");
    let core = core(&db);
    let seats: Vec<String> = (0..500).map(|i| format!("R{}S{}", i / 20, i % 20)).collect();
    core.initialize_show("big", &seats).unwrap();
    core.hold("big", &["R3S7", "R3S8"], 60).unwrap();
    let hold = core.hold("big", &["R9S1"], 60).unwrap();
    core.book("big", &hold.hold_id.to_string()).unwrap();

    let mut status = core.seat_status("big").unwrap();
    let mut doc = StatusJson::new(Vec::new()).unwrap();
    let counts = core.seat_status_each("big", |seat| doc.seat(seat).unwrap()).unwrap();
    let streamed = doc.finish(&counts).unwrap();
    // The version is below every transaction in flight in the cluster, other tests' too, so
    // two reads of an unchanged show may carry different ones; all else is equal.
    assert_eq!(SeatCounts { version: status.counts.version, ..counts }, status.counts);
    status.counts.version = counts.version;
    let whole = serde_json::to_vec(&status).unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), String::from_utf8(whole.clone()).unwrap());
    let v: Value = serde_json::from_slice(&whole).unwrap();
    assert_eq!(v["total_seats"], 500);
    assert_eq!(v["held_seats"], 2);
    assert_eq!(v["booked_seats"], 1);
    assert_eq!(
        v["seats"][67],
        json!({"seat_id": "R3S7", "status": "held", "hold_expires_at": v["seats"][67]["hold_expires_at"]})
    );
    assert!(v["seats"][67]["hold_expires_at"].as_str().unwrap().ends_with("+00:00"));
}

#[test]
fn seat_maps_blocks_and_best_available_over_rest() {
    let db = TestDb::new("rest_maps");
    let core = core(&db);
    let body = json!({"seats": [
        {"seat_id": "L1", "section": "stalls", "row": "1", "position": 1, "category": "vip", "accessible": true},
        {"seat_id": "L2", "section": "stalls", "row": "1", "position": 2, "category": "vip"},
        {"seat_id": "L3", "section": "stalls", "row": "1", "position": 3},
        {"seat_id": "L5", "section": "stalls", "row": "1", "position": 5, "rank": 0.5},
        {"seat_id": "BOX"}
    ]})
    .to_string();
    let (s, v) = call(&core, "/shows/s/initialize", JSON, &body);
    assert_eq!((s, &v["seat_count"]), (201, &json!(5)), "{v}");
    let (s, v) = call(&core, "/shows/s/map", None, "");
    assert_eq!(s, 200);
    assert_eq!(
        v["seats"][0],
        json!({"seat_id": "L1", "section": "stalls", "row": "1", "position": 1,
        "category": "vip", "accessible": true, "rank": v["seats"][0]["rank"]})
    );
    assert_eq!(v["seats"][3]["rank"], json!(0.5));
    assert_eq!((&v["seats"][4]["row"], &v["seats"][4]["position"]), (&json!(null), &json!(null)));

    // refused maps, with the seat's index; nothing is written
    for (body, status, error, index) in [
        (
            json!({"seat_ids": ["A1"], "seats": [{"seat_id": "A1"}]}),
            400,
            "give either seat_ids or seats, not both",
            None,
        ),
        (json!({}), 400, "seat_ids must be provided as a non-empty JSON array", None),
        (json!({"seats": "A1"}), 400, "seats must be provided as a non-empty JSON array", None),
        (json!({"seats": []}), 400, "seats must contain at least one seat", None),
        (json!({"seats": [{"seat_id": "A"}, 5]}), 400, "each seat must be a JSON object", Some(1)),
        (
            json!({"seats": [{"seat_id": "A", "row": "1"}]}),
            400,
            "position must be given when row is given",
            Some(0),
        ),
        (
            json!({"seats": [{"seat_id": "A", "row": "1", "position": -2}]}),
            400,
            "position must be an integer from 0 to 2147483647",
            Some(0),
        ),
        (
            json!({"seats": [{"seat_id": "A", "row": "1", "position": 1.5}]}),
            400,
            "position must be an integer from 0 to 2147483647",
            Some(0),
        ),
        (
            json!({"seats": [{"seat_id": "A", "row": "1", "position": 2_147_483_648_i64}]}),
            400,
            "position must be an integer from 0 to 2147483647",
            Some(0),
        ),
        (
            json!({"seats": [{"seat_id": "A", "row": "1", "position": 1}, {"seat_id": "B", "row": "1", "position": 1}]}),
            400,
            "two seats of a section and row must not share a position",
            Some(1),
        ),
        (json!({"seats": [{"seat_id": 7}]}), 400, "seat_id must be a string", Some(0)),
        (json!({"seats": [{"row": "1", "position": 1}]}), 400, "seat_id must be given", Some(0)),
        (
            json!({"seats": [{"seat_id": "A", "accessible": "yes"}]}),
            400,
            "accessible must be true or false",
            Some(0),
        ),
        (
            json!({"seats": [{"seat_id": "A"}, {"seat_id": " A "}]}),
            400,
            "seat_ids must not contain duplicates",
            None,
        ),
    ] {
        let (s, v) = call(&core, "/shows/t/initialize", JSON, &body.to_string());
        assert_eq!((s, v["error"].as_str()), (status, Some(error)), "{body}");
        assert_eq!(v["details"]["index"].as_u64(), index.map(|i: u64| i), "{body}");
    }
    assert_eq!(call(&core, "/shows/t/map", None, "").0, 404, "nothing was written");

    // blocks
    let (s, v) = call(&core, "/shows/s/block", JSON, r#"{"seat_ids": ["L3"], "reason": "broken"}"#);
    assert_eq!((s, v), (200, json!({"blocked": ["L3"]})));
    let (s, v) = call(&core, "/shows/s/block", JSON, r#"{"seat_ids": ["ZZ"]}"#);
    assert_eq!((s, v), (400, json!({"error": "invalid seat ID(s)"})));
    let (s, v) = call(&core, "/shows/s/block", JSON, r#"{"seat_ids": ["L1"], "reason": 5}"#);
    assert_eq!(s, 400, "{v}");
    let (s, v) = call(&core, "/shows/s/seats", None, "");
    assert_eq!((s, &v["blocked_seats"], &v["seats"][2]["status"]), (200, &json!(1), &json!("blocked")));
    let (s, v) = call(&core, "/shows/s/hold", JSON, r#"{"seat_ids": ["L2", "L3"]}"#);
    assert_eq!((s, v), (409, json!({"error": "seats unavailable", "unavailable_seats": ["L3"]})));

    // best available: L1-L2 is the only pair (L3 blocked, L5 beyond an aisle)
    let (s, v) = call(&core, "/shows/s/hold-best", JSON, r#"{"count": 2}"#);
    assert_eq!((s, &v["seat_ids"]), (201, &json!(["L1", "L2"])), "{v}");
    let (s, v) = call(&core, "/shows/s/hold-best", JSON, r#"{"count": 2}"#);
    assert_eq!((s, v), (409, json!({"error": "no adjacent seats available"})));
    let (s, v) = call(&core, "/shows/s/hold-best", JSON, r#"{"count": 1, "category": "balcony"}"#);
    assert_eq!((s, v), (409, json!({"error": "no adjacent seats available"})));
    for bad in [r#"{"count": 0}"#, r#"{"count": 51}"#, r#"{"count": "2"}"#, r#"{"count": 1.5}"#, r#"{}"#] {
        let (s, v) = call(&core, "/shows/s/hold-best", JSON, bad);
        assert_eq!((s, v), (400, json!({"error": "count must be an integer between 1 and 50"})), "{bad}");
    }
    let (s, v) = call(&core, "/shows/s/hold-best", JSON, r#"{"count": 1, "accessible": "yes"}"#);
    assert_eq!((s, v), (400, json!({"error": "accessible must be true or false"})));
    let (s, v) = call(&core, "/shows/nope/hold-best", JSON, r#"{"count": 1}"#);
    assert_eq!((s, v), (400, json!({"error": "show not found"})));
    let (s, v) = call(&core, "/shows/s/unblock", JSON, r#"{"seat_ids": ["L3"]}"#);
    assert_eq!((s, v), (200, json!({"unblocked": ["L3"]})));
    // L3 (the row's middle: rank 0) beats L5 (rank 0.5, as given)
    let (s, v) = call(&core, "/shows/s/hold-best", JSON, r#"{"count": 1}"#);
    assert_eq!((s, &v["seat_ids"]), (201, &json!(["L3"])), "{v}");
}

/// A body that arrives a few bytes at a time.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.0.len()).min(7);
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// `POST path` answered by `rest::handle` with the body in memory, and by
/// `rest::read_initialize` + `rest::initialize_read` with the body arriving, its length
/// `declared` (a body that small is read whole, then parsed) or not (parsed as it arrives).
fn initialize_both(
    core: &SeatCore,
    whole: &str,
    streamed: &str,
    ct: Option<&str>,
    body: &str,
    declared: bool,
) -> [(u16, Value); 2] {
    let (endpoint, show_id) = rest::resolve(whole).unwrap();
    let rq = Request { body: body.as_bytes(), content_type: ct, ..Request::default() };
    let a = rest::handle(core, &Settings::DEFAULT, endpoint, show_id.as_deref(), &rq);
    let (_, show_id) = rest::resolve(streamed).unwrap();
    let rq = Request { content_type: ct, ..Request::default() };
    let read = rest::read_initialize(
        show_id.as_deref(),
        &rq,
        Trickle(body.as_bytes()),
        declared.then_some(body.len()),
    );
    let b = rest::initialize_read(core, read);
    let json = |r: rest::Reply| match r.body {
        Body::Json(json) => (r.status, json.value()),
        other => panic!("a JSON reply, not {other:?}"),
    };
    [json(a), json(b)]
}

#[test]
fn an_initialize_read_from_its_connection_answers_as_one_read_whole() {
    let db = TestDb::new("rest_initialize_stream");
    let core = core(&db);
    let long_id = "x".repeat(200);
    let many = format!("{{\"seat_ids\": [{}\"A\"]}}", "\"A\",".repeat(500_000));
    let deep = format!("{{\"seat_ids\": [\"A1\"], \"hold_id\": {}{}}}", "[".repeat(200), "]".repeat(200));
    let refused: Vec<(String, &str)> = [
        r#"{"seat_ids": []}"#,
        r#"{"seat_ids": "A1"}"#,
        r#"{"seat_ids": null}"#,
        r#"{"seat_ids": {"0": "A1"}}"#,
        r#"{"seat_ids": ["A1", 2, ""]}"#,
        r#"{"seat_ids": ["A1", " ", 2]}"#,
        r#"{"seat_ids": ["A1", [[1]], " "]}"#,
        r#"{"seat_ids": ["A1", " A1"]}"#,
        r#"{"seat_ids": ["A1", "B\u0032", "B2"]}"#,
        r#"{"seat_ids": ["A\u0000"]}"#,
        r#"{"seat_ids": ["A1"], "seat_ids": 5}"#,
        r#"{"seat_ids": ["A1"], "seats": [{"seat_id": "A1"}]}"#,
        r#"{"seats": [{"seat_id": "A1"}], "seat_ids": 7}"#,
        r#"{}"#,
        r#"{"seats": "A1"}"#,
        r#"{"seats": []}"#,
        r#"{"seats": [{"seat_id": "A"}, 5]}"#,
        r#"{"seats": [{"seat_id": "A"}, [1, 2]]}"#,
        r#"{"seats": [{"seat_id": "A", "row": "1"}]}"#,
        r#"{"seats": [{"seat_id": "A", "row": "1", "row": null}]}"#,
        r#"{"seats": [{"seat_id": "A", "row": ""}]}"#,
        r#"{"seats": [{"seat_id": "A", "row": "1", "position": -2}]}"#,
        r#"{"seats": [{"seat_id": "A", "row": "1", "position": 1.5}]}"#,
        r#"{"seats": [{"seat_id": "A", "row": "1", "position": 18446744073709551615}]}"#,
        r#"{"seats": [{"seat_id": "A", "row": "1", "position": 1}, {"seat_id": "B", "row": "1", "position": 1}]}"#,
        r#"{"seats": [{"seat_id": "A", "row": "1", "position": 1}, {"seat_id": "A"}, {"seat_id": "B", "row": "1", "position": 1}]}"#,
        r#"{"seats": [{"seat_id": 7}]}"#,
        r#"{"seats": [{"seat_id": "A", "seat_id": 7}]}"#,
        r#"{"seats": [{"row": "1", "position": 1}]}"#,
        r#"{"seats": [{"seat_id": "A", "accessible": "yes"}]}"#,
        r#"{"seats": [{"seat_id": "A", "section": null}]}"#,
        r#"{"seats": [{"seat_id": "A", "category": {"x": 1}}]}"#,
        r#"{"seats": [{"seat_id": "A", "rank": "1"}]}"#,
        r#"{"seats": [{"seat_id": "A"}, {"seat_id": " A "}]}"#,
        r#"{"seats": [{"seat_id": " "}, {"seat_id": "B", "rank": true}]}"#,
        r#"{"seat_ids": ["A1"]"#,
        r#"{"seat_ids": ["A1"]} x"#,
        r#"["A1"]"#,
        "",
        deep.as_str(),
        many.as_str(),
    ]
    .into_iter()
    .map(|b| (b.to_owned(), "t"))
    .chain([
        // the show id's problems after a flat list's, and between a map's kinds of problem
        (r#"{"seat_ids": ["A1", "A1"]}"#.to_owned(), long_id.as_str()),
        (r#"{"seat_ids": ["A1"]}"#.to_owned(), long_id.as_str()),
        (r#"{"seats": [{"seat_id": "A"}, 5]}"#.to_owned(), long_id.as_str()),
        (r#"{"seats": [{"seat_id": "A"}, {"seat_id": "A"}]}"#.to_owned(), long_id.as_str()),
        (r#"{"seats": [{"seat_id": " "}]}"#.to_owned(), long_id.as_str()),
    ])
    .collect();
    for declared in [true, false] {
        for (body, show) in &refused {
            let path = format!("/shows/{show}/initialize");
            let [whole, streamed] = initialize_both(&core, &path, &path, JSON, body, declared);
            assert_eq!(whole.0, 400, "{body}: {}", whole.1);
            assert_eq!(streamed, whole, "{} (length declared: {declared})", &body[..body.len().min(200)]);
        }
        for (ct, path) in [(Some("text/plain"), "/shows/t/initialize"), (JSON, "/shows/%FF/initialize")] {
            let [whole, streamed] =
                initialize_both(&core, path, path, ct, r#"{"seat_ids": ["A1"]}"#, declared);
            assert_eq!((whole.0, &streamed), (400, &whole), "{path} {ct:?} (length declared: {declared})");
        }
    }
    assert_eq!(core.health().unwrap().shows, 0, "nothing was written");

    let accepted = [
        r#"{"seat_ids": [" A1 ", "B\u0032", "A2", "VIP", "B02"], "hold_id": "x", "other": [[{}]]}"#,
        r#"{"seat_ids": 5, "seat_ids": ["A1"]}"#,
        r#"{"seats": [
            {"seat_id": "L1", "section": "stalls", "row": "1", "position": 1, "category": "vip", "accessible": true},
            {"seat_id": "L2", "section": "stalls", "row": "1", "position": 2, "rank": 3, "x": [1]},
            {"seat_id": "L3", "row": "1", "position": 2, "rank": null, "row": null},
            {"seat_id": "L5", "section": "stalls", "row": "1", "position": 5, "rank": 0.5},
            {"seat_id": "BOX", "position": null}
        ]}"#,
    ];
    for (i, body) in accepted.iter().enumerate() {
        let a = format!("a{i}");
        let whole_path = format!("/shows/{a}/initialize");
        for declared in [true, false] {
            // the whole body is answered once, for show a; show b is read with its length
            // declared, show c as it arrives
            let b = format!("{}{i}", if declared { "b" } else { "c" });
            let [whole, streamed] =
                initialize_both(&core, &whole_path, &format!("/shows/{b}/initialize"), JSON, body, declared);
            assert_eq!(whole.0, if declared { 201 } else { 409 }, "{body}: {}", whole.1);
            let seat_count = core.seat_map(&a).unwrap().seats.len();
            assert_eq!((streamed.0, &streamed.1["seat_count"]), (201, &json!(seat_count)), "{body}");
            let map = core.seat_map(&b).unwrap().seats;
            assert_eq!(map, core.seat_map(&a).unwrap().seats, "{body}");
            // the show's one change lists its seats in map order
            let log = db.settled_history(&core, &b, None);
            let ids: Vec<&str> = map.iter().map(|s| s.seat_id.as_str()).collect();
            assert_eq!(log.len(), 1, "{body}");
            assert_eq!(
                (log[0].kind.as_str(), &log[0].seat_ids),
                ("initialized", &ids.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            );
            let [_, again] = initialize_both(
                &core,
                "/shows/x/initialize",
                &format!("/shows/{b}/initialize"),
                JSON,
                body,
                declared,
            );
            assert_eq!(again, (409, json!({"error": "show already exists"})));
        }
    }
    let audit = core.audit(None).unwrap();
    assert!(audit.summary.ok, "{:?}", audit.problems);
}

/// How many times the test schema's seats were analyzed.
fn times_analyzed(db: &TestDb) -> i64 {
    db.client()
        .query_one(
            "SELECT analyze_count FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'seats'",
            &[&db.schema],
        )
        .unwrap()
        .get(0)
}

/// Creates `show` through `rest::read_initialize` + `rest::initialize_read`, its body's
/// length declared as `declared`; the reply's status.
fn initialize_read(core: &SeatCore, show: &str, body: &str, declared: usize) -> u16 {
    let (_, show_id) = rest::resolve(&format!("/shows/{show}/initialize")).unwrap();
    let rq = Request { content_type: JSON, ..Request::default() };
    let read = rest::read_initialize(show_id.as_deref(), &rq, body.as_bytes(), Some(declared));
    rest::initialize_read(core, read).status
}

#[test]
fn initialize_read_leaves_the_statistics_to_settle() {
    let db = TestDb::new("rest_initialize_statistics");
    let core = core(&db);
    // no ANALYZE but seatcore's own: autovacuum may not analyze the table meanwhile
    db.client().batch_execute("ALTER TABLE seats SET (autovacuum_enabled = false)").unwrap();
    let before = times_analyzed(&db);
    core.settle_statistics();
    assert_eq!(times_analyzed(&db), before, "nothing was owed");

    // through the core, the statistics are taken before it returns
    core.initialize_show("first", &["A1", "A2"]).unwrap();
    assert_eq!(times_analyzed(&db), before + 1);
    assert!(db.shows_in_statistics().unwrap().contains("first"));

    let body = r#"{"seat_ids": ["A1", "A2", "A3"]}"#;
    assert_eq!(initialize_read(&core, "early", body, body.len()), 201);
    assert_eq!(times_analyzed(&db), before + 1, "the statistics are owed, not taken");
    assert!(!db.shows_in_statistics().unwrap().contains("early"));
    assert_eq!(core.seat_status("early").unwrap().seats.len(), 3, "the show is there meanwhile");
    core.settle_statistics();
    assert_eq!(times_analyzed(&db), before + 2);
    assert!(db.shows_in_statistics().unwrap().contains("early"));
    core.settle_statistics();
    assert_eq!(times_analyzed(&db), before + 2, "settled once");

    // through `rest::handle` (the Python web-app door), before it returns too
    let (status, _) = call(&core, "/shows/whole/initialize", JSON, r#"{"seat_ids": ["A1", "A2"]}"#);
    assert_eq!(status, 201);
    assert_eq!(times_analyzed(&db), before + 3);
    assert!(db.shows_in_statistics().unwrap().contains("whole"));
}

#[test]
fn an_initialize_body_unlike_its_declared_length_is_refused() {
    let db = TestDb::new("rest_initialize_length");
    let core = core(&db);
    let body = r#"{"seat_ids": ["A1", "A2", "A3"]}"#;
    // cut short of its declared length: the JSON ends early, or it is whole but the body
    // ends before its declared length (read whole, and parsed as it arrives past 4 MiB)
    assert_eq!(initialize_read(&core, "cut", &body[..body.len() - 5], body.len()), 400);
    assert_eq!(initialize_read(&core, "cut", body, body.len() + 1), 400);
    let padded = format!("{body}{}", " ".repeat(5 << 20));
    assert_eq!(initialize_read(&core, "cut", &padded, padded.len() + 1), 400);
    // running past its declared length, whether or not the JSON ended within it
    assert_eq!(initialize_read(&core, "past", body, body.len() - 5), 400);
    assert_eq!(initialize_read(&core, "past", &format!("{body}  "), body.len()), 400);
    assert_eq!(core.health().unwrap().shows, 0, "nothing was written");
    assert_eq!(initialize_read(&core, "exact", body, body.len()), 201);
    assert_eq!(initialize_read(&core, "padded", &padded, padded.len()), 201);
}
