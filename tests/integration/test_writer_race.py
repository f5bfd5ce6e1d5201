"""Two writers (two processes, in effect) and one event id: the second writer's look-up of
recorded ids shares a statement with its head lock, whose snapshot predates the first
writer's commit when the lock had to wait for it. It must still answer with the replay."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from app.events.messages import StoredEvent
from app.store.conn import Conn
from app.store.writer import Writer
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain


async def test_a_retry_that_waited_for_the_lock_sees_the_commit_it_waited_for(
        fresh_db: str) -> None:
    holding = asyncio.Event()

    async def hold_the_lock(con: Conn, events: Sequence[StoredEvent]) -> None:
        holding.set()
        await asyncio.sleep(0.5)  # the head stays locked, the events not yet committed

    pools = [await asyncpg.create_pool(fresh_db, min_size=1, max_size=2) for _ in range(2)]
    first = Writer(pools[0], LedgerDomain(), inline=(hold_the_lock,))
    second = Writer(pools[1], LedgerDomain())
    await first.start()
    await second.start()
    try:
        cmd = note("raced")
        original = asyncio.create_task(first.append(*cmd))
        await holding.wait()
        retried = await second.append(*cmd)
        assert retried == (await original).replay()
        # And with nothing in between, the one-statement look-up finds it too.
        assert await second.append(*cmd) == retried
    finally:
        await first.stop()
        await second.stop()
        for pool in pools:
            await pool.close()
