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


_LOCK_AND_LOOK_UP = """
WITH head AS MATERIALIZED (
  SELECT position, chain_hash, compact_range FROM log_head WHERE id = 1 FOR UPDATE)
SELECT head.position AS head_position, head.chain_hash AS head_chain,
       head.compact_range AS head_range,
       (SELECT h.position FROM log_head h WHERE h.id = 1) AS seen_position,
       e.event_id, e.content_hash, e.position, e.stream, e.stream_version, e.chain_hash,
       e.actor_key
  FROM head LEFT JOIN events e ON e.event_id = ANY($1::uuid[])
"""


async def lock_head(con: Conn, ids: list[UUID]) -> tuple[Head, list[Any]]:
    """Lock ``log_head`` until commit (from here on this transaction alone appends), and the
    events already recorded under ``ids`` (``recorded_ids``), in one round trip when it can.

    The look-up reads the statement's snapshot, taken before the lock: when another writer
    committed in between (the lock waited for it), the snapshot misses its events. That
    writer moved the head, so the head as the snapshot saw it (``seen_position``) differs
    from the head as locked, and the look-up runs again, under the lock. The head moves with
    every append, so when the two agree, nothing was appended between them."""
    rows = await con.fetch(_LOCK_AND_LOOK_UP, ids)
    assert rows, "log_head row missing: run migrations"
    first = rows[0]
    head = Head(first["head_position"], first["head_chain"],
                CompactRange.from_bytes(first["head_range"]))
    if first["seen_position"] != head.position:
        return head, await recorded_ids(con, ids)
    return head, [r for r in rows if r["event_id"] is not None]


async def recorded_ids(con: Conn, ids: list[UUID]) -> list[Any]:
    """The events already recorded under these ids, with the key that recorded each (for
    idempotent replays, which only that key may make)."""
    return list(await con.fetch(
        """SELECT event_id, content_hash, position, stream, stream_version, chain_hash,
                  actor_key FROM events WHERE event_id = ANY($1::uuid[])""", ids))


async def stream_versions(con: Conn, streams: list[str]) -> dict[str, int]:
    """The last version of each stream (0 for a new one): one backward index probe each, so
    the cost never grows with the log (a join and ``max`` may plan a scan of ``events``)."""
    rows = await con.fetch(
        """SELECT s.stream, coalesce((SELECT e.stream_version FROM events e
                                       WHERE e.stream = s.stream
                                       ORDER BY e.stream_version DESC LIMIT 1), 0) AS v
             FROM unnest($1::text[]) AS s(stream)""", streams)
    return {r["stream"]: r["v"] for r in rows}


_EVENT_TYPES = {
    "position": "bigint", "event_id": "uuid", "stream": "text", "stream_version": "bigint",
    "type": "text", "schema_version": "int", "record": "bytea", "leaf_hash": "bytea",
    "chain_hash": "bytea", "content_hash": "bytea", "occurred_at": "timestamptz",
    "recorded_at": "timestamptz", "actor_key": "text", "actor_role": "text",
    "actor_site": "text", "actor_user": "text",
}
_E = len(EVENT_COLUMNS)
_WRITE_BATCH = f"""
WITH events_in AS (
  INSERT INTO events ({", ".join(EVENT_COLUMNS)})
  SELECT * FROM unnest({", ".join(f"${i}::{_EVENT_TYPES[c]}[]"
                                   for i, c in enumerate(EVENT_COLUMNS, 1))})),
refs_in AS (
  INSERT INTO event_refs (kind, ref, position)
  SELECT * FROM unnest(${_E + 1}::text[], ${_E + 2}::text[], ${_E + 3}::bigint[])),
nodes_in AS (
  INSERT INTO merkle_nodes (level, idx, hash)
  SELECT * FROM unnest(${_E + 4}::int[], ${_E + 5}::bigint[], ${_E + 6}::bytea[])),
state_in AS (
  INSERT INTO write_state (kind, id, body)
  SELECT * FROM unnest(${_E + 7}::text[], ${_E + 8}::text[], ${_E + 9}::jsonb[])
  ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body),
head_moved AS (
  UPDATE log_head SET position = ${_E + 10}::bigint, chain_hash = ${_E + 11}::bytea,
                      compact_range = ${_E + 12}::bytea WHERE id = 1)
SELECT pg_notify('bloodtrace_log', ${_E + 10}::bigint::text)
"""
"""The whole batch in one statement, one round trip: its events, refs and Merkle nodes, the
aggregate states it changed, the head moved, and the change feed woken (PostgreSQL delivers
the notification when the transaction commits). Every row goes in as a column array, so the
statement is the same whatever the batch holds."""


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column, the shape ``unnest`` takes (``width`` lists if none)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


async def write_batch(con: Conn, tail: LogTail, state: tuple[list[str], list[str], list[str]]
                      ) -> None:
    """Write the batch's events, refs and Merkle nodes, upsert the aggregate states it
    changed, move the head and notify the change feed, in one round trip."""
    kinds, ids, bodies = state
    await con.execute(
        _WRITE_BATCH,
        *_columns(tail.rows, len(EVENT_COLUMNS)), *_columns(tail.refs, 3),
        *_columns(tail.nodes, 3), kinds, ids, bodies,
        tail.position, tail.chain, tail.tree.to_bytes())
