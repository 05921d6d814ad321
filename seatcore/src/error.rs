//! The one error type of seatcore, its table of stable kinds, and the one place database
//! errors are classified.

use std::fmt;

/// What went wrong with a caller's input. Nothing was written.
///
/// The `Display` text is the message a client sees; where the REST contract fixes a
/// message, this is that message.
#[derive(Debug, Clone, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum InputError {
    /// The seat list was empty.
    NoSeats,
    /// More seats than one request may carry.
    TooManySeats { max: usize },
    /// The seat id at `index` is empty once whitespace is trimmed.
    EmptySeatId { index: usize },
    /// The seat id at `index` is longer than `max` characters.
    SeatIdTooLong { index: usize, max: usize },
    /// The seat id at `index` contains a control character (NUL, newline, ...).
    SeatIdControlChar { index: usize },
    /// Two seat ids are equal once trimmed.
    DuplicateSeatIds,
    /// The show id is empty or longer than `max` characters.
    ShowIdLength { max: usize },
    /// The show id contains a control character.
    ShowIdControlChar,
    /// The hold duration is outside `min..=max` seconds.
    HoldDuration { min: i64, max: i64 },
    /// The request key is empty, too long or has control characters.
    RequestKey { max: usize },
    /// A request body that must be a JSON object is not one (missing, wrong content type,
    /// malformed, another JSON type).
    NotAnObject,
    /// A request body nests arrays or objects deeper than `max` levels.
    TooDeep { max: usize },
    /// A request body is longer than `max` bytes.
    BodyTooLarge { max: usize },
    /// `seat_ids` is missing or not a JSON array.
    SeatIdsNotAList,
    /// The element at `index` of `seat_ids` is not a string.
    SeatIdNotAString { index: usize },
    /// `hold_id` is missing, not a string, or blank.
    HoldIdMissing,
    /// `hold_duration_seconds` is present but neither a number nor a string of digits.
    HoldDurationType { min: i64, max: i64 },
    /// `POST /reset` carried a non-empty body.
    ResetPayload,
    /// The show id in a URL is not UTF-8 once percent-decoded.
    ShowIdUtf8,
    /// A page size is not an integer from 1 to `max`.
    Limit { max: u32 },
    /// `after` (or `Last-Event-ID`) is not a change id.
    After,
    /// A seat filter is not a valid seat id.
    SeatIdFilter,
    /// A seat map (`seats`) is missing or not a list.
    SeatsNotAList,
    /// A seat map is empty.
    NoMapSeats,
    /// An initialize gave both `seat_ids` and `seats`.
    SeatMapTwice,
    /// The seat at `index` of a map is not a JSON object.
    SeatNotAnObject { index: usize },
    /// A field of the seat at `index` of a map breaks its rule.
    SeatField { index: usize, field: &'static str, rule: &'static str },
    /// The seat at `index` of a map has the place in its row of an earlier seat.
    PositionTaken { index: usize },
    /// A best-available count out of 1 to `max`.
    Count { max: usize },
    /// A best-available filter of the wrong type.
    Filter { field: &'static str, rule: &'static str },
    /// A block's reason is too long or not a string.
    BlockReason { max: usize },
    /// More requests than one group of holds may carry.
    TooManyRequests { max: usize },
    /// `booking_id` is missing, not a string, or blank.
    BookingIdMissing,
}

impl InputError {
    /// The position in the seat list this error is about, if any.
    pub fn index(&self) -> Option<usize> {
        match self {
            InputError::EmptySeatId { index }
            | InputError::SeatIdTooLong { index, .. }
            | InputError::SeatIdControlChar { index }
            | InputError::SeatIdNotAString { index }
            | InputError::SeatNotAnObject { index }
            | InputError::SeatField { index, .. }
            | InputError::PositionTaken { index } => Some(*index),
            _ => None,
        }
    }

    /// A short, stable name of the broken rule (`"duplicate_seat_ids"`, `"no_seats"`, ...),
    /// for callers that must not parse messages.
    pub fn reason(&self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::NoSeats => f.write_str("seat_ids must contain at least one seat"),
            InputError::TooManySeats { max } => {
                write!(f, "seat_ids must contain at most {max} seats")
            }
            InputError::EmptySeatId { .. } => f.write_str("seat_ids must not contain empty strings"),
            InputError::SeatIdTooLong { max, .. } => {
                write!(f, "each seat_id must be at most {max} characters")
            }
            InputError::SeatIdControlChar { .. } => {
                f.write_str("seat_ids must not contain control characters")
            }
            InputError::DuplicateSeatIds => f.write_str("seat_ids must not contain duplicates"),
            InputError::ShowIdLength { max } => {
                write!(f, "show_id must be between 1 and {max} characters")
            }
            InputError::ShowIdControlChar => f.write_str("show_id must not contain control characters"),
            InputError::HoldDuration { min, max } => {
                write!(f, "hold duration must be between {min} and {max} seconds")
            }
            InputError::RequestKey { max } => {
                write!(f, "request key must be 1 to {max} characters without control characters")
            }
            InputError::NotAnObject => f.write_str("request body must be a JSON object"),
            InputError::TooDeep { max } => {
                write!(f, "request body must not nest arrays or objects deeper than {max} levels")
            }
            InputError::BodyTooLarge { max } => write!(f, "request body must be at most {max} bytes"),
            InputError::SeatIdsNotAList => f.write_str("seat_ids must be provided as a non-empty JSON array"),
            InputError::SeatIdNotAString { .. } => f.write_str("each seat_id must be a string"),
            InputError::HoldIdMissing => f.write_str("hold_id must be a non-empty string"),
            InputError::HoldDurationType { min, max } => {
                write!(f, "hold_duration_seconds must be an integer between {min} and {max} seconds")
            }
            InputError::ResetPayload => f.write_str("reset payload must be empty"),
            InputError::ShowIdUtf8 => f.write_str("show_id must be valid UTF-8 once percent-decoded"),
            InputError::Limit { max } => write!(f, "limit must be an integer between 1 and {max}"),
            InputError::After => f.write_str("after must be a change id (an integer of 0 or more)"),
            InputError::SeatIdFilter => {
                f.write_str("seat_id must be 1 to 64 characters without control characters")
            }
            InputError::SeatsNotAList => f.write_str("seats must be provided as a non-empty JSON array"),
            InputError::NoMapSeats => f.write_str("seats must contain at least one seat"),
            InputError::SeatMapTwice => f.write_str("give either seat_ids or seats, not both"),
            InputError::SeatNotAnObject { .. } => f.write_str("each seat must be a JSON object"),
            InputError::SeatField { field, rule, .. } => write!(f, "{field} must be {rule}"),
            InputError::PositionTaken { .. } => {
                f.write_str("two seats of a section and row must not share a position")
            }
            InputError::Count { max } => write!(f, "count must be an integer between 1 and {max}"),
            InputError::Filter { field, rule } => write!(f, "{field} must be {rule}"),
            InputError::BlockReason { max } => {
                write!(f, "reason must be a string of at most {max} characters without control characters")
            }
            InputError::TooManyRequests { max } => write!(f, "at most {max} requests may be held together"),
            InputError::BookingIdMissing => f.write_str("booking_id must be a non-empty string"),
        }
    }
}

impl std::error::Error for InputError {}

/// Every way a seatcore operation can fail.
///
/// Domain variants say what the caller asked for that cannot be done; infrastructure
/// variants keep their source. [`Error::kind`] gives a stable code for each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No show has this id.
    #[error("show not found")]
    ShowNotFound,
    /// A show with this id was initialized before; its seat map is unchanged.
    #[error("show already exists")]
    ShowExists,
    /// At least one requested seat id is not on the show's seat map.
    #[error("invalid seat ID(s)")]
    InvalidSeatIds,
    /// Some requested seats are held or booked by someone else; nothing was held.
    #[error("seats unavailable: {}", seat_ids.join(", "))]
    SeatsUnavailable {
        /// The unavailable seats, in seat-map order.
        seat_ids: Vec<String>,
    },
    /// No live hold of this show has this id (never made, released, booked elsewhere,
    /// swept, or not a UUID at all).
    #[error("hold not found")]
    HoldNotFound,
    /// The hold exists but its time ran out by the database's clock; hold the seats again.
    #[error("hold expired")]
    HoldExpired,
    /// The hold's seats no longer carry the hold (an administrative reset ran).
    #[error("hold invalidated (seat state mismatch)")]
    HoldInvalidated,
    /// The request key was used before for a different hold request of this show.
    #[error("request key already used for a different hold request")]
    RequestKeyReused,
    /// The input was malformed; nothing was written.
    #[error("{0}")]
    InvalidInput(#[from] InputError),
    /// The database is up but could not serve in time (lock or statement timeout, or
    /// seats changing hands faster than a hold could settle); retrying later may succeed.
    #[error("database busy")]
    Busy(#[source] Option<postgres::Error>),
    /// The database cannot be reached, or no connection came free in time.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[source] postgres::Error),
    /// The configuration cannot work: a malformed database URL, an unknown `sslmode`, an
    /// unreadable certificate, an option out of its range. Retrying changes nothing; the
    /// message says what to fix.
    #[error("configuration error: {0}")]
    Config(String),
    /// No block of adjacent free seats of one row fits a best-available request (count and
    /// filters); nothing was held.
    #[error("no adjacent seats available")]
    NoAdjacentSeats,
    /// No booking of this show has this id (never made, another show's, or not a UUID).
    #[error("booking not found")]
    BookingNotFound,
    /// Some seats to release are not in the hold (not its seats, or not on the seat map at
    /// all); nothing was released.
    #[error("seats not in hold: {}", seat_ids.join(", "))]
    SeatsNotInHold {
        /// The seats that are not in the hold, in request order.
        seat_ids: Vec<String>,
    },
    /// The hold was booked and that booking was cancelled: its seats are free, and booking
    /// the hold again does not take them back.
    #[error("booking cancelled")]
    BookingCancelled,
}

/// Declares [`ErrorKind`] and its table in one place: variant, stable number, name, title
/// and a one-line description.
macro_rules! error_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $title:literal, $desc:literal; )*) => {
        /// A stable code for each kind of failure, for the doors to map into their world.
        ///
        /// The numbers are part of the C ABI and of every door's contract: they never
        /// change and are never reused. The enum is exhaustive on purpose: a new kind makes
        /// the compiler point at every door's mapping.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum ErrorKind {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl ErrorKind {
            /// Every kind, in code order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),*];

            /// The kind's stable name in upper snake case, e.g. `"SHOW_NOT_FOUND"` (the C
            /// door prefixes it with `SEATCORE_`).
            pub const fn name(self) -> &'static str {
                match self { $(ErrorKind::$variant => $name,)* }
            }

            /// The kind's name in camel case, e.g. `"ShowNotFound"` (the Python door adds
            /// `Error` for its exception class).
            pub const fn title(self) -> &'static str {
                match self { $(ErrorKind::$variant => $title,)* }
            }

            /// What the kind means, in one line.
            pub const fn description(self) -> &'static str {
                match self { $(ErrorKind::$variant => $desc,)* }
            }
        }
    };
}

error_kinds! {
    /// No show has this id.
    ShowNotFound = 1, "SHOW_NOT_FOUND", "ShowNotFound",
        "No show has this id.";
    /// A show with this id exists already.
    ShowExists = 2, "SHOW_EXISTS", "ShowExists",
        "A show with this id exists already; its seat map is unchanged.";
    /// A requested seat id is not on the show's seat map.
    InvalidSeatIds = 3, "INVALID_SEAT_IDS", "InvalidSeatIds",
        "At least one requested seat id is not on the show's seat map.";
    /// Some requested seats are taken; nothing was held.
    SeatsUnavailable = 4, "SEATS_UNAVAILABLE", "SeatsUnavailable",
        "Some requested seats are held or booked by someone else; nothing was held.";
    /// No live hold of this show has this id.
    HoldNotFound = 5, "HOLD_NOT_FOUND", "HoldNotFound",
        "No live hold of this show has this id (never made, released, swept, booked, or not a UUID).";
    /// The hold's time ran out.
    HoldExpired = 6, "HOLD_EXPIRED", "HoldExpired",
        "The hold's time ran out by the database's clock; hold the seats again.";
    /// The hold's seats no longer carry it.
    HoldInvalidated = 7, "HOLD_INVALIDATED", "HoldInvalidated",
        "The hold's seats no longer carry it (an administrative reset ran).";
    /// The input broke a rule; nothing was written.
    InvalidInput = 8, "INVALID_INPUT", "InvalidInput",
        "The input broke a rule (see the message); nothing was written.";
    /// The request key was used for a different request.
    RequestKeyReused = 9, "REQUEST_KEY_REUSED", "RequestKeyReused",
        "The request key was used before for a different hold request of this show.";
    /// The database could not serve in time.
    Busy = 10, "BUSY", "DatabaseBusy",
        "The database could not serve in time (lock or statement timeout); retry later.";
    /// The database cannot be reached.
    Unavailable = 11, "UNAVAILABLE", "DatabaseUnavailable",
        "The database cannot be reached, or no pooled connection came free in time; retry later.";
    /// Any other database failure.
    Database = 12, "DATABASE", "Database",
        "Any other database failure.";
    /// The configuration cannot work.
    Config = 13, "CONFIG", "Config",
        "The configuration cannot work (database URL, TLS files, an option out of range); retrying changes nothing.";
    /// No booking of this show has this id.
    BookingNotFound = 14, "BOOKING_NOT_FOUND", "BookingNotFound",
        "No booking of this show has this id (never made, another show's, or not a UUID).";
    /// Some seats to release are not in the hold.
    SeatsNotInHold = 15, "SEATS_NOT_IN_HOLD", "SeatsNotInHold",
        "Some seats to release are not in the hold; nothing was released.";
    /// The hold's booking was cancelled.
    BookingCancelled = 16, "BOOKING_CANCELLED", "BookingCancelled",
        "The hold was booked and the booking cancelled; its seats are free again, hold them anew.";
    /// No block of adjacent free seats fits a best-available request.
    NoAdjacentSeats = 17, "NO_ADJACENT_SEATS", "NoAdjacentSeats",
        "No block of adjacent free seats of one row fits the request; nothing was held.";
}

impl ErrorKind {
    /// The kind's stable number.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The kind with this number, if there is one.
    pub fn from_code(code: u32) -> Option<ErrorKind> {
        ErrorKind::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// True for failures of the database rather than of the request: retrying later may
    /// succeed, and the message must not reach an untrusted client.
    pub const fn is_infrastructure(self) -> bool {
        matches!(self, ErrorKind::Busy | ErrorKind::Unavailable | ErrorKind::Database)
    }
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::ShowNotFound => ErrorKind::ShowNotFound,
            Error::ShowExists => ErrorKind::ShowExists,
            Error::InvalidSeatIds => ErrorKind::InvalidSeatIds,
            Error::SeatsUnavailable { .. } => ErrorKind::SeatsUnavailable,
            Error::HoldNotFound => ErrorKind::HoldNotFound,
            Error::HoldExpired => ErrorKind::HoldExpired,
            Error::HoldInvalidated => ErrorKind::HoldInvalidated,
            Error::RequestKeyReused => ErrorKind::RequestKeyReused,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::Busy(_) => ErrorKind::Busy,
            Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::Database(_) => ErrorKind::Database,
            Error::Config(_) => ErrorKind::Config,
            Error::NoAdjacentSeats => ErrorKind::NoAdjacentSeats,
            Error::BookingNotFound => ErrorKind::BookingNotFound,
            Error::SeatsNotInHold { .. } => ErrorKind::SeatsNotInHold,
            Error::BookingCancelled => ErrorKind::BookingCancelled,
        }
    }

    /// True for failures of the database rather than of the request.
    pub fn is_infrastructure(&self) -> bool {
        self.kind().is_infrastructure()
    }

    /// The input error inside, for `InvalidInput`.
    pub fn input(&self) -> Option<&InputError> {
        match self {
            Error::InvalidInput(e) => Some(e),
            _ => None,
        }
    }

    /// The taken seats, for `SeatsUnavailable`; empty otherwise.
    pub fn unavailable_seats(&self) -> &[String] {
        match self {
            Error::SeatsUnavailable { seat_ids } => seat_ids,
            _ => &[],
        }
    }

    /// The seats that are not in the hold, for `SeatsNotInHold`; empty otherwise.
    pub fn seats_not_in_hold(&self) -> &[String] {
        match self {
            Error::SeatsNotInHold { seat_ids } => seat_ids,
            _ => &[],
        }
    }
}

/// How the core reacts to a database error: the only place SQLSTATEs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbFailure {
    /// Deadlock or serialization failure: the statement was rolled back; run it again.
    Retry,
    /// The connection is gone, the server is shutting down or starting up, or it no longer
    /// takes writes (a primary demoted by a failover): the pool must connect afresh, and
    /// may find the new primary.
    Lost,
    /// Lock or statement timeout.
    Busy,
    /// A unique constraint said no.
    UniqueViolation,
    /// Anything else.
    Other,
}

pub(crate) fn classify(err: &postgres::Error) -> DbFailure {
    use postgres::error::SqlState;
    let Some(code) = err.code() else {
        // No SQLSTATE: an I/O or protocol failure, or the connection was closed.
        return DbFailure::Lost;
    };
    if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE {
        DbFailure::Retry
    } else if *code == SqlState::LOCK_NOT_AVAILABLE || *code == SqlState::QUERY_CANCELED {
        DbFailure::Busy
    } else if *code == SqlState::UNIQUE_VIOLATION {
        DbFailure::UniqueViolation
    } else if code.code().starts_with("08")
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::TOO_MANY_CONNECTIONS
        || *code == SqlState::READ_ONLY_SQL_TRANSACTION
    {
        DbFailure::Lost
    } else {
        DbFailure::Other
    }
}

/// Whether `err` is a lock wait that passed the lock timeout (the statement was rolled back,
/// having written nothing).
pub(crate) fn is_lock_timeout(err: &postgres::Error) -> bool {
    err.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}

/// A read that failed after it had handed part of its rows to the caller: it is not run
/// again (the caller would see those rows twice), whatever the failure.
#[derive(Debug)]
pub(crate) struct BrokeOff(pub(crate) postgres::Error);

impl fmt::Display for BrokeOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the read broke off after part of it was handed over: {}", self.0)
    }
}

impl std::error::Error for BrokeOff {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Error {
    /// This error, for a read that had handed over part of its rows: a failure that would
    /// be retried (a lost connection, a conflict with a standby's replay) becomes
    /// `Unavailable` and is not retried.
    pub(crate) fn broke_off(self) -> Error {
        let retried = |e: &postgres::Error| matches!(classify(e), DbFailure::Retry | DbFailure::Lost);
        match self {
            Error::Database(e) | Error::Busy(Some(e)) if retried(&e) => {
                Error::Unavailable(Box::new(BrokeOff(e)))
            }
            Error::Unavailable(source) => match source.downcast::<postgres::Error>() {
                Ok(e) => Error::Unavailable(Box::new(BrokeOff(*e))),
                Err(source) => Error::Unavailable(source),
            },
            other => other,
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(err: postgres::Error) -> Self {
        match classify(&err) {
            DbFailure::Lost => Error::Unavailable(Box::new(err)),
            DbFailure::Busy => Error::Busy(Some(err)),
            _ => Error::Database(err),
        }
    }
}

impl From<r2d2::Error> for Error {
    fn from(err: r2d2::Error) -> Self {
        Error::Unavailable(Box::new(err))
    }
}

/// The result type of seatcore.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_messages() {
        assert_eq!(InputError::NoSeats.to_string(), "seat_ids must contain at least one seat");
        assert_eq!(
            InputError::EmptySeatId { index: 3 }.to_string(),
            "seat_ids must not contain empty strings"
        );
        assert_eq!(InputError::EmptySeatId { index: 3 }.index(), Some(3));
        assert_eq!(InputError::DuplicateSeatIds.to_string(), "seat_ids must not contain duplicates");
        assert_eq!(InputError::DuplicateSeatIds.index(), None);
        // A reason is the variant's name in snake case, one-letter words and digits included.
        assert_eq!(InputError::DuplicateSeatIds.reason(), "duplicate_seat_ids");
        assert_eq!(InputError::SeatIdsNotAList.reason(), "seat_ids_not_a_list");
        assert_eq!(InputError::ShowIdUtf8.reason(), "show_id_utf8");
        assert_eq!(InputError::TooManySeats { max: 1 }.reason(), "too_many_seats");
        assert_eq!(Error::HoldInvalidated.to_string(), "hold invalidated (seat state mismatch)");
        assert_eq!(Error::ShowExists.to_string(), "show already exists");
        assert_eq!(Error::InvalidSeatIds.to_string(), "invalid seat ID(s)");
    }

    #[test]
    fn the_kind_table_is_dense_and_unique() {
        // Codes grow in the table's order; names and titles are unique.
        assert!(ErrorKind::ALL.windows(2).all(|w| w[0].code() < w[1].code()));
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), Some(*kind));
            assert!(kind.name().bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{kind:?}");
            assert!(kind.title().starts_with(|c: char| c.is_ascii_uppercase()), "{kind:?}");
            assert!(kind.description().ends_with('.'), "{kind:?}");
        }
        let names: std::collections::HashSet<_> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        let titles: std::collections::HashSet<_> = ErrorKind::ALL.iter().map(|k| k.title()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        assert_eq!(titles.len(), ErrorKind::ALL.len());
        assert_eq!(ErrorKind::from_code(0), None);
        assert_eq!(ErrorKind::from_code(ErrorKind::ALL.last().unwrap().code() + 1), None);
    }

    #[test]
    fn kinds_are_stable() {
        assert_eq!(Error::ShowNotFound.kind().code(), 1);
        assert_eq!(Error::SeatsUnavailable { seat_ids: vec![] }.kind().code(), 4);
        assert_eq!(Error::InvalidInput(InputError::NoSeats).kind().code(), 8);
        assert_eq!(Error::Config("x".into()).kind().code(), 13);
        assert_eq!(Error::BookingNotFound.kind().code(), 14);
        assert_eq!(Error::SeatsNotInHold { seat_ids: vec![] }.kind().code(), 15);
        assert_eq!(Error::BookingCancelled.kind().code(), 16);
        assert_eq!(ErrorKind::Busy.name(), "BUSY");
        assert_eq!(ErrorKind::Busy.title(), "DatabaseBusy");
        assert!(!Error::HoldExpired.is_infrastructure());
        assert!(!Error::Config("x".into()).is_infrastructure());
        assert!(ErrorKind::Unavailable.is_infrastructure());
    }
}
