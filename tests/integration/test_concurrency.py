"""Many tasks and two processes append at once: 1..N, no gap, no duplicate, and a reader
following ``after=`` while they write sees every position exactly once, in order."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import asyncpg

from app.store.log_reader import feed
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain
from tests.support.log_checks import recompute

ROOT = Path(__file__).resolve().parents[2]


async def follow(url: str, stop: asyncio.Event, seen: list[int]) -> None:
    con = await asyncpg.connect(url)
    after = 0
    try:
        while True:
            done = stop.is_set()
            page = await feed(con, after, 37)
            seen.extend(e["position"] for e in page)
            if page:
                after = page[-1]["position"]
            elif done:
                return
            else:
                await asyncio.sleep(0.005)
    finally:
        await con.close()


async def test_two_processes_and_many_tasks(fresh_db, open_for):
    stop = asyncio.Event()
    seen: list[int] = []
    reader = asyncio.create_task(follow(fresh_db, stop, seen))
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.append_worker", fresh_db, "60", tag,
            cwd=ROOT, stdout=asyncio.subprocess.PIPE)
        for tag in ("p", "q")
    ]
    async with open_for(fresh_db, domain=LedgerDomain(), inline=()) as s:
        local = await asyncio.gather(*(s.writer.append(*note(f"t{i % 9}")) for i in range(80)))
    outputs = [await p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    stop.set()
    await reader
    positions = [r.position for r in local]
    for out, _ in outputs:
        positions += [int(x) for x in out.split()]
    assert sorted(positions) == list(range(1, 201))
    assert seen == list(range(1, 201))
    assert await recompute(fresh_db) == list(range(1, 201))


async def test_verification_while_writers_run_checks_up_to_the_head_it_saw(fresh_db, open_for):
    from app.log.verify import verify_log
    from app.store.log_reader import PgLogRows

    async with open_for(fresh_db, domain=LedgerDomain(), inline=()) as s:
        writing = asyncio.gather(*(s.writer.append(*note(f"v{i % 3}")) for i in range(3000)))
        reports = []
        while not writing.done():
            reports.append(await verify_log(PgLogRows(s.pool)))
            await asyncio.sleep(0)
        await writing
        reports.append(await verify_log(PgLogRows(s.pool)))
    assert all(r.ok for r in reports), [r for r in reports if not r.ok]
    assert reports[-1].checked == 3000
