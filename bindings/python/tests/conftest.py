"""Fixtures: a fresh schema per test on a real PostgreSQL, and invariant checks.

The server is ``DATABASE_URL`` when set, else the project's private cluster
(``scripts/pg.sh start``). Each test gets its own schema, reached through a URL with
``options=-c search_path=<schema>``, dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import re
import subprocess
from typing import Iterator, List

import psycopg
import pytest

import seatcore

ROOT = pathlib.Path(__file__).resolve().parents[3]
_counter = itertools.count()


def with_search_path(url: str, schema: str) -> str:
    """``url`` reaching ``schema`` first (its tables are created there)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-c%20search_path%3D{schema}"


@pytest.fixture(scope="session")
def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        url = subprocess.run(
            ["bash", str(ROOT / "scripts" / "pg.sh"), "start"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    return url


@pytest.fixture
def schema(server_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    label = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:30]
    name = f"py_{label}_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.execute(f"CREATE SCHEMA {name}")
    yield name
    with psycopg.connect(server_url, autocommit=True) as admin:
        # Connections still open on the schema (a test's pool) do not block the drop.
        admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def url(server_url: str, schema: str) -> str:
    """A URL whose search_path is this test's schema."""
    return with_search_path(server_url, schema)


@pytest.fixture
def db(url: str) -> Iterator[seatcore.DatabaseManager]:
    """A drop-in manager on this test's schema."""
    manager = seatcore.DatabaseManager(url)
    yield manager
    manager.engine.dispose()


@pytest.fixture
def core(url: str) -> Iterator[seatcore.SeatCore]:
    """An idiomatic handle on this test's schema."""
    with seatcore.SeatCore(url) as handle:
        yield handle


@pytest.fixture
def raw(url: str) -> Iterator[psycopg.Connection]:
    """A plain autocommit connection on this test's schema, to check behind seatcore's back."""
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def seats(n: int) -> List[str]:
    """``n`` seat ids: S1, S2, ..."""
    return [f"S{i}" for i in range(1, n + 1)]


def expire(raw: psycopg.Connection, hold_id: str) -> None:
    """Moves a hold's expiry into the past, as if its time had run out."""
    with raw.transaction():
        raw.execute(
            "UPDATE holds SET created_at = now() - interval '2 minutes',"
            " expires_at = now() - interval '1 minute' WHERE hold_id = %s",
            (hold_id,),
        )
        raw.execute(
            "UPDATE seats SET hold_expires_at = now() - interval '1 minute' WHERE hold_id = %s",
            (hold_id,),
        )


def check_invariants(raw: psycopg.Connection, show_id: str) -> dict:
    """Asserts the contract's invariants straight from the tables; returns the counts."""
    row = raw.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE booking_id IS NOT NULL),
               count(*) FILTER (WHERE booking_id IS NULL AND hold_expires_at > now()),
               count(*) FILTER (WHERE booking_id IS NULL AND (hold_expires_at IS NULL OR hold_expires_at <= now())),
               count(*) FILTER (WHERE hold_id IS NOT NULL AND booking_id IS NOT NULL),
               (SELECT seat_count FROM shows WHERE show_id = %(s)s)
        FROM seats WHERE show_id = %(s)s
        """,
        {"s": show_id},
    ).fetchone()
    assert row is not None
    total, booked, held, available, both, declared = row
    assert total == declared
    assert available + held + booked == total
    assert both == 0
    # No seat in two live holds, nor in a live hold and a booking.
    (overlaps,) = raw.execute(
        """
        SELECT count(*) FROM (
            SELECT n FROM (
                SELECT unnest(seat_nos) AS n FROM holds WHERE show_id = %(s)s AND expires_at > now()
                UNION ALL
                SELECT unnest(seat_nos) FROM bookings WHERE show_id = %(s)s
            ) x GROUP BY n HAVING count(*) > 1
        ) y
        """,
        {"s": show_id},
    ).fetchone()  # type: ignore[misc]
    assert overlaps == 0
    # Every live hold's seats carry that hold; every booking's seats carry that booking.
    (stray,) = raw.execute(
        """
        SELECT (SELECT count(*) FROM holds h, unnest(h.seat_nos) n
                JOIN seats s ON s.seat_no = n
                WHERE h.show_id = %(s)s AND s.show_id = h.show_id AND h.expires_at > now()
                  AND s.hold_id IS DISTINCT FROM h.hold_id)
             + (SELECT count(*) FROM bookings b, unnest(b.seat_nos) n
                JOIN seats s ON s.seat_no = n
                WHERE b.show_id = %(s)s AND s.show_id = b.show_id
                  AND s.booking_id IS DISTINCT FROM b.booking_id)
        """,
        {"s": show_id},
    ).fetchone()  # type: ignore[misc]
    assert stray == 0
    return {"total": total, "available": available, "held": held, "booked": booked}
