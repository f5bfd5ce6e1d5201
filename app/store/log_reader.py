"""Reads of the log itself: the change feed, a unit's history, verification pages."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

import asyncpg

from app.events.messages import StoredEvent
from app.log.verify import PAGE, Segment
from app.store.codec import FEED_COLUMNS, feed_entry
from app.store.conn import Conn
from app.store.copy_rows import copy_log_pages
from app.store.mapper import stored_event, stored_event_from_row
from app.store.verify_worker import check_segments


class PgLogRows:
    """``LogRows`` over a pool: the rows in one binary COPY. Given the database's ``dsn``, it
    also checks segments on ``workers`` processes (default: every core), each on a
    connection of its own (``SegmentRows``)."""

    def __init__(self, pool: asyncpg.Pool, dsn: str | None = None,
                 workers: int | None = None) -> None:
        self._pool = pool
        self._dsn = dsn
        self.workers = 1 if dsn is None else workers or os.cpu_count() or 1

    async def pages(
        self, after: int, to: int | None
    ) -> AsyncIterator[list[tuple[int, bytes, bytes, bytes]]]:
        async with self._pool.acquire() as con:
            pages = copy_log_pages(con, after + 1, to if to is not None else 2**62, PAGE)
            try:
                async for page in pages:
                    yield page
            finally:
                await pages.aclose()

    def check_segments(self, segments: Sequence[Segment]) -> AsyncGenerator[Segment, None]:
        assert self._dsn is not None
        return check_segments(self._dsn, self.workers, segments)

    async def chain_before(self, position: int) -> bytes | None:
        async with self._pool.acquire() as con:
            value: bytes | None = await con.fetchval(
                "SELECT chain_hash FROM events WHERE position = $1", position - 1
            )
            return value

    async def head(self) -> tuple[int, bytes, bytes]:
        async with self._pool.acquire() as con:
            row = await con.fetchrow(
                "SELECT position, chain_hash, compact_range FROM log_head WHERE id = 1"
            )
        assert row is not None
        return row["position"], row["chain_hash"], row["compact_range"]


async def feed(con: Conn, after: int, limit: int) -> list[dict[str, Any]]:
    """Entries with position > after, in position order."""
    rows = await con.fetch(
        f"SELECT {FEED_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        after, limit,
    )
    return [feed_entry(r) for r in rows]


async def history(con: Conn, kind: str, ref: str) -> list[dict[str, Any]]:
    """Every event that concerns (kind, ref), in position order: one index look-up."""
    rows = await con.fetch(
        f"""SELECT {FEED_COLUMNS} FROM events
             WHERE position IN (SELECT position FROM event_refs WHERE kind = $1 AND ref = $2)
             ORDER BY position""",
        kind, ref,
    )
    return [feed_entry(r) for r in rows]


async def head_position(con: Conn) -> int:
    value: int = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
    return value


async def replay_pages(con: Conn, after: int, upto: int, page: int
                       ) -> AsyncGenerator[list[StoredEvent], None]:
    """Events with ``after < position <= upto`` in position order, in pages of ``page``, read
    by binary COPY on ``con`` (which it holds until the last page): what the rebuilds of read
    models and of the writer's state replay, on a connection apart from the one they write
    with, so the next pages arrive while one is applied."""
    pages = copy_log_pages(con, after + 1, upto, page)
    try:
        async for rows in pages:
            yield [stored_event(record, leaf, chain) for _, record, leaf, chain in rows]
    finally:
        await pages.aclose()


async def stored_events(con: Conn, after: int, upto: int, limit: int) -> list[StoredEvent]:
    """Events with ``after < position <= upto`` in position order, at most ``limit``: the page
    every replay (rebuilds of read models and of the writer's state) reads."""
    rows = await con.fetch(
        f"SELECT {FEED_COLUMNS} FROM events WHERE position > $1 AND position <= $2 "
        "ORDER BY position LIMIT $3",
        after, upto, limit,
    )
    return [stored_event_from_row(r) for r in rows]
