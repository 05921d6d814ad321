//! The C API called the way C calls it (raw pointers), against a real PostgreSQL; and checks
//! of the header build.rs generates.

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::time::Duration;

use seatcore_core::testing::TestDb;
use seatcore_core::{
    validate, Audit, ErrorKind, OptionRange, Options, SeatState, Sweeper, MAX_REPORTED_PROBLEMS,
};

use crate::error::seatcore_result::*;
use crate::results::*;
use crate::seat_map::*;
use crate::*;

/// The header build.rs generated for this build.
fn header() -> String {
    std::fs::read_to_string(env!("SEATCORE_HEADER")).expect("build.rs writes the header")
}

#[test]
fn header_declares_the_whole_api() {
    let text = header();
    for name in [
        "seatcore_client_new",
        "seatcore_client_free",
        "seatcore_hold_free",
        "seatcore_error_free",
        "seatcore_options seatcore_options_default(void)",
        "typedef struct seatcore_record seatcore_hold;",
        "typedef struct seatcore_record seatcore_booking;",
        "typedef struct seatcore_record seatcore_cancellation;",
        "const char *const *ids;",
        "struct seatcore_seats seats;",
        "typedef struct seatcore_stats {",
        "const struct seatcore_seat *seats;",
        "SEATCORE_NULL_PARAMETER = 100",
        "SEATCORE_SEATS_UNAVAILABLE = 4",
        "typedef struct seatcore_client seatcore_client",
        "size_t count",
    ] {
        assert!(text.contains(name), "header lacks {name}");
    }
    // every exported item carries the prefix
    let declarations = text.lines().filter(|l| {
        l.contains('(')
            && l.starts_with(|c: char| c.is_ascii_alphabetic())
            && !l.starts_with("enum")
            && !l.starts_with("typedef")
    });
    let mut functions = 0;
    for line in declarations {
        functions += 1;
        if let Some(name) = line.split('(').next().and_then(|s| s.split_whitespace().last()) {
            let name = name.trim_start_matches('*');
            assert!(name.starts_with("seatcore_"), "unprefixed function {name}");
        }
    }
    assert!(functions > 40, "only {functions} declarations found");
}

/// The doc comment cbindgen wrote above the declaration of `function`, its lines joined.
fn doc_of(header: &str, function: &str) -> String {
    let decl = header
        .match_indices(&format!("{function}("))
        .map(|(i, _)| i)
        .find(|&i| header[..i].ends_with([' ', '*']))
        .unwrap_or_else(|| panic!("the header does not declare {function}"));
    comment_before(&header[..decl], function)
}

/// The body of the struct `name` in the header, between its braces.
fn struct_body<'a>(header: &'a str, name: &str) -> &'a str {
    let open = format!("typedef struct {name} {{");
    let from = header.find(&open).unwrap_or_else(|| panic!("the header does not define {name}")) + open.len();
    &header[from..from + header[from..].find(&format!("}} {name};")).expect("a closed struct")]
}

/// The fields of the struct `name`, in order.
fn fields_of(header: &str, name: &str) -> Vec<String> {
    struct_body(header, name)
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with(';'))
        .map(|l| l.trim_end_matches(';').rsplit([' ', '*']).next().unwrap().to_owned())
        .collect()
}

/// The doc comment cbindgen wrote above `field` of the struct `name`, its lines joined.
fn doc_of_field(header: &str, name: &str, field: &str) -> String {
    let body = struct_body(header, name);
    let decl = [format!(" {field};"), format!("*{field};")]
        .iter()
        .find_map(|d| body.find(d.as_str()))
        .unwrap_or_else(|| panic!("{name} has no field {field}"));
    comment_before(&body[..decl], field)
}

/// The doc comment that ends `before` (the text up to a declaration of `what`).
fn comment_before(before: &str, what: &str) -> String {
    let start = before.rfind("/**").unwrap_or_else(|| panic!("{what} has no doc comment"));
    let end = start + before[start..].find("*/").expect("a closed comment");
    assert!(before[end + 2..].trim().lines().count() <= 1, "the comment above {what} is not its own");
    before[start + 3..end]
        .lines()
        .map(|l| l.trim().trim_start_matches('*').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a doc comment states after `label: `, up to the next full stop or comma.
fn stated<'a>(doc: &'a str, label: &str) -> Option<&'a str> {
    let tag = format!("{label}: ");
    assert!(doc.matches(&tag).count() <= 1, "{label} stated twice in {doc:?}");
    let from = doc.find(&tag)? + tag.len();
    let rest = &doc[from..];
    Some(rest[..rest.find(['.', ',']).unwrap_or(rest.len())].trim())
}

fn count_range(r: &OptionRange<u32>) -> String {
    format!("{} to {}", r.range.start(), r.range.end())
}

fn ms_range(r: &OptionRange<Duration>) -> String {
    format!("{} to {} ms", r.range.start().as_millis(), r.range.end().as_millis())
}

fn s_range(r: &OptionRange<Duration>) -> String {
    format!("{} to {} s", r.range.start().as_secs(), r.range.end().as_secs())
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// The defaults, ranges and limits the header's doc comments state are the core's: a test
/// that fails when a number in the core moves and the header does not.
#[test]
fn header_states_the_cores_defaults_and_ranges() {
    let header = header();
    let d = Options::DEFAULT;
    let options: [(&str, String, Option<String>); 12] = [
        ("pool_size", d.pool_size.to_string(), Some(count_range(&Options::POOL_SIZE))),
        ("min_idle", d.min_idle.to_string(), Some(count_range(&Options::MIN_IDLE))),
        ("checkout_timeout_ms", ms(d.checkout_timeout), Some(ms_range(&Options::CHECKOUT_TIMEOUT))),
        ("connect_timeout_ms", ms(d.connect_timeout), Some(ms_range(&Options::CONNECT_TIMEOUT))),
        ("statement_timeout_ms", ms(d.statement_timeout), Some(ms_range(&Options::STATEMENT_TIMEOUT))),
        ("lock_timeout_ms", ms(d.lock_timeout), Some(ms_range(&Options::LOCK_TIMEOUT))),
        ("sweep_batch", d.sweep_batch.to_string(), Some(count_range(&Options::SWEEP_BATCH))),
        (
            "change_retention_s",
            format!("{} s", d.change_retention.as_secs()),
            Some(s_range(&Options::CHANGE_RETENTION)),
        ),
        ("migrate", d.migrate.to_string(), None),
        ("group_holds", d.group_holds.to_string(), None),
        (
            "max_hold_life_s",
            format!("{} s", d.max_hold_life.as_secs()),
            Some(s_range(&Options::MAX_HOLD_LIFE)),
        ),
        ("read_url", d.read_url.as_deref().unwrap_or("none").to_owned(), None),
    ];
    for (field, default, range) in &options {
        let doc = doc_of_field(&header, "seatcore_options", field);
        assert_eq!(stated(&doc, "Default"), Some(default.as_str()), "the default stated for {field}");
        assert_eq!(stated(&doc, "Valid"), range.as_deref(), "the range stated for {field}");
    }
    // every field is in the table above, and no other comment states a default
    let fields = fields_of(&header, "seatcore_options");
    let mut listed: Vec<&str> = options.iter().map(|(field, _, _)| *field).collect();
    listed.sort_unstable();
    let mut declared: Vec<&str> = fields.iter().map(String::as_str).collect();
    declared.sort_unstable();
    assert_eq!(declared, listed, "an option field without a row in this test");
    assert_eq!(header.matches("Default: ").count(), options.len(), "a default stated outside the options");
    let sweeper = doc_of(&header, "seatcore_sweeper_start");
    assert_eq!(stated(&sweeper, "Valid"), Some(ms_range(&Sweeper::INTERVAL).as_str()));
    // the core's limits, where a comment states them
    for (function, phrase) in [
        ("seatcore_initialize_show", format!("1 to {} characters", validate::MAX_SHOW_ID_CHARS)),
        ("seatcore_initialize_show", format!("(1 to {} of them)", validate::MAX_SEATS_PER_SHOW)),
        ("seatcore_hold_seats", format!("1 to {} NUL-terminated", validate::MAX_SEATS_PER_HOLD)),
        (
            "seatcore_hold_seats",
            format!(
                "({} to {}, by the database's clock)",
                validate::MIN_HOLD_SECONDS,
                validate::MAX_HOLD_SECONDS
            ),
        ),
    ] {
        let doc = doc_of(&header, function);
        assert!(doc.contains(&phrase), "{function} does not state {phrase:?}: {doc}");
    }
    let problems = doc_of_field(&header, "seatcore_audit_report", "problems");
    let phrase = format!("the first {MAX_REPORTED_PROBLEMS} when");
    assert!(
        problems.contains(&phrase),
        "seatcore_audit_report.problems does not state {phrase:?}: {problems}"
    );
}

/// Every code of the header's enum has its name, and every core kind is in it.
#[test]
fn header_names_every_result_code() {
    let header = header();
    let body = header.split("enum seatcore_result").nth(1).and_then(|s| s.split("};").next()).unwrap();
    let mut values = Vec::new();
    for line in body.lines().map(str::trim).filter(|l| l.starts_with("SEATCORE_")) {
        let (name, value) = line.trim_end_matches(',').split_once(" = ").expect("NAME = value");
        let value: u32 = value.parse().unwrap();
        assert_eq!(unsafe { text(seatcore_result_name(value)) }, name);
        values.push(value);
    }
    for kind in ErrorKind::ALL {
        assert!(values.contains(&kind.code()), "the header lacks {kind:?}");
        assert!(header.contains(&format!("SEATCORE_{} = {},", kind.name(), kind.code())), "{kind:?}");
    }
    assert!(values.len() > ErrorKind::ALL.len(), "the C API's own codes are missing");
}

// ---- helpers ----

pub(crate) struct Client(pub(crate) *mut seatcore_client);

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { seatcore_client_free(self.0) };
    }
}

// The header promises that a client may be shared between threads: the tests share it as C
// programs do.
unsafe impl Sync for Client {}

pub(crate) fn open(db: &TestDb) -> Client {
    let url = CString::new(db.url.clone()).unwrap();
    let mut client = ptr::null_mut();
    let mut err = ptr::null_mut();
    let code = unsafe { seatcore_client_new(url.as_ptr(), ptr::null(), &mut client, &mut err) };
    if code != SEATCORE_OK {
        panic!("connect failed: {}", unsafe { take_error(err, code) });
    }
    assert!(!client.is_null());
    Client(client)
}

/// A fresh database named after `name`, a client on it, and the show `show` with `seats`.
pub(crate) fn with_show(name: &str, show: &str, seats: &[&str]) -> (TestDb, Client) {
    let db = TestDb::new(name);
    let c = open(&db);
    initialize(&c, show, seats);
    (db, c)
}

pub(crate) fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub(crate) fn ptrs(v: &[CString]) -> Vec<*const c_char> {
    v.iter().map(|s| s.as_ptr()).collect()
}

pub(crate) unsafe fn text<'a>(p: *const c_char) -> &'a str {
    assert!(!p.is_null());
    CStr::from_ptr(p).to_str().unwrap()
}

/// A seat list argument: the `count` ids at `ids`.
pub(crate) fn seat_list(ids: *const *const c_char, count: usize) -> seatcore_seats {
    seatcore_seats { ids, count }
}

/// The `count` strings of a list of a result object (`const char *const *`, count).
pub(crate) unsafe fn texts(list: *const *const c_char, count: usize) -> Vec<String> {
    std::slice::from_raw_parts(list, count).iter().map(|&p| text(p).to_owned()).collect()
}

/// A map argument: the given seats.
pub(crate) fn map_of(seats: &[seatcore_map_seat]) -> seatcore_map {
    seatcore_map { seats: seats.as_ptr(), seat_count: seats.len() }
}

/// The seat ids of a seat list of a result object.
pub(crate) unsafe fn seat_texts(seats: seatcore_seats) -> Vec<String> {
    texts(seats.ids, seats.count)
}

/// Takes the error of a failed call: its code must match, and the object is freed.
pub(crate) unsafe fn take_error(err: *mut seatcore_error, code: seatcore_result) -> String {
    assert!(!err.is_null(), "no error object for {code:?}");
    assert_eq!((*err).code, code);
    let msg = text((*err).message).to_owned();
    seatcore_error_free(err);
    msg
}

/// The position an error is about (`has_index`, `index`); `index` is 0 without one.
pub(crate) unsafe fn error_index(err: *const seatcore_error) -> Option<usize> {
    let e = &*err;
    if !e.has_index {
        assert_eq!(e.index, 0);
    }
    e.has_index.then_some(e.index)
}

pub(crate) fn initialize(c: &Client, show: &str, seats: &[&str]) {
    let ids: Vec<CString> = seats.iter().map(|s| cs(s)).collect();
    let p = ptrs(&ids);
    let mut n = 0usize;
    let code = unsafe {
        seatcore_initialize_show(
            c.0,
            cs(show).as_ptr(),
            seat_list(p.as_ptr(), p.len()),
            &mut n,
            ptr::null_mut(),
        )
    };
    assert_eq!(code, SEATCORE_OK);
    assert_eq!(n, seats.len());
}

/// Holds `seats` for a minute: the hold, or the error object.
pub(crate) fn hold(
    c: &Client,
    show: &str,
    seats: &[&str],
) -> Result<*mut seatcore_hold, *mut seatcore_error> {
    hold_with_key(c, show, seats, None)
}

/// As [`hold`], with a request key when `key` is not `None`.
pub(crate) fn hold_with_key(
    c: &Client,
    show: &str,
    seats: &[&str],
    key: Option<&str>,
) -> Result<*mut seatcore_hold, *mut seatcore_error> {
    let ids: Vec<CString> = seats.iter().map(|s| cs(s)).collect();
    let p = ptrs(&ids);
    let key = key.map(cs);
    let key = key.as_ref().map_or(ptr::null(), |k| k.as_ptr());
    let (mut out, mut err) = (ptr::null_mut(), ptr::null_mut());
    let seats = seat_list(p.as_ptr(), p.len());
    let code = unsafe { seatcore_hold_seats(c.0, cs(show).as_ptr(), seats, 60, key, &mut out, &mut err) };
    if code == SEATCORE_OK {
        assert!(err.is_null(), "err written on success");
        Ok(out)
    } else {
        assert!(out.is_null(), "out written on failure");
        Err(err)
    }
}

/// Audits through `seatcore_audit` (every show with `None`) and frees the report.
fn audit(c: &Client, show: Option<&str>) -> Audit {
    let show = show.map(cs);
    let mut report = ptr::null_mut();
    let mut err = ptr::null_mut();
    unsafe {
        let code =
            seatcore_audit(c.0, show.as_ref().map_or(ptr::null(), |s| s.as_ptr()), &mut report, &mut err);
        if code != SEATCORE_OK {
            panic!("audit failed: {}", take_error(err, code));
        }
        assert!(err.is_null());
        let r = &*report;
        let view = Audit { summary: r.summary, problems: texts(r.problems, r.problems_listed) };
        seatcore_audit_free(report);
        view
    }
}

/// The end state of a test: the audit finds every invariant kept.
pub(crate) fn assert_sound(c: &Client) -> Audit {
    let a = audit(c, None);
    assert!(
        a.summary.ok && a.summary.problem_count == 0 && a.problems.is_empty(),
        "the audit found problems: {a:#?}"
    );
    a
}

// ---- the flow ----

#[test]
fn hold_book_status_release_reset() {
    let (db, c) = with_show("c_flow", "s1", &["A1", " A2 ", "A3", "B1"]);
    unsafe {
        let h = hold(&c, "s1", &["A3", "A1"]).unwrap();
        assert_eq!(text((*h).show_id), "s1");
        assert_eq!(seat_texts((*h).seats), ["A3", "A1"]);
        let hold_id = text((*h).id).to_owned();
        assert_eq!(hold_id.len(), 36);
        let expires = text((*h).at);
        assert!(expires.ends_with("+00:00"), "{expires}");
        assert!((*h).at_us > 1_700_000_000_000_000);

        // a taken seat: SEATS_UNAVAILABLE with the seat listed, nothing written
        let err = hold(&c, "s1", &["B1", "A1"]).unwrap_err();
        assert_eq!(seat_texts((*err).unavailable), ["A1"]);
        assert_eq!((*err).not_in_hold.count, 0);
        assert_eq!(error_index(err), None);
        assert!(take_error(err, SEATCORE_SEATS_UNAVAILABLE).contains("A1"));

        // status: seat-map order, held seats carry their expiry
        let mut st = ptr::null_mut();
        assert_eq!(seatcore_seat_status(c.0, cs("s1").as_ptr(), &mut st, ptr::null_mut()), SEATCORE_OK);
        let status = &*st;
        let counts = status.counts;
        assert_eq!((counts.total, counts.available, counts.held, counts.booked), (4, 2, 2, 0));
        assert!(counts.invariants_valid);
        assert_eq!(text(status.show_id), "s1");
        assert_eq!(status.replayed_at_us, 0, "the primary served it");
        assert_eq!(status.seat_count, 4);
        let mut order = Vec::new();
        for seat in std::slice::from_raw_parts(status.seats, status.seat_count) {
            let id = text(seat.seat_id).to_owned();
            let held = id == "A1" || id == "A3";
            assert_eq!(seat.state == SeatState::Held, held, "{id}");
            assert_eq!(seat.hold_expires_at.is_null(), !held);
            assert_eq!(seat.hold_expires_at_us != 0, held);
            order.push(id);
        }
        assert_eq!(order, ["A1", "A2", "A3", "B1"]);
        seatcore_status_free(st);

        // book twice: same booking
        let mut b1 = ptr::null_mut();
        let mut b2 = ptr::null_mut();
        let hid = cs(&hold_id);
        assert_eq!(
            seatcore_book_hold(c.0, cs("s1").as_ptr(), hid.as_ptr(), &mut b1, ptr::null_mut()),
            SEATCORE_OK
        );
        assert_eq!(
            seatcore_book_hold(c.0, cs("s1").as_ptr(), hid.as_ptr(), &mut b2, ptr::null_mut()),
            SEATCORE_OK
        );
        let (first, again) = (&*b1, &*b2);
        assert_eq!(text(first.id), hold_id);
        assert_eq!(text(first.at), text(again.at));
        assert_eq!(first.at_us, again.at_us);
        assert_eq!(seat_texts(again.seats), ["A3", "A1"]);
        assert_eq!(text(again.show_id), "s1");
        seatcore_booking_free(b1);
        seatcore_booking_free(b2);
        seatcore_hold_free(h);

        // release: a live hold once, then not found
        let h = hold(&c, "s1", &["B1"]).unwrap();
        let show = cs("s1");
        assert_eq!(seatcore_release_hold(c.0, show.as_ptr(), (*h).id, ptr::null_mut()), SEATCORE_OK);
        let mut err = ptr::null_mut();
        assert_eq!(seatcore_release_hold(c.0, show.as_ptr(), (*h).id, &mut err), SEATCORE_HOLD_NOT_FOUND);
        assert_eq!(take_error(err, SEATCORE_HOLD_NOT_FOUND), "hold not found");
        seatcore_hold_free(h);
        let mid = assert_sound(&c);
        assert_eq!((mid.summary.held, mid.summary.booked), (0, 2));

        // health, sweep, stats, reset
        let mut shows = 0u64;
        assert_eq!(seatcore_health(c.0, &mut shows, ptr::null_mut()), SEATCORE_OK);
        assert_eq!(shows, 1);
        let mut removed = 99u64;
        assert_eq!(seatcore_sweep_expired(c.0, &mut removed, ptr::null_mut()), SEATCORE_OK);
        assert_eq!(removed, 0);
        let mut stats = Stats::default();
        assert_eq!(seatcore_client_stats(c.0, &mut stats, ptr::null_mut()), SEATCORE_OK);
        assert_eq!((stats.holds_granted, stats.holds_refused, stats.bookings, stats.releases), (2, 1, 1, 1));
        let mut reset = seatcore_reset_counts::default();
        assert_eq!(seatcore_reset_all(c.0, &mut reset, ptr::null_mut()), SEATCORE_OK);
        assert_eq!(reset, seatcore_reset_counts { holds_cleared: 0, bookings_cleared: 1, seats_reset: 2 });
    }
    let end = assert_sound(&c);
    assert_eq!((end.summary.shows, end.summary.seats, end.summary.held, end.summary.booked), (1, 4, 0, 0));
    // the database agrees
    let booked: i64 = db.client().query_one("SELECT count(*) FROM bookings", &[]).unwrap().get(0);
    assert_eq!(booked, 0);
}

#[test]
fn keyed_holds_and_domain_errors() {
    let (_db, c) = with_show("c_keyed", "s", &["A1", "A2"]);
    unsafe {
        let key = Some("kiosk-7-req-1");
        let h1 = hold_with_key(&c, "s", &["A1"], key).unwrap();
        let h2 = hold_with_key(&c, "s", &["A1"], key).unwrap();
        assert_eq!(text((*h1).id), text((*h2).id));
        take_error(hold_with_key(&c, "s", &["A2"], key).unwrap_err(), SEATCORE_REQUEST_KEY_REUSED);
        seatcore_hold_free(h1);
        seatcore_hold_free(h2);
        let ids = [cs("A1")];
        let p = ptrs(&ids);
        let show = cs("s");

        // show exists, show not found, invalid seat ids, hold not found
        let mut err = ptr::null_mut();
        let code =
            seatcore_initialize_show(c.0, show.as_ptr(), seat_list(p.as_ptr(), 1), ptr::null_mut(), &mut err);
        assert_eq!(code, SEATCORE_SHOW_EXISTS);
        assert_eq!(take_error(err, SEATCORE_SHOW_EXISTS), "show already exists");
        take_error(hold(&c, "nope", &["A1"]).unwrap_err(), SEATCORE_SHOW_NOT_FOUND);
        assert_eq!(
            take_error(hold(&c, "s", &["Z9"]).unwrap_err(), SEATCORE_INVALID_SEAT_IDS),
            "invalid seat ID(s)"
        );
        let mut b = ptr::null_mut();
        let mut err = ptr::null_mut();
        let code = seatcore_book_hold(c.0, show.as_ptr(), cs("not-a-uuid").as_ptr(), &mut b, &mut err);
        assert_eq!(code, SEATCORE_HOLD_NOT_FOUND);
        assert!(b.is_null());
        assert_eq!(take_error(err, SEATCORE_HOLD_NOT_FOUND), "hold not found");
        let mut st = ptr::null_mut();
        let mut err = ptr::null_mut();
        assert_eq!(
            seatcore_seat_status(c.0, cs("nope").as_ptr(), &mut st, &mut err),
            SEATCORE_SHOW_NOT_FOUND
        );
        assert!(st.is_null());
        take_error(err, SEATCORE_SHOW_NOT_FOUND);
    }
    let end = assert_sound(&c);
    assert_eq!((end.summary.seats, end.summary.held, end.summary.booked), (2, 1, 0));
}

// ---- bad input: an error code and a message, nothing written, nothing changed ----

#[test]
fn bad_input_writes_nothing() {
    let (db, c) = with_show("c_bad", "s", &["A1", "A2"]);
    let show = cs("s");
    let good = [cs("A1")];
    let gp = ptrs(&good);
    let sentinel = 0x5ea7_usize as *mut seatcore_hold;
    unsafe {
        let check = |code: seatcore_result, want: seatcore_result, err: *mut seatcore_error, needle: &str| {
            assert_eq!(code, want);
            let msg = take_error(err, want);
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        };
        let a2 = cs("A2");
        let with_null = [a2.as_ptr(), ptr::null()];
        let bad = CString::new(vec![b'A', 0xff, 0xfe]).unwrap();
        let bad_list = [good[0].as_ptr(), bad.as_ptr()];
        let dup = [cs("A1"), cs(" A1 ")];
        let blank = [cs("A1"), cs("  ")];
        let (dp, bp) = (ptrs(&dup), ptrs(&blank));
        let one = seat_list(gp.as_ptr(), 1);
        let mut out = sentinel;
        let outp: *mut *mut seatcore_hold = &mut out;
        let (cp, sp) = (c.0.cast_const(), show.as_ptr());
        let (null, utf8, input) = (SEATCORE_NULL_PARAMETER, SEATCORE_INVALID_UTF8, SEATCORE_INVALID_INPUT);
        // (client, show id, seats, seconds, out, the code, a part of its message, the index)
        let cases = [
            // NULL handle, NULL strings, NULL out
            (ptr::null(), sp, one, 60, outp, null, "client must not be NULL", None),
            (cp, ptr::null(), one, 60, outp, null, "show_id", None),
            (cp, sp, one, 60, ptr::null_mut(), null, "out", None),
            // a NULL element, with its index
            (cp, sp, seat_list(with_null.as_ptr(), 2), 60, outp, null, "seats.ids[1]", Some(1)),
            // non-UTF-8 bytes, in the show id and in a seat id
            (cp, bad.as_ptr(), one, 60, outp, utf8, "show_id is not valid UTF-8", None),
            (cp, sp, seat_list(bad_list.as_ptr(), 2), 60, outp, utf8, "seats.ids[1]", Some(1)),
            // empty lists (with and without a pointer) and absurd counts, never read
            (cp, sp, seat_list(ptr::null(), 0), 60, outp, input, "must contain at least one seat", None),
            (cp, sp, seat_list(gp.as_ptr(), 0), 60, outp, input, "at least one seat", None),
            (cp, sp, seat_list(gp.as_ptr(), usize::MAX), 60, outp, input, "at most 1000 seats", None),
            // the core's rules: duplicates, blanks with their index, durations
            (cp, sp, seat_list(dp.as_ptr(), 2), 60, outp, input, "must not contain duplicates", None),
            (cp, sp, seat_list(bp.as_ptr(), 2), 60, outp, input, "must not contain empty strings", Some(1)),
            (cp, sp, one, 0, outp, input, "hold duration", None),
            (cp, sp, one, -1, outp, input, "hold duration", None),
            (cp, sp, one, i64::MAX, outp, input, "hold duration", None),
            (cp, sp, one, i64::MIN, outp, input, "hold duration", None),
        ];
        for (client, show_id, seats, seconds, out, want, needle, index) in cases {
            let mut err = ptr::null_mut();
            let code = seatcore_hold_seats(client, show_id, seats, seconds, ptr::null(), out, &mut err);
            if index.is_some() {
                assert_eq!(error_index(err), index, "{needle}");
            }
            check(code, want, err, needle);
        }
        let mut err = ptr::null_mut();
        let code = seatcore_initialize_show(
            c.0,
            cs("t").as_ptr(),
            seat_list(gp.as_ptr(), usize::MAX / 8),
            ptr::null_mut(),
            &mut err,
        );
        check(code, SEATCORE_INVALID_INPUT, err, "at most 500000 seats");
        assert_eq!(out, sentinel, "out written on failure");

        // NULL err is allowed everywhere; NULL everything gives a code, never a crash
        assert_eq!(
            seatcore_book_hold(ptr::null(), ptr::null(), ptr::null(), ptr::null_mut(), ptr::null_mut()),
            SEATCORE_NULL_PARAMETER
        );
        assert_eq!(
            seatcore_release_hold(c.0, show.as_ptr(), ptr::null(), ptr::null_mut()),
            SEATCORE_NULL_PARAMETER
        );
        assert_eq!(
            seatcore_seat_status(c.0, show.as_ptr(), ptr::null_mut(), ptr::null_mut()),
            SEATCORE_NULL_PARAMETER
        );
        assert_eq!(seatcore_health(ptr::null(), ptr::null_mut(), ptr::null_mut()), SEATCORE_NULL_PARAMETER);
        assert_eq!(
            seatcore_sweep_expired(ptr::null(), ptr::null_mut(), ptr::null_mut()),
            SEATCORE_NULL_PARAMETER
        );
        assert_eq!(
            seatcore_reset_all(ptr::null(), ptr::null_mut(), ptr::null_mut()),
            SEATCORE_NULL_PARAMETER
        );
        assert_eq!(seatcore_client_stats(c.0, ptr::null_mut(), ptr::null_mut()), SEATCORE_NULL_PARAMETER);
        let mut client = ptr::null_mut();
        assert_eq!(
            seatcore_client_new(ptr::null(), ptr::null(), &mut client, ptr::null_mut()),
            SEATCORE_NULL_PARAMETER
        );
        assert!(client.is_null());
        // every _free accepts NULL
        seatcore_hold_free(ptr::null_mut());
        seatcore_booking_free(ptr::null_mut());
        seatcore_cancellation_free(ptr::null_mut());
        seatcore_status_free(ptr::null_mut());
        seatcore_audit_free(ptr::null_mut());
        seatcore_map_free(ptr::null_mut());
        seatcore_error_free(ptr::null_mut());
        seatcore_client_free(ptr::null_mut());
    }
    // nothing was held
    let holds: i64 = db.client().query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    assert_eq!(holds, 0);
    let end = assert_sound(&c);
    assert_eq!((end.summary.seats, end.summary.held, end.summary.booked), (2, 0, 0));
}

#[test]
fn unreachable_database_is_unavailable() {
    let opts =
        seatcore_options { connect_timeout_ms: 500, checkout_timeout_ms: 1000, ..seatcore_options_default() };
    let msg = unsafe { refused_client(NOWHERE, &opts, SEATCORE_UNAVAILABLE) };
    assert!(msg.starts_with("database unavailable"), "{msg}");
}

/// A database URL where nothing listens: a client that tries to connect is
/// `SEATCORE_UNAVAILABLE`.
const NOWHERE: &str = "postgres://nobody@127.0.0.1:1/none";

/// Opens a client on `url` that must fail with `code`, writing no client; returns the
/// error's message.
unsafe fn refused_client(url: &str, options: *const seatcore_options, code: seatcore_result) -> String {
    let (mut client, mut err) = (ptr::null_mut(), ptr::null_mut());
    assert_eq!(seatcore_client_new(cs(url).as_ptr(), options, &mut client, &mut err), code, "{url}");
    assert!(client.is_null());
    take_error(err, code)
}

/// A configuration that cannot work is `SEATCORE_CONFIG`, found before any connection is
/// tried (these URLs name a port where nothing listens: an attempt would be
/// `SEATCORE_UNAVAILABLE`).
#[test]
fn configuration_errors_are_config_not_outages() {
    for (url, needle) in [
        ("not a url at all ===", "bad database URL"),
        ("postgres://nobody@127.0.0.1:1/none?sslmode=sometimes", "bad database URL"),
        (
            "postgres://nobody@127.0.0.1:1/none?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            "sslrootcert",
        ),
        ("host=127.0.0.1 port=1 sslcert=/nonexistent/c.pem sslkey=/nonexistent/c.key", "/nonexistent/c.pem"),
        ("host=127.0.0.1 port=1 sslcert=/nonexistent/c.pem", "sslcert and sslkey go together"),
    ] {
        let msg = unsafe { refused_client(url, ptr::null(), SEATCORE_CONFIG) };
        assert!(msg.starts_with("configuration error: ") && msg.contains(needle), "{url}: {msg}");
    }
    // min_idle above pool_size keeps the whole pool open: a configuration that works, so
    // the connection is tried (and this server is not there)
    let opts = seatcore_options { pool_size: 3, min_idle: 5, ..seatcore_options_default() };
    unsafe { refused_client(NOWHERE, &opts, SEATCORE_UNAVAILABLE) };
}

/// The defaults `seatcore_options_default` fills in are the core's.
#[test]
fn default_options_are_the_cores() {
    let d = seatcore_options_default();
    assert!(d.read_url.is_null());
    assert_eq!(unsafe { d.to_core() }.unwrap(), Options::DEFAULT);
}

/// The message of the core's refusal of an option's value.
fn refusal<T: std::fmt::Debug>(checked: seatcore_core::Result<T>) -> String {
    checked.unwrap_err().to_string()
}

/// `seatcore_client_new` sets each option through the core's setter: a value out of range
/// is refused with the core's message (naming the option and its range) before any
/// connection is tried, and no client is made; the ends of each range are accepted.
#[test]
fn out_of_range_options_are_refused_and_make_no_client() {
    let millis = Duration::from_millis;
    let d = seatcore_options_default();
    let refused: [(seatcore_options, String); 11] = [
        (seatcore_options { pool_size: 0, ..d }, refusal(Options::POOL_SIZE.check(0))),
        (seatcore_options { pool_size: 1001, ..d }, refusal(Options::POOL_SIZE.check(1001))),
        (seatcore_options { min_idle: u32::MAX, ..d }, refusal(Options::MIN_IDLE.check(u32::MAX))),
        (
            seatcore_options { checkout_timeout_ms: 0, ..d },
            refusal(Options::CHECKOUT_TIMEOUT.check(millis(0))),
        ),
        (
            seatcore_options { checkout_timeout_ms: 3_600_001, ..d },
            refusal(Options::CHECKOUT_TIMEOUT.check(millis(3_600_001))),
        ),
        (seatcore_options { connect_timeout_ms: 0, ..d }, refusal(Options::CONNECT_TIMEOUT.check(millis(0)))),
        (
            seatcore_options { statement_timeout_ms: 0, ..d },
            refusal(Options::STATEMENT_TIMEOUT.check(millis(0))),
        ),
        (seatcore_options { lock_timeout_ms: 0, ..d }, refusal(Options::LOCK_TIMEOUT.check(millis(0)))),
        (
            seatcore_options { lock_timeout_ms: u64::MAX, ..d },
            refusal(Options::LOCK_TIMEOUT.check(millis(u64::MAX))),
        ),
        (seatcore_options { sweep_batch: 0, ..d }, refusal(Options::SWEEP_BATCH.check(0))),
        (
            seatcore_options { max_hold_life_s: 86_401, ..d },
            refusal(Options::MAX_HOLD_LIFE.check(Duration::from_secs(86_401))),
        ),
    ];
    for (options, want) in &refused {
        assert_eq!(&unsafe { refused_client(NOWHERE, options, SEATCORE_CONFIG) }, want, "{options:?}");
    }
    // the message is the core's, and says what to fix
    let msg =
        unsafe { refused_client(NOWHERE, &seatcore_options { lock_timeout_ms: 0, ..d }, SEATCORE_CONFIG) };
    assert!(msg.contains("lock_timeout must be from 1 ms to 86400 s, not 0 ms"), "{msg}");
    // a read URL that is not UTF-8: a code, no client
    let bad = CString::new(vec![b'p', 0xff]).unwrap();
    let options = seatcore_options { read_url: bad.as_ptr(), ..d };
    let msg = unsafe { refused_client(NOWHERE, &options, SEATCORE_INVALID_UTF8) };
    assert!(msg.contains("options.read_url"), "{msg}");

    // the ends of every range are accepted, exactly
    let end = |r: &OptionRange<Duration>| r.range.end().as_millis() as u64;
    let read_url = c"postgres://u@h1:5432,h2:5433/db";
    let ends = seatcore_options {
        pool_size: *Options::POOL_SIZE.range.end(),
        min_idle: *Options::MIN_IDLE.range.start(),
        checkout_timeout_ms: end(&Options::CHECKOUT_TIMEOUT),
        connect_timeout_ms: end(&Options::CONNECT_TIMEOUT),
        statement_timeout_ms: 1,
        lock_timeout_ms: 1,
        sweep_batch: *Options::SWEEP_BATCH.range.end(),
        change_retention_s: Options::CHANGE_RETENTION.range.start().as_secs(),
        max_hold_life_s: Options::MAX_HOLD_LIFE.range.end().as_secs(),
        migrate: false,
        group_holds: false,
        read_url: read_url.as_ptr(),
    };
    let want = Options {
        pool_size: *Options::POOL_SIZE.range.end(),
        min_idle: *Options::MIN_IDLE.range.start(),
        checkout_timeout: *Options::CHECKOUT_TIMEOUT.range.end(),
        connect_timeout: *Options::CONNECT_TIMEOUT.range.end(),
        statement_timeout: millis(1),
        lock_timeout: millis(1),
        sweep_batch: *Options::SWEEP_BATCH.range.end(),
        migrate: false,
        change_retention: *Options::CHANGE_RETENTION.range.start(),
        group_holds: false,
        max_hold_life: *Options::MAX_HOLD_LIFE.range.end(),
        read_url: Some("postgres://u@h1:5432,h2:5433/db".into()),
    };
    assert_eq!(unsafe { ends.to_core() }.unwrap(), want);
}

/// The client gets the options as set: its pool has the size set.
#[test]
fn a_client_gets_the_options_as_set() {
    let db = TestDb::new("c_options");
    let url = cs(&db.url);
    let o = seatcore_options { pool_size: 3, min_idle: 1, ..seatcore_options_default() };
    unsafe {
        let mut client = ptr::null_mut();
        assert_eq!(seatcore_client_new(url.as_ptr(), &o, &mut client, ptr::null_mut()), SEATCORE_OK);
        let c = Client(client);
        let mut stats = Stats::default();
        assert_eq!(seatcore_client_stats(c.0, &mut stats, ptr::null_mut()), SEATCORE_OK);
        assert_eq!(stats.pool_max, 3);
    }
}

#[test]
fn result_and_state_names() {
    unsafe {
        assert_eq!(text(seatcore_result_name(0)), "SEATCORE_OK");
        assert_eq!(text(seatcore_result_name(4)), "SEATCORE_SEATS_UNAVAILABLE");
        assert_eq!(text(seatcore_result_name(13)), "SEATCORE_CONFIG");
        assert_eq!(text(seatcore_result_name(100)), "SEATCORE_NULL_PARAMETER");
        assert_eq!(text(seatcore_result_name(199)), "SEATCORE_UNKNOWN_ERROR");
        assert_eq!(text(seatcore_result_name(77)), "SEATCORE_UNKNOWN_ERROR");
        for state in [SeatState::Available, SeatState::Held, SeatState::Booked, SeatState::Blocked] {
            assert_eq!(text(seatcore_seat_state_name(state as u32)), state.as_str());
        }
        assert_eq!(text(seatcore_seat_state_name(9)), "unknown");
        assert_eq!(text(seatcore_version()), env!("CARGO_PKG_VERSION"));
    }
}

/// Many threads on one shared client: no seat granted twice, counts add up.
#[test]
fn one_client_many_threads() {
    let db = TestDb::new("c_threads");
    let c = open(&db);
    let seats: Vec<String> = (1..=20).map(|i| format!("S{i}")).collect();
    let refs: Vec<&str> = seats.iter().map(String::as_str).collect();
    initialize(&c, "t", &refs);
    let granted: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (c, seats) = (&c, &seats);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..20 {
                        let pick =
                            [seats[(t * 3 + i) % 20].as_str(), seats[(t * 7 + i * 3 + 1) % 20].as_str()];
                        if pick[0] == pick[1] {
                            continue;
                        }
                        match hold(c, "t", &pick) {
                            Ok(h) => {
                                mine.extend(pick.map(str::to_owned));
                                unsafe { seatcore_hold_free(h) };
                            }
                            Err(err) => {
                                unsafe { take_error(err, SEATCORE_SEATS_UNAVAILABLE) };
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<&String> = granted.iter().flatten().collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "a seat was granted twice");
    let mut st = ptr::null_mut();
    unsafe {
        assert_eq!(seatcore_seat_status(c.0, cs("t").as_ptr(), &mut st, ptr::null_mut()), SEATCORE_OK);
        let counts = (*st).counts;
        seatcore_status_free(st);
        assert_eq!(counts.held as usize, n);
        assert_eq!(counts.held + counts.available, 20);
        assert!(counts.invariants_valid);
    }
    let end = assert_sound(&c);
    assert_eq!((end.summary.seats, end.summary.held as usize, end.summary.booked), (20, n, 0));
}

#[test]
fn sweeper_removes_expired_holds() {
    let (db, c) = with_show("c_sweeper", "s", &["A1"]);
    unsafe {
        let mut sw = ptr::null_mut();
        for interval in [0, 86_400_001, u64::MAX] {
            let mut err = ptr::null_mut();
            assert_eq!(seatcore_sweeper_start(c.0, interval, &mut sw, &mut err), SEATCORE_CONFIG);
            assert!(sw.is_null());
            let want = Sweeper::INTERVAL.check(Duration::from_millis(interval)).unwrap_err().to_string();
            assert_eq!(take_error(err, SEATCORE_CONFIG), want);
        }
        let ids = [cs("A1")];
        let p = ptrs(&ids);
        let mut h = ptr::null_mut();
        assert_eq!(
            seatcore_hold_seats(
                c.0,
                cs("s").as_ptr(),
                seat_list(p.as_ptr(), 1),
                1,
                ptr::null(),
                &mut h,
                ptr::null_mut()
            ),
            SEATCORE_OK
        );
        seatcore_hold_free(h);
        assert_eq!(seatcore_sweeper_start(c.0, 20, &mut sw, ptr::null_mut()), SEATCORE_OK);
        assert!(!sw.is_null());
        // The hold expires after a second by the database's clock; then the sweeper removes
        // it. Wait for that event (the deadline only guards against a sweeper that never runs).
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let mut stats = Stats::default();
        while stats.holds_expired_swept == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(seatcore_client_stats(c.0, &mut stats, ptr::null_mut()), SEATCORE_OK);
        }
        seatcore_sweeper_free(sw);
        assert_eq!(stats.holds_expired_swept, 1, "the sweeper never removed the expired hold");
    }
    let holds: i64 = db.client().query_one("SELECT count(*) FROM holds", &[]).unwrap().get(0);
    assert_eq!(holds, 0);
    let end = assert_sound(&c);
    assert_eq!((end.summary.seats, end.summary.held), (1, 0));
}

#[test]
fn status_streams_in_seat_map_order() {
    let (_db, c) = with_show("c_each", "s", &["C3", "A1", "B2"]);
    let h = hold(&c, "s", &["B2"]).unwrap();
    unsafe extern "C" fn collect(user: *mut c_void, seat: *const seatcore_seat) {
        let seen = &mut *(user as *mut Vec<(String, u32, bool)>);
        let seat = &*seat;
        seen.push((text(seat.seat_id).to_owned(), seat.state as u32, !seat.hold_expires_at.is_null()));
    }
    let mut seen: Vec<(String, u32, bool)> = Vec::new();
    let mut counts = seatcore_seat_counts {
        total: 0,
        available: 0,
        held: 0,
        booked: 0,
        invariants_valid: false,
        blocked: 0,
        version: 0,
    };
    unsafe {
        let code = seatcore_seat_status_each(
            c.0,
            cs("s").as_ptr(),
            Some(collect),
            &mut seen as *mut _ as *mut c_void,
            &mut counts,
            ptr::null_mut(),
        );
        assert_eq!(code, SEATCORE_OK);
        seatcore_hold_free(h);
        let mut err = ptr::null_mut();
        let code = seatcore_seat_status_each(
            c.0,
            cs("s").as_ptr(),
            None,
            ptr::null_mut(),
            ptr::null_mut(),
            &mut err,
        );
        assert_eq!(code, SEATCORE_NULL_PARAMETER);
        assert!(take_error(err, SEATCORE_NULL_PARAMETER).contains("callback"));
        let mut err = ptr::null_mut();
        let code = seatcore_seat_status_each(
            c.0,
            cs("none").as_ptr(),
            Some(collect),
            &mut seen as *mut _ as *mut c_void,
            ptr::null_mut(),
            &mut err,
        );
        assert_eq!(code, SEATCORE_SHOW_NOT_FOUND);
        take_error(err, SEATCORE_SHOW_NOT_FOUND);
    }
    assert_eq!(seen, [("C3".to_owned(), 0, false), ("A1".to_owned(), 0, false), ("B2".to_owned(), 1, true)]);
    assert_eq!((counts.total, counts.available, counts.held, counts.booked), (3, 2, 1, 0));
    assert!(counts.invariants_valid);
}

#[test]
fn audit_reports_what_it_finds() {
    let (db, c) = with_show("c_audit", "s1", &["A1", "A2", "A3"]);
    initialize(&c, "s2", &["B1"]);
    let h = hold(&c, "s1", &["A1", "A2"]).unwrap();
    unsafe {
        let mut b = ptr::null_mut();
        let code = seatcore_book_hold(c.0, cs("s1").as_ptr(), (*h).id, &mut b, ptr::null_mut());
        assert_eq!(code, SEATCORE_OK);
        seatcore_booking_free(b);
        seatcore_hold_free(h);
    }
    let h = hold(&c, "s2", &["B1"]).unwrap();
    unsafe { seatcore_hold_free(h) };

    // every show, one show, an unknown show
    let all = assert_sound(&c);
    assert_eq!((all.summary.shows, all.summary.seats, all.summary.held, all.summary.booked), (2, 4, 1, 2));
    let one = audit(&c, Some("s2"));
    assert!(one.summary.ok);
    assert_eq!(
        (
            one.summary.shows,
            one.summary.seats,
            one.summary.held,
            one.summary.booked,
            one.summary.problem_count
        ),
        (1, 1, 1, 0, 0)
    );
    let none = audit(&c, Some("no_such_show"));
    assert!(none.summary.ok);
    assert_eq!((none.summary.shows, none.summary.seats), (0, 0));

    // bad arguments: a code, nothing written
    unsafe {
        let sentinel = 0x5ea7_usize as *mut seatcore_audit_report;
        let mut out = sentinel;
        let mut err = ptr::null_mut();
        assert_eq!(seatcore_audit(c.0, cs("").as_ptr(), &mut out, &mut err), SEATCORE_INVALID_INPUT);
        assert!(take_error(err, SEATCORE_INVALID_INPUT).contains("show_id"));
        let bad = CString::new(vec![b'A', 0xff]).unwrap();
        let mut err = ptr::null_mut();
        assert_eq!(seatcore_audit(c.0, bad.as_ptr(), &mut out, &mut err), SEATCORE_INVALID_UTF8);
        take_error(err, SEATCORE_INVALID_UTF8);
        let mut err = ptr::null_mut();
        assert_eq!(seatcore_audit(ptr::null(), ptr::null(), &mut out, &mut err), SEATCORE_NULL_PARAMETER);
        assert!(take_error(err, SEATCORE_NULL_PARAMETER).contains("client"));
        let mut err = ptr::null_mut();
        assert_eq!(seatcore_audit(c.0, ptr::null(), ptr::null_mut(), &mut err), SEATCORE_NULL_PARAMETER);
        assert!(take_error(err, SEATCORE_NULL_PARAMETER).contains("out"));
        assert_eq!(out, sentinel, "out written on failure");
        seatcore_audit_free(ptr::null_mut());
    }

    // Rows broken behind the core's back: a show that declares more seats than it has, and
    // a seat that claims a hold no live hold row lists.
    let mut admin = db.client();
    admin.execute("UPDATE shows SET seat_count = 5 WHERE show_id = 's2'", &[]).unwrap();
    admin
        .execute(
            "UPDATE seats SET hold_id = gen_random_uuid(), hold_expires_at = now() + interval '1 hour'
             WHERE show_id = 's1' AND seat_id = 'A3'",
            &[],
        )
        .unwrap();
    let broken = audit(&c, None);
    assert!(!broken.summary.ok);
    assert_eq!(broken.summary.problem_count, 2);
    assert_eq!(broken.problems.len(), 2);
    assert!(broken.problems.iter().any(|p| p == "show s2: declares 5 seats but has 1"), "{broken:?}");
    assert!(broken.problems.iter().any(|p| p.starts_with("show s1: seat A3 is held by ")), "{broken:?}");
    let s1 = audit(&c, Some("s1"));
    assert_eq!((s1.summary.ok, s1.summary.problem_count), (false, 1));

    // More problems than a report lists: the count says how many there are.
    let seats: Vec<String> = (1..=MAX_REPORTED_PROBLEMS + 20).map(|i| format!("S{i}")).collect();
    let refs: Vec<&str> = seats.iter().map(String::as_str).collect();
    initialize(&c, "many", &refs);
    admin
        .execute(
            "UPDATE seats SET hold_id = gen_random_uuid(), hold_expires_at = now() + interval '1 hour'
             WHERE show_id = 'many'",
            &[],
        )
        .unwrap();
    let many = audit(&c, Some("many"));
    assert!(!many.summary.ok);
    assert_eq!(many.summary.problem_count as usize, MAX_REPORTED_PROBLEMS + 20);
    assert_eq!(many.problems.len(), MAX_REPORTED_PROBLEMS);
}

// ---- seat maps ----

/// A zeroed map seat, as C's `seatcore_map_seat s = {0};`.
fn map_seat(id: &CString) -> seatcore_map_seat {
    seatcore_map_seat {
        seat_id: id.as_ptr(),
        section: ptr::null(),
        row: ptr::null(),
        position: 0,
        category: ptr::null(),
        accessible: false,
        place_from_id: false,
        has_rank: false,
        rank: 0.0,
    }
}

/// The seat ids of a hold, and frees it.
unsafe fn hold_seats(h: *mut seatcore_hold) -> Vec<String> {
    let ids = seat_texts((*h).seats);
    seatcore_hold_free(h);
    ids
}

#[test]
fn seat_maps_blocks_and_best_available() {
    let db = TestDb::new("c_seat_map");
    let c = open(&db);
    // Two rows of six in section "stalls"; row B is premium; B1 accessible; a box with no row.
    let ids: Vec<CString> = ["A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2", "B3", "B4", "B5", "B6", "BOX"]
        .iter()
        .map(|s| cs(s))
        .collect();
    let (stalls, premium, row_a, row_b) = (cs("stalls"), cs("premium"), cs("A"), cs("B"));
    let seats: Vec<seatcore_map_seat> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut s = map_seat(id);
            if i < 12 {
                s.section = stalls.as_ptr();
                s.row = if i < 6 { row_a.as_ptr() } else { row_b.as_ptr() };
                s.position = (i % 6) as i64 + 1;
            }
            if (6..12).contains(&i) {
                s.category = premium.as_ptr();
            }
            s.accessible = i == 6;
            s
        })
        .collect();
    let show = cs("map_show");
    unsafe {
        let mut n = 0usize;
        let mut err = ptr::null_mut();
        assert_eq!(
            seatcore_initialize_map(c.0, show.as_ptr(), map_of(&seats), &mut n, &mut err),
            SEATCORE_OK
        );
        assert_eq!(n, 13);

        // The map reads back in map order with every field.
        let mut map = ptr::null_mut();
        assert_eq!(seatcore_seat_map(c.0, show.as_ptr(), &mut map, &mut err), SEATCORE_OK);
        let entries = std::slice::from_raw_parts((*map).seats, (*map).seat_count);
        assert_eq!(entries.len(), 13);
        let e = entries[6];
        assert_eq!((text(e.seat_id), text(e.section), text(e.row)), ("B1", "stalls", "B"));
        assert_eq!((e.position, text(e.category), e.accessible), (1, "premium", true));
        let e = entries[12];
        assert_eq!((text(e.seat_id), e.row.is_null(), e.position), ("BOX", true, -1));
        assert!(entries.iter().all(|e| e.has_rank && !e.place_from_id), "every field settled");
        // A map read back is a valid input as it is: a copy reads back the same.
        let copy = cs("map_copy");
        assert_eq!(seatcore_initialize_map(c.0, copy.as_ptr(), *map, ptr::null_mut(), &mut err), SEATCORE_OK);
        let mut copied = ptr::null_mut();
        assert_eq!(seatcore_seat_map(c.0, copy.as_ptr(), &mut copied, &mut err), SEATCORE_OK);
        let again = std::slice::from_raw_parts((*copied).seats, (*copied).seat_count);
        let fields = |e: &seatcore_map_seat| {
            let row = (!e.row.is_null()).then(|| text(e.row));
            (text(e.seat_id), text(e.section), row, e.position, text(e.category), e.accessible, e.rank)
        };
        assert_eq!(
            again.iter().map(fields).collect::<Vec<_>>(),
            entries.iter().map(fields).collect::<Vec<_>>()
        );
        // Seat by seat: the same seats, fields and order, and the count.
        type Fields = (String, String, Option<String>, i64, String, bool, f64);
        unsafe extern "C" fn collect(user: *mut c_void, seat: *const seatcore_map_seat) {
            let e = &*seat;
            let row = (!e.row.is_null()).then(|| text(e.row).to_owned());
            let f = (
                text(e.seat_id).into(),
                text(e.section).into(),
                row,
                e.position,
                text(e.category).into(),
                e.accessible,
                e.rank,
            );
            (*(user as *mut Vec<Fields>)).push(f);
        }
        let mut seen: Vec<Fields> = Vec::new();
        let mut count = 0usize;
        let user = &mut seen as *mut Vec<Fields> as *mut c_void;
        assert_eq!(
            seatcore_seat_map_each(c.0, show.as_ptr(), Some(collect), user, &mut count, &mut err),
            SEATCORE_OK
        );
        let owned = |e: &seatcore_map_seat| {
            let (id, section, row, position, category, accessible, rank) = fields(e);
            (
                id.to_owned(),
                section.to_owned(),
                row.map(str::to_owned),
                position,
                category.to_owned(),
                accessible,
                rank,
            )
        };
        assert_eq!(seen, entries.iter().map(owned).collect::<Vec<_>>());
        assert_eq!(count, 13);
        let none = cs("no_such_show");
        let code = seatcore_seat_map_each(c.0, none.as_ptr(), Some(collect), user, &mut count, &mut err);
        assert_eq!(code, SEATCORE_SHOW_NOT_FOUND);
        take_error(err, SEATCORE_SHOW_NOT_FOUND);
        assert_eq!((seen.len(), count), (13, 13), "no seat and no count for an unknown show");
        seatcore_map_free(copied);
        seatcore_map_free(map);

        // Block A3 and A4: row A is left with runs of two; best 3 must come from row B.
        let blocked = [cs("A3"), cs("A4")];
        let bp = ptrs(&blocked);
        let reason = cs("camera platform");
        let mut err = ptr::null_mut();
        assert_eq!(
            seatcore_block_seats(
                c.0,
                show.as_ptr(),
                seat_list(bp.as_ptr(), bp.len()),
                reason.as_ptr(),
                &mut err
            ),
            SEATCORE_OK
        );
        let mut status = ptr::null_mut();
        assert_eq!(seatcore_seat_status(c.0, show.as_ptr(), &mut status, ptr::null_mut()), SEATCORE_OK);
        let counts = (*status).counts;
        assert_eq!((counts.blocked, counts.available), (2, 11));
        seatcore_status_free(status);
        assert!(matches!(hold(&c, "map_show", &["A3"]), Err(e) if !e.is_null() && {
            take_error(e, SEATCORE_SEATS_UNAVAILABLE); true
        }));

        let mut h = ptr::null_mut();
        assert_eq!(
            seatcore_hold_best(c.0, show.as_ptr(), 3, ptr::null(), 60, ptr::null(), &mut h, &mut err),
            SEATCORE_OK
        );
        let got = hold_seats(h);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|s| s.starts_with('B')), "{got:?}");

        // Filters: accessible only gives B1 (unless taken); a category the show lacks: no block.
        let filters = seatcore_best_filters {
            category: ptr::null(),
            section: ptr::null(),
            accessible: SEATCORE_ACCESSIBLE_ONLY,
        };
        let code = seatcore_hold_best(c.0, show.as_ptr(), 1, &filters, 60, ptr::null(), &mut h, &mut err);
        if got.contains(&"B1".to_owned()) {
            assert_eq!(code, SEATCORE_NO_ADJACENT_SEATS);
            take_error(err, SEATCORE_NO_ADJACENT_SEATS);
            err = ptr::null_mut();
        } else {
            assert_eq!(code, SEATCORE_OK);
            assert_eq!(hold_seats(h), ["B1"]);
        }
        let gold = cs("gold");
        let filters =
            seatcore_best_filters { category: gold.as_ptr(), section: ptr::null(), accessible: SEATCORE_ANY };
        assert_eq!(
            seatcore_hold_best(c.0, show.as_ptr(), 1, &filters, 60, ptr::null(), &mut h, &mut err),
            SEATCORE_NO_ADJACENT_SEATS
        );
        take_error(err, SEATCORE_NO_ADJACENT_SEATS);

        // Bad input changes nothing.
        let mut err = ptr::null_mut();
        let bad = seatcore_best_filters { category: ptr::null(), section: ptr::null(), accessible: 7 };
        assert_eq!(
            seatcore_hold_best(c.0, show.as_ptr(), 1, &bad, 60, ptr::null(), &mut h, &mut err),
            SEATCORE_INVALID_INPUT
        );
        take_error(err, SEATCORE_INVALID_INPUT);
        let mut err = ptr::null_mut();
        assert_eq!(
            seatcore_hold_best(c.0, show.as_ptr(), 0, ptr::null(), 60, ptr::null(), &mut h, &mut err),
            SEATCORE_INVALID_INPUT
        );
        take_error(err, SEATCORE_INVALID_INPUT);
        let mut err = ptr::null_mut();
        assert_eq!(
            seatcore_hold_best(
                c.0,
                show.as_ptr(),
                1,
                ptr::null(),
                60,
                ptr::null(),
                ptr::null_mut(),
                &mut err
            ),
            SEATCORE_NULL_PARAMETER
        );
        take_error(err, SEATCORE_NULL_PARAMETER);

        // A request key makes a retry return the same hold.
        let key = cs("kiosk-7-req-1");
        let hold_with_key = || {
            let mut hold = ptr::null_mut();
            let code = seatcore_hold_best(
                c.0,
                show.as_ptr(),
                2,
                ptr::null(),
                60,
                key.as_ptr(),
                &mut hold,
                ptr::null_mut(),
            );
            assert_eq!(code, SEATCORE_OK);
            hold
        };
        let (first, again) = (hold_with_key(), hold_with_key());
        assert_eq!(text((*first).id), text((*again).id));
        seatcore_hold_free(first);
        seatcore_hold_free(again);

        // Unblock; a seat not on the map refuses the whole call.
        let unknown = [cs("A3"), cs("Z9")];
        let up = ptrs(&unknown);
        let mut err = ptr::null_mut();
        assert_eq!(
            seatcore_unblock_seats(c.0, show.as_ptr(), seat_list(up.as_ptr(), up.len()), &mut err),
            SEATCORE_INVALID_SEAT_IDS
        );
        take_error(err, SEATCORE_INVALID_SEAT_IDS);
        assert_eq!(
            seatcore_unblock_seats(c.0, show.as_ptr(), seat_list(bp.as_ptr(), bp.len()), ptr::null_mut()),
            SEATCORE_OK
        );
        assert!(hold(&c, "map_show", &["A3"]).map(|h| seatcore_hold_free(h)).is_ok());
    }
    assert_sound(&c);
}

#[test]
fn bad_seat_maps_name_the_seat_and_write_nothing() {
    let db = TestDb::new("c_bad_map");
    let c = open(&db);
    let (a1, a2, row) = (cs("A1"), cs("A2"), cs("A"));
    let show = cs("bad_map");
    unsafe {
        let mut a = map_seat(&a1);
        a.row = row.as_ptr();
        a.position = 1;
        let mut b = map_seat(&a2);
        b.row = row.as_ptr();
        b.position = 1; // the same place as A1

        // Initializes the map with `seats` (NULL when there are none), expecting the code
        // `want`; returns the error object.
        let refused = |seats: &[seatcore_map_seat], want| {
            let p = if seats.is_empty() { ptr::null() } else { seats.as_ptr() };
            let map = seatcore_map { seats: p, seat_count: seats.len() };
            let mut err = ptr::null_mut();
            assert_eq!(seatcore_initialize_map(c.0, show.as_ptr(), map, ptr::null_mut(), &mut err), want);
            err
        };
        let err = refused(&[a, b], SEATCORE_INVALID_INPUT);
        assert_eq!(error_index(err), Some(1));
        take_error(err, SEATCORE_INVALID_INPUT);
        // A negative position in a row, a NULL seat id, a rank that is not finite, no seat.
        b.position = -3;
        take_error(refused(&[a, b], SEATCORE_INVALID_INPUT), SEATCORE_INVALID_INPUT);
        b.position = 2;
        b.seat_id = ptr::null();
        take_error(refused(&[a, b], SEATCORE_NULL_PARAMETER), SEATCORE_NULL_PARAMETER);
        b.seat_id = a2.as_ptr();
        b.has_rank = true;
        b.rank = f64::INFINITY;
        take_error(refused(&[a, b], SEATCORE_INVALID_INPUT), SEATCORE_INVALID_INPUT);
        take_error(refused(&[], SEATCORE_INVALID_INPUT), SEATCORE_INVALID_INPUT);
        // Nothing was written: the show does not exist.
        let mut map = ptr::null_mut();
        let mut err = ptr::null_mut();
        assert_eq!(seatcore_seat_map(c.0, show.as_ptr(), &mut map, &mut err), SEATCORE_SHOW_NOT_FOUND);
        take_error(err, SEATCORE_SHOW_NOT_FOUND);
        assert!(map.is_null());
        // Place from id: a flat seat inside a map.
        let mut flat = map_seat(&a1);
        flat.place_from_id = true;
        assert_eq!(
            seatcore_initialize_map(c.0, show.as_ptr(), map_of(&[flat]), ptr::null_mut(), ptr::null_mut()),
            SEATCORE_OK
        );
        assert_eq!(seatcore_seat_map(c.0, show.as_ptr(), &mut map, ptr::null_mut()), SEATCORE_OK);
        assert_eq!((*map).seat_count, 1);
        let e = *(*map).seats;
        assert_eq!((text(e.row), e.position), ("A", 1));
        seatcore_map_free(map);
    }
    assert_sound(&c);
}
