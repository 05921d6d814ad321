"""Database failures inside DatabaseManager: the contract's failure shapes, never an
exception, and never SQL text in what is returned (the database's own message may follow
``internal error:``, as the old class did; the HTTP door never shows it)."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

import seatcore

SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WITH|RETURNING|FROM)\b")


def no_sql(what: str, value: Any) -> None:
    text = repr(value)
    assert not SQL.search(text), f"{what} carries SQL text: {text}"


@pytest.mark.breaks_invariants  # it drops the tables the audit reads
def test_database_errors_return_failure_shapes_without_sql(url: str) -> None:
    db = seatcore.DatabaseManager(url)
    try:
        assert db.initialize_show("e", ["A1", "A2"])[0]
        ok, hold = db.hold_seats("e", ["A1"])
        assert ok
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("DROP TABLE seats CASCADE; DROP TABLE holds CASCADE; DROP TABLE bookings CASCADE")
        results = {
            "hold_seats": db.hold_seats("e", ["A2"]),
            "book_hold": db.book_hold("e", hold["hold_id"]),
            "reset_all_seats": db.reset_all_seats(),
            "initialize_show": db.initialize_show("f", ["A1"]),
        }
        for name, (ok, detail) in results.items():
            assert ok is False, (name, detail)
            if isinstance(detail, dict):
                assert detail["error"].startswith("internal error"), (name, detail)
            no_sql(name, detail)
        assert db.release_hold("e", hold["hold_id"]) is False
        assert db.cleanup_expired_holds() == 0
        assert db.get_seat_status("e") is None or isinstance(db.get_seat_status("e"), dict)
        health = db.health_check()
        no_sql("health_check", health)
    finally:
        db.engine.dispose()
