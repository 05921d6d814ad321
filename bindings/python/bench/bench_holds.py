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
import subprocess
import threading
import time
import uuid
from typing import List

import psycopg

import seatcore

ROOT = pathlib.Path(__file__).resolve().parents[3]


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return url
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "pg.sh"), "start"], check=True, capture_output=True, text=True
    ).stdout.strip()


def run(url: str, api: str, threads: int, seconds: float, seats_per_thread: int) -> float:
    """Holds/s for ``threads`` threads sharing one handle, each holding its own fresh seats,
    one seat per call, for ``seconds`` (or until a thread runs out of seats)."""
    db = seatcore.DatabaseManager(url, pool_size=max(threads, 2))
    core = db.core
    show = f"bench_{threads}_{uuid.uuid4().hex[:8]}"
    core.initialize_show(show, [f"T{t}_{k}" for t in range(threads) for k in range(seats_per_thread)])
    counts = [0] * threads
    failures: List[object] = []
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def worker(t: int) -> None:
        start.wait()
        for k in range(seats_per_thread):
            if stop.is_set():
                return
            seat = [f"T{t}_{k}"]
            if api == "manager":
                ok, result = db.hold_seats(show, seat, 600)
                if not ok:
                    failures.append(result)
                    return
            else:
                core.hold(show, seat, 600)
            counts[t] += 1
        failures.append(f"thread {t} ran out of seats; raise --seats-per-thread")

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    start.wait()
    began = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for p in pool:
        p.join()
    elapsed = time.perf_counter() - began
    status = core.seat_status(show)
    db.engine.dispose()
    if failures:
        raise SystemExit(f"benchmark invalid: {failures[0]}")
    assert status.held_seats == sum(counts) and status.invariants_valid
    return sum(counts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", default="1,8")
    parser.add_argument("--api", choices=["manager", "core"], default="manager")
    parser.add_argument("--seats-per-thread", type=int, default=40_000)
    args = parser.parse_args()
    schema = f"bench_py_{os.getpid()}"
    base = server_url()
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
