//! seatcore-server: the REST contract of the old Flask backend, on tiny_http and seatcore.
//!
//! Start-up: read flags and environment, connect (applying migrations), create the demo
//! show, start the sweeper, listen, and serve with a fixed pool of workers until SIGINT or
//! SIGTERM; then finish the requests in flight, stop the sweeper and exit 0.

mod config;
#[allow(dead_code)]
mod error;
mod metrics;
mod reply;
mod router;
mod server;
mod status;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seatcore::{Error, Options, SeatCore};

use crate::config::{Config, Parsed};
use crate::router::{App, DEMO_SHOW};

fn main() -> ExitCode {
    limit_malloc_arenas();
    let config = match config::parse(std::env::args_os(), |k| std::env::var(k).ok()) {
        Ok(Parsed::Run(c)) => c,
        Ok(Parsed::Help) => {
            print!("{}", config::HELP);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("seatcore-server: {e}");
            return ExitCode::from(2);
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seatcore-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: Config) -> Result<(), String> {
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => private_cluster()?,
    };
    let options = Options {
        pool_size: config.workers as u32,
        checkout_timeout: config.pool_timeout,
        ..Options::default()
    };
    let core = connect(&url, options)?;
    if config.demo {
        let seats: Vec<String> =
            ["A", "B", "C", "D", "E"].iter().flat_map(|r| (1..=10).map(move |n| format!("{r}{n}"))).collect();
        match core.initialize_show(DEMO_SHOW, &seats) {
            Ok(_) | Err(Error::ShowExists) => {}
            Err(e) => return Err(format!("creating the demo show: {e}")),
        }
    }
    if config.settings.admin_token.is_none() {
        eprintln!(
            "seatcore-server: warning: no admin token (--admin-token or SEATCORE_ADMIN_TOKEN): \
             anyone who reaches this server may reset all shows and create shows"
        );
    }
    let sweeper = core.start_sweeper(config.sweep_interval);
    let limits = tiny_http::Limits {
        max_connections: config.max_connections,
        request_timeout: config.request_timeout,
        error_response: server::library_reply,
        ..tiny_http::Limits::default()
    };
    let server = tiny_http::Server::http_with_limits(&config.bind, limits)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let server = Arc::new(server);
    let addr = server.server_addr().to_ip().map_or_else(|| config.bind.clone(), |a| a.to_string());

    let stop = Arc::new(AtomicBool::new(false));
    {
        let (server, stop, workers) = (Arc::clone(&server), Arc::clone(&stop), config.workers);
        ctrlc::set_handler(move || {
            if !stop.swap(true, Ordering::AcqRel) {
                eprintln!("seatcore-server: shutting down: finishing requests in flight");
                for _ in 0..workers {
                    server.unblock();
                }
            }
        })
        .map_err(|e| format!("installing the signal handler: {e}"))?;
    }
    eprintln!(
        "seatcore-server: listening on http://{addr} ({} workers, holds {}..{} s, default {} s)",
        config.workers,
        config.settings.min_hold_seconds,
        config.settings.max_hold_seconds,
        config.settings.default_hold_seconds
    );
    let app = Arc::new(App { core, settings: config.settings, metrics: Default::default() });
    server::serve(app, Arc::clone(&server), config.workers, stop);
    sweeper.stop();
    drop(server);
    eprintln!("seatcore-server: stopped");
    Ok(())
}

/// Connects, retrying for a while: the database may be starting alongside us.
fn connect(url: &str, options: Options) -> Result<SeatCore, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match SeatCore::connect(url, options.clone()) {
            Ok(core) => return Ok(core),
            Err(e) if e.kind() == seatcore::ErrorKind::Unavailable && Instant::now() < deadline => {
                eprintln!("seatcore-server: database not reachable yet ({e}); retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => return Err(format!("connecting to the database: {e}")),
        }
    }
}

/// Starts (or reuses) the project's private PostgreSQL cluster and returns its URL.
fn private_cluster() -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg.sh");
    if !std::path::Path::new(script).exists() {
        return Err("no DATABASE_URL (or --database-url) given".into());
    }
    eprintln!("seatcore-server: no DATABASE_URL; starting the private cluster ({script} start)");
    let out = std::process::Command::new("bash")
        .args([script, "start"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("running {script}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{script} start failed"));
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    eprintln!("seatcore-server: database: {url}");
    Ok(url)
}

/// glibc gives each thread that allocates its own arena (up to 8 per core), each keeping
/// its freed memory; with a dozen workers that multiplies the resident size. Two suffice.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator settings; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
