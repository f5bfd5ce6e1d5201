"""Rebuild the writer's aggregate snapshots (``write_state``) from the log.

``write_state`` is derived data: every row is the fold of ``evolve`` over the events that
concern it. This replays the log through the same pure ``evolve`` into a shadow table, then
swaps it in under the writer's head-row lock (``app.store.rebuild_replay``), so the writer
never decides against a state the log does not support. Run as the table's owner (the swap
renames tables).
"""

from __future__ import annotations

import asyncpg

from app.events.messages import StateNotLoaded, StoredEvent
from app.store.conn import Conn
from app.store.rebuild_replay import Progress, replay_and_swap
from app.store.world import BatchWorld, Domain

LIVE, SHADOW = "write_state", "write_state__shadow"
PAGE = 5000
MAX_LOADS = 64


async def rebuild_write_state(
    pool: asyncpg.Pool, domain: Domain, progress: Progress | None = None
) -> int:
    """Replay every event into a fresh ``write_state``; return the position it is built to."""

    async def apply_page(con: Conn, events: list[StoredEvent]) -> None:
        await _replay_page(con, domain, events)

    async with pool.acquire() as con, pool.acquire() as reader:
        await con.execute(f"DROP TABLE IF EXISTS {SHADOW}")
        await con.execute(f"CREATE TABLE {SHADOW} (LIKE {LIVE} INCLUDING ALL)")
        await con.execute(f"GRANT SELECT, INSERT, UPDATE ON {SHADOW} TO bloodtrace_app")
        return await replay_and_swap(con, reader, apply_page, _swap, page=PAGE,
                                     quiet_tail=PAGE, progress=progress)


async def _swap(con: Conn, head: int) -> None:
    await con.execute(f"DROP TABLE {LIVE}")
    await con.execute(f"ALTER TABLE {SHADOW} RENAME TO {LIVE}")
    await con.execute(f"ALTER INDEX {SHADOW}_pkey RENAME TO {LIVE}_pkey")


async def _replay_page(con: Conn, domain: Domain, events: list[StoredEvent]) -> None:
    """Fold one page into the shadow table."""
    world = BatchWorld(domain, table=SHADOW)
    refs = await con.fetch(
        "SELECT DISTINCT kind, ref FROM event_refs WHERE position >= $1 AND position <= $2",
        events[0].position, events[-1].position)
    await world.load(con, [(r["kind"], r["ref"]) for r in refs])
    for event in events:
        await _evolve(con, world, domain, event)
    kinds, ids, bodies = world.changed_rows()
    if kinds:
        await con.execute(
            f"""INSERT INTO {SHADOW} (kind, id, body)
                SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
                ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body""",
            kinds, ids, bodies)


async def _evolve(con: Conn, world: BatchWorld, domain: Domain, event: StoredEvent) -> None:
    """Fold one event, loading any state evolve asks for that the page's refs did not name."""
    for _ in range(MAX_LOADS):
        try:
            world.stage(domain.evolve(world, event))
        except StateNotLoaded as missing:
            world.discard()
            await world.load(con, [missing.key])
            continue
        world.accept()
        return
    raise RuntimeError(f"evolve of position {event.position} kept asking for more state")
