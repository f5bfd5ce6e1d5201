"""``python -m bench.run --quick|--full``: one table of measured figures on the embedded
PostgreSQL, each beside a limit measured in the same run (raw COPY of the same rows for
writes, hashlib over the same bytes for verification) and its target. A missed target is
reported, never fatal. The table is also written to ``bench/out/latest.md``.

``--quick`` (CI, under 2 minutes) only shows that the harness runs; ``--full`` uses the real
sizes (1 M units for the read queries) and takes 20-30 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from rich.console import Console

from app.store.database import embedded_admin_url, with_database
from app.store.migrate import migrate
from bench.figures import Figure, markdown, render
from bench.growth import FULL_SIZES, QUICK_SIZES, growth, sizes_option
from bench.http_bench import http_appends
from bench.queries import read_queries
from bench.storage import feed_latency, offline_verification, rebuild_figure, simulate, verification

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
WORK = OUT / "work"
KEYS = WORK / "keys"


@dataclass(frozen=True, slots=True)
class Sizes:
    sim_donations: int
    sim_days: int
    warmup_s: int
    http_s: int
    units: int
    iterations: int
    growth: tuple[int, ...] = QUICK_SIZES


QUICK = Sizes(sim_donations=150, sim_days=40, warmup_s=1, http_s=4, units=30_000,
              iterations=200)
FULL = Sizes(sim_donations=15_000, sim_days=200, warmup_s=5, http_s=30, units=1_000_000,
             iterations=2_000, growth=FULL_SIZES)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


async def bench(sizes: Sizes, console: Console, workers: int
                ) -> tuple[list[Figure], list[str]]:
    admin_url = embedded_admin_url(ROOT / ".data" / "bench")
    name = f"bench_{datetime.now(UTC):%Y%m%d_%H%M%S}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    figures: list[Figure] = []
    notes: list[str] = []
    try:
        owner = await asyncpg.connect(url)
        await migrate(owner)
        await owner.close()
        console.log(f"simulating {sizes.sim_donations:,} donations through the writer")
        sim, note = await simulate(url, sizes.sim_donations, sizes.sim_days)
        notes.append(note)
        console.log("HTTP appends (server + wrk)")
        http_figures, http_notes = await http_appends(url, sizes.http_s, sizes.warmup_s,
                                                      WORK, workers)
        figures += http_figures
        notes += http_notes
        figures.append(sim)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
        assert pool is not None
        try:
            console.log("online verification")
            online, limit = await verification(pool, url)
            figures.append(online)
            console.log("offline export verification")
            offline, why = await offline_verification(pool, url, WORK, limit)
            figures.append(offline)
            notes.append(why)
            console.log("projection rebuild")
            figures.append(await rebuild_figure(pool))
            async with pool.acquire() as con:
                figures.append(await feed_latency(con, sizes.iterations))
        finally:
            await pool.close()
        console.log(f"read queries at {sizes.units:,} units")
        query_figures, query_note = await read_queries(admin_url, sizes.units, sizes.iterations)
        figures += query_figures
        notes.append(query_note)
        await _growth_figures(admin_url, sizes, console, figures, notes)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return figures, notes


async def _growth_figures(admin_url: str, sizes: Sizes, console: Console,
                          figures: list[Figure], notes: list[str]) -> None:
    """How cost grows with the log (bench/growth.py), in a database of its own."""
    if not sizes.growth:
        return
    console.log(f"growth: the writer at {', '.join(f'{n:,}' for n in sizes.growth)} events")
    grown, grown_notes = await growth(admin_url, sizes.growth, sizes.iterations)
    figures += grown
    notes += grown_notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes; checks the harness")
    mode.add_argument("--full", action="store_true", help="real sizes (20-30 minutes)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server worker processes (bloodtrace serve --workers)")
    parser.add_argument("--growth-sizes", type=sizes_option, default=None,
                        help="log sizes of the growth table, e.g. 100k,1m (default: 100k,1m,5m "
                             "with --full, tiny with --quick; 0 leaves it out)")
    args = parser.parse_args(argv)
    sizes = FULL if args.full else QUICK
    if args.growth_sizes is not None:
        sizes = replace(sizes, growth=tuple(n for n in args.growth_sizes if n > 0))
    logging.basicConfig(level=logging.WARNING)
    console = Console(width=160)
    WORK.mkdir(parents=True, exist_ok=True)
    # Every checkpoint of the bench log (in-process writer, server, export) is signed with
    # the bench's own key, never the developer's: Settings read it from the environment.
    os.environ["BLOODTRACE_DATA_DIR"] = str(KEYS)
    started = time.monotonic()
    figures, notes = asyncio.run(bench(sizes, console, args.workers))
    mode_name = "full" if args.full else "quick"
    title = (f"bloodtrace bench --{mode_name}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
             f"{machine()}, embedded PostgreSQL ({time.monotonic() - started:.0f} s)")
    if not args.full:
        notes.append("quick mode: small sizes, checks that the harness runs; "
                     "the figures are not comparable with --full")
    render(console, title, figures, notes)
    (OUT / "latest.md").write_text(markdown(title, figures, notes), encoding="utf-8")
    console.print(f"written to {OUT / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
