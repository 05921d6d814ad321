//! The change log's C API called the way C calls it, against a real PostgreSQL: history
//! pages, watches, the fields of changes, bad input, and a freed watch closing its connection.

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::time::{Duration, Instant};

use seatcore_core::testing::TestDb;

use crate::changes::*;
use crate::error::seatcore_result::*;
use crate::results::*;
use crate::*;

struct Client(*mut seatcore_client);

// The tests hand the client to a writer thread, as a C program would.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { seatcore_client_free(self.0) };
    }
}

fn open(url: &str) -> Client {
    let url = CString::new(url).unwrap();
    let mut client = ptr::null_mut();
    let code = unsafe { seatcore_client_new(url.as_ptr(), ptr::null(), &mut client, ptr::null_mut()) };
    assert_eq!(code, SEATCORE_OK);
    Client(client)
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

unsafe fn text<'a>(p: *const c_char) -> Option<&'a str> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_str().unwrap())
}

/// The code and message of a failed call; the error object is freed.
unsafe fn failure(code: seatcore_result, err: *mut seatcore_error) -> (seatcore_result, String) {
    assert!(!err.is_null(), "no error object for {code:?}");
    assert_eq!((*err).code, code);
    let msg = text((*err).message).unwrap().to_owned();
    seatcore_error_free(err);
    (code, msg)
}

fn initialize(c: &Client, show: &str, seats: &[&str]) {
    let ids: Vec<CString> = seats.iter().map(|s| cs(s)).collect();
    let p: Vec<*const c_char> = ids.iter().map(|s| s.as_ptr()).collect();
    let code = unsafe {
        seatcore_initialize_show(
            c.0,
            cs(show).as_ptr(),
            seatcore_seats { ids: p.as_ptr(), count: p.len() },
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(code, SEATCORE_OK);
}

/// Holds `seat` for a minute; the hold's id and expiry text.
fn hold(c: &Client, show: &str, seat: &str) -> (String, String) {
    let seat = cs(seat);
    let p = [seat.as_ptr()];
    let seats = seatcore_seats { ids: p.as_ptr(), count: 1 };
    let mut out = ptr::null_mut();
    unsafe {
        assert_eq!(
            seatcore_hold_seats(c.0, cs(show).as_ptr(), seats, 60, ptr::null(), &mut out, ptr::null_mut()),
            SEATCORE_OK
        );
        let id = text((*out).id).unwrap().to_owned();
        let expires = text((*out).at).unwrap().to_owned();
        seatcore_hold_free(out);
        (id, expires)
    }
}

fn book(c: &Client, show: &str, hold_id: &str) {
    let mut out = ptr::null_mut();
    unsafe {
        let code =
            seatcore_book_hold(c.0, cs(show).as_ptr(), cs(hold_id).as_ptr(), &mut out, ptr::null_mut());
        assert_eq!(code, SEATCORE_OK);
        seatcore_booking_free(out);
    }
}

fn release(c: &Client, show: &str, hold_id: &str) {
    let code =
        unsafe { seatcore_release_hold(c.0, cs(show).as_ptr(), cs(hold_id).as_ptr(), ptr::null_mut()) };
    assert_eq!(code, SEATCORE_OK);
}

/// A change read through its C fields.
#[derive(Debug, Clone, PartialEq)]
struct View {
    id: i64,
    kind: String,
    show_id: String,
    seats: Vec<String>,
    hold_id: Option<String>,
    booking_id: Option<String>,
    at: String,
    at_us: i64,
    expires_at: Option<String>,
    expires_at_us: i64,
}

unsafe fn view(c: &seatcore_change) -> View {
    let seat_ids = std::slice::from_raw_parts(c.seats.ids, c.seats.count);
    View {
        id: c.id,
        kind: text(c.kind).unwrap().to_owned(),
        show_id: text(c.show_id).unwrap().to_owned(),
        seats: seat_ids.iter().map(|&s| text(s).unwrap().to_owned()).collect(),
        hold_id: text(c.hold_id).map(str::to_owned),
        booking_id: text(c.booking_id).map(str::to_owned),
        at: text(c.at).unwrap().to_owned(),
        at_us: c.at_us,
        expires_at: text(c.expires_at).map(str::to_owned),
        expires_at_us: c.expires_at_us,
    }
}

/// One history page: its changes and next, or the failure.
fn history(
    c: &Client,
    show: &str,
    after: i64,
    seat: Option<&str>,
    limit: u32,
) -> Result<(Vec<View>, i64), (seatcore_result, String)> {
    let seat = seat.map(cs);
    let mut page: *mut seatcore_history_page = ptr::null_mut();
    let mut err = ptr::null_mut();
    unsafe {
        let code = seatcore_history(
            c.0,
            cs(show).as_ptr(),
            after,
            seat.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            limit,
            &mut page,
            &mut err,
        );
        if code != SEATCORE_OK {
            assert!(page.is_null(), "out written on failure");
            return Err(failure(code, err));
        }
        assert!(err.is_null());
        let changes =
            std::slice::from_raw_parts((*page).changes, (*page).count).iter().map(|c| view(c)).collect();
        let next = (*page).next;
        seatcore_history_free(page);
        Ok((changes, next))
    }
}

#[test]
fn a_history_page_ends_at_its_seat_budget() {
    let db = TestDb::new("c_history_budget");
    let c = open(&db.url);
    let budget = seatcore_core::MAX_CHANGE_PAGE_SEATS as usize;
    let ids: Vec<String> = (1..=budget + 1).map(|i| format!("S{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    initialize(&c, "s", &refs);
    hold(&c, "s", "S1");
    let (first, next) = history(&c, "s", 0, None, 100).unwrap();
    let first: Vec<(&str, usize)> = first.iter().map(|v| (v.kind.as_str(), v.seats.len())).collect();
    assert_eq!(first, [("initialized", budget + 1)], "the change over the budget comes whole, alone");
    let (rest, _) = history(&c, "s", next, None, 100).unwrap();
    let rest: Vec<&str> = rest.iter().map(|v| v.kind.as_str()).collect();
    assert_eq!(rest, ["held"]);
}

#[derive(Debug)]
struct WatchBox(*mut seatcore_watch);

impl Drop for WatchBox {
    fn drop(&mut self) {
        unsafe { seatcore_watch_free(self.0) };
    }
}

fn watch(c: &Client, show: &str, after: i64) -> Result<WatchBox, (seatcore_result, String)> {
    let mut w = ptr::null_mut();
    let mut err = ptr::null_mut();
    let code = unsafe { seatcore_watch_open(c.0, cs(show).as_ptr(), after, &mut w, &mut err) };
    if code == SEATCORE_OK {
        assert!(!w.is_null() && err.is_null());
        Ok(WatchBox(w))
    } else {
        assert!(w.is_null(), "out written on failure");
        Err(unsafe { failure(code, err) })
    }
}

/// The next change within `ms`, or None.
fn next(w: &WatchBox, ms: u64) -> Option<View> {
    let mut change = ptr::NonNull::<seatcore_change>::dangling().as_ptr();
    unsafe {
        let code = seatcore_watch_next(w.0, ms, &mut change, ptr::null_mut());
        assert_eq!(code, SEATCORE_OK);
        if change.is_null() {
            return None;
        }
        let v = view(&*change);
        seatcore_change_free(change);
        Some(v)
    }
}

/// `n` changes, each within 30 s.
fn take(w: &WatchBox, n: usize) -> Vec<View> {
    (0..n).map(|i| next(w, 30_000).unwrap_or_else(|| panic!("change {i} of {n} never came"))).collect()
}

#[test]
fn history_pages_filters_and_fields() {
    let db = TestDb::new("c_history");
    let c = open(&db.url);
    initialize(&c, "s", &["A1", "A2", "A3"]);
    let (one, one_expires) = hold(&c, "s", "A1");
    let (two, _) = hold(&c, "s", "A2");
    book(&c, "s", &two);
    release(&c, "s", &one);

    let (all, next_id) = history(&c, "s", 0, None, 100).unwrap();
    let kinds: Vec<&str> = all.iter().map(|v| v.kind.as_str()).collect();
    assert_eq!(kinds, ["initialized", "held", "held", "booked", "released"]);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "ids grow");
    assert_eq!(next_id, all[4].id);
    let init = &all[0];
    assert_eq!((init.seats.len(), &init.hold_id, &init.expires_at, init.expires_at_us), (3, &None, &None, 0));
    let held = &all[1];
    assert_eq!((held.show_id.as_str(), held.seats.as_slice()), ("s", ["A1".to_string()].as_slice()));
    assert_eq!(
        (held.hold_id.as_deref(), held.expires_at.as_deref()),
        (Some(one.as_str()), Some(one_expires.as_str()))
    );
    assert!(held.expires_at_us > held.at_us && held.at_us > 1_700_000_000_000_000);
    assert!(held.at.ends_with("+00:00"), "{}", held.at);
    assert_eq!(
        (all[3].hold_id.as_deref(), all[3].booking_id.as_deref()),
        (Some(two.as_str()), Some(two.as_str()))
    );
    assert_eq!(all[4].hold_id.as_deref(), Some(one.as_str()));

    // pages of two add up to the whole history
    let (mut after, mut seen) = (0, Vec::new());
    loop {
        let (page, next_id) = history(&c, "s", after, None, 2).unwrap();
        assert!(page.len() <= 2);
        if page.is_empty() {
            assert_eq!(next_id, after);
            break;
        }
        seen.extend(page);
        after = next_id;
    }
    assert_eq!(seen, all);
    let about_a1: Vec<String> =
        history(&c, "s", 0, Some("A1"), 10).unwrap().0.into_iter().map(|v| v.kind).collect();
    assert_eq!(about_a1, ["initialized", "held", "released"]);
    assert_eq!(history(&c, "s", all[2].id, None, 1).unwrap().0, [all[3].clone()]);

    // bad input: nothing is written
    assert_eq!(
        history(&c, "nope", 0, None, 10).unwrap_err(),
        (SEATCORE_SHOW_NOT_FOUND, "show not found".into())
    );
    for (after, limit) in [(-1, 10), (0, 0), (0, seatcore_core::MAX_CHANGE_PAGE + 1)] {
        let (code, msg) = history(&c, "s", after, None, limit).unwrap_err();
        assert_eq!(code, SEATCORE_INVALID_INPUT, "{after} {limit}: {msg}");
        assert!(msg.contains(if after < 0 { "after" } else { "limit" }), "{msg}");
    }
    assert_eq!(history(&c, "s", 0, Some(""), 10).unwrap_err().0, SEATCORE_INVALID_INPUT);
    unsafe {
        let mut page = ptr::null_mut();
        let mut err = ptr::null_mut();
        let bad = [0xffu8, 0];
        let code = seatcore_history(c.0, cs("s").as_ptr(), 0, bad.as_ptr().cast(), 10, &mut page, &mut err);
        assert_eq!(failure(code, err).0, SEATCORE_INVALID_UTF8);
        for (client, show, out) in
            [(ptr::null(), cs("s"), &mut page as *mut _), (c.0 as *const _, cs("s"), ptr::null_mut())]
        {
            let mut err = ptr::null_mut();
            let code = seatcore_history(client, show.as_ptr(), 0, ptr::null(), 10, out, &mut err);
            assert_eq!(failure(code, err).0, SEATCORE_NULL_PARAMETER);
        }
        let code = seatcore_history(c.0, ptr::null(), 0, ptr::null(), 10, &mut page, ptr::null_mut());
        assert_eq!(code, SEATCORE_NULL_PARAMETER);
        assert!(page.is_null());
        // NULL objects
        seatcore_history_free(ptr::null_mut());
        seatcore_change_free(ptr::null_mut());
        seatcore_watch_free(ptr::null_mut());
    }
}

#[test]
fn a_watch_sees_another_handles_changes_in_order_and_resumes_from_any_id() {
    let db = TestDb::new("c_watch");
    let c = open(&db.url);
    let seats: Vec<String> = (1..=12).map(|i| format!("A{i}")).collect();
    initialize(&c, "s", &seats.iter().map(String::as_str).collect::<Vec<_>>());
    initialize(&c, "other", &["X"]);
    let w = watch(&c, "s", SEATCORE_FROM_NOW).unwrap();
    let start = unsafe { seatcore_watch_position(w.0) };
    assert!(next(&w, 0).is_none(), "nothing new yet");

    // The writer is another handle (a pool of its own) on another thread.
    let other = open(&db.url);
    let expected = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let writer = &other;
            let mut done = Vec::new();
            for (i, seat) in seats.iter().enumerate() {
                let (id, _) = hold(writer, "s", seat);
                done.push(("held", id.clone()));
                if i == 0 {
                    hold(writer, "other", "X"); // another show's change is not this watch's
                }
                if i % 2 == 0 {
                    book(writer, "s", &id);
                    done.push(("booked", id));
                } else {
                    release(writer, "s", &id);
                    done.push(("released", id));
                }
            }
            done
        });
        let got = take(&w, 24);
        let done = writer.join().unwrap();
        let got: Vec<(String, String)> = got.into_iter().map(|v| (v.kind, v.hold_id.unwrap())).collect();
        let done: Vec<(String, String)> = done.into_iter().map(|(k, id)| (k.to_string(), id)).collect();
        assert_eq!(got, done, "every change once, in the writer's order");
        done
    });
    assert!(next(&w, 50).is_none(), "nothing more");
    let (log, _) = history(&c, "s", start, None, 100).unwrap();
    assert_eq!(log.len(), expected.len());
    assert_eq!(unsafe { seatcore_watch_position(w.0) }, log.last().unwrap().id);
    drop(w);

    // resuming from any id gives exactly the rest
    for k in [0usize, 7, 22] {
        let resumed = watch(&c, "s", log[k].id).unwrap();
        assert_eq!(take(&resumed, log.len() - k - 1), log[k + 1..]);
        assert!(next(&resumed, 0).is_none());
    }
    let from_start = watch(&c, "s", 0).unwrap();
    let first = take(&from_start, log.len() + 1);
    assert_eq!((first[0].kind.as_str(), &first[1..]), ("initialized", log.as_slice()));
}

#[test]
fn watch_open_refuses_bad_input() {
    let db = TestDb::new("c_watch_bad");
    let c = open(&db.url);
    initialize(&c, "s", &["A1"]);
    assert_eq!(watch(&c, "nope", 0).unwrap_err().0, SEATCORE_SHOW_NOT_FOUND);
    assert_eq!(watch(&c, "nope", SEATCORE_FROM_NOW).unwrap_err().0, SEATCORE_SHOW_NOT_FOUND);
    let (code, msg) = watch(&c, "s", -2).unwrap_err();
    assert_eq!((code, msg.contains("after")), (SEATCORE_INVALID_INPUT, true), "{msg}");
    assert_eq!(watch(&c, "", 0).unwrap_err().0, SEATCORE_INVALID_INPUT);
    unsafe {
        let mut w = ptr::null_mut();
        let mut err = ptr::null_mut();
        let code = seatcore_watch_open(ptr::null(), cs("s").as_ptr(), 0, &mut w, &mut err);
        assert_eq!(failure(code, err).0, SEATCORE_NULL_PARAMETER);
        let code = seatcore_watch_open(c.0, cs("s").as_ptr(), 0, ptr::null_mut(), ptr::null_mut());
        assert_eq!(code, SEATCORE_NULL_PARAMETER);
        let mut change = ptr::null_mut();
        assert_eq!(
            seatcore_watch_next(ptr::null(), 0, &mut change, ptr::null_mut()),
            SEATCORE_NULL_PARAMETER
        );
        let open = watch(&c, "s", 0).unwrap();
        assert_eq!(seatcore_watch_next(open.0, 0, ptr::null_mut(), ptr::null_mut()), SEATCORE_NULL_PARAMETER);
        assert_eq!(seatcore_watch_position(ptr::null()), 0);
    }
}

/// The backends named `name` that LISTEN for changes.
fn listening(db: &TestDb, name: &str) -> usize {
    let rows = db
        .client()
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'",
            &[&name],
        )
        .unwrap();
    rows.len()
}

#[test]
fn a_freed_watch_closes_its_connection() {
    let db = TestDb::new("c_watch_free");
    let name = format!("c_watch_free_{}", std::process::id());
    let c = open(&format!("{}&application_name={name}", db.url));
    initialize(&c, "s", &["A1"]);
    let w = watch(&c, "s", SEATCORE_FROM_NOW).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // an empty wait goes to the watch's listening connection, which opens first
    while listening(&db, &name) == 0 {
        assert!(next(&w, 50).is_none());
        assert!(Instant::now() < deadline, "the watch never listened");
    }
    assert_eq!(listening(&db, &name), 1);
    drop(w); // seatcore_watch_free
    while listening(&db, &name) != 0 {
        assert!(Instant::now() < deadline, "the freed watch's connection stayed open");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_header_declares_the_change_log() {
    let header = std::fs::read_to_string(env!("SEATCORE_HEADER")).unwrap();
    for name in [
        "#define SEATCORE_FROM_NOW -1",
        "typedef struct seatcore_change {",
        "} seatcore_change;",
        "typedef struct seatcore_history_page {",
        "const struct seatcore_change *changes;",
        "typedef struct seatcore_watch seatcore_watch",
        "seatcore_result seatcore_history(",
        "seatcore_result seatcore_watch_open(",
        "seatcore_result seatcore_watch_next(",
        "void seatcore_watch_free(",
        "void seatcore_change_free(",
        "const char *kind;",
        "int64_t expires_at_us;",
    ] {
        assert!(header.contains(name), "the header lacks {name}");
    }
}
