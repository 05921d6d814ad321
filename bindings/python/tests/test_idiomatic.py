"""The idiomatic API: typed immutable results, the exception hierarchy, request keys."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid

import psycopg
import pytest

import seatcore
from conftest import AuditFn, counts, expire, seats
from seatcore import _seatcore

# The builtin each exception must also be: what Python users would catch.
EXPECTED = {
    1: ("ShowNotFoundError", LookupError),
    2: ("ShowExistsError", seatcore.SeatcoreError),
    3: ("InvalidSeatIdsError", LookupError),
    4: ("SeatsUnavailableError", seatcore.SeatcoreError),
    5: ("HoldNotFoundError", LookupError),
    6: ("HoldExpiredError", seatcore.SeatcoreError),
    7: ("HoldInvalidatedError", seatcore.SeatcoreError),
    8: ("InvalidInputError", ValueError),
    9: ("RequestKeyReusedError", ValueError),
    10: ("DatabaseBusyError", TimeoutError),
    11: ("DatabaseUnavailableError", ConnectionError),
    12: ("DatabaseError", seatcore.SeatcoreError),
    13: ("ConfigError", ValueError),
    17: ("NoAdjacentSeatsError", seatcore.SeatcoreError),
    14: ("BookingNotFoundError", LookupError),
    15: ("SeatsNotInHoldError", LookupError),
    16: ("BookingCancelledError", seatcore.SeatcoreError),
}


def test_every_kind_of_the_core_has_its_exception_class() -> None:
    # The core's table, as the native module hands it over: class name -> kind code.
    table = _seatcore._EXCEPTION_CODES
    assert len(set(table.values())) == len(table)
    assert {code: name for name, code in table.items()} == {code: name for code, (name, _) in EXPECTED.items()}
    for name, code in table.items():
        assert name in seatcore.__all__
        assert getattr(seatcore, name) is getattr(seatcore.exceptions, name)
        assert getattr(seatcore, name).code == code
    # Every exception class of the package is a kind of the core, or the common base.
    classes = {
        n
        for n, v in vars(seatcore.exceptions).items()
        if isinstance(v, type) and issubclass(v, seatcore.SeatcoreError)
    }
    assert classes == set(table) | {"SeatcoreError"}
    assert seatcore.SeatcoreError.code == 0


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_error_kind_maps_to_its_exception(code: int) -> None:
    name, builtin = EXPECTED[code]
    assert _seatcore._exception_name_for_code(code) == name
    cls = getattr(seatcore, name)
    assert cls.code == code
    assert issubclass(cls, seatcore.SeatcoreError) and issubclass(cls, builtin)
    with pytest.raises(cls) as info:
        _seatcore._raise_for_code(code)
    assert type(info.value) is cls
    assert str(info.value)


def test_unknown_kind_codes() -> None:
    assert _seatcore._exception_name_for_code(0) is None
    assert _seatcore._exception_name_for_code(len(EXPECTED) + 1) is None
    with pytest.raises(TypeError):
        _seatcore._raise_for_code(99)


def test_mapped_exceptions_carry_their_details() -> None:
    with pytest.raises(seatcore.SeatsUnavailableError) as unavailable:
        _seatcore._raise_for_code(4)
    assert unavailable.value.seat_ids == ("A1", "B2")
    with pytest.raises(seatcore.InvalidInputError) as bad:
        _seatcore._raise_for_code(8)
    assert bad.value.index == 2 and bad.value.reason == "empty_seat_id"
    assert str(bad.value) == "seat_ids must not contain empty strings"
    assert issubclass(seatcore.DatabaseBusyError, seatcore.DatabaseError)
    assert issubclass(seatcore.DatabaseUnavailableError, seatcore.DatabaseError)
    with pytest.raises(seatcore.ConfigError, match="configuration error: stand-in"):
        _seatcore._raise_for_code(13)


def test_hold_is_typed_and_frozen(core: seatcore.SeatCore, raw: psycopg.Connection) -> None:
    core.initialize_show("s", seats(3))
    hold = core.hold("s", [" S2", "S1"], 90)
    assert isinstance(hold, seatcore.Hold)
    assert isinstance(hold.hold_id, uuid.UUID)
    assert hold.show_id == "s"
    assert hold.seat_ids == ("S2", "S1")
    assert isinstance(hold.expires_at, dt.datetime) and hold.expires_at.utcoffset() == dt.timedelta(0)
    now = raw.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    assert dt.timedelta(seconds=85) < hold.expires_at - now < dt.timedelta(seconds=95)
    with pytest.raises(AttributeError):
        hold.show_id = "x"  # type: ignore[misc]
    assert hold.to_dict() == {
        "hold_id": str(hold.hold_id),
        "expires_at": hold.expires_at.isoformat(),
        "seat_ids": ["S2", "S1"],
    }
    # The repr names each property: ids and times quoted, text and lists as Rust writes them.
    assert repr(hold) == (
        f"Hold(hold_id='{hold.hold_id}', show_id=\"s\", seat_ids=[\"S2\", \"S1\"],"
        f" expires_at='{hold.expires_at.isoformat()}')"
    )


def test_booking_is_idempotent_and_equal(core: seatcore.SeatCore) -> None:
    core.initialize_show("s", seats(2))
    hold = core.hold("s", ["S1"])
    first = core.book("s", hold.hold_id)  # a uuid.UUID works
    again = core.book("s", str(hold.hold_id))  # and so does its text
    assert first == again and hash(first) == hash(again)
    assert first.booking_id == hold.hold_id and first.seat_ids == ("S1",)
    assert first.booked_at.tzinfo is not None
    assert first.to_dict()["booked_at"] == first.booked_at.isoformat()


def test_domain_errors(core: seatcore.SeatCore, raw: psycopg.Connection, audit: AuditFn) -> None:
    core.initialize_show("s", seats(3))
    with pytest.raises(seatcore.ShowExistsError):
        core.initialize_show("s", ["X"])
    with pytest.raises(seatcore.ShowNotFoundError):
        core.hold("nope", ["S1"])
    with pytest.raises(seatcore.InvalidSeatIdsError):
        core.hold("s", ["S9"])
    hold = core.hold("s", ["S3", "S1"])
    with pytest.raises(seatcore.SeatsUnavailableError) as taken:
        core.hold("s", ["S1", "S2", "S3"])
    assert taken.value.seat_ids == ("S1", "S3")
    with pytest.raises(seatcore.InvalidInputError) as dup:
        core.hold("s", ["S2", "S2"])
    assert dup.value.reason == "duplicate_seat_ids" and dup.value.index is None
    with pytest.raises(LookupError):
        core.book("s", uuid.uuid4())
    with pytest.raises(seatcore.HoldNotFoundError):
        core.release("s", "not-a-uuid")
    expire(raw, str(hold.hold_id))
    with pytest.raises(seatcore.HoldExpiredError):
        core.book("s", hold.hold_id)
    with pytest.raises(seatcore.ShowNotFoundError):
        core.seat_status("nope")
    audit("s")


def test_request_key_makes_a_retry_return_the_same_hold(core: seatcore.SeatCore, audit: AuditFn) -> None:
    core.initialize_show("s", seats(3))
    first = core.hold("s", ["S1", "S2"], 60, request_key="req-1")
    retry = core.hold("s", ["S2", "S1"], 60, request_key="req-1")
    assert retry.hold_id == first.hold_id
    with pytest.raises(seatcore.RequestKeyReusedError):
        core.hold("s", ["S3"], 60, request_key="req-1")
    with pytest.raises(seatcore.InvalidInputError) as bad_key:
        core.hold("s", ["S3"], 60, request_key="")
    assert bad_key.value.reason == "request_key"
    assert audit("s").held == 2


def test_status_reset_health_stats(core: seatcore.SeatCore) -> None:
    core.initialize_show("s", ["B1", "A1", "C1"])
    hold = core.hold("s", ["A1"])
    status = core.seat_status("s")
    assert isinstance(status, seatcore.ShowStatus) and len(status) == 3
    assert (status.total_seats, status.available_seats, status.held_seats, status.booked_seats) == (3, 2, 1, 0)
    assert status.invariants_valid is True
    assert [s.seat_id for s in status.seats] == ["B1", "A1", "C1"]
    held = status.seats[1]
    assert held.status == "held" and held.hold_expires_at == hold.expires_at
    assert status.seats[0].status == "available" and status.seats[0].hold_expires_at is None
    assert core.health() == 1
    counts = core.reset_all()
    assert isinstance(counts, seatcore.ResetCounts)
    assert (counts.holds_cleared, counts.bookings_cleared, counts.seats_reset) == (1, 0, 1)
    stats = core.stats()
    assert stats.holds_granted == 1 and stats.pool_max == 16 and stats.pool_connections >= 1
    assert core.sweep_expired() == 0


def test_context_manager_disposes(url: str) -> None:
    with seatcore.SeatCore(url, pool_size=2) as handle:
        assert handle.is_open
        handle.health()
    assert not handle.is_open
    assert handle.health() == 0  # reopens
    handle.dispose()


def test_public_names_have_docstrings() -> None:
    for name in seatcore.__all__:
        obj = getattr(seatcore, name)
        if isinstance(obj, int):
            continue
        assert obj.__doc__ and obj.__doc__.strip(), name
        if isinstance(obj, type):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or attr == "code":
                    continue
                assert getattr(member, "__doc__", None), f"{name}.{attr}"


def test_constructor_defaults_are_the_cores() -> None:
    shown = {
        name: p.default
        for name, p in inspect.signature(seatcore.SeatCore).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    defaults = _seatcore._DEFAULT_OPTIONS
    assert shown == defaults
    assert {name: type(v) for name, v in shown.items()} == {name: type(v) for name, v in defaults.items()}


def test_audit(core: seatcore.SeatCore, raw: psycopg.Connection) -> None:
    core.initialize_show("s", seats(4))
    core.initialize_show("t", seats(2))
    hold = core.hold("s", ["S1", "S2"])
    core.book("s", hold.hold_id)
    core.hold("s", ["S3"])
    found = core.audit("s")
    assert isinstance(found, seatcore.Audit)
    assert (found.ok, found.shows, found.seats, found.held, found.booked) == (True, 1, 4, 1, 2)
    assert (found.problem_count, found.problems) == (0, ())
    with pytest.raises(AttributeError):
        found.ok = False  # type: ignore[misc]
    assert found.to_dict() == {
        "ok": True, "shows": 1, "seats": 4, "held": 1, "booked": 2, "problem_count": 0, "problems": [],
    }
    assert found == core.audit("s") and "Audit(ok=True" in repr(found)
    everything = core.audit()
    assert (everything.ok, everything.shows, everything.seats) == (True, 2, 6)
    assert core.audit("nope").shows == 0
    with pytest.raises(TypeError, match="show_id must be a str"):
        core.audit(5)  # type: ignore[arg-type]
    with pytest.raises(seatcore.InvalidInputError):
        core.audit("")
    # A seat booked behind the core's back, by a booking that does not list it.
    raw.execute("UPDATE seats SET booking_id = %s WHERE seat_id = 'S4'", (str(hold.hold_id),))
    broken = core.audit("s")
    assert (broken.ok, broken.problem_count) == (False, 1)
    assert broken.problems == (f"show s: seat S4 is booked by {hold.hold_id}, which does not list it",)
    raw.execute("UPDATE seats SET booking_id = NULL WHERE seat_id = 'S4'")
    assert counts(core.audit("s")) == (4, 1, 2)
