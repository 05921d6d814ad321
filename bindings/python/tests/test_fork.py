"""Handles made before ``fork()``: children use them while the parent's threads are busy on
the same handles, and no connection is ever used by two processes.

A child opens connections of its own on its first call and never touches the ones it
inherited (they are the parent's sessions). Every wait here is bounded: a child that hangs
fails the test instead of hanging it."""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

import psycopg
import pytest

import seatcore
from conftest import ROOT, AuditFn, counts, expire

CHILDREN = 6
HOLDS_PER_CHILD = 20
BUSY_SEATS = 10  # per parent thread

# Python 3.12+ warns that forking a process with threads may deadlock the child: that is
# the hazard these tests show the handles are safe from.
pytestmark = pytest.mark.filterwarnings("ignore:.*multi-threaded.*fork:DeprecationWarning")


class Busy:
    """Parent threads working on the shared handles until stopped: each holds one of its own
    seats, reads the status, releases the hold, again and again. Counts rounds, keeps errors."""

    def __init__(self, work: List[Callable[[int], None]]) -> None:
        self.rounds = [0] * len(work)
        self.errors: List[str] = []
        self.stop = threading.Event()
        self.changed = threading.Condition()
        self.threads = [threading.Thread(target=self._run, args=(i, w)) for i, w in enumerate(work)]
        for t in self.threads:
            t.start()

    def _run(self, i: int, work: Callable[[int], None]) -> None:
        n = 0
        while not self.stop.is_set():
            try:
                work(n)
            except BaseException as err:  # kept, so no failure is lost in a thread
                self.errors.append(f"thread {i}: {err!r}")
            n += 1
            with self.changed:
                self.rounds[i] += 1
                self.changed.notify_all()

    def wait_rounds(self, more: int) -> None:
        """Waits until every thread has done ``more`` rounds beyond where it is now."""
        with self.changed:
            goal = [r + more for r in self.rounds]
            done = self.changed.wait_for(lambda: all(r >= g for r, g in zip(self.rounds, goal)), timeout=60)
        assert done, f"the parent's threads stalled at {self.rounds} (wanted {goal}); errors: {self.errors[:3]}"

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
            assert not t.is_alive(), "a parent thread hung"
        assert not self.errors, self.errors[:5]


def busy_on(db: seatcore.DatabaseManager, core: seatcore.SeatCore, show: str) -> Busy:
    """Two threads on the manager and two on the idiomatic handle."""

    def on_manager(t: int) -> Callable[[int], None]:
        def work(n: int) -> None:
            seat = f"B{t}_{n % BUSY_SEATS}"
            ok, hold = db.hold_seats(show, [seat], 60)
            assert ok, hold
            status = db.get_seat_status(show)
            assert status is not None and status["total_seats"] == len(show_seats()), status
            assert db.release_hold(show, hold["hold_id"]) is True

        return work

    def on_core(t: int) -> Callable[[int], None]:
        def work(n: int) -> None:
            hold = core.hold(show, [f"B{t}_{n % BUSY_SEATS}"], 60)
            assert core.seat_status(show).show_id == show
            core.release(show, hold.hold_id)

        return work

    return Busy([on_manager(0), on_manager(1), on_core(2), on_core(3)])


def child_seats(k: int) -> List[str]:
    return [f"C{k}_{i}" for i in range(HOLDS_PER_CHILD)]


def show_seats() -> List[str]:
    busy = [f"B{t}_{i}" for t in range(4) for i in range(BUSY_SEATS)]
    return busy + [s for k in range(CHILDREN) for s in child_seats(k)]


def hold_in_child(db: seatcore.DatabaseManager, core: seatcore.SeatCore, show: str, k: int, results: Any) -> None:
    """A forked child: one hold per seat of its own, through the inherited manager (even k)
    or the inherited idiomatic handle (odd k); reports the seats it got or its failure."""
    try:
        got: List[str] = []
        for seat in child_seats(k):
            if k % 2 == 0:
                ok, hold = db.hold_seats(show, [seat], 600)
                assert ok, hold
                got.extend(hold["seat_ids"])
            else:
                got.extend(core.hold(show, [seat], 600).seat_ids)
        assert db.health_check()["status"] == "healthy"
        results.put((k, got, None))
    except BaseException as err:
        results.put((k, [], repr(err)))


Report = Tuple[int, List[str], Optional[str]]


def run_children(target: Callable[..., None], args: Tuple[Any, ...], n: int) -> List[Report]:
    """Forks ``n`` children running ``target(*args, k, results)``; their reports, waiting at
    most a minute for each (a hung child is killed and fails the test)."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    children = [ctx.Process(target=target, args=(*args, k, results)) for k in range(n)]
    for child in children:
        child.start()
    reports = []
    try:
        for _ in children:
            reports.append(results.get(timeout=60))
    finally:
        hung = []
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                hung.append(child.pid)
                child.kill()
                child.join(timeout=10)
        assert not hung, f"children {hung} hung"
    assert all(child.exitcode == 0 for child in children), [c.exitcode for c in children]
    return sorted(reports)


def test_children_forked_while_the_parents_threads_are_busy(url: str, audit: AuditFn) -> None:
    db = seatcore.DatabaseManager(url, pool_size=6)
    core = seatcore.SeatCore(url, pool_size=4)
    try:
        assert db.initialize_show("s", show_seats())[0]
        busy = busy_on(db, core, "s")
        try:
            busy.wait_rounds(10)  # every parent thread is at work on the pools
            reports = run_children(hold_in_child, (db, core, "s"), CHILDREN)
            busy.wait_rounds(10)  # and goes on working after the forks
        finally:
            busy.finish()
        assert [(k, error) for k, _, error in reports] == [(k, None) for k in range(CHILDREN)]
        assert [got for _, got, _ in reports] == [child_seats(k) for k in range(CHILDREN)]
        # Every child's holds are in the database; the parent's threads released all of theirs.
        status = core.seat_status("s")
        held = sorted(s.seat_id for s in status.seats if s.status == "held")
        assert held == sorted(s for k in range(CHILDREN) for s in child_seats(k))
        assert counts(audit("s")) == (40 + CHILDREN * HOLDS_PER_CHILD, CHILDREN * HOLDS_PER_CHILD, 0)
    finally:
        db.engine.dispose()
        core.dispose()


# ---- gunicorn --preload running the Flask example ----

WORKERS = 4
GUNICORN_SEATS = 120
GUNICORN_CONF = pathlib.Path(__file__).with_name("gunicorn_conf.py")


def require_gunicorn() -> None:
    """gunicorn is in requirements-dev.txt; without it the test is skipped, or fails under CI."""
    if importlib.util.find_spec("gunicorn") is None:
        message = "needs gunicorn (bindings/python/requirements-dev.txt)"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: a missing prerequisite is a failure)")
        pytest.skip(message)


def tcp_sockets(local_port: int, remote_port: int) -> Set[str]:
    """The inodes of this machine's TCP sockets from ``local_port`` to ``remote_port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == local_port and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                    inodes.add(f"socket:[{inode}]")
    return inodes


def holders(pids: Iterable[int], sockets: Set[str]) -> Set[int]:
    """Which of ``pids`` have one of ``sockets`` open (a process gone has none)."""
    found = set()
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except FileNotFoundError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in sockets:
                    found.add(pid)
            except OSError:
                pass  # closed meanwhile
    return found


class Gunicorn:
    """``gunicorn --preload`` serving the Flask example, its logs in files of ``tmp``."""

    def __init__(self, tmp: pathlib.Path, database_url: str) -> None:
        self.errors = tmp / "gunicorn.log"
        self.access = tmp / "access.log"
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "--preload", "--workers", str(WORKERS),
                "--bind", "127.0.0.1:0", "--no-control-socket", "--config", str(GUNICORN_CONF),
                "--chdir", str(ROOT / "examples" / "python"),
                "--error-logfile", str(self.errors), "--access-logfile", str(self.access),
                "--access-logformat", '%(p)s %(s)s "%(r)s"',
                # the master's sweeper thread keeps the master busy on its connections
                "flask_app:create_app(sweep_interval=0.05)",
            ],
            env={**os.environ, "DATABASE_URL": database_url},
        )
        self.port, self.master = map(int, self.wait_for(r"Listening at: http://127\.0\.0\.1:(\d+) \((\d+)\)")[0])

    def log(self) -> str:
        return self.errors.read_text() if self.errors.exists() else ""

    def wait_for(self, pattern: str, count: int = 1) -> List[Tuple[str, ...]]:
        """The first ``count`` matches of ``pattern`` in the log, waiting for them (at most a minute)."""
        deadline = time.monotonic() + 60
        while True:
            found = [m.groups() for m in re.finditer(pattern, self.log())]
            if len(found) >= count:
                return found[:count]
            assert self.proc.poll() is None, f"gunicorn exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"gunicorn never logged {pattern!r}:\n{self.log()}"
            time.sleep(0.02)

    def workers(self, count: int) -> List[int]:
        """The first ``count`` workers, once each is ready."""
        return [int(pid) for (pid,) in self.wait_for(r"worker ready: (\d+)", count)]

    def wait_until_gone(self, pid: int) -> None:
        """Waits (at most 20 s) until the worker ``pid`` has exited and the master reaped it."""
        deadline = time.monotonic() + 20
        while os.path.exists(f"/proc/{pid}"):
            assert time.monotonic() < deadline, f"worker {pid} did not exit on SIGTERM:\n{self.log()}"
            time.sleep(0.02)

    def served(self) -> List[Tuple[int, int]]:
        """``(worker pid, status)`` of every request logged, in order."""
        text = self.access.read_text() if self.access.exists() else ""
        return [(int(pid), int(status)) for pid, status in re.findall(r"^<(\d+)> (\d+) ", text, re.M)]

    def hold(self, seat: str) -> Tuple[int, Dict[str, Any]]:
        body = json.dumps({"seat_ids": [seat]}).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/shows/g/hold", data=body, method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def stop(self) -> None:
        """Stops gunicorn; it must be quick: well within its 30 s grace for the workers, so a
        worker that hangs on its way out fails the test."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            pytest.fail(f"gunicorn did not stop within 20 s of SIGTERM:\n{self.log()}")


def backends(raw: psycopg.Connection, application_name: str) -> Dict[int, int]:
    """``{backend pid: client port}`` of the connections named ``application_name``."""
    rows = raw.execute(
        "SELECT pid, client_port FROM pg_stat_activity WHERE application_name = %s", (application_name,)
    ).fetchall()
    for pid, port in rows:
        if port is None or port < 0:
            message = f"backend {pid} is not a TCP connection (the test maps TCP sockets to processes)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    return dict(rows)


def test_gunicorn_preload_workers_serve_on_connections_of_their_own(
    url: str, schema: str, raw: psycopg.Connection, tmp_path: pathlib.Path
) -> None:
    """The Flask example under ``gunicorn --preload``: the master makes the manager (and its
    pool) and runs the sweeper thread; the forked workers serve holds over HTTP. Every
    worker's first request works, each hold runs on a connection its worker opened (never
    one it inherited from the master), the master's connections stay the master's, a worker
    that exits closes only its own, and the master's sweeper goes on."""
    require_gunicorn()
    server_port = urllib.parse.urlsplit(url).port or 5432
    name = f"gunicorn_{schema}"[:63]
    with seatcore.SeatCore(url) as setup:
        setup.initialize_show("g", [f"G{i}" for i in range(GUNICORN_SEATS)])
    # Which backend ran each statement on `holds`, behind seatcore's back.
    raw.execute("CREATE TABLE hold_backends (op text, hold_id uuid, backend int)")
    raw.execute(
        "CREATE FUNCTION note_backend() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " INSERT INTO hold_backends VALUES (TG_OP, CASE TG_OP WHEN 'DELETE' THEN OLD.hold_id ELSE NEW.hold_id END,"
        " pg_backend_pid()); RETURN NULL; END $$"
    )
    raw.execute(
        "CREATE TRIGGER note_backend AFTER INSERT OR DELETE ON holds"
        " FOR EACH ROW EXECUTE FUNCTION note_backend()"
    )

    server = Gunicorn(tmp_path, f"{url}&application_name={name}")
    try:
        workers = server.workers(WORKERS)
        # Before any request, every connection is the master's (it made the manager and
        # created the demo show); the workers inherited them all.
        inherited = backends(raw, name)
        assert inherited, "the master holds no connection"
        processes = [server.master, *workers]
        for backend, port in inherited.items():
            assert holders(processes, tcp_sockets(port, server_port)) == set(processes), backend

        # Holds over HTTP, several at a time, until every worker has served some.
        replies: List[Tuple[int, Dict[str, Any]]] = []
        for start in range(0, GUNICORN_SEATS // 2, 8):
            with ThreadPoolExecutor(8) as pool:
                replies.extend(pool.map(server.hold, [f"G{i}" for i in range(start, start + 8)]))
            if {pid for pid, _ in server.served()} == set(workers):
                break
        assert [status for status, _ in replies] == [201] * len(replies), replies
        served = server.served()
        assert [status for _, status in served] == [201] * len(served)
        first = {pid: next(status for p, status in served if p == pid) for pid in workers}
        assert first == dict.fromkeys(workers, 201), "a worker's first request failed"

        # Each hold ran on a connection of exactly one worker, opened after the fork.
        rows = raw.execute("SELECT hold_id::text, backend FROM hold_backends WHERE op = 'INSERT'").fetchall()
        ran_on = dict(rows)
        assert sorted(ran_on) == sorted(hold["hold_id"] for _, hold in replies)
        now = backends(raw, name)
        users = set()
        for backend in set(ran_on.values()):
            assert backend not in inherited, f"a worker used the master's connection {backend}"
            owners = holders(processes, tcp_sockets(now[backend], server_port))
            assert len(owners) == 1 and owners <= set(workers), (backend, owners)
            users |= owners
        assert users == set(workers)

        # A worker that never served (a fresh replacement) exits: it closes nothing of the
        # master's. Then the master's sweeper still removes an expired hold.
        # Each exit must be prompt: well within gunicorn's 30 s grace, after which the
        # master would kill a worker that hangs on its way out.
        os.kill(workers[0], signal.SIGTERM)
        (fresh,) = server.workers(WORKERS + 1)[WORKERS:]
        server.wait_until_gone(workers[0])
        os.kill(fresh, signal.SIGTERM)
        server.wait_until_gone(fresh)
        server.workers(WORKERS + 2)  # its replacement
        still = backends(raw, name)
        assert set(inherited) <= set(still), "an exiting worker closed the master's connections"
        expired = replies[0][1]["hold_id"]
        expire(raw, expired)
        deadline = time.monotonic() + 30
        while raw.execute("SELECT count(*) FROM holds WHERE hold_id = %s", (expired,)).fetchone() != (0,):
            assert time.monotonic() < deadline, "the master's sweeper never removed the expired hold"
            time.sleep(0.02)
        (sweeper,) = raw.execute(
            "SELECT backend FROM hold_backends WHERE op = 'DELETE' AND hold_id = %s", (expired,)
        ).fetchone()  # type: ignore[misc]
        master_only = holders(processes, tcp_sockets(backends(raw, name)[sweeper], server_port))
        assert sweeper in inherited or master_only == {server.master}, "the sweep ran outside the master"
    finally:
        server.stop()
    assert "Traceback" not in server.log(), server.log()
