"""The exceptions seatcore raises, all under :class:`SeatcoreError`.

Each class also derives from the builtin a Python user would reach for: lookups that find
nothing are :class:`LookupError`, bad input is :class:`ValueError`, an unreachable database
is :class:`ConnectionError`, a database that timed out is :class:`TimeoutError`.

The native module picks the class for each of the core's error kinds (in
``bindings/python/src/error.rs``); ``code`` is that kind's stable number.
"""

from __future__ import annotations

from typing import ClassVar, Iterable, Optional, Tuple

__all__ = [
    "SeatcoreError",
    "ShowNotFoundError",
    "ShowExistsError",
    "InvalidSeatIdsError",
    "SeatsUnavailableError",
    "HoldNotFoundError",
    "HoldExpiredError",
    "HoldInvalidatedError",
    "InvalidInputError",
    "RequestKeyReusedError",
    "DatabaseError",
    "DatabaseBusyError",
    "DatabaseUnavailableError",
]


class SeatcoreError(Exception):
    """Base class of every error seatcore raises."""

    #: The core's stable error-kind number (0 for a kind this package does not know yet).
    code: ClassVar[int] = 0


class ShowNotFoundError(SeatcoreError, LookupError):
    """No show has this id."""

    code: ClassVar[int] = 1


class ShowExistsError(SeatcoreError):
    """A show with this id was initialized before; its seat map is unchanged."""

    code: ClassVar[int] = 2


class InvalidSeatIdsError(SeatcoreError, LookupError):
    """At least one requested seat id is not on the show's seat map."""

    code: ClassVar[int] = 3


class SeatsUnavailableError(SeatcoreError):
    """Some requested seats are held or booked by someone else; nothing was held.

    ``seat_ids`` holds the unavailable seats, in seat-map order.
    """

    code: ClassVar[int] = 4

    #: The seats that were unavailable, in seat-map order.
    seat_ids: Tuple[str, ...]

    def __init__(self, message: str, seat_ids: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.seat_ids = tuple(seat_ids)


class HoldNotFoundError(SeatcoreError, LookupError):
    """No live hold of this show has this id (never made, released, booked, swept or not
    a UUID)."""

    code: ClassVar[int] = 5


class HoldExpiredError(SeatcoreError):
    """The hold's time ran out (by the database's clock); hold the seats again."""

    code: ClassVar[int] = 6


class HoldInvalidatedError(SeatcoreError):
    """The hold's seats no longer carry it (an administrative reset ran)."""

    code: ClassVar[int] = 7


class InvalidInputError(SeatcoreError, ValueError):
    """An argument broke an input rule; nothing was written.

    ``index`` is the position in ``seat_ids`` the error is about (or ``None``);
    ``reason`` a short stable name such as ``"duplicate_seat_ids"`` or ``"no_seats"``.
    """

    code: ClassVar[int] = 8

    #: The position in ``seat_ids`` this error is about, if any.
    index: Optional[int]
    #: A short stable name of the broken rule.
    reason: str

    def __init__(self, message: str, index: Optional[int] = None, reason: str = "invalid_input") -> None:
        super().__init__(message)
        self.index = index
        self.reason = reason


class RequestKeyReusedError(SeatcoreError, ValueError):
    """The request key was used before for a different hold request of this show."""

    code: ClassVar[int] = 9


class DatabaseError(SeatcoreError):
    """The database failed (rather than the request); the base of the two below."""

    code: ClassVar[int] = 12


class DatabaseBusyError(DatabaseError, TimeoutError):
    """The database could not serve in time (lock or statement timeout); retry later."""

    code: ClassVar[int] = 10


class DatabaseUnavailableError(DatabaseError, ConnectionError):
    """The database cannot be reached, or no pooled connection came free in time."""

    code: ClassVar[int] = 11
