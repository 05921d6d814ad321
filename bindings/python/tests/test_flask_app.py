"""The drop-in inside a real app: examples/python/flask_app.py (the old REST contract on
``seatcore.DatabaseManager``) served by werkzeug on a free port, driven over HTTP. The
contract's checks run against it in test_http_contract.py; here, what is the app's own."""

from __future__ import annotations

from typing import Iterator

import pytest

from http_contract import Client, serve_flask


@pytest.fixture
def client(url: str) -> Iterator[Client]:
    yield from serve_flask(url)


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
