//! The demo page in a real headless Chromium, driven over the DevTools protocol with real
//! clicks and key presses, against a real seatcore-server and PostgreSQL. Needs Chromium
//! (`scripts/setup.sh browser` installs it): without it the test fails under CI and says it
//! did not run elsewhere.
//!
//! `SEATCORE_SCREENSHOT=docs/screenshot-demo.png` (a path relative to the workspace) makes the
//! test save its screenshot there; otherwise it goes to cargo's temporary directory.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};

use seatcore::testing::prerequisite_missing;
use support::*;

/// How long any one thing the page should show may take to appear (a busy machine).
const WAIT: Duration = Duration::from_secs(60);
const HALL: &str = "demo_hall";
/// The page has drawn its show and follows its event stream.
const LIVE: &str = "body[data-loaded=\"true\"][data-live=\"open\"]";

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn launch(path: &str) -> Browser {
    let options = LaunchOptions::default_builder()
        .path(Some(PathBuf::from(path)))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1320, 1180)))
        .idle_browser_timeout(WAIT * 2)
        .args(vec![OsStr::new("--disable-quic"), OsStr::new("--disable-component-update")])
        .build()
        .expect("browser options");
    Browser::new(options).expect("starting chromium")
}

/// Evaluates `expr` in the page; the result is passed through JSON (`undefined` is null).
fn js(tab: &Tab, expr: &str) -> Value {
    let wrapped = format!("JSON.stringify((() => {{ return {expr}; }})()) ?? 'null'");
    let r = tab.evaluate(&wrapped, false).unwrap_or_else(|e| panic!("evaluating {expr}: {e}"));
    match r.value {
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap(),
        other => panic!("evaluating {expr}: no value ({other:?}, {:?})", r.description),
    }
}

fn text(tab: &Tab, selector: &str) -> String {
    tab.find_element(selector).unwrap_or_else(|e| panic!("{selector}: {e}")).get_inner_text().unwrap()
}

/// Brings the tab to the front: a tab behind another renders no frames, and a click waits
/// for one.
fn front(tab: &Tab) {
    tab.bring_to_front().expect("bringing the tab to the front");
}

fn click(tab: &Tab, selector: &str) {
    front(tab);
    tab.wait_for_element(selector).unwrap_or_else(|e| panic!("{selector}: {e}")).click().unwrap();
}

/// Waits until an element matching `selector` is in the page; on timeout, fails with the
/// page's error and notice lines.
fn wait(tab: &Tab, selector: &str) {
    if let Err(e) = tab.wait_for_element(selector) {
        let said = js(tab, "[document.getElementById('error').textContent, document.getElementById('notice').textContent, document.getElementById('live-status').textContent]");
        panic!("waiting for {selector}: {e}; the page says {said}");
    }
}

fn seat(id: &str) -> String {
    format!("#map .seat[data-seat=\"{id}\"]")
}

fn seat_in(id: &str, state: &str) -> String {
    format!("#map .seat[data-seat=\"{id}\"][data-state=\"{state}\"]")
}

/// Types into an input, replacing what it held.
fn set_input(tab: &Tab, selector: &str, value: &str) {
    front(tab);
    let el = tab.find_element(selector).unwrap();
    el.click().unwrap();
    js(tab, &format!("document.querySelector({selector:?}).select()"));
    tab.type_str(value).unwrap();
    assert_eq!(js(tab, &format!("document.querySelector({selector:?}).value")), json!(value));
}

fn choose(tab: &Tab, selector: &str, value: &str) {
    // a <select> is set as a user's choice would set it: the value, then a change event
    js(tab, &format!(
        "(() => {{ const s = document.querySelector({selector:?}); s.value = {value:?}; s.dispatchEvent(new Event('change')); return s.value; }})()"
    ));
    assert_eq!(js(tab, &format!("document.querySelector({selector:?}).value")), json!(value));
}

/// Each seat's status in `GET /shows/{show}/seats`.
fn statuses(srv: &Server, show: &str) -> std::collections::HashMap<String, (String, Option<String>)> {
    let v = srv.get(&format!("/shows/{show}/seats")).expect(200);
    v["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let expires = s["hold_expires_at"].as_str().map(str::to_owned);
            (s["seat_id"].as_str().unwrap().to_owned(), (s["status"].as_str().unwrap().to_owned(), expires))
        })
        .collect()
}

fn status_of(srv: &Server, show: &str, seat: &str) -> String {
    statuses(srv, show)[seat].0.clone()
}

/// The change record of `kind` about `hold_id` in the demo hall's history.
fn record(srv: &Server, kind: &str, hold_id: &str) -> Value {
    let page = srv.get(&format!("/shows/{HALL}/history?limit=1000")).expect(200);
    let found =
        page["changes"].as_array().unwrap().iter().find(|c| c["kind"] == kind && c["hold_id"] == hold_id);
    found.unwrap_or_else(|| panic!("no {kind} record of {hold_id} in {page:#}")).clone()
}

/// Seconds from a record's time to the expiry it set, both read from the database's clock
/// by the statement that made the change.
fn lasts(record: &Value) -> f64 {
    let at = chrono::DateTime::parse_from_rfc3339(record["at"].as_str().unwrap()).unwrap();
    seconds_until(record["expires_at"].as_str().unwrap(), at.with_timezone(&chrono::Utc))
}

fn screenshot_path() -> PathBuf {
    match std::env::var_os("SEATCORE_SCREENSHOT") {
        Some(p) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshot-demo.png"),
    }
}

#[test]
fn the_demo_page_holds_extends_releases_books_and_follows_other_clients_live() {
    let test = "the_demo_page_holds_extends_releases_books_and_follows_other_clients_live";
    let Some(path) = chromium() else {
        return prerequisite_missing(test, "chromium is not installed (scripts/setup.sh browser)");
    };
    let db = TestDb::new("http_browser");
    let srv = Server::start(&db.url, &[]);
    // someone else's booking on the built-in demo show, made before the page loads
    let h = srv.post("/shows/avengers_2026_7pm/hold", r#"{"seat_ids": ["C4"]}"#).expect(201);
    srv.post_json("/shows/avengers_2026_7pm/book", &json!({"hold_id": h["hold_id"]})).expect(200);

    let browser = launch(path);
    let tab = browser.new_tab().expect("a tab");
    tab.set_default_timeout(WAIT);

    // The built-in demo show: a flat list of ids drawn as rows A to E.
    tab.navigate_to(&srv.url("/")).unwrap().wait_until_navigated().unwrap();
    wait(&tab, LIVE);
    assert_eq!(text(&tab, "#show-name"), "avengers_2026_7pm");
    assert_eq!(js(&tab, "document.querySelectorAll('#map .seat').length"), json!(50));
    wait(&tab, &seat_in("C4", "booked"));
    assert_eq!(text(&tab, "#count-booked"), "1");
    assert_eq!(text(&tab, "#count-free"), "49");

    // A demo hall made by the page's own button: a structured map, three seats blocked.
    assert_eq!(js(&tab, "document.getElementById('create-input').value"), json!(HALL));
    click(&tab, "#create-button");
    wait(&tab, &seat_in("K15", "blocked"));
    wait(&tab, LIVE);
    assert_eq!(text(&tab, "#show-name"), HALL);
    let map = srv.get(&format!("/shows/{HALL}/map")).expect(200);
    let on_map = map["seats"].as_array().unwrap().len();
    assert_eq!(on_map, 122);
    assert_eq!(js(&tab, "document.querySelectorAll('#map .seat').length"), json!(on_map));
    assert_eq!(
        js(&tab, "[...document.querySelectorAll('#map h3')].map(h => h.textContent)"),
        json!(["Stalls", "Balcony"])
    );
    let counts = srv.get(&format!("/shows/{HALL}/seats")).expect(200);
    assert_eq!((counts["blocked_seats"].as_u64(), counts["available_seats"].as_u64()), (Some(3), Some(119)));
    assert_eq!((text(&tab, "#count-blocked"), text(&tab, "#count-free")), ("3".into(), "119".into()));
    // aisles are gaps: B4 and B6 sit two places apart, B3 and B4 side by side
    let gaps = js(
        &tab,
        "(() => { const r = id => document.querySelector(`#map .seat[data-seat=\"${id}\"]`).getBoundingClientRect(); \
         return [r('B4').left - r('B3').right, r('B6').left - r('B4').right, r('B4').width]; })()",
    );
    let (near, aisle, width) =
        (gaps[0].as_f64().unwrap(), gaps[1].as_f64().unwrap(), gaps[2].as_f64().unwrap());
    assert!(near < width / 2.0 && aisle > width, "seat gaps {near} and {aisle} for seats {width} wide");
    // seats name themselves and their state
    assert_eq!(
        js(&tab, &format!("document.querySelector({:?}).getAttribute('aria-label')", seat("F1"))),
        json!("Seat F1, Stalls, row F, standard, accessible: free")
    );
    assert_eq!(
        js(&tab, &format!("document.querySelector({:?}).getAttribute('aria-label')", seat("C9"))),
        json!("Seat C9, Stalls, row C, standard: blocked")
    );

    // Hold two seats: B7 with a click, B8 from the keyboard (arrow right, Enter).
    click(&tab, &seat("B7"));
    wait(&tab, &format!("{}[aria-pressed=\"true\"]", seat("B7")));
    tab.press_key("ArrowRight").unwrap();
    assert_eq!(js(&tab, "document.activeElement.dataset.seat"), json!("B8"));
    tab.press_key("Enter").unwrap();
    wait(&tab, &format!("{}[aria-pressed=\"true\"]", seat("B8")));
    assert_eq!(text(&tab, "#selection"), "Selected: B7, B8");
    click(&tab, "#hold-button");
    wait(&tab, &seat_in("B8", "mine"));
    let hold_id = js(&tab, "document.querySelector('#holds .hold').dataset.hold");
    let hold_id = hold_id.as_str().unwrap().to_owned();
    let hold = format!("#holds .hold[data-hold=\"{hold_id}\"]");
    let s = statuses(&srv, HALL);
    assert_eq!((s["B7"].0.as_str(), s["B8"].0.as_str()), ("held", "held"));
    let held = record(&srv, "held", &hold_id);
    assert_eq!(held["seat_ids"], json!(["B7", "B8"]));
    assert!((lasts(&held) - 120.0).abs() < 1.0, "held for {} s, the page asked 120", lasts(&held));
    assert_eq!(s["B7"].1.as_deref(), held["expires_at"].as_str());
    assert!(text(&tab, &format!("{hold} .countdown")).ends_with(" left"));

    // Extend it: 600 s from now.
    let before = js(&tab, &format!("document.querySelector('{hold} .countdown').dataset.expires"));
    set_input(&tab, "#duration", "600");
    click(&tab, &format!("{hold} button.extend"));
    wait(&tab, &format!("{hold} .countdown:not([data-expires={before}])"));
    let extended = record(&srv, "extended", &hold_id);
    assert!((lasts(&extended) - 600.0).abs() < 1.0, "extended by {} s, the page asked 600", lasts(&extended));
    assert_eq!(statuses(&srv, HALL)["B7"].1.as_deref(), extended["expires_at"].as_str());
    assert!(text(&tab, "#notice").contains("extended"), "{}", text(&tab, "#notice"));

    // Release B8 alone: the hold keeps B7.
    click(&tab, &format!("{hold} button.release-seat[data-seat=\"B8\"]"));
    wait(&tab, &seat_in("B8", "free"));
    assert_eq!(text(&tab, &format!("{hold} strong")), "B7");
    assert_eq!(
        (status_of(&srv, HALL, "B7"), status_of(&srv, HALL, "B8")),
        ("held".into(), "available".into())
    );

    // Book it.
    click(&tab, &format!("{hold} button.book"));
    wait(&tab, &seat_in("B7", "booked"));
    wait(&tab, &format!("#bookings li[data-booking=\"{hold_id}\"]"));
    assert_eq!(js(&tab, "document.querySelectorAll('#holds .hold').length"), json!(0));
    assert_eq!(status_of(&srv, HALL, "B7"), "booked");

    // Best three premium seats, side by side.
    set_input(&tab, "#best-count", "3");
    choose(&tab, "#best-category", "premium");
    click(&tab, "#best-button");
    wait(&tab, "#holds .hold");
    let best: Vec<String> = serde_json::from_value(js(
        &tab,
        "[...document.querySelectorAll('#holds .hold .release-seat')].map(b => b.dataset.seat)",
    ))
    .unwrap();
    assert_eq!(best.len(), 3, "{best:?}");
    let entries = map["seats"].as_array().unwrap();
    let entry = |id: &str| entries.iter().find(|e| e["seat_id"] == id).unwrap().clone();
    let (first, last) = (entry(&best[0]), entry(&best[2]));
    assert_eq!(first["row"], last["row"]);
    assert_eq!(last["position"].as_i64().unwrap() - first["position"].as_i64().unwrap(), 2, "{best:?}");
    for id in &best {
        assert_eq!(entry(id)["category"], "premium");
        assert_eq!(status_of(&srv, HALL, id), "held");
        wait(&tab, &seat_in(id, "mine"));
    }
    // A request no block fits: the API's refusal is shown.
    set_input(&tab, "#best-count", "4");
    choose(&tab, "#best-category", "");
    choose(&tab, "#best-accessible", "true");
    click(&tab, "#best-button");
    wait(&tab, "#error:not(:empty)");
    assert_eq!(text(&tab, "#error"), "Best available failed: no adjacent seats available [HTTP 409]");

    // The page opened a second time (its own tab, its own session): the first tab's holds
    // are someone else's there, and what the second tab holds reaches the first live.
    let tab2 = browser.new_tab().expect("a second tab");
    tab2.set_default_timeout(WAIT);
    tab2.navigate_to(&srv.url(&format!("/?show={HALL}"))).unwrap().wait_until_navigated().unwrap();
    wait(&tab2, LIVE);
    wait(&tab2, &seat_in("B7", "booked"));
    for id in &best {
        wait(&tab2, &seat_in(id, "held"));
    }
    assert_eq!(js(&tab2, "document.querySelectorAll('#holds .hold').length"), json!(0));
    click(&tab2, &seat("J4"));
    click(&tab2, "#hold-button");
    wait(&tab2, &seat_in("J4", "mine"));
    wait(&tab, &seat_in("J4", "held"));

    // Another client, through the API: its hold reaches the page through the event stream.
    let other = srv.post(&format!("/shows/{HALL}/hold"), r#"{"seat_ids": ["E15", "E16"]}"#).expect(201);
    wait(&tab, &seat_in("E15", "held"));
    wait(&tab, &seat_in("E16", "held"));
    wait(&tab, "#activity li[data-kind=\"held\"]");
    let latest = text(&tab, "#activity li:first-child");
    assert!(latest.contains("held") && latest.contains("E15, E16") && !latest.contains("yours"), "{latest}");
    let yours = js(&tab, "[...document.querySelectorAll('#activity li')].filter(l => l.textContent.includes('yours')).map(l => l.dataset.kind)");
    assert_eq!(
        yours,
        json!(["held", "booked", "released", "extended", "held"]),
        "this page's own changes, newest first"
    );

    front(&tab);
    let shot =
        tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).expect("screenshot");
    assert!(shot.starts_with(b"\x89PNG"), "not a PNG");
    let shot_path = screenshot_path();
    std::fs::write(&shot_path, &shot).unwrap_or_else(|e| panic!("writing {}: {e}", shot_path.display()));

    srv.post_json(&format!("/shows/{HALL}/release-hold"), &json!({"hold_id": other["hold_id"]})).expect(200);
    wait(&tab, &seat_in("E15", "free"));
    srv.post(&format!("/shows/{HALL}/block"), r#"{"seat_ids": ["J1"], "reason": "broken"}"#).expect(200);
    wait(&tab, &seat_in("J1", "blocked"));
    click(&tab2, "#holds .hold button.release-all");
    wait(&tab, &seat_in("J4", "free"));

    // Release all of the best hold.
    click(&tab, "#holds .hold button.release-all");
    for id in &best {
        wait(&tab, &seat_in(id, "free"));
        assert_eq!(status_of(&srv, HALL, id), "available");
    }

    // The page's audit button, and the audit through the API.
    click(&tab, "#admin summary");
    click(&tab, "#audit-button");
    wait(&tab, "#audit-result:not(:empty)");
    assert_eq!(text(&tab, "#audit-result"), "Every invariant holds: 122 seats, 0 held, 1 booked.");
    let a = srv.audit_ok(HALL);
    assert_eq!(
        (a["seats"].as_u64(), a["held"].as_u64(), a["booked"].as_u64()),
        (Some(122), Some(0), Some(1))
    );
    let a = srv.get("/audit").expect(200);
    assert_eq!((a["ok"].as_bool(), a["booked"].as_u64()), (Some(true), Some(2)), "{a:#}");
    // the page counts what the server counts
    let s = srv.get(&format!("/shows/{HALL}/seats")).expect(200);
    for (id, key) in [
        ("#count-free", "available_seats"),
        ("#count-booked", "booked_seats"),
        ("#count-blocked", "blocked_seats"),
    ] {
        assert_eq!(text(&tab, id), s[key].to_string(), "{id}");
    }

    // the page was served without anything from outside
    let page = srv.get("/").body;
    assert!(!page.contains("http://") && !page.contains("https://"), "the page refers to another origin");
}
