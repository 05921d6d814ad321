"""Concurrency with Python threads and processes, and proof that the GIL is released.

Every test checks the database's invariants afterwards with the core's audit."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from typing import Any, Dict, List, Tuple

import psycopg
import pytest

import seatcore
from _workers import race
from conftest import AuditFn, counts, seats

UNAVAILABLE_S1 = (False, {"error": "seats unavailable", "unavailable_seats": ["S1"]})


def run_threads(n: int, target: Any) -> List[Any]:
    """Runs ``target(i)`` on ``n`` threads started together; returns their results in order."""
    barrier = threading.Barrier(n)
    results: List[Any] = [None] * n
    errors: List[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except BaseException as err:  # surfaced below, so no failure is lost in a thread
            errors.append(err)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


def test_last_seat_race_has_exactly_one_winner(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    for round_no in range(5):
        show = f"race{round_no}"
        db.initialize_show(show, ["S1", "S2"])
        results = run_threads(16, lambda i, show=show: db.hold_seats(show, ["S1"]))
        winners = [r for r in results if r[0]]
        assert len(winners) == 1, results
        assert all(r == UNAVAILABLE_S1 for r in results if not r[0])
        assert counts(audit(show)) == (2, 1, 0)


def test_last_seat_race_for_bookings(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    # Many threads book the same hold at once: all get the same booking.
    db.initialize_show("s", seats(3))
    _, hold = db.hold_seats("s", ["S1", "S2"])
    results = run_threads(12, lambda i: db.book_hold("s", hold["hold_id"]))
    assert all(r[0] for r in results)
    assert len({(r[1]["booking_id"], r[1]["booked_at"]) for r in results}) == 1
    assert counts(audit("s")) == (3, 0, 2)


def test_distinct_seats_every_hold_granted_once(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    threads, per_thread = 8, 30
    db.initialize_show("s", seats(threads * per_thread))

    def hold_mine(i: int) -> List[Tuple[bool, Dict[str, Any]]]:
        mine = [f"S{i * per_thread + k + 1}" for k in range(per_thread)]
        return [db.hold_seats("s", [seat]) for seat in mine]

    results = [r for batch in run_threads(threads, hold_mine) for r in batch]
    assert all(ok for ok, _ in results)
    held = [hold["seat_ids"][0] for _, hold in results]
    assert sorted(held) == sorted(seats(threads * per_thread))
    assert len({hold["hold_id"] for _, hold in results}) == threads * per_thread
    assert counts(audit("s")) == (240, 240, 0)


def test_overlapping_requests_never_grant_a_seat_twice(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    db.initialize_show("s", seats(24))

    def contend(i: int) -> List[Tuple[bool, Dict[str, Any]]]:
        rng = random.Random(i)
        out = []
        for _ in range(25):
            ok, result = db.hold_seats("s", rng.sample(seats(24), 3))
            if ok and rng.random() < 0.5:
                db.book_hold("s", result["hold_id"])
            elif ok and rng.random() < 0.5:
                db.release_hold("s", result["hold_id"])
            out.append((ok, result))
        return out

    granted = [r for batch in run_threads(8, contend) for ok, r in batch if ok]
    assert granted, "no hold was ever granted"
    status = db.get_seat_status("s")
    assert status is not None and status["invariants_valid"] is True
    found = audit("s")
    assert found.held + found.booked == status["held_seats"] + status["booked_seats"]


def test_processes_race_for_the_last_seat_and_share_distinct_seats(
    url: str, db: seatcore.DatabaseManager, audit: AuditFn,
) -> None:
    procs, per_proc = 4, 10
    db.initialize_show("s", ["S1"] + [f"P{p}_{k}" for p in range(procs) for k in range(per_proc)])
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(procs)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=race, args=(url, "s", ["S1"], [f"P{p}_{k}" for k in range(per_proc)], barrier, results))
        for p in range(procs)
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    winners = [o for o in outcomes if o[0]]
    assert len(winners) == 1
    assert all((ok, r) == UNAVAILABLE_S1 for ok, r, _ in outcomes if not ok)
    assert all(ok for _, _, own in outcomes for ok, _ in own)
    assert counts(audit("s")) == (41, 41, 0)


def test_gil_is_released_while_a_call_waits_on_the_database(url: str, raw: psycopg.Connection, audit: AuditFn) -> None:
    """Deterministic, not timed: a hold blocks on a row lock taken by a raw transaction;
    while it is provably blocked inside PostgreSQL, this thread runs Python code and
    completes other DatabaseManager calls. If the GIL were held, nothing here could run
    until the blocked call gave up."""
    db = seatcore.DatabaseManager(url, lock_timeout=15.0)
    db.initialize_show("s", seats(3))
    locker = psycopg.connect(url)  # a transaction stays open until rollback()
    locker.execute("SELECT 1 FROM seats WHERE seat_id = 'S1' FOR UPDATE")
    locker_pid = locker.info.backend_pid
    outcome: Dict[str, Any] = {}
    blocked = threading.Thread(target=lambda: outcome.setdefault("hold", db.hold_seats("s", ["S1"])))
    blocked.start()

    def waiting_on_locker() -> bool:
        row = raw.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY (pg_blocking_pids(pid))", (locker_pid,)
        ).fetchone()
        return row is not None and row[0] == 1

    try:
        deadline = time.monotonic() + 10
        while not waiting_on_locker():
            assert time.monotonic() < deadline, "the hold never reached the row lock"
            time.sleep(0.01)
        # The other thread is inside hold_seats, blocked in the database. We run:
        assert sum(i * i for i in range(200_000)) > 0
        assert db.hold_seats("s", ["S2"])[0] is True
        status = db.get_seat_status("s")
        assert status is not None and status["held_seats"] == 1
        assert db.health_check()["status"] == "healthy"
        assert blocked.is_alive() and waiting_on_locker()
    finally:
        locker.rollback()
        locker.close()
    blocked.join(timeout=20)
    assert not blocked.is_alive()
    assert outcome["hold"][0] is True
    assert counts(audit("s")) == (3, 2, 0)
    db.engine.dispose()


@pytest.mark.parametrize("threads", [8])
def test_eight_threads_share_one_idiomatic_handle(core: seatcore.SeatCore, threads: int, audit: AuditFn) -> None:
    core.initialize_show("s", seats(threads * 10))

    def work(i: int) -> List[seatcore.Hold]:
        return [core.hold("s", [f"S{i * 10 + k + 1}"], 60) for k in range(10)]

    holds = [h for batch in run_threads(threads, work) for h in batch]
    assert len({h.hold_id for h in holds}) == threads * 10
    assert core.stats().holds_granted == threads * 10
    assert audit("s").held == threads * 10


def test_dispose_while_threads_hold(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    """engine.dispose() in the middle of traffic: calls in flight finish on their own
    connections, later calls reopen a pool; no call fails and nothing is granted twice."""
    db.initialize_show("s", seats(160))
    done = threading.Event()

    def dispose_repeatedly() -> int:
        n = 0
        while not done.is_set():
            db.engine.dispose()
            n += 1
            time.sleep(0.005)
        return n

    disposer = threading.Thread(target=dispose_repeatedly)
    disposer.start()
    try:
        results = run_threads(8, lambda i: [db.hold_seats("s", [f"S{i * 20 + k + 1}"]) for k in range(20)])
    finally:
        done.set()
        disposer.join(timeout=30)
    assert all(ok for batch in results for ok, _ in batch), [r for b in results for r in b if not r[0]][:3]
    assert counts(audit("s")) == (160, 160, 0)


def _hold_in_child(db: seatcore.DatabaseManager, results: Any) -> None:
    results.put(db.hold_seats("s", ["S2"]))


def test_a_manager_inherited_through_fork_works_in_the_child(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    """The child opens a pool of its own and never touches the parent's connections."""
    db.initialize_show("s", seats(3))
    assert db.hold_seats("s", ["S1"])[0] is True
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_hold_in_child, args=(db, results))
    child.start()
    ok, hold = results.get(timeout=60)
    child.join(timeout=30)
    assert child.exitcode == 0 and ok is True and hold["seat_ids"] == ["S2"]
    # The parent's pool still works.
    assert db.hold_seats("s", ["S3"])[0] is True
    assert counts(audit("s")) == (3, 3, 0)
