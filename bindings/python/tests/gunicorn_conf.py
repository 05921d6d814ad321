"""gunicorn settings of the fork tests: each worker says when it is ready (its signal
handlers installed, the app loaded), so a test can wait for that instead of for time."""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    worker.log.info("worker ready: %s", worker.pid)
