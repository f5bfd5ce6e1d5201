"""The limits every figure is compared with, measured in the same run on the same data:

- writes: raw asyncpg COPY of the very rows the service wrote, into tables shaped and indexed
  like the real ones, 1,000 rows per transaction;
- verification: hashlib alone over the very record bytes (leaf and chain hash per record),
  without reading or checking anything.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import asyncpg

from app.log.record import CHAIN_TAG, GENESIS
from app.store.conn import Conn
from app.store.log_reader import PgLogRows
from app.store.writer import EVENT_COLUMNS

CHUNK = 1000


async def _copy_seconds(con: Conn, table: str, rows: Sequence[tuple[object, ...]],
                        columns: Sequence[str]) -> float:
    """Seconds to COPY ``rows`` into a fresh table LIKE ``table``, CHUNK rows per commit."""
    scratch = f"bench_limit_{table}"
    await con.execute(f"DROP TABLE IF EXISTS {scratch}")
    await con.execute(f"CREATE TABLE {scratch} (LIKE {table} INCLUDING DEFAULTS "
                      "INCLUDING CONSTRAINTS INCLUDING INDEXES)")
    try:
        started = time.perf_counter()
        for i in range(0, len(rows), CHUNK):
            await con.copy_records_to_table(scratch, records=rows[i:i + CHUNK],
                                            columns=list(columns))
        return time.perf_counter() - started
    finally:
        await con.execute(f"DROP TABLE {scratch}")


async def copy_limit_events(con: Conn, first: int, last: int) -> float:
    """Events/s of a raw COPY of log positions ``first..last`` (events and event_refs rows)."""
    events = await con.fetch(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE position BETWEEN $1 AND $2 "
        "ORDER BY position", first, last)
    refs = await con.fetch("SELECT kind, ref, position FROM event_refs "
                           "WHERE position BETWEEN $1 AND $2", first, last)
    seconds = await _copy_seconds(con, "events", [tuple(r) for r in events], EVENT_COLUMNS)
    seconds += await _copy_seconds(con, "event_refs", [tuple(r) for r in refs],
                                   ("kind", "ref", "position"))
    return len(events) / seconds


async def copy_limit_tables(con: Conn, tables: Sequence[str]) -> tuple[int, float]:
    """(rows, seconds) to COPY every row of ``tables`` into LIKE copies of them."""
    total_rows, seconds = 0, 0.0
    for table in tables:
        rows = await con.fetch(f"SELECT * FROM {table}")
        if not rows:
            continue
        total_rows += len(rows)
        seconds += await _copy_seconds(con, table, [tuple(r) for r in rows], list(rows[0].keys()))
    return total_rows, seconds


async def hash_limit(pool: asyncpg.Pool) -> float:
    """Records/s of hashlib alone over every stored record: the leaf hash and the chain hash,
    timed without the reads."""
    sha = hashlib.sha256
    chain, count, seconds = GENESIS, 0, 0.0
    async for page in PgLogRows(pool).pages(0, None):
        records = [row[1] for row in page]
        started = time.perf_counter()
        for record in records:
            leaf = sha(b"\x00" + record).digest()
            chain = sha(CHAIN_TAG + chain + leaf).digest()
        seconds += time.perf_counter() - started
        count += len(records)
    return count / seconds if seconds else 0.0
