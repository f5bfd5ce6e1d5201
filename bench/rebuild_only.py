"""``python -m bench.rebuild_only --donations 4000 --days 60 --repeats 3``: the projection
rebuild figure alone (``bench.storage.rebuild_figure``), repeated, on a simulated log kept in
a database of its own between runs (``--fresh`` simulates it again).

Each repeat checks that the rebuilt tables equal the live ones row for row (the digests of
``app.store.rebuild.tables_digest``) before it reports the rate. ``--profile FILE`` writes a
cProfile of one more rebuild. The server is ``DATABASE_URL``'s, else the embedded one.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
from pathlib import Path

import asyncpg

from app.store.database import embedded_admin_url, with_database
from app.store.migrate import migrate
from app.store.rebuild import rebuild, tables_digest
from bench.storage import head, rebuild_figure, simulate

ROOT = Path(__file__).resolve().parent.parent


async def _database(admin_url: str, name: str, donations: int, days: int, fresh: bool) -> str:
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and fresh:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(admin_url, name)
    owner = await asyncpg.connect(url)
    try:
        await migrate(owner)
        events = await head(owner)
    finally:
        await owner.close()
    if not events:
        _, note = await simulate(url, donations, days)
        print(note)
    return url


async def run(args: argparse.Namespace) -> None:
    admin_url = os.environ.get("DATABASE_URL") or embedded_admin_url(ROOT / ".data" / "bench")
    name = f"rebuild_{args.donations}_{args.days}"
    url = await _database(admin_url, name, args.donations, args.days, args.fresh)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    assert pool is not None
    try:
        async with pool.acquire() as con:
            live = await tables_digest(con)
        ratios, rates = [], []
        for _ in range(args.repeats):
            figure = await rebuild_figure(pool)
            async with pool.acquire() as con:
                if await tables_digest(con) != live:
                    raise RuntimeError("the rebuilt tables differ from the live ones")
            print(figure)
            rates.append(float(figure.measured.split()[0].replace(",", "")))
            ratios.append(float(figure.ratio) if figure.ratio != "-" else 0.0)
        print(f"rate  median {statistics.median(rates):,.0f} ev/s, "
              f"min {min(rates):,.0f}, max {max(rates):,.0f}")
        print(f"ratio median {statistics.median(ratios):.3f}, "
              f"min {min(ratios):.3f}, max {max(ratios):.3f}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await rebuild(pool)
            profiler.disable()
            profiler.dump_stats(args.profile)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--donations", type=int, default=4000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--profile", default="")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
