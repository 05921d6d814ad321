//! The command line: every option declared once (flag, environment variable, default,
//! range, help) and read by clap. A flag wins over its environment variable; an empty
//! variable counts as unset.

use std::ffi::OsString;
use std::time::Duration;

use clap::builder::FalseyValueParser;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use seatcore::rest::Settings;
use seatcore::Options;

/// The server's flags, as clap reads them.
#[derive(Debug, Parser)]
#[command(
    name = "seatcore-server",
    version,
    about = "seatcore-server: the seat-reservation REST API on PostgreSQL",
    after_help = "A flag wins over its environment variable. Without a subcommand the server runs.",
    allow_negative_numbers = true,
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// PostgreSQL URL; without one the project's private cluster is started with scripts/pg.sh
    #[arg(long, env = "DATABASE_URL", value_name = "URL", global = true, hide_env_values = true)]
    database_url: Option<String>,

    /// PostgreSQL URL for status, map and history reads: a hot standby, or several hosts
    /// (a standby preferred); the primary serves them when none answers. Writes never go there
    #[arg(long, env = "SEATCORE_READ_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    read_database_url: Option<String>,

    /// Listen address; port 0 picks a free port (printed at start)
    #[arg(long, env = "SEATCORE_BIND", value_name = "ADDR:PORT", default_value = "127.0.0.1:5000")]
    bind: String,

    /// Requests handled at once (each on its connection's thread), and the most database
    /// connections; more wait their turn
    #[arg(long, env = "SEATCORE_WORKERS", value_name = "N", value_parser = pool_size,
          default_value_t = Options::DEFAULT.pool_size)]
    workers: u32,

    /// Shortest hold; shorter requests are raised to it
    #[arg(long, env = "SEATCORE_MIN_HOLD_SECONDS", value_name = "N",
          default_value_t = Settings::DEFAULT.min_hold_seconds)]
    min_hold_seconds: i64,

    /// Longest hold; longer requests are cut to it
    #[arg(long, env = "SEATCORE_MAX_HOLD_SECONDS", value_name = "N",
          default_value_t = Settings::DEFAULT.max_hold_seconds)]
    max_hold_seconds: i64,

    /// Hold length when a request gives none
    #[arg(long, env = "SEATCORE_DEFAULT_HOLD_SECONDS", value_name = "N",
          default_value_t = Settings::DEFAULT.default_hold_seconds)]
    default_hold_seconds: i64,

    /// Longest life of an extended hold, from its creation: extend-hold never moves an
    /// expiry past it
    #[arg(long, env = "SEATCORE_MAX_HOLD_LIFE_SECONDS", value_name = "N", value_parser = max_hold_life,
          default_value_t = Options::DEFAULT.max_hold_life.as_secs())]
    max_hold_life_seconds: u64,

    /// Longest sleep of the sweeper, which wakes at each hold's expiry to record it (the
    /// seats are free at expiry anyway); holds made by other processes are noticed within it
    #[arg(long, env = "SEATCORE_SWEEP_INTERVAL_MS", value_name = "MS", value_parser = sweep_interval,
          default_value_t = seatcore::Sweeper::DEFAULT_INTERVAL.as_millis() as u64)]
    sweep_interval_ms: u64,

    /// An event stream sends a comment line after this long without an event
    #[arg(long, env = "SEATCORE_EVENT_KEEP_ALIVE_SECONDS", value_name = "N",
          default_value_t = crate::events::KEEP_ALIVE.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    event_keep_alive_seconds: u64,

    /// How long the change log keeps a record; the sweeper deletes older ones
    #[arg(long, env = "SEATCORE_CHANGE_RETENTION_DAYS", value_name = "DAYS", value_parser = retention_days,
          default_value_t = Options::DEFAULT.change_retention.as_secs() / 86_400)]
    change_retention_days: u64,

    /// How long a request waits for a database connection before it gets a 503
    #[arg(long, env = "SEATCORE_POOL_TIMEOUT_SECONDS", value_name = "N", value_parser = checkout_timeout,
          default_value_t = Options::DEFAULT.checkout_timeout.as_secs())]
    pool_timeout_seconds: u64,

    /// From a request's arrival, how long it may wait for its turn (--workers), a database
    /// connection or a large status read before it gets a 503 [default: the pool timeout plus 1000]
    #[arg(long, env = "SEATCORE_REQUEST_DEADLINE_MS", value_name = "MS",
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    request_deadline_ms: Option<u64>,

    /// Seat-status and seat-map reads of shows over 1,000 seats in progress at once; as many
    /// more wait within their deadline, the rest get a 503 [default: a quarter of --workers,
    /// at least 1]
    #[arg(long, env = "SEATCORE_STATUS_READS", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    status_reads: Option<u32>,

    /// Memory for seat-status and seat-map JSON read from the database and not sent yet, all
    /// clients together; a large read starts only while it is not full
    #[arg(long, env = "SEATCORE_STATUS_BUFFER_MIB", value_name = "MIB",
          default_value_t = crate::status::DEFAULT_BUFFER_MIB,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    status_buffer_mib: u64,

    /// Require `Authorization: Bearer TOKEN` on the admin endpoints (POST /reset, GET /audit,
    /// POST /shows/<id>/initialize, /block, /unblock and /cancel-booking); 401 without it
    #[arg(long, env = "SEATCORE_ADMIN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    admin_token: Option<String>,

    /// Client connections open at once; one more gets a 503 and is closed
    #[arg(long, env = "SEATCORE_MAX_CONNECTIONS", value_name = "N",
          default_value_t = tiny_http::Limits::default().max_connections as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,

    /// Event streams open at once (they are not connections of the cap above: one event
    /// loop serves them); one more gets a 503
    #[arg(long, env = "SEATCORE_MAX_EVENT_STREAMS", value_name = "N",
          default_value_t = crate::events::MAX_STREAMS as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_event_streams: u64,

    /// From a request's first byte, how long a client has to send its head and body
    /// before a 408
    #[arg(long, env = "SEATCORE_REQUEST_TIMEOUT_SECONDS", value_name = "N",
          default_value_t = tiny_http::Limits::default().request_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout_seconds: u64,

    /// From the start of a response, how long a client has to take all of it (one that
    /// reads slowly or not at all keeps nothing longer); then the connection is closed
    #[arg(long, env = "SEATCORE_WRITE_TIMEOUT_SECONDS", value_name = "N",
          default_value_t = tiny_http::Limits::default().write_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    write_timeout_seconds: u64,

    /// Make each hold, best-available hold, extension and release on its own, never grouped
    /// with those of the same show that arrive together (SEATCORE_NO_GROUP_HOLDS=0 or false groups them)
    #[arg(long, env = "SEATCORE_NO_GROUP_HOLDS", value_parser = FalseyValueParser::new())]
    no_group_holds: bool,

    /// Do not create the demo show avengers_2026_7pm (SEATCORE_NO_DEMO=0 or false creates it)
    #[arg(long, env = "SEATCORE_NO_DEMO", value_parser = FalseyValueParser::new())]
    no_demo: bool,

    /// Write no line per request on stderr (method, path, status, milliseconds); start, stop,
    /// warnings and failures are still written (SEATCORE_NO_REQUEST_LOG=0 or false writes them)
    #[arg(long, env = "SEATCORE_NO_REQUEST_LOG", value_parser = FalseyValueParser::new())]
    no_request_log: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks every invariant of the database and prints the audit as JSON
    ///
    /// Exits 0 when every invariant holds, 1 when problems were found, 2 when the audit
    /// could not run. The audit only reads.
    Audit {
        /// Audit this show only
        #[arg(long, value_name = "SHOW_ID")]
        show_id: Option<String>,
    },
}

/// `workers` is the pool size: the core's range.
fn pool_size(raw: &str) -> Result<u32, String> {
    let n: u32 = raw.trim().parse().map_err(|e| format!("{e}"))?;
    Options::POOL_SIZE.check(n).map_err(|e| e.to_string())
}

/// `sweep-interval-ms`: the core's range for the sweeper's interval.
fn sweep_interval(raw: &str) -> Result<u64, String> {
    let n: u64 = raw.trim().parse().map_err(|e| format!("{e}"))?;
    seatcore::Sweeper::INTERVAL.check(Duration::from_millis(n)).map(|_| n).map_err(|e| e.to_string())
}

/// `change-retention-days`: the core's range for the change log's retention.
fn retention_days(raw: &str) -> Result<u64, String> {
    let n: u64 = raw.trim().parse().map_err(|e| format!("{e}"))?;
    let d = Duration::from_secs(n.saturating_mul(86_400));
    Options::CHANGE_RETENTION.check(d).map(|_| n).map_err(|e| e.to_string())
}

/// `max-hold-life-seconds`: the core's range for the longest life of a hold.
fn max_hold_life(raw: &str) -> Result<u64, String> {
    let n: u64 = raw.trim().parse().map_err(|e| format!("{e}"))?;
    Options::MAX_HOLD_LIFE.check(Duration::from_secs(n)).map(|_| n).map_err(|e| e.to_string())
}

/// `pool-timeout-seconds` is the checkout timeout: the core's range.
fn checkout_timeout(raw: &str) -> Result<u64, String> {
    let n: u64 = raw.trim().parse().map_err(|e| format!("{e}"))?;
    Options::CHECKOUT_TIMEOUT.check(Duration::from_secs(n)).map(|_| n).map_err(|e| e.to_string())
}

/// Everything the server is told at start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `postgres://` URL; `None` means "start the project's private cluster".
    pub database_url: Option<String>,
    pub bind: String,
    pub workers: usize,
    /// How the core connects: pool size (= workers) and checkout timeout.
    pub options: Options,
    /// The hold durations granted.
    pub settings: Settings,
    /// When set, the admin endpoints need `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
    pub sweep_interval: Duration,
    /// An event stream's longest silence before a comment line.
    pub event_keep_alive: Duration,
    pub demo: bool,
    /// A line on stderr for every request answered.
    pub request_log: bool,
    /// Client connections open at once; more get a 503 and are closed.
    pub max_connections: usize,
    /// Event streams open at once; more get a 503.
    pub max_event_streams: usize,
    /// From a request's first byte, how long the client has to send all of it.
    pub request_timeout: Duration,
    /// From the start of a response, how long the client has to take all of it.
    pub write_timeout: Duration,
    /// From a request's arrival, how long it may wait before it gets a 503.
    pub request_deadline: Duration,
    /// Large seat-status reads at once.
    pub status_reads: usize,
    /// Bytes of seat-status JSON read and not sent yet, all clients together.
    pub status_buffer_bytes: usize,
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Serve(Box<Config>),
    Audit { database_url: Option<String>, show_id: Option<String> },
}

/// Reads the process's arguments and environment. `Err` is clap's: `--help` and
/// `--version` (exit 0) or a usage error naming the flag (exit 2); `Error::exit` prints it.
pub fn parse() -> Result<Parsed, clap::Error> {
    // An empty variable counts as unset: clap would read it as an empty value.
    let command = Cli::command().mut_args(|arg| match arg.get_env() {
        Some(name) if std::env::var_os(name).is_some_and(|v| v.is_empty()) => arg.env(None::<&str>),
        _ => arg,
    });
    parse_with(command, std::env::args_os())
}

fn parse_with(
    mut command: clap::Command,
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> Result<Parsed, clap::Error> {
    let matches = command.try_get_matches_from_mut(args)?;
    if let Some(sub) = matches.subcommand_name() {
        // Only the database URL applies to a subcommand: refuse server flags rather than
        // ignore them.
        let server_flag = command.get_arguments().map(|a| a.get_id().as_str()).find(|&id| {
            id != "database_url" && matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        });
        if let Some(id) = server_flag {
            let message =
                format!("--{} is a server flag; it does not apply to `{sub}`", id.replace('_', "-"));
            return Err(command.error(clap::error::ErrorKind::ArgumentConflict, message));
        }
    }
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))?;
    cli.resolve().map_err(|message| command.error(clap::error::ErrorKind::ValueValidation, message))
}

impl Cli {
    fn resolve(self) -> Result<Parsed, String> {
        let database_url = self.database_url.filter(|u| !u.is_empty());
        if let Some(Command::Audit { show_id }) = self.command {
            return Ok(Parsed::Audit { database_url, show_id });
        }
        let settings = Settings {
            min_hold_seconds: self.min_hold_seconds,
            max_hold_seconds: self.max_hold_seconds,
            default_hold_seconds: self.default_hold_seconds,
        };
        settings
            .check()
            .map_err(|e| format!("--min-hold-seconds, --max-hold-seconds, --default-hold-seconds: {e}"))?;
        let mut options = Options { group_holds: !self.no_group_holds, ..Options::DEFAULT };
        options
            .set_pool_size(self.workers)
            .and_then(|o| o.set_min_idle(Options::DEFAULT.min_idle.min(self.workers)))
            .and_then(|o| o.set_checkout_timeout(Duration::from_secs(self.pool_timeout_seconds)))
            .and_then(|o| o.set_change_retention(Duration::from_secs(self.change_retention_days * 86_400)))
            .and_then(|o| o.set_max_hold_life(Duration::from_secs(self.max_hold_life_seconds)))
            .map_err(|e| {
                format!(
                    "--workers, --pool-timeout-seconds, --change-retention-days, --max-hold-life-seconds: {e}"
                )
            })?;
        options.read_url = self.read_database_url.filter(|u| !u.is_empty());
        let status_reads =
            self.status_reads.map_or(crate::router::status_reads(self.workers as usize), |n| n as usize);
        if status_reads > self.workers as usize {
            return Err(format!(
                "--status-reads ({status_reads}) must not exceed --workers ({}): each read holds a database connection",
                self.workers
            ));
        }
        let request_deadline = match self.request_deadline_ms {
            Some(ms) => Duration::from_millis(ms),
            None => options.checkout_timeout + crate::router::DEADLINE_MARGIN,
        };
        Ok(Parsed::Serve(Box::new(Config {
            database_url,
            bind: self.bind,
            workers: self.workers as usize,
            options,
            settings,
            admin_token: self.admin_token.filter(|t| !t.is_empty()),
            sweep_interval: Duration::from_millis(self.sweep_interval_ms),
            event_keep_alive: Duration::from_secs(self.event_keep_alive_seconds),
            demo: !self.no_demo,
            request_log: !self.no_request_log,
            max_connections: self.max_connections as usize,
            max_event_streams: self.max_event_streams as usize,
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            write_timeout: Duration::from_secs(self.write_timeout_seconds),
            request_deadline,
            status_reads,
            status_buffer_bytes: (self.status_buffer_mib << 20) as usize,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `args` as the command line, with no environment variable read (the
    /// environment is tested on the real binary, in tests/config.rs).
    fn parse(args: &[&str]) -> Result<Parsed, String> {
        let command = Cli::command().mut_args(|a| a.env(None::<&str>));
        parse_with(command, std::iter::once("seatcore-server").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    fn serve(args: &[&str]) -> Result<Config, String> {
        match parse(args)? {
            Parsed::Serve(c) => Ok(*c),
            other => Err(format!("not a server: {other:?}")),
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = serve(&[]).unwrap();
        assert_eq!(c.database_url, None);
        assert_eq!(c.bind, "127.0.0.1:5000");
        assert_eq!(c.workers, 16);
        assert_eq!(c.options, Options::DEFAULT);
        assert_eq!(c.settings, Settings::DEFAULT);
        assert_eq!(
            (c.settings.min_hold_seconds, c.settings.max_hold_seconds, c.settings.default_hold_seconds),
            (60, 1800, 60)
        );
        assert_eq!(c.sweep_interval, seatcore::Sweeper::DEFAULT_INTERVAL);
        assert!(c.demo);
        assert!(c.request_log);
        assert_eq!(c.admin_token, None);
        assert_eq!(c.max_connections, 4096);
        assert_eq!(c.max_event_streams, crate::events::MAX_STREAMS);
        assert_eq!(c.request_timeout, Duration::from_secs(10));
        assert_eq!(c.write_timeout, Duration::from_secs(10));
        assert_eq!(c.request_deadline, Duration::from_secs(6), "the pool timeout plus 1 s");
        assert_eq!((c.status_reads, c.status_buffer_bytes), (4, 64 << 20));
        // the defaults follow the pool timeout and the workers
        let c = serve(&["--pool-timeout-seconds", "2", "--workers", "3"]).unwrap();
        assert_eq!((c.request_deadline, c.status_reads), (Duration::from_secs(3), 1));
    }

    #[test]
    fn every_flag_is_read() {
        let c = serve(&[
            "--database-url=postgres://u@h/db",
            "--read-database-url=postgres://u@h1:5432,h2:5433/db?target_session_attrs=prefer-standby",
            "--bind",
            "0.0.0.0:8080",
            "--workers",
            "4",
            "--min-hold-seconds",
            "1",
            "--max-hold-seconds",
            "90",
            "--default-hold-seconds",
            "30",
            "--sweep-interval-ms",
            "2000",
            "--change-retention-days",
            "7",
            "--max-hold-life-seconds",
            "600",
            "--pool-timeout-seconds",
            "3",
            "--admin-token",
            "t",
            "--max-connections",
            "50",
            "--request-timeout-seconds",
            "7",
            "--write-timeout-seconds",
            "30",
            "--request-deadline-ms",
            "2500",
            "--status-reads",
            "3",
            "--status-buffer-mib",
            "8",
            "--no-demo",
            "--no-request-log",
        ])
        .unwrap();
        assert_eq!(c.database_url.as_deref(), Some("postgres://u@h/db"));
        assert_eq!(
            c.options.read_url.as_deref(),
            Some("postgres://u@h1:5432,h2:5433/db?target_session_attrs=prefer-standby")
        );
        assert_eq!(c.bind, "0.0.0.0:8080");
        assert_eq!((c.workers, c.options.pool_size, c.options.min_idle), (4, 4, 2));
        assert_eq!(c.options.checkout_timeout, Duration::from_secs(3));
        assert_eq!(
            c.settings,
            Settings { min_hold_seconds: 1, max_hold_seconds: 90, default_hold_seconds: 30 }
        );
        assert_eq!(c.sweep_interval, Duration::from_secs(2));
        assert_eq!(c.options.change_retention, Duration::from_secs(7 * 86_400));
        assert_eq!(c.options.max_hold_life, Duration::from_secs(600));
        assert_eq!(c.admin_token.as_deref(), Some("t"));
        assert_eq!((c.max_connections, c.request_timeout), (50, Duration::from_secs(7)));
        assert_eq!(c.write_timeout, Duration::from_secs(30));
        assert_eq!(c.request_deadline, Duration::from_millis(2500));
        assert_eq!((c.status_reads, c.status_buffer_bytes), (3, 8 << 20));
        assert!(!c.demo);
        assert!(!c.request_log);
        // one worker keeps at most one idle connection
        let c = serve(&["--workers=1"]).unwrap();
        assert_eq!((c.options.pool_size, c.options.min_idle), (1, 1));
        // an empty token is no token
        assert_eq!(serve(&["--admin-token", ""]).unwrap().admin_token, None);
        // the last of a repeated flag wins
        assert_eq!(serve(&["--workers", "8", "--workers", "16"]).unwrap().workers, 16);
    }

    #[test]
    fn bad_values_are_named() {
        let named = |args: &[&str], words: &[&str]| {
            let e = serve(args).unwrap_err();
            for w in words {
                assert!(e.contains(w), "{args:?}: {e:?} does not name {w:?}");
            }
        };
        named(&["--workers", "0"], &["--workers", "pool_size must be from 1 to 1000, not 0"]);
        named(&["--workers", "x"], &["--workers", "'x'"]);
        named(&["--max-hold-seconds", "x"], &["--max-hold-seconds", "'x'"]);
        named(&["--min-hold-seconds", "0"], &["min_hold_seconds must be from 1 to 86400 seconds, not 0"]);
        named(
            &["--min-hold-seconds", "100", "--max-hold-seconds", "50"],
            &["minimum hold (100 s)", "(50 s)"],
        );
        named(&["--pool-timeout-seconds", "0"], &["--pool-timeout-seconds", "checkout_timeout"]);
        named(&["--max-connections", "0"], &["--max-connections"]);
        named(&["--request-timeout-seconds", "-1"], &["--request-timeout-seconds"]);
        named(&["--write-timeout-seconds", "0"], &["--write-timeout-seconds"]);
        named(&["--sweep-interval-ms", "0"], &["--sweep-interval-ms"]);
        named(&["--request-deadline-ms", "0"], &["--request-deadline-ms"]);
        named(&["--status-reads", "0"], &["--status-reads"]);
        named(
            &["--status-reads", "5", "--workers", "4"],
            &["--status-reads (5) must not exceed --workers (4)"],
        );
        named(&["--status-buffer-mib", "0"], &["--status-buffer-mib"]);
        named(
            &["--max-hold-life-seconds", "0"],
            &["--max-hold-life-seconds", "max_hold_life must be from 1 s to 86400 s, not 0 ms"],
        );
        named(&["--max-hold-life-seconds", "86401"], &["--max-hold-life-seconds", "not 86401 s"]);
        named(&["--frobnicate"], &["--frobnicate"]);
        assert!(parse(&["--help"]).unwrap_err().contains("--admin-token"));
    }

    #[test]
    fn audit_is_a_subcommand() {
        assert_eq!(parse(&["audit"]).unwrap(), Parsed::Audit { database_url: None, show_id: None });
        assert_eq!(
            parse(&["audit", "--show-id", "s1", "--database-url", "postgres://x"]).unwrap(),
            Parsed::Audit { database_url: Some("postgres://x".into()), show_id: Some("s1".into()) }
        );
        assert_eq!(
            parse(&["--database-url", "postgres://x", "audit"]).unwrap(),
            Parsed::Audit { database_url: Some("postgres://x".into()), show_id: None }
        );
        // server flags do not silently apply to the audit
        assert!(parse(&["audit", "--workers", "3"]).is_err());
        assert!(parse(&["audit", "--read-database-url", "postgres://x"]).is_err());
        assert!(parse(&["--workers", "3", "audit"]).is_err());
    }
}
