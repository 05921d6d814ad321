//! The REST contract, end to end: the real binary, a real PostgreSQL, real HTTP.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use seatcore::testing::database_host_port;
use support::*;

#[test]
fn every_contract_row() {
    let db = TestDb::new("http_contract");
    let srv = Server::start(&db.url, &[]);

    // the demo show exists from the start
    let demo = srv.get("/shows/avengers_2026_7pm/seats").expect(200);
    let ids: Vec<&str> =
        demo["seats"].as_array().unwrap().iter().map(|s| s["seat_id"].as_str().unwrap()).collect();
    assert_eq!(ids, demo_seats());
    assert_eq!(demo["total_seats"], 50);

    // initialize
    let v = srv.post("/shows/s1/initialize", r#"{"seat_ids": ["C3", " A1", "B2 ", "Z9"]}"#).expect(201);
    assert_eq!(v, json!({"message": "show initialized with 4 seats", "show_id": "s1", "seat_count": 4}));
    let v = srv.post("/shows/s1/initialize", r#"{"seat_ids": ["X"]}"#).expect(409);
    assert_eq!(v, json!({"error": "show already exists"}));

    // seats: seat-map order, every key, no hold_expires_at unless held
    let mut v = srv.get("/shows/s1/seats").expect(200);
    // The newest final change: the initialize's own record is final once every older
    // transaction of the cluster (other tests run beside) has ended, so it may not be yet.
    assert!(v["version"].as_i64().is_some_and(|n| n >= 0), "{v}");
    v.as_object_mut().unwrap().remove("version");
    assert_eq!(
        v,
        json!({"total_seats": 4, "available_seats": 4, "held_seats": 0, "booked_seats": 0, "blocked_seats": 0, "invariants_valid": true,
               "seats": [{"seat_id": "C3", "status": "available"}, {"seat_id": "A1", "status": "available"},
                         {"seat_id": "B2", "status": "available"}, {"seat_id": "Z9", "status": "available"}]})
    );
    assert_eq!(srv.get("/shows/nope/seats").expect(404), json!({"error": "show not found"}));

    // hold
    let now = db_now(&db);
    let h = srv
        .post("/shows/s1/hold", r#"{"seat_ids": ["A1", " B2"], "hold_duration_seconds": 120}"#)
        .expect(201);
    let keys: HashSet<&str> = h.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, HashSet::from(["hold_id", "expires_at", "seat_ids"]));
    assert_eq!(h["seat_ids"], json!(["A1", "B2"]));
    let hold_id = h["hold_id"].as_str().unwrap().to_owned();
    assert!(seatcore::Uuid::parse_str(&hold_id).is_ok());
    let expires = h["expires_at"].as_str().unwrap();
    assert!(expires.ends_with("+00:00"), "{expires}");
    let left = seconds_until(expires, now);
    assert!((119.0..=122.0).contains(&left), "{left}");
    let v = srv.get("/shows/s1/seats").expect(200);
    assert_eq!((v["available_seats"].as_u64(), v["held_seats"].as_u64()), (Some(2), Some(2)));
    assert_eq!(v["seats"][1], json!({"seat_id": "A1", "status": "held", "hold_expires_at": expires}));

    let v = srv.post("/shows/s1/hold", r#"{"seat_ids": ["Z9", "B2", "A1"]}"#).expect(409);
    assert_eq!(v, json!({"error": "seats unavailable", "unavailable_seats": ["A1", "B2"]}));
    let v = srv.post("/shows/none/hold", r#"{"seat_ids": ["A1"]}"#).expect(400);
    assert_eq!(v, json!({"error": "show not found"}));
    let v = srv.post("/shows/s1/hold", r#"{"seat_ids": ["A1", "Q7"]}"#).expect(400);
    assert_eq!(v, json!({"error": "invalid seat ID(s)"}));

    // book, and book again: the same booking
    let b = srv.post_json("/shows/s1/book", &json!({"hold_id": hold_id})).expect(200);
    assert_eq!(b["booking_id"], json!(hold_id));
    assert_eq!(b["seat_ids"], json!(["A1", "B2"]));
    assert!(b["booked_at"].as_str().unwrap().ends_with("+00:00"));
    let again = srv.post_json("/shows/s1/book", &json!({"hold_id": hold_id})).expect(200);
    assert_eq!(again, b);
    let v = srv.get("/shows/s1/seats").expect(200);
    assert_eq!((v["booked_seats"].as_u64(), v["held_seats"].as_u64()), (Some(2), Some(0)));
    assert_eq!(v["seats"][1], json!({"seat_id": "A1", "status": "booked"}));

    let unknown = seatcore::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "not-a-uuid", "'; DROP TABLE holds; --"] {
        let v = srv.post_json("/shows/s1/book", &json!({"hold_id": id})).expect(400);
        assert_eq!(v, json!({"error": "hold not found or expired"}));
    }
    for body in
        [r#"{}"#, r#"{"hold_id": ""}"#, r#"{"hold_id": "  "}"#, r#"{"hold_id": 5}"#, r#"{"hold_id": null}"#]
    {
        let v = srv.post("/shows/s1/book", body).expect(400);
        assert_eq!(v, json!({"error": "hold_id must be a non-empty string"}), "{body}");
        let v = srv.post("/shows/s1/release-hold", body).expect(400);
        assert_eq!(v, json!({"error": "hold_id must be a non-empty string"}), "{body}");
    }

    // release
    let h = srv.post("/shows/s1/hold", r#"{"seat_ids": ["C3"]}"#).expect(201);
    let id = h["hold_id"].as_str().unwrap();
    assert_eq!(
        srv.post_json("/shows/s1/release-hold", &json!({"hold_id": id})).expect(200),
        json!({"message": "hold released"})
    );
    assert_eq!(
        srv.post_json("/shows/s1/release-hold", &json!({"hold_id": id})).expect(404),
        json!({"error": "hold not found"})
    );
    assert_eq!(
        srv.post_json("/shows/s1/release-hold", &json!({"hold_id": "zzz"})).expect(404),
        json!({"error": "hold not found"})
    );
    assert_eq!(
        srv.post_json("/shows/s1/book", &json!({"hold_id": id})).expect(400),
        json!({"error": "hold not found or expired"})
    );
    // a released seat can be held again
    srv.post("/shows/s1/hold", r#"{"seat_ids": ["C3"]}"#).expect(201);

    // health
    assert_eq!(
        srv.get("/health").expect(200),
        json!({"status": "healthy", "database": "connected", "shows": 2})
    );
    // the audit: every invariant of one show, or of all
    assert_eq!(
        srv.get("/audit?show_id=s1").expect(200),
        json!({"ok": true, "shows": 1, "seats": 4, "held": 1, "booked": 2, "problem_count": 0, "problems": []})
    );
    let all = srv.get("/audit").expect(200);
    assert_eq!(
        (all["ok"].as_bool(), all["shows"].as_u64(), all["seats"].as_u64()),
        (Some(true), Some(2), Some(54))
    );
    assert_eq!(
        srv.get("/audit?show_id=").expect(400),
        json!({"error": "show_id must be between 1 and 128 characters"})
    );

    // reset: non-empty bodies refused, then empty and {} accepted
    for body in [r#"{"x": 1}"#, "[]", "junk"] {
        let v = srv.post("/reset", body).expect(400);
        assert_eq!(v, json!({"error": "reset payload must be empty"}), "{body}");
    }
    let v = srv.request("POST", "/reset", &[], None).expect(200);
    assert_eq!(
        v,
        json!({"message": "all shows reset", "holds_cleared": 1, "bookings_cleared": 1, "seats_reset": 3})
    );
    let v = srv.post("/reset", "{}").expect(200);
    assert_eq!(
        v,
        json!({"message": "all shows reset", "holds_cleared": 0, "bookings_cleared": 0, "seats_reset": 0})
    );
    let v = srv.get("/shows/s1/seats").expect(200);
    assert_eq!(v["available_seats"], 4);

    // the page, the description, the metrics
    let page = srv.get("/");
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.body.contains("avengers_2026_7pm") && !page.body.contains("://cdn"));
    let api = srv.get("/openapi.json").expect(200);
    assert!(api["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/",
        "/health",
        "/audit",
        "/metrics",
        "/openapi.json",
        "/reset",
        "/shows/{show_id}/initialize",
        "/shows/{show_id}/seats",
        "/shows/{show_id}/hold",
        "/shows/{show_id}/book",
        "/shows/{show_id}/release-hold",
    ] {
        assert!(api["paths"].get(path).is_some(), "openapi lacks {path}");
    }
    let m = srv.get("/metrics");
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    for line in [
        r#"seatcore_http_requests_total{route="/shows/{show_id}/hold",method="POST",status="201"} 3"#,
        r#"seatcore_http_requests_total{route="/shows/{show_id}/hold",method="POST",status="409"} 1"#,
        "seatcore_holds_granted_total 3",
        "seatcore_bookings_total 1",
        "seatcore_releases_total 1",
    ] {
        assert!(m.body.lines().any(|l| l == line), "metrics lack {line:?}:\n{}", m.body);
    }
    assert!(m.body.contains("seatcore_http_request_duration_seconds_bucket{route=\"/shows/{show_id}/hold\""));
    assert!(m.body.contains("seatcore_pool_connections{state=\"idle\"}"));

    // one log line per request: method, path, status, milliseconds
    let line = |l: &str| l.starts_with("POST /shows/s1/hold 409 ") && l.ends_with("ms");
    let log = srv.log_once(|log| log.lines().any(line));
    assert!(log.lines().any(line), "{log}");
    assert!(log.contains("warning: no admin token"));
}

#[test]
fn seat_id_validation_in_contract_order() {
    let (db, srv) = serve("http_validation");
    srv.show("v", &["A1", "A2", "A3"]);
    for endpoint in ["/shows/v/hold", "/shows/new/initialize"] {
        let cases: &[(&str, Value)] = &[
            (r#"{}"#, json!({"error": "seat_ids must be provided as a non-empty JSON array"})),
            (
                r#"{"seat_ids": "A1"}"#,
                json!({"error": "seat_ids must be provided as a non-empty JSON array"}),
            ),
            (
                r#"{"seat_ids": {"a": 1}}"#,
                json!({"error": "seat_ids must be provided as a non-empty JSON array"}),
            ),
            (r#"{"seat_ids": []}"#, json!({"error": "seat_ids must contain at least one seat"})),
            (
                r#"{"seat_ids": ["A1", 7, ""]}"#,
                json!({"error": "each seat_id must be a string", "details": {"index": 1}}),
            ),
            (
                r#"{"seat_ids": ["A1", " ", 7]}"#,
                json!({"error": "seat_ids must not contain empty strings", "details": {"index": 1}}),
            ),
            (
                r#"{"seat_ids": ["A1", "A2", " A1 "]}"#,
                json!({"error": "seat_ids must not contain duplicates"}),
            ),
            (
                r#"{"seat_ids": ["A1", "A1", null]}"#,
                json!({"error": "each seat_id must be a string", "details": {"index": 2}}),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(&srv.post(endpoint, body).expect(400), want, "{endpoint} {body}");
        }
        for body in ["", "[]", "[1,2]", "\"x\"", "{bad json", "{} {}", "null"] {
            let v = srv.post(endpoint, body).expect(400);
            assert_eq!(v, json!({"error": "request body must be a JSON object"}), "{endpoint} {body:?}");
        }
        // JSON without a JSON content type
        let v = srv
            .request("POST", endpoint, &[("Content-Type", "text/plain")], Some(br#"{"seat_ids": ["A1"]}"#))
            .expect(400);
        assert_eq!(v, json!({"error": "request body must be a JSON object"}));
        let v = srv.request("POST", endpoint, &[], Some(br#"{"seat_ids": ["A1"]}"#)).expect(400);
        assert_eq!(v, json!({"error": "request body must be a JSON object"}));
    }
    // limits, each named
    let many: Vec<String> = (0..1001).map(|i| format!("S{i}")).collect();
    let v = srv.post_json("/shows/v/hold", &json!({"seat_ids": many})).expect(400);
    assert_eq!(v, json!({"error": "seat_ids must contain at most 1000 seats"}));
    let long = "x".repeat(65);
    let v = srv.post_json("/shows/v/hold", &json!({"seat_ids": ["A1", long]})).expect(400);
    assert_eq!(v, json!({"error": "each seat_id must be at most 64 characters", "details": {"index": 1}}));
    let v =
        srv.post_json(&format!("/shows/{}/hold", "s".repeat(129)), &json!({"seat_ids": ["A1"]})).expect(400);
    assert_eq!(v, json!({"error": "show_id must be between 1 and 128 characters"}));
    let v = srv.post("/shows/a%0Ab/hold", r#"{"seat_ids": ["A1"]}"#).expect(400);
    assert_eq!(v, json!({"error": "show_id must not contain control characters"}));
    let v = srv.post("/shows/%FF%FE/hold", r#"{"seat_ids": ["A1"]}"#).expect(400);
    assert!(v["error"].as_str().unwrap().contains("UTF-8"));
    // percent-encoded show ids are decoded
    srv.show("show%20one", &["A1"]);
    let v = srv.get("/shows/show%20one/seats").expect(200);
    assert_eq!(v["total_seats"], 1);
    let n: i64 =
        db.client().query_one("SELECT count(*) FROM shows WHERE show_id = 'show one'", &[]).unwrap().get(0);
    assert_eq!(n, 1);
    // nothing was written by any refused request
    let v = srv.get("/shows/v/seats").expect(200);
    assert_eq!(v["available_seats"], 3);
}

#[test]
fn hold_duration_parsing_and_clamping() {
    let (db, srv) = serve("http_durations");
    let seats: Vec<String> = (0..20).map(|i| format!("S{i}")).collect();
    srv.show("d", &seats);
    let cases: &[(Value, f64)] = &[
        (json!(null), 60.0), // placeholder for "absent", handled below
        (json!(120), 120.0),
        (json!(120.9), 120.0),
        (json!("300"), 300.0),
        (json!(5), 60.0),
        (json!(-40), 60.0),
        (json!(0), 60.0),
        (json!(99999), 1800.0),
        (json!(1e30), 1800.0),
        (json!("99999999999999999999999999"), 1800.0),
    ];
    for (i, (value, want)) in cases.iter().enumerate() {
        let body = if i == 0 {
            json!({"seat_ids": [seats[i]]})
        } else {
            json!({"seat_ids": [seats[i]], "hold_duration_seconds": value})
        };
        let now = db_now(&db);
        let h = srv.post_json("/shows/d/hold", &body).expect(201);
        let left = seconds_until(h["expires_at"].as_str().unwrap(), now);
        assert!(left >= want - 1.0 && left <= want + 2.0, "{body}: {left} s, want {want}");
    }
    let msg = json!({"error": "hold_duration_seconds must be an integer between 60 and 1800 seconds"});
    for bad in [
        json!(true),
        json!(false),
        json!(null),
        json!("abc"),
        json!(""),
        json!("-5"),
        json!("1.5"),
        json!({}),
        json!([60]),
    ] {
        let v = srv
            .post_json("/shows/d/hold", &json!({"seat_ids": ["S19"], "hold_duration_seconds": bad}))
            .expect(400);
        assert_eq!(v, msg, "{bad}");
    }
    // the seat-ids check comes before the duration check
    let v =
        srv.post_json("/shows/d/hold", &json!({"seat_ids": [], "hold_duration_seconds": true})).expect(400);
    assert_eq!(v["error"], "seat_ids must contain at least one seat");
}

#[test]
fn cors_preflight_404_405_and_head() {
    let db = TestDb::new("http_cors");
    let srv = Server::start(&db.url, &[]);
    let r = srv.request(
        "OPTIONS",
        "/shows/avengers_2026_7pm/hold",
        &[
            ("Origin", "http://example.com"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type, idempotency-key"),
        ],
        None,
    );
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r.header("access-control-allow-methods").unwrap().contains("POST"));
    assert_eq!(r.header("access-control-allow-headers"), Some("content-type, idempotency-key"));
    let r = srv.request("OPTIONS", "/health", &[], None);
    assert_eq!(r.status, 204);
    assert!(r.header("access-control-allow-methods").unwrap().contains("GET"));

    let r = srv.get("/no/such/route");
    assert_eq!(r.expect(404), json!({"error": "not found"}));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(srv.get("/shows/x/unknown").expect(404), json!({"error": "not found"}));
    for (method, path) in [
        ("GET", "/shows/x/hold"),
        ("DELETE", "/health"),
        ("PUT", "/shows/x/seats"),
        ("GET", "/reset"),
        ("POST", "/health"),
        ("POST", "/audit"),
    ] {
        let r = srv.request(method, path, &[], None);
        assert_eq!(r.expect(405), json!({"error": "method not allowed"}), "{method} {path}");
        assert!(r.header("allow").is_some());
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    }
    let r = srv.request("HEAD", "/health", &[], None);
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    for path in ["/", "/health", "/audit", "/openapi.json", "/metrics", "/shows/avengers_2026_7pm/seats"] {
        assert_eq!(srv.get(path).header("access-control-allow-origin"), Some("*"), "{path}");
    }
    let r = srv.post("/shows/avengers_2026_7pm/hold", r#"{"seat_ids": ["A1"]}"#);
    assert_eq!((r.status, r.header("access-control-allow-origin")), (201, Some("*")));
}

#[test]
fn oversized_and_hostile_input_never_breaks_the_server() {
    let (db, srv) = serve("http_robust");
    srv.show("r", &["A1", "A2"]);
    // a body over the limit: 413 JSON naming the limit
    let big = format!(r#"{{"seat_ids": ["A1"], "pad": "{}"}}"#, "x".repeat(300 * 1024));
    let v = srv.post("/shows/r/hold", &big).expect(413);
    assert_eq!(v, json!({"error": "request body must be at most 262144 bytes"}));
    // the same limit without a Content-Length (chunked)
    let chunk = "y".repeat(300 * 1024);
    let req = format!(
        "POST /shows/r/hold HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let out = raw(&srv.addr, req.as_bytes());
    assert!(out.starts_with("HTTP/1.1 413"), "{}", &out[..out.len().min(300)]);
    assert!(out.contains("request body must be at most 262144 bytes"));

    // a duration beyond any float is just very long: clamped to the maximum
    let now = db_now(&db);
    let h = srv.post("/shows/r/hold", r#"{"seat_ids": ["A2"], "hold_duration_seconds": 1e999}"#).expect(201);
    let left = seconds_until(h["expires_at"].as_str().unwrap(), now);
    assert!((1799.0..=1802.0).contains(&left), "{left}");

    let deep = "[".repeat(100_000);
    let hostile: Vec<(&str, String)> = vec![
        ("/shows/r/hold", format!(r#"{{"seat_ids": {deep}"#)),
        ("/shows/r/hold", r#"{"seat_ids": ["\u0000"]}"#.into()),
        ("/shows/r/hold", r#"{"seat_ids": ["\ud800"]}"#.into()),
        ("/shows/r/hold", "\u{0}\u{1}\u{2}".into()),
        ("/shows/r/book", r#"{"hold_id": "00000000-0000-0000-0000-000000000000"}"#.into()),
        ("/shows/r/book", format!(r#"{{"hold_id": "{}"}}"#, "9".repeat(100_000))),
        ("/shows/%27%3B%20DROP%20TABLE%20seats%3B--/hold", r#"{"seat_ids": ["A1"]}"#.into()),
        ("/shows/r/initialize", r#"{"seat_ids": ["ok", "\u0007bell"]}"#.into()),
        ("/reset", "\u{ffff}".into()),
    ];
    for (path, body) in &hostile {
        let r = srv.post(path, body);
        assert!(
            (400..500).contains(&r.status),
            "{path} {}: {} {}",
            &body[..body.len().min(60)],
            r.status,
            r.body
        );
        let v = r.json();
        let text = v["error"].as_str().unwrap_or_default().to_lowercase();
        assert!(!text.contains("select") && !text.contains("sql") && !text.contains("drop"), "{text}");
    }
    // a malformed request line gets a 400 from the HTTP layer, and the server lives on
    let out = raw(&srv.addr, b"BLAH\r\n\r\n");
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert_eq!(srv.get("/health").status, 200);
    let n: i64 = db.client().query_one("SELECT count(*) FROM seats", &[]).unwrap().get(0);
    assert_eq!(n, 2);
}

#[test]
fn admin_token_guards_reset_and_initialize() {
    let db = TestDb::new("http_admin");
    let srv = Server::start(&db.url, &["--no-demo", "--admin-token", "t0ken"]);
    assert!(!srv.log().contains("no admin token"));
    let body = Some(&br#"{"seat_ids": ["A1"]}"#[..]);
    let json_ct = ("Content-Type", "application/json");
    for auth in [None, Some("Bearer wrong"), Some("Basic t0ken"), Some("Bearer t0ke"), Some("Bearer")] {
        let headers: Vec<(&str, &str)> =
            [Some(json_ct), auth.map(|a| ("Authorization", a))].into_iter().flatten().collect();
        let r = srv.request("POST", "/shows/a/initialize", &headers, body);
        assert_eq!(r.status, 401, "{auth:?}");
        assert!(r.json()["error"].as_str().unwrap().contains("admin token"));
        let r = srv.request("POST", "/reset", &headers[1..], None);
        assert_eq!(r.status, 401, "{auth:?}");
        let r = srv.request("GET", "/audit", &headers[1..], None);
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    let n: i64 = db.client().query_one("SELECT count(*) FROM shows", &[]).unwrap().get(0);
    assert_eq!(n, 0);
    let ok = [json_ct, ("Authorization", "Bearer t0ken")];
    srv.request("POST", "/shows/a/initialize", &ok, body).expect(201);
    srv.request("POST", "/reset", &ok[1..], None).expect(200);
    assert_eq!(srv.request("GET", "/audit?show_id=a", &ok[1..], None).expect(200)["ok"], true);
    // everything else stays open
    srv.post("/shows/a/hold", r#"{"seat_ids": ["A1"]}"#).expect(201);
    srv.get("/shows/a/seats").expect(200);
}

#[test]
fn idempotency_key_replays_the_same_hold() {
    let (db, srv) = serve("http_idem");
    srv.show("i", &["A1", "A2", "A3"]);
    let key = [("Content-Type", "application/json"), ("Idempotency-Key", "req-42")];
    let body = br#"{"seat_ids": ["A1", "A2"]}"#;
    let first = srv.request("POST", "/shows/i/hold", &key, Some(body)).expect(201);
    let again = srv.request("POST", "/shows/i/hold", &key, Some(body)).expect(201);
    assert_eq!(first, again);
    let other = srv.request("POST", "/shows/i/hold", &key, Some(br#"{"seat_ids": ["A3"]}"#));
    assert_eq!(other.status, 422, "{}", other.body);
    assert!(other.json()["error"].as_str().unwrap().contains("Idempotency-Key"));
    let key2 = [("Content-Type", "application/json"), ("Idempotency-Key", "req-43")];
    let v = srv.request("POST", "/shows/i/hold", &key2, Some(body)).expect(409);
    assert_eq!(v["unavailable_seats"], json!(["A1", "A2"]));
    let bad = [("Content-Type", "application/json"), ("Idempotency-Key", "")];
    assert_eq!(srv.request("POST", "/shows/i/hold", &bad, Some(br#"{"seat_ids": ["A3"]}"#)).status, 400);
    let n: i64 = db.client().query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    assert_eq!(n, 1);
}

#[test]
fn short_holds_expire_and_are_swept() {
    let db = TestDb::new("http_expiry");
    // no sweeps during the first part: an expired hold must read as expired by itself
    let srv =
        Server::start(&db.url, &["--no-demo", "--min-hold-seconds", "1", "--sweep-interval-ms", "86400000"]);
    srv.show("e", &["A1", "A2"]);
    let h = srv.post("/shows/e/hold", r#"{"seat_ids": ["A1"], "hold_duration_seconds": 1}"#).expect(201);
    let r = srv.post("/shows/e/hold", r#"{"seat_ids": ["A1"]}"#).expect(409);
    assert_eq!(r["unavailable_seats"], json!(["A1"]));
    std::thread::sleep(Duration::from_millis(1300));
    let v = srv.get("/shows/e/seats").expect(200);
    assert_eq!((v["available_seats"].as_u64(), v["held_seats"].as_u64()), (Some(2), Some(0)));
    assert_eq!(v["invariants_valid"], true);
    let v = srv.post_json("/shows/e/book", &json!({"hold_id": h["hold_id"]})).expect(400);
    assert_eq!(v, json!({"error": "hold expired"}));
    assert_eq!(
        srv.post_json("/shows/e/release-hold", &json!({"hold_id": h["hold_id"]})).expect(404),
        json!({"error": "hold not found"})
    );
    // the seat is free for someone else at once
    srv.post("/shows/e/hold", r#"{"seat_ids": ["A1"], "hold_duration_seconds": 1}"#).expect(201);
    drop(srv);

    // with a 1 s sweeper the dead rows go away and are counted
    let srv =
        Server::start(&db.url, &["--no-demo", "--min-hold-seconds", "1", "--sweep-interval-ms", "1000"]);
    wait_until("the expired holds to be swept", || {
        db.client().query_one("SELECT count(*) = 0 FROM holds", &[]).unwrap().get(0)
    });
    let m = srv.get("/metrics").body;
    let swept: u64 =
        m.lines().find_map(|l| l.strip_prefix("seatcore_expirations_total ")).unwrap().parse().unwrap();
    assert_eq!(swept, 2, "{m}");
    let v = srv.post_json("/shows/e/book", &json!({"hold_id": h["hold_id"]})).expect(400);
    assert_eq!(v, json!({"error": "hold not found or expired"}));
}

#[test]
fn last_seat_race_has_exactly_one_winner() {
    let db = TestDb::new("http_race");
    let srv = Arc::new(Server::start(&db.url, &["--no-demo", "--workers", "16"]));
    srv.show("race", &["A1", "A2", "A3"]);
    let h = srv.post("/shows/race/hold", r#"{"seat_ids": ["A1", "A2"]}"#).expect(201);
    srv.post_json("/shows/race/book", &json!({"hold_id": h["hold_id"]})).expect(200);
    let clients = 40;
    let barrier = Arc::new(Barrier::new(clients));
    let answers: Vec<(u16, Value)> = (0..clients)
        .map(|_| {
            let (srv, barrier) = (Arc::clone(&srv), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let r = srv.post("/shows/race/hold", r#"{"seat_ids": ["A3"]}"#);
                (r.status, r.json())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let wins: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 201).map(|(_, v)| v).collect();
    assert_eq!(wins.len(), 1, "{answers:?}");
    for (status, v) in &answers {
        if *status != 201 {
            assert_eq!(
                (*status, v),
                (409, &json!({"error": "seats unavailable", "unavailable_seats": ["A3"]}))
            );
        }
    }
    let mut c = db.client();
    let row = c.query_one("SELECT count(*), min(hold_id::text) FROM holds", &[]).unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, String>(1)),
        (1, wins[0]["hold_id"].as_str().unwrap().to_owned())
    );
    let v = srv.get("/shows/race/seats").expect(200);
    assert_eq!(
        (v["booked_seats"].as_u64(), v["held_seats"].as_u64(), v["available_seats"].as_u64()),
        (Some(2), Some(1), Some(0))
    );
    let audit = srv.audit_ok("race");
    assert_eq!((audit["held"].as_u64(), audit["booked"].as_u64()), (Some(1), Some(2)));
}

#[test]
fn overlapping_multi_seat_holds_never_share_a_seat() {
    let db = TestDb::new("http_overlap");
    let srv = Arc::new(Server::start(&db.url, &["--no-demo", "--workers", "16"]));
    let seats: Vec<String> = (0..40).map(|i| format!("S{i}")).collect();
    srv.show("o", &seats);
    let threads = 24;
    let barrier = Arc::new(Barrier::new(threads));
    let granted: Vec<Vec<String>> = (0..threads)
        .map(|t| {
            let (srv, barrier) = (Arc::clone(&srv), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                for round in 0..15usize {
                    // windows of 2..=4 seats that overlap other threads' windows
                    let start = (t * 7 + round * 3) % 37;
                    let len = 2 + (t + round) % 3;
                    let want: Vec<String> =
                        (start..(start + len).min(40)).rev().map(|i| format!("S{i}")).collect();
                    let r = srv.post_json("/shows/o/hold", &json!({"seat_ids": want}));
                    match r.status {
                        201 => mine.push(want),
                        409 => {
                            let v = r.json();
                            let taken = v["unavailable_seats"].as_array().unwrap();
                            assert!(
                                !taken.is_empty()
                                    && taken.iter().all(|s| want.contains(&s.as_str().unwrap().to_owned()))
                            );
                        }
                        other => panic!("unexpected {other}: {}", r.body),
                    }
                }
                mine
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let mut seen = HashSet::new();
    for hold in &granted {
        for seat in hold {
            assert!(seen.insert(seat.clone()), "{seat} granted twice");
        }
    }
    assert!(!granted.is_empty());
    let v = srv.get("/shows/o/seats").expect(200);
    assert_eq!(v["held_seats"].as_u64(), Some(seen.len() as u64));
    assert_eq!(v["available_seats"].as_u64(), Some(40 - seen.len() as u64));
    assert_eq!(v["invariants_valid"], true);
    assert_eq!(srv.audit_ok("o")["held"].as_u64(), Some(seen.len() as u64));
    let mut c = db.client();
    let held: i64 = c.query_one("SELECT count(*) FROM seats WHERE hold_id IS NOT NULL", &[]).unwrap().get(0);
    let holds: i64 = c.query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    assert_eq!((held as usize, holds as usize), (seen.len(), granted.len()));
}

#[test]
fn large_seat_maps_stream() {
    let (_db, srv) = serve("http_stream");
    let seats: Vec<String> = (0..60_000).map(|i| format!("ROW{}_SEAT{}", i / 300, i % 300)).collect();
    srv.post_json("/shows/big/initialize", &json!({"seat_ids": seats})).expect(201);
    srv.post("/shows/big/hold", r#"{"seat_ids": ["ROW199_SEAT299"]}"#).expect(201);
    let r = srv.get("/shows/big/seats");
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    let v = r.expect(200);
    assert_eq!((v["total_seats"].as_u64(), v["held_seats"].as_u64()), (Some(60_000), Some(1)));
    let list = v["seats"].as_array().unwrap();
    assert_eq!(list.len(), 60_000);
    assert_eq!(list[59_999]["status"], "held");
    assert_eq!(list[12_345]["seat_id"], seats[12_345].as_str());
    // the map too: streamed, every seat in map order
    let r = srv.get("/shows/big/map");
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    let v = r.expect(200);
    assert_eq!(v["show_id"], "big");
    let list = v["seats"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|s| s["seat_id"].as_str().unwrap()).collect();
    assert_eq!(ids, seats);
    assert_eq!(list[59_999]["category"], "standard");
    assert_eq!(list[59_999]["section"], "");
    // read again, known to be large now; an unknown show is the contract's 404
    assert_eq!(srv.get("/shows/big/map").expect(200)["seats"].as_array().map(Vec::len), Some(60_000));
    assert_eq!(srv.get("/shows/nope/map").expect(404)["error"], "show not found");
}

#[test]
fn an_initialize_over_http_brings_the_statistics_up_to_date() {
    let (db, srv) = serve("http_init_statistics");
    db.client().batch_execute("ALTER TABLE seats SET (autovacuum_enabled = false)").unwrap();
    // a body of declared length (read whole), and a chunked one (parsed as it arrives)
    srv.show("declared", &["A1", "A2", "A3"]);
    let body = r#"{"seat_ids": ["A1", "A2", "A3"]}"#;
    let (head, tail) = body.split_at(14);
    let chunked = format!(
        "POST /shows/chunked/initialize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{head}\r\n{:x}\r\n{tail}\r\n0\r\n\r\n",
        head.len(),
        tail.len()
    );
    let out = raw(&srv.addr, chunked.as_bytes());
    assert!(out.starts_with("HTTP/1.1 201"), "{out}");
    assert_eq!(
        srv.get("/shows/chunked/map").expect(200)["seats"],
        srv.get("/shows/declared/map").expect(200)["seats"]
    );
    // taken by the worker once the reply is sent: both shows, whichever worker took them
    wait_until("the new shows in the planner's statistics", || {
        let known = db.shows_in_statistics().unwrap_or_default();
        known.contains("declared") && known.contains("chunked")
    });
}

#[test]
fn an_initialize_over_http_is_answered_before_its_statistics_are_taken() {
    let (db, srv) = serve("http_init_answer_first");
    db.client().batch_execute("ALTER TABLE seats SET (autovacuum_enabled = false)").unwrap();
    // An ANALYZE of the seats waits for this lock; writing seats does not.
    let mut blocker = db.client();
    let mut tx = blocker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE seats IN SHARE UPDATE EXCLUSIVE MODE").unwrap();
    srv.show("first", &["A1", "A2", "A3"]);
    let mut watcher = db.client();
    wait_until("the statistics of the new show to wait for the lock", || {
        let sql = "SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted AND relation = 'seats'::regclass)";
        watcher.query_one(sql, &[]).unwrap().get(0)
    });
    assert!(!db.shows_in_statistics().unwrap_or_default().contains("first"));
    assert_eq!(srv.get("/shows/first/seats").expect(200)["available_seats"], 3);
    tx.commit().unwrap();
    wait_until("the new show in the planner's statistics", || {
        db.shows_in_statistics().unwrap_or_default().contains("first")
    });
}

#[test]
fn sigterm_finishes_requests_in_flight_then_exits_zero() {
    let (db, mut srv) = serve("http_shutdown");
    srv.show("q", &["A1"]);
    // Hold a table lock so a reset (which locks every table) stays in flight.
    let mut blocker = db.client();
    let mut tx = blocker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE holds IN ACCESS EXCLUSIVE MODE").unwrap();
    let url = srv.url("/reset");
    let inflight = std::thread::spawn(move || call("POST", &url, &[], None));
    // wait until the reset waits on our lock
    let mut watcher = db.client();
    wait_until("the reset to wait for the lock", || {
        let sql = "SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted AND relation = 'holds'::regclass)";
        watcher.query_one(sql, &[]).unwrap().get(0)
    });
    srv.terminate();
    // a request that arrives once it is stopping is refused at once
    wait_until("the server to begin shutting down", || srv.log().contains("shutting down"));
    let late = call("GET", &srv.url("/health"), &[], None);
    assert_eq!(late.status, 503, "{}", late.body);
    assert!(late.body.contains("the server is shutting down"), "{}", late.body);
    // it must not leave while the reset is running
    assert!(srv.wait(Duration::from_millis(700)).is_none(), "exited with a request in flight");
    tx.commit().unwrap();
    let r = inflight.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let status = srv.wait(Duration::from_secs(60)).expect("the server did not exit");
    assert!(status.success(), "{status:?}");
    assert!(srv.log().contains("shutting down"));
}

/// A TCP forwarder in front of PostgreSQL that can cut every connection, to simulate an
/// outage without stopping the shared database.
mod outage {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    pub struct Proxy {
        pub addr: String,
        up: Arc<AtomicBool>,
        conns: Arc<Mutex<Vec<TcpStream>>>,
    }

    impl Proxy {
        pub fn start(target: String) -> Proxy {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let up = Arc::new(AtomicBool::new(true));
            let conns = Arc::new(Mutex::new(Vec::new()));
            let (up2, conns2) = (Arc::clone(&up), Arc::clone(&conns));
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    if !up2.load(Ordering::SeqCst) {
                        drop(client); // refused, in effect
                        continue;
                    }
                    let Ok(server) = TcpStream::connect(&target) else { continue };
                    let mut list = conns2.lock().unwrap();
                    list.push(client.try_clone().unwrap());
                    list.push(server.try_clone().unwrap());
                    pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                    pipe(server, client);
                }
            });
            Proxy { addr, up, conns }
        }

        pub fn down(&self) {
            self.up.store(false, Ordering::SeqCst);
            for c in self.conns.lock().unwrap().drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }

        pub fn up(&self) {
            self.up.store(true, Ordering::SeqCst);
        }
    }

    fn pipe(mut from: TcpStream, mut to: TcpStream) {
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

#[test]
fn database_outage_gives_503_and_recovers() {
    let db = TestDb::new("http_outage");
    let Some(hostport) = database_host_port(&db, "database_outage_gives_503_and_recovers") else {
        return;
    };
    let proxy = outage::Proxy::start(hostport.clone());
    let url = db.url.replacen(&hostport, &proxy.addr, 1);
    let srv = Server::start(&url, &["--no-demo", "--pool-timeout-seconds", "1"]);
    srv.show("o", &["A1", "A2"]);
    srv.post("/shows/o/hold", r#"{"seat_ids": ["A1"]}"#).expect(201);

    proxy.down();
    let r = srv.get("/health");
    assert_eq!(r.status, 503, "{}", r.body);
    let v = r.json();
    assert_eq!((v["status"].as_str(), v["database"].as_str()), (Some("unhealthy"), Some("disconnected")));
    for (path, body) in [
        ("/shows/o/hold", r#"{"seat_ids": ["A2"]}"#),
        ("/shows/o/book", r#"{"hold_id": "00000000-0000-0000-0000-000000000000"}"#),
    ] {
        let r = srv.post(path, body);
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.json(), json!({"error": "database unavailable, try again"}));
    }
    for path in ["/shows/o/seats", "/audit"] {
        let r = srv.get(path);
        assert_eq!(
            (r.status, r.json()),
            (503, json!({"error": "database unavailable, try again"})),
            "{path}"
        );
        assert_eq!(r.header("retry-after"), Some("1"), "{path}");
    }

    proxy.up();
    wait_until("the server to recover", || srv.get("/health").status == 200);
    let v = srv.post("/shows/o/hold", r#"{"seat_ids": ["A2"]}"#).expect(201);
    assert_eq!(v["seat_ids"], json!(["A2"]));
    assert_eq!(srv.get("/shows/o/seats").expect(200)["held_seats"], 2);
    assert_eq!(srv.audit_ok("o")["held"], 2);
}
