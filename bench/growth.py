"""How cost grows with the log: one long simulation through the in-process writer (the same
rules, chain and inline read models as the API), paused at each log size to measure

- the append rate over the last stretch of events before that size (a tenth of it, at most
  100,000 events), against the rate at the first size;
- stock (one site: counts + FEFO 50) and provenance p99 on the simulated read models;
- online verification of the whole log (``bloodtrace verify``'s path: worker processes,
  binary COPY).

Goal (issue 16): the append rate at the largest size within 15 % of the rate at the first,
and both query p99s under 20 ms. The 5 M point takes about 45 minutes through the writer on
two shared cores, so it runs in ``make bench`` (``--full``) only; ``--growth-sizes`` picks
others.
"""

from __future__ import annotations

import gc
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from app.bootstrap import open_services
from app.collector import GC_THRESHOLDS
from app.config import Settings
from app.log.verify import verify_log
from app.sim.runner import is_late, send
from app.sim.simulator import Simulator
from app.sim.state import SimConfig
from app.store import read_queries as q
from app.store.database import with_database
from app.store.log_reader import PgLogRows
from app.store.migrate import migrate
from bench.figures import Figure, latency, p50_p99
from bench.storage import timed

FULL_SIZES = (100_000, 1_000_000, 5_000_000)
QUICK_SIZES = (3_000, 10_000)
EVENTS_PER_DONATION = 25
"""About what the simulator's network records per donation (28-29 in the full bench)."""
DONATIONS_PER_DAY = 75
RATE_TOLERANCE = 0.15
P99_MS = 20.0


@dataclass(frozen=True, slots=True)
class Point:
    size: int
    rate: float
    window: int
    stock_p99: float
    stock_p50: float
    provenance_p99: float
    provenance_p50: float
    verify_s: float
    reached_s: float


def sizes_option(text: str) -> tuple[int, ...]:
    """``--growth-sizes 100k,1m,5m`` (or plain numbers) as ascending event counts."""
    units = {"k": 1_000, "m": 1_000_000}
    values = []
    for part in text.lower().split(","):
        part = part.strip().replace("_", "")
        scale = units.get(part[-1:], 1)
        values.append(int(float(part[:-1] if scale > 1 else part) * scale))
    return tuple(sorted(set(values)))


async def growth(admin_url: str, sizes: Sequence[int], iterations: int
                 ) -> tuple[list[Figure], list[str]]:
    """The growth rows, measured in a database of their own."""
    name = f"bench_growth_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    started = time.perf_counter()
    try:
        owner = await asyncpg.connect(url)
        await migrate(owner)
        await owner.close()
        points = await _grow(url, sizes, iterations, started)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return _figures(points, iterations)


async def _grow(url: str, sizes: Sequence[int], iterations: int, started: float
                ) -> list[Point]:
    donations = max(sizes) // EVENTS_PER_DONATION + 200
    config = SimConfig(donations=donations, days=max(30, donations // DONATIONS_PER_DAY),
                       seed=16)
    points: list[Point] = []
    todo = list(sizes)
    async with open_services(Settings(database_url=url)) as services:
        pool = services.pool
        sim = Simulator(config)
        # The writer gets a server process's collector policy (app.collector). The simulator's own
        # bookkeeping grows with the log in this process, which no server's heap does: left to
        # the collector, every full collection walks all of it again, and the append rate
        # measured here would fall with the simulator's memory, not with the log. After each
        # day the day's cycles are collected (a collection walks only what is not frozen yet)
        # and the survivors frozen. Freezing without that collection leaks every cycle not yet
        # collected: a 5 M run grew to 23 GB and was killed.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        samples: list[tuple[float, int]] = [(time.perf_counter(), 0)]
        for steps in sim.batches(whole_days=True):
            now = datetime.now(UTC)
            sim.report.late_entries += sum(is_late(step, now) for step in steps)
            sim.settle(steps, await send(services.writer, steps))
            gc.collect()
            gc.freeze()
            async with pool.acquire() as con:
                head: int = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
            samples.append((time.perf_counter(), head))
            if head < todo[0]:
                continue
            size = todo.pop(0)
            # The rate over the events just before the size: the second half of the log at
            # the first sizes (a tenth, 10,000 events at 100 k, was a few simulated days, and
            # two runs gave 3,479 and 1,925 ev/s), and the last 100,000 beyond 200 k.
            window = min(size // 2, 100_000)
            # from the last pause before the window (the first sample when there is none)
            t0, h0 = max(((t, h) for t, h in samples if h <= head - window),
                         default=samples[0], key=lambda sample: sample[1])
            rate = (head - h0) / (samples[-1][0] - t0)
            reached = time.perf_counter() - started
            points.append(await _measure(url, pool, services.read_url, head, rate, head - h0,
                                         iterations, reached))
            samples = samples[-1:]
            if not todo:
                break
    return points


async def _measure(url: str, pool: asyncpg.Pool, dsn: str, size: int, rate: float,
                   window: int, iterations: int, reached: float) -> Point:
    rng = random.Random(size)
    owner = await asyncpg.connect(url)
    try:  # what autovacuum would have done by now on tables that grew from empty
        await owner.execute("ANALYZE")
    finally:
        await owner.close()
    async with pool.acquire() as con:
        sites = [r[0] for r in await con.fetch(
            "SELECT DISTINCT custodian_site_id FROM rm_units WHERE in_stock")] or ["none"]
        units = [r[0] for r in await con.fetch(
            "SELECT unit_id FROM rm_units ORDER BY md5(unit_id) LIMIT 2000")]
        now = datetime.now(UTC)
        stock = await timed(lambda: q.stock(con, site=rng.choice(sites), limit=50, now=now),
                            iterations)
        provenance = await timed(lambda: q.provenance(con, rng.choice(units), now=now),
                                 iterations)
    began = time.perf_counter()
    report = await verify_log(PgLogRows(pool, dsn=dsn))
    verify_s = time.perf_counter() - began
    if not report.ok:
        raise RuntimeError(f"the growth log does not verify: {report}")
    (s50, s99), (p50, p99) = p50_p99(stock), p50_p99(provenance)
    return Point(size, rate, window, s99, s50, p99, p50, verify_s, reached)


def _figures(points: list[Point], iterations: int) -> tuple[list[Figure], list[str]]:
    if not points:
        return [Figure("growth", "no size reached")], []
    base = points[0]
    figures: list[Figure] = []
    for point in points:
        at = f"{point.size:,}-event log"
        ratio = point.rate / base.rate if base.rate else 0.0
        target = "-" if point is base else f">= {1 - RATE_TOLERANCE:.2f}x the {base.size:,} rate"
        status = "" if point is base else ("PASS" if ratio >= 1 - RATE_TOLERANCE else "MISS")
        figures.append(Figure(f"growth: append rate via the writer ({at})",
                              f"{point.rate:,.0f} ev/s", f"{base.rate:,.0f} ev/s (at "
                              f"{base.size:,})", f"{ratio:.2f}", target, status))
        figures.append(latency(f"growth: stock, site counts + FEFO 50 ({at})",
                               point.stock_p50, point.stock_p99, None, P99_MS))
        figures.append(latency(f"growth: provenance of a unit ({at})",
                               point.provenance_p50, point.provenance_p99, None, P99_MS))
        figures.append(Figure(f"growth: online verification ({at})",
                              f"{point.verify_s:.1f} s ({point.size / point.verify_s:,.0f} "
                              "ev/s)", "-", "-", "-", ""))
    reached = ", ".join(f"{p.size:,} after {p.reached_s:.0f} s" for p in points)
    notes = [f"growth: one simulation through the in-process writer (one call per simulated "
             f"day); append rate over the events just before each size ("
             f"{', '.join(f'{p.window:,}' for p in points)}); "
             f"{iterations:,} sequential stock/provenance calls on the simulated read models; "
             f"sizes reached: {reached}"]
    return figures, notes


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.growth --sizes 100k,1m,5m``: the growth table alone, on the bench's
    embedded PostgreSQL, written to ``bench/out/growth.md`` (the 5 M point takes about an hour
    on two cores, so it is worth running on its own)."""
    import argparse
    import asyncio
    import os
    from pathlib import Path

    from rich.console import Console

    from app.store.database import embedded_admin_url
    from bench.figures import markdown, render

    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=main.__doc__)
    parser.add_argument("--sizes", type=sizes_option, default=FULL_SIZES)
    parser.add_argument("--iterations", type=int, default=2_000)
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    out = root / "bench" / "out"
    (out / "work").mkdir(parents=True, exist_ok=True)
    os.environ["BLOODTRACE_DATA_DIR"] = str(out / "work" / "keys")
    began = time.monotonic()
    admin_url = embedded_admin_url(root / ".data" / "bench")
    figures, notes = asyncio.run(growth(admin_url, args.sizes, args.iterations))
    title = (f"bloodtrace growth, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
             f"({time.monotonic() - began:.0f} s)")
    console = Console(width=160)
    render(console, title, figures, notes)
    (out / "growth.md").write_text(markdown(title, figures, notes), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
