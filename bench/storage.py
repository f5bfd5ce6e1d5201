"""Figures measured in-process against the bench database: the simulator through the writer,
online verification, offline export verification, projection rebuild and read queries."""

from __future__ import annotations

import importlib.util
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from app.bootstrap import open_services
from app.config import Settings
from app.log.verify import verify_log
from app.sim.runner import run_simulation
from app.sim.state import SimConfig
from app.store.conn import Conn
from app.store.log_reader import PgLogRows, feed
from bench.figures import Figure, against_limit, latency, p50_p99, rate
from bench.limits import copy_limit_events, copy_limit_tables, hash_limit

Query = Callable[[], Awaitable[Any]]


async def head(con: Conn) -> int:
    value: int = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
    return value


async def simulate(url: str, donations: int, days: int) -> tuple[Figure, str]:
    """A realistic log: the network simulator through the in-process writer and rules."""
    config = SimConfig(donations=donations, days=days, seed=1)
    async with open_services(Settings(database_url=url)) as services:
        async with services.pool.acquire() as con:
            before = await head(con)
        started = time.perf_counter()
        report = await run_simulation(services.writer, config, whole_days=True)
        seconds = time.perf_counter() - started
        async with services.pool.acquire() as con:
            after = await head(con)
    owner = await asyncpg.connect(url)
    try:
        limit = await copy_limit_events(owner, before + 1, after)
    finally:
        await owner.close()
    events = after - before
    expected = sum(report.expected_refusals.values())
    note = (f"simulator: {report.donations:,} donations, {report.units:,} units, {events:,} "
            f"events of all 25 types (derived ones included); {expected:,} commands refused "
            f"as intended (donors back too early or deferred), "
            f"{report.refused - expected:,} other refusals; one writer call per simulated day")
    return rate("simulated network via the writer (in-process)", events / seconds, limit,
                "COPY", None), note


ONLINE_GOAL, OFFLINE_GOAL, REBUILD_GOAL = 0.5, 0.6, 0.3
"""Issue 16's goals, as ratios to the limit measured in the same run."""


async def verification(pool: asyncpg.Pool, url: str) -> tuple[Figure, float]:
    """Online verification of the whole log as ``bloodtrace verify`` runs it (worker processes
    on every core, rows by binary COPY), and the hashlib limit over the same records (one
    core: leaf and chain hash per record, nothing read or checked)."""
    started = time.perf_counter()
    report = await verify_log(PgLogRows(pool, dsn=url))
    seconds = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"the bench log does not verify: {report}")
    limit = await hash_limit(pool)
    return against_limit(f"online verification ({report.checked:,} events)",
                         report.checked / seconds, limit, "hashlib", ONLINE_GOAL), limit


async def offline_verification(pool: asyncpg.Pool, url: str, work: Path, limit: float
                               ) -> tuple[Figure, str]:
    """Offline export verification, once the verifiable log's CLI exists."""
    if importlib.util.find_spec("app.cli.verifiable") is None:
        return (Figure("offline export verification", "n/a"),
                "offline export verification: n/a, `bloodtrace verify-export` does not exist")
    from bench.offline import measure_offline

    return await measure_offline(pool, url, work, limit)


async def rebuild_figure(pool: asyncpg.Pool) -> Figure:
    from app.projections.registry import select
    from app.store.rebuild import rebuild

    async with pool.acquire() as con:
        events = await head(con)
    started = time.perf_counter()
    await rebuild(pool)
    seconds = time.perf_counter() - started
    tables = [t.name for p in select(None) for t in p.tables]
    async with pool.acquire() as con:
        rows, copy_seconds = await copy_limit_tables(con, tables)
    limit = events / copy_seconds if copy_seconds else None
    return against_limit(f"projection rebuild ({events:,} events -> {rows:,} rows)",
                         events / seconds, limit, "COPY of the rebuilt rows", REBUILD_GOAL)


async def timed(call: Query, n: int) -> list[float]:
    for _ in range(min(20, n)):  # warm caches and prepared statements
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def floor_ms(con: Conn, n: int) -> float:
    return p50_p99(await timed(lambda: con.fetchval("SELECT 1"), n))[0]


async def feed_latency(con: Conn, n: int) -> Figure:
    """A change-feed page (100 events) from a random cursor of the real log."""
    top = await head(con)
    rng = random.Random(3)
    samples = await timed(lambda: feed(con, rng.randrange(max(1, top - 100)), 100), n)
    return latency(f"change feed, 100 events/page ({top:,}-event log)", *p50_p99(samples),
                   await floor_ms(con, n), None)
