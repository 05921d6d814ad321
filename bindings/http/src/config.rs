//! Command-line flags and environment variables. Flags win over the environment.

use std::time::Duration;

/// Everything the server is told at start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `postgres://` URL; `None` means "start the project's private cluster".
    pub database_url: Option<String>,
    pub bind: String,
    pub workers: usize,
    pub settings: Settings,
    pub sweep_interval: Duration,
    pub demo: bool,
    /// How long a request waits for a database connection before a 503.
    pub pool_timeout: Duration,
    /// Client connections open at once; more get a 503 and are closed.
    pub max_connections: usize,
    /// From a request's first byte, how long the client has to send all of it.
    pub request_timeout: Duration,
}

/// The settings request handlers read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub min_hold_seconds: i64,
    pub max_hold_seconds: i64,
    pub default_hold_seconds: i64,
    /// When set, `POST /reset` and `POST /shows/<id>/initialize` need `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { min_hold_seconds: 60, max_hold_seconds: 1800, default_hold_seconds: 60, admin_token: None }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            bind: "127.0.0.1:5000".into(),
            workers: 16,
            settings: Settings::default(),
            sweep_interval: Duration::from_secs(10),
            demo: true,
            pool_timeout: Duration::from_secs(5),
            max_connections: 4096,
            request_timeout: Duration::from_secs(10),
        }
    }
}

pub const HELP: &str = "\
seatcore-server: the seat-reservation REST API (the old Flask backend's contract) on PostgreSQL

USAGE: seatcore-server [FLAGS]

FLAGS (environment variable in brackets; a flag wins over its variable):
  --database-url URL              PostgreSQL URL [DATABASE_URL]; without one the project's
                                  private cluster is started with scripts/pg.sh
  --bind ADDR:PORT                listen address [SEATCORE_BIND] (default 127.0.0.1:5000;
                                  port 0 picks a free port, printed at start)
  --workers N                     worker threads, and database connections (default 16)
                                  [SEATCORE_WORKERS]
  --min-hold-seconds N            shortest hold; shorter requests are raised to it (default 60)
                                  [SEATCORE_MIN_HOLD_SECONDS]
  --max-hold-seconds N            longest hold; longer requests are cut to it (default 1800)
                                  [SEATCORE_MAX_HOLD_SECONDS]
  --default-hold-seconds N        hold length when a request gives none (default 60)
                                  [SEATCORE_DEFAULT_HOLD_SECONDS]
  --sweep-interval-seconds N      how often expired holds are deleted (default 10)
                                  [SEATCORE_SWEEP_INTERVAL_SECONDS]
  --pool-timeout-seconds N        how long a request waits for a database connection before
                                  it gets a 503 (default 5) [SEATCORE_POOL_TIMEOUT_SECONDS]
  --admin-token TOKEN             require `Authorization: Bearer TOKEN` on POST /reset and
                                  POST /shows/<id>/initialize [SEATCORE_ADMIN_TOKEN]
  --max-connections N             client connections open at once; more get 503 and are
                                  closed (default 4096) [SEATCORE_MAX_CONNECTIONS]
  --request-timeout-seconds N     from a request's first byte, how long a client has to send
                                  its head and body before a 408 (default 10)
                                  [SEATCORE_REQUEST_TIMEOUT_SECONDS]
  --no-demo                       do not create the demo show avengers_2026_7pm
                                  [SEATCORE_NO_DEMO=1]
  -h, --help                      print this help
";

/// What the command line asked for.
#[derive(Debug)]
pub enum Parsed {
    Run(Config),
    Help,
}

/// Reads the environment (through `env`) and then the flags.
pub fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Parsed, String> {
    let mut c = Config::default();
    let nonempty = |k: &str| env(k).filter(|v| !v.is_empty());
    c.database_url = nonempty("DATABASE_URL");
    if let Some(v) = nonempty("SEATCORE_BIND") {
        c.bind = v;
    }
    let mut workers = nonempty("SEATCORE_WORKERS").map(|v| ("SEATCORE_WORKERS", v));
    let mut min = nonempty("SEATCORE_MIN_HOLD_SECONDS").map(|v| ("SEATCORE_MIN_HOLD_SECONDS", v));
    let mut max = nonempty("SEATCORE_MAX_HOLD_SECONDS").map(|v| ("SEATCORE_MAX_HOLD_SECONDS", v));
    let mut default =
        nonempty("SEATCORE_DEFAULT_HOLD_SECONDS").map(|v| ("SEATCORE_DEFAULT_HOLD_SECONDS", v));
    let mut sweep =
        nonempty("SEATCORE_SWEEP_INTERVAL_SECONDS").map(|v| ("SEATCORE_SWEEP_INTERVAL_SECONDS", v));
    let mut pool =
        nonempty("SEATCORE_POOL_TIMEOUT_SECONDS").map(|v| ("SEATCORE_POOL_TIMEOUT_SECONDS", v));
    let mut max_connections =
        nonempty("SEATCORE_MAX_CONNECTIONS").map(|v| ("SEATCORE_MAX_CONNECTIONS", v));
    let mut request_timeout =
        nonempty("SEATCORE_REQUEST_TIMEOUT_SECONDS").map(|v| ("SEATCORE_REQUEST_TIMEOUT_SECONDS", v));
    c.settings.admin_token = nonempty("SEATCORE_ADMIN_TOKEN");
    if let Some(v) = nonempty("SEATCORE_NO_DEMO") {
        c.demo = matches!(v.as_str(), "0" | "false" | "no");
    }

    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_iter(args);
    fn take(parser: &mut lexopt::Parser, name: &'static str) -> Result<(&'static str, String), String> {
        let v = parser.value().map_err(|e| format!("{name}: {e}"))?;
        let v = v.into_string().map_err(|_| format!("{name}: not valid UTF-8"))?;
        Ok((name, v))
    }
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Long("database-url") => c.database_url = Some(take(&mut parser, "--database-url")?.1),
            Long("bind") => c.bind = take(&mut parser, "--bind")?.1,
            Long("workers") => workers = Some(take(&mut parser, "--workers")?),
            Long("min-hold-seconds") => min = Some(take(&mut parser, "--min-hold-seconds")?),
            Long("max-hold-seconds") => max = Some(take(&mut parser, "--max-hold-seconds")?),
            Long("default-hold-seconds") => default = Some(take(&mut parser, "--default-hold-seconds")?),
            Long("sweep-interval-seconds") => sweep = Some(take(&mut parser, "--sweep-interval-seconds")?),
            Long("pool-timeout-seconds") => pool = Some(take(&mut parser, "--pool-timeout-seconds")?),
            Long("admin-token") => {
                let token = take(&mut parser, "--admin-token")?.1;
                c.settings.admin_token = (!token.is_empty()).then_some(token);
            }
            Long("max-connections") => max_connections = Some(take(&mut parser, "--max-connections")?),
            Long("request-timeout-seconds") => {
                request_timeout = Some(take(&mut parser, "--request-timeout-seconds")?)
            }
            Long("no-demo") => c.demo = false,
            other => return Err(format!("{} (see --help)", other.unexpected())),
        }
    }

    fn number(source: Option<(&str, String)>, lo: u64, hi: u64) -> Result<Option<u64>, String> {
        let Some((name, raw)) = source else { return Ok(None) };
        match raw.trim().parse::<u64>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{name}: expected a whole number from {lo} to {hi}, got {raw:?}")),
        }
    }
    let max_hold = seatcore::validate::MAX_HOLD_SECONDS as u64;
    if let Some(n) = number(workers, 1, 512)? {
        c.workers = n as usize;
    }
    let s = &mut c.settings;
    if let Some(n) = number(min, 1, max_hold)? {
        s.min_hold_seconds = n as i64;
    }
    if let Some(n) = number(max, 1, max_hold)? {
        s.max_hold_seconds = n as i64;
    }
    if let Some(n) = number(default, 1, max_hold)? {
        s.default_hold_seconds = n as i64;
    }
    if s.min_hold_seconds > s.max_hold_seconds {
        return Err(format!(
            "the minimum hold ({} s) is longer than the maximum ({} s)",
            s.min_hold_seconds, s.max_hold_seconds
        ));
    }
    if let Some(n) = number(sweep, 1, 86_400)? {
        c.sweep_interval = Duration::from_secs(n);
    }
    if let Some(n) = number(pool, 1, 600)? {
        c.pool_timeout = Duration::from_secs(n);
    }
    if let Some(n) = number(max_connections, 1, 1_000_000)? {
        c.max_connections = n as usize;
    }
    if let Some(n) = number(request_timeout, 1, 3600)? {
        c.request_timeout = Duration::from_secs(n);
    }
    Ok(Parsed::Run(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let args = std::iter::once("seatcore-server").chain(args.iter().copied()).map(Into::into);
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        match parse(args, |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))? {
            Parsed::Run(c) => Ok(c),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults_match_the_issue() {
        let c = run(&[], &[]).unwrap();
        assert_eq!(c.bind, "127.0.0.1:5000");
        assert_eq!(c.workers, 16);
        assert_eq!(c.settings.min_hold_seconds, 60);
        assert_eq!(c.settings.max_hold_seconds, 1800);
        assert_eq!(c.settings.default_hold_seconds, 60);
        assert_eq!(c.sweep_interval, Duration::from_secs(10));
        assert!(c.demo);
        assert_eq!(c.settings.admin_token, None);
        assert_eq!(c.max_connections, 4096);
        assert_eq!(c.request_timeout, Duration::from_secs(10));
    }

    #[test]
    fn connection_limits_parse_and_refuse_nonsense() {
        let c = run(&["--max-connections", "50", "--request-timeout-seconds", "3"], &[]).unwrap();
        assert_eq!((c.max_connections, c.request_timeout), (50, Duration::from_secs(3)));
        let c = run(&[], &[("SEATCORE_MAX_CONNECTIONS", "7"), ("SEATCORE_REQUEST_TIMEOUT_SECONDS", "2")]).unwrap();
        assert_eq!((c.max_connections, c.request_timeout), (7, Duration::from_secs(2)));
        assert!(run(&["--max-connections", "0"], &[]).unwrap_err().contains("--max-connections"));
        assert!(run(&["--request-timeout-seconds", "-1"], &[]).unwrap_err().contains("--request-timeout-seconds"));
    }

    #[test]
    fn flags_win_over_environment() {
        let c = run(
            &["--bind", "0.0.0.0:8080", "--min-hold-seconds", "1", "--no-demo", "--workers=4"],
            &[("SEATCORE_BIND", "127.0.0.1:9"), ("SEATCORE_WORKERS", "8"), ("SEATCORE_ADMIN_TOKEN", "t")],
        )
        .unwrap();
        assert_eq!(c.bind, "0.0.0.0:8080");
        assert_eq!(c.workers, 4);
        assert_eq!(c.settings.min_hold_seconds, 1);
        assert_eq!(c.settings.admin_token.as_deref(), Some("t"));
        assert!(!c.demo);
    }

    #[test]
    fn bad_values_are_named() {
        assert!(run(&["--workers", "0"], &[]).unwrap_err().contains("--workers"));
        assert!(run(&["--max-hold-seconds", "x"], &[]).unwrap_err().contains("--max-hold-seconds"));
        assert!(run(&["--min-hold-seconds", "100", "--max-hold-seconds", "50"], &[]).is_err());
        assert!(run(&["--frobnicate"], &[]).unwrap_err().contains("frobnicate"));
        assert!(run(&[], &[("SEATCORE_WORKERS", "-3")]).unwrap_err().contains("SEATCORE_WORKERS"));
        assert_eq!(run(&["--help"], &[]).unwrap_err(), "help");
    }
}
