"""Process entry points for the multiprocessing tests (importable by spawned children)."""

from __future__ import annotations

from typing import Any, List

import seatcore


def race(url: str, show_id: str, contested: List[str], own: List[str], barrier: Any, results: Any) -> None:
    """Waits for every process, then races for ``contested`` and holds each of ``own``."""
    db = seatcore.DatabaseManager(url, pool_size=2)
    try:
        barrier.wait(timeout=60)
        ok, contested_result = db.hold_seats(show_id, contested)
        own_results = [db.hold_seats(show_id, [seat]) for seat in own]
        results.put((ok, contested_result, own_results))
    finally:
        db.engine.dispose()


def hold_each(url: str, show_id: str, seat_ids: List[str]) -> None:
    """Holds each of ``seat_ids`` in turn, one hold per seat, on a handle of its own."""
    with seatcore.SeatCore(url, pool_size=1) as core:
        for seat in seat_ids:
            core.hold(show_id, [seat], 60)
