"""Independent re-computation of the chain from the stored bytes, for assertions."""

from __future__ import annotations

import hashlib

import asyncpg
import orjson

TAG = b"bloodtrace/chain/v1"


async def recompute(url: str) -> list[int]:
    """Check every stored record against a chain recomputed here; return the positions."""
    con = await asyncpg.connect(url)
    try:
        rows = await con.fetch(
            "SELECT position, record, leaf_hash, chain_hash FROM events ORDER BY position"
        )
    finally:
        await con.close()
    chain = bytes(32)
    for row in rows:
        leaf = hashlib.sha256(b"\x00" + row["record"]).digest()
        assert leaf == row["leaf_hash"], row["position"]
        chain = hashlib.sha256(TAG + chain + leaf).digest()
        assert chain == row["chain_hash"], row["position"]
        assert orjson.loads(row["record"])["position"] == row["position"]
    return [r["position"] for r in rows]
