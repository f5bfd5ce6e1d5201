"""Plain-SQL migrations, applied in file-name order, each once, each in its own transaction."""

from __future__ import annotations

import hashlib
from pathlib import Path

import asyncpg

LOCK_KEY = 7_304_211  # pg_advisory_xact_lock key: one migrator at a time


def migration_files() -> list[tuple[str, str]]:
    """(name, sql) of every migration shipped in ``app/migrations``, in order."""
    folder = Path(__file__).resolve().parents[1] / "migrations"
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.sql"))]


async def migrate(con: asyncpg.Connection) -> list[str]:
    """Apply the migrations not yet recorded; return their names. Refuses an edited one."""
    await con.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               name text PRIMARY KEY, sha256 text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    applied: list[str] = []
    for name, sql in migration_files():
        digest = hashlib.sha256(sql.encode()).hexdigest()
        async with con.transaction():
            await con.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
            done = await con.fetchval("SELECT sha256 FROM schema_migrations WHERE name = $1", name)
            if done is not None:
                if done != digest:
                    raise RuntimeError(f"migration {name} changed after it was applied")
                continue
            await con.execute(sql)
            await con.execute(
                "INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)", name, digest
            )
            applied.append(name)
    return applied
