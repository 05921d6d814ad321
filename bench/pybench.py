"""What the Python benchmarks share (bench/aio_bench.py, bindings/python/bench/bench_holds.py):
the database they run against, and threads holding seats for a while."""

from __future__ import annotations

import os
import pathlib
import subprocess
import threading
import time
from typing import Callable, Iterator, Optional, Tuple

ROOT = pathlib.Path(__file__).resolve().parents[1]


def database_url(given: Optional[str] = None) -> str:
    """``given``, else ``DATABASE_URL``, else the project's private cluster (``scripts/pg.sh start``)."""
    if given:
        return given
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    out = subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start"], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def hold_rate(threads: int, seconds: float, holds: Callable[[int], Iterator[None]]) -> Tuple[float, int]:
    """Runs ``holds(n)`` in ``threads`` threads (n = 0, 1, ...) started together, each step of it
    one hold, until ``seconds`` have passed (a thread whose holds run out stops early): the
    holds per second up to the moment the threads are told to stop, and the holds made in all
    once every thread has stopped."""
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def work(n: int) -> None:
        start.wait()
        for _ in holds(n):
            counts[n] += 1
            if stop.is_set():
                return

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    done = sum(counts)
    elapsed = time.perf_counter() - began
    for t in pool:
        t.join()
    return done / elapsed, sum(counts)
