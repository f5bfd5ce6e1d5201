"""The writer's aggregate snapshots are derived data: damaged or lost, they are rebuilt from
the log by the same pure evolve, row for row, and the writer decides correctly again."""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from app.bootstrap import Services, default_domain
from app.errors import DomainError
from app.sim.runner import send
from app.sim.simulator import Simulator
from app.store.rebuild_state import rebuild_write_state
from tests.integration.test_simulator import SMALL
from tests.support.factories import command

DIGEST = ("SELECT count(*), md5(string_agg(kind || '/' || id || '=' || body::text, ',' "
          "ORDER BY kind, id)) FROM write_state")


async def test_write_state_rebuilds_row_for_row(services: Services, fresh_db: str) -> None:
    sim = Simulator(replace(SMALL, donations=120, seed=5))
    for steps in sim.batches():
        sim.settle(steps, await send(services.writer, steps))
    owner = await asyncpg.connect(fresh_db)
    try:
        live = tuple(await owner.fetchrow(DIGEST))
        head = await owner.fetchval("SELECT position FROM log_head")
        # Damage it behind the service's back: one state wrong, one lost.
        await owner.execute("UPDATE write_state SET body = '{}' WHERE (kind, id) IN "
                            "(SELECT kind, id FROM write_state WHERE kind = 'unit' LIMIT 1)")
        await owner.execute("DELETE FROM write_state WHERE (kind, id) IN "
                            "(SELECT kind, id FROM write_state WHERE kind = 'donor' LIMIT 1)")
        assert tuple(await owner.fetchrow(DIGEST)) != live
    finally:
        await owner.close()
    assert live[0] > 500

    pool = await asyncpg.create_pool(fresh_db, min_size=1, max_size=2)
    try:
        seen: list[int] = []
        built_to = await rebuild_write_state(pool, default_domain(), lambda p, h: seen.append(p))
        async with pool.acquire() as con:
            assert tuple(await con.fetchrow(DIGEST)) == live
    finally:
        await pool.close()
    assert built_to == head and seen[-1] == head
    # The service (app role) decides against the rebuilt states and writes to the new table.
    async with services.pool.acquire() as con:
        known = await con.fetchval("SELECT id FROM write_state WHERE kind = 'donor' LIMIT 1")
    again, fresh = await services.writer.append_many([
        command("DonorRegistered", {"donor_id": known}),
        command("DonorRegistered", {"donor_id": "DNR-AFTER-REBUILD"}),
    ])
    assert isinstance(again, DomainError) and again.rule == "already-exists"
    assert not isinstance(fresh, DomainError)
    async with services.pool.acquire() as con:
        assert await con.fetchval("SELECT count(*) FROM write_state") == live[0] + 1
