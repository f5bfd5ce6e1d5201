"""Rebuild parity and reconciliation after a long simulated network.

The log is written in irregular batches (as group commit would), the read models are
rebuilt from it, and the rebuilt tables must equal the live ones row for row. Then the stock
is reconciled against a ledger computed from the events alone.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import asyncpg
import pytest

from app.events.messages import StoredEvent
from app.events.payload import dump
from app.store.rebuild import rebuild, tables_digest
from tests.support.unit_events import append_raw
from tests.support.unit_sim import Sim

STEPS = 12_000


@pytest.fixture
async def pool(fresh_db: str):  # type: ignore[no-untyped-def]
    p = await asyncpg.create_pool(fresh_db, min_size=1, max_size=4)
    yield p
    await p.close()


async def _append_in_batches(pool: asyncpg.Pool, events: list[StoredEvent], seed: int) -> None:
    rng = random.Random(seed)
    i = 0
    async with pool.acquire() as con:
        while i < len(events):
            n = rng.choice((1, 3, 17, 120, 500))
            await append_raw(con, events[i:i + n])
            i += n


def _ledger(events: list[StoredEvent]) -> tuple[Counter[str], dict[str, str]]:
    """In-stock units per site and each unit's place, from the events alone."""
    site: dict[str, str] = {}
    place: dict[str, str] = {}
    for e in events:
        d = dump(e.data)
        if e.type == "DonationCollected":
            site[d["unit_id"]], place[d["unit_id"]] = d["site_id"], "stock"
        elif e.type == "UnitSplit":
            for c in d["components"]:
                site[c["unit_id"]], place[c["unit_id"]] = site[d["unit_id"]], "stock"
            place[d["unit_id"]] = "consumed"
        elif e.type == "UnitsPooled":
            for p in d["parent_unit_ids"]:
                place[p] = "consumed"
            site[d["unit_id"]], place[d["unit_id"]] = str(e.actor.site_id), "stock"
        elif e.type == "UnitShipped":
            place[d["unit_id"]] = "transit"
        elif e.type == "UnitReceived":
            site[d["unit_id"]], place[d["unit_id"]] = d["site_id"], "stock"
        elif e.type in ("UnitTransfused", "UnitDiscarded", "UnitShippedForFractionation"):
            place[d["unit_id"]] = "final"
    stock = Counter(site[u] for u, p in place.items() if p == "stock")
    return stock, place


async def test_rebuilt_tables_equal_live_ones_and_stock_reconciles(pool: asyncpg.Pool) -> None:
    sim = Sim(seed=2024, banks=6, hospitals=10)
    events = sim.run(STEPS)
    kinds = {e.type for e in events}
    assert len(kinds) >= 22, sorted(kinds)  # every kind of event the catalogue has on units
    await _append_in_batches(pool, events, seed=1)
    async with pool.acquire() as con:
        live = await tables_digest(con)
        await rebuild(pool)
        assert await tables_digest(con) == live
        await rebuild(pool, ["provenance"])
        assert await tables_digest(con) == live

        stock, place = _ledger(events)
        counted = await con.fetch(
            "SELECT custodian_site_id, count(*) FROM rm_units WHERE in_stock GROUP BY 1")
        assert {r[0]: r[1] for r in counted} == dict(stock)
        rows = await con.fetch(
            "SELECT unit_id, in_stock, status, consumed, fate FROM rm_units")
        assert len(rows) == len(place) == len(sim.units)
        for r in rows:
            where = [r["in_stock"], r["status"] == "in_transit", r["consumed"],
                     r["fate"] is not None]
            assert sum(where) == 1, dict(r)  # exactly one of: stock, transit, consumed, final
            got = ("stock", "transit", "consumed", "final")[where.index(True)]
            assert got == place[r["unit_id"]] == sim.units[r["unit_id"]].state, dict(r)


async def test_rebuild_while_the_log_keeps_growing(pool: asyncpg.Pool) -> None:
    sim = Sim(seed=99)
    events = sim.run(6000)
    half = len(events) // 2
    await _append_in_batches(pool, events[:half], seed=2)

    async def keep_writing() -> None:
        await _append_in_batches(pool, events[half:], seed=3)

    writer = asyncio.create_task(keep_writing())
    await rebuild(pool)  # swaps in whenever it catches up; the writer waits on the head lock
    await writer
    async with pool.acquire() as con:
        after_concurrent = await tables_digest(con)
        assert await con.fetchval("SELECT min(position) FROM projection_position") == len(events)
        await rebuild(pool)
        assert await tables_digest(con) == after_concurrent
