"""``seatcore.aio``: the idiomatic API as coroutines, on a real PostgreSQL, end states audited.

``test.sh`` runs this file under ``python -X dev -W error``: an un-awaited coroutine, an
unclosed core or an exception nobody retrieved fails it. Waits are for events (a backend
blocked on a row lock, a connection leaving ``pg_stat_activity``), each bounded."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import json
import threading
import time
import uuid
from typing import Any, AsyncIterator, Awaitable, Callable, List, Set, TypeVar

import psycopg
import pytest

import seatcore
from conftest import AuditFn, counts, seats
from seatcore import aio

T = TypeVar("T")

#: Bound on every wait for an event.
WAIT = 30.0


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Runs ``main()`` on a fresh event loop."""

    async def wrapped() -> T:
        return await main()

    return asyncio.run(wrapped())


def named(url: str, name: str) -> str:
    """``url`` whose connections carry ``application_name=name``."""
    return f"{url}&application_name={name}"


def backends(raw: psycopg.Connection, name: str) -> int:
    row = raw.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)).fetchone()
    assert row is not None
    return int(row[0])


def listening(raw: psycopg.Connection, name: str) -> int:
    row = raw.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND query LIKE 'LISTEN %%'", (name,)
    ).fetchone()
    assert row is not None
    return int(row[0])


async def until(check: Callable[[], bool], what: str) -> None:
    """Waits (without blocking the loop) until ``check()`` holds, at most ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


class RowLock:
    """A raw transaction holding the row locks of some seats until ``release()``."""

    def __init__(self, url: str, raw: psycopg.Connection, show_id: str, seat_ids: List[str]) -> None:
        self.raw = raw
        self.conn = psycopg.connect(url)
        self.conn.execute(
            "SELECT 1 FROM seats WHERE show_id = %s AND seat_id = ANY(%s) FOR UPDATE", (show_id, seat_ids)
        )
        self.pid = self.conn.info.backend_pid

    def waiters(self) -> int:
        row = self.raw.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY (pg_blocking_pids(pid))", (self.pid,)
        ).fetchone()
        assert row is not None
        return int(row[0])

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


@contextlib.asynccontextmanager
async def with_show(url: str, *, seat_count: int, **options: Any) -> AsyncIterator[aio.SeatCore]:
    """An async core connected to ``url`` with ``options``, closed on leaving, on which show
    ``"s"`` of ``seat_count`` seats was made."""
    async with await aio.SeatCore.connect(url, **options) as core:
        await core.initialize_show("s", seats(seat_count))
        yield core


def sync_methods() -> Set[str]:
    return {n for n in dir(seatcore.SeatCore) if not n.startswith("_") and callable(getattr(seatcore.SeatCore, n))}


def test_every_method_of_the_sync_api_has_an_awaitable_twin_with_its_parameters() -> None:
    for name in sync_methods():
        twin = getattr(aio.SeatCore, name, None)
        assert twin is not None, f"seatcore.aio.SeatCore lacks {name}"
        def shape(f: Any) -> List[Any]:
            return [(p.name, p.kind, p.default) for p in list(inspect.signature(f).parameters.values())[1:]]

        assert shape(getattr(seatcore.SeatCore, name)) == shape(twin), name
        if name != "changes":  # an async iterator, made at once
            assert inspect.iscoroutinefunction(twin), name
    assert inspect.iscoroutinefunction(aio.SeatCore.aclose)
    # connect() takes the sync constructor's options with its defaults.
    params = inspect.signature(aio.SeatCore.connect).parameters
    defaults = {n: p.default for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert defaults == seatcore._seatcore._DEFAULT_OPTIONS


def test_the_operations_give_the_sync_apis_results(url: str, audit: AuditFn) -> None:
    async def main() -> None:
        async with await aio.SeatCore.connect(url, pool_size=4) as core:
            assert core.pool_size == 4 and core.sync.pool_size == 4 and not core.closed
            assert await core.initialize_show("s", seats(6)) == 6
            assert await core.health() == 1
            hold = await core.hold("s", ["S1", "S2", "S3"], 120, request_key="k1")
            assert isinstance(hold, seatcore.Hold) and hold.seat_ids == ("S1", "S2", "S3")
            assert await core.hold("s", ["S1", "S2", "S3"], 120, request_key="k1") == hold
            extended = await core.extend("s", hold.hold_id, 300)
            assert extended.hold_id == hold.hold_id and extended.expires_at > hold.expires_at
            kept = await core.release_seats("s", hold.hold_id, ["S3"])
            assert kept.remaining_seat_ids == ("S1", "S2")
            booking = await core.book("s", str(hold.hold_id))
            assert booking.seat_ids == ("S1", "S2") and await core.book("s", hold.hold_id) == booking
            cancelled = await core.cancel_booking("s", booking.booking_id)
            assert cancelled.seat_ids == ("S1", "S2")
            other = await core.hold("s", ["S4"])
            await core.release("s", other.hold_id)
            assert await core.block("s", ["S5"], "broken") == ("S5",)
            status = await core.seat_status("s")
            assert status.to_dict() == core.sync.seat_status("s").to_dict()
            assert (status.available_seats, status.blocked_seats) == (5, 1)
            assert await core.unblock("s", ["S5"]) == ("S5",)
            page = await core.history("s", limit=3)
            assert [c.kind for c in page] == ["initialized", "held", "extended"]
            assert (await core.history("s", after=page.next, seat_id="S4")).changes[0].kind == "held"
            assert await core.initialize_map("m", ["A1", "A2", "A3", "A4"]) == 4
            assert [s.seat_id for s in await core.seat_map("m")] == ["A1", "A2", "A3", "A4"]
            best = await core.hold_best("m", 2, 60)
            assert len(best.seat_ids) == 2
            reply = await core.handle_rest("GET", "/shows/m/seats")
            assert reply is not None and reply[0] == 200
            assert (await core.audit("s")).ok and (await core.stats()).holds_granted >= 3
            assert await core.sweep_expired() == 0
            assert isinstance(await core.reset_all(), seatcore.ResetCounts)
            assert (await core.seat_status("m")).held_seats == 0
            await core.dispose()
            assert not core.is_open
            assert await core.health() == 2 and core.is_open  # a disposed pool reopens
        assert core.closed

    run(main)
    assert counts(audit("s")) == (6, 0, 0)


def test_bad_input_raises_the_sync_apis_exceptions_from_the_awaitable(url: str) -> None:
    async def main() -> None:
        with pytest.raises(seatcore.ConfigError):
            await aio.SeatCore.connect(url, pool_size=0)
        async with with_show(url, pool_size=2, seat_count=2) as core:
            cases: List[Any] = [
                (TypeError, core.hold("s", None)),  # type: ignore[arg-type]
                (TypeError, core.hold("s", "S1")),  # a str is no list of seat ids
                (TypeError, core.hold(5, ["S1"])),  # type: ignore[arg-type]
                (seatcore.InvalidInputError, core.hold("s", ["S1", "S1"])),
                (seatcore.InvalidInputError, core.hold("s", [])),
                (seatcore.InvalidSeatIdsError, core.hold("s", ["Z9"])),
                (seatcore.ShowNotFoundError, core.seat_status("nope")),
                (seatcore.ShowExistsError, core.initialize_show("s", ["A1"])),
                (seatcore.HoldNotFoundError, core.book("s", "not-a-uuid")),
                (seatcore.InvalidInputError, core.history("s", limit=0)),
                (seatcore.ConfigError, core.handle_rest("GET", "/health", max_hold_seconds=0)),
            ]
            for kind, call in cases:
                with pytest.raises(kind):
                    await call
            await core.hold("s", ["S1"])
            with pytest.raises(seatcore.SeatsUnavailableError) as taken:
                await core.hold("s", ["S2", "S1"])
            assert list(taken.value.seat_ids) == ["S1"]

    run(main)


def test_a_closed_core_refuses_calls_at_once(url: str) -> None:
    async def main() -> None:
        core = await aio.SeatCore.connect(url, pool_size=2)
        await core.initialize_show("s", seats(2))
        await core.aclose()
        await core.aclose()  # twice is fine
        assert core.closed and not core.sync.is_open
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="closed"):
            await core.hold("s", ["S1"])
        with pytest.raises(RuntimeError, match="closed"):
            core.changes("s")
        assert time.monotonic() - started < 1.0
        assert not [t for t in threading.enumerate() if t.name.startswith("seatcore-aio")]

    run(main)


def test_an_unclosed_core_warns(url: str) -> None:
    async def main() -> None:
        core = aio.SeatCore(seatcore.SeatCore(url, pool_size=1, min_idle=0))
        assert await core.health() == 0
        # dropped here, never closed

    with pytest.warns(ResourceWarning, match="unclosed <seatcore.aio.SeatCore pool_size=1>"):
        run(main)
        gc.collect()


def test_sixty_four_tasks_share_a_pool_of_eight_and_a_last_seat_has_one_winner(
    url: str, audit: AuditFn
) -> None:
    async def main() -> None:
        async with with_show(url, pool_size=8, seat_count=65) as core:
            names: Set[str] = set()

            async def own(seat: str) -> seatcore.Hold:
                names.update(t.name for t in threading.enumerate())
                return await core.hold("s", [seat], 60)

            holds = await asyncio.gather(*(own(f"S{i}") for i in range(1, 65)))
            assert sorted(h.seat_ids[0] for h in holds) == sorted(f"S{i}" for i in range(1, 65))
            workers = {n for n in names if n.startswith("seatcore-aio")}
            assert 1 <= len(workers) <= 8
            stats = await core.stats()
            assert stats.pool_max == 8 and stats.pool_connections <= 8

            async def race() -> str:
                try:
                    await core.hold("s", ["S65"], 60)
                except seatcore.SeatsUnavailableError:
                    return "lost"
                return "won"

            outcomes = await asyncio.gather(*(race() for _ in range(32)))
            assert sorted(outcomes) == ["lost"] * 31 + ["won"]

    run(main)
    assert counts(audit("s")) == (65, 65, 0)


def test_the_loop_runs_while_a_call_waits_on_a_row_lock(url: str, raw: psycopg.Connection, audit: AuditFn) -> None:
    core_sync = seatcore.SeatCore(url, pool_size=4, lock_timeout=15.0)
    core_sync.initialize_show("s", seats(2))
    core_sync.initialize_show("t", seats(1))
    lock = RowLock(url, raw, "s", ["S1"])

    async def main() -> None:
        async with aio.SeatCore(core_sync) as core:
            blocked = asyncio.ensure_future(core.hold("s", ["S1"]))
            try:
                await until(lambda: lock.waiters() == 1, "the hold never reached the row lock")
                ticks = 0
                for _ in range(20):
                    await asyncio.sleep(0.001)
                    ticks += 1
                assert ticks == 20 and not blocked.done()
                assert (await core.hold("t", ["S1"])).seat_ids == ("S1",)
                assert (await core.seat_status("s")).held_seats == 0
            finally:
                lock.release()
            assert (await blocked).seat_ids == ("S1",)

    run(main)
    assert counts(audit("s")) == (2, 1, 0)


def test_a_cancelled_hold_runs_to_completion_and_its_request_key_finds_it(
    url: str, raw: psycopg.Connection, audit: AuditFn
) -> None:
    core_sync = seatcore.SeatCore(url, pool_size=1, lock_timeout=15.0)
    core_sync.initialize_show("s", seats(3))
    lock = RowLock(url, raw, "s", ["S1"])

    async def main() -> None:
        async with aio.SeatCore(core_sync) as core:
            running = asyncio.ensure_future(core.hold("s", ["S1"], 120, request_key="k"))
            try:
                await until(lambda: lock.waiters() == 1, "the hold never reached the row lock")
                # The only worker is busy: this call waits in the executor's queue.
                queued = asyncio.ensure_future(core.hold("s", ["S2"], 120))
                await asyncio.sleep(0)
                running.cancel()
                queued.cancel()
                for task in (running, queued):
                    with pytest.raises(asyncio.CancelledError):
                        await task
            finally:
                lock.release()
            # The running call completes in its worker: its hold is made.
            await until(
                lambda: raw.execute("SELECT count(*) FROM holds").fetchone() == (1,), "the running hold was never made"
            )
            again = await core.hold("s", ["S1"], 120, request_key="k")  # the same hold, not a second
            assert again.seat_ids == ("S1",)
            assert [c.kind for c in await core.history("s")] == ["initialized", "held"]
            # The queued call never ran; the worker's connection went back to the pool.
            stats = await core.stats()
            assert stats.pool_connections == stats.pool_idle == 1
            assert (await core.seat_status("s")).held_seats == 1

    run(main)
    assert counts(audit("s")) == (3, 1, 0)


def test_a_change_stream_follows_concurrent_calls_in_order(url: str, audit: AuditFn) -> None:
    async def main() -> None:
        async with with_show(url, pool_size=4, seat_count=20) as core:
            start = (await core.seat_status("s")).version
            async with core.changes("s", after=start) as stream:
                assert stream.position == start
                holds = await asyncio.gather(*(core.hold("s", [f"S{i}"], 60) for i in range(1, 21)))
                got: List[seatcore.Change] = []
                async for change in stream:
                    got.append(change)
                    if len(got) == 20:
                        break
                assert [c.id for c in got] == sorted(c.id for c in got)
                assert {c.hold_id for c in got} == {h.hold_id for h in holds}
                assert stream.position == got[-1].id and not stream.closed
            assert stream.closed
            assert [c async for c in stream] == []
            # Resumed from a position: the same records.
            async with core.changes("s", after=got[9].id, timeout=0.5) as resumed:
                again = [c async for c in resumed]
                assert again == got[10:]
                assert [c async for c in resumed] == []  # a timeout ends one iteration only
                assert not resumed.closed and resumed.position == got[-1].id

    run(main)
    assert counts(audit("s")) == (20, 20, 0)


def test_closing_a_stream_closes_its_connection_every_way(url: str, raw: psycopg.Connection) -> None:
    name = f"aio_{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        async with with_show(named(url, name), pool_size=1, min_idle=0, seat_count=2) as core:
            # aclose() of a stream waiting in another task
            stream = core.changes("s")
            waiting = asyncio.ensure_future(stream.__anext__())
            await until(lambda: listening(raw, name) == 1, "the stream never listened")
            await stream.aclose()
            assert stream.closed
            # the client has closed the connection; its backend leaves pg_stat_activity
            # when it has read that and exited
            await until(lambda: listening(raw, name) == 0, "aclose() left the stream listening")
            with pytest.raises(StopAsyncIteration):
                await waiting

            # cancelling the task that waits in __anext__
            stream = core.changes("s")

            async def consume() -> None:
                async for _ in stream:
                    pass

            task = asyncio.ensure_future(consume())
            await until(lambda: listening(raw, name) == 1, "the stream never listened")
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert stream.closed
            await until(lambda: listening(raw, name) == 0, "a cancelled stream kept its connection")

            # leaving async for early
            seen = []
            hold = await core.hold("s", ["S1"])
            async for change in core.changes("s", after=0):
                seen.append(change.kind)
                if change.hold_id == hold.hold_id:
                    break
            assert seen == ["initialized", "held"]
            await until(lambda: listening(raw, name) == 0, "a stream left early kept its connection")

            # an error on opening is raised by the first __anext__
            with pytest.raises(seatcore.ShowNotFoundError):
                async for _ in core.changes("nope"):
                    pass
            with pytest.raises(seatcore.InvalidInputError):
                async with core.changes("s", after=-1):
                    pass
            await core.release("s", hold.hold_id)

        await until(lambda: backends(raw, name) == 0, "a connection outlived aclose()")

    run(main)


def test_open_streams_leave_the_workers_to_ordinary_calls(url: str, raw: psycopg.Connection, audit: AuditFn) -> None:
    name = f"aio_{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        async with with_show(named(url, name), pool_size=1, min_idle=0, seat_count=4) as core:
            streams = [core.changes("s") for _ in range(3)]
            waits = [asyncio.ensure_future(s.__anext__()) for s in streams]
            await until(lambda: listening(raw, name) == 3, "the streams never listened")
            # Three streams wait; the core's single worker still serves calls.
            holds = [await core.hold("s", [seat], 60) for seat in ["S1", "S2", "S3"]]
            firsts = await asyncio.gather(*waits)
            assert {c.hold_id for c in firsts} == {holds[0].hold_id}
            for s in streams:
                assert s.position == firsts[0].id
        # aclose() closed the streams it opened.
        assert all(s.closed for s in streams)
        await until(lambda: backends(raw, name) == 0, "a connection outlived aclose()")

    run(main)
    assert counts(audit("s")) == (4, 3, 0)


def test_open_events_gives_a_stream_or_the_contracts_refusal(url: str, audit: AuditFn) -> None:
    async def main() -> None:
        async with with_show(url, pool_size=2, seat_count=2) as core:
            assert await core.open_events("/shows/s/seats") is None
            assert await core.open_events("/health") is None
            refused = await core.open_events("/shows/nope/events")
            assert refused == (404, b'{"error":"show not found"}')
            bad = (400, b'{"error":"after must be a change id (an integer of 0 or more)"}')
            assert await core.open_events("/shows/s/events", query="after=x") == bad
            assert await core.open_events("/shows/s/events", last_event_id="-1") == bad
            stream = await core.open_events("/shows/s/events", query="after=0", timeout=0.2)
            assert isinstance(stream, aio.ChangeStream)
            async with stream:
                events = [c.to_event() async for c in stream]
            (init,) = (await core.history("s")).changes
            assert len(events) == 1 and events[0].endswith("\n\n")
            head, kind, data = events[0][:-2].split("\n")
            assert (head, kind) == (f"id: {init.id}", "event: initialized")
            assert data.startswith("data: ") and json.loads(data[6:]) == init.to_dict()
            # Last-Event-ID resumes after its id; after= wins over it.
            stream = await core.open_events("/shows/s/events", last_event_id=str(init.id), timeout=0.2)
            assert isinstance(stream, aio.ChangeStream) and stream.position == init.id
            await stream.aclose()

    run(main)
    assert counts(audit("s")) == (2, 0, 0)
