"""seatcore for asyncio: :class:`SeatCore`, the idiomatic API with every method awaitable.

``seatcore.aio.SeatCore`` has the methods of :class:`seatcore.SeatCore` with the same
arguments, results and exceptions, each a coroutine::

    from seatcore import aio

    async with await aio.SeatCore.connect("postgresql://app@db/seats", pool_size=16) as core:
        hold = await core.hold("avengers_2026_7pm", ["A1", "A2"], 120, request_key="req-42")
        async for change in core.changes("avengers_2026_7pm", after=0):
            ...

How a call runs. Each call is a blocking call of the native :class:`seatcore.SeatCore`
(which releases the GIL while it waits on the database), run by a worker of a
:class:`concurrent.futures.ThreadPoolExecutor` that the async core owns, with as many
workers as the connection pool has connections (``pool_size``): a call in flight holds a
worker and at most one connection, calls beyond ``pool_size`` wait in the executor's queue
(not for a connection), and the event loop only waits for the result. Every call shares the
one pool. Arguments are read by the worker when the call starts, and bad ones raise the
sync API's exceptions (``TypeError``, ``InvalidInputError``, ...) from the awaitable.

Cancellation. A call is never abandoned half-way: cancelling the task that awaits it raises
:class:`asyncio.CancelledError` in the task, and then

* a call still waiting in the executor's queue never runs;
* a call already running runs to completion in its worker, on its connection, which goes
  back to the pool; its result (or exception) is dropped. A hold, booking or release it
  made stays made: the task is not told. A hold whose task was cancelled may therefore
  exist; make holds with ``request_key`` and repeat the call with the same key to learn
  (the same hold comes back if it was made, else it is made now), or let it expire.

Closing. ``await core.aclose()`` (or leaving ``async with``) stops taking calls, waits for
every call already submitted to finish, shuts the executor down, closes the change streams
the core opened and disposes the pool. A call on a closed core raises :class:`RuntimeError`
at once, as the executor refuses work after its shutdown (the sync
:class:`seatcore.SeatCore` has no closed state: ``dispose()`` closes its connections and its
next call opens new ones). ``await core.dispose()`` is the sync ``dispose()``: the
connections close, the core stays usable. A core garbage-collected unclosed warns
(:class:`ResourceWarning`).

Change streams. ``core.changes(show_id, after=...)`` is an async iterator over the sync
:class:`seatcore.ChangeStream` (see its documentation for the order and the waiting). Each
stream has a thread of its own, which opens it and runs each wait for the next change: a
stream waits for as long as it takes without holding one of the core's workers, so any
number of open streams never delays ordinary calls (a stream holds a database connection of
its own besides, its ``LISTEN``). Closing the iterator closes the stream and its
connection: ``await stream.aclose()``, leaving ``async with stream``, cancelling the task
that waits in ``__anext__``, or leaving ``async for`` early (the iterator is closed when
the last reference to it goes).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
import threading
import warnings
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Optional, Tuple, Type, TypeVar, Union

from ._seatcore import Change
from ._seatcore import ChangeStream as _SyncStream
from ._seatcore import SeatCore as _SyncCore

if TYPE_CHECKING:
    from typing_extensions import Concatenate, ParamSpec

    _P = ParamSpec("_P")

__all__ = ["SeatCore", "ChangeStream"]

_T = TypeVar("_T")


def _closed_error(what: str) -> RuntimeError:
    return RuntimeError(f"this {what} is closed")


class _ClosedOnExit:
    """Closed by ``await aclose()``, which leaving ``async with`` awaits."""

    async def aclose(self) -> None:
        """Closes the object; returns once it is closed."""
        raise NotImplementedError

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.aclose()


class ChangeStream(_ClosedOnExit):
    """An async iterator of one show's changes, in id order, each once; made by
    :meth:`SeatCore.changes`. It is the sync :class:`seatcore.ChangeStream` waited on in a
    thread of its own, so a wait never holds one of the core's workers.

    The stream is opened by the first ``__anext__`` (or by ``async with``): an unknown show
    or a bad ``after`` raise there. Without ``timeout`` each ``__anext__`` waits for as long
    as it takes; with one, the iteration ends (``StopAsyncIteration``) when no change came
    for that long, and iterating again goes on from the same place. One task iterates a
    stream at a time (a second gets :class:`RuntimeError`).

    Closing: ``await aclose()``, leaving ``async with``, cancelling the task waiting in
    ``__anext__`` (the wait ends within a fifth of a second and then the stream's
    connection is closed; the change that wait may have taken is dropped, and ``position``
    stays at the last change returned), or dropping the iterator (leaving ``async for``
    early). Once closed, iteration ends at once.
    """

    def __init__(self, open_stream: Callable[[], _SyncStream], show_id: str, after: Optional[int]) -> None:
        self._open_stream = open_stream
        self._show_id = show_id
        self._position = after
        self._stream: Optional[_SyncStream] = None
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="seatcore-changes")
        self._lock = threading.Lock()
        self._closed = False
        self._busy = False
        self._started = False  # whether the stream's thread was given work
        self._finished: Optional[concurrent.futures.Future[None]] = None

    @classmethod
    def _of(cls, stream: _SyncStream) -> ChangeStream:
        """An async stream over a sync stream already open."""
        this = cls(lambda: stream, stream.show_id, stream.position)
        this._stream = stream
        return this

    # ---- in the stream's thread ----

    def _open(self) -> _SyncStream:
        if self._stream is None:
            self._stream = self._open_stream()
            self._position = self._stream.position
        return self._stream

    def _next(self) -> Optional[Change]:
        stream = self._open()
        if self._closed:  # closed while it was being opened
            stream.close()
            return None
        return next(stream, None)

    def _release(self) -> None:
        if self._stream is not None:
            self._stream.close()

    # ---- on the event loop ----

    @property
    def show_id(self) -> str:
        """The show watched."""
        return self._show_id

    @property
    def position(self) -> Optional[int]:
        """The id of the last change returned, or the starting point (None before the
        stream is opened when it starts from now): pass it as ``after`` to go on from here."""
        return self._position

    @property
    def closed(self) -> bool:
        """True once the stream was closed (``aclose()``, cancellation, dropping it)."""
        return self._closed

    def __aiter__(self) -> ChangeStream:
        return self

    async def __anext__(self) -> Change:
        """The next change; waits for one. ``StopAsyncIteration`` once closed, or when
        ``timeout`` passed without a change."""
        if self._closed:
            raise StopAsyncIteration
        if self._busy:
            raise RuntimeError("another task is iterating this change stream")
        self._busy = True
        self._started = True
        try:
            change = await asyncio.wrap_future(self._thread.submit(self._next))
        except asyncio.CancelledError:
            self._close_soon()
            raise
        finally:
            self._busy = False
        if change is None:
            raise StopAsyncIteration
        self._position = change.id
        return change

    def _close_soon(self) -> concurrent.futures.Future[None]:
        """Closes the stream without waiting: a wait in flight ends within a slice, then the
        stream's thread closes its connection and exits. The future of that."""
        with self._lock:
            if self._finished is None:
                self._closed = True
                stream = self._stream
                if stream is not None:
                    stream.close()  # ends a wait in flight (or closes the connection at once)
                if self._started:
                    # After whatever the thread is doing: it may be opening the stream.
                    self._finished = self._thread.submit(self._release)
                else:
                    self._finished = concurrent.futures.Future()
                    self._finished.set_result(None)
                self._thread.shutdown(wait=False)
            return self._finished

    async def aclose(self) -> None:
        """Closes the stream and its database connection; returns once it is closed. Safe to
        call twice."""
        await asyncio.shield(asyncio.wrap_future(self._close_soon()))

    async def __aenter__(self) -> ChangeStream:
        if self._closed:
            raise _closed_error("change stream")
        self._started = True
        await asyncio.wrap_future(self._thread.submit(self._open))
        return self

    def __del__(self) -> None:
        if getattr(self, "_finished", 0) is None:
            # RuntimeError: the interpreter is shutting down; the stream's drop closes it.
            with contextlib.suppress(RuntimeError):
                self._close_soon()

    def __repr__(self) -> str:
        return (
            f"<seatcore.aio.ChangeStream show_id={self._show_id!r} position={self._position}"
            f"{' closed' if self._closed else ''}>"
        )


def _awaitable(
    method: Callable[Concatenate[_SyncCore, _P], _T], doc: str
) -> Callable[Concatenate[SeatCore, _P], Coroutine[Any, Any, _T]]:
    """The coroutine method of :class:`SeatCore` that runs the sync ``method`` in a worker
    (``SeatCore._call``): it takes the sync method's parameters (``inspect.signature`` and
    type checkers show them) and has the docstring ``doc``."""

    @functools.wraps(method, assigned=("__name__",))
    async def call(self: SeatCore, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await self._call(method, self._core, *args, **kwargs)

    call.__qualname__ = f"SeatCore.{call.__name__}"
    call.__doc__ = doc
    return call


def _taking_parameters_of(
    make: Callable[_P, Any],
) -> Callable[[Callable[..., Coroutine[Any, Any, _T]]], Callable[Concatenate[Any, _P], Coroutine[Any, Any, _T]]]:
    """A decorator for a coroutine function that passes its arguments on to ``make``: it
    shows ``make``'s parameters after its own first one (``cls``), to ``inspect.signature``
    and to type checkers."""

    def decorate(function: Callable[..., Coroutine[Any, Any, _T]]) -> Any:
        shown = inspect.signature(make)
        first = next(iter(inspect.signature(function).parameters.values()))
        function.__signature__ = shown.replace(parameters=[first, *shown.parameters.values()])  # type: ignore[attr-defined]
        return function

    return decorate


class SeatCore(_ClosedOnExit):
    """The idiomatic API for asyncio: :class:`seatcore.SeatCore`'s methods as coroutines, on
    one connection pool, run by a bounded executor of ``pool_size`` workers (see the
    module's documentation for how calls run, are cancelled and closed).

    Make one with ``await SeatCore.connect(url, **options)`` (connects off the event loop),
    or ``SeatCore(core)`` around a sync :class:`seatcore.SeatCore` whose pool it then
    shares with the sync code using ``core``. Close it with ``await aclose()`` or
    ``async with``.
    """

    def __init__(self, core: _SyncCore) -> None:
        if not isinstance(core, _SyncCore):
            raise TypeError(f"core must be a seatcore.SeatCore, not {type(core).__name__}")
        self._core = core
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=core.pool_size, thread_name_prefix="seatcore-aio"
        )
        self._streams: weakref.WeakSet[ChangeStream] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closing: Optional[concurrent.futures.Future[None]] = None
        self._closer: Optional[threading.Thread] = None

    @classmethod
    @_taking_parameters_of(_SyncCore)
    async def connect(cls, *args: Any, **kwargs: Any) -> SeatCore:
        """Connects as ``seatcore.SeatCore(url, **options)`` does (same options, defaults and
        exceptions: ``ConfigError`` for a bad option or URL, ``DatabaseUnavailableError``),
        in a thread, so the event loop goes on meanwhile."""
        make = functools.partial(_SyncCore, *args, **kwargs)
        return cls(await asyncio.get_running_loop().run_in_executor(None, make))

    async def _call(self, method: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """``method(*args, **kwargs)`` in a worker; raises at once on a closed core."""
        if self._closing is not None:
            raise _closed_error("seatcore.aio.SeatCore")
        call = functools.partial(method, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    # ---- the handle ----

    @property
    def sync(self) -> _SyncCore:
        """The sync :class:`seatcore.SeatCore` whose pool the calls use."""
        return self._core

    @property
    def pool_size(self) -> int:
        """The most connections the pool opens, and the executor's number of workers."""
        return self._core.pool_size

    @property
    def is_open(self) -> bool:
        """True while a pool is open (false after ``dispose()`` until the next call)."""
        return self._core.is_open

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` was called."""
        return self._closing is not None

    # ---- the operations: seatcore.SeatCore's, awaitable ----
    # Each runs the sync method of its name in a worker, with its parameters (``_awaitable``).

    initialize_show = _awaitable(
        _SyncCore.initialize_show, ":meth:`seatcore.SeatCore.initialize_show`: creates a show; the number of seats."
    )
    initialize_map = _awaitable(
        _SyncCore.initialize_map, ":meth:`seatcore.SeatCore.initialize_map`: creates a show with a structured map."
    )
    seat_map = _awaitable(_SyncCore.seat_map, ":meth:`seatcore.SeatCore.seat_map`: the show's seat map, in map order.")
    block = _awaitable(_SyncCore.block, ":meth:`seatcore.SeatCore.block`: blocks seats, all or none.")
    unblock = _awaitable(_SyncCore.unblock, ":meth:`seatcore.SeatCore.unblock`: unblocks seats, all or none.")
    hold_best = _awaitable(
        _SyncCore.hold_best,
        """:meth:`seatcore.SeatCore.hold_best`: holds the best ``count`` seats side by side.
        If the awaiting task is cancelled, the hold may have been made: see the module's
        documentation (``request_key``).""",
    )
    hold = _awaitable(
        _SyncCore.hold,
        """:meth:`seatcore.SeatCore.hold`: holds ``seat_ids`` for ``seconds``, all or none.

        If the awaiting task is cancelled (``CancelledError``), a call that had started
        still makes its hold; the task is not told. With ``request_key``, the same call
        again returns that hold (or makes it, if the first never ran); without one, the
        hold expires after ``seconds``.""",
    )
    book = _awaitable(_SyncCore.book, ":meth:`seatcore.SeatCore.book`: books a live hold; idempotent.")
    release = _awaitable(_SyncCore.release, ":meth:`seatcore.SeatCore.release`: releases a live hold.")
    extend = _awaitable(_SyncCore.extend, ":meth:`seatcore.SeatCore.extend`: gives a live hold a new expiry.")
    release_seats = _awaitable(
        _SyncCore.release_seats, ":meth:`seatcore.SeatCore.release_seats`: releases some seats of a live hold."
    )
    cancel_booking = _awaitable(
        _SyncCore.cancel_booking, ":meth:`seatcore.SeatCore.cancel_booking`: cancels a booking; idempotent."
    )
    sweep_expired = _awaitable(
        _SyncCore.sweep_expired, ":meth:`seatcore.SeatCore.sweep_expired`: deletes expired holds; how many."
    )
    seat_status = _awaitable(
        _SyncCore.seat_status, ":meth:`seatcore.SeatCore.seat_status`: a show's status in one statement."
    )
    reset_all = _awaitable(_SyncCore.reset_all, ":meth:`seatcore.SeatCore.reset_all`: clears every hold and booking.")
    health = _awaitable(
        _SyncCore.health, ":meth:`seatcore.SeatCore.health`: the number of shows, or a ``DatabaseError``."
    )
    audit = _awaitable(_SyncCore.audit, ":meth:`seatcore.SeatCore.audit`: checks every invariant of a show (or all).")
    history = _awaitable(_SyncCore.history, ":meth:`seatcore.SeatCore.history`: a page of the show's change log.")

    def changes(self, show_id: str, *, after: Optional[int] = None, timeout: Optional[float] = None) -> ChangeStream:
        """An async :class:`ChangeStream` of ``show_id``'s changes after ``after`` (from
        the moment it is opened with None), as :meth:`seatcore.SeatCore.changes`. Not a
        coroutine: ``async for change in core.changes(...)``. The stream opens on its first
        ``__anext__`` (or ``async with``), where its errors are raised."""
        if self._closing is not None:
            raise _closed_error("seatcore.aio.SeatCore")
        stream = ChangeStream(
            functools.partial(self._core.changes, show_id, after=after, timeout=timeout), show_id, after
        )
        self._streams.add(stream)
        return stream

    handle_rest = _awaitable(
        _SyncCore.handle_rest,
        """:meth:`seatcore.SeatCore.handle_rest`: one request of the REST contract,
        ``(status, JSON bytes)``, or None when it is none of ``REST_ENDPOINTS``.""",
    )

    async def open_events(
        self,
        path: str,
        *,
        query: Optional[str] = None,
        last_event_id: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Union[None, Tuple[int, bytes], ChangeStream]:
        """:meth:`seatcore.SeatCore.open_events`: the event stream of ``GET path`` as an
        async :class:`ChangeStream` (send each change as ``change.to_event()``), or the
        contract's refusal ``(status, JSON bytes)``, or None when ``path`` is not the
        events endpoint."""
        opened = await self._call(
            self._core.open_events, path, query=query, last_event_id=last_event_id, timeout=timeout
        )
        if not isinstance(opened, _SyncStream):
            return opened
        stream = ChangeStream._of(opened)
        self._streams.add(stream)
        return stream

    stats = _awaitable(_SyncCore.stats, ":meth:`seatcore.SeatCore.stats`: counters and the pool's state.")
    dispose = _awaitable(
        _SyncCore.dispose,
        """:meth:`seatcore.SeatCore.dispose`: closes the pool's connections once the calls
        in flight are done with theirs; the next call opens a new pool.""",
    )

    # ---- closing ----

    def _shut(self) -> None:
        self._executor.shutdown(wait=True)
        self._core.dispose()

    async def aclose(self) -> None:
        """Closes the core: calls from now on raise :class:`RuntimeError` at once; the calls
        already submitted run to completion; then the executor's workers exit, the change
        streams this core opened are closed and the pool is disposed. Returns when all that
        is done. Safe to call twice (and from several tasks)."""
        with self._lock:
            if self._closing is None:
                self._closing = concurrent.futures.Future()
                self._closer = threading.Thread(
                    target=_run_into, args=(self._shut, self._closing), name="seatcore-aio-close", daemon=True
                )
                self._closer.start()
        streams = list(self._streams)
        await asyncio.gather(*(s.aclose() for s in streams))
        await asyncio.shield(asyncio.wrap_future(self._closing))
        # The closer has settled the future and has only its own exit left.
        if self._closer is not None:
            self._closer.join()

    async def __aenter__(self) -> SeatCore:
        return self

    def __del__(self) -> None:
        if getattr(self, "_closing", 0) is None:
            warnings.warn(f"unclosed {self!r}", ResourceWarning, source=self, stacklevel=1)
            self._executor.shutdown(wait=False)

    def __repr__(self) -> str:
        return f"<seatcore.aio.SeatCore pool_size={self._core.pool_size}{' closed' if self.closed else ''}>"


def _run_into(work: Callable[[], None], done: concurrent.futures.Future[None]) -> None:
    """Runs ``work`` and settles ``done`` with its outcome."""
    try:
        work()
    except BaseException as err:  # handed to the awaiting task
        done.set_exception(err)
    else:
        done.set_result(None)
