"""The exceptions seatcore raises, all under :class:`SeatcoreError`.

Each class also derives from the builtin a Python user would reach for: lookups that find
nothing are :class:`LookupError`, bad input is :class:`ValueError`, an unreachable database
is :class:`ConnectionError`, a database that timed out is :class:`TimeoutError`.

Each class is named after one of the core's error kinds (its title plus ``Error``) and its
``code`` is that kind's stable number, both taken from the core's table when this module is
imported: a kind without a class here fails the import.
"""

from __future__ import annotations

from typing import ClassVar, Iterable, Optional, Tuple

from . import _seatcore


class SeatcoreError(Exception):
    """Base class of every error seatcore raises."""

    #: The core's stable number of the error's kind (set from the core's table below).
    code: ClassVar[int] = 0


class ShowNotFoundError(SeatcoreError, LookupError):
    """No show has this id."""


class ShowExistsError(SeatcoreError):
    """A show with this id was initialized before; its seat map is unchanged."""


class InvalidSeatIdsError(SeatcoreError, LookupError):
    """At least one requested seat id is not on the show's seat map."""


class SeatsUnavailableError(SeatcoreError):
    """Some requested seats are held or booked by someone else; nothing was held.

    ``seat_ids`` holds the unavailable seats, in seat-map order.
    """

    #: The seats that were unavailable, in seat-map order.
    seat_ids: Tuple[str, ...]

    def __init__(self, message: str, seat_ids: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.seat_ids = tuple(seat_ids)


class HoldNotFoundError(SeatcoreError, LookupError):
    """No live hold of this show has this id (never made, released, booked, swept or not
    a UUID)."""


class HoldExpiredError(SeatcoreError):
    """The hold's time ran out (by the database's clock); hold the seats again."""


class HoldInvalidatedError(SeatcoreError):
    """The hold's seats no longer carry it (an administrative reset ran)."""


class InvalidInputError(SeatcoreError, ValueError):
    """An argument broke an input rule; nothing was written.

    ``index`` is the position in ``seat_ids`` the error is about (or ``None``);
    ``reason`` a short stable name such as ``"duplicate_seat_ids"`` or ``"no_seats"``.
    """

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


class DatabaseError(SeatcoreError):
    """The database failed (rather than the request); the base of the two below."""


class DatabaseBusyError(DatabaseError, TimeoutError):
    """The database could not serve in time (lock or statement timeout); retry later."""


class DatabaseUnavailableError(DatabaseError, ConnectionError):
    """The database cannot be reached, or no pooled connection came free in time."""


class ConfigError(SeatcoreError, ValueError):
    """The configuration cannot work: a malformed database URL, a bad ``sslmode``, an
    unreadable certificate, an option out of its range. Retrying changes nothing; the
    message says what to fix."""


class NoAdjacentSeatsError(SeatcoreError):
    """No row has that many free seats side by side matching the filters (or a filter
    names a category or section the show does not have); nothing was held."""


# ---- the hold lifecycle ----


class BookingNotFoundError(SeatcoreError, LookupError):
    """No booking of this show has this id (never made, another show's, or not a UUID)."""


class SeatsNotInHoldError(SeatcoreError, LookupError):
    """Some seats to release are not in the hold; nothing was released.

    ``seat_ids`` holds the asked seats the hold does not have, in request order.
    """

    #: The asked seats the hold does not have, in request order.
    seat_ids: Tuple[str, ...]

    def __init__(self, message: str, seat_ids: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.seat_ids = tuple(seat_ids)


class BookingCancelledError(SeatcoreError):
    """The hold was booked and the booking cancelled: its seats are free again, and booking
    the hold again does not take them back; hold them anew."""


def _take_codes_from_the_core() -> None:
    for name, code in _seatcore._EXCEPTION_CODES.items():
        cls = globals().get(name)
        if not (isinstance(cls, type) and issubclass(cls, SeatcoreError)):
            raise ImportError(f"seatcore.exceptions has no class {name} for the core's error kind {code}")
        cls.code = code


_take_codes_from_the_core()
