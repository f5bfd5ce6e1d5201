"""The writer's SQL: lock the head, look up event ids and stream versions, write a batch.

Every statement the writer sends is here, so the queue and the decide loop hold no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from app.log.merkle import CompactRange
from app.store.append import EVENT_COLUMNS, LogTail
from app.store.conn import Conn


@dataclass(frozen=True, slots=True)
class Head:
    """The head row, locked for the transaction."""

    position: int
    chain: bytes
    tree: CompactRange


async def lock_head(con: Conn) -> Head:
    """Lock ``log_head`` until commit: from here on this transaction alone appends."""
    row = await con.fetchrow(
        "SELECT position, chain_hash, compact_range FROM log_head WHERE id = 1 FOR UPDATE")
    assert row is not None, "log_head row missing: run migrations"
    return Head(row["position"], row["chain_hash"], CompactRange.from_bytes(row["compact_range"]))


async def recorded_ids(con: Conn, ids: list[UUID]) -> list[Any]:
    """The events already recorded under these ids, with the key that recorded each (for
    idempotent replays, which only that key may make)."""
    return list(await con.fetch(
        """SELECT event_id, content_hash, position, stream, stream_version, chain_hash,
                  actor_key FROM events WHERE event_id = ANY($1::uuid[])""", ids))


async def stream_versions(con: Conn, streams: list[str]) -> dict[str, int]:
    """The last version of each stream (0 for a new one)."""
    rows = await con.fetch(
        """SELECT s.stream, coalesce(max(e.stream_version), 0) AS v
             FROM unnest($1::text[]) AS s(stream)
             LEFT JOIN events e ON e.stream = s.stream GROUP BY s.stream""", streams)
    return {r["stream"]: r["v"] for r in rows}


async def write_batch(con: Conn, tail: LogTail, state: tuple[list[str], list[str], list[str]]
                      ) -> None:
    """Copy the batch's events, refs and Merkle nodes, upsert the aggregate states it changed
    and move the head."""
    await con.copy_records_to_table("events", records=tail.rows, columns=EVENT_COLUMNS)
    if tail.refs:
        await con.copy_records_to_table(
            "event_refs", records=tail.refs, columns=("kind", "ref", "position"))
    await con.copy_records_to_table(
        "merkle_nodes", records=tail.nodes, columns=("level", "idx", "hash"))
    kinds, ids, bodies = state
    if kinds:
        await con.execute(
            """INSERT INTO write_state (kind, id, body)
               SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
               ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body""",
            kinds, ids, bodies)
    await con.execute(
        "UPDATE log_head SET position = $1, chain_hash = $2, compact_range = $3 WHERE id = 1",
        tail.position, tail.chain, tail.tree.to_bytes())


async def notify(con: Conn, position: int) -> None:
    """Wake the change-feed listeners once the transaction commits."""
    await con.execute("SELECT pg_notify('bloodtrace_log', $1)", str(position))
