//! The hold lifecycle through the real binary: extend-hold capped by
//! `--max-hold-life-seconds`, release-hold of some seats, cancel-booking behind the admin
//! token, and their records in the history.

mod support;

use support::*;

fn auth(token: &str) -> [(&'static str, String); 2] {
    [("Content-Type", "application/json".to_owned()), ("Authorization", format!("Bearer {token}"))]
}

#[test]
fn extend_release_some_seats_and_cancel_a_booking() {
    let db = TestDb::new("http_lifecycle");
    let srv =
        Server::start(&db.url, &["--no-demo", "--admin-token", "t0ken", "--max-hold-life-seconds", "120"]);
    let admin = auth("t0ken");
    let admin: Vec<(&str, &str)> = admin.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let seats = br#"{"seat_ids": ["A1", "A2", "A3", "A4"]}"#;
    srv.request("POST", "/shows/l/initialize", &admin, Some(seats)).expect(201);

    let hold = srv.post("/shows/l/hold", r#"{"seat_ids": ["A1", "A2", "A3"]}"#).expect(201);
    let id = hold["hold_id"].as_str().unwrap().to_owned();
    // capped at creation + 120 s, whatever is asked for (the hold was made a moment ago)
    let extended =
        srv.post("/shows/l/extend-hold", &format!(r#"{{"hold_id": "{id}", "hold_duration_seconds": 1800}}"#));
    let v = extended.expect(200);
    assert_eq!((&v["hold_id"], &v["seat_ids"]), (&json!(id), &json!(["A1", "A2", "A3"])));
    let left = seconds_until(v["expires_at"].as_str().unwrap(), db_now(&db));
    assert!(left > 60.0 && left <= 120.0, "{left} s left: {v}");
    let gone = srv.post("/shows/l/extend-hold", r#"{"hold_id": "7b0c9e4e-7a43-4f0e-9d43-5bbd6c1e0a11"}"#);
    assert_eq!(gone.expect(400), json!({"error": "hold not found or expired"}));

    // release one seat, then a seat it does not have
    let r = srv.post("/shows/l/release-hold", &format!(r#"{{"hold_id": "{id}", "seat_ids": ["A2"]}}"#));
    assert_eq!(
        r.expect(200),
        json!({"message": "seats released", "seat_ids": ["A2"], "remaining_seat_ids": ["A1", "A3"]})
    );
    let r = srv.post("/shows/l/release-hold", &format!(r#"{{"hold_id": "{id}", "seat_ids": ["A2", "A4"]}}"#));
    assert_eq!(r.expect(400), json!({"error": "seats not in hold", "seat_ids": ["A2", "A4"]}));
    let status = srv.get("/shows/l/seats").expect(200);
    assert_eq!((status["held_seats"].as_u64(), status["available_seats"].as_u64()), (Some(2), Some(2)));

    // book what is left, then cancel it: the token is needed
    let booking = srv.post("/shows/l/book", &format!(r#"{{"hold_id": "{id}"}}"#)).expect(200);
    assert_eq!(booking["seat_ids"], json!(["A1", "A3"]));
    let body = format!(r#"{{"booking_id": "{id}"}}"#);
    let refused = srv.post("/shows/l/cancel-booking", &body);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    assert_eq!(srv.get("/shows/l/seats").expect(200)["booked_seats"], 2, "a refused cancel changes nothing");
    let cancelled = json!({"message": "booking cancelled", "seat_ids": ["A1", "A3"]});
    for _ in 0..2 {
        let r = srv.request("POST", "/shows/l/cancel-booking", &admin, Some(body.as_bytes()));
        assert_eq!(r.expect(200), cancelled);
    }
    let r = srv.request("POST", "/shows/l/cancel-booking", &admin, Some(br#"{"booking_id": "nope"}"#));
    assert_eq!(r.expect(404), json!({"error": "booking not found"}));
    let again = srv.post("/shows/l/book", &format!(r#"{{"hold_id": "{id}"}}"#));
    assert_eq!(again.expect(400), json!({"error": "booking cancelled"}));
    assert_eq!(srv.get("/shows/l/seats").expect(200)["available_seats"], 4);

    let kinds: Vec<Value> = srv.get("/shows/l/history").expect(200)["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c["kind"], c["seat_ids"]]))
        .collect();
    assert_eq!(
        kinds,
        [
            json!(["initialized", ["A1", "A2", "A3", "A4"]]),
            json!(["held", ["A1", "A2", "A3"]]),
            json!(["extended", ["A1", "A2", "A3"]]),
            json!(["released", ["A2"]]),
            json!(["booked", ["A1", "A3"]]),
            json!(["cancelled", ["A1", "A3"]]),
        ]
    );
    let audit = srv.request("GET", "/audit?show_id=l", &admin[1..], None).expect(200);
    assert_eq!(audit["ok"], true, "{audit}");
}

#[test]
fn the_description_lists_the_lifecycle() {
    let (_db, srv) = serve("http_lifecycle_doc");
    let doc = srv.get("/openapi.json").expect(200);
    let paths = &doc["paths"];
    assert!(paths["/shows/{show_id}/extend-hold"]["post"].is_object());
    assert!(paths["/shows/{show_id}/cancel-booking"]["post"]["security"].is_array());
    let release = &doc["components"]["schemas"]["ReleaseRequest"]["properties"];
    assert_eq!(release["seat_ids"]["maxItems"], json!(seatcore::validate::MAX_SEATS_PER_HOLD));
}
