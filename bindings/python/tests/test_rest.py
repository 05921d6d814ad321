"""``SeatCore.handle_rest``: the core's REST contract for Python web apps, without HTTP."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional, Tuple

import psycopg
import pytest

import seatcore
from conftest import AuditFn, counts

JSON = "application/json"


def call(core: seatcore.SeatCore, method: str, path: str, body: Any = None, **kw: Any) -> Tuple[int, Any]:
    """One request; the reply's status and its JSON document."""
    raw = b"" if body is None else json.dumps(body).encode()
    reply = core.handle_rest(method, path, body=raw, content_type=JSON if body is not None else None, **kw)
    assert reply is not None, f"{method} {path} is no endpoint"
    status, document = reply
    assert isinstance(status, int) and isinstance(document, bytes)
    return status, json.loads(document)


def test_every_endpoint_is_answered_and_nothing_else(core: seatcore.SeatCore) -> None:
    for method, template in seatcore.REST_ENDPOINTS:
        path = template.replace("{show_id}", "nope")
        assert core.handle_rest(method, path, content_type=JSON, body=b"{}") is not None, path
        other = "POST" if method == "GET" else "GET"
        assert core.handle_rest(other, path) is None
    # The live event stream is no single document: the app serves it.
    assert ("GET", "/shows/{show_id}/events") not in seatcore.REST_ENDPOINTS
    assert core.handle_rest("GET", "/shows/s/events") is None
    assert core.handle_rest("GET", "/") is None
    assert core.handle_rest("GET", "/shows/s/nothing") is None
    assert core.handle_rest("get", "/health") is None  # methods are case-sensitive, as in HTTP
    paths = {template for _, template in seatcore.REST_ENDPOINTS}
    assert {"/health", "/reset", "/audit", "/shows/{show_id}/hold"} <= paths


def test_the_contract_through_the_handler(core: seatcore.SeatCore, audit: AuditFn) -> None:
    assert call(core, "GET", "/health") == (200, {"status": "healthy", "database": "connected", "shows": 0})
    created = {"message": "show initialized with 3 seats", "show_id": "s", "seat_count": 3}
    assert call(core, "POST", "/shows/s/initialize", {"seat_ids": ["A1", "A2", "A3"]}) == (201, created)
    assert call(core, "POST", "/shows/s/initialize", {"seat_ids": ["A1"]}) == (409, {"error": "show already exists"})
    status, hold = call(core, "POST", "/shows/s/hold", {"seat_ids": ["A1"]}, idempotency_key="k1")
    assert status == 201 and set(hold) == {"hold_id", "expires_at", "seat_ids"}
    # The same key again: the same hold, not a second one.
    assert call(core, "POST", "/shows/s/hold", {"seat_ids": ["A1"]}, idempotency_key="k1") == (201, hold)
    assert call(core, "POST", "/shows/s/hold", {"seat_ids": ["A1", "A2"]}) == (
        409, {"error": "seats unavailable", "unavailable_seats": ["A1"]})
    status, booking = call(core, "POST", "/shows/s/book", {"hold_id": hold["hold_id"]})
    assert status == 200 and booking["booking_id"] == hold["hold_id"]
    assert call(core, "POST", "/shows/s/release-hold", {"hold_id": hold["hold_id"]}) == (
        404, {"error": "hold not found"})
    # The status document is the core's, the same as the idiomatic result's.
    status, document = call(core, "GET", "/shows/s/seats")
    assert status == 200 and document == core.seat_status("s").to_dict()
    assert call(core, "GET", "/shows/nope/seats") == (404, {"error": "show not found"})
    status, page = call(core, "GET", "/shows/s/history", query="limit=2")
    assert status == 200 and [c["kind"] for c in page["changes"]] == ["initialized", "held"]
    status, rest = call(core, "GET", "/shows/s/history", query=f"after={page['next']}")
    assert status == 200 and [c["kind"] for c in rest["changes"]] == ["booked"]
    status, found = call(core, "GET", "/audit", query="show_id=s")
    assert status == 200 and found == core.audit("s").to_dict() and found["booked"] == 1
    assert counts(audit("s")) == (3, 0, 1)


def test_bad_requests(core: seatcore.SeatCore) -> None:
    not_object = (400, {"error": "request body must be a JSON object"})
    reply = core.handle_rest("POST", "/shows/s/initialize", body=b'{"seat_ids": ["A1"]}', content_type="text/plain")
    assert reply is not None and (reply[0], json.loads(reply[1])) == not_object
    reply = core.handle_rest("POST", "/shows/s/hold", body=b"[1]", content_type=JSON)
    assert reply is not None and (reply[0], json.loads(reply[1])) == not_object
    status, body = call(core, "POST", "/shows/s/hold", {"seat_ids": ["A1", 2]})
    assert (status, body) == (400, {"error": "each seat_id must be a string", "details": {"index": 1}})
    # A show id that is not UTF-8 once decoded.
    status, body = call(core, "GET", "/shows/%FF/seats")
    assert status == 400 and "UTF-8" in body["error"]
    # A body over the limit.
    reply = core.handle_rest("POST", "/shows/s/hold", body=b" " * (1 << 20), content_type=JSON)
    assert reply is not None and reply[0] == 413


def test_percent_encoded_show_ids(core: seatcore.SeatCore) -> None:
    assert call(core, "POST", "/shows/a%20b%2Fc/initialize", {"seat_ids": ["A1"]})[0] == 201
    assert core.seat_status("a b/c").total_seats == 1


def test_hold_bounds(core: seatcore.SeatCore, raw: psycopg.Connection) -> None:
    core.initialize_show("s", ["A1", "A2", "A3"])

    def lasts(seat: str, asked: Optional[int], **bounds: int) -> float:
        now = raw.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        body: Any = {"seat_ids": [seat]} if asked is None else {"seat_ids": [seat], "hold_duration_seconds": asked}
        status, hold = call(core, "POST", "/shows/s/hold", body, **bounds)
        assert status == 201, hold
        return (dt.datetime.fromisoformat(hold["expires_at"]) - now).total_seconds()

    assert 59 < lasts("A1", None) < 65  # the contract's default
    assert 4 < lasts("A2", 5, min_hold_seconds=5) < 10  # a lower minimum
    assert 29 < lasts("A3", None, default_hold_seconds=30) < 35
    with pytest.raises(seatcore.ConfigError, match="minimum hold"):
        core.handle_rest("GET", "/health", min_hold_seconds=100, max_hold_seconds=50)
    with pytest.raises(seatcore.ConfigError):
        core.handle_rest("GET", "/health", max_hold_seconds=0)


def test_a_disposed_handle_reopens_for_the_handler(core: seatcore.SeatCore) -> None:
    core.dispose()
    assert call(core, "GET", "/health")[0] == 200
    assert core.is_open
