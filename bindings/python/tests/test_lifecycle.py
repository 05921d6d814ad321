"""The hold lifecycle from Python: ``SeatCore.extend``, ``release_seats`` and
``cancel_booking``; the ``DatabaseManager`` methods of the same; ``handle_rest`` answering
their endpoints. Every test ends with the core's audit (the ``schema`` fixture)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Tuple

import psycopg
import pytest

import seatcore
from conftest import AuditFn, seats


def db_now(raw: psycopg.Connection) -> dt.datetime:
    row = raw.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    value = row[0]
    assert isinstance(value, dt.datetime)
    return value


def test_extend_sets_a_new_expiry_capped_by_the_maximum_life(
    url: str, raw: psycopg.Connection, audit: AuditFn
) -> None:
    with seatcore.SeatCore(url, max_hold_life=300.0) as core:
        core.initialize_show("s", seats(3))
        hold = core.hold("s", ["S2", "S1"], 60)
        before = db_now(raw)
        longer = core.extend("s", hold.hold_id, 200)
        assert isinstance(longer, seatcore.Hold)
        assert (longer.hold_id, longer.seat_ids) == (hold.hold_id, ("S2", "S1"))
        assert before + dt.timedelta(seconds=200) <= longer.expires_at <= db_now(raw) + dt.timedelta(seconds=200)
        row = raw.execute("SELECT created_at FROM holds WHERE hold_id = %s", (hold.hold_id,)).fetchone()
        assert row is not None
        capped = core.extend("s", str(hold.hold_id), 3000)
        assert capped.expires_at == row[0] + dt.timedelta(seconds=300)
        shorter = core.extend("s", hold.hold_id)  # 600 s asked, the cap is sooner
        assert shorter.expires_at == capped.expires_at
        assert core.extend("s", hold.hold_id, 10).expires_at < capped.expires_at
        audit("s")

        for gone in [uuid.uuid4(), "not-a-uuid"]:
            with pytest.raises(seatcore.HoldNotFoundError):
                core.extend("s", gone, 60)
        with pytest.raises(seatcore.InvalidInputError) as bad:
            core.extend("s", hold.hold_id, 0)
        assert bad.value.reason == "hold_duration"
        with pytest.raises(TypeError):
            core.extend("s", hold.hold_id, True)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="hold_id must be a str or uuid.UUID"):
            core.extend("s", 5, 60)  # type: ignore[arg-type]
        core.book("s", hold.hold_id)
        with pytest.raises(seatcore.HoldNotFoundError):
            core.extend("s", hold.hold_id, 60)
    with pytest.raises(seatcore.ConfigError, match="max_hold_life"):
        seatcore.SeatCore(url, max_hold_life=0.5)


def test_release_seats_keeps_the_rest(core: seatcore.SeatCore, audit: AuditFn) -> None:
    core.initialize_show("s", seats(4))
    hold = core.hold("s", ["S1", "S2", "S3"])
    released = core.release_seats("s", hold.hold_id, [" S3", "S1"])
    assert isinstance(released, seatcore.SeatsReleased)
    assert (released.hold_id, released.show_id) == (hold.hold_id, "s")
    assert (released.seat_ids, released.remaining_seat_ids) == (("S3", "S1"), ("S2",))
    assert released.to_dict() == {"message": "seats released", "seat_ids": ["S3", "S1"], "remaining_seat_ids": ["S2"]}
    assert repr(released) == (
        f"SeatsReleased(hold_id='{hold.hold_id}', show_id=\"s\", seat_ids=[\"S3\", \"S1\"],"
        ' remaining_seat_ids=["S2"])'
    )
    with pytest.raises(AttributeError):
        released.seat_ids = ()  # type: ignore[misc]
    status = core.seat_status("s")
    assert [s.status for s in status.seats] == ["available", "held", "available", "available"]
    audit("s")

    with pytest.raises(seatcore.SeatsNotInHoldError) as missing:
        core.release_seats("s", hold.hold_id, ["S2", "S4", "X9"])
    assert missing.value.seat_ids == ("S4", "X9")
    assert isinstance(missing.value, LookupError) and missing.value.code == 15
    with pytest.raises(seatcore.InvalidInputError) as bad:
        core.release_seats("s", hold.hold_id, ["S2", "S2"])
    assert bad.value.reason == "duplicate_seat_ids"
    with pytest.raises(TypeError):
        core.release_seats("s", hold.hold_id, None)  # type: ignore[arg-type]
    assert core.seat_status("s").held_seats == 1, "nothing released by a refusal"

    assert core.book("s", hold.hold_id).seat_ids == ("S2",)
    with pytest.raises(seatcore.HoldNotFoundError):
        core.release_seats("s", hold.hold_id, ["S2"])
    last = core.hold("s", ["S4"])
    assert core.release_seats("s", last.hold_id, ["S4"]).remaining_seat_ids == ()
    with pytest.raises(seatcore.HoldNotFoundError):
        core.release("s", last.hold_id)
    audit("s")


def test_cancel_booking_frees_the_seats_for_good(core: seatcore.SeatCore, audit: AuditFn) -> None:
    core.initialize_show("s", seats(3))
    hold = core.hold("s", ["S2", "S1"])
    booking = core.book("s", hold.hold_id)
    cancelled = core.cancel_booking("s", booking.booking_id)
    assert isinstance(cancelled, seatcore.Cancellation)
    assert (cancelled.booking_id, cancelled.seat_ids) == (booking.booking_id, ("S2", "S1"))
    assert cancelled.cancelled_at.tzinfo is not None and cancelled.cancelled_at >= booking.booked_at
    assert cancelled.to_dict() == {"message": "booking cancelled", "seat_ids": ["S2", "S1"]}
    assert core.cancel_booking("s", str(booking.booking_id)) == cancelled
    assert hash(core.cancel_booking("s", booking.booking_id)) == hash(cancelled)
    assert core.seat_status("s").available_seats == 3
    with pytest.raises(seatcore.BookingCancelledError) as again:
        core.book("s", hold.hold_id)
    assert again.value.code == 16 and str(again.value) == "booking cancelled"
    assert core.seat_status("s").available_seats == 3
    for unknown in [uuid.uuid4(), "not-a-uuid"]:
        with pytest.raises(seatcore.BookingNotFoundError) as info:
            core.cancel_booking("s", unknown)
        assert isinstance(info.value, LookupError)
    with pytest.raises(TypeError, match="booking_id must be a str or uuid.UUID"):
        core.cancel_booking("s", 7)  # type: ignore[arg-type]
    audit("s")


def test_the_manager_methods(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    assert db.initialize_show("m", seats(4))[0]
    ok, hold = db.hold_seats("m", ["S1", "S2", "S3"], 60)
    assert ok
    ok, extended = db.extend_hold("m", hold["hold_id"], 120)
    assert ok and set(extended) == {"hold_id", "expires_at", "seat_ids"}
    assert extended["hold_id"] == hold["hold_id"] and extended["expires_at"] > hold["expires_at"]
    assert db.extend_hold("m", str(uuid.uuid4())) == (False, {"error": "hold not found or expired"})
    assert db.extend_hold("m", hold["hold_id"], 0)[0] is False

    assert db.release_seats("m", hold["hold_id"], ["S2"]) == (
        True,
        {"message": "seats released", "seat_ids": ["S2"], "remaining_seat_ids": ["S1", "S3"]},
    )
    assert db.release_seats("m", hold["hold_id"], ["S2", "S4"]) == (
        False,
        {"error": "seats not in hold", "seat_ids": ["S2", "S4"]},
    )
    assert db.release_seats("m", "nope", ["S1"]) == (False, {"error": "hold not found"})
    assert db.release_seats("m", hold["hold_id"], []) == (
        False,
        {"error": "seat_ids must contain at least one seat"},
    )

    ok, booking = db.book_hold("m", hold["hold_id"])
    assert ok and booking["seat_ids"] == ["S1", "S3"]
    cancelled = (True, {"message": "booking cancelled", "seat_ids": ["S1", "S3"]})
    assert db.cancel_booking("m", booking["booking_id"]) == cancelled
    assert db.cancel_booking("m", booking["booking_id"]) == cancelled
    assert db.cancel_booking("m", "nope") == (False, {"error": "booking not found"})
    assert db.book_hold("m", hold["hold_id"]) == (False, {"error": "booking cancelled"})
    status = db.get_seat_status("m")
    assert status is not None and status["available_seats"] == 4
    with pytest.raises(TypeError):
        db.cancel_booking("m", None)  # type: ignore[arg-type]
    audit("m")


def call(core: seatcore.SeatCore, path: str, body: Any) -> Tuple[int, Any]:
    reply = core.handle_rest("POST", path, body=json.dumps(body).encode(), content_type="application/json")
    assert reply is not None, path
    return reply[0], json.loads(reply[1])


def test_handle_rest_answers_the_lifecycle(core: seatcore.SeatCore, audit: AuditFn) -> None:
    for template in ["/shows/{show_id}/extend-hold", "/shows/{show_id}/cancel-booking"]:
        assert ("POST", template) in seatcore.REST_ENDPOINTS
    core.initialize_show("r", seats(3))
    hold = str(core.hold("r", ["S1", "S2"]).hold_id)
    status, body = call(core, "/shows/r/extend-hold", {"hold_id": hold, "hold_duration_seconds": 300})
    assert status == 200 and body["seat_ids"] == ["S1", "S2"]
    assert call(core, "/shows/r/extend-hold", {"hold_id": hold, "hold_duration_seconds": True}) == (
        400,
        {"error": "hold_duration_seconds must be an integer between 60 and 1800 seconds"},
    )
    assert call(core, "/shows/r/release-hold", {"hold_id": hold, "seat_ids": ["S2"]}) == (
        200,
        {"message": "seats released", "seat_ids": ["S2"], "remaining_seat_ids": ["S1"]},
    )
    status, booking = call(core, "/shows/r/book", {"hold_id": hold})
    assert status == 200
    cancelled = (200, {"message": "booking cancelled", "seat_ids": ["S1"]})
    assert call(core, "/shows/r/cancel-booking", {"booking_id": booking["booking_id"]}) == cancelled
    assert call(core, "/shows/r/cancel-booking", {"booking_id": booking["booking_id"]}) == cancelled
    assert call(core, "/shows/r/cancel-booking", {"booking_id": "x"}) == (404, {"error": "booking not found"})
    assert call(core, "/shows/r/cancel-booking", {}) == (400, {"error": "booking_id must be a non-empty string"})
    audit("r")
