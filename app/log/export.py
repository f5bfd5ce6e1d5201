"""Streamed JSONL export of a range of the log, as ``app/log/offline.py`` verifies it.

The lines, in order:

- ``{"kind":"header","format":"bloodtrace-export/v1","origin":O,"from":F,"to":T}``;
- ``{"kind":"key","vkey":...,"valid_from":...}``: the key manifest (informative only: an
  auditor trusts the keys they pin, never the file);
- ``{"kind":"start","size":F-1,"chain_hash":...,"compact_range":[...]}``: the chain hash and
  the Merkle compact range before the first record (genesis when F = 1), claims that the first
  checkpoint after them authenticates;
- ``{"kind":"record","position":P,"record":<the exact record bytes as a JSON string>,
  "leaf_hash":...,"chain_hash":...}`` for P = F..T (``record_b64`` replaces ``record`` for bytes
  that are not UTF-8, which the writer never produces);
- ``{"kind":"checkpoint","size":S,"note":<C2SP signed note>}`` right after record S.

Records travel as JSON strings, not base64: UTF-8 round-trips through JSON exactly, the file
stays readable, and decoding base64 would cost the verifier more than all its hashing.

Memory stays constant: records are read in keyset pages (``position > last`` with a limit), each
page on a connection borrowed only for that query, so a slow reader never pins a connection or
holds a transaction open. Rows never change once written, so paging gives a consistent copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from app.errors import ExportRangeError
from app.log.encoding import b64
from app.log.merkle import root_nodes
from app.log.offline import EXPORT_FORMAT
from app.log.proofs import fetch_nodes
from app.store.conn import Conn

PAGE = 5000


def _line(obj: Mapping[str, Any]) -> bytes:
    return orjson.dumps(obj) + b"\n"


def header_line(origin: str, first: int, last: int, exported_at: datetime | None = None) -> bytes:
    body: dict[str, Any] = {"kind": "header", "format": EXPORT_FORMAT, "origin": origin,
                            "from": first, "to": last}
    if exported_at is not None:
        body["exported_at"] = exported_at
    return _line(body)


def key_line(key: Mapping[str, Any]) -> bytes:
    """A manifest entry: vkey, name, key_id, valid_from, valid_until."""
    return _line({"kind": "key", **key})


def start_line(size: int, chain: bytes, compact_range: Sequence[bytes]) -> bytes:
    return _line({"kind": "start", "size": size, "chain_hash": b64(chain),
                  "compact_range": [b64(h) for h in compact_range]})


def record_line(position: int, record: bytes, leaf: bytes, chain: bytes) -> bytes:
    """One record; its exact bytes as a JSON string (base64 only if they are not UTF-8)."""
    body: dict[str, Any] = {"kind": "record", "position": position}
    try:
        body["record"] = record.decode("utf-8")
    except UnicodeDecodeError:
        body["record_b64"] = b64(record)
    body["leaf_hash"] = b64(leaf)
    body["chain_hash"] = b64(chain)
    return _line(body)


def checkpoint_line(size: int, note: str, created_at: datetime | None = None) -> bytes:
    body: dict[str, Any] = {"kind": "checkpoint", "size": size, "note": note}
    if created_at is not None:
        body["created_at"] = created_at
    return _line(body)


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
        keys = await con.fetch(
            "SELECT vkey, name, key_id, valid_from, valid_until FROM signing_keys "
            "ORDER BY valid_from, vkey"
        )
        chain: bytes | None = (
            await con.fetchval("SELECT chain_hash FROM events WHERE position = $1", first - 1)
            if first > 1 else bytes(32)
        )
        if chain is None:
            raise ExportRangeError(f"record {first - 1} is missing from the log", field="from")
        nodes = await fetch_nodes(con, root_nodes(first - 1))
    return _stream(pool, origin, first, last, [dict(k) for k in keys], chain,
                   [nodes[n] for n in root_nodes(first - 1)])


async def _stream(
    pool: asyncpg.Pool, origin: str, first: int, last: int,
    keys: Sequence[Mapping[str, Any]], chain: bytes, compact: list[bytes],
) -> AsyncIterator[bytes]:
    head = [header_line(origin, first, last)]
    head += [key_line(k) for k in keys]
    head.append(start_line(first - 1, chain, compact))
    after = first - 1
    async with pool.acquire() as con:
        opening = await con.fetchrow(
            "SELECT size, note, created_at FROM checkpoints WHERE size = $1", after)
    if opening is not None:
        head.append(checkpoint_line(opening["size"], opening["note"], opening["created_at"]))
    yield b"".join(head)
    while after < last:
        upper = min(after + PAGE, last)
        async with pool.acquire() as con:
            rows = await con.fetch(
                """SELECT position, record, leaf_hash, chain_hash FROM events
                    WHERE position > $1 AND position <= $2 ORDER BY position""",
                after, upper,
            )
            signed = await con.fetch(
                """SELECT size, note, created_at FROM checkpoints
                    WHERE size > $1 AND size <= $2 ORDER BY size""",
                after, upper,
            )
        notes = {r["size"]: r for r in signed}
        out = []
        for position, record, leaf, chain_hash in rows:
            out.append(record_line(position, record, leaf, chain_hash))
            cp = notes.get(position)
            if cp is not None:
                out.append(checkpoint_line(cp["size"], cp["note"], cp["created_at"]))
        yield b"".join(out)
        if not rows:
            return  # a hole: the verifier will name it, the export cannot invent records
        after = upper
