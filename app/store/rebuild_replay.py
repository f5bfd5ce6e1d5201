"""The replay both rebuilds run (read models, ``app.store.rebuild``; the writer's states,
``app.store.rebuild_state``): fill derived tables from the log while the service writes, then
swap them in under the writer's head-row lock.

1. Replay the log page by page, read by binary COPY on ``reader`` while ``con`` applies the
   page before, until the tail left is at most ``quiet_tail`` events.
2. ``prepare`` (say, build the secondary indexes) outside the lock.
3. In one transaction: lock the head row (writers wait, readers do not), replay the tail
   committed since, ``swap`` to the head, commit. A lock not had within 5 s is tried again.

Each record is parsed once (``orjson``); a record whose type and envelope ``wanted`` turns
down is not decoded any further, and the page's last position moves on all the same.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import orjson

from app.collector import GC_THRESHOLDS
from app.events.messages import StoredEvent
from app.store.conn import Conn
from app.store.copy_rows import copy_log_pages
from app.store.mapper import parsed_event

Progress = Callable[[int, int], None]
"""Called as ``progress(position_replayed, head)``."""
ApplyPage = Callable[[Conn, list[StoredEvent]], Awaitable[None]]
"""Apply one page of events (position order, never empty) on ``con``."""
Wanted = Callable[[dict[str, Any]], bool]
"""Whether a parsed record (``orjson.loads`` of its bytes) is decoded into an event."""
Swap = Callable[[Conn, int], Awaitable[None]]
"""Swap the filled tables in, built to the given head, inside the lock's transaction."""

SWAP_ATTEMPTS = 3


async def replay_and_swap(
    con: Conn,
    reader: Conn,
    apply_page: ApplyPage,
    swap: Swap,
    *,
    page: int,
    quiet_tail: int,
    wanted: Wanted | None = None,
    prepare: Callable[[Conn], Awaitable[None]] | None = None,
    progress: Progress | None = None,
) -> int:
    """Replay the whole log through ``apply_page`` and ``swap``; return the head swapped at."""
    replay = _Replay(con, reader, apply_page, page, wanted, progress)
    with _fewer_collections():
        while True:
            head: int = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
            if head - replay.position <= quiet_tail:
                break
            await replay.to(head)
        if prepare is not None:
            await prepare(con)
        for attempt in range(SWAP_ATTEMPTS):
            try:
                async with con.transaction():
                    await con.execute("SET LOCAL lock_timeout = '5s'")
                    head = await con.fetchval(
                        "SELECT position FROM log_head WHERE id = 1 FOR UPDATE")
                    await replay.to(head)
                    await swap(con, head)
                return head
            except asyncpg.LockNotAvailableError:
                if attempt == SWAP_ATTEMPTS - 1:
                    raise
    raise AssertionError("unreachable")


class _Replay:
    """Where a replay stands, and the step that takes it to a head."""

    def __init__(self, con: Conn, reader: Conn, apply_page: ApplyPage, page: int,
                 wanted: Wanted | None, progress: Progress | None) -> None:
        self.con, self.reader, self.apply_page = con, reader, apply_page
        self.page, self.wanted, self.progress = page, wanted, progress
        self.position = 0

    async def to(self, head: int) -> None:
        """Apply the events in (position, head]. A page read on ``reader`` is applied on
        ``con`` while the COPY brings the next."""
        pages = _pages(self.reader, self.position, head, self.page, self.wanted)
        try:
            async for last, events in pages:
                if events:
                    await self.apply_page(self.con, events)
                self.position = last
                if self.progress is not None:
                    self.progress(last, head)
        finally:
            await pages.aclose()


async def _pages(con: Conn, after: int, upto: int, page: int, wanted: Wanted | None
                 ) -> AsyncGenerator[tuple[int, list[StoredEvent]], None]:
    """(last position of the page, its wanted events), for ``after < position <= upto``."""
    pages = copy_log_pages(con, after + 1, upto, page)
    loads = orjson.loads
    try:
        async for rows in pages:
            events = []
            for _, record, leaf, chain in rows:
                raw = loads(record)
                if wanted is None or wanted(raw):
                    events.append(parsed_event(raw, record, leaf, chain))
            yield rows[-1][0], events
    finally:
        await pages.aclose()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the collector's thresholds for the replay (``app.collector.GC_THRESHOLDS``),
    then restore them: collection still runs, less often."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
