//! Property tests of the core's input validation: arbitrary strings and lists never panic,
//! what is accepted is trimmed, non-empty and within limits, and a rejected call writes
//! nothing to the database. Case counts: `PROPTEST_CASES` (default below).

use proptest::prelude::*;
use seatcore::testing::TestDb;
use seatcore::validate::{self, MAX_SEAT_ID_CHARS, MAX_SHOW_ID_CHARS};
use seatcore::{Error, InputError, Options, SeatCore};

/// Strings that hit the edges: whitespace, control characters, long runs, any Unicode.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Z][0-9]{1,2}",
        2 => "[ \t\n\r\u{0}\u{7f}\u{85}\u{a0}\u{2003}]{0,3}[A-Za-z0-9_\u{e9}\u{1F600}]{0,6}[ \t\u{0}\u{1b}\u{3000}]{0,3}",
        1 => ".{0,80}",
        1 => "[a]{60,70}",
        1 => any::<String>(),
    ]
}

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn seat_lists_are_accepted_only_when_clean(raw in prop::collection::vec(nasty_string(), 0..12)) {
        match validate::seat_ids(&raw, 10) {
            Ok(ids) => {
                prop_assert_eq!(ids.len(), raw.len());
                for (id, r) in ids.iter().zip(&raw) {
                    prop_assert_eq!(id.as_str(), r.trim());
                    prop_assert!(!id.is_empty());
                    prop_assert!(id.chars().count() <= MAX_SEAT_ID_CHARS);
                    prop_assert!(!id.chars().any(char::is_control));
                }
                let mut sorted = ids.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(sorted.len(), ids.len(), "duplicates accepted");
            }
            Err(e) => {
                // The contract's order: count first, then the first bad element, then duplicates.
                let first_bad = raw.iter().position(|r| {
                    let t = r.trim();
                    t.is_empty() || t.chars().count() > MAX_SEAT_ID_CHARS || t.chars().any(char::is_control)
                });
                match e {
                    InputError::NoSeats => prop_assert!(raw.is_empty()),
                    InputError::TooManySeats { max } => prop_assert!(raw.len() > max),
                    InputError::EmptySeatId { index } | InputError::SeatIdTooLong { index, .. }
                    | InputError::SeatIdControlChar { index } => prop_assert_eq!(Some(index), first_bad),
                    InputError::DuplicateSeatIds => prop_assert!(first_bad.is_none()),
                    ref other => prop_assert!(false, "unexpected error {other:?}"),
                }
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn show_ids_are_accepted_only_when_clean(raw in nasty_string()) {
        let n = raw.chars().count();
        let clean = (1..=MAX_SHOW_ID_CHARS).contains(&n) && !raw.chars().any(char::is_control);
        prop_assert_eq!(validate::show_id(&raw).is_ok(), clean, "{:?}", raw);
    }

    #[test]
    fn hold_seconds_and_keys_never_panic(secs in any::<i64>(), key in nasty_string()) {
        prop_assert_eq!(validate::hold_seconds(secs).is_ok(), (1..=86_400).contains(&secs));
        let ok = validate::request_key(&key).is_ok();
        let n = key.chars().count();
        prop_assert_eq!(ok, (1..=128).contains(&n) && !key.chars().any(char::is_control));
    }
}

/// Everything the tables hold, as one comparable value.
fn snapshot(db: &TestDb) -> Vec<(String, i64)> {
    let mut c = db.client();
    ["shows", "seats", "holds", "bookings"]
        .iter()
        .map(|t| {
            (t.to_string(), c.query_one(&format!("SELECT count(*) FROM {t}"), &[]).unwrap().get::<_, i64>(0))
        })
        .collect()
}

#[test]
fn rejected_calls_write_nothing() {
    let db = TestDb::new("validate_props");
    let core = SeatCore::connect(&db.url, Options::default()).unwrap();
    core.initialize_show("p", &["A1", "A2", "A3"]).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config(200));
    let strategy =
        (nasty_string(), prop::collection::vec(nasty_string(), 0..6), any::<i64>(), nasty_string());
    let rejected = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |(show, seats, secs, key)| {
            let before = snapshot(&db);
            fn input_error<T>(r: &Result<T, Error>) -> bool {
                matches!(r, Err(Error::InvalidInput(_)))
            }
            // A fresh show id, so that an accepted initialize is distinguishable.
            let init = core.initialize_show(&show, &seats);
            let hold = core.hold("p", &seats, secs);
            let keyed = core.hold_with_key(&show, &seats, secs, Some(&key));
            if input_error(&init) && input_error(&hold) && input_error(&keyed) {
                rejected.set(rejected.get() + 1);
                prop_assert_eq!(snapshot(&db), before, "a rejected call wrote something");
            }
            // Whatever happened, the invariant holds and holds are released for the next case.
            if let Ok(h) = hold {
                core.release("p", &h.hold_id.to_string()).unwrap();
            }
            if let Ok(h) = keyed {
                let _ = core.release(&show, &h.hold_id.to_string());
            }
            let st = core.seat_status("p").unwrap();
            prop_assert!(st.counts.invariants_valid);
            Ok(())
        })
        .unwrap();
    println!(
        "rejected_calls_write_nothing: {} all-rejected cases checked against the tables",
        rejected.get()
    );
    assert!(rejected.get() > 0, "no case was rejected by all three calls: the strategy is too tame");
}
