"""Bad arguments: wrong types raise TypeError, bad values raise ValueError (the idiomatic
API) or return the contract's failure shape (DatabaseManager). Nothing is written, and
the interpreter never crashes."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

import seatcore
from conftest import AuditFn, counts, seats

NOT_A_LIST = [None, "S1", b"S1", 5, 1.5, {"S1": 1}, {"S1"}, object(), (s for s in ["S1"])]
BAD_ELEMENTS = [[None], ["S1", 2], [["S1"]], [b"S1"], ["S1", object()]]


def untouched(raw: psycopg.Connection, audit: AuditFn) -> None:
    (holds,) = raw.execute("SELECT count(*) FROM holds").fetchone()  # type: ignore[misc]
    assert holds == 0
    assert counts(audit("s")) == (3, 0, 0)


@pytest.fixture
def show(db: seatcore.DatabaseManager) -> str:
    db.initialize_show("s", seats(3))
    return "s"


@pytest.mark.parametrize("bad", NOT_A_LIST, ids=lambda v: type(v).__name__)
def test_seat_ids_not_a_list(
    db: seatcore.DatabaseManager, raw: psycopg.Connection, show: str, bad: Any, audit: AuditFn,
) -> None:
    with pytest.raises(TypeError, match="seat_ids must be a list of str"):
        db.hold_seats(show, bad)
    with pytest.raises(TypeError):
        db.initialize_show("t", bad)
    with pytest.raises(TypeError):
        db.core.hold(show, bad)
    untouched(raw, audit)


@pytest.mark.parametrize("bad", BAD_ELEMENTS, ids=str)
def test_seat_id_elements_not_str(
    db: seatcore.DatabaseManager, raw: psycopg.Connection, show: str, bad: Any, audit: AuditFn,
) -> None:
    with pytest.raises(TypeError, match=r"each seat_id must be a string \(seat_ids\[\d\]"):
        db.hold_seats(show, bad)
    with pytest.raises(TypeError):
        db.initialize_show("t", bad)
    untouched(raw, audit)
    assert db.get_seat_status("t") is None


def test_tuples_are_accepted(db: seatcore.DatabaseManager, show: str) -> None:
    ok, hold = db.hold_seats(show, ("S1", "S2"))
    assert ok and hold["seat_ids"] == ["S1", "S2"]


@pytest.mark.parametrize("bad", [None, 5, b"s", ["s"], object()], ids=lambda v: type(v).__name__)
def test_show_id_not_str(
    db: seatcore.DatabaseManager, raw: psycopg.Connection, show: str, bad: Any, audit: AuditFn,
) -> None:
    for call in (
        lambda: db.hold_seats(bad, ["S1"]),
        lambda: db.initialize_show(bad, ["S1"]),
        lambda: db.book_hold(bad, "x"),
        lambda: db.release_hold(bad, "x"),
        lambda: db.get_seat_status(bad),
    ):
        with pytest.raises(TypeError, match="show_id must be a str"):
            call()
    untouched(raw, audit)


@pytest.mark.parametrize("bad", [None, 5, b"x", ["x"]], ids=lambda v: type(v).__name__)
def test_hold_id_not_str(db: seatcore.DatabaseManager, show: str, bad: Any) -> None:
    with pytest.raises(TypeError, match="hold_id must be a str or uuid.UUID"):
        db.book_hold(show, bad)
    with pytest.raises(TypeError):
        db.release_hold(show, bad)


@pytest.mark.parametrize("bad", [5, b"k", ["k"]], ids=lambda v: type(v).__name__)
def test_optional_text_not_str(
    db: seatcore.DatabaseManager, raw: psycopg.Connection, show: str, bad: Any, audit: AuditFn,
) -> None:
    core = db.core
    calls = {
        "reason": [lambda: core.block(show, ["S1"], bad), lambda: db.block_seats(show, ["S1"], bad)],
        "request_key": [
            lambda: core.hold(show, ["S1"], request_key=bad),
            lambda: core.hold_best(show, 1, request_key=bad),
        ],
        "category": [
            lambda: core.hold_best(show, 1, category=bad),
            lambda: db.hold_best_seats(show, 1, 60, category=bad),
        ],
        "section": [
            lambda: core.hold_best(show, 1, section=bad),
            lambda: db.hold_best_seats(show, 1, 60, section=bad),
        ],
        "seat_id": [lambda: core.history(show, seat_id=bad), lambda: db.get_history(show, seat_id=bad)],
    }
    for argument, tries in calls.items():
        for call in tries:
            with pytest.raises(TypeError, match=f"^{argument} must be a str, not {type(bad).__name__}"):
                call()
    untouched(raw, audit)
    assert core.seat_status(show).blocked_seats == 0


@pytest.mark.parametrize("bad", [None, "60", True, [60], float("nan"), float("inf")], ids=repr)
def test_hold_duration_wrong_type(
    db: seatcore.DatabaseManager, raw: psycopg.Connection, show: str, bad: Any, audit: AuditFn,
) -> None:
    with pytest.raises((TypeError, ValueError)):
        db.hold_seats(show, ["S1"], bad)
    untouched(raw, audit)


@pytest.mark.parametrize("bad", [None, "60", True, 60.0], ids=repr)
def test_idiomatic_hold_seconds_must_be_int(core: seatcore.SeatCore, bad: Any) -> None:
    core.initialize_show("s", seats(1))
    with pytest.raises(TypeError, match="must be an int"):
        core.hold("s", ["S1"], bad)


def test_huge_lists(db: seatcore.DatabaseManager, raw: psycopg.Connection, show: str, audit: AuditFn) -> None:
    huge = [f"S{i}" for i in range(1_000_000)]
    ok, failure = db.hold_seats(show, huge)
    assert ok is False and failure == {"error": f"seat_ids must contain at most {seatcore.MAX_SEATS_PER_HOLD} seats"}
    with pytest.raises(seatcore.InvalidInputError) as info:
        db.core.hold(show, huge)
    assert isinstance(info.value, ValueError) and info.value.reason == "too_many_seats"
    ok, message = db.initialize_show("t", huge)
    assert ok is False and message == f"seat_ids must contain at most {seatcore.MAX_SEATS_PER_SHOW} seats"
    # A huge list of non-strings fails fast on the length, before any element is read.
    with pytest.raises(seatcore.InvalidInputError):
        db.core.hold(show, [None] * 1_000_000)
    untouched(raw, audit)


def test_bad_values_give_the_failure_shape(
    db: seatcore.DatabaseManager, raw: psycopg.Connection, show: str, audit: AuditFn,
) -> None:
    assert db.hold_seats(show, []) == (False, {"error": "seat_ids must contain at least one seat"})
    assert db.hold_seats(show, ["S1", " "]) == (
        False,
        {"error": "seat_ids must not contain empty strings", "details": {"index": 1}},
    )
    assert db.hold_seats(show, ["S\x001"]) == (
        False,
        {"error": "seat_ids must not contain control characters", "details": {"index": 0}},
    )
    assert db.hold_seats(show, ["x" * 65]) == (
        False,
        {"error": "each seat_id must be at most 64 characters", "details": {"index": 0}},
    )
    assert db.hold_seats("", ["S1"]) == (False, {"error": "show_id must be between 1 and 128 characters"})
    assert db.hold_seats("a\x00b", ["S1"]) == (False, {"error": "show_id must not contain control characters"})
    assert db.hold_seats("s" * 10_000, ["S1"])[0] is False
    assert db.initialize_show("bad\nname", ["S1"]) == (False, "show_id must not contain control characters")
    assert db.book_hold("", "x") == (False, {"error": "show_id must be between 1 and 128 characters"})
    untouched(raw, audit)


def test_unencodable_strings_raise_value_error(
    db: seatcore.DatabaseManager, raw: psycopg.Connection, show: str, audit: AuditFn,
) -> None:
    lone_surrogate = "S\ud8001"
    with pytest.raises(UnicodeEncodeError):  # a ValueError
        db.hold_seats(show, [lone_surrogate])
    with pytest.raises(ValueError):
        db.hold_seats(lone_surrogate, ["S1"])
    untouched(raw, audit)


def test_constructor_bad_arguments(url: str) -> None:
    with pytest.raises(TypeError):
        seatcore.DatabaseManager(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        seatcore.SeatCore(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an int"):
        seatcore.SeatCore(url, pool_size=True)
    with pytest.raises(TypeError):
        seatcore.SeatCore(url, no_such_option=1)  # type: ignore[call-arg]


# Each option out of its range: the core's message names the option and the range.
OUT_OF_RANGE = [
    ({"pool_size": 0}, "pool_size must be from 1 to 1000, not 0"),
    ({"pool_size": -3}, "pool_size must be from 1 to 1000, not -3"),
    ({"pool_size": 10**30}, "pool_size must be from 1 to 1000, not "),
    ({"min_idle": 1001}, "min_idle must be from 0 to 1000, not 1001"),
    ({"sweep_batch": 0}, "sweep_batch must be from 1 to 1000000, not 0"),
    ({"lock_timeout": 0}, "lock_timeout must be from 1 ms to 86400 s, not 0 ms"),
    ({"lock_timeout": float("nan")}, "lock_timeout must be a finite, positive number of seconds, not NaN"),
    ({"checkout_timeout": -1.0}, "checkout_timeout must be a finite, positive number of seconds"),
    ({"connect_timeout": 7200}, "connect_timeout must be from 1 ms to 3600 s, not 7200 s"),
    ({"statement_timeout": float("inf")}, "statement_timeout must be a finite, positive number of seconds"),
]


@pytest.mark.parametrize(("options", "message"), OUT_OF_RANGE, ids=lambda v: str(v)[:40])
def test_options_out_of_range_are_config_errors(options: Any, message: str) -> None:
    # Refused before connecting (port 1 refuses connections).
    url = "postgres://nobody@127.0.0.1:1/none"
    with pytest.raises(seatcore.ConfigError) as info:
        seatcore.SeatCore(url, **options)
    assert isinstance(info.value, ValueError) and info.value.code == 13
    assert str(info.value).startswith(f"configuration error: {message}")
    with pytest.raises(seatcore.ConfigError):
        seatcore.DatabaseManager(url, **options)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sslmode=bogus", "bad database URL"),
        ("sslrootcert=/nonexistent/ca.pem", "reading sslrootcert /nonexistent/ca.pem"),
        ("sslcert=/nonexistent/client.pem", "sslcert and sslkey go together"),
    ],
)
def test_configuration_errors_are_raised_before_connecting(query: str, message: str) -> None:
    # Port 1 refuses connections: a configuration checked after connecting would surface as
    # DatabaseUnavailableError instead.
    with pytest.raises(seatcore.ConfigError, match=message) as info:
        seatcore.SeatCore(f"postgres://nobody@127.0.0.1:1/none?{query}", connect_timeout=1.0)
    assert not isinstance(info.value, seatcore.DatabaseUnavailableError)
    with pytest.raises(seatcore.ConfigError, match="bad database URL"):
        seatcore.SeatCore("postgres://[not a url")
    with pytest.raises(seatcore.ConfigError, match="bad database URL"):
        seatcore.DatabaseManager("postgresql+psycopg2://[not a url")


def test_unicode_seat_ids_round_trip(db: seatcore.DatabaseManager) -> None:
    names = ["Ä1", "席2", "🎬3"]
    assert db.initialize_show("u", names) == (True, "show initialized with 3 seats")
    ok, hold = db.hold_seats("u", ["🎬3"])
    assert ok and hold["seat_ids"] == ["🎬3"]
    status = db.get_seat_status("u")
    assert status is not None and [s["seat_id"] for s in status["seats"]] == names
