"""Watch a pool for a task that takes a second connection while it holds one.

A request that holds a pooled connection and waits for another deadlocks the pool once as
many such requests run at once as the pool has connections: each holds one and waits,
forever, for one that none will give back. (CI hung on this for 80 minutes: eight identity
reads at once on a pool of eight.) ``watch_nesting`` records every such second acquisition,
with where it came from, so that a test over every route can require that none happens.

It wraps ``_acquire`` and ``release`` of ``asyncpg.pool.Pool`` (the class: a pool has
``__slots__``), for the one pool watched: ``asyncpg`` has no hook for acquisition, and
``PoolAcquireContext`` calls exactly these two, for ``async with`` and ``await`` alike.
"""

from __future__ import annotations

import asyncio
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg


@contextmanager
def watch_nesting(pool: asyncpg.Pool) -> Iterator[list[str]]:
    """Yield the list that collects a stack for each nested acquisition on ``pool``."""
    nested: list[str] = []
    held: Counter[asyncio.Task[Any] | None] = Counter()
    owner: dict[int, asyncio.Task[Any] | None] = {}
    cls = asyncpg.pool.Pool
    acquire, release = cls._acquire, cls.release  # type: ignore[attr-defined]

    async def watched_acquire(self: asyncpg.Pool, timeout: float | None) -> Any:
        if self is not pool:
            return await acquire(self, timeout)
        task = asyncio.current_task()
        if held[task]:
            nested.append("".join(traceback.format_stack(limit=16)[:-1]))
        con = await acquire(self, timeout)
        held[task] += 1
        owner[id(con)] = task
        return con

    async def watched_release(self: asyncpg.Pool, con: Any, *,
                              timeout: float | None = None) -> None:
        if self is pool and id(con) in owner:
            held[owner.pop(id(con))] -= 1
        await release(self, con, timeout=timeout)

    cls._acquire = watched_acquire  # type: ignore[attr-defined]
    cls.release = watched_release  # type: ignore[method-assign]
    try:
        yield nested
    finally:
        cls._acquire = acquire  # type: ignore[attr-defined]
        cls.release = release  # type: ignore[method-assign]
