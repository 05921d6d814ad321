"""The old backend's REST API as a Flask app, every reply the seatcore core's.

The routes are the core's endpoint table (``seatcore.REST_ENDPOINTS``: every endpoint but
the live event stream); each request is answered by ``SeatCore.handle_rest``, the core's
REST contract (``seatcore::rest::handle``, which the Rust HTTP server answers with too), so
statuses, keys and messages are the contract's without a copy of them here. The app adds
what belongs to it: the demo page, CORS headers, and the background sweep. It keeps
the old app's ``DatabaseManager`` for the rest (creating the demo show, sweeping, shutting
down). Run it with::

    pip install . flask
    DATABASE_URL=postgres://user@host/db python examples/python/flask_app.py  # port 5000

or under gunicorn, one app shared by the workers (``--preload`` makes it once, in the
master, before the workers fork; each worker then opens connections of its own, and the
sweep thread runs in the master only)::

    DATABASE_URL=... gunicorn --preload --workers 4 --chdir examples/python 'flask_app:create_app()'

Flask is a dependency of this example only, not of seatcore.
"""

from __future__ import annotations

import atexit
import html
import os
import threading
import urllib.parse
from typing import Any, Optional

from flask import Flask, Response, request

from seatcore import REST_ENDPOINTS, DatabaseManager

DEMO_SHOW = "avengers_2026_7pm"
DEMO_SEATS = [f"{row}{n}" for row in "ABCDE" for n in range(1, 11)]


def create_app(
    database_url: Optional[str] = None,
    *,
    hold_min_seconds: Optional[int] = None,
    hold_max_seconds: Optional[int] = None,
    sweep_interval: float = 10.0,
) -> Flask:
    """The REST app on one shared ``DatabaseManager``; creates the demo show and starts
    the background sweep of expired holds (every ``sweep_interval`` seconds). Holds are
    clamped into ``hold_min_seconds..hold_max_seconds`` (the contract's 60 and 1800 unless
    given)."""
    app = Flask(__name__)
    db = DatabaseManager(database_url or os.environ["DATABASE_URL"])
    core = db.core
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
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        return response

    def raw_path() -> str:
        """The path as sent, percent-encoded (an encoded "/" in a show id stays encoded):
        the server's raw request URI (werkzeug, gunicorn), else the decoded path encoded."""
        uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if isinstance(uri, str) and uri.startswith("/"):
            return uri.split("?", 1)[0]
        return urllib.parse.quote(request.path)

    def contract(**_: Any) -> Response:
        """Any endpoint of the contract: the core's reply, as it is."""
        method = "GET" if request.method == "HEAD" else request.method
        reply = core.handle_rest(
            method,
            raw_path(),
            body=request.get_data(cache=False),
            content_type=request.headers.get("Content-Type"),
            idempotency_key=request.headers.get("Idempotency-Key"),
            query=request.query_string.decode("latin-1") or None,
            min_hold_seconds=hold_min_seconds,
            max_hold_seconds=hold_max_seconds,
        )
        if reply is None:  # a path the rule took but the contract does not know
            return Response(status=404)
        status, body = reply
        return Response(body, status=status, mimetype="application/json")

    # Show ids may hold an encoded "/": each rule takes any path, the core resolves it.
    for method, template in REST_ENDPOINTS:
        rule = template.replace("{show_id}", "<path:show_id>")
        app.add_url_rule(rule, endpoint=f"{method} {template}", view_func=contract, methods=[method])

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
    b.onclick = () => {
      selected.has(seat.seat_id) ? selected.delete(seat.seat_id) : selected.add(seat.seat_id); draw(); };
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
