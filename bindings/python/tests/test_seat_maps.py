"""Seat maps, blocked seats and best-available holds through the Python door: the idiomatic
methods on ``SeatCore`` and the ``DatabaseManager`` ones in the old class's style."""

from __future__ import annotations

import multiprocessing
from typing import Any, Dict, List, Set

import psycopg
import pytest

import seatcore
from conftest import AuditFn


def theatre(rows: str = "ABC", per_row: int = 8) -> List[Dict[str, Any]]:
    """A small house: one section, rows front to back, the last row premium."""
    return [
        {
            "seat_id": f"{row}{n}",
            "section": "stalls",
            "row": row,
            "position": n,
            "category": "premium" if row == rows[-1] else "standard",
            "accessible": n == 1,
        }
        for row in rows
        for n in range(1, per_row + 1)
    ]


def test_initialize_map_and_read_it_back(core: seatcore.SeatCore, audit: AuditFn) -> None:
    assert core.initialize_map("m1", theatre()) == 24
    seat_map = core.seat_map("m1")
    assert [s.seat_id for s in seat_map] == [s["seat_id"] for s in theatre()]
    a4 = seat_map[3]
    assert (a4.section, a4.row, a4.position, a4.category, a4.accessible) == ("stalls", "A", 4, "standard", False)
    # Default ranks: front row first, then nearer the middle.
    assert a4.rank < seat_map[0].rank < seat_map[8].rank
    assert a4.to_dict() == {
        "seat_id": "A4",
        "section": "stalls",
        "row": "A",
        "position": 4,
        "category": "standard",
        "accessible": False,
        "rank": a4.rank,
    }
    assert seat_map[0] == core.seat_map("m1")[0] and seat_map[0] != a4
    audit("m1")


def test_flat_ids_in_a_map_take_their_row_from_the_id(core: seatcore.SeatCore) -> None:
    core.initialize_map("m2", ["A1", "A2", {"seat_id": "BOX", "category": "box"}])
    by_id = {s.seat_id: s for s in core.seat_map("m2")}
    assert (by_id["A2"].row, by_id["A2"].position) == ("A", 2)
    assert (by_id["BOX"].row, by_id["BOX"].position, by_id["BOX"].category) == (None, None, "box")
    # The repr leaves out the properties that are None.
    box = by_id["BOX"]
    assert repr(box) == f'MapSeat(seat_id="BOX", section="", category="box", accessible=False, rank={box.rank})'


def test_bad_maps_are_refused_naming_the_seat(core: seatcore.SeatCore, raw: psycopg.Connection) -> None:
    taken = theatre("A", 3) + [{"seat_id": "X", "section": "stalls", "row": "A", "position": 2}]
    with pytest.raises(seatcore.InvalidInputError) as info:
        core.initialize_map("bad", taken)
    assert (info.value.index, info.value.reason) == (3, "position_taken")
    with pytest.raises(TypeError, match=r"seats\[1\]\['position'\] must be an int"):
        core.initialize_map("bad", [{"seat_id": "A1"}, {"seat_id": "A2", "row": "A", "position": "2"}])
    with pytest.raises(TypeError, match=r"seats\[0\] has an unknown key 'rwo'"):
        core.initialize_map("bad", [{"seat_id": "A1", "rwo": "A"}])
    with pytest.raises(TypeError, match=r"seats\[0\] has no \"seat_id\""):
        core.initialize_map("bad", [{"row": "A", "position": 1}])
    with pytest.raises(TypeError, match="must be a str or a dict"):
        core.initialize_map("bad", [1])
    with pytest.raises(seatcore.InvalidInputError):
        core.initialize_map("bad", [{"seat_id": "A1", "rank": float("nan")}])
    with pytest.raises(seatcore.InvalidInputError):
        core.initialize_map("bad", [])
    # Nothing was written.
    assert raw.execute("SELECT count(*) FROM shows WHERE show_id = 'bad'").fetchone() == (0,)


def test_block_unblock_and_status(core: seatcore.SeatCore, audit: AuditFn) -> None:
    core.initialize_map("b1", theatre())
    assert core.block("b1", ["A1", "A2"], reason="camera") == ("A1", "A2")
    assert core.block("b1", [" A2", "A3"]) == ("A2", "A3")  # A2 again: fine
    status = core.seat_status("b1")
    assert (status.blocked_seats, status.available_seats) == (3, 21)
    assert {s.seat_id for s in status.seats if s.status == "blocked"} == {"A1", "A2", "A3"}
    with pytest.raises(seatcore.SeatsUnavailableError) as info:
        core.hold("b1", ["A3", "A4"])
    assert info.value.seat_ids == ("A3",)
    hold = core.hold("b1", ["A5"])
    with pytest.raises(seatcore.SeatsUnavailableError) as blocked:
        core.block("b1", ["A4", "A5"])
    assert blocked.value.seat_ids == ("A5",)
    assert core.seat_status("b1").blocked_seats == 3  # all or none
    with pytest.raises(seatcore.InvalidSeatIdsError):
        core.block("b1", ["Z9"])
    assert core.unblock("b1", ["A1"]) == ("A1",)
    core.release("b1", hold.hold_id)
    audit("b1")


def test_unblock_leaves_other_seats_as_they_are(core: seatcore.SeatCore) -> None:
    core.initialize_map("b2", theatre("A", 4))
    core.block("b2", ["A1", "A2"])
    assert core.unblock("b2", ["A1", "A3"]) == ("A1", "A3")  # A3 was not blocked: fine
    assert core.seat_status("b2").blocked_seats == 1
    with pytest.raises(seatcore.ShowNotFoundError):
        core.unblock("nope", ["A1"])


def test_hold_best_takes_adjacent_seats_and_leaves_no_orphan(core: seatcore.SeatCore, audit: AuditFn) -> None:
    core.initialize_map("h1", theatre())
    first = core.hold_best("h1", 4)
    assert len(first.seat_ids) == 4
    seat_map = {s.seat_id: s for s in core.seat_map("h1")}
    rows = {seat_map[s].row for s in first.seat_ids}
    positions = sorted(seat_map[s].position or 0 for s in first.seat_ids)
    assert len(rows) == 1 and positions == list(range(positions[0], positions[0] + 4))
    # A premium row, accessible only: the aisle seat of row C.
    accessible = core.hold_best("h1", 1, category="premium", accessible=True)
    assert accessible.seat_ids == ("C1",)
    # It is a hold like any other.
    assert core.book("h1", accessible.hold_id).seat_ids == ("C1",)
    core.release("h1", first.hold_id)
    with pytest.raises(seatcore.NoAdjacentSeatsError):
        core.hold_best("h1", 9)
    with pytest.raises(seatcore.NoAdjacentSeatsError):
        core.hold_best("h1", 2, category="no-such-category")
    with pytest.raises(seatcore.InvalidInputError):
        core.hold_best("h1", 0)
    with pytest.raises(seatcore.InvalidInputError):
        core.hold_best("h1", seatcore.MAX_BEST_COUNT + 1)
    with pytest.raises(TypeError):
        core.hold_best("h1", "4")  # type: ignore[arg-type]
    audit("h1")


def test_hold_best_with_a_request_key_is_retry_safe(core: seatcore.SeatCore) -> None:
    core.initialize_map("h2", theatre())
    first = core.hold_best("h2", 2, request_key="k-1")
    again = core.hold_best("h2", 2, request_key="k-1")
    assert again == first
    assert core.seat_status("h2").held_seats == 2


def test_manager_methods_in_the_old_style(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    assert db.initialize_seat_map("d1", theatre()) == (True, "show initialized with 24 seats")
    assert db.initialize_seat_map("d1", theatre()) == (False, "show already exists")
    ok, message = db.initialize_seat_map("d2", [{"seat_id": "A1", "row": "A"}])
    assert not ok and "position" in message
    seat_map = db.get_seat_map("d1")
    assert seat_map is not None and seat_map["show_id"] == "d1" and len(seat_map["seats"]) == 24
    assert db.get_seat_map("nope") is None
    assert db.block_seats("d1", ["B1", "B2"], "broken") == (True, {"blocked": ["B1", "B2"]})
    assert db.block_seats("d1", ["Q1"]) == (False, {"error": "invalid seat ID(s)"})
    assert db.unblock_seats("d1", ["B2"]) == (True, {"unblocked": ["B2"]})
    status = db.get_seat_status("d1")
    assert status is not None and status["blocked_seats"] == 1
    ok, hold = db.hold_best_seats("d1", 3, 120, category="premium")
    assert ok and len(hold["seat_ids"]) == 3 and all(s.startswith("C") for s in hold["seat_ids"])
    assert db.hold_best_seats("d1", 3, 120, section="balcony") == (False, {"error": "no adjacent seats available"})
    ok, failure = db.hold_best_seats("d1", 0, 120)
    assert not ok and "count" in failure["error"]
    assert db.book_hold("d1", hold["hold_id"])[0]
    audit("d1")


def _best_worker(url: str, show_id: str, count: int, out: "multiprocessing.Queue[List[str]]") -> None:
    core = seatcore.SeatCore(url, pool_size=2, min_idle=0)
    got: List[str] = []
    while True:
        try:
            got.extend(core.hold_best(show_id, count).seat_ids)
        except seatcore.NoAdjacentSeatsError:
            break
    core.dispose()
    out.put(got)


def test_processes_hold_best_until_sold_out(url: str, core: seatcore.SeatCore, audit: AuditFn) -> None:
    # Four processes with their own pools and per-process copies of the map.
    core.initialize_map("p1", theatre("ABCDEFGH", 20))
    ctx = multiprocessing.get_context("spawn")
    out: "multiprocessing.Queue[List[str]]" = ctx.Queue()
    workers = [ctx.Process(target=_best_worker, args=(url, "p1", 2, out)) for _ in range(4)]
    for w in workers:
        w.start()
    taken: List[str] = []
    for _ in workers:
        taken.extend(out.get(timeout=120))
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    assert len(taken) == len(set(taken))  # no seat in two holds
    status = core.seat_status("p1")
    assert status.held_seats == len(taken) > 0
    # Sold out for pairs: no two free seats remain side by side in a row.
    free = {(s.row, s.position) for s in core.seat_map("p1")} - {
        (m.row, m.position) for m in core.seat_map("p1") if m.seat_id in set(taken)
    }
    assert len(free) == status.available_seats
    assert not any((row, (pos or 0) + 1) in free for row, pos in free)
    audit("p1")


def test_map_seat_is_exported() -> None:
    names: Set[str] = set(seatcore.__all__)
    assert {"MapSeat", "NoAdjacentSeatsError", "MAX_BEST_COUNT"} <= names
