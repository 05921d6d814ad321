"""The REST contract's checks over real HTTP, shared by every door that serves it.

``test_http_contract.py`` runs each ``check_*`` against ``seatcore-server``, the FastAPI
example (``examples/python/fastapi_app.py``, on uvicorn) and the Flask example
(``examples/python/flask_app.py``, on werkzeug). Each check gets a :class:`Client` on a
door serving a fresh schema with the demo show (``avengers_2026_7pm``, A1..E10) in it, and
``raw``, a plain connection to that schema. ``EVENT_CHECKS`` need the live event stream,
which the Flask example does not serve. :func:`serve_flask` serves the Flask example for them
and for ``test_flask_app.py``."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import threading
import time
import urllib.error
import urllib.request
from email.message import Message
from http.client import HTTPResponse
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import psycopg
from werkzeug.serving import make_server

from conftest import ROOT, expire

JSON = "application/json"
DEMO_SHOW = "avengers_2026_7pm"


class Client:
    """A small HTTP client on a base URL; replies as ``(status, JSON or text, headers)``
    (the headers looked up without regard to case)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: Optional[bytes] = None,
        content_type: str = JSON,
        headers: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, Any, Message]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, payload, got = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            status, payload, got = err.code, err.read(), err.headers
        ctype = got.get("Content-Type", "")
        return status, json.loads(payload) if "json" in ctype else payload.decode(), got

    def get(self, path: str) -> Tuple[int, Any]:
        status, body, _ = self.call("GET", path)
        return status, body

    def post(self, path: str, body: Any = None, **kw: Any) -> Tuple[int, Any]:
        status, body, _ = self.call("POST", path, body, **kw)
        return status, body

    def events(self, path: str, headers: Optional[Dict[str, str]] = None) -> EventReader:
        """Opens an event stream; fails unless it is answered 200 ``text/event-stream``."""
        req = urllib.request.Request(self.base + path, headers=headers or {})
        resp = urllib.request.urlopen(req, timeout=30)
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        return EventReader(resp)


def load_example(name: str) -> Any:
    """The example app ``examples/python/<name>.py``, imported."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "python" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve_flask(url: str) -> Iterator[Client]:
    """The Flask example on ``url``'s database, served by werkzeug on a free port until the
    generator is closed."""
    app = load_example("flask_app").create_app(url, sweep_interval=0.2)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Client(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["seatcore.shutdown"]()


class EventReader:
    """Reads server-sent events off an open response, skipping comment lines."""

    def __init__(self, resp: HTTPResponse) -> None:
        self.resp = resp

    def next(self) -> Tuple[str, Dict[str, str]]:
        """The next event: its text, and its fields (``id``, ``event``, ``data``)."""
        lines: List[str] = []
        while True:
            line = self.resp.readline().decode()
            assert line, "the event stream ended"
            if line == "\n":
                if lines:
                    text = "".join(lines) + "\n"
                    return text, dict(item.rstrip("\n").split(": ", 1) for item in lines)
                continue
            if not line.startswith(":"):
                lines.append(line)

    def close(self) -> None:
        self.resp.close()


def check_health_and_cors(client: Client, raw: psycopg.Connection) -> None:
    status, health, headers = client.call("GET", "/health", headers={"Origin": "http://example.test"})
    assert status == 200 and health == {"status": "healthy", "database": "connected", "shows": 1}
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, seats = client.get(f"/shows/{DEMO_SHOW}/seats")
    assert status == 200 and seats["total_seats"] == 50 and seats["available_seats"] == 50
    assert [s["seat_id"] for s in seats["seats"]][:3] == ["A1", "A2", "A3"]
    status, _, headers = client.call("GET", f"/shows/{DEMO_SHOW}/hold")
    assert status == 405 and "POST" in headers["Allow"]
    assert client.call("GET", "/nowhere")[0] == 404


def check_initialize_and_its_validation(client: Client, raw: psycopg.Connection) -> None:
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
    # A percent-encoded show id, "/" included, is one show.
    assert client.post("/shows/a%20b%2Fc/initialize", {"seat_ids": ["A1"]})[0] == 201
    status, seats = client.get("/shows/a%20b%2Fc/seats")
    assert status == 200 and seats["total_seats"] == 1
    status, body = client.get("/shows/%FF/seats")
    assert status == 400 and "UTF-8" in body["error"]


def check_hold_book_release_flow(client: Client, raw: psycopg.Connection) -> None:
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
    keyed = {"Idempotency-Key": "k1"}
    status, other = client.post("/shows/s/hold", {"seat_ids": ["A3"]}, headers=keyed)
    assert status == 201 and client.post("/shows/s/hold", {"seat_ids": ["A3"]}, headers=keyed) == (201, other)
    assert client.post("/shows/s/release-hold", {"hold_id": other["hold_id"]}) == (200, {"message": "hold released"})
    assert client.post("/shows/s/release-hold", {"hold_id": other["hold_id"]}) == (404, {"error": "hold not found"})
    status, seats = client.get("/shows/s/seats")
    assert (seats["available_seats"], seats["held_seats"], seats["booked_seats"]) == (1, 0, 2)
    assert seats["invariants_valid"] is True
    status, found = client.get("/audit?show_id=s")
    assert status == 200 and found["ok"] is True and (found["seats"], found["booked"]) == (3, 2)
    status, page = client.get("/shows/s/history?limit=2")
    assert status == 200 and [c["kind"] for c in page["changes"]] == ["initialized", "held"]


def check_hold_duration_rules(client: Client, raw: psycopg.Connection) -> None:
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


def check_reset(client: Client, raw: psycopg.Connection) -> None:
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


def check_concurrent_holds_on_the_last_seat(client: Client, raw: psycopg.Connection) -> None:
    client.post("/shows/s/initialize", {"seat_ids": ["A1"] + [f"B{i}" for i in range(1, 13)]})
    barrier = threading.Barrier(12)
    statuses: List[int] = []
    own: List[int] = []

    def attempt(i: int) -> None:
        barrier.wait(timeout=30)
        statuses.append(client.post("/shows/s/hold", {"seat_ids": ["A1"]})[0])
        own.append(client.post("/shows/s/hold", {"seat_ids": [f"B{i}"]})[0])

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(1, 13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [201] + [409] * 11 and own == [201] * 12
    status, found = client.get("/audit?show_id=s")
    assert status == 200 and found["ok"] is True and found["held"] == 13


def check_unhealthy_database_is_503(client: Client, raw: psycopg.Connection) -> None:
    raw.execute("DROP TABLE shows CASCADE")
    status, body = client.get("/health")
    assert status == 503 and body["status"] == "unhealthy" and body["database"] == "disconnected"


def check_expired_holds_are_swept(client: Client, raw: psycopg.Connection) -> None:
    client.post("/shows/s/initialize", {"seat_ids": ["A1", "A2"]})
    _, dead = client.post("/shows/s/hold", {"seat_ids": ["A1"]})
    client.post("/shows/s/hold", {"seat_ids": ["A2"]})
    expire(raw, dead["hold_id"])
    deadline = time.monotonic() + 10
    while raw.execute("SELECT count(*) FROM holds WHERE hold_id = %s", (dead["hold_id"],)).fetchone() != (0,):
        assert time.monotonic() < deadline, "the door's sweeper never removed the expired hold"
        time.sleep(0.05)
    status, seats = client.get("/shows/s/seats")
    assert status == 200 and (seats["available_seats"], seats["held_seats"]) == (1, 1)


def check_events_replay_then_live(client: Client, raw: psycopg.Connection) -> None:
    assert client.get("/shows/nope/events") == (404, {"error": "show not found"})
    bad = (400, {"error": "after must be a change id (an integer of 0 or more)"})
    client.post("/shows/s/initialize", {"seat_ids": ["A1", "A2"]})
    assert client.get("/shows/s/events?after=x") == bad
    status, body, _ = client.call("GET", "/shows/s/events", headers={"Last-Event-ID": "-1"})
    assert (status, body) == bad
    stream = client.events("/shows/s/events?after=0")
    try:
        text, first = stream.next()
        assert first["event"] == "initialized" and json.loads(first["data"])["seat_ids"] == ["A1", "A2"]
        assert text == f"id: {first['id']}\nevent: initialized\ndata: {first['data']}\n\n"
        _, hold = client.post("/shows/s/hold", {"seat_ids": ["A2"]})
        _, held = stream.next()
        assert held["event"] == "held" and int(held["id"]) > int(first["id"])
        assert json.loads(held["data"])["hold_id"] == hold["hold_id"]
    finally:
        stream.close()
    # Resumed after the first event: the hold comes next.
    resumed = client.events("/shows/s/events", headers={"Last-Event-ID": first["id"]})
    try:
        assert resumed.next()[1] == held
    finally:
        resumed.close()
    status, page = client.get("/shows/s/history")
    assert [str(c["id"]) for c in page["changes"]] == [first["id"], held["id"]]


#: Every check but the event stream's.
CHECKS: List[Callable[[Client, psycopg.Connection], None]] = [
    check_health_and_cors,
    check_initialize_and_its_validation,
    check_hold_book_release_flow,
    check_hold_duration_rules,
    check_reset,
    check_concurrent_holds_on_the_last_seat,
    check_expired_holds_are_swept,
    check_unhealthy_database_is_503,
]
#: The checks of ``GET /shows/{show_id}/events``.
EVENT_CHECKS: List[Callable[[Client, psycopg.Connection], None]] = [check_events_replay_then_live]
