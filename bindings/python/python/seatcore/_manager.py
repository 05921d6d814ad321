"""``DatabaseManager``: the old backend's class, method for method, on :class:`SeatCore`.

Every method returns the plain values of the contract's table (tuples, dicts, lists, str,
int, bool, None) and never raises for a database failure: that becomes the method's
failure shape with ``{"error": "internal error: ..."}``. Wrong argument *types* (``None``
for a list, an int for a show id, ...) raise ``TypeError``, as any Python API does.
"""

from __future__ import annotations

import math
import operator
import re
from typing import Any, Dict, Optional, Sequence, Tuple, Union

from ._seatcore import SeatCore
from .exceptions import (
    HoldExpiredError,
    HoldInvalidatedError,
    HoldNotFoundError,
    InvalidInputError,
    InvalidSeatIdsError,
    SeatcoreError,
    SeatsUnavailableError,
    ShowExistsError,
    ShowNotFoundError,
)

__all__ = ["DatabaseManager", "Engine"]

# SQLAlchemy URLs name a driver (postgresql+psycopg2://); the native client needs none.
_DRIVER = re.compile(r"^(postgres(?:ql)?)\+[A-Za-z0-9_]+://")


def _native_url(database_url: str) -> str:
    if not isinstance(database_url, str):
        raise TypeError(f"database_url must be a str, not {type(database_url).__name__}")
    return _DRIVER.sub(r"\1://", database_url, count=1)


def _internal(err: SeatcoreError) -> Dict[str, Any]:
    return {"error": f"internal error: {err}"}


def _input_failure(err: InvalidInputError) -> Dict[str, Any]:
    failure: Dict[str, Any] = {"error": str(err)}
    if err.index is not None:
        failure["details"] = {"index": err.index}
    return failure


class Engine:
    """Stands in for the old class's SQLAlchemy ``engine`` attribute.

    Only ``dispose()`` is provided: it closes every pooled connection. As with SQLAlchemy,
    the manager stays usable afterwards: its next call opens a fresh pool.
    """

    def __init__(self, core: SeatCore) -> None:
        self._core = core

    def dispose(self) -> None:
        """Closes every pooled connection; the next call opens a new pool."""
        self._core.dispose()


class DatabaseManager:
    """The old backend's ``DatabaseManager``, backed by seatcore.

    ``DatabaseManager(database_url)`` connects, creating the schema if it is missing.
    ``database_url`` is a PostgreSQL URL; a SQLAlchemy driver suffix
    (``postgresql+psycopg2://``) is accepted and ignored. Keyword ``options`` are passed
    to :class:`seatcore.SeatCore` (``pool_size``, ``lock_timeout``, ...).

    One manager is meant to be shared by every thread of a process; the GIL is released
    while a call waits on the database.
    """

    #: The engine stand-in; ``engine.dispose()`` closes the pool.
    engine: Engine

    def __init__(self, database_url: str, **options: Any) -> None:
        self._core = SeatCore(_native_url(database_url), **options)
        self.engine = Engine(self._core)

    @property
    def core(self) -> SeatCore:
        """The :class:`seatcore.SeatCore` behind this manager, for the idiomatic API."""
        return self._core

    def initialize_show(self, show_id: str, seat_ids: Sequence[str]) -> Tuple[bool, str]:
        """Creates a show with its seat map.

        Returns ``(True, "show initialized with N seats")``, ``(False, "show already
        exists")``, or ``(False, <validation message>)`` for bad seat ids.
        """
        try:
            count = self._core.initialize_show(show_id, seat_ids)
        except ShowExistsError as err:
            return False, str(err)
        except InvalidInputError as err:
            return False, str(err)
        except SeatcoreError as err:
            return False, _internal(err)["error"]
        return True, f"show initialized with {count} seats"

    def hold_seats(
        self,
        show_id: str,
        seat_ids: Sequence[str],
        hold_duration_sec: Union[int, float] = 600,
    ) -> Tuple[bool, Dict[str, Any]]:
        """Holds seats for ``hold_duration_sec`` seconds (not clamped), all or none.

        Returns ``(True, {"hold_id", "expires_at", "seat_ids"})`` or ``(False, {"error":
        ...})`` with ``"show not found"``, ``"invalid seat ID(s)"``, ``"duplicate seats in
        request"``, or ``"seats unavailable"`` plus ``"unavailable_seats"``. A duration
        the core does not accept (below 1 s, above one day) or other bad input gives
        ``(False, {"error": <message>})``.
        """
        seconds = _whole_seconds(hold_duration_sec)
        try:
            hold = self._core.hold(show_id, seat_ids, seconds)
        except SeatsUnavailableError as err:
            return False, {"error": "seats unavailable", "unavailable_seats": list(err.seat_ids)}
        except (ShowNotFoundError, InvalidSeatIdsError) as err:
            return False, {"error": str(err)}
        except InvalidInputError as err:
            if err.reason == "duplicate_seat_ids":
                return False, {"error": "duplicate seats in request"}
            return False, _input_failure(err)
        except SeatcoreError as err:
            return False, _internal(err)
        return True, hold.to_dict()

    def book_hold(self, show_id: str, hold_id: str) -> Tuple[bool, Dict[str, Any]]:
        """Books a live hold; booking it again returns the same booking.

        Returns ``(True, {"booking_id", "seat_ids", "booked_at"})`` or ``(False, {"error":
        ...})`` with ``"hold not found or expired"``, ``"hold expired"`` or ``"hold
        invalidated (seat state mismatch)"``.
        """
        try:
            booking = self._core.book(show_id, hold_id)
        except HoldNotFoundError:
            return False, {"error": "hold not found or expired"}
        except (HoldExpiredError, HoldInvalidatedError) as err:
            return False, {"error": str(err)}
        except InvalidInputError as err:
            return False, _input_failure(err)
        except SeatcoreError as err:
            return False, _internal(err)
        return True, booking.to_dict()

    def release_hold(self, show_id: str, hold_id: str) -> bool:
        """Releases a live hold. Returns True, or False when there is no such live hold
        (or the database failed)."""
        try:
            self._core.release(show_id, hold_id)
        except SeatcoreError:
            return False
        return True

    def cleanup_expired_holds(self) -> int:
        """Deletes expired holds; returns how many (0 when the database failed)."""
        try:
            return self._core.sweep_expired()
        except SeatcoreError:
            return 0

    def get_seat_status(self, show_id: str) -> Optional[Dict[str, Any]]:
        """The dict of ``GET /shows/<id>/seats``, or None for an unknown show (or when the
        database failed)."""
        try:
            return self._core.seat_status(show_id).to_dict()
        except SeatcoreError:
            return None

    def health_check(self) -> Dict[str, Any]:
        """``{"status": "healthy", "database": "connected", "shows": N}``, or
        ``{"status": "unhealthy", "database": "disconnected", "error": ...}``."""
        try:
            shows = self._core.health()
        except SeatcoreError as err:
            return {"status": "unhealthy", "database": "disconnected", "error": str(err)}
        return {"status": "healthy", "database": "connected", "shows": shows}

    def reset_all_seats(self) -> Tuple[bool, Dict[str, Any]]:
        """Clears every hold and booking. Returns ``(True, {"holds_cleared",
        "bookings_cleared", "seats_reset"})`` or ``(False, {"error": ...})``."""
        try:
            counts = self._core.reset_all()
        except SeatcoreError as err:
            return False, _internal(err)
        return True, counts.to_dict()


def _whole_seconds(value: Union[int, float]) -> int:
    """The old class passed the duration to ``timedelta(seconds=...)``: ints and floats
    both worked. Floats are truncated here; other non-integers are a TypeError."""
    if isinstance(value, bool):
        raise TypeError("hold_duration_sec must be an int, not bool")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"hold_duration_sec must be a finite number, not {value}")
        return int(value)
    try:
        return operator.index(value)  # int, and int-likes such as numpy integers
    except TypeError:
        raise TypeError(f"hold_duration_sec must be an int, not {type(value).__name__}") from None
