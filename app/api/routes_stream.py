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

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.sse import format_sse_event
from starlette.exceptions import HTTPException
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from app.api.deps import ActorDep, ReadPoolDep, actor_of, bearer, connection
from app.api.log_watch import LogWatcher
from app.api.responses import LIST_PROBLEMS, FeedEntry
from app.api.routes_events import feed_page
from app.errors import DomainError, InvalidInput
from app.events.messages import Actor
from app.store.errors import StoreUnavailable

router = APIRouter(tags=["events"])

PAGE = 500
POLL_SECONDS = 1.0
"""Longest a stream waits before reading again when no notification arrives."""
HEARTBEAT_SECONDS = 10.0
"""Idle time after which a comment line keeps proxies from closing the stream."""
RETRY_MS = 2000
RETRY_S = 5
"""What a refused stream is told to wait."""


class EventStream(StreamingResponse):
    """A ``text/event-stream`` response. Not FastAPI's ``EventSourceResponse``, which would
    make the route a generator endpoint that starts its 200 before the first read. It holds
    a stream slot until it ends, however it ends (a client gone before the first byte
    included)."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[bytes], release: Callable[[], None],
                 headers: dict[str, str], status_code: int = 200) -> None:
        super().__init__(content, status_code=status_code, headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


class StreamSlots:
    """Open streams per key and in all. Past the per-key cap a 429, past the total a 503,
    both with ``Retry-After``: a few hundred replays must not starve the writer."""

    def __init__(self, per_key: int, total: int) -> None:
        self.per_key = per_key
        self.total = total
        self.open: dict[str, int] = {}

    def take(self, key_id: str) -> Callable[[], None]:
        """A slot for ``key_id``, and the function that gives it back (once)."""
        if sum(self.open.values()) >= self.total:
            raise HTTPException(503, "the service carries as many streams as it can; "
                                     "retry later", headers={"Retry-After": str(RETRY_S)})
        if self.open.get(key_id, 0) >= self.per_key:
            raise HTTPException(429, f"this key has {self.per_key} streams open already",
                                headers={"Retry-After": str(RETRY_S)})
        self.open[key_id] = self.open.get(key_id, 0) + 1
        given = [False]

        def release() -> None:
            if not given[0]:
                given[0] = True
                self.open[key_id] -= 1
                if not self.open[key_id]:
                    del self.open[key_id]

        return release


def stream_slots(request: Request) -> StreamSlots:
    settings = request.app.state.services.settings
    slots = getattr(request.app.state, "stream_slots", None)
    if slots is None:
        slots = request.app.state.stream_slots = StreamSlots(
            settings.stream_max_per_key, settings.stream_max_total)
    assert isinstance(slots, StreamSlots)
    return slots


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
    pool: ReadPoolDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="last position already seen")] = 0,
    last_event_id: Annotated[str | None, Header(
        description="the last position received; wins over `after` on reconnection",
        max_length=32)] = None,
) -> Response:
    """The change feed as server-sent events, resumable with ``Last-Event-ID``. The same
    read scope as ``GET /v1/events``."""
    cursor = _cursor(after, last_event_id)
    release = stream_slots(request).take(actor.key_id)
    try:
        # The first page is read before the response starts, so an unreachable database is
        # a 503 problem, not an empty 200 stream.
        async with connection(pool) as con:
            first = await feed_page(con, actor, cursor, PAGE)
    except BaseException:
        release()
        raise
    watcher: LogWatcher = request.app.state.log_watcher
    pace = PAGE / request.app.state.services.settings.stream_replay_events_per_second
    return EventStream(
        _events(pool, watcher, actor, cursor, first, pace, lambda: _still_allowed(request)),
        release,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _still_allowed(request: Request) -> bool:
    """Whether the stream's credentials still hold: a key revoked (heard at once through
    ``app.api.key_cache``), a session ended, signed out or idle, or an account disabled or
    locked ends an open stream too, not only the next request. Reading the feed is not the
    person's own use, so it does not keep the session alive."""
    services = request.app.state.services
    try:
        await actor_of(request, services, await bearer(request), keep_alive=False)
    except (DomainError, HTTPException):
        return False
    return True


async def _events(
    pool: Any, watcher: LogWatcher, actor: Actor, cursor: int, page: list[dict[str, Any]],
    pace: float, still_allowed: Callable[[], Any],
) -> AsyncIterator[bytes]:
    """The stream; a replay of history sends a full page at most every ``pace`` seconds.
    Before each page the credentials are checked again (``still_allowed``)."""
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
        else:
            await asyncio.sleep(pace)
        try:
            if not await still_allowed():
                return  # revoked or signed out: the client's reconnection gets the 401
            async with connection(pool) as con:
                page = await feed_page(con, actor, cursor, PAGE)
        except StoreUnavailable:
            return  # the client reconnects with Last-Event-ID once we are back


__all__ = ["FeedEntry", "router"]
