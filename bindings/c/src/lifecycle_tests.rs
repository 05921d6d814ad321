//! The hold lifecycle through the C API, called the way C calls it: extending a hold,
//! releasing some of its seats, cancelling a booking; out-parameters written only on
//! success; bad input refused with nothing written. Every test ends with the audit.

use std::ffi::CString;
use std::ptr;

use seatcore_core::testing::TestDb;

use crate::error::seatcore_result::*;
use crate::results::*;
use crate::tests::{
    assert_sound, cs, hold, initialize, ptrs, seat_list, seat_texts, take_error, text, with_show, Client,
};
use crate::*;

fn counts(c: &Client, show: &str) -> seatcore_seat_counts {
    let mut status = ptr::null_mut();
    let counts = unsafe {
        assert_eq!(seatcore_seat_status(c.0, cs(show).as_ptr(), &mut status, ptr::null_mut()), SEATCORE_OK);
        let counts = (*status).counts;
        seatcore_status_free(status);
        counts
    };
    assert!(counts.invariants_valid);
    counts
}

unsafe fn seat_ids(r: *const seatcore_record) -> Vec<String> {
    seat_texts((*r).seats)
}

#[test]
fn extend_release_some_seats_book_and_cancel() {
    let (_db, c) = with_show("c_lifecycle", "s", &["A1", "A2", "A3", "A4"]);
    let show = cs("s");
    let h = hold(&c, "s", &["A1", "A2", "A3"]).unwrap();
    unsafe {
        let id = CString::new(text((*h).id)).unwrap();
        let before = (*h).at_us;

        // extend: a new hold object with the new expiry
        let mut extended = ptr::null_mut();
        let mut err = ptr::null_mut();
        let code = seatcore_extend_hold(c.0, show.as_ptr(), id.as_ptr(), 600, &mut extended, &mut err);
        assert_eq!((code, err.is_null()), (SEATCORE_OK, true));
        assert!((*extended).at_us > before + 500_000_000);
        assert_eq!(text((*extended).id), text((*h).id));
        assert_eq!(seat_ids(extended), ["A1", "A2", "A3"]);
        seatcore_hold_free(extended);

        // releases `seats` of the hold
        let release = |seats: &[&str], out, err| {
            let ids: Vec<CString> = seats.iter().map(|s| cs(s)).collect();
            let p = ptrs(&ids);
            seatcore_release_seats(c.0, show.as_ptr(), id.as_ptr(), seat_list(p.as_ptr(), p.len()), out, err)
        };

        // release one seat
        let mut released = ptr::null_mut();
        assert_eq!(release(&[" A2"], &mut released, ptr::null_mut()), SEATCORE_OK);
        let r = &*released;
        assert_eq!(text(r.hold_id), id.to_str().unwrap());
        assert_eq!(seat_texts(r.released), ["A2"]);
        assert_eq!(seat_texts(r.remaining), ["A1", "A3"]);
        seatcore_seats_released_free(released);
        assert_eq!(counts(&c, "s").held, 2);

        // seats not in the hold: named, nothing released, out untouched
        let sentinel = 0x5ea7_usize as *mut seatcore_seats_released;
        let mut out = sentinel;
        let mut err = ptr::null_mut();
        let code = release(&["A1", "A4", "Z9"], &mut out, &mut err);
        assert_eq!((code, out), (SEATCORE_SEATS_NOT_IN_HOLD, sentinel));
        assert_eq!(seat_texts((*err).not_in_hold), ["A4", "Z9"]);
        assert_eq!((*err).unavailable.count, 0);
        assert_eq!(take_error(err, SEATCORE_SEATS_NOT_IN_HOLD), "seats not in hold: A4, Z9");
        assert_eq!(counts(&c, "s").held, 2);
        // `out` is optional
        assert_eq!(release(&["A3"], ptr::null_mut(), ptr::null_mut()), SEATCORE_OK);

        // book what is left, cancel it twice, book again: refused
        let mut booking = ptr::null_mut();
        assert_eq!(
            seatcore_book_hold(c.0, show.as_ptr(), id.as_ptr(), &mut booking, ptr::null_mut()),
            SEATCORE_OK
        );
        assert_eq!(seat_ids(booking), ["A1"]);
        let booked_at = (*booking).at_us;
        seatcore_booking_free(booking);
        let mut first = ptr::null_mut();
        assert_eq!(
            seatcore_cancel_booking(c.0, show.as_ptr(), id.as_ptr(), &mut first, ptr::null_mut()),
            SEATCORE_OK
        );
        assert_eq!(text((*first).id), id.to_str().unwrap());
        assert_eq!(text((*first).show_id), "s");
        assert_eq!(seat_ids(first), ["A1"]);
        assert!((*first).at_us >= booked_at);
        assert!(text((*first).at).ends_with("+00:00"));
        let mut again = ptr::null_mut();
        assert_eq!(
            seatcore_cancel_booking(c.0, show.as_ptr(), id.as_ptr(), &mut again, ptr::null_mut()),
            SEATCORE_OK
        );
        assert_eq!((*again).at_us, (*first).at_us);
        seatcore_cancellation_free(first);
        seatcore_cancellation_free(again);
        assert_eq!(
            seatcore_cancel_booking(c.0, show.as_ptr(), id.as_ptr(), ptr::null_mut(), ptr::null_mut()),
            SEATCORE_OK
        );
        let mut out = 0x5ea7_usize as *mut seatcore_booking;
        let mut err = ptr::null_mut();
        let code = seatcore_book_hold(c.0, show.as_ptr(), id.as_ptr(), &mut out, &mut err);
        assert_eq!((code, out as usize), (SEATCORE_BOOKING_CANCELLED, 0x5ea7));
        assert_eq!(take_error(err, SEATCORE_BOOKING_CANCELLED), "booking cancelled");
        assert_eq!(counts(&c, "s").available, 4);

        // the extension of a hold that is gone
        let mut out = 0x5ea7_usize as *mut seatcore_hold;
        let mut err = ptr::null_mut();
        let code = seatcore_extend_hold(c.0, show.as_ptr(), id.as_ptr(), 60, &mut out, &mut err);
        assert_eq!((code, out as usize), (SEATCORE_HOLD_NOT_FOUND, 0x5ea7));
        take_error(err, SEATCORE_HOLD_NOT_FOUND);
        seatcore_hold_free(h);
    }
    assert_sound(&c);
}

#[test]
fn bad_lifecycle_input_writes_nothing() {
    let (_db, c) = with_show("c_lifecycle_bad", "s", &["A1", "A2"]);
    let show = cs("s");
    let h = hold(&c, "s", &["A1", "A2"]).unwrap();
    unsafe {
        let id = CString::new(text((*h).id)).unwrap();
        let expires = (*h).at_us;
        let fail = |code: seatcore_result, want: seatcore_result, err: *mut seatcore_error, needle: &str| {
            assert_eq!(code, want);
            let msg = take_error(err, want);
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        };
        let sentinel = 0x5ea7_usize as *mut seatcore_hold;
        let mut out = sentinel;
        for (client, show_id, hold_id, seconds, want, needle) in [
            (ptr::null(), show.as_ptr(), id.as_ptr(), 60, SEATCORE_NULL_PARAMETER, "client"),
            (c.0 as *const _, ptr::null(), id.as_ptr(), 60, SEATCORE_NULL_PARAMETER, "show_id"),
            (c.0 as *const _, show.as_ptr(), ptr::null(), 60, SEATCORE_NULL_PARAMETER, "hold_id"),
            (c.0 as *const _, show.as_ptr(), id.as_ptr(), 0, SEATCORE_INVALID_INPUT, "between 1 and 86400"),
            (c.0 as *const _, show.as_ptr(), id.as_ptr(), -1, SEATCORE_INVALID_INPUT, "hold duration"),
            (
                c.0 as *const _,
                show.as_ptr(),
                cs("not-a-uuid").as_ptr(),
                60,
                SEATCORE_HOLD_NOT_FOUND,
                "hold not found",
            ),
            (c.0 as *const _, cs("").as_ptr(), id.as_ptr(), 60, SEATCORE_INVALID_INPUT, "show_id"),
        ] {
            let mut err = ptr::null_mut();
            let code = seatcore_extend_hold(client, show_id, hold_id, seconds, &mut out, &mut err);
            fail(code, want, err, needle);
            assert_eq!(out, sentinel, "out written on failure");
        }
        let mut err = ptr::null_mut();
        let code = seatcore_extend_hold(c.0, show.as_ptr(), id.as_ptr(), 60, ptr::null_mut(), &mut err);
        fail(code, SEATCORE_NULL_PARAMETER, err, "out");
        let bad = CString::new(vec![b'A', 0xff]).unwrap();
        let mut err = ptr::null_mut();
        let code = seatcore_extend_hold(c.0, show.as_ptr(), bad.as_ptr(), 60, &mut out, &mut err);
        fail(code, SEATCORE_INVALID_UTF8, err, "hold_id is not valid UTF-8");

        // partial releases: NULL list, zero count, NULL element, duplicates, bad UTF-8
        let mut released = 0x5ea7_usize as *mut seatcore_seats_released;
        let a1 = cs("A1");
        let dup = [a1.as_ptr(), cs(" A1").into_raw().cast_const()];
        let with_null = [a1.as_ptr(), ptr::null()];
        let with_bad = [a1.as_ptr(), bad.as_ptr()];
        for (list, count, want, needle) in [
            (ptr::null(), 1, SEATCORE_NULL_PARAMETER, "seats.ids must not be NULL"),
            (with_null.as_ptr(), 0, SEATCORE_INVALID_INPUT, "at least one seat"),
            (with_null.as_ptr(), 2, SEATCORE_NULL_PARAMETER, "seats.ids[1]"),
            (dup.as_ptr(), 2, SEATCORE_INVALID_INPUT, "duplicates"),
            (with_bad.as_ptr(), 2, SEATCORE_INVALID_UTF8, "seats.ids[1]"),
            (with_null.as_ptr(), 1001, SEATCORE_INVALID_INPUT, "at most 1000"),
        ] {
            let mut err = ptr::null_mut();
            let code = seatcore_release_seats(
                c.0,
                show.as_ptr(),
                id.as_ptr(),
                seat_list(list, count),
                &mut released,
                &mut err,
            );
            fail(code, want, err, needle);
            assert_eq!(released as usize, 0x5ea7, "out written on failure");
        }
        drop(CString::from_raw(dup[1].cast_mut()));

        // cancellations of what is no booking
        let mut cancelled = 0x5ea7_usize as *mut seatcore_cancellation;
        for (show_id, booking_id, want) in [
            (show.as_ptr(), id.as_ptr(), SEATCORE_BOOKING_NOT_FOUND),
            (show.as_ptr(), cs("nope").as_ptr(), SEATCORE_BOOKING_NOT_FOUND),
            (show.as_ptr(), ptr::null(), SEATCORE_NULL_PARAMETER),
            (ptr::null(), id.as_ptr(), SEATCORE_NULL_PARAMETER),
        ] {
            let mut err = ptr::null_mut();
            let code = seatcore_cancel_booking(c.0, show_id, booking_id, &mut cancelled, &mut err);
            assert_eq!(code, want);
            take_error(err, want);
            assert_eq!(cancelled as usize, 0x5ea7);
        }
        seatcore_seats_released_free(ptr::null_mut());
        seatcore_cancellation_free(ptr::null_mut());

        // nothing changed: the hold keeps both seats and its expiry
        let c2 = counts(&c, "s");
        assert_eq!((c2.held, c2.available), (2, 0));
        let mut again = ptr::null_mut();
        assert_eq!(
            seatcore_extend_hold(c.0, show.as_ptr(), id.as_ptr(), 60, &mut again, ptr::null_mut()),
            SEATCORE_OK
        );
        assert!((*again).at_us <= expires + 1_000_000, "a 60 s extension of a 60 s hold");
        seatcore_hold_free(again);
        seatcore_hold_free(h);
    }
    assert_sound(&c);
}

#[test]
fn the_maximum_hold_life_is_an_option() {
    let db = TestDb::new("c_lifecycle_life");
    unsafe {
        let url = cs(&db.url);
        let mut client = ptr::null_mut();
        let mut err = ptr::null_mut();
        let options = seatcore_options { max_hold_life_s: 0, ..seatcore_options_default() };
        assert_eq!(seatcore_client_new(url.as_ptr(), &options, &mut client, &mut err), SEATCORE_CONFIG);
        assert!(client.is_null());
        assert!(take_error(err, SEATCORE_CONFIG).contains("max_hold_life must be from 1 s to 86400 s"));
        let options = seatcore_options { max_hold_life_s: 90, ..options };
        assert_eq!(seatcore_client_new(url.as_ptr(), &options, &mut client, ptr::null_mut()), SEATCORE_OK);
        let c = Client(client);
        initialize(&c, "s", &["A1"]);
        let h = hold(&c, "s", &["A1"]).unwrap();
        let mut extended = ptr::null_mut();
        let code = seatcore_extend_hold(c.0, cs("s").as_ptr(), (*h).id, 3600, &mut extended, ptr::null_mut());
        assert_eq!(code, SEATCORE_OK);
        // capped at creation + 90 s; the hold was made just before its 60 s expiry was set
        let gained = (*extended).at_us - (*h).at_us;
        assert!(gained > 0 && gained <= 30_000_000, "{gained} µs gained");
        seatcore_hold_free(extended);
        seatcore_hold_free(h);
        assert_sound(&c);
    }
}
