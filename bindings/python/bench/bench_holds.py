"""Holds per second through seatcore's Python door, with 1 and 8 threads in one process.

Not a test: a measurement. Each thread holds distinct seats, one seat per call, through one
shared ``DatabaseManager`` (or ``SeatCore`` with ``--api core``). Build the release module
first:

    .venv/bin/maturin develop --release
    .venv/bin/python bindings/python/bench/bench_holds.py [--seconds 10] [--threads 1,8]

The database is DATABASE_URL, else the project's private cluster; the benchmark works in
a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import uuid
from typing import Iterator, List

import psycopg

import seatcore

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))
import pybench  # noqa: E402  (bench/pybench.py: what the Python benchmarks share)


def run(url: str, api: str, threads: int, seconds: float, seats_per_thread: int) -> float:
    """Holds/s for ``threads`` threads sharing one handle, each holding its own fresh seats,
    one seat per call, for ``seconds`` (or until a thread runs out of seats)."""
    db = seatcore.DatabaseManager(url, pool_size=max(threads, 2))
    core = db.core
    show = f"bench_{threads}_{uuid.uuid4().hex[:8]}"
    core.initialize_show(show, [f"T{t}_{k}" for t in range(threads) for k in range(seats_per_thread)])
    failures: List[object] = []

    def holds(t: int) -> Iterator[None]:
        for k in range(seats_per_thread):
            seat = [f"T{t}_{k}"]
            if api == "manager":
                ok, result = db.hold_seats(show, seat, 600)
                if not ok:
                    failures.append(result)
                    return
            else:
                core.hold(show, seat, 600)
            yield
        failures.append(f"thread {t} ran out of seats; raise --seats-per-thread")

    rate, held = pybench.hold_rate(threads, seconds, holds)
    status = core.seat_status(show)
    db.engine.dispose()
    if failures:
        raise SystemExit(f"benchmark invalid: {failures[0]}")
    assert status.held_seats == held and status.invariants_valid
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", default="1,8")
    parser.add_argument("--api", choices=["manager", "core"], default="manager")
    parser.add_argument("--seats-per-thread", type=int, default=40_000)
    args = parser.parse_args()
    schema = f"bench_py_{os.getpid()}"
    base = pybench.database_url()
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{base}{'&' if '?' in base else '?'}options=-c%20search_path%3D{schema}"
    try:
        for n in [int(x) for x in args.threads.split(",")]:
            rate = run(url, args.api, n, args.seconds, args.seats_per_thread)
            print(f"{args.api}: {n} thread(s): {rate:,.0f} holds/s", flush=True)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    main()
