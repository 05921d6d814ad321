//! seatcore-server: the REST contract of the old Flask backend, on tiny_http and seatcore.
//!
//! Start-up: read flags and environment, connect (applying migrations), create the demo
//! show, start the sweeper, listen, and serve with a fixed pool of workers until SIGINT or
//! SIGTERM; then finish the requests in flight, stop the sweeper and exit 0.

mod config;
mod events;
mod metrics;
mod openapi;
mod reply;
mod router;
mod server;
mod status;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seatcore::{Error, ErrorKind, Options, SeatCore};

use crate::config::{Config, Parsed};
use crate::events::Hub;
use crate::router::{App, DEMO_SHOW};

/// Exit status of a configuration the server cannot work with (as clap's usage errors).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let parsed = match config::parse() {
        Ok(parsed) => parsed,
        // --help and --version exit 0, usage errors 2, each with clap's own text.
        Err(e) => e.exit(),
    };
    if matches!(parsed, Parsed::Serve(_)) {
        small_thread_caches();
    }
    limit_malloc_arenas();
    raise_descriptor_limit();
    match parsed {
        Parsed::Serve(config) => match run(*config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure { message, config }) => {
                eprintln!("seatcore-server: {message}");
                if config {
                    ExitCode::from(EXIT_CONFIG)
                } else {
                    ExitCode::FAILURE
                }
            }
        },
        Parsed::Audit { database_url, show_id } => audit(database_url, show_id.as_deref()),
    }
}

/// Why the server stopped: the message, and whether it is the configuration's fault.
struct Failure {
    message: String,
    config: bool,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, config: false }
    }
}

fn run(config: Config) -> Result<(), Failure> {
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => private_cluster()?,
    };
    let core = connect(&url, config.options.clone())?;
    if config.demo {
        let seats: Vec<String> =
            ["A", "B", "C", "D", "E"].iter().flat_map(|r| (1..=10).map(move |n| format!("{r}{n}"))).collect();
        match core.initialize_show(DEMO_SHOW, &seats) {
            Ok(_) | Err(Error::ShowExists) => {}
            Err(e) => return Err(format!("creating the demo show: {e}").into()),
        }
    }
    if config.admin_token.is_none() {
        eprintln!(
            "seatcore-server: warning: no admin token (--admin-token or SEATCORE_ADMIN_TOKEN): \
             anyone who reaches this server may reset all shows, create shows, block and \
             unblock seats, cancel bookings and read the audit"
        );
    }
    let sweeper = core.start_sweeper(config.sweep_interval);
    let hub = Hub::start(core.clone(), config.event_keep_alive, config.max_event_streams)
        .map_err(|e| format!("following the change log: {e}"))?;
    let limits = tiny_http::Limits {
        max_connections: config.max_connections,
        request_timeout: config.request_timeout,
        write_timeout: config.write_timeout,
        error_response: server::library_reply,
        ..tiny_http::Limits::default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        let hub = hub.clone();
        ctrlc::set_handler(move || {
            if !stop.swap(true, Ordering::AcqRel) {
                eprintln!("seatcore-server: shutting down: finishing requests in flight");
                // Event streams never finish on their own: end them.
                hub.stop();
            }
        })
        .map_err(|e| format!("installing the signal handler: {e}"))?;
    }
    let s = &config.settings;
    let summary = format!(
        "{} workers, holds {}..{} s, default {} s",
        config.workers, s.min_hold_seconds, s.max_hold_seconds, s.default_hold_seconds
    );
    let mut app = App::new(core, config.settings, config.admin_token, Some(hub));
    app.deadline = config.request_deadline;
    app.request_log = config.request_log;
    app.streams = Arc::new(status::Streams::new(config.status_reads, config.status_buffer_bytes));
    let turns = Arc::new(server::Turns::new(config.workers));
    let handler = server::handler(Arc::new(app), Arc::clone(&turns), Arc::clone(&stop));
    let server = tiny_http::Server::http_with_handler(&config.bind, limits, handler)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let addr = server.server_addr().to_ip().map_or_else(|| config.bind.clone(), |a| a.to_string());
    eprintln!("seatcore-server: listening on http://{addr} ({summary})");
    server::serve(&server, &turns, config.write_timeout, &stop);
    sweeper.stop();
    drop(server);
    eprintln!("seatcore-server: stopped");
    Ok(())
}

/// Connects, retrying while the database is unreachable (it may be starting alongside
/// us). Every other failure, above all a configuration the core cannot work with (a
/// malformed URL, an unknown `sslmode`, an unreadable certificate), ends at once.
fn connect(url: &str, options: Options) -> Result<SeatCore, Failure> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let e = match SeatCore::connect(url, options.clone()) {
            Ok(core) => return Ok(core),
            Err(e) => e,
        };
        match e.kind() {
            ErrorKind::Unavailable if Instant::now() < deadline => {
                eprintln!("seatcore-server: database not reachable yet ({e}); retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
            ErrorKind::Config => return Err(Failure { message: e.to_string(), config: true }),
            _ => return Err(format!("connecting to the database: {e}").into()),
        }
    }
}

/// `seatcore-server audit`: prints the core's audit as JSON. 0 when every invariant holds,
/// 1 when problems were found, 2 when the audit could not run.
fn audit(database_url: Option<String>, show_id: Option<&str>) -> ExitCode {
    let outcome = (|| -> Result<seatcore::Audit, String> {
        let url = match database_url {
            Some(url) => url,
            None => private_cluster().map_err(|f| f.message)?,
        };
        // One connection, and no migration: the audit only reads.
        let options = Options { pool_size: 1, min_idle: 0, migrate: false, ..Options::DEFAULT };
        let core = SeatCore::connect(&url, options).map_err(|e| e.to_string())?;
        core.audit(show_id).map_err(|e| e.to_string())
    })();
    match outcome {
        Ok(audit) => {
            // An Audit is plain numbers and strings: it always serializes.
            println!("{}", serde_json::to_string_pretty(&audit).unwrap_or_default());
            if audit.summary.ok {
                ExitCode::SUCCESS
            } else {
                eprintln!("seatcore-server: audit: {} problem(s) found", audit.summary.problem_count);
                ExitCode::from(1)
            }
        }
        Err(message) => {
            eprintln!("seatcore-server: audit: {message}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// Starts (or reuses) the project's private PostgreSQL cluster and returns its URL.
fn private_cluster() -> Result<String, Failure> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg.sh");
    if !std::path::Path::new(script).exists() {
        return Err(Failure { message: "no DATABASE_URL (or --database-url) given".into(), config: true });
    }
    eprintln!("seatcore-server: no DATABASE_URL; starting the private cluster ({script} start)");
    let out = std::process::Command::new("bash")
        .args([script, "start"])
        // the server's allocator settings (`small_thread_caches`) are not PostgreSQL's
        .env_remove("GLIBC_TUNABLES")
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("running {script}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{script} start failed").into());
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    eprintln!("seatcore-server: database: {url}");
    Ok(url)
}

/// The glibc tunable that keeps only small blocks in each thread's cache.
const THREAD_CACHE_TUNABLE: &str = "glibc.malloc.tcache_max";

/// glibc keeps up to seven freed blocks of each size up to 1 KiB in a cache of each thread,
/// where no other thread can reuse them and the arena cannot merge them; with dozens of
/// workers, whose requests' blocks are often freed by another thread than made them, those
/// caches and the holes they leave kept 5 MB more resident through a run of 64-connection
/// holds. Capping the cached blocks at 64 bytes kept the speed (docs/bench.md, "Server
/// memory"). glibc reads its tunables only as a program starts, so the server starts itself
/// again, once, with the cap added to `GLIBC_TUNABLES` (same process id, arguments and
/// environment otherwise). A `GLIBC_TUNABLES` that already sets the cap is left as it is.
fn small_thread_caches() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        if tunables.contains(THREAD_CACHE_TUNABLE) {
            return;
        }
        let cap = format!("{THREAD_CACHE_TUNABLE}=64");
        let tunables = if tunables.is_empty() { cap } else { format!("{tunables}:{cap}") };
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_default();
        // exec returns only when it failed: then the server runs with glibc's defaults.
        let failed = std::process::Command::new("/proc/self/exe")
            .arg0(arg0)
            .args(args)
            .env("GLIBC_TUNABLES", tunables)
            .exec();
        eprintln!("seatcore-server: could not restart with small thread caches ({failed}); going on without");
    }
}

/// glibc gives each thread that allocates its own arena (up to 8 per core), each keeping
/// its freed memory; with a dozen workers that multiplies the resident size. Two suffice.
///
/// Blocks of [`MMAP_THRESHOLD`] bytes or more (a big show's seat map, read buffers) get
/// pages of their own, given back when freed: glibc's default raises that threshold to the
/// size of every such block freed, after which big maps come from the arenas, where what
/// is freed stays resident and fragments.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator settings; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Raises the soft limit on open descriptors to the hard limit: every connection and every
/// event stream takes one, and the soft limit (often 1,024) is far below what the server
/// serves.
fn raise_descriptor_limit() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Blocks at least this large are mapped on their own (see [`limit_malloc_arenas`]).
const MMAP_THRESHOLD: i32 = 256 * 1024;
