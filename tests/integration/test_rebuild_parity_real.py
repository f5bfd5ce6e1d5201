"""Rebuild parity on a network simulated through the real writer and rules (refusals
included): replaying the log into shadow tables gives the live read models row for row."""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from app.bootstrap import Services
from app.errors import DomainError
from app.sim.runner import send
from app.sim.simulator import Simulator
from app.store.rebuild import rebuild, tables_digest
from tests.integration.test_simulator import SMALL


async def test_rebuild_of_a_real_simulated_network_equals_the_live_tables(
    services: Services, fresh_db: str
) -> None:
    sim = Simulator(replace(SMALL, seed=29))
    refused = 0
    for steps in sim.batches():
        outcomes = await send(services.writer, steps)
        refused += sum(isinstance(o, DomainError) for o in outcomes)
        sim.settle(steps, outcomes)
    assert refused > 0  # the rules said no along the way, and nothing half-happened

    async with services.pool.acquire() as con:
        live = await tables_digest(con)
        events = await con.fetchval("SELECT count(*) FROM events")
        tracked = {r[0]: r[1] for r in await con.fetch(
            "SELECT projection, position FROM projection_position")}
    assert events > 3000
    assert set(tracked.values()) == {events}

    owner = await asyncpg.create_pool(fresh_db, min_size=1, max_size=2)
    try:
        await rebuild(owner)
        async with owner.acquire() as con:
            rebuilt = await tables_digest(con)
    finally:
        await owner.close()
    assert rebuilt == live
