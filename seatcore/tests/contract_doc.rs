//! docs/contract.md is kept true by this test: every table marked with an HTML comment is
//! read and compared with what the core answers.

use std::collections::BTreeSet;

use seatcore::contract::{manager_error, rest_error, Op};
use seatcore::rest::{Settings, MAX_DEPTH};
use seatcore::{validate, Error, ErrorKind, InputError};
use serde_json::{json, Value};

const DOC: &str = include_str!("../../docs/contract.md");

/// The rows of the table after the comment that starts with `<!-- marker`, as cells without
/// their surrounding backticks. The header and separator rows are skipped.
fn table(marker: &str) -> Vec<Vec<String>> {
    let start = DOC.find(&format!("<!-- {marker}")).unwrap_or_else(|| panic!("no table marked {marker:?}"));
    DOC[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim().trim_matches('|').split(" | ").map(|c| unquote(c.trim()).to_owned()).collect())
        .collect()
}

/// The rows of the table marked `marker`, asserted to be at least `n`.
fn table_of_at_least(marker: &str, n: usize) -> Vec<Vec<String>> {
    let rows = table(marker);
    assert!(rows.len() >= n, "{marker}: {rows:?}");
    rows
}

/// The REST reply to `err` of `op`: its status (as the tables write it) and body.
fn rest_reply(op: Op, err: &Error) -> (String, Value) {
    let reply = rest_error(op, err);
    (reply.status.to_string(), reply.body)
}

/// A cell that is one code span, without its backticks; any other cell as it is.
fn unquote(cell: &str) -> &str {
    match cell.strip_prefix('`').and_then(|c| c.strip_suffix('`')) {
        Some(inner) if !inner.contains('`') => inner,
        _ => cell,
    }
}

/// A body cell as JSON, with the placeholders `N`, `i` and `[...]` filled in.
fn body(cell: &str, n: usize, i: usize, list: &Value) -> Value {
    let text = cell
        .replace("at most N", &format!("at most {n}"))
        .replace("\"index\": i", &format!("\"index\": {i}"))
        .replace("[...]", &list.to_string());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{cell}: {e}"))
}

#[test]
fn the_endpoint_table_is_the_endpoint_list() {
    let rows = table("endpoints");
    assert_eq!(rows.len(), Op::ALL.len(), "one row per endpoint");
    for e in Op::ALL {
        let row = rows
            .iter()
            .find(|r| r[1] == e.template())
            .unwrap_or_else(|| panic!("{} is not in the table", e.template()));
        assert_eq!(row[0], e.method(), "{row:?}");
        assert_eq!(row[2], e.success_status().to_string(), "{row:?}");
        assert_eq!(row[3] == "yes", e.requires_admin(), "{row:?}");
    }
}

fn input_error(problem: &str) -> InputError {
    let s = Settings::DEFAULT;
    match problem {
        "body not a JSON object" => InputError::NotAnObject,
        "body nested too deep" => InputError::TooDeep { max: MAX_DEPTH },
        "body too large" => InputError::BodyTooLarge { max: 1000 },
        "`seat_ids` not a list" => InputError::SeatIdsNotAList,
        "`seat_ids` empty" => InputError::NoSeats,
        "`seat_ids` too long" => InputError::TooManySeats { max: 1000 },
        "element `i` not a string" => InputError::SeatIdNotAString { index: 3 },
        "element `i` empty after trimming" => InputError::EmptySeatId { index: 3 },
        "element `i` too long" => InputError::SeatIdTooLong { index: 3, max: validate::MAX_SEAT_ID_CHARS },
        "element `i` with a control character" => InputError::SeatIdControlChar { index: 3 },
        "duplicates after trimming" => InputError::DuplicateSeatIds,
        "`hold_id` missing or blank" => InputError::HoldIdMissing,
        "`booking_id` missing or blank" => InputError::BookingIdMissing,
        "`hold_duration_seconds` of the wrong kind" => {
            InputError::HoldDurationType { min: s.min_hold_seconds, max: s.max_hold_seconds }
        }
        "`/reset` with a non-empty body" => InputError::ResetPayload,
        "show id too long or empty" => InputError::ShowIdLength { max: validate::MAX_SHOW_ID_CHARS },
        "show id with a control character" => InputError::ShowIdControlChar,
        "show id not UTF-8" => InputError::ShowIdUtf8,
        "`Idempotency-Key` empty, too long or with control characters" => {
            InputError::RequestKey { max: validate::MAX_REQUEST_KEY_CHARS }
        }
        "`limit` not an integer from 1 to 1000" => InputError::Limit { max: seatcore::MAX_CHANGE_PAGE },
        "`after` or `Last-Event-ID` not a change id" => InputError::After,
        "`seat_id` filter not a seat id" => InputError::SeatIdFilter,
        "both `seat_ids` and `seats`" => InputError::SeatMapTwice,
        "`seats` not a list" => InputError::SeatsNotAList,
        "`seats` empty" => InputError::NoMapSeats,
        "seat `i` not an object" => InputError::SeatNotAnObject { index: 3 },
        "seat `i`'s position not an integer from 0 to 2147483647" => {
            InputError::SeatField { index: 3, field: "position", rule: seatcore::seat_map::POSITION_RULE }
        }
        "seat `i` in a row without a position" => {
            InputError::SeatField { index: 3, field: "position", rule: "given when row is given" }
        }
        "seat `i` at the place of an earlier seat of its row" => InputError::PositionTaken { index: 3 },
        "`count` not an integer from 1 to 50" => InputError::Count { max: seatcore::BEST_MAX_COUNT },
        "a `category` filter not a string" => InputError::Filter { field: "category", rule: "a string" },
        "`reason` not a short string" => InputError::BlockReason { max: seatcore::MAX_BLOCK_REASON_CHARS },
        other => panic!("the test does not know the problem {other:?}"),
    }
}

#[test]
fn the_input_error_table_is_what_the_server_answers() {
    for row in table_of_at_least("input errors", 18) {
        let err = Error::InvalidInput(input_error(row[0].as_str()));
        let expected = (row[1].clone(), body(&row[2], 1000, 3, &json!([])));
        assert_eq!(rest_reply(Op::Hold, &err), expected, "{row:?}");
    }
}

fn operation(name: &str) -> Op {
    match name {
        "initialize" => Op::Initialize,
        "seats" => Op::Status,
        "hold" => Op::Hold,
        "book" => Op::Book,
        "release" => Op::Release,
        "reset" => Op::Reset,
        "health" => Op::Health,
        "history" => Op::History,
        "events" => Op::Events,
        "map" => Op::Map,
        "hold-best" => Op::HoldBest,
        "block" => Op::Block,
        "unblock" => Op::Unblock,
        "extend" => Op::Extend,
        "cancel-booking" => Op::CancelBooking,
        other => panic!("the test does not know the operation {other:?}"),
    }
}

/// One error of each named kind. Database failures that only a live server produces are
/// stood in for by an `Unavailable` with the same kind where the table names it; `Busy`
/// and `Database` carry a driver error, so they are reached through their kind below.
fn error(name: &str) -> Option<Error> {
    Some(match name {
        "show exists" => Error::ShowExists,
        "show not found" => Error::ShowNotFound,
        "seat not on the map" => Error::InvalidSeatIds,
        "seats unavailable" => Error::SeatsUnavailable { seat_ids: vec!["A1".into(), "B2".into()] },
        "request key reused" => Error::RequestKeyReused,
        "hold not found" => Error::HoldNotFound,
        "hold expired" => Error::HoldExpired,
        "hold invalidated" => Error::HoldInvalidated,
        "seats not in hold" => Error::SeatsNotInHold { seat_ids: vec!["A1".into(), "B2".into()] },
        "booking not found" => Error::BookingNotFound,
        "booking cancelled" => Error::BookingCancelled,
        "database unavailable" => Error::Unavailable("connection refused".into()),
        "no block fits" => Error::NoAdjacentSeats,
        "database busy" | "database error" => return None,
        other => panic!("the test does not know the error {other:?}"),
    })
}

#[test]
fn the_rest_error_table_is_what_the_server_answers() {
    for row in table_of_at_least("rest errors", 17) {
        let op = operation(&row[0]);
        let Some(err) = error(&row[1]) else {
            // Busy and Database wrap driver errors; their replies depend only on the kind.
            let kind = if row[1] == "database busy" { ErrorKind::Busy } else { ErrorKind::Database };
            let message = seatcore::contract::infrastructure_message(kind);
            assert_eq!(body(&row[3], 0, 0, &json!([])), json!({ "error": message }), "{row:?}");
            assert_eq!(row[2], if kind == ErrorKind::Busy { "503" } else { "500" }, "{row:?}");
            continue;
        };
        let expected = (row[2].clone(), body(&row[3], 0, 0, &json!(["A1", "B2"])));
        assert_eq!(rest_reply(op, &err), expected, "{row:?}");
    }
}

#[test]
fn the_manager_table_lists_what_the_manager_returns() {
    let rows = table("manager");
    let candidates = [
        "show exists",
        "show not found",
        "seat not on the map",
        "seats unavailable",
        "hold not found",
        "hold expired",
        "hold invalidated",
        "seats not in hold",
        "booking not found",
        "booking cancelled",
    ];
    let ops = [
        ("initialize_show", Op::Initialize),
        ("hold_seats", Op::Hold),
        ("book_hold", Op::Book),
        ("reset_all_seats", Op::Reset),
        ("extend_hold", Op::Extend),
        ("release_seats", Op::Release),
        ("cancel_booking", Op::CancelBooking),
    ];
    for (method, op) in ops {
        let row = rows.iter().find(|r| r[0].starts_with(&format!("{method}("))).expect(method);
        let mut answers: BTreeSet<String> =
            candidates.iter().filter_map(|c| error(c)).map(|e| manager_error(op, &e).to_string()).collect();
        answers.insert(manager_error(op, &Error::InvalidInput(InputError::DuplicateSeatIds)).to_string());
        // every `(False, ...)` the table lists is one the manager gives
        let mut checked = 0;
        // a cell of one code span lost its backticks in `table`
        let cell = if row[2].starts_with('(') { format!("`{}`", row[2]) } else { row[2].clone() };
        for listed in cell.split("`(False, ").skip(1) {
            let value = listed.split(")`").next().unwrap();
            if value.contains("\"...\"") || value.contains(": ...") || value.starts_with('<') {
                continue; // a shape, not one value
            }
            let value = body(value, 0, 0, &json!(["A1", "B2"])).to_string();
            assert!(
                answers.contains(&value),
                "{method}: {value} is not an answer of the manager: {answers:?}"
            );
            checked += 1;
        }
        assert!(checked > 0 || method == "reset_all_seats", "{method}: no failure value checked in {row:?}");
    }
    let down = Error::Unavailable("no route".into());
    assert!(manager_error(Op::Reset, &down)["error"].as_str().unwrap().starts_with("internal error: "));
}

#[test]
fn the_error_kind_table_is_the_kind_table() {
    let rows = table("error kinds");
    assert_eq!(rows.len(), ErrorKind::ALL.len(), "one row per kind");
    for (row, kind) in rows.iter().zip(ErrorKind::ALL) {
        assert_eq!(row[0], kind.code().to_string(), "{row:?}");
        assert_eq!(row[1], kind.name(), "{row:?}");
        assert_eq!(row[2], kind.description(), "{row:?}");
    }
}

/// `n` as the document writes numbers: with a comma between thousands.
fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[test]
fn the_history_page_bounds_are_the_core_ones() {
    let limits = format!(
        "at most `limit` (1 to {}, default {})",
        seatcore::MAX_CHANGE_PAGE,
        seatcore::DEFAULT_CHANGE_PAGE
    );
    let seats = format!("brings the seat ids it names to {}", thousands(seatcore::MAX_CHANGE_PAGE_SEATS));
    let prose = DOC.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(prose.contains(&limits), "the history's limits: {limits}");
    assert!(prose.contains(&seats), "the history's seat budget: {seats}");
    assert!(Op::History.summary().contains(&thousands(seatcore::MAX_CHANGE_PAGE_SEATS)));
}

#[test]
fn the_document_links_only_inside_the_repository() {
    for (i, _) in DOC.match_indices("](") {
        let target = &DOC[i + 2..DOC[i..].find(')').map_or(DOC.len(), |j| i + j)];
        if let Some(anchor) = target.strip_prefix('#') {
            let heading = format!("## {}", anchor.replace('-', " "));
            assert!(DOC.lines().any(|l| l.eq_ignore_ascii_case(&heading)), "no heading for {target:?}");
            continue;
        }
        assert!(!target.contains("://") && !target.starts_with('/'), "outside link {target:?}");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs").join(target);
        assert!(path.exists(), "broken link {target:?}");
    }
}

/// Every Markdown file of the repository links only to files inside it (or to web pages).
#[test]
fn no_document_links_outside_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap();
    let listed = std::process::Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard", "*.md"])
        .current_dir(&root)
        .output()
        .expect("git lists the repository's files");
    assert!(listed.status.success());
    let files = String::from_utf8(listed.stdout).unwrap();
    let mut checked = 0;
    for file in files.lines().filter(|f| !f.contains("/vendor/")) {
        let path = root.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let target = &rest[..rest.find(')').unwrap_or(rest.len())];
            let target = target.split('#').next().unwrap_or("");
            if target.is_empty() || target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            assert!(!target.starts_with('/'), "{file}: absolute link {target:?}");
            let resolved = path.parent().unwrap().join(target);
            let resolved =
                resolved.canonicalize().unwrap_or_else(|_| panic!("{file}: broken link {target:?}"));
            assert!(resolved.starts_with(&root), "{file}: link {target:?} leaves the repository");
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} links found");
}

/// No file names a path outside the checkout (the contract lives in docs/contract.md).
#[test]
fn no_file_points_outside_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let listed = std::process::Command::new("git")
        .args([
            "grep",
            "-l",
            "-I",
            "-E",
            r"\.\./shared/|/work/",
            "--",
            ".",
            ":!seatcore/tests/contract_doc.rs",
        ])
        .current_dir(&root)
        .output()
        .expect("git searches the repository");
    let found = String::from_utf8_lossy(&listed.stdout);
    assert!(found.trim().is_empty(), "files point outside the repository:\n{found}");
}
