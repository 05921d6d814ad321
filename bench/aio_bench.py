"""seatcore.aio against the sync API: holds per second, and the event loop's responsiveness.

    python bench/aio_bench.py [--url URL] [--seconds 10] [--reps 3] [--tasks 64] [--threads 8]

One event loop runs ``--tasks`` tasks, each holding seats of its own one at a time through
one ``seatcore.aio.SeatCore`` (its executor has ``--pool-size`` workers), while a ticker task
sleeps 1 ms again and again and records how late each wake-up is. Against it, ``--threads``
threads hold seats of their own one at a time through one sync ``seatcore.SeatCore`` with the
same pool. Runs alternate (sync, async, sync, async, ...) so drift cancels out; medians are
printed: holds/s of each, their ratio (goal: 0.9 or more) and the timer's lag p99 under load
(goal: 5 ms or less). With ``--jsonl FILE`` each run is appended as a JSON line (scenario
``aio_holds`` / ``sync_holds``) for bench/report.py.

The URL is ``--url``, else ``DATABASE_URL``, else the project's private cluster
(``scripts/pg.sh start``). Each run holds seats of a fresh show (``aio_bench_<n>``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import statistics
import time
import uuid
from typing import Dict, Iterator, List

import pybench

import seatcore
from seatcore import aio


def new_show(core: seatcore.SeatCore, seats: int) -> str:
    show = f"aio_bench_{uuid.uuid4().hex[:10]}"
    core.initialize_show(show, [f"S{i}" for i in range(1, seats + 1)])
    return show


def p99(values: List[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else (values[0] if values else 0.0)


def run_sync(core: seatcore.SeatCore, show: str, threads: int, seats: int, seconds: float) -> float:
    """Holds/s of ``threads`` threads on the sync API."""

    def holds(n: int) -> Iterator[None]:
        for seat in range(n + 1, seats + 1, threads):
            core.hold(show, [f"S{seat}"], 600)
            yield

    rate, _ = pybench.hold_rate(threads, seconds, holds)
    return rate


async def run_async(core: aio.SeatCore, show: str, tasks: int, seats: int, seconds: float) -> Dict[str, float]:
    """Holds/s of ``tasks`` tasks on one loop, and the lag of a 1 ms timer meanwhile (ms)."""
    counts = [0] * tasks
    lags: List[float] = []
    stop = asyncio.Event()

    async def work(n: int) -> None:
        for seat in range(n + 1, seats + 1, tasks):
            if stop.is_set():
                return
            await core.hold(show, [f"S{seat}"], 600)
            counts[n] += 1

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - before - 0.001) * 1000)

    tick = asyncio.ensure_future(ticker())
    workers = [asyncio.ensure_future(work(n)) for n in range(tasks)]
    began = time.perf_counter()
    await asyncio.sleep(seconds)
    stop.set()
    done = sum(counts)
    elapsed = time.perf_counter() - began
    await asyncio.gather(tick, *workers)
    return {"holds_per_s": done / elapsed, "lag_p99_ms": p99(lags), "lag_max_ms": max(lags), "ticks": len(lags)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=64)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--pool-size", type=int, default=16)
    ap.add_argument("--seats", type=int, default=100_000, help="seats of each run's show")
    ap.add_argument("--jsonl", type=pathlib.Path)
    args = ap.parse_args()

    url = pybench.database_url(args.url)
    core = seatcore.SeatCore(url, pool_size=args.pool_size)
    sync_rates: List[float] = []
    async_runs: List[Dict[str, float]] = []

    async def async_rep(show: str) -> Dict[str, float]:
        async with aio.SeatCore(seatcore.SeatCore(url, pool_size=args.pool_size)) as acore:
            return await run_async(acore, show, args.tasks, args.seats, args.seconds)

    for rep in range(1, args.reps + 1):
        for kind in ["sync", "async"]:
            show = new_show(core, args.seats)
            if kind == "sync":
                rate = run_sync(core, show, args.threads, args.seats, args.seconds)
                sync_rates.append(rate)
                record: Dict[str, object] = {"scenario": "sync_holds", "rep": rep, "threads": args.threads,
                                             "holds_per_s": rate}
            else:
                run = asyncio.run(async_rep(show))
                async_runs.append(run)
                record = {"scenario": "aio_holds", "rep": rep, "tasks": args.tasks, **run}
            print(json.dumps(record), flush=True)
            if args.jsonl:
                with args.jsonl.open("a") as f:
                    f.write(json.dumps(record) + "\n")
            audit = core.audit(show)
            assert audit.ok, audit.problems
    core.dispose()

    sync_med = statistics.median(sync_rates)
    async_med = statistics.median(r["holds_per_s"] for r in async_runs)
    lag = statistics.median(r["lag_p99_ms"] for r in async_runs)
    print(f"sync, {args.threads} threads:      {sync_med:8.0f} holds/s")
    ratio = async_med / sync_med
    print(f"aio, {args.tasks} tasks, 1 loop:  {async_med:8.0f} holds/s  (ratio {ratio:.2f}, goal >= 0.9)")
    print(f"1 ms timer lag under load:  p99 {lag:.2f} ms (goal <= 5 ms)")


if __name__ == "__main__":
    main()
