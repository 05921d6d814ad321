//! Hostile callers of the C API: proptest-driven calls of the `extern "C"` functions with
//! random bytes (invalid UTF-8, interior NULs), NULL pointers and short counts. Never a
//! crash (a panic crossing `extern "C"` would abort this test binary), always a result
//! code, an error object exactly when one was asked for and the call failed, nothing
//! written on refusal. And TLS to PostgreSQL through `seatcore_client_new`.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use proptest::prelude::*;
use seatcore_core::testing::{Cluster, TestDb};

use crate::error::seatcore_result::*;
use crate::results::*;
use crate::*;

/// A C string argument: NULL, or arbitrary bytes (cut at the first NUL, as C would see them).
#[derive(Debug, Clone)]
enum Text {
    Null,
    Bytes(Vec<u8>),
}

impl Text {
    fn c(&self) -> Option<CString> {
        match self {
            Text::Null => None,
            Text::Bytes(b) => {
                let cut: Vec<u8> = b.iter().copied().take_while(|&x| x != 0).collect();
                Some(CString::new(cut).unwrap())
            }
        }
    }
}

fn text() -> impl Strategy<Value = Text> {
    prop_oneof![
        1 => Just(Text::Null),
        3 => "[A-C][1-3]".prop_map(|s| Text::Bytes(s.into_bytes())),
        2 => prop::collection::vec(any::<u8>(), 0..20).prop_map(Text::Bytes),
        1 => "\\PC{0,70}".prop_map(|s| Text::Bytes(s.into_bytes())),
        1 => Just(Text::Bytes(vec![0xff, 0xfe, b'A'])),
    ]
}

#[derive(Debug, Clone)]
struct Call {
    op: u8,
    null_client: bool,
    show: Text,
    /// `None`: a NULL list pointer.
    seats: Option<Vec<Text>>,
    /// How many of the list's entries to announce (never more than it has).
    count_cut: usize,
    seconds: i64,
    key: Text,
    hold_id: Text,
    null_out: bool,
    want_err: bool,
}

fn call() -> impl Strategy<Value = Call> {
    (
        0u8..8,
        prop::bool::weighted(0.1),
        text(),
        prop::option::weighted(0.9, prop::collection::vec(text(), 0..5)),
        0usize..3,
        prop_oneof![Just(60i64), Just(0), Just(-1), Just(86_401), any::<i64>()],
        text(),
        text(),
        prop::bool::weighted(0.1),
        any::<bool>(),
    )
        .prop_map(
            |(op, null_client, show, seats, count_cut, seconds, key, hold_id, null_out, want_err)| Call {
                op,
                null_client,
                show,
                seats,
                count_cut,
                seconds,
                key,
                hold_id,
                null_out,
                want_err,
            },
        )
}

fn counts(db: &TestDb) -> Vec<i64> {
    let mut c = db.client();
    ["shows", "seats", "holds", "bookings"]
        .iter()
        .map(|t| c.query_one(&format!("SELECT count(*) FROM {t}"), &[]).unwrap().get(0))
        .collect()
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

/// Runs one call; returns its code (checking the out/err protocol on the way).
unsafe fn run(client: *mut seatcore_client, c: &Call) -> crate::error::seatcore_result {
    let client = if c.null_client { ptr::null_mut() } else { client };
    let show = c.show.c();
    let key = c.key.c();
    let hold_id = c.hold_id.c();
    let seat_strings: Option<Vec<Option<CString>>> =
        c.seats.as_ref().map(|v| v.iter().map(Text::c).collect());
    let seat_ptrs: Option<Vec<*const c_char>> =
        seat_strings.as_ref().map(|v| v.iter().map(opt_ptr).collect());
    let seats = match &seat_ptrs {
        Some(p) => {
            seatcore_seats { ids: p.as_ptr(), count: p.len().saturating_sub(c.count_cut.min(p.len())) }
        }
        // A NULL list with a non-zero count must be refused, not read.
        None => seatcore_seats { ids: ptr::null(), count: c.count_cut },
    };
    let mut err: *mut seatcore_error = ptr::null_mut();
    let errp = if c.want_err { &mut err as *mut _ } else { ptr::null_mut() };
    let mut hold: *mut seatcore_hold = ptr::null_mut();
    let mut booking: *mut seatcore_booking = ptr::null_mut();
    let mut status: *mut seatcore_status = ptr::null_mut();
    let mut report: *mut seatcore_audit_report = ptr::null_mut();
    let code = match c.op {
        0 => seatcore_initialize_show(client, opt_ptr(&show), seats, ptr::null_mut(), errp),
        1 | 2 => {
            let out = if c.null_out { ptr::null_mut() } else { &mut hold as *mut _ };
            let key = if c.op == 1 { ptr::null() } else { opt_ptr(&key) };
            seatcore_hold_seats(client, opt_ptr(&show), seats, c.seconds, key, out, errp)
        }
        3 => {
            let out = if c.null_out { ptr::null_mut() } else { &mut booking as *mut _ };
            seatcore_book_hold(client, opt_ptr(&show), opt_ptr(&hold_id), out, errp)
        }
        4 => seatcore_release_hold(client, opt_ptr(&show), opt_ptr(&hold_id), errp),
        5 => {
            let out = if c.null_out { ptr::null_mut() } else { &mut status as *mut _ };
            seatcore_seat_status(client, opt_ptr(&show), out, errp)
        }
        6 => seatcore_sweep_expired(client, ptr::null_mut(), errp),
        _ => {
            // a NULL show id is fine here: it audits every show
            let out = if c.null_out { ptr::null_mut() } else { &mut report as *mut _ };
            seatcore_audit(client, opt_ptr(&show), out, errp)
        }
    };
    // The message of a failure is always readable and names something.
    if code != SEATCORE_OK && c.want_err {
        assert!(!err.is_null(), "{code:?} without an error object");
        assert_eq!((*err).code, code);
        let msg = CStr::from_ptr((*err).message).to_str().expect("UTF-8 message");
        assert!(!msg.is_empty());
        for leak in ["SELECT", "INSERT", "UPDATE ", "panicked"] {
            assert!(!msg.contains(leak), "message leaks {leak:?}: {msg}");
        }
        seatcore_error_free(err);
    } else {
        assert!(err.is_null(), "error object written on success");
    }
    if code != SEATCORE_OK {
        assert!(
            hold.is_null() && booking.is_null() && status.is_null() && report.is_null(),
            "out written on failure"
        );
    } else if c.op == 7 {
        assert!((*report).summary.ok, "the audit found problems");
    }
    seatcore_audit_free(report);
    seatcore_hold_free(hold);
    seatcore_booking_free(booking);
    seatcore_status_free(status);
    code
}

#[test]
fn random_arguments_never_crash_and_refusals_write_nothing() {
    let db = TestDb::new("c_fuzz");
    let url = CString::new(db.url.clone()).unwrap();
    let mut client = ptr::null_mut();
    assert_eq!(
        unsafe { seatcore_client_new(url.as_ptr(), ptr::null(), &mut client, ptr::null_mut()) },
        SEATCORE_OK
    );
    let ids: Vec<CString> = ["A1", "A2", "A3", "B1"].iter().map(|s| CString::new(*s).unwrap()).collect();
    let p: Vec<*const c_char> = ids.iter().map(|c| c.as_ptr()).collect();
    let show = CString::new("A1").unwrap(); // a show whose id the generator also produces
    assert_eq!(
        unsafe {
            seatcore_initialize_show(
                client,
                show.as_ptr(),
                seatcore_seats { ids: p.as_ptr(), count: p.len() },
                ptr::null_mut(),
                ptr::null_mut(),
            )
        },
        SEATCORE_OK
    );
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let refused = std::cell::Cell::new(0u32);
    let client_addr = client as usize;
    runner
        .run(&call(), |c| {
            let before = counts(&db);
            let code = unsafe { run(client_addr as *mut seatcore_client, &c) };
            if matches!(code, SEATCORE_INVALID_INPUT | SEATCORE_NULL_PARAMETER | SEATCORE_INVALID_UTF8) {
                refused.set(refused.get() + 1);
                prop_assert_eq!(counts(&db), before, "{:?} wrote something", code);
            }
            Ok(())
        })
        .unwrap();
    println!("C API fuzz: {cases} random calls, {} refused as bad arguments", refused.get());
    assert!(refused.get() > cases / 10);
    unsafe {
        assert_sound(client);
        seatcore_client_free(client);
    }
}

/// Audits every show through the C API and fails with the problems when one is found.
unsafe fn assert_sound(client: *const seatcore_client) {
    let mut report = ptr::null_mut();
    assert_eq!(seatcore_audit(client, ptr::null(), &mut report, ptr::null_mut()), SEATCORE_OK);
    let r = &*report;
    let problems: Vec<String> = std::slice::from_raw_parts(r.problems, r.problems_listed)
        .iter()
        .map(|&p| CStr::from_ptr(p).to_string_lossy().into_owned())
        .collect();
    let ok = r.summary.ok;
    seatcore_audit_free(report);
    assert!(ok && problems.is_empty(), "the audit found problems: {problems:?}");
}

// ---- TLS ----

fn book_through_c(url: &str, show: &str) -> crate::error::seatcore_result {
    let url = CString::new(url).unwrap();
    let mut client = ptr::null_mut();
    let mut err = ptr::null_mut();
    let opts = seatcore_options { checkout_timeout_ms: 3000, ..seatcore_options_default() };
    unsafe {
        let code = seatcore_client_new(url.as_ptr(), &opts, &mut client, &mut err);
        if code != SEATCORE_OK {
            seatcore_error_free(err);
            return code;
        }
        let show = CString::new(show).unwrap();
        let a1 = CString::new("A1").unwrap();
        let ids = [a1.as_ptr()];
        let seats = seatcore_seats { ids: ids.as_ptr(), count: 1 };
        assert_eq!(
            seatcore_initialize_show(client, show.as_ptr(), seats, ptr::null_mut(), ptr::null_mut()),
            SEATCORE_OK
        );
        let mut hold = ptr::null_mut();
        assert_eq!(
            seatcore_hold_seats(client, show.as_ptr(), seats, 60, ptr::null(), &mut hold, ptr::null_mut()),
            SEATCORE_OK
        );
        let mut booking = ptr::null_mut();
        assert_eq!(
            seatcore_book_hold(client, show.as_ptr(), (*hold).id, &mut booking, ptr::null_mut()),
            SEATCORE_OK
        );
        seatcore_hold_free(hold);
        seatcore_booking_free(booking);
        assert_sound(client);
        seatcore_client_free(client);
    }
    SEATCORE_OK
}

#[test]
fn tls_to_postgresql_through_the_c_api() {
    if std::process::Command::new("openssl").arg("version").output().map_or(true, |o| !o.status.success()) {
        // A missing prerequisite fails where the suite must be complete.
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl command is missing (needed for the TLS cluster)"
        );
        eprintln!(
            "SKIPPED tls_to_postgresql_through_the_c_api: no openssl command (set CI to make this fail)"
        );
        return;
    }
    let cluster = Cluster::start("c-tls", true);
    let ca = cluster.ca_cert();
    let ca = ca.to_str().unwrap();
    assert_eq!(
        book_through_c(&cluster.url("127.0.0.1", "sslmode=require&application_name=c_tls"), "c_tls_require"),
        SEATCORE_OK
    );
    assert_eq!(
        book_through_c(
            &cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={ca}")),
            "c_tls_verify_full"
        ),
        SEATCORE_OK
    );
    // The same request in key=value form.
    let kv = format!(
        "host=localhost port={} user=postgres dbname=seatcore sslmode=verify-full sslrootcert={ca}",
        cluster.port
    );
    assert_eq!(book_through_c(&kv, "c_tls_kv"), SEATCORE_OK);
    // A CA that did not sign the server's certificate: refused, cleanly.
    let other = cluster.foreign_ca_cert();
    let wrong = cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={}", other.display()));
    assert_eq!(book_through_c(&wrong, "c_tls_wrong"), SEATCORE_UNAVAILABLE);
    // The C door's sessions really were encrypted.
    let mut c =
        postgres::Client::connect(&cluster.url("127.0.0.1", "application_name=probe"), postgres::NoTls)
            .unwrap();
    let booked: i64 =
        c.query_one("SELECT count(*) FROM bookings WHERE show_id LIKE 'c_tls%'", &[]).unwrap().get(0);
    assert_eq!(booked, 3);
}
