"""The REST API as a FastAPI app on ``seatcore.aio``, every reply the seatcore core's.

The routes are the core's endpoint table (``seatcore.REST_ENDPOINTS``), each answered by
``await core.handle_rest(...)``: the core's REST contract (``seatcore::rest::handle``, which
``seatcore-server`` answers with too), so statuses, keys and messages are the contract's
without a copy of them here. ``GET /shows/{show_id}/events`` is the live event stream
(server-sent events), opened by ``await core.open_events(...)`` (the same refusals as the
server's: 404 for an unknown show, 400 for a bad ``after`` or ``Last-Event-ID``) and written
as ``change.to_event()``, byte for byte the server's events, with a ``: keep-alive`` comment
after ``keep_alive`` seconds without a change.

Every database call runs in the async core's bounded executor (``pool_size`` workers, one
pool), so the event loop never waits on the database; each event stream waits in a thread
of its own, on a database connection of its own (its ``LISTEN``), and closes both when the
client goes away. The app adds what belongs to it: CORS (Starlette's middleware) and the
background sweep of expired holds. Run it with::

    pip install . fastapi uvicorn
    DATABASE_URL=postgres://user@host/db uvicorn --factory --app-dir examples/python fastapi_app:create_app

FastAPI and uvicorn are dependencies of this example only, not of seatcore.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import AsyncIterator, Optional

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response, StreamingResponse

import seatcore
from seatcore import EVENTS_ENDPOINT, REST_ENDPOINTS, aio

DEMO_SHOW = "avengers_2026_7pm"
DEMO_SEATS = [f"{row}{n}" for row in "ABCDE" for n in range(1, 11)]

#: A comment line of the event stream: keeps idle connections (and proxies) open.
KEEP_ALIVE = ": keep-alive\n\n"


def create_app(
    database_url: Optional[str] = None,
    *,
    hold_min_seconds: Optional[int] = None,
    hold_max_seconds: Optional[int] = None,
    sweep_interval: float = 10.0,
    keep_alive: float = 15.0,
    pool_size: int = 16,
) -> FastAPI:
    """The REST app on one ``seatcore.aio.SeatCore`` (connected at start-up, closed at
    shutdown); creates the demo show and sweeps expired holds every ``sweep_interval``
    seconds. Holds are clamped into ``hold_min_seconds..hold_max_seconds`` (the contract's
    60 and 1800 unless given)."""
    url = database_url or os.environ["DATABASE_URL"]

    async def sweep(core: aio.SeatCore) -> None:
        while True:
            await asyncio.sleep(sweep_interval)
            with contextlib.suppress(seatcore.DatabaseError):  # the next round tries again
                await core.sweep_expired()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with await aio.SeatCore.connect(url, pool_size=pool_size) as core:
            with contextlib.suppress(seatcore.ShowExistsError):
                await core.initialize_show(DEMO_SHOW, DEMO_SEATS)
            app.state.core = core
            sweeper = asyncio.create_task(sweep(core))
            try:
                yield
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper

    app = FastAPI(title="seatcore", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Idempotency-Key", "Last-Event-ID"],
    )

    def raw_path(request: Request) -> str:
        """The path as sent, percent-encoded (the core decodes the show id itself)."""
        raw = request.scope.get("raw_path")
        return raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path

    def query(request: Request) -> Optional[str]:
        return request.scope["query_string"].decode("latin-1") or None

    def not_found() -> Response:
        return Response(b'{"error":"not found"}', status_code=404, media_type="application/json")

    async def contract(request: Request) -> Response:
        """Any endpoint of the contract: the core's reply, as it is."""
        core: aio.SeatCore = request.app.state.core
        reply = await core.handle_rest(
            "GET" if request.method == "HEAD" else request.method,
            raw_path(request),
            body=await request.body(),
            content_type=request.headers.get("content-type"),
            idempotency_key=request.headers.get("idempotency-key"),
            query=query(request),
            min_hold_seconds=hold_min_seconds,
            max_hold_seconds=hold_max_seconds,
        )
        if reply is None:  # a path the route's pattern took but the contract does not know
            return not_found()
        status, body = reply
        return Response(body, status_code=status, media_type="application/json")

    async def events(request: Request) -> Response:
        """The show's changes as server-sent events: the history after ``after`` (or
        ``Last-Event-ID``) first, then each change as it is committed."""
        core: aio.SeatCore = request.app.state.core
        opened = await core.open_events(
            raw_path(request),
            query=query(request),
            last_event_id=request.headers.get("last-event-id"),
            timeout=keep_alive,
        )
        if opened is None:
            return not_found()
        if isinstance(opened, tuple):
            status, refusal = opened
            return Response(refusal, status_code=status, media_type="application/json")
        stream = opened

        async def sent() -> AsyncIterator[str]:
            # Closed when the client goes away (the task is cancelled) or at shutdown.
            async with stream:
                while not stream.closed:
                    async for change in stream:
                        yield change.to_event()
                    yield KEEP_ALIVE

        return StreamingResponse(sent(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    # Show ids may hold an encoded "/": each pattern takes any path, the core resolves it.
    for method, template in (*REST_ENDPOINTS, EVENTS_ENDPOINT):
        handler = events if (method, template) == EVENTS_ENDPOINT else contract
        path = template.replace("{show_id}", "{show_id:path}")
        app.add_api_route(path, handler, methods=[method], name=f"{method} {template}", include_in_schema=False)
    return app
