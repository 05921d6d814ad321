//! The demo page in a real headless Chromium: it loads the seat map, and its own buttons
//! hold and book seats. Needs Chromium (`apt-get install chromium`): without it the test
//! fails under CI and says it did not run elsewhere.

mod support;

use std::process::Command;

use support::*;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// The page's DOM after its scripts ran.
fn dump_dom(browser: &str, url: &str) -> String {
    let profile = std::env::temp_dir().join(format!("seatcore-chromium-{}", std::process::id()));
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .output()
        .expect("running chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn seat_class<'a>(dom: &'a str, seat: &str) -> &'a str {
    let at = dom.find(&format!("id=\"seat-{seat}\"")).unwrap_or_else(|| panic!("no seat {seat} in the page"));
    let tag_start = dom[..at].rfind('<').unwrap();
    let tag = &dom[tag_start..at];
    let class = tag.split("class=\"").nth(1).expect("a class").split('"').next().unwrap();
    class
}

#[test]
fn the_demo_page_holds_and_books_in_a_real_browser() {
    let Some(browser) = chromium() else {
        return prerequisite_missing(
            "the_demo_page_holds_and_books_in_a_real_browser",
            "chromium is not installed (apt-get install chromium)",
        );
    };
    let db = TestDb::new("http_browser");
    let srv = Server::start(&db.url, &[]);
    // someone else's booking, made before the page loads
    let h = srv.post("/shows/avengers_2026_7pm/hold", r#"{"seat_ids": ["C4"]}"#).expect(201);
    srv.post_json("/shows/avengers_2026_7pm/book", &json!({"hold_id": h["hold_id"]})).expect(200);

    let dom = dump_dom(browser, &srv.url("/?select=A3,A4&do=hold,book"));
    assert!(dom.contains("data-loaded=\"true\""), "the page never loaded its seats:\n{dom}");
    assert!(dom.contains("data-scripted=\"done\""), "the page's script did not finish:\n{dom}");
    assert_eq!(seat_class(&dom, "C4"), "seat booked");
    assert_eq!(seat_class(&dom, "A3"), "seat booked");
    assert_eq!(seat_class(&dom, "A5"), "seat available");
    assert!(dom.contains("<b id=\"count-booked\">3</b>"), "counts not shown");

    // the page's clicks reached the database
    let v = srv.get("/shows/avengers_2026_7pm/seats").expect(200);
    let status = |id: &str| {
        v["seats"].as_array().unwrap().iter().find(|s| s["seat_id"] == id).unwrap()["status"].clone()
    };
    assert_eq!(
        (status("A3"), status("A4"), status("A5")),
        (json!("booked"), json!("booked"), json!("available"))
    );
    assert_eq!(v["booked_seats"], 3);
    // the page was served without anything from outside
    let page = srv.get("/").body;
    assert!(!page.contains("http://") && !page.contains("https://"), "the page refers to another origin");
}
