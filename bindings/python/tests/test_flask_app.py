"""The drop-in inside a real app: examples/python/flask_app.py (the old REST contract on
``seatcore.DatabaseManager``) served by werkzeug on a free port, driven over HTTP."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, Optional, Tuple

import psycopg
import pytest
from werkzeug.serving import make_server

from conftest import ROOT, AuditFn, expire

APP_PATH = ROOT / "examples" / "python" / "flask_app.py"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("flask_app", APP_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: Any = None, raw: Optional[bytes] = None,
             content_type: str = "application/json") -> Tuple[int, Any, Dict[str, str]]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, payload, headers = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            status, payload, headers = err.code, err.read(), dict(err.headers)
        ctype = headers.get("Content-Type", "")
        return status, json.loads(payload) if "json" in ctype else payload.decode(), headers

    def get(self, path: str) -> Tuple[int, Any]:
        status, body, _ = self.call("GET", path)
        return status, body

    def post(self, path: str, body: Any = None, **kw: Any) -> Tuple[int, Any]:
        status, body, _ = self.call("POST", path, body, **kw)
        return status, body


@pytest.fixture
def client(url: str) -> Iterator[Client]:
    app = load_example().create_app(url, sweep_interval=0.2)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Client(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["seatcore.shutdown"]()


def test_demo_show_page_health_and_cors(client: Client) -> None:
    status, health, headers = client.call("GET", "/health")
    assert status == 200 and health == {"status": "healthy", "database": "connected", "shows": 1}
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, seats = client.get("/shows/avengers_2026_7pm/seats")
    assert status == 200 and seats["total_seats"] == 50 and seats["available_seats"] == 50
    assert [s["seat_id"] for s in seats["seats"]][:3] == ["A1", "A2", "A3"]
    status, page = client.get("/")
    assert status == 200 and "<html" in page and "avengers_2026_7pm" in page
    assert "https://" not in page and "http://" not in page  # no CDN: works offline
    # Routes come from the core's endpoint table: a wrong method is Flask's 405, with Allow.
    status, _, headers = client.call("GET", "/shows/avengers_2026_7pm/hold")
    assert status == 405 and "POST" in headers["Allow"]
    assert client.call("GET", "/nowhere")[0] == 404


def test_initialize_and_its_validation(client: Client) -> None:
    assert client.post("/shows/s/initialize", {"seat_ids": ["A1", "A2"]}) == (
        201, {"message": "show initialized with 2 seats", "show_id": "s", "seat_count": 2})
    assert client.post("/shows/s/initialize", {"seat_ids": ["A1"]}) == (409, {"error": "show already exists"})
    cases = [
        ({"seat_ids": "A1"}, {"error": "seat_ids must be provided as a non-empty JSON array"}),
        ({}, {"error": "seat_ids must be provided as a non-empty JSON array"}),
        ({"seat_ids": []}, {"error": "seat_ids must contain at least one seat"}),
        ({"seat_ids": ["A1", 3]}, {"error": "each seat_id must be a string", "details": {"index": 1}}),
        ({"seat_ids": ["A1", " "]}, {"error": "seat_ids must not contain empty strings", "details": {"index": 1}}),
        ({"seat_ids": ["A1", "A1 "]}, {"error": "seat_ids must not contain duplicates"}),
    ]
    for body, expected in cases:
        assert client.post("/shows/t/initialize", body) == (400, expected)
    not_object = {"error": "request body must be a JSON object"}
    assert client.post("/shows/t/initialize", ["A1"]) == (400, not_object)
    assert client.post("/shows/t/initialize", raw=b"{nope") == (400, not_object)
    as_text = client.post("/shows/t/initialize", raw=b'{"seat_ids": ["A1"]}', content_type="text/plain")
    assert as_text == (400, not_object)
    assert client.get("/shows/t/seats") == (404, {"error": "show not found"})


def test_hold_book_release_flow(client: Client, audit: AuditFn) -> None:
    client.post("/shows/s/initialize", {"seat_ids": ["A1", "A2", "A3"]})
    status, hold = client.post("/shows/s/hold", {"seat_ids": ["A1", "A2"], "hold_duration_seconds": 120})
    assert status == 201 and set(hold) == {"hold_id", "expires_at", "seat_ids"}
    assert client.post("/shows/s/hold", {"seat_ids": ["A2", "A3"]}) == (
        409, {"error": "seats unavailable", "unavailable_seats": ["A2"]})
    assert client.post("/shows/nope/hold", {"seat_ids": ["A1"]}) == (400, {"error": "show not found"})
    assert client.post("/shows/s/hold", {"seat_ids": ["Z1"]}) == (400, {"error": "invalid seat ID(s)"})
    status, booking = client.post("/shows/s/book", {"hold_id": hold["hold_id"]})
    assert status == 200 and booking["booking_id"] == hold["hold_id"] and booking["seat_ids"] == ["A1", "A2"]
    assert client.post("/shows/s/book", {"hold_id": hold["hold_id"]}) == (200, booking)
    assert client.post("/shows/s/book", {"hold_id": "nope"}) == (400, {"error": "hold not found or expired"})
    for bad in [{}, {"hold_id": ""}, {"hold_id": 5}]:
        assert client.post("/shows/s/book", bad) == (400, {"error": "hold_id must be a non-empty string"})
        assert client.post("/shows/s/release-hold", bad) == (400, {"error": "hold_id must be a non-empty string"})
    status, other = client.post("/shows/s/hold", {"seat_ids": ["A3"]})
    assert status == 201
    assert client.post("/shows/s/release-hold", {"hold_id": other["hold_id"]}) == (200, {"message": "hold released"})
    assert client.post("/shows/s/release-hold", {"hold_id": other["hold_id"]}) == (404, {"error": "hold not found"})
    status, seats = client.get("/shows/s/seats")
    assert (seats["available_seats"], seats["held_seats"], seats["booked_seats"]) == (1, 0, 2)
    assert seats["invariants_valid"] is True
    status, found = client.get("/audit?show_id=s")
    assert status == 200 and found["ok"] is True and (found["seats"], found["booked"]) == (3, 2)
    assert audit("s").booked == 2


def test_hold_duration_rules(client: Client, raw: psycopg.Connection) -> None:
    client.post("/shows/s/initialize", {"seat_ids": [f"A{i}" for i in range(1, 9)]})

    def lasts(body: Dict[str, Any]) -> float:
        now = raw.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        status, hold = client.post("/shows/s/hold", body)
        assert status == 201, hold
        return (dt.datetime.fromisoformat(hold["expires_at"]) - now).total_seconds()

    assert 59 < lasts({"seat_ids": ["A1"]}) < 65  # absent: 60
    assert 59 < lasts({"seat_ids": ["A2"], "hold_duration_seconds": 5}) < 65  # clamped up
    assert 1799 < lasts({"seat_ids": ["A3"], "hold_duration_seconds": 99999}) < 1805  # clamped down
    assert 119 < lasts({"seat_ids": ["A4"], "hold_duration_seconds": 120.9}) < 125  # integer part
    assert 89 < lasts({"seat_ids": ["A5"], "hold_duration_seconds": "90"}) < 95  # digit string
    bad = (400, {"error": "hold_duration_seconds must be an integer between 60 and 1800 seconds"})
    for value in [True, None, "ninety", {"s": 1}, "-5"]:
        assert client.post("/shows/s/hold", {"seat_ids": ["A6"], "hold_duration_seconds": value}) == bad


def test_reset(client: Client) -> None:
    client.post("/shows/s/initialize", {"seat_ids": ["A1", "A2"]})
    _, hold = client.post("/shows/s/hold", {"seat_ids": ["A1"]})
    client.post("/shows/s/book", {"hold_id": hold["hold_id"]})
    client.post("/shows/s/hold", {"seat_ids": ["A2"]})
    assert client.post("/reset", {"x": 1}) == (400, {"error": "reset payload must be empty"})
    assert client.post("/reset", raw=b"[1]") == (400, {"error": "reset payload must be empty"})
    assert client.post("/reset", {}) == (
        200, {"message": "all shows reset", "holds_cleared": 1, "bookings_cleared": 1, "seats_reset": 2})
    assert client.post("/reset", raw=b"") == (
        200, {"message": "all shows reset", "holds_cleared": 0, "bookings_cleared": 0, "seats_reset": 0})


def test_concurrent_http_holds_on_the_last_seat(client: Client, audit: AuditFn) -> None:
    client.post("/shows/s/initialize", {"seat_ids": ["A1"]})
    barrier = threading.Barrier(12)
    statuses: list = []

    def attempt() -> None:
        barrier.wait(timeout=30)
        statuses.append(client.post("/shows/s/hold", {"seat_ids": ["A1"]})[0])

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [201] + [409] * 11
    assert audit("s").held == 1


def test_unhealthy_database_is_503(client: Client, raw: psycopg.Connection) -> None:
    raw.execute("DROP TABLE shows CASCADE")
    status, body = client.get("/health")
    assert status == 503 and body["status"] == "unhealthy" and body["database"] == "disconnected"


def test_background_sweep_removes_expired_holds(client: Client, raw: psycopg.Connection) -> None:
    client.post("/shows/s/initialize", {"seat_ids": ["A1", "A2"]})
    _, dead = client.post("/shows/s/hold", {"seat_ids": ["A1"]})
    client.post("/shows/s/hold", {"seat_ids": ["A2"]})
    expire(raw, dead["hold_id"])
    deadline = time.monotonic() + 10
    while raw.execute("SELECT count(*) FROM holds").fetchone() != (1,):
        assert time.monotonic() < deadline, "the app's sweeper never removed the expired hold"
        time.sleep(0.05)
    (live,) = raw.execute("SELECT count(*) FROM holds WHERE hold_id = %s", (dead["hold_id"],)).fetchone()  # type: ignore[misc]
    assert live == 0
