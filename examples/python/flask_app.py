"""The old backend's REST API, as a Flask app on ``seatcore.DatabaseManager``.

This is how the old Flask + SQLAlchemy backend was built, with one line changed: the
import of ``DatabaseManager``. Run it with::

    pip install . flask
    DATABASE_URL=postgres://user@host/db python examples/python/flask_app.py  # port 5000

Flask is a dependency of this example only, not of seatcore.
"""

from __future__ import annotations

import atexit
import html
import json
import math
import os
import threading
from typing import Any, Dict, Optional, Tuple

from flask import Flask, Response, jsonify, request

from seatcore import DatabaseManager  # was: from database_manager import DatabaseManager

DEMO_SHOW = "avengers_2026_7pm"
DEMO_SEATS = [f"{row}{n}" for row in "ABCDE" for n in range(1, 11)]
DURATION_ERROR = "hold_duration_seconds must be an integer between 60 and 1800 seconds"

Reply = Tuple[Response, int]


def error(message: str, status: int, **extra: Any) -> Reply:
    return jsonify({"error": message, **extra}), status


def json_object() -> Optional[Dict[str, Any]]:
    """The request body when it is a JSON object, else None."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def check_seat_ids(seat_ids: Any) -> Optional[Reply]:
    """The contract's seat_ids validation, in its order; None when the list is fine."""
    if not isinstance(seat_ids, list):
        return error("seat_ids must be provided as a non-empty JSON array", 400)
    if not seat_ids:
        return error("seat_ids must contain at least one seat", 400)
    for i, seat in enumerate(seat_ids):
        if not isinstance(seat, str):
            return error("each seat_id must be a string", 400, details={"index": i})
        if not seat.strip():
            return error("seat_ids must not contain empty strings", 400, details={"index": i})
    if len({seat.strip() for seat in seat_ids}) != len(seat_ids):
        return error("seat_ids must not contain duplicates", 400)
    return None


def hold_duration(body: Dict[str, Any], low: int, high: int) -> Optional[int]:
    """``hold_duration_seconds`` as the contract reads it, clamped; None when invalid."""
    if "hold_duration_seconds" not in body:
        seconds = 60
    else:
        raw = body["hold_duration_seconds"]
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            seconds = raw
        elif isinstance(raw, float) and math.isfinite(raw):
            seconds = int(raw)
        elif isinstance(raw, str) and raw.isascii() and raw.isdigit():
            seconds = int(raw)
        else:
            return None
    return max(low, min(high, seconds))


def status_for(failure: Dict[str, Any]) -> int:
    """500 for database failures, 400 for everything else a manager call refuses."""
    return 500 if str(failure.get("error", "")).startswith("internal error") else 400


def create_app(
    database_url: Optional[str] = None,
    *,
    hold_min_seconds: int = 60,
    hold_max_seconds: int = 1800,
    sweep_interval: float = 10.0,
) -> Flask:
    """The REST app on one shared ``DatabaseManager``; creates the demo show and starts
    the background sweep of expired holds (every ``sweep_interval`` seconds)."""
    app = Flask(__name__)
    db = DatabaseManager(database_url or os.environ["DATABASE_URL"])
    db.initialize_show(DEMO_SHOW, DEMO_SEATS)  # (False, "show already exists") is fine
    stop = threading.Event()

    def sweep() -> None:
        while not stop.wait(sweep_interval):
            db.cleanup_expired_holds()

    threading.Thread(target=sweep, name="sweeper", daemon=True).start()

    def shutdown() -> None:
        stop.set()
        db.engine.dispose()

    atexit.register(shutdown)
    app.extensions["seatcore"] = db
    app.extensions["seatcore.shutdown"] = shutdown

    @app.after_request
    def cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        return response

    @app.post("/shows/<show_id>/initialize")
    def initialize(show_id: str) -> Reply:
        body = json_object()
        if body is None:
            return error("request body must be a JSON object", 400)
        seat_ids = body.get("seat_ids")
        invalid = check_seat_ids(seat_ids)
        if invalid:
            return invalid
        assert isinstance(seat_ids, list)
        ok, message = db.initialize_show(show_id, seat_ids)
        if ok:
            count = len(seat_ids)
            return jsonify({"message": message, "show_id": show_id, "seat_count": count}), 201
        if message == "show already exists":
            return error(message, 409)
        return error(message, 500 if message.startswith("internal error") else 400)

    @app.get("/shows/<show_id>/seats")
    def seat_status(show_id: str) -> Reply:
        status = db.get_seat_status(show_id)
        if status is None:
            return error("show not found", 404)
        return jsonify(status), 200

    @app.post("/shows/<show_id>/hold")
    def hold(show_id: str) -> Reply:
        body = json_object()
        if body is None:
            return error("request body must be a JSON object", 400)
        seat_ids = body.get("seat_ids")
        invalid = check_seat_ids(seat_ids)
        if invalid:
            return invalid
        assert isinstance(seat_ids, list)
        seconds = hold_duration(body, hold_min_seconds, hold_max_seconds)
        if seconds is None:
            return error(DURATION_ERROR, 400)
        ok, result = db.hold_seats(show_id, seat_ids, seconds)
        if ok:
            return jsonify(result), 201
        if result.get("error") == "seats unavailable":
            return jsonify(result), 409
        return jsonify(result), status_for(result)

    def hold_id_from_body() -> Tuple[Optional[str], Optional[Reply]]:
        body = json_object()
        if body is None:
            return None, error("request body must be a JSON object", 400)
        hold_id = body.get("hold_id")
        if not isinstance(hold_id, str) or not hold_id.strip():
            return None, error("hold_id must be a non-empty string", 400)
        return hold_id, None

    @app.post("/shows/<show_id>/book")
    def book(show_id: str) -> Reply:
        hold_id, invalid = hold_id_from_body()
        if invalid:
            return invalid
        assert hold_id is not None
        ok, result = db.book_hold(show_id, hold_id)
        if ok:
            return jsonify(result), 200
        return jsonify(result), status_for(result)

    @app.post("/shows/<show_id>/release-hold")
    def release(show_id: str) -> Reply:
        hold_id, invalid = hold_id_from_body()
        if invalid:
            return invalid
        assert hold_id is not None
        if db.release_hold(show_id, hold_id):
            return jsonify({"message": "hold released"}), 200
        return error("hold not found", 404)

    @app.post("/reset")
    def reset() -> Reply:
        raw = request.get_data(cache=True)
        if raw.strip():
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = None
            if payload != {}:
                return error("reset payload must be empty", 400)
        ok, result = db.reset_all_seats()
        if not ok:
            return error("reset failed", 500, details=result.get("error"))
        return jsonify({"message": "all shows reset", **result}), 200

    @app.get("/health")
    def health() -> Reply:
        report = db.health_check()
        return jsonify(report), 200 if report.get("status") == "healthy" else 503

    @app.get("/")
    def index() -> Response:
        return Response(DEMO_PAGE.replace("{{SHOW}}", html.escape(DEMO_SHOW)), mimetype="text/html")

    return app


# The demo page: styles and script inline, so it works offline.
DEMO_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>seatcore demo: {{SHOW}}</title>
<style>
 body{font-family:system-ui,sans-serif;margin:2rem;background:#111;color:#eee}
 #map{display:grid;grid-template-columns:repeat(10,2.6rem);gap:.4rem;margin:1rem 0}
 .seat{height:2.2rem;border:0;border-radius:.4rem;cursor:pointer;font-size:.75rem}
 .available{background:#2e7d32;color:#fff}.held{background:#f9a825}.booked{background:#555;color:#aaa}
 .selected{outline:3px solid #4fc3f7}
 button.action{margin-right:.5rem;padding:.4rem .8rem}
</style></head><body>
<h1>{{SHOW}}</h1>
<div id="map"></div>
<button class="action" id="hold">Hold selected</button>
<button class="action" id="book">Book hold</button>
<button class="action" id="release">Release hold</button>
<pre id="log"></pre>
<script>
const show = "{{SHOW}}"; let selected = new Set(); let holdId = null;
const log = (x) => document.getElementById("log").textContent = JSON.stringify(x, null, 2);
async function call(method, path, body) {
  const r = await fetch(path, {method, headers: {"Content-Type": "application/json"},
                               body: body ? JSON.stringify(body) : undefined});
  return r.json();
}
async function draw() {
  const s = await call("GET", `/shows/${show}/seats`);
  const map = document.getElementById("map"); map.innerHTML = "";
  for (const seat of s.seats || []) {
    const b = document.createElement("button");
    b.textContent = seat.seat_id;
    b.className = `seat ${seat.status}` + (selected.has(seat.seat_id) ? " selected" : "");
    b.onclick = () => { selected.has(seat.seat_id) ? selected.delete(seat.seat_id) : selected.add(seat.seat_id); draw(); };
    map.appendChild(b);
  }
}
document.getElementById("hold").onclick = async () => {
  const r = await call("POST", `/shows/${show}/hold`, {seat_ids: [...selected]});
  if (r.hold_id) { holdId = r.hold_id; selected.clear(); } log(r); draw(); };
document.getElementById("book").onclick = async () => {
  log(await call("POST", `/shows/${show}/book`, {hold_id: holdId})); draw(); };
document.getElementById("release").onclick = async () => {
  log(await call("POST", `/shows/${show}/release-hold`, {hold_id: holdId})); draw(); };
draw(); setInterval(draw, 3000);
</script></body></html>
"""


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")), threaded=True)
