"""``DatabaseManager``: the old backend's class, method for method, on :class:`SeatCore`.

This module keeps the old class's Python shape (constructor, method signatures and
defaults, the ``engine`` attribute; a plain class, so it can be subclassed and patched).
Every value the methods return is the core's, computed by the native ``_Manager``: success
values are the serde shapes of the core's results, failures the core's failure values of
the contract. A database failure never raises: it becomes the method's failure shape with
``{"error": "internal error: ..."}``. Wrong argument *types* (``None`` for a list, an int
for a show id, ...) raise ``TypeError``, as any Python API does.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

from ._seatcore import SeatCore, _Manager

__all__ = ["DatabaseManager", "Engine"]

# SQLAlchemy URLs name a driver (postgresql+psycopg2://); the native client needs none.
_DRIVER = re.compile(r"^(postgres(?:ql)?)\+[A-Za-z0-9_]+://")


def _native_url(database_url: str) -> str:
    if not isinstance(database_url, str):
        raise TypeError(f"database_url must be a str, not {type(database_url).__name__}")
    return _DRIVER.sub(r"\1://", database_url, count=1)


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
    (``postgresql+psycopg2://``) is accepted and ignored, as in ``read_url``. Several hosts
    (``postgresql://h1:5432,h2:5432/db``) reach the one that takes writes. Keyword
    ``options`` are passed to :class:`seatcore.SeatCore` (``pool_size``, ``lock_timeout``,
    ``read_url``, ...).

    One manager is meant to be shared by every thread of a process; the GIL is released
    while a call waits on the database. A manager made before ``fork()`` works in the
    child, on connections the child opens (see the README's "Processes and fork").
    """

    #: The engine stand-in; ``engine.dispose()`` closes the pool.
    engine: Engine

    def __init__(self, database_url: str, **options: Any) -> None:
        if isinstance(options.get("read_url"), str):
            options["read_url"] = _native_url(options["read_url"])
        self._values = _Manager(SeatCore(_native_url(database_url), **options))
        self.engine = Engine(self._values.core)

    @property
    def core(self) -> SeatCore:
        """The :class:`seatcore.SeatCore` behind this manager, for the idiomatic API."""
        return self._values.core

    def initialize_show(self, show_id: str, seat_ids: Sequence[str]) -> Tuple[bool, str]:
        """Creates a show with its seat map.

        Returns ``(True, "show initialized with N seats")``, ``(False, "show already
        exists")``, or ``(False, <validation message>)`` for bad seat ids.
        """
        return self._values.initialize_show(show_id, seat_ids)

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
        ``(False, {"error": <message>})``. A float is cut to its whole seconds, as the old
        class's ``timedelta(seconds=...)`` took it.
        """
        return self._values.hold_seats(show_id, seat_ids, hold_duration_sec)

    def book_hold(self, show_id: str, hold_id: str) -> Tuple[bool, Dict[str, Any]]:
        """Books a live hold; booking it again returns the same booking.

        Returns ``(True, {"booking_id", "seat_ids", "booked_at"})`` or ``(False, {"error":
        ...})`` with ``"hold not found or expired"``, ``"hold expired"``, ``"hold
        invalidated (seat state mismatch)"`` or ``"booking cancelled"`` (the booking was
        cancelled since).
        """
        return self._values.book_hold(show_id, hold_id)

    def release_hold(self, show_id: str, hold_id: str) -> bool:
        """Releases a live hold. Returns True, or False when there is no such live hold
        (or the database failed)."""
        return self._values.release_hold(show_id, hold_id)

    def cleanup_expired_holds(self) -> int:
        """Deletes expired holds; returns how many (0 when the database failed)."""
        return self._values.cleanup_expired_holds()

    def get_seat_status(self, show_id: str) -> Optional[Dict[str, Any]]:
        """The dict of ``GET /shows/<id>/seats``, or None for an unknown show (or when the
        database failed)."""
        return self._values.get_seat_status(show_id)

    def get_history(
        self,
        show_id: str,
        after: int = 0,
        seat_id: Optional[str] = None,
        limit: int = 100,
    ) -> Tuple[bool, Dict[str, Any]]:
        """A page of the show's change log, oldest first: the changes after change id
        ``after``, only those about ``seat_id`` when given, at most ``limit`` (1 to 1000),
        and fewer once they name ``seatcore.MAX_CHANGE_PAGE_SEATS`` (10,000) seats (a change is
        never split).

        Returns ``(True, {"changes": [...], "next": id})`` (the document of ``GET
        /shows/<id>/history``; pass ``next`` as ``after`` for the following page) or
        ``(False, {"error": ...})`` with ``"show not found"`` or the message of a bad
        ``after``, ``limit`` or ``seat_id``.
        """
        return self._values.get_history(show_id, after, seat_id, limit)

    def health_check(self) -> Dict[str, Any]:
        """``{"status": "healthy", "database": "connected", "shows": N}``, or
        ``{"status": "unhealthy", "database": "disconnected", "error": ...}``."""
        return self._values.health_check()

    def reset_all_seats(self) -> Tuple[bool, Dict[str, Any]]:
        """Clears every hold and booking. Returns ``(True, {"holds_cleared",
        "bookings_cleared", "seats_reset"})`` or ``(False, {"error": ...})``."""
        return self._values.reset_all_seats()

    # Beyond the old class: seat maps, blocked seats and best-available holds, in its style.

    def initialize_seat_map(
        self, show_id: str, seats: Sequence[Union[str, Mapping[str, Any]]]
    ) -> Tuple[bool, str]:
        """Creates a show with a structured seat map: each seat a seat id (``"A12"``: row
        A, position 12) or a dict with ``seat_id`` and any of ``section``, ``row``,
        ``position``, ``category``, ``accessible``, ``rank``.

        Returns ``(True, "show initialized with N seats")``, ``(False, "show already
        exists")``, or ``(False, <validation message>)`` naming the seat's index.
        """
        return self._values.initialize_seat_map(show_id, seats)

    def get_seat_map(self, show_id: str) -> Optional[Dict[str, Any]]:
        """The dict of ``GET /shows/<id>/map`` (``{"show_id", "seats": [...]}``), or None
        for an unknown show (or when the database failed)."""
        return self._values.get_seat_map(show_id)

    def block_seats(
        self, show_id: str, seat_ids: Sequence[str], reason: Optional[str] = None
    ) -> Tuple[bool, Dict[str, Any]]:
        """Blocks seats, all or none. Returns ``(True, {"blocked": [...]})`` (the seats
        named) or ``(False, {"error": ...})``, with ``"unavailable_seats"``
        when some are held or booked."""
        return self._values.block_seats(show_id, seat_ids, reason)

    def unblock_seats(self, show_id: str, seat_ids: Sequence[str]) -> Tuple[bool, Dict[str, Any]]:
        """Unblocks seats, all or none. Returns ``(True, {"unblocked": [...]})`` or
        ``(False, {"error": ...})``."""
        return self._values.unblock_seats(show_id, seat_ids)

    def hold_best_seats(
        self,
        show_id: str,
        count: int,
        hold_duration_sec: Union[int, float] = 600,
        category: Optional[str] = None,
        section: Optional[str] = None,
        accessible: Optional[bool] = None,
    ) -> Tuple[bool, Dict[str, Any]]:
        """Holds the best ``count`` seats side by side in one row matching the filters
        (no lone seat left when avoidable, then the lowest rank sum).

        Returns ``(True, {"hold_id", "expires_at", "seat_ids"})`` or ``(False, {"error":
        ...})`` with ``"no adjacent seats available"`` when no block matches.
        """
        return self._values.hold_best_seats(
            show_id, count, hold_duration_sec, category, section, accessible
        )
    # ---- the hold lifecycle (not in the old class) ----

    def extend_hold(
        self,
        show_id: str,
        hold_id: str,
        hold_duration_sec: Union[int, float] = 600,
    ) -> Tuple[bool, Dict[str, Any]]:
        """Gives a live hold a new expiry, ``hold_duration_sec`` seconds from now (not
        clamped; the core takes 1 s to one day), never later than its creation plus the
        maximum hold life (``max_hold_life``, default 3600 s).

        Returns ``(True, {"hold_id", "expires_at", "seat_ids"})`` or ``(False, {"error":
        "hold not found or expired"})`` for a hold that is unknown, expired, released or
        booked; ``(False, {"error": <message>})`` for bad input.
        """
        return self._values.extend_hold(show_id, hold_id, hold_duration_sec)

    def release_seats(
        self, show_id: str, hold_id: str, seat_ids: Sequence[str]
    ) -> Tuple[bool, Dict[str, Any]]:
        """Releases some seats of a live hold; the hold keeps the rest (releasing every
        seat releases the hold).

        Returns ``(True, {"message": "seats released", "seat_ids", "remaining_seat_ids"})``,
        ``(False, {"error": "hold not found"})``, ``(False, {"error": "seats not in hold",
        "seat_ids": [...]})`` (nothing released) or ``(False, {"error": <message>})`` for
        bad seat ids.
        """
        return self._values.release_seats(show_id, hold_id, seat_ids)

    def cancel_booking(self, show_id: str, booking_id: str) -> Tuple[bool, Dict[str, Any]]:
        """Cancels a booking: its seats become available; the booking is kept, marked
        cancelled, and booking its hold again gives ``(False, {"error": "booking
        cancelled"})``.

        Returns ``(True, {"message": "booking cancelled", "seat_ids"})`` (again for a
        booking cancelled before) or ``(False, {"error": "booking not found"})``.
        """
        return self._values.cancel_booking(show_id, booking_id)
