"""Fixtures: a fresh schema per test on a real PostgreSQL, checked by the core's audit.

The server is ``DATABASE_URL`` when set, else the project's private cluster
(``scripts/pg.sh start``). Each test gets its own schema, reached through a URL with
``options=-c search_path=<schema>``, dropped afterwards. Before it is dropped, the core's
invariant audit (``SeatCore.audit``) checks every show the test left in it, unless the test
is marked ``breaks_invariants`` (it corrupts the rows on purpose, and checks the audit
catches that where it can).

A test whose prerequisite (a command) is missing is skipped on a developer's machine and
fails when ``CI`` is set (:func:`require`).
"""

from __future__ import annotations

import itertools
import os
import pathlib
import re
import shutil
import subprocess
from typing import Callable, Iterator, List, Optional, Tuple

import psycopg
import pytest

import seatcore

ROOT = pathlib.Path(__file__).resolve().parents[3]
_counter = itertools.count()

#: The ``audit`` fixture: the core's audit of one show, asserted clean.
AuditFn = Callable[[str], seatcore.Audit]


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


def require(command: str) -> str:
    """The path of ``command``; without it the test is skipped, or fails when ``CI`` is set."""
    path = shutil.which(command)
    if path is None:
        message = f"needs the {command} command"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: a missing prerequisite is a failure)")
        pytest.skip(message)
    return path


def audited(core: seatcore.SeatCore, show_id: Optional[str] = None) -> seatcore.Audit:
    """The core's audit of ``show_id`` (every show without it), asserted clean; a named show
    must exist, or the audit would check nothing."""
    result = core.audit(show_id)
    assert result.ok, result.problems
    assert result.problem_count == 0 and result.problems == ()
    if show_id is not None:
        assert result.shows == 1, f"no show {show_id!r} to audit"
    return result


def counts(result: seatcore.Audit) -> Tuple[int, int, int]:
    """``(seats, held, booked)`` of an audit."""
    return result.seats, result.held, result.booked


def audit_end_state(url: str) -> None:
    """Audits every show a test left behind, when the test's schema has seatcore's tables."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('shows') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return  # the test never created the schema (or dropped it on purpose)
    with seatcore.SeatCore(url, pool_size=1, min_idle=0, migrate=False) as core:
        audited(core)


@pytest.fixture
def schema(server_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    label = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:30]
    name = f"py_{label}_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
        if request.node.get_closest_marker("breaks_invariants") is None:
            audit_end_state(with_search_path(server_url, name))
    finally:
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
def audit(url: str) -> Iterator[AuditFn]:
    """``audit(show_id)``: the core's audit of one show of this test's schema, asserted clean."""
    handle: List[seatcore.SeatCore] = []

    def check(show_id: str) -> seatcore.Audit:
        if not handle:
            handle.append(seatcore.SeatCore(url, pool_size=1, min_idle=0))
        return audited(handle[0], show_id)

    yield check
    for core in handle:
        core.dispose()


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
