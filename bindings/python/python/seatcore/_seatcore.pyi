"""Type stubs for ``seatcore._seatcore``, the native module (kept honest by mypy.stubtest)."""

import datetime
import uuid
from types import TracebackType
from typing import (
    Any,
    Dict,
    Final,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
    final,
    type_check_only,
)

__all__ = [
    "SeatCore",
    "Hold",
    "Booking",
    "Seat",
    "ShowStatus",
    "ResetCounts",
    "Audit",
    "Stats",
    "MapSeat",
    "SeatsReleased",
    "Cancellation",
    "Change",
    "ChangePage",
    "ChangeStream",
    "REST_ENDPOINTS",
    "EVENTS_ENDPOINT",
    "MAX_SEATS_PER_HOLD",
    "MAX_SEATS_PER_SHOW",
    "MIN_HOLD_SECONDS",
    "MAX_HOLD_SECONDS",
    "MAX_REPORTED_PROBLEMS",
    "MAX_BEST_COUNT",
    "MAX_CHANGE_PAGE",
    "MAX_CHANGE_PAGE_SEATS",
]

MAX_SEATS_PER_HOLD: int
MAX_SEATS_PER_SHOW: int
MIN_HOLD_SECONDS: int
MAX_HOLD_SECONDS: int
MAX_REPORTED_PROBLEMS: int
MAX_BEST_COUNT: int
#: A seat of ``SeatCore.initialize_map``: a seat id, or a dict with ``seat_id`` and any of
#: ``section``, ``row``, ``position``, ``category``, ``accessible``, ``rank``.
_MapSeatInput = Union[str, Mapping[str, Union[str, int, float, bool, None]]]


#: Most changes one history page may carry (``SeatCore.history``'s ``limit``).
MAX_CHANGE_PAGE: int
#: Seat ids after which a history page ends, whatever its ``limit`` (a change is never
#: split: a page always carries at least one).
MAX_CHANGE_PAGE_SEATS: int
#: The endpoints ``SeatCore.handle_rest`` answers (every endpoint of the REST contract but
#: the live event stream) as ``(method, path template)``, e.g.
#: ``("POST", "/shows/{show_id}/hold")``.
REST_ENDPOINTS: Tuple[Tuple[str, str], ...]
#: The live event stream's endpoint, ``("GET", "/shows/{show_id}/events")``, which
#: ``SeatCore.open_events`` opens.
EVENTS_ENDPOINT: Tuple[str, str]
#: Each exception class name (``ShowNotFoundError``, ...) with its kind's code.
_EXCEPTION_CODES: Dict[str, int]
#: ``SeatCore``'s keyword defaults, from the core's ``Options::DEFAULT``.
_DEFAULT_OPTIONS: Dict[str, Union[int, float, bool, None]]

_Self = TypeVar("_Self")

# Bases that exist in these stubs only (each runtime class defines its members itself).

@type_check_only
class _Value:
    """A result compared by value."""

    def __eq__(self, other: object, /) -> bool: ...

@type_check_only
class _HashableValue(_Value):
    """A result compared by value, and hashable."""

    def __hash__(self) -> int: ...

@type_check_only
class _SeatsOfShow:
    """A result about some seats of one show."""

    show_id: Final[str]
    seat_ids: Final[Tuple[str, ...]]

@type_check_only
class _SeatsResult(_SeatsOfShow):
    """A result about some seats of one show, whose ``to_dict()`` is the contract's object
    of text and seat id lists."""

    def to_dict(self) -> Dict[str, Union[str, List[str]]]: ...

@type_check_only
class _ClosedOnExit:
    """Closed on leaving a ``with`` block."""

    def __enter__(self: _Self) -> _Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class Hold(_SeatsResult, _HashableValue):
    """A granted hold: the seats are the caller's until ``expires_at``."""

    hold_id: Final[uuid.UUID]
    expires_at: Final[datetime.datetime]

@final
class Booking(_SeatsResult, _HashableValue):
    """A confirmed booking; ``booking_id`` equals the hold's id."""

    booking_id: Final[uuid.UUID]
    booked_at: Final[datetime.datetime]

@final
class Seat(_HashableValue):
    """One seat of a status read."""

    seat_id: Final[str]
    status: Final[str]
    hold_expires_at: Final[Optional[datetime.datetime]]

@final
class ShowStatus:
    """A show's status at one moment."""

    show_id: Final[str]
    total_seats: Final[int]
    available_seats: Final[int]
    held_seats: Final[int]
    booked_seats: Final[int]
    blocked_seats: Final[int]
    invariants_valid: Final[bool]
    version: Final[int]
    replayed_at: Final[Optional[datetime.datetime]]
    seats: Final[Tuple[Seat, ...]]
    def to_dict(self) -> Dict[str, Any]: ...
    def __len__(self) -> int: ...

@final
class ResetCounts(_HashableValue):
    """What an administrative reset cleared."""

    holds_cleared: Final[int]
    bookings_cleared: Final[int]
    seats_reset: Final[int]
    def to_dict(self) -> Dict[str, int]: ...

@final
class Audit(_Value):
    """What the invariant audit found; ``ok`` exactly when ``problems`` is empty."""

    ok: Final[bool]
    problem_count: Final[int]
    problems: Final[Tuple[str, ...]]
    shows: Final[int]
    seats: Final[int]
    held: Final[int]
    booked: Final[int]
    def to_dict(self) -> Dict[str, Any]: ...

@final
class Stats:
    """Counters since the pool was opened, and the pool's state."""

    holds_granted: Final[int]
    holds_refused: Final[int]
    bookings: Final[int]
    releases: Final[int]
    holds_expired_swept: Final[int]
    pool_connections: Final[int]
    pool_idle: Final[int]
    pool_max: Final[int]
    hold_groups: Final[Tuple[int, ...]]

@final
class MapSeat(_Value):
    """One seat of a show's map, every field settled."""

    seat_id: Final[str]
    section: Final[str]
    row: Final[Optional[str]]
    position: Final[Optional[int]]
    category: Final[str]
    accessible: Final[bool]
    rank: Final[float]
    def to_dict(self) -> Dict[str, Any]: ...

# ---- the hold lifecycle ----

@final
class SeatsReleased(_SeatsResult, _Value):
    """What a partial release did: the seats released, and those the hold keeps."""

    hold_id: Final[uuid.UUID]
    remaining_seat_ids: Final[Tuple[str, ...]]

@final
class Cancellation(_SeatsResult, _HashableValue):
    """A cancelled booking: kept, marked cancelled; its seats are available."""

    booking_id: Final[uuid.UUID]
    cancelled_at: Final[datetime.datetime]

@final
class Change(_SeatsOfShow, _HashableValue):
    """One record of a show's change log: what happened to which seats, and when."""

    id: Final[int]
    at: Final[datetime.datetime]
    kind: Final[str]
    hold_id: Final[Optional[uuid.UUID]]
    booking_id: Final[Optional[uuid.UUID]]
    expires_at: Final[Optional[datetime.datetime]]
    def to_dict(self) -> Dict[str, Union[int, str, List[str]]]: ...
    def to_event(self) -> str: ...

@final
class ChangePage:
    """A page of a show's history, oldest first, and where the next page starts."""

    changes: Final[Tuple[Change, ...]]
    next: Final[int]
    def to_dict(self) -> Dict[str, Any]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Change]: ...

@final
class ChangeStream(_ClosedOnExit):
    """An iterator of one show's changes, in id order, each once; waits with the GIL released."""

    def __iter__(self) -> "ChangeStream": ...
    def __next__(self) -> Change: ...
    def close(self) -> None: ...
    closed: Final[bool]
    position: Final[int]
    show_id: Final[str]

@final
class SeatCore(_ClosedOnExit):
    """A connection pool on the seat database, shared by every thread of the process."""

    def __new__(
        cls,
        url: str,
        *,
        pool_size: int = 16,
        min_idle: int = 2,
        checkout_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        statement_timeout: float = 10.0,
        lock_timeout: float = 3.0,
        sweep_batch: int = 5000,
        change_retention: float = 2592000.0,
        max_hold_life: float = 3600.0,
        migrate: bool = True,
        group_holds: bool = True,
        read_url: Optional[str] = None,
    ) -> "SeatCore": ...
    def initialize_show(self, show_id: str, seat_ids: Sequence[str]) -> int: ...
    def initialize_map(self, show_id: str, seats: Sequence[_MapSeatInput]) -> int: ...
    def seat_map(self, show_id: str) -> Tuple[MapSeat, ...]: ...
    def block(
        self, show_id: str, seat_ids: Sequence[str], reason: Optional[str] = None
    ) -> Tuple[str, ...]: ...
    def unblock(self, show_id: str, seat_ids: Sequence[str]) -> Tuple[str, ...]: ...
    def hold_best(
        self,
        show_id: str,
        count: int,
        seconds: int = 600,
        *,
        category: Optional[str] = None,
        section: Optional[str] = None,
        accessible: Optional[bool] = None,
        request_key: Optional[str] = None,
    ) -> Hold: ...
    def hold(
        self,
        show_id: str,
        seat_ids: Sequence[str],
        seconds: int = 600,
        *,
        request_key: Optional[str] = None,
    ) -> Hold: ...
    def book(self, show_id: str, hold_id: Union[str, uuid.UUID]) -> Booking: ...
    def release(self, show_id: str, hold_id: Union[str, uuid.UUID]) -> None: ...
    # the hold lifecycle
    def extend(self, show_id: str, hold_id: Union[str, uuid.UUID], seconds: int = 600) -> Hold: ...
    def release_seats(
        self, show_id: str, hold_id: Union[str, uuid.UUID], seat_ids: Sequence[str]
    ) -> SeatsReleased: ...
    def cancel_booking(self, show_id: str, booking_id: Union[str, uuid.UUID]) -> Cancellation: ...
    def sweep_expired(self) -> int: ...
    def seat_status(self, show_id: str) -> ShowStatus: ...
    def reset_all(self) -> ResetCounts: ...
    def health(self) -> int: ...
    def audit(self, show_id: Optional[str] = None) -> Audit: ...
    def history(
        self, show_id: str, *, after: int = 0, seat_id: Optional[str] = None, limit: int = 100
    ) -> ChangePage: ...
    def changes(
        self, show_id: str, *, after: Optional[int] = None, timeout: Optional[float] = None
    ) -> ChangeStream: ...
    def handle_rest(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        content_type: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        query: Optional[str] = None,
        min_hold_seconds: Optional[int] = None,
        max_hold_seconds: Optional[int] = None,
        default_hold_seconds: Optional[int] = None,
    ) -> Optional[Tuple[int, bytes]]: ...
    def open_events(
        self,
        path: str,
        *,
        query: Optional[str] = None,
        last_event_id: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Union[None, Tuple[int, bytes], ChangeStream]: ...
    def stats(self) -> Stats: ...
    def dispose(self) -> None: ...
    pool_size: Final[int]
    is_open: Final[bool]

@final
class _Manager:
    """The contract's values for ``DatabaseManager``, computed on a ``SeatCore``."""

    def __new__(cls, core: SeatCore) -> "_Manager": ...
    core: Final[SeatCore]
    def initialize_show(self, show_id: str, seat_ids: Sequence[str]) -> Tuple[bool, str]: ...
    def hold_seats(
        self, show_id: str, seat_ids: Sequence[str], hold_duration_sec: Union[int, float]
    ) -> Tuple[bool, Dict[str, Any]]: ...
    def book_hold(self, show_id: str, hold_id: str) -> Tuple[bool, Dict[str, Any]]: ...
    def release_hold(self, show_id: str, hold_id: str) -> bool: ...
    def cleanup_expired_holds(self) -> int: ...
    def get_seat_status(self, show_id: str) -> Optional[Dict[str, Any]]: ...
    def health_check(self) -> Dict[str, Any]: ...
    def reset_all_seats(self) -> Tuple[bool, Dict[str, Any]]: ...
    def initialize_seat_map(
        self, show_id: str, seats: Sequence[_MapSeatInput]
    ) -> Tuple[bool, str]: ...
    def get_seat_map(self, show_id: str) -> Optional[Dict[str, Any]]: ...
    def block_seats(
        self, show_id: str, seat_ids: Sequence[str], reason: Optional[str] = None
    ) -> Tuple[bool, Dict[str, Any]]: ...
    def unblock_seats(self, show_id: str, seat_ids: Sequence[str]) -> Tuple[bool, Dict[str, Any]]: ...
    def hold_best_seats(
        self,
        show_id: str,
        count: int,
        hold_duration_sec: Union[int, float],
        category: Optional[str] = None,
        section: Optional[str] = None,
        accessible: Optional[bool] = None,
    ) -> Tuple[bool, Dict[str, Any]]: ...
    # the hold lifecycle
    def extend_hold(
        self, show_id: str, hold_id: str, hold_duration_sec: Union[int, float]
    ) -> Tuple[bool, Dict[str, Any]]: ...
    def release_seats(
        self, show_id: str, hold_id: str, seat_ids: Sequence[str]
    ) -> Tuple[bool, Dict[str, Any]]: ...
    def cancel_booking(self, show_id: str, booking_id: str) -> Tuple[bool, Dict[str, Any]]: ...
    def get_history(
        self, show_id: str, after: int = 0, seat_id: Optional[str] = None, limit: int = 100
    ) -> Tuple[bool, Dict[str, Any]]: ...

def _exception_name_for_code(code: int) -> Optional[str]: ...
def _raise_for_code(code: int) -> None: ...
