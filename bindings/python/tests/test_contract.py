"""Every row of the contract's ``DatabaseManager`` table, ported from the old class's
expectations: same method names, defaults, result shapes, keys and error strings."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import time
import uuid
from unittest import mock

import psycopg
import pytest

import seatcore
from conftest import AuditFn, counts, expire, seats, with_search_path

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")


def parse(ts: str) -> dt.datetime:
    assert ISO.match(ts), ts
    return dt.datetime.fromisoformat(ts)


def db_now(raw: psycopg.Connection) -> dt.datetime:
    row = raw.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]


# --- the class itself -------------------------------------------------------------------


def test_signatures_match_the_old_class() -> None:
    M = seatcore.DatabaseManager
    sig = inspect.signature(M.hold_seats)
    assert list(sig.parameters) == ["self", "show_id", "seat_ids", "hold_duration_sec"]
    assert sig.parameters["hold_duration_sec"].default == 600
    assert list(inspect.signature(M.initialize_show).parameters) == ["self", "show_id", "seat_ids"]
    assert list(inspect.signature(M.book_hold).parameters) == ["self", "show_id", "hold_id"]
    assert list(inspect.signature(M.release_hold).parameters) == ["self", "show_id", "hold_id"]
    for name in ["cleanup_expired_holds", "health_check", "reset_all_seats"]:
        assert list(inspect.signature(getattr(M, name)).parameters) == ["self"]
    assert list(inspect.signature(M.get_seat_status).parameters) == ["self", "show_id"]


def test_the_class_is_a_plain_python_class(url: str) -> None:
    # Applications subclass it and patch its methods in their own tests, as with the old class.
    class Mine(seatcore.DatabaseManager):
        def __init__(self, database_url: str, label: str) -> None:
            super().__init__(database_url, pool_size=2)
            self.label = label

    db = Mine(url, "box office")
    try:
        assert db.label == "box office" and db.health_check()["status"] == "healthy"
        with mock.patch.object(seatcore.DatabaseManager, "hold_seats", return_value=(False, {"error": "x"})):
            assert db.hold_seats("s", ["A1"]) == (False, {"error": "x"})
        assert db.hold_seats("s", ["A1"]) == (False, {"error": "show not found"})
    finally:
        db.engine.dispose()


def test_constructor_creates_the_schema(url: str, raw: psycopg.Connection) -> None:
    before = raw.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()
    assert before == (0,)
    db = seatcore.DatabaseManager(url)
    tables = {r[0] for r in raw.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert {"shows", "seats", "holds", "bookings"} <= tables
    # A second manager on the same database finds the schema and changes nothing.
    seatcore.DatabaseManager(url).engine.dispose()
    db.engine.dispose()


def test_sqlalchemy_style_url_is_accepted(server_url: str, schema: str) -> None:
    sa_url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg2://", with_search_path(server_url, schema))
    db = seatcore.DatabaseManager(sa_url)
    assert db.health_check()["status"] == "healthy"
    db.engine.dispose()


def test_a_list_of_hosts_reaches_the_one_that_answers(server_url: str, schema: str) -> None:
    """Several hosts, the first one down, behind a SQLAlchemy driver name: the URL reaches the
    core whole, as ``url`` and as ``read_url``, and the core finds the host that answers."""
    one = with_search_path(server_url, schema)
    m = re.match(r"^postgres(?:ql)?://((?:[^@/]*@)?)([^/?]+)(.*)$", one)
    assert m, f"not a postgres:// URL: {server_url}"
    several = f"postgresql+psycopg://{m.group(1)}127.0.0.1:1,{m.group(2)}{m.group(3)}"
    db = seatcore.DatabaseManager(several, read_url=several, connect_timeout=1.0)
    assert db.initialize_show("s", ["A1", "A2"]) == (True, "show initialized with 2 seats")
    ok, hold = db.hold_seats("s", ["A1"])
    assert ok and db.book_hold("s", hold["hold_id"])[0]
    assert db.get_seat_status("s")["booked_seats"] == 1
    # the host that answered is a primary, so no standby served the read
    assert db.core.seat_status("s").replayed_at is None
    db.engine.dispose()


def test_unreachable_database_raises_connection_error() -> None:
    with pytest.raises(ConnectionError) as info:
        seatcore.DatabaseManager("postgres://nobody@127.0.0.1:1/none", connect_timeout=1.0)
    assert isinstance(info.value, seatcore.DatabaseUnavailableError)


# --- initialize_show --------------------------------------------------------------------


def test_initialize_show(db: seatcore.DatabaseManager) -> None:
    assert db.initialize_show("show1", ["A1", "A2", "A3"]) == (True, "show initialized with 3 seats")
    assert db.initialize_show("show1", ["B1"]) == (False, "show already exists")
    # The seat map did not change.
    status = db.get_seat_status("show1")
    assert status is not None
    assert [s["seat_id"] for s in status["seats"]] == ["A1", "A2", "A3"]


def test_initialize_show_trims_and_validates(db: seatcore.DatabaseManager) -> None:
    assert db.initialize_show("s", [" A1 ", "A2"]) == (True, "show initialized with 2 seats")
    status = db.get_seat_status("s")
    assert status is not None and [s["seat_id"] for s in status["seats"]] == ["A1", "A2"]
    assert db.initialize_show("t", []) == (False, "seat_ids must contain at least one seat")
    assert db.initialize_show("t", ["A1", "  "]) == (False, "seat_ids must not contain empty strings")
    assert db.initialize_show("t", ["A1", " A1"]) == (False, "seat_ids must not contain duplicates")
    assert db.get_seat_status("t") is None


# --- hold_seats -------------------------------------------------------------------------


def test_hold_seats_success_shape(db: seatcore.DatabaseManager, raw: psycopg.Connection, audit: AuditFn) -> None:
    db.initialize_show("s", seats(5))
    before = db_now(raw)
    ok, hold = db.hold_seats("s", ["S2", "S1"], 120)
    after = db_now(raw)
    assert ok is True
    assert type(hold) is dict and set(hold) == {"hold_id", "expires_at", "seat_ids"}
    assert type(hold["hold_id"]) is str and str(uuid.UUID(hold["hold_id"])) == hold["hold_id"]
    assert hold["seat_ids"] == ["S2", "S1"] and type(hold["seat_ids"]) is list
    expires = parse(hold["expires_at"])
    assert before + dt.timedelta(seconds=120) <= expires <= after + dt.timedelta(seconds=120)
    audit("s")


def test_hold_seats_default_duration_is_600(db: seatcore.DatabaseManager, raw: psycopg.Connection) -> None:
    db.initialize_show("s", seats(1))
    before = db_now(raw)
    ok, hold = db.hold_seats("s", ["S1"])
    assert ok
    delta = parse(hold["expires_at"]) - before
    assert dt.timedelta(seconds=599) < delta < dt.timedelta(seconds=605)


def test_hold_seats_is_not_clamped(db: seatcore.DatabaseManager, raw: psycopg.Connection) -> None:
    # The HTTP layer clamps to [60, 1800]; the manager takes the duration as given.
    db.initialize_show("s", seats(2))
    before = db_now(raw)
    ok, short = db.hold_seats("s", ["S1"], 5)
    assert ok and parse(short["expires_at"]) - before < dt.timedelta(seconds=10)
    ok, long = db.hold_seats("s", ["S2"], 7200)
    assert ok and parse(long["expires_at"]) - before > dt.timedelta(seconds=7190)


def test_hold_seats_failures(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    db.initialize_show("s", seats(4))
    assert db.hold_seats("nope", ["S1"]) == (False, {"error": "show not found"})
    assert db.hold_seats("s", ["S1", "Z9"]) == (False, {"error": "invalid seat ID(s)"})
    assert db.hold_seats("s", ["S1", "S1"]) == (False, {"error": "duplicate seats in request"})
    assert db.hold_seats("s", ["S1", " S1 "]) == (False, {"error": "duplicate seats in request"})
    ok, _ = db.hold_seats("s", ["S3", "S1"])
    assert ok
    # Unavailable seats come back in seat-map order; nothing of the request is held.
    assert db.hold_seats("s", ["S4", "S3", "S2", "S1"]) == (
        False,
        {"error": "seats unavailable", "unavailable_seats": ["S1", "S3"]},
    )
    assert counts(audit("s")) == (4, 2, 0)


def test_hold_seats_on_booked_seat(db: seatcore.DatabaseManager) -> None:
    db.initialize_show("s", seats(2))
    _, hold = db.hold_seats("s", ["S1"])
    assert db.book_hold("s", hold["hold_id"])[0]
    assert db.hold_seats("s", ["S1", "S2"]) == (False, {"error": "seats unavailable", "unavailable_seats": ["S1"]})


def test_expired_hold_frees_its_seats_before_any_sweep(
    db: seatcore.DatabaseManager, raw: psycopg.Connection, audit: AuditFn,
) -> None:
    db.initialize_show("s", seats(2))
    _, first = db.hold_seats("s", ["S1"])
    expire(raw, first["hold_id"])
    ok, second = db.hold_seats("s", ["S1", "S2"])
    assert ok and second["seat_ids"] == ["S1", "S2"]
    audit("s")


def test_hold_duration_bad_values(db: seatcore.DatabaseManager) -> None:
    db.initialize_show("s", seats(1))
    for bad in (0, -5, 86_401, 10**30):
        ok, failure = db.hold_seats("s", ["S1"], bad)
        assert ok is False and failure == {"error": "hold duration must be between 1 and 86400 seconds"}
    # A float works as the old class's timedelta(seconds=...) did: its whole seconds.
    ok, _ = db.hold_seats("s", ["S1"], 90.7)
    assert ok


# --- book_hold --------------------------------------------------------------------------


def test_book_hold_and_repeat(db: seatcore.DatabaseManager, raw: psycopg.Connection, audit: AuditFn) -> None:
    db.initialize_show("s", seats(3))
    _, hold = db.hold_seats("s", ["S3", "S1"])
    before = db_now(raw)
    ok, booking = db.book_hold("s", hold["hold_id"])
    assert ok is True
    assert set(booking) == {"booking_id", "seat_ids", "booked_at"}
    assert booking["booking_id"] == hold["hold_id"]
    assert booking["seat_ids"] == ["S3", "S1"]
    assert parse(booking["booked_at"]) >= before
    # Idempotent: the same booking, field for field.
    assert db.book_hold("s", hold["hold_id"]) == (True, booking)
    assert counts(audit("s")) == (3, 0, 2)


def test_book_hold_failures(db: seatcore.DatabaseManager, raw: psycopg.Connection, audit: AuditFn) -> None:
    db.initialize_show("s", seats(3))
    db.initialize_show("other", seats(3))
    not_found = (False, {"error": "hold not found or expired"})
    assert db.book_hold("s", str(uuid.uuid4())) == not_found
    assert db.book_hold("s", "not-a-uuid") == not_found
    assert db.book_hold("s", "") == not_found
    _, hold = db.hold_seats("s", ["S1"])
    assert db.book_hold("other", hold["hold_id"]) == not_found
    expire(raw, hold["hold_id"])
    assert db.book_hold("s", hold["hold_id"]) == (False, {"error": "hold expired"})
    # Released: gone.
    _, released = db.hold_seats("s", ["S2"])
    assert db.release_hold("s", released["hold_id"])
    assert db.book_hold("s", released["hold_id"]) == not_found
    audit("s")


@pytest.mark.breaks_invariants
def test_book_hold_invalidated(db: seatcore.DatabaseManager, raw: psycopg.Connection) -> None:
    db.initialize_show("s", seats(2))
    _, hold = db.hold_seats("s", ["S1", "S2"])
    # The seats lose their hold behind the hold's back (as a partial administrative reset would).
    raw.execute("UPDATE seats SET hold_id = NULL, hold_expires_at = NULL WHERE seat_id = 'S2'")
    assert db.book_hold("s", hold["hold_id"]) == (False, {"error": "hold invalidated (seat state mismatch)"})
    # Nothing was booked, and the audit names the broken hold.
    found = db.core.audit("s")
    assert (found.ok, found.booked, found.problem_count) == (False, 0, 1)
    assert hold["hold_id"] in found.problems[0] and "does not carry it" in found.problems[0]


# --- release_hold -----------------------------------------------------------------------


def test_release_hold(db: seatcore.DatabaseManager, raw: psycopg.Connection, audit: AuditFn) -> None:
    db.initialize_show("s", seats(2))
    _, hold = db.hold_seats("s", ["S1", "S2"])
    assert db.release_hold("s", hold["hold_id"]) is True
    assert counts(audit("s")) == (2, 0, 0)
    assert db.release_hold("s", hold["hold_id"]) is False
    assert db.release_hold("s", "junk") is False
    assert db.release_hold("s", str(uuid.uuid4())) is False
    _, booked = db.hold_seats("s", ["S1"])
    db.book_hold("s", booked["hold_id"])
    assert db.release_hold("s", booked["hold_id"]) is False
    _, expired = db.hold_seats("s", ["S2"])
    expire(raw, expired["hold_id"])
    assert db.release_hold("s", expired["hold_id"]) is False


# --- cleanup_expired_holds --------------------------------------------------------------


def test_cleanup_expired_holds(db: seatcore.DatabaseManager, raw: psycopg.Connection, audit: AuditFn) -> None:
    db.initialize_show("s", seats(4))
    assert db.cleanup_expired_holds() == 0
    holds = [db.hold_seats("s", [seat])[1] for seat in ["S1", "S2", "S3"]]
    expire(raw, holds[0]["hold_id"])
    expire(raw, holds[1]["hold_id"])
    removed = db.cleanup_expired_holds()
    assert removed == 2 and type(removed) is int
    (left,) = raw.execute("SELECT count(*) FROM holds").fetchone()  # type: ignore[misc]
    assert left == 1
    assert db.cleanup_expired_holds() == 0
    assert counts(audit("s")) == (4, 1, 0)


# --- get_seat_status --------------------------------------------------------------------


def test_get_seat_status(db: seatcore.DatabaseManager) -> None:
    order = ["C3", "A1", "B2", "A2"]
    db.initialize_show("s", order)
    _, held = db.hold_seats("s", ["B2"])
    _, to_book = db.hold_seats("s", ["A2"])
    db.book_hold("s", to_book["hold_id"])
    status = db.get_seat_status("s")
    assert status is not None
    # The old class's keys in its order, with the seat maps' blocked count after the others.
    assert list(status) == [
        "total_seats", "available_seats", "held_seats", "booked_seats", "blocked_seats", "seats",
        "invariants_valid",
    ]
    tally = (status["total_seats"], status["available_seats"], status["held_seats"], status["booked_seats"])
    assert tally == (4, 2, 1, 1)
    assert status["invariants_valid"] is True
    assert [s["seat_id"] for s in status["seats"]] == order  # seat-map order
    by_id = {s["seat_id"]: s for s in status["seats"]}
    assert by_id["C3"] == {"seat_id": "C3", "status": "available"}
    assert by_id["A2"] == {"seat_id": "A2", "status": "booked"}
    assert by_id["B2"] == {"seat_id": "B2", "status": "held", "hold_expires_at": held["expires_at"]}
    assert db.get_seat_status("unknown") is None
    assert db.get_seat_status("") is None


@pytest.mark.breaks_invariants
def test_invariants_valid_is_computed_from_the_data(db: seatcore.DatabaseManager, raw: psycopg.Connection) -> None:
    db.initialize_show("s", seats(2))
    _, hold = db.hold_seats("s", ["S1"])
    status = db.get_seat_status("s")
    assert status is not None and status["invariants_valid"] is True
    # Corrupt the data: the hold row vanishes while its seat still points to it.
    raw.execute("DELETE FROM holds WHERE hold_id = %s", (hold["hold_id"],))
    status = db.get_seat_status("s")
    assert status is not None and status["invariants_valid"] is False
    found = db.core.audit("s")
    assert found.ok is False and found.problem_count == 1
    assert found.problems == (f"show s: seat S1 is held by {hold['hold_id']}, which is no live hold of it",)


# --- health_check -----------------------------------------------------------------------


def test_health_check(db: seatcore.DatabaseManager) -> None:
    assert db.health_check() == {"status": "healthy", "database": "connected", "shows": 0}
    db.initialize_show("a", ["A1"])
    db.initialize_show("b", ["A1"])
    assert db.health_check() == {"status": "healthy", "database": "connected", "shows": 2}


def test_health_check_unhealthy(db: seatcore.DatabaseManager, raw: psycopg.Connection) -> None:
    raw.execute("DROP TABLE shows CASCADE")
    health = db.health_check()
    assert health["status"] == "unhealthy" and health["database"] == "disconnected"
    assert isinstance(health["error"], str) and health["error"]
    assert set(health) == {"status", "database", "error"}


# --- reset_all_seats --------------------------------------------------------------------


def test_reset_all_seats(db: seatcore.DatabaseManager, audit: AuditFn) -> None:
    db.initialize_show("s", seats(5))
    db.hold_seats("s", ["S1"])
    _, b = db.hold_seats("s", ["S2", "S3"])
    db.book_hold("s", b["hold_id"])
    assert db.reset_all_seats() == (True, {"holds_cleared": 1, "bookings_cleared": 1, "seats_reset": 3})
    assert counts(audit("s")) == (5, 0, 0)
    assert db.reset_all_seats() == (True, {"holds_cleared": 0, "bookings_cleared": 0, "seats_reset": 0})
    # Seat maps stay.
    assert db.hold_seats("s", ["S2"])[0] is True


# --- database failures: the failure shape, never an exception ---------------------------


def test_database_failures_return_the_failure_shape(db: seatcore.DatabaseManager, raw: psycopg.Connection) -> None:
    db.initialize_show("s", seats(2))
    _, hold = db.hold_seats("s", ["S1"])
    for table in ["seats", "holds", "bookings", "shows"]:
        raw.execute(f"ALTER TABLE {table} RENAME TO gone_{table}")
    ok, failure = db.hold_seats("s", ["S2"])
    assert ok is False and failure["error"].startswith("internal error: ")
    ok, failure = db.book_hold("s", hold["hold_id"])
    assert ok is False and failure["error"].startswith("internal error: ")
    ok, message = db.initialize_show("t", ["A1"])
    assert ok is False and message.startswith("internal error: ")
    assert db.release_hold("s", hold["hold_id"]) is False
    assert db.cleanup_expired_holds() == 0
    assert db.get_seat_status("s") is None
    ok, failure = db.reset_all_seats()
    assert ok is False and failure["error"].startswith("internal error: ")
    # No SQL text leaks into the messages.
    assert "SELECT" not in failure["error"] and "WITH" not in failure["error"]


# --- engine.dispose() -------------------------------------------------------------------


def test_engine_dispose_closes_connections_and_the_manager_reopens(server_url: str, schema: str) -> None:
    app_name = f"dispose_{schema}"[:60]
    url = with_search_path(server_url, schema) + f"&application_name={app_name}"
    db = seatcore.DatabaseManager(url, min_idle=2)
    db.initialize_show("s", seats(2))

    def open_connections() -> int:
        with psycopg.connect(server_url, autocommit=True) as admin:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app_name,)
            ).fetchone()
            assert row is not None
            return int(row[0])

    assert open_connections() >= 1
    db.engine.dispose()
    assert db.core.is_open is False
    deadline = time.monotonic() + 5
    while open_connections() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server notices the closed sockets asynchronously
    assert open_connections() == 0
    # Still usable: the next call opens a new pool.
    assert db.hold_seats("s", ["S1"])[0] is True
    assert db.core.is_open is True
    assert open_connections() >= 1
    db.engine.dispose()
    db.engine.dispose()  # twice is harmless
