"""Read models a migration left behind, rebuilt from the log before the service serves.

A migration that changes a read model's tables (they are derived data) marks it stale by
setting its tracking position to -1; here every stale projection is rebuilt from the whole log
(``app.store.rebuild``), one migrator at a time, before the service serves. Run as the
tables' owner.
"""

from __future__ import annotations

import logging

import asyncpg

from app.projections.registry import PROJECTIONS
from app.store.rebuild import rebuild

log = logging.getLogger(__name__)
LOCK_KEY = 7_304_212  # pg_advisory_lock key: one rebuilder at a time


async def stale_projections(con: asyncpg.Connection) -> list[str]:
    """The projections a migration marked stale."""
    rows = await con.fetch(
        "SELECT projection FROM projection_position WHERE position < 0 ORDER BY projection")
    known = {p.name for p in PROJECTIONS}
    return [r["projection"] for r in rows if r["projection"] in known]


async def rebuild_stale(admin_url: str) -> list[str]:
    """Rebuild every stale projection; return their names (none on an up-to-date database)."""
    con = await asyncpg.connect(admin_url)
    try:
        await con.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        stale = await stale_projections(con)
        if stale:
            log.warning("read models changed by a migration: rebuilding %s from the log",
                        ", ".join(stale))
            pool = await asyncpg.create_pool(admin_url, min_size=1, max_size=2)
            assert pool is not None
            try:
                await rebuild(pool, stale)
            finally:
                await pool.close()
        return stale
    finally:
        await con.close()
