"""seatcore: seat holds, bookings and releases for movie shows, locked in PostgreSQL.

Two ways in:

* :class:`DatabaseManager`, a drop-in for the old backend's class: same methods, same
  plain-value results (tuples, dicts, lists, str, int, None).
* :class:`SeatCore`, the idiomatic API: typed, immutable results (:class:`Hold`,
  :class:`Booking`, :class:`ShowStatus`, ...) and exceptions under :class:`SeatcoreError`,
  the invariant audit (:meth:`SeatCore.audit`), the change log (:meth:`SeatCore.history`
  pages of :class:`Change` records, :meth:`SeatCore.changes` a :class:`ChangeStream` of
  them as they happen) and the REST contract for Python web apps
  (:meth:`SeatCore.handle_rest`, routed by :data:`REST_ENDPOINTS`, and
  :meth:`SeatCore.open_events` for the event stream). The hold lifecycle:
  :meth:`SeatCore.extend`, :meth:`SeatCore.release_seats` (:class:`SeatsReleased`) and
  :meth:`SeatCore.cancel_booking` (:class:`Cancellation`).

For asyncio, :mod:`seatcore.aio` has :class:`SeatCore`'s methods as coroutines.

Both are safe to share between threads; database calls release the GIL. Both may be made
before ``fork()`` (``multiprocessing``, ``gunicorn --preload``): a child opens connections of
its own on its first call and never touches the parent's.
"""

from ._manager import DatabaseManager, Engine
from ._seatcore import *  # noqa: F403 (the native module's public names: its __all__)
from ._seatcore import __all__ as __all__  # (this form: type checkers read it as the list's start)
from .exceptions import (
    BookingCancelledError,
    BookingNotFoundError,
    ConfigError,
    DatabaseBusyError,
    DatabaseError,
    DatabaseUnavailableError,
    HoldExpiredError,
    HoldInvalidatedError,
    HoldNotFoundError,
    InvalidInputError,
    InvalidSeatIdsError,
    NoAdjacentSeatsError,
    RequestKeyReusedError,
    SeatcoreError,
    SeatsNotInHoldError,
    SeatsUnavailableError,
    ShowExistsError,
    ShowNotFoundError,
)

# The package's own names, then the native module's public names.
__all__ = [
    "DatabaseManager",
    "Engine",
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
    "ConfigError",
    "NoAdjacentSeatsError",
    "BookingNotFoundError",
    "SeatsNotInHoldError",
    "BookingCancelledError",
    *__all__,
]
