//! How a [`SeatCore`](crate::SeatCore) connects: the defaults and the valid range of every
//! option, in one place. Every door takes its defaults from [`Options::DEFAULT`] and checks
//! values through the setters here, so an out-of-range value is refused with the same
//! message everywhere and never silently changed.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::error::{Error, Result};

/// How a [`SeatCore`](crate::SeatCore) connects. The defaults suit one app instance on one
/// machine. Fields are public for struct-update syntax; [`SeatCore::connect`](crate::SeatCore::connect)
/// checks every one against its range ([`Options::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Most connections the pool opens (default 16; [`Options::POOL_SIZE`]).
    pub pool_size: u32,
    /// Connections kept open while idle (default 2); the rest open on demand. A value above
    /// `pool_size` keeps every connection of the pool open.
    pub min_idle: u32,
    /// How long a caller waits for a free connection before `Unavailable` (default 5 s).
    pub checkout_timeout: Duration,
    /// How long opening a TCP connection may take (default 5 s), unless the URL says.
    pub connect_timeout: Duration,
    /// Server-side cap on one statement (default 10 s).
    pub statement_timeout: Duration,
    /// Server-side cap on waiting for a row lock (default 3 s): a stuck lock becomes
    /// `Busy`, never a hang.
    pub lock_timeout: Duration,
    /// Most holds one sweep transaction removes (default 5,000); concurrent sweepers skip
    /// each other's batches.
    pub sweep_batch: u32,
    /// Apply the embedded migrations when connecting (default true).
    pub migrate: bool,
    /// How long the change log keeps a record (default 30 days); the sweeper deletes older
    /// ones.
    pub change_retention: Duration,
    /// Where status, map and history reads go (default: none, every read goes to the main
    /// URL): a hot standby, or several hosts (`postgres://h1:5432,h2:5433/db`; with no
    /// `target_session_attrs` a standby is preferred, as libpq's `prefer-standby`). When no
    /// host of it answers, the main URL serves the reads. Writes never go there. A read
    /// served by a standby says how far behind it may be (`replayed_at`), and a show the
    /// standby does not know yet is looked up on the primary.
    pub read_url: Option<String>,
    /// Make the holds of one show that arrive together in one transaction (default true),
    /// and so the best-available holds, the extensions, the partial releases and the releases
    /// of whole holds: each stays all-or-none and independent, and gets its answer once it
    /// is durable. A request that arrives alone is made at once, as if this were off.
    pub group_holds: bool,
    /// The longest an extended hold may live, counted from its creation (default 1 hour):
    /// [`SeatCore::extend`](crate::SeatCore::extend) never moves an expiry past it.
    pub max_hold_life: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options::DEFAULT
    }
}

/// One option's name and valid range, for messages and for the doors' documentation.
#[derive(Debug, Clone)]
pub struct OptionRange<T> {
    /// The option's name as every door spells it (`lock_timeout`, `pool_size`, ...).
    pub name: &'static str,
    /// The values it accepts.
    pub range: RangeInclusive<T>,
}

impl<T: PartialOrd + Copy + Show> OptionRange<T> {
    /// `value` if it is in range, else a `Config` error naming the option and its range.
    pub fn check(&self, value: T) -> Result<T> {
        if self.range.contains(&value) {
            Ok(value)
        } else {
            Err(self.refusal(Shown(value)))
        }
    }

    fn refusal(&self, value: impl fmt::Display) -> Error {
        Error::Config(format!(
            "{} must be from {} to {}, not {}",
            self.name,
            Shown(*self.range.start()),
            Shown(*self.range.end()),
            value
        ))
    }
}

impl OptionRange<u32> {
    /// `value` if it is in range, for a door whose integers are wider than `u32` (a Python
    /// `int`): a negative or huge value is refused with the same message as any other.
    pub fn check_wide(&self, value: i64) -> Result<u32> {
        match u32::try_from(value) {
            Ok(v) => self.check(v),
            Err(_) => Err(self.refusal(value)),
        }
    }
}

/// How a value of an option is written in messages.
pub trait Show {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl Show for u32 {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Show for Duration {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.as_secs_f64() * 1000.0;
        if ms >= 1000.0 {
            write!(f, "{} s", self.as_secs_f64())
        } else {
            write!(f, "{ms} ms")
        }
    }
}

struct Shown<T>(T);

impl<T: Show> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.show(f)
    }
}

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

impl Options {
    /// The defaults, as a constant the doors can name in their signatures.
    pub const DEFAULT: Options = Options {
        pool_size: 16,
        min_idle: 2,
        checkout_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(10),
        lock_timeout: Duration::from_secs(3),
        sweep_batch: 5_000,
        migrate: true,
        change_retention: Duration::from_secs(30 * 86_400),
        read_url: None,
        group_holds: true,
        max_hold_life: Duration::from_secs(3600),
    };

    /// `pool_size`: 1 to 1,000 connections.
    pub const POOL_SIZE: OptionRange<u32> = OptionRange { name: "pool_size", range: 1..=1_000 };
    /// `min_idle`: 0 to 1,000 (capped by `pool_size` in effect).
    pub const MIN_IDLE: OptionRange<u32> = OptionRange { name: "min_idle", range: 0..=1_000 };
    /// `checkout_timeout`: 1 ms to 1 hour.
    pub const CHECKOUT_TIMEOUT: OptionRange<Duration> =
        OptionRange { name: "checkout_timeout", range: MS..=HOUR };
    /// `connect_timeout`: 1 ms to 1 hour.
    pub const CONNECT_TIMEOUT: OptionRange<Duration> =
        OptionRange { name: "connect_timeout", range: MS..=HOUR };
    /// `statement_timeout`: 1 ms to 1 day.
    pub const STATEMENT_TIMEOUT: OptionRange<Duration> =
        OptionRange { name: "statement_timeout", range: MS..=DAY };
    /// `lock_timeout`: 1 ms to 1 day.
    pub const LOCK_TIMEOUT: OptionRange<Duration> = OptionRange { name: "lock_timeout", range: MS..=DAY };
    /// `sweep_batch`: 1 to 1,000,000 holds.
    pub const SWEEP_BATCH: OptionRange<u32> = OptionRange { name: "sweep_batch", range: 1..=1_000_000 };

    /// `change_retention`: 1 minute to 10 years.
    pub const CHANGE_RETENTION: OptionRange<Duration> = OptionRange {
        name: "change_retention",
        range: Duration::from_secs(60)..=Duration::from_secs(3650 * 86_400),
    };

    /// `max_hold_life`: 1 second to 1 day (the longest hold, `validate::MAX_HOLD_SECONDS`).
    pub const MAX_HOLD_LIFE: OptionRange<Duration> = OptionRange {
        name: "max_hold_life",
        range: Duration::from_secs(1)..=Duration::from_secs(crate::validate::MAX_HOLD_SECONDS as u64),
    };

    /// Sets `max_hold_life`, refusing a value out of [`Options::MAX_HOLD_LIFE`].
    pub fn set_max_hold_life(&mut self, d: Duration) -> Result<&mut Self> {
        self.max_hold_life = Self::MAX_HOLD_LIFE.check(d)?;
        Ok(self)
    }

    /// Sets `change_retention`, refusing a value out of [`Options::CHANGE_RETENTION`].
    pub fn set_change_retention(&mut self, d: Duration) -> Result<&mut Self> {
        self.change_retention = Self::CHANGE_RETENTION.check(d)?;
        Ok(self)
    }

    /// Sets `pool_size`, refusing a value out of [`Options::POOL_SIZE`].
    pub fn set_pool_size(&mut self, n: u32) -> Result<&mut Self> {
        self.pool_size = Self::POOL_SIZE.check(n)?;
        Ok(self)
    }

    /// Sets `min_idle`, refusing a value out of [`Options::MIN_IDLE`].
    pub fn set_min_idle(&mut self, n: u32) -> Result<&mut Self> {
        self.min_idle = Self::MIN_IDLE.check(n)?;
        Ok(self)
    }

    /// Sets `checkout_timeout`, refusing a value out of [`Options::CHECKOUT_TIMEOUT`].
    pub fn set_checkout_timeout(&mut self, d: Duration) -> Result<&mut Self> {
        self.checkout_timeout = Self::CHECKOUT_TIMEOUT.check(d)?;
        Ok(self)
    }

    /// Sets `connect_timeout`, refusing a value out of [`Options::CONNECT_TIMEOUT`].
    pub fn set_connect_timeout(&mut self, d: Duration) -> Result<&mut Self> {
        self.connect_timeout = Self::CONNECT_TIMEOUT.check(d)?;
        Ok(self)
    }

    /// Sets `statement_timeout`, refusing a value out of [`Options::STATEMENT_TIMEOUT`].
    pub fn set_statement_timeout(&mut self, d: Duration) -> Result<&mut Self> {
        self.statement_timeout = Self::STATEMENT_TIMEOUT.check(d)?;
        Ok(self)
    }

    /// Sets `lock_timeout`, refusing a value out of [`Options::LOCK_TIMEOUT`].
    pub fn set_lock_timeout(&mut self, d: Duration) -> Result<&mut Self> {
        self.lock_timeout = Self::LOCK_TIMEOUT.check(d)?;
        Ok(self)
    }

    /// Sets `sweep_batch`, refusing a value out of [`Options::SWEEP_BATCH`].
    pub fn set_sweep_batch(&mut self, n: u32) -> Result<&mut Self> {
        self.sweep_batch = Self::SWEEP_BATCH.check(n)?;
        Ok(self)
    }

    /// Checks every option against its range: the first problem as a `Config` error.
    /// [`SeatCore::connect`](crate::SeatCore::connect) calls it.
    pub fn check(&self) -> Result<()> {
        Self::POOL_SIZE.check(self.pool_size)?;
        Self::MIN_IDLE.check(self.min_idle)?;
        Self::CHECKOUT_TIMEOUT.check(self.checkout_timeout)?;
        Self::CONNECT_TIMEOUT.check(self.connect_timeout)?;
        Self::STATEMENT_TIMEOUT.check(self.statement_timeout)?;
        Self::LOCK_TIMEOUT.check(self.lock_timeout)?;
        Self::SWEEP_BATCH.check(self.sweep_batch)?;
        Self::CHANGE_RETENTION.check(self.change_retention)?;
        Self::MAX_HOLD_LIFE.check(self.max_hold_life)?;
        Ok(())
    }
}

/// A duration given in seconds as a float (Python) or milliseconds (C), refused when it
/// is not a finite, non-negative number: the range check then names the option.
pub fn seconds(name: &str, secs: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        Error::Config(format!("{name} must be a finite, positive number of seconds, not {secs}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_their_own_checks() {
        Options::DEFAULT.check().unwrap();
        assert_eq!(Options::default(), Options::DEFAULT);
    }

    #[test]
    fn out_of_range_values_are_refused_not_changed() {
        let mut o = Options::default();
        let e = o.set_lock_timeout(Duration::ZERO).unwrap_err();
        assert_eq!(e.to_string(), "configuration error: lock_timeout must be from 1 ms to 86400 s, not 0 ms");
        assert_eq!(o.lock_timeout, Options::DEFAULT.lock_timeout, "unchanged");
        assert!(o.set_pool_size(0).is_err());
        assert!(o.set_pool_size(1001).is_err());
        o.set_pool_size(4).unwrap().set_min_idle(8).unwrap();
        o.check().unwrap();
        assert!(o.set_min_idle(1001).is_err());
        assert!(o.set_sweep_batch(0).is_err());
        let e = o.set_max_hold_life(Duration::from_secs(86_401)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration error: max_hold_life must be from 1 s to 86400 s, not 86401 s"
        );
        assert_eq!(o.max_hold_life, Duration::from_secs(3600), "unchanged");
        assert!(o.set_max_hold_life(Duration::from_millis(999)).is_err());
        o.set_max_hold_life(Duration::from_secs(120)).unwrap();
        assert_eq!(Options::MIN_IDLE.check_wide(3).unwrap(), 3);
        let e = Options::MIN_IDLE.check_wide(-1).unwrap_err();
        assert_eq!(e.to_string(), "configuration error: min_idle must be from 0 to 1000, not -1");
        assert!(Options::POOL_SIZE.check_wide(i64::from(u32::MAX) + 1).is_err());
        assert!(seconds("checkout_timeout", -1.0).is_err());
        assert!(seconds("checkout_timeout", f64::NAN).is_err());
        assert_eq!(seconds("x", 0.25).unwrap(), Duration::from_millis(250));
    }
}
