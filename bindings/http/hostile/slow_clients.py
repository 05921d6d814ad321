#!/usr/bin/env python3
"""Slow clients against an HTTP address, stdlib only.

Opens SLOW connections that trickle their request (half never finish their head, half
announce a 4 KiB body and trickle it), then sends NORMAL requests, each on a fresh
connection, and reports their latency. Exits 1 when a normal request fails or the p99
reaches the bound.

    slow_clients.py HOST:PORT [--slow 1000] [--normal 300] [--p99-bound 1.0] [--path /health]
"""

from __future__ import annotations

import argparse
import resource
import socket
import sys
import threading
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--slow", type=int, default=1000)
    ap.add_argument("--normal", type=int, default=300)
    ap.add_argument("--p99-bound", type=float, default=1.0)
    ap.add_argument("--path", default="/health")
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.slow + 200
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    slow: list[socket.socket] = []
    refused = 0
    for i in range(args.slow):
        try:
            s = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            refused += 1
            continue
        if i % 2 == 0:
            s.sendall(b"POST /shows/avengers_2026_7pm/hold HTTP/1.1\r\nHost: x\r\n")
        else:
            s.sendall(
                b"POST /shows/avengers_2026_7pm/hold HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"
            )
        s.setblocking(False)
        slow.append(s)

    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            for i, s in enumerate(slow):
                try:
                    s.send(b"X" if i % 2 == 0 else b" ")
                except OSError:
                    pass
            stop.wait(0.3)

    t = threading.Thread(target=trickle, daemon=True)
    t.start()

    times: list[float] = []
    failures: list[str] = []
    request = f"GET {args.path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    started = time.monotonic()
    for i in range(args.normal):
        t0 = time.monotonic()
        try:
            with socket.create_connection((host, int(port)), timeout=10) as c:
                c.sendall(request)
                data = b""
                while chunk := c.recv(65536):
                    data += chunk
            status = data.split(b" ", 2)[1] if data else b"-"
            if status != b"200":
                failures.append(f"request {i}: status {status!r}")
        except OSError as e:
            failures.append(f"request {i}: {e}")
        times.append(time.monotonic() - t0)
    elapsed = time.monotonic() - started
    stop.set()
    t.join()
    for s in slow:
        s.close()

    times.sort()
    pct = lambda p: times[min(len(times) - 1, max(0, int(len(times) * p + 0.999999) - 1))]  # noqa: E731
    print(
        f"slow clients: {len(slow)} open ({refused} refused), {args.normal} normal requests in {elapsed:.2f}s: "
        f"p50 {pct(0.5) * 1e3:.1f} ms, p99 {pct(0.99) * 1e3:.1f} ms, max {times[-1] * 1e3:.1f} ms, "
        f"{len(failures)} failed"
    )
    for f in failures[:5]:
        print("  " + f, file=sys.stderr)
    if failures or pct(0.99) >= args.p99_bound:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
