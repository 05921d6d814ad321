"""What synchronous replication costs a hold: hold-then-book cycles through the Python module.

Runs `--threads` threads for `--seconds` against each URL given, each thread holding two
distinct seats of one show and booking them, and prints one line per URL: bookings per
second and the p50 / p99 of a hold plus its booking. Used for the figures of docs/ha.md and
docs/scaling.md:

    python scripts/ha/throughput.py "$(scripts/pg.sh start)" "$(scripts/ha.sh url)"
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import List

import seatcore


def run(url: str, threads: int, seconds: float) -> str:
    core = seatcore.SeatCore(url, pool_size=threads)
    show = f"tp{time.time_ns()}"
    seats = [f"S{i}" for i in range(1, 20_001)]
    core.initialize_show(show, seats)
    latencies: List[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        mine: List[float] = []
        i = n * 2
        while time.monotonic() < stop:
            started = time.monotonic()
            hold = core.hold(show, [seats[i], seats[i + 1]], 60)
            core.book(show, hold.hold_id)
            mine.append(time.monotonic() - started)
            i += threads * 2
        with lock:
            latencies.extend(mine)

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if not core.audit(show).ok:
        raise SystemExit(f"audit of {show} failed")
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return (
        f"{url.split('@')[-1]}: {len(latencies) / seconds:.0f} bookings/s, hold + book "
        f"p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms ({threads} threads, {seconds:.0f} s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    for url in a.urls:
        print(run(url, a.threads, a.seconds), flush=True)


if __name__ == "__main__":
    main()
