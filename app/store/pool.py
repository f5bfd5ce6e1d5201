"""The service's connection pools: asyncpg's pool, where nothing waits forever.

``asyncpg`` waits for a free connection, and for every connection to come back on close, with
no limit unless each caller gives one. A caller that forgot one hung the suite for 80
minutes once: requests that each held a connection and waited for a second one. Here every
wait has a bound:

- ``acquire`` without a timeout waits at most ``acquire_timeout``, then raises
  ``TimeoutError``, which ``map_driver_errors`` turns into ``StoreUnavailable`` (a 503 the
  client may retry), never a request that hangs;
- ``close_pool`` waits ``grace`` seconds for the connections to come back, then terminates
  them, so that a stuck request cannot hold up a shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import asyncpg.pool

log = logging.getLogger(__name__)


class Pool(asyncpg.pool.Pool):
    """``asyncpg.pool.Pool`` whose ``acquire`` waits ``acquire_timeout`` seconds unless told
    otherwise."""

    __slots__ = ("_acquire_timeout",)

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> asyncpg.pool.PoolAcquireContext:
        return super().acquire(
            timeout=self._acquire_timeout if timeout is None else timeout)


async def open_pool(dsn: str, *, min_size: int, max_size: int, acquire_timeout: float,
                    **connect_kwargs: Any) -> Pool:
    """What ``asyncpg.create_pool`` makes, with its defaults, as a ``Pool``."""
    pool = Pool(
        dsn, min_size=min_size, max_size=max_size, acquire_timeout=acquire_timeout,
        max_queries=50000, max_inactive_connection_lifetime=300.0, loop=None,
        connection_class=asyncpg.Connection, record_class=asyncpg.Record, **connect_kwargs)
    await pool
    return pool


async def close_pool(pool: asyncpg.Pool, grace: float) -> None:
    """Close ``pool``, terminating what is still held after ``grace`` seconds."""
    try:
        await asyncio.wait_for(pool.close(), grace)
    except TimeoutError:
        log.warning("connections still held %g s after the pool was closed: terminated",
                    grace)
        pool.terminate()
