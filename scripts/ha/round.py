"""Failover under load: the driver behind scripts/ha-test.sh (`make test-ha`).

Three seatcore-server processes and the Python module (SeatCore) hold, book and release
seats through the formation's multi-host URL (scripts/ha.sh) while the formation goes
through three events:

1. a planned switchover (``ha.sh failover``);
2. the primary killed with SIGKILL, PostgreSQL and its keeper (``ha.sh kill-primary``), then
   brought back as a standby (``ha.sh revive``);
3. the standby killed with SIGKILL (``ha.sh kill-standby``): writes go on without it
   (degraded, see docs/ha.md), then it is brought back.

Every answer is written down. Afterwards, on the current primary:

* every booking acknowledged to a client is there, with the seats it was acknowledged with
  (none lost);
* every booking there was acknowledged, or its outcome was never heard by its client (no
  booking out of nowhere), and no seat is in two bookings;
* the core's audit (``SeatCore.audit`` and ``GET /audit`` of each server) is clean;
* each server, never restarted, holds and books again.

Read routing is checked against the formation's real standby: the third server and the
Python module send status reads to it (``--read-database-url``, ``read_url=``), and such a
read says how far behind it may be (``replayed_at``).

For each event it reports how long writes were refused (the first refused write to the last),
the longest time no write succeeded, and how long after the heir's promotion (the monitor's
event log) writes succeeded again; it fails when that exceeds ``--max-after-promotion``.

Prints one JSON line of figures on stdout; exits non-zero on any broken promise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import psycopg

import seatcore

# scripts/keepalive.py, shared by the rounds that drive servers from outside
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from keepalive import Http  # noqa: E402

SEATS = 3000
SHOWS = 3
HOLD_SECONDS = 120
# How long a client keeps retrying an idempotent write (a hold with its request key, a
# booking) that the database could not take: longer than any failover.
RETRY_FOR = 60.0
INFRA = (seatcore.DatabaseUnavailableError, seatcore.DatabaseBusyError, seatcore.DatabaseError)


def say(*parts: Any) -> None:
    print("ha-round:", *parts, file=sys.stderr, flush=True)


@dataclass
class Attempt:
    """One write sent to the database through a door."""

    door: str
    started: float
    ended: float
    ok: bool  # the database answered (a grant or a refusal); False: 503 / Database*Error


@dataclass
class Ledger:
    """What the clients saw, all together."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: List[Attempt] = field(default_factory=list)
    bookings: Dict[str, Tuple[str, Tuple[str, ...]]] = field(default_factory=dict)  # id -> show, seats
    unknown: Set[str] = field(default_factory=set)  # holds whose booking outcome nobody heard
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: List[str] = field(default_factory=list)

    def attempt(self, door: str, started: float, ok: bool, what: str) -> None:
        with self.lock:
            self.attempts.append(Attempt(door, started, time.time(), ok))
            self.outcomes[f"{door} {what}"] += 1

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)
        say("ERROR:", text)

    def booked(self, booking_id: str, show: str, seats: List[str]) -> None:
        with self.lock:
            self.bookings[booking_id] = (show, tuple(sorted(seats)))

    def successes_since(self, door: str, t: float) -> int:
        with self.lock:
            return sum(1 for a in self.attempts if a.door == door and a.ok and a.started >= t)


def pick(rng: random.Random, shows: List[str]) -> Tuple[str, List[str]]:
    a, b = rng.sample(range(1, SEATS + 1), 2)
    return rng.choice(shows), [f"S{a}", f"S{b}"]


def rest_client(n: int, base: str, shows: List[str], led: Ledger, stop: threading.Event) -> None:
    door = f"server{n % 3 + 1}"
    rng = random.Random(100 + n)
    conn = Http(base)

    def write(what: str, path: str, body: Dict[str, Any], key: Optional[str], retry: bool) -> Tuple[int, Any]:
        """Sends a write, again after a 503 when `retry` (idempotent writes only)."""
        give_up = time.time() + RETRY_FOR
        while True:
            started = time.time()
            status, v = conn.request("POST", path, body, {"Idempotency-Key": key} if key else None)
            led.attempt(door, started, status != 503, f"{what} {status}")
            if status == 503:
                if not (isinstance(v, dict) and isinstance(v.get("error"), str)):
                    led.error(f"{door} {what}: 503 without a JSON error: {v}")
                if retry and time.time() < give_up and not stop.is_set():
                    time.sleep(0.05)
                    continue
            elif status >= 500:
                led.error(f"{door} {what}: {status} {v}")
            return status, v

    i = 0
    while not stop.is_set():
        i += 1
        show, seats = pick(rng, shows)
        key = f"rest{n}-{i}-{time.monotonic_ns()}"
        status, v = write(
            "hold", f"/shows/{show}/hold", {"seat_ids": seats, "hold_duration_seconds": HOLD_SECONDS}, key, True
        )
        if status != 201:
            if status not in (409, 503):
                led.error(f"{door} hold: {status} {v}")
            continue
        hold_id = v["hold_id"]
        r = rng.random()
        if r < 0.6:
            status, b = write("book", f"/shows/{show}/book", {"hold_id": hold_id}, None, True)
            if status == 200:
                if b["booking_id"] != hold_id or sorted(b["seat_ids"]) != sorted(seats):
                    led.error(f"{door} book of {hold_id} gave {b}")
                led.booked(b["booking_id"], show, b["seat_ids"])
            elif status == 503:
                with led.lock:
                    led.unknown.add(hold_id)
            else:
                led.error(f"{door} book of a fresh hold {hold_id}: {status} {b}")
        elif r < 0.85:
            # never retried: a second release could say "not found" for one that worked
            status, b = write("release", f"/shows/{show}/release-hold", {"hold_id": hold_id}, None, False)
            if status not in (200, 503):
                led.error(f"{door} release of a fresh hold {hold_id}: {status} {b}")


def python_client(n: int, core: seatcore.SeatCore, shows: List[str], led: Ledger, stop: threading.Event) -> None:
    door = "python"
    rng = random.Random(200 + n)

    def write(what: str, fn: Callable[[], Any], retry: bool) -> Tuple[str, Any]:
        give_up = time.time() + RETRY_FOR
        while True:
            started = time.time()
            try:
                v = fn()
                led.attempt(door, started, True, f"{what} ok")
                return "ok", v
            except INFRA as e:
                led.attempt(door, started, False, f"{what} {type(e).__name__}")
                if retry and time.time() < give_up and not stop.is_set():
                    time.sleep(0.05)
                    continue
                return "unavailable", e
            except seatcore.SeatsUnavailableError as e:
                led.attempt(door, started, True, f"{what} refused")
                return "refused", e
            except seatcore.SeatcoreError as e:
                led.attempt(door, started, True, f"{what} {type(e).__name__}")
                return "error", e

    i = 0
    while not stop.is_set():
        i += 1
        show, seats = pick(rng, shows)
        key = f"py{n}-{i}-{time.monotonic_ns()}"
        outcome, hold = write("hold", partial(core.hold, show, seats, HOLD_SECONDS, request_key=key), True)
        if outcome != "ok":
            if outcome == "error":
                led.error(f"python hold: {hold!r}")
            continue
        hold_id = str(hold.hold_id)
        r = rng.random()
        if r < 0.6:
            outcome, b = write("book", partial(core.book, show, hold_id), True)
            if outcome == "ok":
                led.booked(str(b.booking_id), show, list(b.seat_ids))
            elif outcome == "unavailable":
                with led.lock:
                    led.unknown.add(hold_id)
            else:
                led.error(f"python book of a fresh hold {hold_id}: {b!r}")
        elif r < 0.85:
            outcome, e = write("release", partial(core.release, show, hold_id), False)
            if outcome not in ("ok", "unavailable"):
                led.error(f"python release of a fresh hold {hold_id}: {e!r}")


def wait_until(what: str, check: Callable[[], bool], timeout: float = 90.0) -> None:
    """Polls `check` (every 50 ms) until it holds; fails the round after `timeout`."""
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise SystemExit(f"ha-round: gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.05)


def ha(script: str, command: str) -> float:
    """Runs `ha.sh COMMAND`; returns when it started (wall clock)."""
    started = time.time()
    say(f"ha.sh {command}")
    r = subprocess.run([script, command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in r.stderr.splitlines():
        say("  " + line)
    if r.returncode != 0:
        raise SystemExit(f"ha-round: ha.sh {command} failed ({r.returncode})")
    return started


def promotion(monitor_url: str, since: float) -> Tuple[Optional[float], Optional[float]]:
    """From the monitor's event log: when the heir reported its PostgreSQL promoted
    (stop_replication), and when the monitor let it acknowledge writes without the old
    primary (wait_primary assigned)."""
    with psycopg.connect(monitor_url, autocommit=True) as c:
        row = c.execute(
            "SELECT extract(epoch FROM min(eventtime) FILTER (WHERE reportedstate = 'stop_replication'))::float8, "
            "extract(epoch FROM min(eventtime) FILTER (WHERE goalstate = 'wait_primary' "
            "AND reportedstate = 'stop_replication'))::float8 "
            "FROM pgautofailover.event WHERE eventtime >= to_timestamp(%s)",
            (since,),
        ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def measure(
    led: Ledger, label: str, t0: float, until: float, promoted: Tuple[Optional[float], Optional[float]]
) -> Dict[str, Any]:
    """Figures of one event, from the writes that ended between t0 and `until`."""
    with led.lock:
        window = [a for a in led.attempts if t0 <= a.ended <= until]
    refused = [a for a in window if not a.ok]
    ok_ends = sorted(a.ended for a in window if a.ok)
    marks = [t0, *ok_ends]
    gap = max((b - a for a, b in zip(marks, marks[1:])), default=until - t0)
    figures: Dict[str, Any] = {
        "event": label,
        "refused_writes": len(refused),
        "refused_seconds": round(max(a.ended for a in refused) - min(a.started for a in refused), 2)
        if refused
        else 0.0,
        "longest_without_a_write_s": round(gap, 2),
    }
    at, released = promoted
    if released is not None:
        figures["released_after_s"] = round(released - t0, 2)
    if at is not None:
        figures["promoted_after_s"] = round(at - t0, 2)
        back = [a.ended for a in window if a.ok and a.started >= at]
        figures["writes_back_after_promotion_s"] = round(min(back) - at, 2) if back else None
    say(label, json.dumps(figures))
    return figures


def start_servers(
    server_bin: str, url: str, read_url: str, work: Path
) -> Tuple[List[subprocess.Popen[bytes]], List[str]]:
    procs: List[subprocess.Popen[bytes]] = []
    bases: List[str] = []
    for i in range(1, 4):
        log = work / f"server{i}.log"
        cmd = [
            server_bin,
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "8",
            "--no-demo",
            "--database-url",
            url,
            "--pool-timeout-seconds",
            "3",
        ]
        if i == 3:
            cmd += ["--read-database-url", read_url]
        with open(log, "wb") as f:
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=f))
        addr: List[str] = []

        def listening(i: int = i, log: Path = log, addr: List[str] = addr) -> bool:
            if procs[-1].poll() is not None:
                raise SystemExit(f"ha-round: server{i} exited: {log.read_text()}")
            for line in log.read_text().splitlines():
                if "listening on http://" in line:
                    addr.append(line.split("listening on http://")[1].split()[0])
                    return True
            return False

        wait_until(f"server{i} to listen", listening, 60)
        bases.append(f"http://{addr[0]}")
    say("servers:", ", ".join(bases))
    return procs, bases


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ha", required=True, help="scripts/ha.sh")
    ap.add_argument("--server-bin", required=True)
    ap.add_argument("--url", required=True, help="the formation's multi-host URL for writes")
    ap.add_argument("--read-url", required=True, help="the formation's URL for reads (a standby preferred)")
    ap.add_argument("--monitor-url", required=True)
    ap.add_argument("--progress", type=int, default=30, help="bookings between events")
    ap.add_argument("--max-after-promotion", type=float, default=10.0)
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="seatcore-ha-"))
    tag = f"ha{int(time.time())}"
    shows = [f"{tag}-{i}" for i in range(SHOWS)]
    seat_ids = [f"S{i}" for i in range(1, SEATS + 1)]
    core = seatcore.SeatCore(a.url, read_url=a.read_url, pool_size=6, checkout_timeout=3.0)
    for show in shows:
        core.initialize_show(show, seat_ids)
    procs, bases = start_servers(a.server_bin, a.url, a.read_url, work)
    led = Ledger()
    stop = threading.Event()
    figures: List[Dict[str, Any]] = []
    threads: List[threading.Thread] = []
    try:
        # Read routing, on the formation's real standby: the read says how far behind it is.
        reader = Http(bases[2])

        def standby_read() -> bool:
            status, v = reader.request("GET", f"/shows/{shows[0]}/seats")
            return status == 200 and isinstance(v.get("replayed_at"), str) and v["total_seats"] == SEATS

        wait_until("a status read served by the standby (replayed_at) through --read-database-url", standby_read, 30)
        wait_until(
            "a status read served by the standby (replayed_at) through read_url=",
            lambda: core.seat_status(shows[0]).replayed_at is not None,
            30,
        )
        say("status reads through the read URL are served by the standby, with replayed_at")

        for n in range(6):
            threads.append(threading.Thread(target=rest_client, args=(n, bases[n % 3], shows, led, stop)))
        for n in range(2):
            threads.append(threading.Thread(target=python_client, args=(n, core, shows, led, stop)))
        for t in threads:
            t.start()

        doors = ["server1", "server2", "server3", "python"]

        def progress(since: float) -> None:
            """Waits until every door has written again, and `--progress` more bookings."""
            with led.lock:
                booked = len(led.bookings)
            wait_until("every door to write again", lambda: all(led.successes_since(d, since) > 0 for d in doors))
            wait_until(f"{a.progress} more bookings", lambda: len(led.bookings) >= booked + a.progress)

        progress(time.time())

        # 1. Planned switchover.
        t0 = ha(a.ha, "failover")
        done = time.time()
        progress(done)
        figures.append(measure(led, "switchover", t0, time.time(), promotion(a.monitor_url, t0)))

        # 2. The primary killed, then brought back as a standby.
        t0 = ha(a.ha, "kill-primary")
        done = time.time()
        progress(done)
        figures.append(measure(led, "kill-primary", t0, time.time(), promotion(a.monitor_url, t0)))
        t0 = ha(a.ha, "revive")
        progress(time.time())
        figures.append(measure(led, "old primary rejoins", t0, time.time(), (None, None)))

        # 3. The standby killed: writes go on without it (degraded), then it comes back.
        t0 = ha(a.ha, "kill-standby")
        done = time.time()
        progress(done)  # while the standby is down
        alone = subprocess.run([a.ha, "status"], stdout=subprocess.PIPE, text=True).stdout
        if "wait_primary" not in alone:
            led.error(f"the standby was back before the writes without it were checked:\n{alone}")
        # reads routed to the standby are served by the primary meanwhile
        status, v = Http(bases[2]).request("GET", f"/shows/{shows[0]}/seats")
        if status != 200 or "replayed_at" in v:
            led.error(f"a status read with the standby down: {status} {str(v)[:200]}")
        figures.append(measure(led, "kill-standby", t0, time.time(), (None, None)))
        t0 = ha(a.ha, "revive")
        progress(time.time())
        figures.append(measure(led, "standby rejoins", t0, time.time(), (None, None)))
    finally:
        stop.set()
        for t in threads:
            t.join()

    try:
        checks(a, led, core, shows, bases, figures)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    return 1 if led.errors else 0


def checks(
    a: argparse.Namespace,
    led: Ledger,
    core: seatcore.SeatCore,
    shows: List[str],
    bases: List[str],
    figures: List[Dict[str, Any]],
) -> None:
    # What the database holds, read on the current primary behind everyone's back.
    with psycopg.connect(a.url, autocommit=True) as c:
        rows = c.execute(
            "SELECT booking_id::text, show_id, seat_ids FROM bookings WHERE show_id = ANY(%s)", (shows,)
        ).fetchall()
    found = {r[0]: (r[1], tuple(sorted(r[2]))) for r in rows}
    lost = [b for b, v in led.bookings.items() if found.get(b) != v]
    for b in lost[:10]:
        led.error(f"acknowledged booking {b} {led.bookings[b]} is not in the database as acknowledged: {found.get(b)}")
    stray = [b for b in found if b not in led.bookings and b not in led.unknown]
    for b in stray[:10]:
        led.error(f"booking {b} {found[b]} was never acknowledged, and no client lost its answer")
    seen: Dict[Tuple[str, str], str] = {}
    for b, (show, seats) in found.items():
        for s in seats:
            if (show, s) in seen:
                led.error(f"seat {show}/{s} is in bookings {seen[(show, s)]} and {b}")
            seen[(show, s)] = b

    audit = core.audit()
    if not audit.ok:
        led.error(f"audit: {audit.problems}")
    for base in bases:
        conn = Http(base)
        status, v = conn.request("GET", "/audit")
        if status != 200 or not v.get("ok"):
            led.error(f"{base} GET /audit: {status} {v}")
        # each server, never restarted, works as before
        status, h = conn.request("GET", "/health")
        if status != 200:
            led.error(f"{base} GET /health: {status} {h}")
        for show in shows:
            free = [s.seat_id for s in core.seat_status(show).seats if s.status == "available"]
            if free:
                break
        status, v = conn.request("POST", f"/shows/{show}/hold", {"seat_ids": free[:1]})
        if status != 201:
            led.error(f"{base} hold after the events: {status} {v}")
            continue
        status, v = conn.request("POST", f"/shows/{show}/book", {"hold_id": v["hold_id"]})
        if status != 200:
            led.error(f"{base} book after the events: {status} {v}")

    # With the standby back, a fresh handle's status reads come from it, and catch up with
    # the primary.
    primary_only = seatcore.SeatCore(a.url, pool_size=1)
    want = primary_only.seat_status(shows[0]).booked_seats
    fresh = seatcore.SeatCore(a.url, read_url=a.read_url, pool_size=1)
    wait_until(
        "the standby to replay the last bookings",
        lambda: (lambda st: st.replayed_at is not None and st.booked_seats == want)(fresh.seat_status(shows[0])),
        30,
    )

    unavailable = sum(n for k, n in led.outcomes.items() if " 503" in k or "Error" in k)
    result = {
        "bookings_acknowledged": len(led.bookings),
        "bookings_found": sum(1 for b in led.bookings if found.get(b) == led.bookings[b]),
        "bookings_lost": len(lost),
        "bookings_unheard": len(led.unknown),
        "bookings_in_database": len(found),
        "writes": len(led.attempts),
        "writes_refused": unavailable,
        "audit_ok": audit.ok,
        "events": figures,
        "errors": len(led.errors),
    }
    for f in figures:
        after = f.get("writes_back_after_promotion_s", 0.0)
        if after is None or after > a.max_after_promotion:
            led.error(f"{f['event']}: writes back {after} s after the promotion (at most {a.max_after_promotion})")
    print(json.dumps(result))
    say("outcomes:", dict(sorted(led.outcomes.items())))
    say("FAILED" if led.errors else "all promises kept")


if __name__ == "__main__":
    sys.exit(main())
