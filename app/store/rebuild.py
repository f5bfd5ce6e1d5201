"""Rebuild read models from the log without stopping the service.

1. Create ``<table>__shadow`` for every table of the chosen projections, LIKE the live table
   (columns, defaults, constraints, primary key; grants copied).
2. Replay the log into the shadows page by page with the same fold the writer runs inline,
   while the service keeps writing to the live tables (``app.store.rebuild_replay``); only
   the events some chosen projection subscribes to are decoded.
3. Build the secondary indexes (copied from the live tables' definitions).
4. In one short transaction: lock the writer's head row (writers wait, readers do not), replay
   the tail committed since, swap each shadow in (drop the live table, rename the shadow and
   its indexes to the live names), record the tracking position, commit.

It must run as the owner of the read-model tables (the migration role), not the app role.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from functools import reduce
from typing import Any

import asyncpg

from app.events.messages import StoredEvent
from app.projections.base import Projection
from app.projections.registry import select
from app.projections.sql import SHADOW, digest_sql
from app.projections.tables import TableSpec
from app.store.conn import Conn
from app.store.projection_runner import (
    apply_projections,
    create_stages,
    drop_stages,
    set_positions,
)
from app.store.rebuild_replay import Progress, replay_and_swap

PAGE = 20000
_QUIET_TAIL = 1000  # catch up outside the lock until the tail is at most this long


async def rebuild(
    pool: asyncpg.Pool,
    names: list[str] | None = None,
    progress: Progress | None = None,
) -> None:
    """Replay the log into shadow tables of ``names`` (all projections when None) and swap them
    in; the live tables keep serving reads and the writer until the final short swap."""
    projections = select(names)
    tables = [t for p in projections for t in p.tables]
    async with pool.acquire() as con, pool.acquire() as reader:
        for table in tables:
            await _create_shadow(con, table)
        await create_stages(con, tables, SHADOW)
        try:
            await _fill_and_swap(con, reader, projections, progress)
        finally:
            await drop_stages(con, tables, SHADOW)


async def _fill_and_swap(con: Conn, reader: Conn, projections: Sequence[Projection],
                         progress: Progress | None) -> None:
    tables = [t for p in projections for t in p.tables]
    subscription = reduce(operator.or_, (p.subscription for p in projections))

    def wanted(raw: dict[str, Any]) -> bool:
        """Only the events some chosen projection reads are decoded."""
        return subscription.wants(raw["type"], raw.get("late_entry_reason"))

    async def apply_page(con: Conn, events: list[StoredEvent]) -> None:
        async with con.transaction():
            await apply_projections(con, events, projections, SHADOW, staged=True)

    async def prepare(con: Conn) -> None:
        for table in tables:
            await _copy_indexes(con, table)

    async def swap(con: Conn, head: int) -> None:
        for table in tables:
            await _swap(con, table)
        await set_positions(con, [p.name for p in projections], head)

    await replay_and_swap(con, reader, apply_page, swap, page=PAGE, quiet_tail=_QUIET_TAIL,
                          wanted=wanted, prepare=prepare, progress=progress)


async def _create_shadow(con: Conn, table: TableSpec) -> None:
    live, shadow = table.name, table.name + SHADOW
    await con.execute(f"DROP TABLE IF EXISTS {shadow}")
    await con.execute(
        f"CREATE TABLE {shadow} (LIKE {live} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING GENERATED)")
    await con.execute(f"ALTER TABLE {shadow} ADD PRIMARY KEY ({', '.join(table.key)})")
    grants = await con.fetch(
        """SELECT grantee, string_agg(privilege_type, ', ') AS privileges
             FROM information_schema.role_table_grants
            WHERE table_schema = current_schema() AND table_name = $1
              AND grantee <> current_user GROUP BY grantee""", live)
    for g in grants:
        await con.execute(f'GRANT {g["privileges"]} ON {shadow} TO "{g["grantee"]}"')


async def _secondary_indexes(con: Conn, table: str) -> list[tuple[str, str]]:
    rows = await con.fetch(
        """SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = $1::regclass AND NOT i.indisprimary ORDER BY c.relname""", table)
    return [(r["name"], r["def"]) for r in rows]


async def _copy_indexes(con: Conn, table: TableSpec) -> None:
    live, shadow = table.name, table.name + SHADOW
    pattern = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(\S+)( ON (?:ONLY )?(?:\S+\.)?)"
                         + re.escape(live) + " ")
    for _, definition in await _secondary_indexes(con, live):
        # "CREATE INDEX name ON public.live USING ..." -> "name__shadow ON public.live__shadow"
        await con.execute(pattern.sub(rf"\g<1>\g<2>{SHADOW}\g<3>{shadow} ", definition))


async def _swap(con: Conn, table: TableSpec) -> None:
    live, shadow = table.name, table.name + SHADOW
    await con.execute(f"DROP TABLE {live}")
    await con.execute(f"ALTER TABLE {shadow} RENAME TO {live}")
    await con.execute(f"ALTER TABLE {live} RENAME CONSTRAINT {shadow}_pkey TO {live}_pkey")
    for name, _ in await _secondary_indexes(con, live):
        if name.endswith(SHADOW):
            await con.execute(f"ALTER INDEX {name} RENAME TO {name.removesuffix(SHADOW)}")


async def tables_digest(
    con: Conn, names: list[str] | None = None, suffix: str = ""
) -> dict[str, str]:
    """SHA-256 of each table's rows in primary-key order, by table name, for the named
    projections (all when None): equal digests mean equal contents, row for row."""
    return {t.name: await con.fetchval(digest_sql(t, suffix))
            for p in select(names) for t in p.tables}
