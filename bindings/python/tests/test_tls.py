"""TLS to PostgreSQL from the Python door: ``sslmode=require`` and
``sslmode=verify-full&sslrootcert=...`` against a throwaway cluster with its own CA
(``scripts/pg.sh`` with ``SEATCORE_PG_SSL=1``), for both ``DatabaseManager`` and
``SeatCore``; a CA that did not sign the server's certificate is refused. Needs the
``openssl`` command (a failure when ``CI`` is set)."""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
from typing import Iterator

import psycopg
import pytest

import seatcore
from conftest import audited, require

ROOT = pathlib.Path(__file__).resolve().parents[3]
PG_SH = ROOT / "scripts" / "pg.sh"


class Cluster:
    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.parent = pathlib.Path(tempfile.mkdtemp(prefix="seatcore-py-tls-"))
        self.parent.chmod(0o755)  # the postgres user owns a folder inside
        self.data = self.parent / "data"
        self.ca = self.data / "ca.crt"

    def pg(self, verb: str) -> None:
        env = dict(os.environ, SEATCORE_PGDATA=str(self.data), SEATCORE_PG_PORT=str(self.port), SEATCORE_PG_SSL="1")
        subprocess.run(["bash", str(PG_SH), verb], check=True, env=env, capture_output=True)

    def url(self, host: str, query: str) -> str:
        return f"postgres://postgres@{host}:{self.port}/seatcore?{query}"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    require("openssl")
    c = Cluster()
    c.pg("start")
    try:
        yield c
    finally:
        c.pg("stop")
        shutil.rmtree(c.parent, ignore_errors=True)


def encrypted_sessions(cluster: Cluster, app: str) -> list[bool]:
    with psycopg.connect(cluster.url("127.0.0.1", "sslmode=disable"), autocommit=True) as probe:
        rows = probe.execute(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = %s",
            (app,),
        ).fetchall()
    return [bool(r[0]) for r in rows]


@pytest.mark.parametrize("mode", ["require", "verify-full"])
def test_database_manager_over_tls(cluster: Cluster, mode: str) -> None:
    app = f"py_tls_{mode.replace('-', '_')}"
    if mode == "require":
        url = cluster.url("127.0.0.1", f"sslmode=require&application_name={app}")
    else:
        url = cluster.url("localhost", f"sslmode=verify-full&sslrootcert={cluster.ca}&application_name={app}")
    db = seatcore.DatabaseManager(url)
    try:
        show = f"show_{app}"
        assert db.initialize_show(show, ["A1", "A2"]) == (True, "show initialized with 2 seats")
        ok, hold = db.hold_seats(show, ["A1"])
        assert ok, hold
        ok, booking = db.book_hold(show, hold["hold_id"])
        assert ok and booking["seat_ids"] == ["A1"], booking
        assert db.health_check()["status"] == "healthy"
        sessions = encrypted_sessions(cluster, app)
        assert sessions and all(sessions), sessions
        assert audited(db.core, show).booked == 1
    finally:
        db.engine.dispose()


def test_seatcore_over_tls_and_a_wrong_ca_is_refused(cluster: Cluster) -> None:
    url = cluster.url("localhost", f"sslmode=verify-full&sslrootcert={cluster.ca}&application_name=py_tls_core")
    with seatcore.SeatCore(url) as core:
        core.initialize_show("core_tls", ["A1"])
        hold = core.hold("core_tls", ["A1"], 60)
        assert list(core.book("core_tls", hold.hold_id).seat_ids) == ["A1"]
        assert audited(core).ok
    other_key, other_ca = cluster.parent / "other-ca.key", cluster.parent / "other-ca.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other",
         "-keyout", str(other_key), "-out", str(other_ca)],
        check=True,
        capture_output=True,
    )
    wrong = cluster.url("localhost", f"sslmode=verify-full&sslrootcert={other_ca}")
    with pytest.raises(seatcore.DatabaseUnavailableError) as caught:
        seatcore.SeatCore(wrong, connect_timeout=3.0, checkout_timeout=3.0)
    assert "SELECT" not in str(caught.value)
    # The drop-in manager keeps the old class's manners: no exception from health_check.
    db = seatcore.DatabaseManager(cluster.url("127.0.0.1", "sslmode=require"))
    try:
        assert db.health_check()["database"] == "connected"
    finally:
        db.engine.dispose()
