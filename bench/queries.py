"""Stock and provenance query latency at ~1 M units.

The read-model tables of a separate database are filled by ``bench.bench_read_models``'s
server-side SQL (a SYNTHETIC population in the shape of a national network: ~5 % of units in
stock), because loading 1 M units through the writer would take an hour. Only the reads are
timed here; the writer has its own figures.
"""

from __future__ import annotations

import random
import time
import uuid

import asyncpg

from app.store import read_queries as q
from app.store.database import with_database
from app.store.migrate import migrate
from bench.bench_read_models import CATEGORIES, NOW, POPULATE, SITES
from bench.figures import Figure, latency, p50_p99
from bench.storage import floor_ms, timed


async def populate(con: asyncpg.Connection, units: int) -> tuple[int, float]:
    started = time.perf_counter()
    await con.execute("SET synchronous_commit = off")
    await con.execute("ALTER TABLE events DISABLE TRIGGER USER")
    for statement in POPULATE.format(sites=SITES, dins=units // 3).split(";\n\n"):
        if "$1" in statement:
            await con.execute(statement, NOW)
        else:
            await con.execute(statement)
    await con.execute("ALTER TABLE events ENABLE TRIGGER USER")
    await con.execute("VACUUM ANALYZE")
    total: int = await con.fetchval("SELECT count(*) FROM rm_units")
    return total, time.perf_counter() - started


async def read_queries(admin_url: str, units: int, n: int) -> tuple[list[Figure], str]:
    """Stock (one site: counts + FEFO 50; site, category and group) and provenance p50/p99."""
    name = f"bench_rm_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    con = await asyncpg.connect(with_database(admin_url, name))
    try:
        await migrate(con)
        total, seconds = await populate(con, units)
        rng = random.Random(1)
        sample = [r[0] for r in await con.fetch(
            "SELECT unit_id FROM rm_units TABLESAMPLE SYSTEM (2) WHERE NOT consumed LIMIT 2000")]

        def site() -> str:
            return f"S{rng.randrange(SITES):03d}"

        floor = await floor_ms(con, n)
        stock = await timed(lambda: q.stock(con, site=site(), limit=50, now=NOW), n)
        stock_group = await timed(lambda: q.stock(
            con, site=site(), category=rng.choice(CATEGORIES[:3]), abo="O", rhd="POS",
            limit=50, now=NOW), n)
        provenance = await timed(lambda: q.provenance(con, rng.choice(sample), now=NOW), n)
    finally:
        await con.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    at = f"{total:,} units"
    figures = [
        latency(f"stock: site counts + FEFO 50 ({at})", *p50_p99(stock), floor, 20),
        latency(f"stock: site + category + group ({at})", *p50_p99(stock_group), floor, 20),
        latency(f"provenance of a unit ({at})", *p50_p99(provenance), floor, 20),
    ]
    note = (f"stock/provenance: {total:,} units in a synthetic read-model population "
            f"(bench/bench_read_models.py, filled by SQL in {seconds:.0f} s, not through the "
            f"writer); {n:,} sequential calls of app.store.read_queries on one connection")
    return figures, note
