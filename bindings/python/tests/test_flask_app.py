"""The drop-in inside a real app: examples/python/flask_app.py (the old REST contract on
``seatcore.DatabaseManager``) served by werkzeug on a free port, driven over HTTP. The
contract's checks run against it in test_http_contract.py; here, what is the app's own."""

from __future__ import annotations

import importlib.util
import threading
from typing import Any, Iterator

import pytest
from werkzeug.serving import make_server

from conftest import ROOT
from http_contract import Client

APP_PATH = ROOT / "examples" / "python" / "flask_app.py"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("flask_app", APP_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
