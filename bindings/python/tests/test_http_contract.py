"""The REST contract over real HTTP (the checks of ``http_contract.py``) against each door that
serves it: ``seatcore-server`` (the binary ``cargo build -p seatcore-server`` makes; test.sh
builds it), the FastAPI example on uvicorn, the Flask example on werkzeug. Each door serves a
fresh schema; the end state is audited by the ``schema`` fixture."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import threading
import time
import uuid
from typing import Callable, Iterator, List

import psycopg
import pytest
import uvicorn

import http_contract
from conftest import ROOT
from http_contract import Client, load_example, serve_flask

DOORS = ["server", "fastapi", "flask"]


def server_binary() -> pathlib.Path:
    """The debug ``seatcore-server``; without it the test is skipped, or fails when CI is set."""
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = target / "debug" / "seatcore-server"
    if not path.exists():
        message = f"needs {path} (cargo build -p seatcore-server; test.sh builds it)"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: a missing prerequisite is a failure)")
        pytest.skip(message)
    return path


def serve_server(url: str, tmp_path: pathlib.Path) -> Iterator[Client]:
    log_path = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATCORE_") and k != "DATABASE_URL"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(server_binary()), "--database-url", url, "--bind", "127.0.0.1:0", "--workers", "8",
             "--sweep-interval-ms", "200"],
            stdout=log, stderr=log, env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            found = re.search(r"listening on http://(\S+)", log_path.read_text(errors="replace"))
            if found:
                break
            assert proc.poll() is None, f"seatcore-server exited: {log_path.read_text(errors='replace')}"
            assert time.monotonic() < deadline, "seatcore-server never listened"
            time.sleep(0.05)
        yield Client(f"http://{found.group(1)}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def serve_fastapi(url: str) -> Iterator[Client]:
    app = load_example("fastapi_app").create_app(url, sweep_interval=0.2, keep_alive=1.0, pool_size=8)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=5)
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn never started"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Client(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture(params=DOORS)
def door(request: pytest.FixtureRequest, url: str, tmp_path: pathlib.Path) -> Iterator[Client]:
    if request.param == "server":
        yield from serve_server(url, tmp_path)
    elif request.param == "fastapi":
        yield from serve_fastapi(url)
    else:
        yield from serve_flask(url)


Check = Callable[[Client, psycopg.Connection], None]


def ids(checks: List[Check]) -> List[str]:
    return [c.__name__.removeprefix("check_") for c in checks]


@pytest.mark.parametrize("check", http_contract.CHECKS, ids=ids(http_contract.CHECKS))
def test_contract(door: Client, raw: psycopg.Connection, check: Check) -> None:
    check(door, raw)


@pytest.mark.parametrize("check", http_contract.EVENT_CHECKS, ids=ids(http_contract.EVENT_CHECKS))
@pytest.mark.parametrize("door", ["server", "fastapi"], indirect=True)
def test_event_stream(door: Client, raw: psycopg.Connection, check: Check) -> None:
    check(door, raw)


def test_fastapi_event_streams_close_their_connections_when_clients_leave(url: str, raw: psycopg.Connection) -> None:
    name = f"sse_{uuid.uuid4().hex[:8]}"

    def listening() -> int:
        row = raw.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND query LIKE 'LISTEN %%'", (name,)
        ).fetchone()
        assert row is not None
        return int(row[0])

    def until(count: int, what: str) -> None:
        deadline = time.monotonic() + 30
        while listening() != count:
            assert time.monotonic() < deadline, what
            time.sleep(0.02)

    door = serve_fastapi(f"{url}&application_name={name}")
    client = next(door)
    try:
        first = client.events("/shows/avengers_2026_7pm/events")
        second = client.events("/shows/avengers_2026_7pm/events?after=0")
        until(2, "two event streams, two LISTEN connections")
        assert second.next()[1]["event"] == "initialized"
        first.close()
        until(1, "a stream whose client left kept its connection")
        # The other stream goes on, and ordinary requests are served meanwhile.
        assert client.post("/shows/avengers_2026_7pm/hold", {"seat_ids": ["A1"]})[0] == 201
        assert second.next()[1]["event"] == "held"
        second.close()
        until(0, "a stream whose client left kept its connection")
    finally:
        door.close()
