"""Makes holds ahead of a timed run, through the REST API, for the runs that measure what
is done to holds (extend-hold, partial releases) apart from making them.

    python3 bench/make_holds.py BASE_URL SHOW_ID COUNT SEATS_PER_HOLD OUT_FILE

Holds COUNT times SEATS_PER_HOLD seats of the show, counting down from its last seat
(S<total>, S<total - 1>, ...: far from the seats a run holds itself, which count up from
S1), each hold for 600 s, on 8 connections at once. Writes one line per hold: its id, then
its seat ids, separated by spaces.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import urllib.parse
from typing import List


def main() -> None:
    base, show, count, per_hold, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.request("GET", f"/shows/{show}/seats")
    total = json.loads(conn.getresponse().read())["total_seats"]
    lines: List[str] = [""] * count

    def work(first: int) -> None:
        c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        for i in range(first, count, 8):
            seats = [f"S{total - i * per_hold - k}" for k in range(per_hold)]
            body = json.dumps({"seat_ids": seats, "hold_duration_seconds": 600})
            c.request("POST", f"/shows/{show}/hold", body, {"Content-Type": "application/json"})
            response = c.getresponse()
            reply = json.loads(response.read())
            if response.status != 201:
                raise SystemExit(f"make_holds: hold {i} answered {response.status}: {reply}")
            lines[i] = " ".join([reply["hold_id"], *seats])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if not all(lines):
        raise SystemExit("make_holds: some holds were not made")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
