"""Reading the export of a range of the log (the lines are ``app/log/export.py``).

Memory stays constant: records are read in keyset pages (``position > last`` with a limit), each
page on a connection borrowed only for that query, so a slow reader never pins a connection or
holds a transaction open. Rows never change once written, so paging gives a consistent copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import asyncpg

from app.errors import ExportRangeError
from app.log.export import opening_lines, page_lines
from app.log.merkle import root_nodes
from app.store.checkpoint_store import key_manifest
from app.store.conn import Conn
from app.store.proof_reader import fetch_nodes

PAGE = 5000


async def export_range(con: Conn, first: int = 1, last: int | None = None) -> tuple[int, int]:
    """The range an export covers: ``first..last``, where ``last`` defaults to the latest
    checkpoint and is otherwise rounded up to the next checkpoint (so that the export ends on a
    signed tree head), never past the head of the log."""
    row = await con.fetchrow(
        """SELECT h.position AS head,
                  (SELECT max(size) FROM checkpoints) AS latest,
                  (SELECT min(size) FROM checkpoints WHERE size >= $1) AS next_signed
             FROM log_head h WHERE h.id = 1""",
        last if last is not None else 0,
    )
    assert row is not None
    head: int = row["head"]
    if last is None:
        end = row["latest"] if row["latest"] is not None else head
    else:
        end = min(row["next_signed"] if row["next_signed"] is not None else last, head)
    if first < 1 or first > end:
        raise ExportRangeError(f"nothing to export from {first} to {end} (the log holds {head} "
                               "records)", field="from")
    return first, end


async def open_export(
    pool: asyncpg.Pool, origin: str, first: int = 1, last: int | None = None
) -> AsyncIterator[bytes]:
    """Yield the export of ``first..last`` as chunks of whole JSON lines.

    The range is resolved (``export_range``) before the first chunk, so a bad range raises
    before anything is sent.
    """
    async with pool.acquire() as con:
        first, last = await export_range(con, first, last)
        keys = await key_manifest(con)
        chain: bytes | None = (
            await con.fetchval("SELECT chain_hash FROM events WHERE position = $1", first - 1)
            if first > 1 else bytes(32)
        )
        if chain is None:
            raise ExportRangeError(f"record {first - 1} is missing from the log", field="from")
        nodes = await fetch_nodes(con, root_nodes(first - 1))
    return _stream(pool, origin, first, last, keys, chain,
                   [nodes[n] for n in root_nodes(first - 1)])


async def _stream(
    pool: asyncpg.Pool, origin: str, first: int, last: int,
    keys: Sequence[Mapping[str, Any]], chain: bytes, compact: list[bytes],
) -> AsyncIterator[bytes]:
    after = first - 1
    async with pool.acquire() as con:
        opening = await con.fetchrow(
            "SELECT note, created_at FROM cosigned_checkpoints WHERE size = $1", after)
    yield opening_lines(origin, first, last, keys, chain, compact,
                        None if opening is None else (opening["note"], opening["created_at"]))
    while after < last:
        upper = min(after + PAGE, last)
        async with pool.acquire() as con:
            rows = await con.fetch(
                """SELECT position, record, leaf_hash, chain_hash FROM events
                    WHERE position > $1 AND position <= $2 ORDER BY position""",
                after, upper,
            )
            signed = await con.fetch(
                """SELECT size, note, created_at FROM cosigned_checkpoints
                    WHERE size > $1 AND size <= $2 ORDER BY size""",
                after, upper,
            )
        yield page_lines([(r[0], r[1], r[2], r[3]) for r in rows],
                         {r["size"]: (r["note"], r["created_at"]) for r in signed})
        if not rows:
            return  # a hole: the verifier will name it, the export cannot invent records
        after = upper
