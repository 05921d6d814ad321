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
}

/// Declares each option that has a range, once: its range (a constant of [`Options`] the
/// doors document and check with), its setter, and its place in [`Options::check`].
macro_rules! ranged_options {
    ($($(#[$doc:meta])* $field:ident, $setter:ident: $ty:ty, $name:ident = $range:expr;)*) => {
        impl Options {
            $(
                $(#[$doc])*
                pub const $name: OptionRange<$ty> = OptionRange { name: stringify!($field), range: $range };

                #[doc = concat!("Sets `", stringify!($field), "`, refusing a value out of [`Options::",
                                stringify!($name), "`].")]
                pub fn $setter(&mut self, value: $ty) -> Result<&mut Self> {
                    self.$field = Self::$name.check(value)?;
                    Ok(self)
                }
            )*

            /// Checks every option against its range: the first problem as a `Config` error.
            /// [`SeatCore::connect`](crate::SeatCore::connect) calls it.
            pub fn check(&self) -> Result<()> {
                $(Self::$name.check(self.$field)?;)*
                Ok(())
            }
        }
    };
}

ranged_options! {
    /// `pool_size`: 1 to 1,000 connections.
    pool_size, set_pool_size: u32, POOL_SIZE = 1..=1_000;
    /// `min_idle`: 0 to 1,000 (capped by `pool_size` in effect).
    min_idle, set_min_idle: u32, MIN_IDLE = 0..=1_000;
    /// `checkout_timeout`: 1 ms to 1 hour.
    checkout_timeout, set_checkout_timeout: Duration, CHECKOUT_TIMEOUT = MS..=HOUR;
    /// `connect_timeout`: 1 ms to 1 hour.
    connect_timeout, set_connect_timeout: Duration, CONNECT_TIMEOUT = MS..=HOUR;
    /// `statement_timeout`: 1 ms to 1 day.
    statement_timeout, set_statement_timeout: Duration, STATEMENT_TIMEOUT = MS..=DAY;
    /// `lock_timeout`: 1 ms to 1 day.
    lock_timeout, set_lock_timeout: Duration, LOCK_TIMEOUT = MS..=DAY;
    /// `sweep_batch`: 1 to 1,000,000 holds.
    sweep_batch, set_sweep_batch: u32, SWEEP_BATCH = 1..=1_000_000;
    /// `change_retention`: 1 minute to 10 years.
    change_retention, set_change_retention: Duration, CHANGE_RETENTION =
        Duration::from_secs(60)..=Duration::from_secs(3650 * 86_400);
    /// `max_hold_life`: 1 second to 1 day (the longest hold, `validate::MAX_HOLD_SECONDS`).
    max_hold_life, set_max_hold_life: Duration, MAX_HOLD_LIFE =
        Duration::from_secs(1)..=Duration::from_secs(crate::validate::MAX_HOLD_SECONDS as u64);
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
