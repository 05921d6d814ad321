"""Many instances, one database: the driver behind scripts/chaos.sh.

Three seatcore-server processes (REST), the Python module (SeatCore with request keys, and
the drop-in DatabaseManager) and the C kiosk example hammer the same shows at once. Every
acknowledged hold and booking is written down; afterwards the database is checked behind
everyone's back:

* every acknowledged booking exists, with the seats it was acknowledged with;
* no seat is in two acknowledged bookings;
* the core's invariant audit (``SeatCore.audit``, on a direct connection) finds nothing:
  no seat in two bookings, two live holds, or a live hold and a booking, every seat
  carrying its hold or booking, counts as declared;
* the booked seats in the database are exactly the seats of the acknowledged bookings (no
  booking was made that nobody heard of, none was lost);
* each server and the Python module report the same seat counts, with invariants_valid.

A "lost response" is simulated on one hold in five: the same request is sent again with the
same Idempotency-Key / request_key (over REST to a *different* server) and must return the
same hold.

Usage: python many.py --servers URL,URL,URL --db-url URL --check-url URL --kiosk PATH
                      --label NAME [--seconds 8]
Prints one JSON line of figures on stdout; exits non-zero on any broken promise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any, Dict, Iterator, List, Optional, Tuple

import psycopg

import seatcore

# scripts/keepalive.py, shared by the rounds that drive servers from outside
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from keepalive import Http  # noqa: E402

SEATS = 1000
Acknowledged = Tuple[str, str, Tuple[str, ...]]  # (show, booking_id, seats)


class Ledger:
    """What one door saw. Acknowledged results only in holds/bookings."""

    def __init__(self, door: str) -> None:
        self.door = door
        self.requests = 0
        self.outcomes: Counter[str] = Counter()
        self.holds = 0
        self.bookings: List[Acknowledged] = []
        self.replays = 0
        self.unknown_bookings = 0  # booking attempts whose outcome no one heard (fault rounds)
        self.errors: List[str] = []

    def merge(self, other: "Ledger") -> None:
        self.requests += other.requests
        self.outcomes.update(other.outcomes)
        self.holds += other.holds
        self.bookings.extend(other.bookings)
        self.replays += other.replays
        self.unknown_bookings += other.unknown_bookings
        self.errors.extend(other.errors)


def pick(rng: random.Random) -> List[str]:
    a, b = rng.sample(range(1, SEATS + 1), 2)
    return [f"S{a}", f"S{b}"]


Attempt = Tuple[str, List[str], str]  # (show, seats, request key)


def attempts(rng: random.Random, shows: List[str], stop: threading.Event, door: str) -> Iterator[Attempt]:
    """Until `stop` is set: a show, two of its seats and a request key never used before, per attempt."""
    i = 0
    while not stop.is_set():
        i += 1
        yield rng.choice(shows), pick(rng), f"{door}-{i}-{time.monotonic_ns()}"


# Set by --crash: the database crashes mid-run, so failures of the database (REST 503 JSON,
# the Python module's Database*Error, the kiosk's SEATCORE_UNAVAILABLE) are expected, and
# clients retry: holds with the same key, bookings by hold id (both idempotent).
FAULTS = False
RETRIES = 15


def outage(led: Ledger, what: str) -> None:
    """A failure of the database: tolerated only in a fault round."""
    led.outcomes[f"{what} during outage"] += 1
    if not FAULTS:
        led.errors.append(f"{what}: database failure without a fault")


def rest_client(n: int, servers: List[str], shows: List[str], stop: threading.Event) -> Ledger:
    led = Ledger("rest")
    rng = random.Random(1000 + n)
    mine = Http(servers[n % len(servers)], timeout=15)
    other = Http(servers[(n + 1) % len(servers)], timeout=15)

    def post(path: str, body: Dict[str, Any], what: str, key: Optional[str] = None) -> Tuple[int, Any]:
        """POST, retried after a 503 (each must carry a JSON error) when the request is idempotent."""
        for _ in range(RETRIES if what != "release" else 1):
            status, v = mine.post(path, body, key)
            led.requests += 1
            led.outcomes[f"{what} {status}"] += 1
            if status != 503:
                if status >= 500:
                    led.errors.append(f"{what}: {status} {v}")
                return status, v
            if not (isinstance(v, dict) and isinstance(v.get("error"), str)):
                led.errors.append(f"{what}: 503 without a JSON error: {v}")
            outage(led, what)
            time.sleep(0.3)
        return 503, None

    for show, seats, key in attempts(rng, shows, stop, f"rest{n}"):
        body = {"seat_ids": seats, "hold_duration_seconds": 60}
        status, v = post(f"/shows/{show}/hold", body, "hold", key)
        if status != 201:
            continue
        led.holds += 1
        if rng.random() < 0.2:
            # The answer was "lost": retry through another server with the same key.
            s2, v2 = other.post(f"/shows/{show}/hold", body, key)
            led.requests += 1
            if s2 == 503 and FAULTS:
                outage(led, "replay")
            elif (s2, v2["hold_id"] if s2 == 201 else None) != (201, v["hold_id"]):
                led.errors.append(f"replay of {key} gave {s2} {v2}, first was {v}")
            else:
                led.replays += 1
        r = rng.random()
        if r < 0.5:
            status, b = post(f"/shows/{show}/book", {"hold_id": v["hold_id"]}, "book")
            if status == 200:
                led.bookings.append((show, b["booking_id"], tuple(sorted(b["seat_ids"]))))
            elif status == 503:
                led.unknown_bookings += 1
            else:
                led.errors.append(f"book of a fresh hold: {status} {b}")
        elif r < 0.75:
            status, b = post(f"/shows/{show}/release-hold", {"hold_id": v["hold_id"]}, "release")
            if status not in (200, 503):
                led.errors.append(f"release of a fresh hold: {status} {b}")
    return led


INFRA = (seatcore.DatabaseUnavailableError, seatcore.DatabaseBusyError, seatcore.DatabaseError)


def python_client(n: int, core: seatcore.SeatCore, shows: List[str], stop: threading.Event) -> Ledger:
    led = Ledger("python")
    rng = random.Random(2000 + n)

    def retried(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        for _ in range(RETRIES):
            led.requests += 1
            try:
                return fn(*args, **kwargs)
            except INFRA:
                outage(led, what)
                time.sleep(0.3)
        return None

    for show, seats, key in attempts(rng, shows, stop, f"py{n}"):
        try:
            h = retried("hold", core.hold, show, seats, 60, request_key=key)
        except seatcore.SeatsUnavailableError:
            led.outcomes["hold unavailable"] += 1
            continue
        if h is None:
            continue
        led.outcomes["hold ok"] += 1
        led.holds += 1
        if rng.random() < 0.2:
            again = retried("replay", core.hold, show, list(reversed(seats)), 60, request_key=key)
            if again is not None and again.hold_id != h.hold_id:
                led.errors.append(f"replay of {key} gave hold {again.hold_id}, first was {h.hold_id}")
            led.replays += again is not None
        r = rng.random()
        try:
            if r < 0.5:
                b = retried("book", core.book, show, h.hold_id)
                if b is None:
                    led.unknown_bookings += 1
                else:
                    led.outcomes["book ok"] += 1
                    led.bookings.append((show, str(b.booking_id), tuple(sorted(b.seat_ids))))
            elif r < 0.75:
                led.requests += 1
                core.release(show, h.hold_id)
                led.outcomes["release ok"] += 1
        except INFRA:
            outage(led, "release")
        except seatcore.SeatcoreError as e:
            led.errors.append(f"book/release of a fresh hold: {type(e).__name__}: {e}")
    return led


def manager_client(url: str, shows: List[str], stop: threading.Event) -> Ledger:
    """The drop-in DatabaseManager API, as the old Flask app called it."""
    led = Ledger("python-manager")
    db = seatcore.DatabaseManager(url)
    rng = random.Random(3000)
    while not stop.is_set():
        show = rng.choice(shows)
        led.requests += 1
        ok, res = db.hold_seats(show, pick(rng), 60)
        if not ok:
            if res.get("error", "").startswith("internal error"):
                outage(led, "hold_seats")
                time.sleep(0.3)
            else:
                led.outcomes["hold refused"] += 1
                if res.get("error") != "seats unavailable":
                    led.errors.append(f"hold_seats: {res}")
            continue
        led.holds += 1
        for _ in range(RETRIES):
            led.requests += 1
            ok, b = db.book_hold(show, res["hold_id"])
            if ok or not b.get("error", "").startswith("internal error"):
                break
            outage(led, "book_hold")
            time.sleep(0.3)
        if ok:
            led.outcomes["book ok"] += 1
            led.bookings.append((show, b["booking_id"], tuple(sorted(b["seat_ids"]))))
        elif b.get("error", "").startswith("internal error"):
            led.unknown_bookings += 1
        else:
            led.errors.append(f"book_hold of a fresh hold: {b}")
    db.engine.dispose()
    return led


BOOKED_LINE = re.compile(r"^booking (\S+) for show (\S+) at \S+: (.*)$", re.M)
HELD_LINE = re.compile(r"^held .* \(hold (\S+)\)$", re.M)


def kiosk_client(kiosk: str, url: str, shows: List[str], stop: threading.Event) -> Ledger:
    """The C kiosk example, run again and again: each run holds and books two seats."""
    led = Ledger("c-kiosk")
    n = 0
    while not stop.is_set():
        show = shows[n % len(shows)]
        n += 1
        p = subprocess.run([kiosk, show], env={"DATABASE_URL": url}, capture_output=True, text=True, timeout=60)
        led.requests += 1
        m = BOOKED_LINE.search(p.stdout)
        if m:  # printed, so acknowledged (even if the final seat map then failed)
            led.outcomes["run booked"] += 1
            led.holds += 1
            led.bookings.append((m.group(2), m.group(1), tuple(sorted(m.group(3).split()))))
            if p.returncode != 0:
                outage(led, "kiosk seat map after booking")
        elif "SEATCORE_SEATS_UNAVAILABLE" in p.stderr:
            led.outcomes["run refused (seat just taken)"] += 1
        elif re.search(r"SEATCORE_(UNAVAILABLE|BUSY|DATABASE)", p.stderr):
            outage(led, "kiosk run")
            if HELD_LINE.search(p.stdout):
                led.holds += 1
                led.unknown_bookings += 1  # held, then the booking's answer was lost
            time.sleep(0.3)
        else:
            led.errors.append(f"kiosk exit {p.returncode}: {p.stderr.strip()[-300:]}")
    return led


def run_threads(jobs: List[Any], seconds: float) -> List[Ledger]:
    stop = threading.Event()
    results: List[Optional[Ledger]] = [None] * len(jobs)
    failures: List[str] = []

    def wrap(i: int, fn: Any, args: Tuple[Any, ...]) -> None:
        try:
            results[i] = fn(*args, stop)
        except Exception as e:  # a crash of a client is a failure, not a silent gap
            failures.append(f"{fn.__name__}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=wrap, args=(i, fn, args)) for i, (fn, args) in enumerate(jobs)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    if failures:
        raise SystemExit("client failures:\n" + "\n".join(failures))
    return [r for r in results if r is not None]


def check(
    check_url: str,
    servers: List[str],
    core: seatcore.SeatCore,
    shows: List[str],
    bookings: List[Acknowledged],
    unknown: int,
) -> Dict[str, Any]:
    """The ledger against the database, and the core's audit of every show the run touched."""
    problems: List[str] = []
    seen: set = set()
    for show, _bid, seats in bookings:
        for s in seats:
            if (show, s) in seen:
                problems.append(f"seat {show}/{s} is in two acknowledged bookings")
            seen.add((show, s))
    all_shows = sorted({b[0] for b in bookings} | set(shows))
    found = 0
    with psycopg.connect(check_url, autocommit=True) as c:
        for show, bid, seats in bookings:
            row = c.execute(
                "SELECT seat_ids FROM bookings WHERE booking_id::text = %s AND show_id = %s", (bid, show)
            ).fetchone()
            if row is None:
                problems.append(f"acknowledged booking {bid} ({show}) is gone")
            elif tuple(sorted(row[0])) != seats:
                problems.append(f"booking {bid}: stored {row[0]}, acknowledged {seats}")
            else:
                found += 1
    # Every invariant of the rows (seats in two bookings or live holds, seats that do not
    # carry their hold or booking, counts): the core's audit, on a direct connection.
    booked_seats = 0
    with seatcore.SeatCore(check_url, pool_size=1, min_idle=0, migrate=False) as auditor:
        for show in all_shows:
            audit = auditor.audit(show)
            booked_seats += audit.booked
            problems += [f"audit: {p}" for p in audit.problems]
            if audit.problem_count > len(audit.problems):
                problems.append(f"audit of {show}: {audit.problem_count} problems in all")
    acked_seats = sum(len(b[2]) for b in bookings)
    # Every hold is of two seats; a booking whose answer was lost may or may not exist.
    if not acked_seats <= booked_seats <= acked_seats + 2 * unknown:
        problems.append(f"{booked_seats} seats booked in the database, {acked_seats} in acknowledged bookings"
                        f" (+ at most {2 * unknown} from {unknown} bookings whose answer was lost)")
    # Every door reports the same seat map, and says it is consistent.
    for show in all_shows:
        views = []
        for base in servers:
            _status, v = Http(base).get(f"/shows/{show}/seats")
            views.append((v["total_seats"], v["booked_seats"], v["invariants_valid"]))
        st = core.seat_status(show)
        views.append((st.total_seats, st.booked_seats, st.invariants_valid))
        if not all(valid for _, _, valid in views):
            problems.append(f"{show}: a door reports invariants_valid false: {views}")
        if len(set(views)) != 1:
            problems.append(f"{show}: the doors disagree on booked seats: {views}")
    return {"problems": problems, "found": found, "booked_seats": booked_seats, "acked_seats": acked_seats}


def lost_reply_checks(db_url: str, check_url: str, servers: List[str], lost_reply: str, label: str) -> Dict[str, Any]:
    """A process dies after its keyed hold was made but before it read the reply; a restarted
    process retries with the same key and must get that hold, and only one hold may exist.
    C: scripts/chaos/lost_reply.c; Python: a child interpreter that aborts. The REST door
    then retries the C key (keys are per show, whichever door made the hold)."""
    show = f"chaos_{label}_lost"
    problems: List[str] = []
    seatcore.SeatCore(db_url, pool_size=1).initialize_show(show, ["L1", "L2", "L3", "L4"])
    env = {"DATABASE_URL": db_url}
    c_key, py_key = f"c-lost-{label}", f"py-lost-{label}"
    crashed = subprocess.run([lost_reply, "--crash", show, c_key, "L1", "L2"], env=env, capture_output=True, text=True)
    c_retry = subprocess.run([lost_reply, show, c_key, "L2", "L1"], env=env, capture_output=True, text=True)
    child = (
        "import os, sys, seatcore\n"
        "seatcore.SeatCore(sys.argv[1]).hold(sys.argv[2], ['L3', 'L4'], 120, request_key=sys.argv[3])\n"
        "os.abort()\n"
    )
    py_crashed = subprocess.run([sys.executable, "-c", child, db_url, show, py_key], capture_output=True, text=True)
    py_retry = seatcore.SeatCore(db_url, pool_size=1).hold(show, ["L3", "L4"], 120, request_key=py_key)
    status, rest_retry = Http(servers[0]).post(f"/shows/{show}/hold", {"seat_ids": ["L1", "L2"]}, c_key)
    with psycopg.connect(check_url, autocommit=True) as c:
        by_key = "SELECT hold_id::text FROM holds WHERE show_id = %s AND request_key = %s"
        stored = {k: [r[0] for r in c.execute(by_key, (show, k))] for k in (c_key, py_key)}
        holds = c.execute("SELECT count(*) FROM holds WHERE show_id = %s", (show,)).fetchone()[0]
    if crashed.returncode >= 0 or py_crashed.returncode >= 0:
        problems.append(f"the crashing processes did not crash: {crashed.returncode} {py_crashed.returncode}"
                        f" {py_crashed.stderr[-300:]}")
    if len(stored[c_key]) != 1 or c_retry.returncode != 0 or c_retry.stdout.strip() != stored[c_key][0]:
        problems.append(f"C lost reply: stored {stored[c_key]}, retry gave {c_retry.returncode}"
                        f" {c_retry.stdout!r} {c_retry.stderr!r}")
    if len(stored[py_key]) != 1 or str(py_retry.hold_id) != stored[py_key][0]:
        problems.append(f"Python lost reply: stored {stored[py_key]}, retry gave {py_retry.hold_id}")
    if status != 201 or rest_retry["hold_id"] != stored[c_key][0]:
        problems.append(f"REST retry of the C key: {status} {rest_retry}")
    if holds != 2:
        problems.append(f"{holds} holds on {show}, expected 2")
    return {"problems": problems, "lost_replies_recovered": 3 - len(problems)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers", required=True)
    ap.add_argument("--db-url", required=True, help="what the Python module and the C kiosk connect to")
    ap.add_argument("--check-url", required=True, help="a direct connection, for the checks")
    ap.add_argument("--kiosk", required=True)
    ap.add_argument("--lost-reply", required=True, help="the scripts/chaos/lost_reply.c binary")
    ap.add_argument("--label", required=True)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--crash", help="a shell command that crashes and restarts the database; run a third into the load")
    a = ap.parse_args()
    global FAULTS
    FAULTS = a.crash is not None
    servers = a.servers.split(",")
    shows = [f"chaos_{a.label}_1", f"chaos_{a.label}_2"]
    core = seatcore.SeatCore(a.db_url, pool_size=8)
    for show in shows:
        core.initialize_show(show, [f"S{i}" for i in range(1, SEATS + 1)])
    jobs: List[Any] = [(rest_client, (n, servers, shows)) for n in range(6)]
    jobs += [(python_client, (n, core, shows)) for n in range(2)]
    jobs.append((manager_client, (a.db_url, shows)))
    jobs.append((kiosk_client, (a.kiosk, a.db_url, shows)))
    crash_figures: Dict[str, Any] = {}
    crasher = None
    if a.crash:
        def started_at() -> Any:
            with psycopg.connect(a.check_url, autocommit=True) as c:
                return c.execute("SELECT pg_postmaster_start_time()").fetchone()[0]

        def crash() -> None:
            time.sleep(a.seconds / 3)
            before = started_at()
            t0 = time.monotonic()
            subprocess.run(a.crash, shell=True, check=True)
            back = time.monotonic()
            crash_figures["restarted"] = started_at() != before
            crash_figures["outage_s"] = round(back - t0, 2)
            # every server answers normally again, without a restart
            pending = set(servers)
            while pending and time.monotonic() - back < 5:
                for base in list(pending):
                    try:
                        if Http(base).get("/health")[0] == 200:
                            pending.discard(base)
                    except RuntimeError:
                        pass
                time.sleep(0.02)
            crash_figures["all_servers_healthy_after_s"] = round(time.monotonic() - back, 3)
            crash_figures["servers_not_recovered_in_5s"] = len(pending)
        crasher = threading.Thread(target=crash)
        crasher.start()
    started = time.monotonic()
    ledgers = run_threads(jobs, a.seconds)
    took = time.monotonic() - started
    by_door: Dict[str, Ledger] = {}
    for led in ledgers:
        by_door.setdefault(led.door, Ledger(led.door)).merge(led)
    everything = Ledger("all")
    for led in by_door.values():
        everything.merge(led)
    if crasher is not None:
        crasher.join()
    result = check(a.check_url, servers, core, shows, everything.bookings, everything.unknown_bookings)
    lost = lost_reply_checks(a.db_url, a.check_url, servers, a.lost_reply, a.label)
    figures = {
        "label": a.label,
        "seconds": round(took, 1),
        "requests": everything.requests,
        "holds_acknowledged": everything.holds,
        "bookings_acknowledged": len(everything.bookings),
        "bookings_found": result["found"],
        "booked_seats": result["booked_seats"],
        "key_replays_same_hold": everything.replays,
        "lost_replies_recovered": lost["lost_replies_recovered"],
        "bookings_with_lost_answer": everything.unknown_bookings,
        # failures the clients saw (and retried); the core's own retries and pool waits hide
        # a short outage entirely
        "outage_answers_seen": sum(n for led in by_door.values() for k, n in led.outcomes.items() if "outage" in k),
        "slowest_http_answer_s": round(Http.slowest, 2),
        "errors": len(everything.errors),
        **crash_figures,
        "by_door": {
            d: {
                "requests": led.requests,
                "holds": led.holds,
                "bookings": len(led.bookings),
                "outcomes": dict(led.outcomes),
            }
            for d, led in by_door.items()
        },
    }
    print(json.dumps(figures))
    bad = everything.errors + result["problems"] + lost["problems"]
    if crash_figures.get("servers_not_recovered_in_5s"):
        bad.append(f"servers not answering normally 5 s after the database was back: {crash_figures}")
    if FAULTS and not crash_figures.get("restarted"):
        bad.append(f"the database did not restart: {crash_figures}")
    for door, led in by_door.items():
        if not led.bookings:
            bad.append(f"the {door} door acknowledged no booking: the load did nothing there")
    if bad:
        print(f"many instances ({a.label}): {len(bad)} broken promises:", file=sys.stderr)
        for line in bad[:30]:
            print("  " + line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
