"""A keep-alive JSON-over-HTTP connection to one seatcore server, for the test rounds that
drive servers from outside (scripts/chaos/many.py, scripts/ha/round.py).

A request that finds the connection broken (the server restarted, or closed an idle
connection) is sent once more on a new one; a second failure is the caller's to judge.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from typing import Any, Dict, Optional, Tuple


class Http:
    """A keep-alive HTTP connection to one server, reopened after a failure."""

    slowest = 0.0  # the slowest answer any connection got, in seconds

    def __init__(self, base: str, timeout: float = 30) -> None:
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.timeout = timeout
        self.conn: Optional[http.client.HTTPConnection] = None

    def request(
        self, method: str, path: str, body: Optional[Dict[str, Any]] = None, headers: Optional[Dict[str, str]] = None
    ) -> Tuple[int, Any]:
        """The status and the decoded JSON body (None when empty) of one request; `body`, when
        given, goes as JSON."""
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            for attempt in range(2):
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                try:
                    self.conn.request(method, path, data, h)
                    r = self.conn.getresponse()
                    raw = r.read()
                    return r.status, json.loads(raw) if raw else None
                except (http.client.HTTPException, ConnectionError) as e:
                    self.conn.close()
                    self.conn = None
                    if attempt == 1:
                        raise RuntimeError(f"{method} {path}: {e}") from e
            raise AssertionError("unreachable")
        finally:
            Http.slowest = max(Http.slowest, time.monotonic() - started)

    def post(self, path: str, body: Dict[str, Any], key: Optional[str] = None) -> Tuple[int, Any]:
        """A JSON POST, with an `Idempotency-Key` when `key` is given."""
        return self.request("POST", path, body, {"Idempotency-Key": key} if key else None)

    def get(self, path: str) -> Tuple[int, Any]:
        return self.request("GET", path)
