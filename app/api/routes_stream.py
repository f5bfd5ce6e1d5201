"""The change feed as server-sent events: ``GET /v1/events/stream``.

Each event is ``id: <position>`` and ``data: <feed entry JSON>``. A client resumes with
``Last-Event-ID`` (sent automatically by browsers' EventSource), which wins over ``after``.
The stream reads pages ``WHERE position > cursor``; commit order equals position order, so a
consumer that reconnects at any point sees every position once, in order. Between pages it
waits for the writer's NOTIFY (or a short timeout) and sends a heartbeat comment when idle.
The stream ends when the client disconnects, or when the database goes away (the client
then reconnects with its ``Last-Event-ID``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.sse import format_sse_event
from starlette.responses import Response, StreamingResponse

from app.api.deps import ActorDep, PoolDep, connection
from app.api.log_watch import LogWatcher
from app.api.responses import LIST_PROBLEMS, FeedEntry
from app.api.routes_events import feed_page
from app.errors import InvalidInput
from app.events.messages import Actor
from app.store.errors import StoreUnavailable

router = APIRouter(tags=["events"])

PAGE = 500
POLL_SECONDS = 1.0
"""Longest a stream waits before reading again when no notification arrives."""
HEARTBEAT_SECONDS = 10.0
"""Idle time after which a comment line keeps proxies from closing the stream."""
RETRY_MS = 2000


class EventStream(StreamingResponse):
    """A ``text/event-stream`` response. Not FastAPI's ``EventSourceResponse``, which would
    make the route a generator endpoint that starts its 200 before the first read."""

    media_type = "text/event-stream"


_STREAM_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "An endless `text/event-stream`: `id: <position>`, `data: <feed entry>`; "
                   "comment lines (`: heartbeat`) while idle.",
    "content": {"text/event-stream": {
        "schema": {"type": "string"},
        "itemSchema": {"$ref": "#/components/schemas/FeedEntry"},
        "example": 'id: 42\ndata: {"position":42,"type":"DonorRegistered",...}\n\n',
    }},
}}


def _cursor(after: int, last_event_id: str | None) -> int:
    if last_event_id is None or not last_event_id.strip():
        return after
    text = last_event_id.strip()
    if not text.isdigit() or int(text) > 2**62:
        raise InvalidInput("Last-Event-ID must be a position (a non-negative integer)",
                           field="Last-Event-ID")
    return int(text)


@router.get(
    "/v1/events/stream", response_class=EventStream,
    responses=_STREAM_DOC | LIST_PROBLEMS,
)
async def stream_feed(
    request: Request,
    actor: ActorDep,
    pool: PoolDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="last position already seen")] = 0,
    last_event_id: Annotated[str | None, Header(
        description="the last position received; wins over `after` on reconnection",
        max_length=32)] = None,
) -> Response:
    """The change feed as server-sent events, resumable with ``Last-Event-ID``. The same
    read scope as ``GET /v1/events``."""
    cursor = _cursor(after, last_event_id)
    # The first page is read before the response starts, so an unreachable database is a
    # 503 problem, not an empty 200 stream.
    async with connection(pool) as con:
        first = await feed_page(con, actor, cursor, PAGE)
    watcher: LogWatcher = request.app.state.log_watcher
    return EventStream(
        _events(pool, watcher, actor, cursor, first),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    pool: Any, watcher: LogWatcher, actor: Actor, cursor: int, page: list[dict[str, Any]]
) -> AsyncIterator[bytes]:
    yield format_sse_event(retry=RETRY_MS, comment="bloodtrace change feed")
    idle_since = time.monotonic()
    while True:
        for entry in page:
            yield format_sse_event(data_str=orjson.dumps(entry).decode(),
                                   id=str(entry["position"]))
            cursor = entry["position"]
        if page:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= HEARTBEAT_SECONDS:
            yield format_sse_event(comment="heartbeat")
            idle_since = time.monotonic()
        if len(page) < PAGE:
            await watcher.wait_past(cursor, min(POLL_SECONDS, HEARTBEAT_SECONDS))
        try:
            async with connection(pool) as con:
                page = await feed_page(con, actor, cursor, PAGE)
        except StoreUnavailable:
            return  # the client reconnects with Last-Event-ID once we are back


__all__ = ["FeedEntry", "router"]
