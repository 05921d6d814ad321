//! The command line and environment of the real binary: variables read, flags winning over
//! them, bad values named, configuration errors reported at once, and the audit subcommand.

mod support;

use std::process::{Command, Output};

use support::*;

/// Every variable the server reads, removed so the caller's environment does not leak in.
const VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "SEATCORE_READ_DATABASE_URL",
    "SEATCORE_BIND",
    "SEATCORE_WORKERS",
    "SEATCORE_MIN_HOLD_SECONDS",
    "SEATCORE_MAX_HOLD_SECONDS",
    "SEATCORE_DEFAULT_HOLD_SECONDS",
    "SEATCORE_MAX_HOLD_LIFE_SECONDS",
    "SEATCORE_SWEEP_INTERVAL_MS",
    "SEATCORE_CHANGE_RETENTION_DAYS",
    "SEATCORE_EVENT_KEEP_ALIVE_SECONDS",
    "SEATCORE_POOL_TIMEOUT_SECONDS",
    "SEATCORE_ADMIN_TOKEN",
    "SEATCORE_MAX_CONNECTIONS",
    "SEATCORE_MAX_EVENT_STREAMS",
    "SEATCORE_REQUEST_TIMEOUT_SECONDS",
    "SEATCORE_WRITE_TIMEOUT_SECONDS",
    "SEATCORE_REQUEST_DEADLINE_MS",
    "SEATCORE_STATUS_READS",
    "SEATCORE_STATUS_BUFFER_MIB",
    "SEATCORE_NO_DEMO",
    "SEATCORE_NO_REQUEST_LOG",
];

/// The binary with a clean environment plus `env`.
fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = server_command();
    for v in VARIABLES {
        cmd.env_remove(v);
    }
    cmd.args(args).envs(env.iter().copied());
    cmd
}

/// Runs the binary to its end (it must end by itself: a usage or configuration error).
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    command(args, env).output().expect("running seatcore-server")
}

/// The server on `db`, started with a clean environment plus `env` and the flags `args`;
/// asserts that it names `settings` (its workers, hold bounds and default) when it starts.
fn start(db: &TestDb, args: &[&str], env: &[(&str, &str)], settings: &str) -> Server {
    let env: Vec<(&str, &str)> = [("DATABASE_URL", db.url.as_str())].iter().chain(env).copied().collect();
    let srv = Server::spawn(command(args, &env));
    assert!(srv.log().contains(settings), "{}", srv.log());
    srv
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_names_every_flag_and_variable_and_hides_secrets() {
    let out = run(
        &["--help"],
        &[
            ("SEATCORE_ADMIN_TOKEN", "sekrit-token"),
            ("DATABASE_URL", "postgres://u:pa55@h/db"),
            ("SEATCORE_READ_DATABASE_URL", "postgres://u:pa55@h1,h2/db"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--database-url",
        "--read-database-url",
        "--bind",
        "--workers",
        "--min-hold-seconds",
        "--max-hold-seconds",
        "--default-hold-seconds",
        "--max-hold-life-seconds",
        "--sweep-interval-ms",
        "--change-retention-days",
        "--event-keep-alive-seconds",
        "--pool-timeout-seconds",
        "--admin-token",
        "--max-connections",
        "--request-timeout-seconds",
        "--write-timeout-seconds",
        "--request-deadline-ms",
        "--status-reads",
        "--status-buffer-mib",
        "--no-demo",
        "--help",
        "audit",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    for v in VARIABLES {
        assert!(help.contains(v), "--help lacks {v}:\n{help}");
    }
    assert!(!help.contains("sekrit-token") && !help.contains("pa55"), "--help shows a secret:\n{help}");
    assert!(run(&["-h"], &[]).status.success());
}

#[test]
fn variables_are_read_and_flags_win() {
    let db = TestDb::new("config_env");
    let env = [
        ("SEATCORE_BIND", "127.0.0.1:0"),
        ("SEATCORE_WORKERS", "3"),
        ("SEATCORE_MIN_HOLD_SECONDS", "5"),
        ("SEATCORE_MAX_HOLD_SECONDS", "100"),
        ("SEATCORE_DEFAULT_HOLD_SECONDS", "7"),
        ("SEATCORE_ADMIN_TOKEN", "from-env"),
        ("SEATCORE_NO_DEMO", "1"),
    ];
    let srv = start(&db, &["--max-hold-seconds", "200"], &env, "(3 workers, holds 5..200 s, default 7 s)");
    assert!(!srv.log().contains("no admin token"));
    // the token from the environment guards the admin endpoints
    assert_eq!(srv.request("POST", "/reset", &[], None).status, 401);
    srv.request("POST", "/reset", &[("Authorization", "Bearer from-env")], None).expect(200);
    // no demo show, and the API description carries the bounds
    assert_eq!(srv.get("/shows/avengers_2026_7pm/seats").status, 404);
    let api = srv.get("/openapi.json").expect(200);
    let duration = &api["components"]["schemas"]["HoldRequest"]["properties"]["hold_duration_seconds"];
    assert_eq!(duration["x-clamped-to"], json!({"minimum": 5, "maximum": 200}));
    assert_eq!(duration["default"], 7);
    drop(srv);

    // An empty variable counts as unset; SEATCORE_NO_DEMO=0 keeps the demo.
    let mut env =
        ["SEATCORE_WORKERS", "SEATCORE_ADMIN_TOKEN", "SEATCORE_MIN_HOLD_SECONDS"].map(|v| (v, "")).to_vec();
    env.push(("SEATCORE_NO_DEMO", "0"));
    let srv = start(&db, &["--bind", "127.0.0.1:0"], &env, "(16 workers, holds 60..1800 s, default 60 s)");
    assert!(srv.log().contains("warning: no admin token"));
    assert_eq!(srv.get("/shows/avengers_2026_7pm/seats").expect(200)["total_seats"], 50);
}

#[test]
fn bad_values_are_named_and_end_the_process() {
    for (args, env, words) in [
        (
            &[][..],
            &[("SEATCORE_WORKERS", "0")][..],
            &["--workers", "pool_size must be from 1 to 1000, not 0"][..],
        ),
        (&[], &[("SEATCORE_MAX_HOLD_SECONDS", "x")], &["--max-hold-seconds", "'x'"]),
        (&["--min-hold-seconds", "100", "--max-hold-seconds", "50"], &[], &["minimum hold (100 s)"]),
        (&["--request-timeout-seconds", "0"], &[], &["--request-timeout-seconds"]),
        (&[], &[("SEATCORE_REQUEST_DEADLINE_MS", "0")], &["--request-deadline-ms"]),
        (
            &["--workers", "2", "--status-reads", "3"],
            &[],
            &["--status-reads (3) must not exceed --workers (2)"],
        ),
        (&[], &[("SEATCORE_STATUS_BUFFER_MIB", "-1")], &["--status-buffer-mib"]),
        (&["--frobnicate"], &[], &["--frobnicate"]),
        (&["audit", "--workers", "2"], &[], &["--workers"]),
    ] {
        let out = run(args, env);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {out:?}");
        let text = stderr(&out);
        for w in words {
            assert!(text.contains(w), "{args:?} {env:?}: {text:?} does not name {w:?}");
        }
    }
}

#[test]
fn configuration_errors_are_reported_at_once_never_retried() {
    let url = |query: &str| format!("postgres://nobody@127.0.0.1:1/none?{query}");
    for (database_url, words) in [
        (url("sslmode=bogus"), &["configuration error", "sslmode"][..]),
        ("postgres://[bad".to_owned(), &["configuration error", "bad database URL"]),
        (url("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), &["configuration error", "sslrootcert"]),
        (url("sslcert=/nonexistent/client.pem"), &["configuration error", "sslcert and sslkey"]),
    ] {
        // by flag and by variable
        for out in
            [run(&["--database-url", &database_url], &[]), run(&[], &[("DATABASE_URL", &database_url)])]
        {
            let text = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{database_url}: {text}");
            for w in words {
                assert!(text.contains(w), "{database_url}: {text:?} does not name {w:?}");
            }
            assert!(!text.contains("retrying"), "{database_url}: a configuration error was retried: {text}");
        }
        let out = run(&["audit", "--database-url", &database_url], &[]);
        assert_eq!(out.status.code(), Some(2), "audit {database_url}: {out:?}");
        assert!(stderr(&out).contains("configuration error"), "{out:?}");
    }
}

#[test]
fn the_audit_subcommand_exits_0_when_sound_and_1_on_problems() {
    let db = TestDb::new("config_audit");
    let core = seatcore::SeatCore::connect(&db.url, seatcore::Options::default()).unwrap();
    core.initialize_show("a", &["A1", "A2", "A3"]).unwrap();
    core.initialize_show("b", &["B1"]).unwrap();
    let hold = core.hold("a", &["A1"], 600).unwrap();
    core.book("a", &hold.hold_id.to_string()).unwrap();
    core.hold("a", &["A2"], 600).unwrap();

    let audit = |args: &[&str]| -> (Option<i32>, Value) {
        let out = run(args, &[("DATABASE_URL", db.url.as_str())]);
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {out:?}"));
        (out.status.code(), doc)
    };
    let (code, doc) = audit(&["audit", "--show-id", "a"]);
    assert_eq!(
        (code, doc),
        (
            Some(0),
            json!({"ok": true, "shows": 1, "seats": 3, "held": 1, "booked": 1, "problem_count": 0, "problems": []})
        )
    );
    let (code, doc) = audit(&["audit"]);
    assert_eq!((code, doc["shows"].as_u64(), doc["seats"].as_u64()), (Some(0), Some(2), Some(4)));

    // A show whose declared seat count is wrong: a problem, named, and exit 1.
    db.client().execute("UPDATE shows SET seat_count = 5 WHERE show_id = 'b'", &[]).unwrap();
    let (code, doc) = audit(&["audit"]);
    assert_eq!((code, doc["ok"].as_bool(), doc["problem_count"].as_u64()), (Some(1), Some(false), Some(1)));
    assert_eq!(doc["problems"], json!(["show b: declares 5 seats but has 1"]));
    let (code, doc) = audit(&["audit", "--show-id", "a"]);
    assert_eq!((code, doc["ok"].as_bool()), (Some(0), Some(true)), "the other show is sound");
    let (code, _) = audit(&["audit", "--show-id", "b", "--database-url", &db.url]);
    assert_eq!(code, Some(1));
}

/// Every request answered gets a line on stderr, unless `--no-request-log` (or
/// `SEATCORE_NO_REQUEST_LOG`) says otherwise; start, warnings and stop are written either way.
#[test]
fn the_request_log_can_be_turned_off() {
    let db = TestDb::new("config_request_log");
    let quiet = ["--bind", "127.0.0.1:0", "--no-demo", "--no-request-log"];
    // (the flag given, SEATCORE_NO_REQUEST_LOG, whether request lines are written)
    let cases =
        [(false, None, true), (true, None, false), (false, Some("1"), false), (false, Some("false"), true)];
    for (flag, variable, logged) in cases {
        let args = if flag { &quiet[..] } else { &quiet[..3] };
        let env: Vec<(&str, &str)> = variable.map(|v| ("SEATCORE_NO_REQUEST_LOG", v)).into_iter().collect();
        let mut srv = start(&db, args, &env, "(16 workers, holds 60..1800 s, default 60 s)");
        srv.get("/health").expect(200);
        assert_eq!(srv.get("/shows/nope/seats").status, 404);
        srv.terminate();
        let status = srv.wait(std::time::Duration::from_secs(30));
        assert!(status.is_some_and(|s| s.success()), "{status:?}");
        // "stopped" is the last line: every request's line comes before it.
        let log = srv.log_once(|l| l.contains("seatcore-server: stopped"));
        assert!(log.contains("seatcore-server: stopped"), "{args:?} {env:?}: {log}");
        assert!(log.contains("warning: no admin token"), "{args:?} {env:?}: {log}");
        assert_eq!(log.contains("GET /health 200 "), logged, "{args:?} {env:?}: {log}");
        assert_eq!(log.contains("GET /shows/nope/seats 404 "), logged, "{args:?} {env:?}: {log}");
    }
}

/// The bytes of a running process's environment as it was started (`/proc/PID/environ`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environment_of(srv: &Server) -> Vec<u8> {
    std::fs::read(format!("/proc/{}/environ", srv.pid().expect("the server runs"))).unwrap()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The server starts itself again, in its own process, with glibc's thread caches capped
/// (added to what `GLIBC_TUNABLES` already says), unless the caller capped them already.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_server_caps_glibc_thread_caches_in_its_own_process() {
    let db = TestDb::new("config_tunables");
    let serve = |tunables: Option<&str>| {
        let mut cmd = command(&["--bind", "127.0.0.1:0", "--no-demo"], &[("DATABASE_URL", db.url.as_str())]);
        match tunables {
            Some(t) => cmd.env("GLIBC_TUNABLES", t),
            None => cmd.env_remove("GLIBC_TUNABLES"),
        };
        let srv = Server::spawn(cmd);
        srv.get("/health").expect(200);
        srv
    };
    // the process the test started is the one serving, with the cap in its environment
    let env = environment_of(&serve(None));
    assert!(contains(&env, "GLIBC_TUNABLES=glibc.malloc.tcache_max=64"), "{}", String::from_utf8_lossy(&env));

    let env = environment_of(&serve(Some("glibc.malloc.arena_max=4")));
    assert!(contains(&env, "glibc.malloc.arena_max=4"), "{}", String::from_utf8_lossy(&env));
    assert!(contains(&env, "glibc.malloc.tcache_max=64"), "{}", String::from_utf8_lossy(&env));

    let env = environment_of(&serve(Some("glibc.malloc.tcache_max=128")));
    assert!(contains(&env, "glibc.malloc.tcache_max=128"), "{}", String::from_utf8_lossy(&env));
    assert!(!contains(&env, "tcache_max=64"), "{}", String::from_utf8_lossy(&env));
}
