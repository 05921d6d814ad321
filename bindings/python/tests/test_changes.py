"""The change log through Python: ``SeatCore.history`` pages, ``SeatCore.changes`` streams,
``DatabaseManager.get_history``; against a real PostgreSQL, end states audited.

Waits are for events (a change arriving, a connection appearing in ``pg_stat_activity``),
each bounded so that a failure fails instead of hanging."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import math
import multiprocessing
import os
import signal
import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional

import psycopg
import pytest

import seatcore
from _workers import hold_each
from conftest import AuditFn, counts, seats

#: Bound on every wait for a change: a stream that stalls this long fails the test.
WAIT = 30.0


def named(url: str, name: str) -> str:
    """``url`` whose connections carry ``application_name=name``."""
    return f"{url}&application_name={name}"


def listening(raw: psycopg.Connection, name: str) -> List[int]:
    """The backends named ``name`` that LISTEN for changes."""
    rows = raw.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND query LIKE 'LISTEN %%' ORDER BY pid",
        (name,),
    ).fetchall()
    return [pid for (pid,) in rows]


def eventually(check: Callable[[], bool], what: str, limit: float = WAIT) -> None:
    """Waits until ``check()`` holds, at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def take(stream: seatcore.ChangeStream, n: int) -> List[seatcore.Change]:
    """The next ``n`` changes of a stream made with ``timeout``; fails if it ends first."""
    got: List[seatcore.Change] = []
    for change in stream:
        got.append(change)
        if len(got) == n:
            return got
    pytest.fail(f"the stream ended after {len(got)} of {n} changes: {got}")


def test_history_pages_filters_and_the_contracts_document(core: seatcore.SeatCore, audit: AuditFn) -> None:
    core.initialize_show("s", seats(4))
    one = core.hold("s", ["S1"], 60)
    two = core.hold("s", ["S3", "S2"], 120)
    booking = core.book("s", two.hold_id)
    core.release("s", one.hold_id)

    page = core.history("s")
    assert [c.kind for c in page.changes] == ["initialized", "held", "held", "booked", "released"]
    assert len(page) == 5 and list(page) == list(page.changes)
    ids = [c.id for c in page]
    assert ids == sorted(set(ids)) and page.next == ids[-1]
    init, held_one, held_two, booked, released = page.changes
    assert init.seat_ids == ("S1", "S2", "S3", "S4") and init.hold_id is None and init.expires_at is None
    assert (held_one.hold_id, held_one.expires_at, held_one.seat_ids) == (one.hold_id, one.expires_at, ("S1",))
    assert held_two.seat_ids == ("S3", "S2")  # as requested
    assert (booked.hold_id, booked.booking_id) == (two.hold_id, booking.booking_id)
    assert isinstance(booked.booking_id, uuid.UUID) and released.hold_id == one.hold_id
    for change in page:
        assert change.show_id == "s" and change.at.tzinfo is not None
        assert change.at.utcoffset() == dt.timedelta(0)
    assert held_one.to_dict() == {
        "id": held_one.id,
        "at": held_one.at.isoformat(),
        "kind": "held",
        "show_id": "s",
        "seat_ids": ["S1"],
        "hold_id": str(one.hold_id),
        "expires_at": one.to_dict()["expires_at"],
    }
    assert "hold_id" not in init.to_dict() and "booking_id" not in held_one.to_dict()
    assert held_one == core.history("s", after=init.id, limit=1).changes[0]
    assert hash(held_one) == hash(core.history("s", after=init.id, limit=1).changes[0])
    assert repr(booked).startswith(f'Change(id={booked.id}, kind="booked", show_id="s", seat_ids=["S3", "S2"]')
    # A property that is None is left out of the repr.
    assert "hold_id=" in repr(held_one) and "booking_id" not in repr(held_one)

    # The page is the document the REST contract answers for the same query.
    reply = core.handle_rest("GET", "/shows/s/history", query="after=0&limit=100")
    assert reply is not None and reply[0] == 200
    assert json.loads(reply[1]) == page.to_dict()

    # Pages of two add up to the whole history, in order, each record once.
    after, seen = 0, []
    while True:
        part = core.history("s", after=after, limit=2)
        assert len(part) <= 2
        if not part.changes:
            assert part.next == after
            break
        seen.extend(c.id for c in part)
        after = part.next
    assert seen == ids
    # Only the records about one seat.
    assert [c.kind for c in core.history("s", seat_id="S1")] == ["initialized", "held", "released"]
    assert [c.kind for c in core.history("s", seat_id="S4")] == ["initialized"]
    assert counts(audit("s")) == (4, 0, 2)


def test_history_refuses_bad_arguments(core: seatcore.SeatCore) -> None:
    core.initialize_show("s", seats(2))
    with pytest.raises(seatcore.ShowNotFoundError):
        core.history("nope")
    for kwargs, reason in [
        ({"after": -1}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": seatcore.MAX_CHANGE_PAGE + 1}, "limit"),
        ({"limit": 2**70}, "limit"),
        ({"limit": -(2**70)}, "limit"),
        ({"seat_id": ""}, "seat_id_filter"),
    ]:
        with pytest.raises(seatcore.InvalidInputError) as err:
            core.history("s", **kwargs)
        assert err.value.reason == reason, kwargs
    assert len(core.history("s", limit=seatcore.MAX_CHANGE_PAGE)) == 1
    for kwargs in [{"after": "1"}, {"after": 1.5}, {"limit": True}, {"seat_id": 5}]:
        with pytest.raises(TypeError):
            core.history("s", **kwargs)
    with pytest.raises(TypeError):
        core.history(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        core.history("s", 0)  # type: ignore[misc]  # keywords only


def test_the_managers_history_is_the_contracts(db: seatcore.DatabaseManager) -> None:
    db.initialize_show("s", seats(3))
    ok, hold = db.hold_seats("s", ["S2"])
    assert ok
    ok, page = db.get_history("s")
    assert ok is True and [c["kind"] for c in page["changes"]] == ["initialized", "held"]
    assert page == db.core.history("s").to_dict()
    assert page["changes"][1]["hold_id"] == hold["hold_id"]
    rest = {"changes": page["changes"][1:], "next": page["next"]}
    assert db.get_history("s", page["changes"][0]["id"], "S2", 1) == (True, rest)
    assert db.get_history("nope") == (False, {"error": "show not found"})
    ok, failure = db.get_history("s", limit=0)
    assert ok is False and "limit" in failure["error"]
    ok, failure = db.get_history("s", after=-3)
    assert ok is False and "after" in failure["error"]
    with pytest.raises(TypeError):
        db.get_history("s", after="0")  # type: ignore[arg-type]


def test_a_page_ends_at_its_seat_budget(core: seatcore.SeatCore, db: seatcore.DatabaseManager) -> None:
    budget = seatcore.MAX_CHANGE_PAGE_SEATS
    big = seats(budget * 6 // 10)
    core.initialize_show("s", big)
    core.block("s", big)
    core.unblock("s", big)
    first = core.history("s")
    assert [(c.kind, len(c.seat_ids)) for c in first.changes] == [("initialized", len(big)), ("blocked", len(big))]
    assert first.next == first.changes[-1].id
    ok, page = db.get_history("s")
    assert ok and page == first.to_dict()
    rest = core.history("s", after=first.next)
    assert [c.kind for c in rest.changes] == ["unblocked"]
    assert len(core.history("s", after=rest.next)) == 0


def test_the_shown_default_page_is_the_one_applied(core: seatcore.SeatCore, db: seatcore.DatabaseManager) -> None:
    shown = inspect.signature(seatcore.SeatCore.history).parameters["limit"].default
    assert inspect.signature(seatcore.DatabaseManager.get_history).parameters["limit"].default == shown
    assert isinstance(shown, int) and 0 < shown < seatcore.MAX_CHANGE_PAGE
    core.initialize_show("s", seats(shown + 1))
    for i in range(1, shown + 2):
        core.hold("s", [f"S{i}"])
    assert len(core.history("s", limit=seatcore.MAX_CHANGE_PAGE)) == shown + 2
    assert len(core.history("s")) == shown
    ok, page = db.get_history("s")
    assert ok and len(page["changes"]) == shown


def test_a_stream_gives_every_change_in_order_and_resumes_from_any_id(
    url: str, core: seatcore.SeatCore, audit: AuditFn
) -> None:
    """A writer on another handle holds, books and releases while the stream follows; the
    stream sees each change once, in the writer's order; any id resumes exactly after it."""
    core.initialize_show("s", seats(30))
    core.initialize_show("other", seats(2))
    stream = core.changes("s", timeout=WAIT)
    start = stream.position
    expected: List[tuple] = []
    with seatcore.SeatCore(url, pool_size=2) as writer:

        def write() -> None:
            for i in range(1, 31):
                hold = writer.hold("s", [f"S{i}"], 60)
                expected.append(("held", hold.hold_id))
                if i == 1:
                    writer.hold("other", ["S1"], 60)  # another show's change
                if i % 3 == 0:
                    writer.book("s", hold.hold_id)
                    expected.append(("booked", hold.hold_id))
                elif i % 3 == 1:
                    writer.release("s", hold.hold_id)
                    expected.append(("released", hold.hold_id))

        thread = threading.Thread(target=write)
        thread.start()
        got = take(stream, 50)  # 30 holds, 10 bookings, 10 releases
        thread.join(timeout=WAIT)
        assert not thread.is_alive()
    assert [(c.kind, c.hold_id) for c in got] == expected
    assert all(c.show_id == "s" for c in got)
    ids = [c.id for c in got]
    assert ids == sorted(set(ids)) and ids[0] > start and stream.position == ids[-1]
    # Nothing more, and the stream says so within its timeout.
    quiet = core.changes("s", after=ids[-1], timeout=0.2)
    assert next(quiet, None) is None
    quiet.close()
    # Resuming from any id gives exactly the rest, as the history has it.
    for k in (0, 17, 48):
        with core.changes("s", after=ids[k], timeout=WAIT) as resumed:
            assert [c.id for c in take(resumed, len(ids) - k - 1)] == ids[k + 1 :]
    with core.changes("s", after=0, timeout=WAIT) as from_start:
        first = take(from_start, 51)
    assert first[0].kind == "initialized" and first[1:] == got
    assert [c.id for c in core.history("s", after=start, limit=1000)] == ids
    stream.close()
    assert counts(audit("s")) == (30, 10, 10)


def test_a_stream_sees_changes_made_by_another_process(url: str, core: seatcore.SeatCore) -> None:
    core.initialize_show("s", seats(10))
    with core.changes("s", timeout=WAIT) as stream:
        ctx = multiprocessing.get_context("spawn")
        child = ctx.Process(target=hold_each, args=(url, "s", seats(10)))
        child.start()
        got = take(stream, 10)
        child.join(timeout=WAIT)
        assert child.exitcode == 0
    assert [c.seat_ids for c in got] == [(s,) for s in seats(10)]
    assert {c.kind for c in got} == {"held"}


def test_a_stream_refuses_bad_arguments(core: seatcore.SeatCore) -> None:
    core.initialize_show("s", seats(1))
    with pytest.raises(seatcore.ShowNotFoundError):
        core.changes("nope")
    with pytest.raises(seatcore.ShowNotFoundError):
        core.changes("nope", after=0)
    with pytest.raises(seatcore.InvalidInputError) as err:
        core.changes("s", after=-1)
    assert err.value.reason == "after"
    for timeout in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="timeout"):
            core.changes("s", timeout=timeout)
    for kwargs in [{"after": "3"}, {"after": 2.0}, {"timeout": "1"}]:
        with pytest.raises(TypeError):
            core.changes("s", **kwargs)


def test_closing_a_stream_closes_its_connection(url: str, raw: psycopg.Connection, schema: str) -> None:
    name = f"close_{schema}"[:63]
    with seatcore.SeatCore(named(url, name)) as core:
        core.initialize_show("s", seats(2))
        stream = core.changes("s", timeout=0.05)
        assert next(stream, None) is None  # waited: its listening connection is open
        assert len(listening(raw, name)) == 1
        stream.close()
        eventually(lambda: listening(raw, name) == [], "the closed stream's connection stayed open")
        assert stream.closed and next(stream, None) is None
        stream.close()  # again: nothing happens
        position = stream.position
        core.hold("s", ["S1"], 60)
        assert next(stream, None) is None and stream.position == position  # closed for good

        with core.changes("s", after=0, timeout=0.05) as scoped:
            assert [c.kind for c in scoped] == ["initialized", "held"]
            assert len(listening(raw, name)) == 1
        assert scoped.closed
        eventually(lambda: listening(raw, name) == [], "leaving the with block left the connection open")
        assert repr(scoped).startswith('<seatcore.ChangeStream show_id="s" position=') and "closed" in repr(scoped)

        # Dropped without close(): the connection closes too.
        dropped = core.changes("s", timeout=0.05)
        assert next(dropped, None) is None and len(listening(raw, name)) == 1
        del dropped
        eventually(lambda: listening(raw, name) == [], "a dropped stream's connection stayed open")


def waiting_in(raw: psycopg.Connection, name: str) -> Callable[[], bool]:
    """True once a stream of ``name`` waits on its listening connection."""
    return lambda: len(listening(raw, name)) == 1


def test_the_gil_is_released_while_a_stream_waits(url: str, raw: psycopg.Connection, schema: str) -> None:
    """Deterministic, not timed: a thread waits in ``next(stream)`` with no timeout; while
    it provably waits (its listening connection is up and it has not returned), this thread
    runs Python code and database calls. Were the GIL held during the wait, nothing here
    could run until the stream's 30 s bound ended the wait, and the asserts would fail."""
    name = f"gil_{schema}"[:63]
    with seatcore.SeatCore(named(url, name)) as core:
        core.initialize_show("s", seats(3))
        core.initialize_show("other", seats(3))
        stream = core.changes("s", timeout=WAIT)
        outcome: Dict[str, Any] = {}
        waiter = threading.Thread(target=lambda: outcome.setdefault("change", next(stream, None)))
        waiter.start()
        eventually(waiting_in(raw, name), "the stream never started waiting")
        # The other thread is inside next(stream), detached. We run:
        assert sum(i * i for i in range(200_000)) > 0
        core.hold("other", ["S1"], 60)  # a change of another show wakes it, and it waits on
        assert core.seat_status("other").held_seats == 1 and core.health() == 2
        assert waiter.is_alive() and "change" not in outcome
        hold = core.hold("s", ["S2"], 60)
        waiter.join(timeout=WAIT)
        assert not waiter.is_alive()
        change = outcome["change"]
        assert change is not None and (change.kind, change.hold_id) == ("held", hold.hold_id)
        stream.close()


def test_a_signal_interrupts_a_wait_and_the_stream_goes_on(url: str, raw: psycopg.Connection, schema: str) -> None:
    """SIGINT while the main thread waits in a stream without timeout: KeyboardInterrupt
    comes out of the wait (the stream checks signals between slices); then it goes on."""
    assert threading.current_thread() is threading.main_thread()
    name = f"sigint_{schema}"[:63]
    with seatcore.SeatCore(named(url, name)) as core:
        core.initialize_show("s", seats(2))
        stream = core.changes("s")
        sent = threading.Event()

        def interrupt() -> None:
            eventually(waiting_in(raw, name), "the stream never started waiting")
            os.kill(os.getpid(), signal.SIGINT)
            sent.set()

        helper = threading.Thread(target=interrupt)
        helper.start()
        # With no change ever coming, only the signal can end this wait; the helper fails
        # (and the test with it) if the wait never begins.
        with pytest.raises(KeyboardInterrupt):
            next(stream)
        helper.join(timeout=WAIT)
        assert sent.is_set()
        hold = core.hold("s", ["S1"], 60)
        change = next(stream)
        assert (change.kind, change.hold_id) == ("held", hold.hold_id)
        stream.close()


def test_close_from_another_thread_ends_a_wait(url: str, raw: psycopg.Connection, schema: str) -> None:
    name = f"xclose_{schema}"[:63]
    with seatcore.SeatCore(named(url, name)) as core:
        core.initialize_show("s", seats(2))
        stream = core.changes("s")
        outcome: List[Optional[seatcore.Change]] = []
        waiter = threading.Thread(target=lambda: outcome.append(next(stream, None)))
        waiter.start()
        eventually(waiting_in(raw, name), "the stream never started waiting")
        with pytest.raises(RuntimeError, match="another thread"):
            next(stream)
        stream.close()
        waiter.join(timeout=WAIT)
        assert not waiter.is_alive() and outcome == [None]
        eventually(lambda: listening(raw, name) == [], "the closed stream's connection stayed open")


def follow_in_child(core: seatcore.SeatCore, stream: seatcore.ChangeStream, name: str, url: str, results: Any) -> None:
    """A forked child: the inherited stream sees the child's own hold, on a listening
    connection of the child's own; closing it closes only that."""
    try:
        hold = core.hold("s", ["S2"], 60)
        change = next(stream)
        assert (change.kind, change.hold_id) == ("held", hold.hold_id), change
        assert next(stream, None) is None  # a wait: the child's listener connects
        with psycopg.connect(url, autocommit=True) as raw:
            pids = listening(raw, name)
        stream.close()
        results.put((pids, None))
    except BaseException as err:
        results.put(([], repr(err)))


@pytest.mark.filterwarnings("ignore:.*multi-threaded.*fork:DeprecationWarning")
def test_a_stream_made_before_fork_goes_on_in_the_child(url: str, raw: psycopg.Connection, schema: str) -> None:
    name = f"forked_{schema}"[:63]
    with seatcore.SeatCore(named(url, name)) as core:
        core.initialize_show("s", seats(3))
        stream = core.changes("s", after=0, timeout=0.3)
        assert [c.kind for c in stream] == ["initialized"]  # and then it waited
        (parent,) = listening(raw, name)
        ctx = multiprocessing.get_context("fork")
        results = ctx.Queue()
        child = ctx.Process(target=follow_in_child, args=(core, stream, name, url, results))
        child.start()
        pids, error = results.get(timeout=60)
        child.join(timeout=30)
        assert error is None and child.exitcode == 0
        assert parent in pids and len(pids) == 2, "the child listened on a connection of its own"
        # The parent's stream goes on, on the connection it had.
        hold = core.hold("s", ["S3"], 60)
        assert [c.hold_id for c in stream][-1] == hold.hold_id
        # the child's backend leaves pg_stat_activity once it has seen the child go
        eventually(lambda: listening(raw, name) == [parent], "the child's stream kept listening")
        stream.close()


@pytest.fixture
def gen_changes(core: seatcore.SeatCore) -> Iterator[Callable[[int], None]]:
    """``make(n)``: n hold-and-release pairs on show "s" (created here)."""
    core.initialize_show("s", seats(5))

    def make(n: int) -> None:
        for i in range(n):
            core.release("s", core.hold("s", [f"S{i % 5 + 1}"], 60).hold_id)

    yield make


def test_a_stream_from_now_starts_after_everything_committed_before(
    core: seatcore.SeatCore, gen_changes: Callable[[int], None]
) -> None:
    gen_changes(3)
    last = core.history("s").next
    with core.changes("s", timeout=WAIT) as stream:
        assert stream.position == last and stream.show_id == "s"
        gen_changes(1)
        held, released = take(stream, 2)
        assert (held.kind, released.kind) == ("held", "released") and held.id > last
