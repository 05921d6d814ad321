//! The one error type of seatcore, and the one place database errors are classified.

use std::fmt;

/// What went wrong with a caller's input. Nothing was written.
///
/// The `Display` text is the message a client sees; where the REST contract fixes a
/// message, this is that message.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl InputError {
    /// The position in the seat list this error is about, if any.
    pub fn index(&self) -> Option<usize> {
        match self {
            InputError::EmptySeatId { index }
            | InputError::SeatIdTooLong { index, .. }
            | InputError::SeatIdControlChar { index } => Some(*index),
            _ => None,
        }
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
            InputError::RequestKey { max } => write!(
                f,
                "request key must be 1 to {max} characters without control characters"
            ),
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
}

/// A stable code for each kind of failure, for bindings to map into their world.
///
/// The numbers are part of the C ABI: they never change and are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u32)]
pub enum ErrorKind {
    ShowNotFound = 1,
    ShowExists = 2,
    InvalidSeatIds = 3,
    SeatsUnavailable = 4,
    HoldNotFound = 5,
    HoldExpired = 6,
    HoldInvalidated = 7,
    InvalidInput = 8,
    RequestKeyReused = 9,
    Busy = 10,
    Unavailable = 11,
    Database = 12,
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
        }
    }

    /// True for failures of the database rather than of the request.
    pub fn is_infrastructure(&self) -> bool {
        matches!(self.kind(), ErrorKind::Busy | ErrorKind::Unavailable | ErrorKind::Database)
    }
}

/// How the core reacts to a database error: the only place SQLSTATEs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbFailure {
    /// Deadlock or serialization failure: the statement was rolled back; run it again.
    Retry,
    /// The connection is gone or the server is shutting down / starting up.
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
    {
        DbFailure::Lost
    } else {
        DbFailure::Other
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
        assert_eq!(Error::HoldInvalidated.to_string(), "hold invalidated (seat state mismatch)");
        assert_eq!(Error::ShowExists.to_string(), "show already exists");
        assert_eq!(Error::InvalidSeatIds.to_string(), "invalid seat ID(s)");
    }

    #[test]
    fn kinds_are_stable() {
        assert_eq!(Error::ShowNotFound.kind() as u32, 1);
        assert_eq!(Error::SeatsUnavailable { seat_ids: vec![] }.kind() as u32, 4);
        assert_eq!(Error::InvalidInput(InputError::NoSeats).kind() as u32, 8);
        assert!(!Error::HoldExpired.is_infrastructure());
    }
}
