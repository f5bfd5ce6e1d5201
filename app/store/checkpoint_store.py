"""Signed checkpoints and the signing-key manifest on PostgreSQL (``checkpoints``,
``signing_keys``), and signing the head of the log.

Each key's vkey lands in the manifest with the time it first signed; retiring a key closes
its validity window. What a head must satisfy before it is signed is
``app.log.checkpoints.checked_head`` (pure); this module reads what it checks.
"""

from __future__ import annotations

import logging
from typing import Any

from app.log.checkpoints import SignedCheckpoint, checked_head, nodes_to_check
from app.log.notes import Checkpoint, NoteSigner, sign_checkpoint
from app.store.conn import Conn
from app.store.proof_reader import fetch_nodes

log = logging.getLogger(__name__)


# --- keys -------------------------------------------------------------------------------------


async def register_keys(con: Conn, signers: list[NoteSigner]) -> list[NoteSigner]:
    """Add the signers to the manifest; return those not retired."""
    vkeys = [str(s.verifier) for s in signers]
    await con.execute(
        """INSERT INTO signing_keys (vkey, name, key_id)
           SELECT v, split_part(v, '+', 1), split_part(v, '+', 2) FROM unnest($1::text[]) v
           ON CONFLICT (vkey) DO NOTHING""",
        vkeys,
    )
    retired = {r[0] for r in await con.fetch(
        "SELECT vkey FROM signing_keys WHERE vkey = ANY($1::text[]) AND valid_until <= now()",
        vkeys)}
    for vkey in sorted(retired):
        log.warning("signing key %s is retired; it no longer signs", vkey)
    return [s for s in signers if str(s.verifier) not in retired]


async def retire_key(con: Conn, vkey: str) -> bool:
    """Close a key's validity window now; False if unknown or already retired."""
    done: str = await con.execute(
        "UPDATE signing_keys SET valid_until = now() WHERE vkey = $1 AND valid_until IS NULL",
        vkey)
    return done.endswith(" 1")


async def key_manifest(con: Conn) -> list[dict[str, Any]]:
    """Every key that ever signed: vkey, name, key_id, valid_from, valid_until."""
    rows = await con.fetch("SELECT vkey, name, key_id, valid_from, valid_until FROM signing_keys "
                           "ORDER BY valid_from, vkey")
    return [dict(r) for r in rows]


# --- checkpoints ------------------------------------------------------------------------------


_COSIGNED = ("SELECT size, root, chain_head, note, created_at, cosignatures "
             "FROM cosigned_checkpoints")


def _signed(row: Any, origin: str) -> SignedCheckpoint:
    cp = Checkpoint(origin, row["size"], row["root"], row["chain_head"])
    return SignedCheckpoint(cp, row["note"], row["created_at"], row["cosignatures"])


async def latest_checkpoint(con: Conn, origin: str) -> SignedCheckpoint | None:
    """The checkpoint of the largest tree signed so far, with its cosignatures."""
    row = await con.fetchrow(f"{_COSIGNED} ORDER BY size DESC LIMIT 1")
    return None if row is None else _signed(row, origin)


async def checkpoint_at(con: Conn, size: int, origin: str) -> SignedCheckpoint | None:
    """The checkpoint signed at exactly ``size``, if any."""
    row = await con.fetchrow(f"{_COSIGNED} WHERE size = $1", size)
    return None if row is None else _signed(row, origin)


async def recent_checkpoints(
    con: Conn, origin: str, limit: int, before: int | None = None
) -> list[SignedCheckpoint]:
    """The latest ``limit`` checkpoints smaller than ``before`` (all when None), largest
    first, with their cosignatures."""
    rows = await con.fetch(f"{_COSIGNED} WHERE $1::bigint IS NULL OR size < $1 "
                           "ORDER BY size DESC LIMIT $2", before, limit)
    return [_signed(row, origin) for row in rows]


async def make_checkpoint(
    con: Conn, signers: list[NoteSigner], origin: str
) -> SignedCheckpoint | None:
    """Sign the current head of the log, unless it is empty or already signed."""
    head = await con.fetchrow("SELECT position, chain_hash, compact_range FROM log_head "
                              "WHERE id = 1")
    assert head is not None, "log_head row missing: run migrations"
    size: int = head["position"]
    latest = await latest_checkpoint(con, origin)
    if size == 0 or (latest is not None and latest.checkpoint.size >= size):
        return None
    previous = latest.checkpoint if latest is not None else None
    nodes = await fetch_nodes(con, nodes_to_check(size, previous))
    checkpoint = checked_head(origin, size, head["chain_hash"], head["compact_range"], nodes,
                              previous)
    note = sign_checkpoint(checkpoint, signers)
    created = await con.fetchval(
        """INSERT INTO checkpoints (size, root, chain_head, note) VALUES ($1, $2, $3, $4)
           ON CONFLICT (size) DO NOTHING RETURNING created_at""",
        size, checkpoint.root, checkpoint.chain_head, note,
    )
    return None if created is None else SignedCheckpoint(checkpoint, note, created)


# --- witness cosignatures ---------------------------------------------------------------------


async def signed_note_at(con: Conn, size: int) -> str | None:
    """The note at ``size`` exactly as the log signed it (what is pushed to witnesses)."""
    note: str | None = await con.fetchval("SELECT note FROM checkpoints WHERE size = $1", size)
    return note


async def latest_signed(con: Conn) -> tuple[int, str] | None:
    """(size, note as the log signed it) of the latest checkpoint."""
    row = await con.fetchrow("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
    return None if row is None else (row["size"], row["note"])


async def add_cosignatures(con: Conn, size: int, witness: str, lines: list[str]) -> None:
    """Store a witness's cosignature line(s) of the checkpoint at ``size``."""
    await con.execute(
        "INSERT INTO witness_cosignatures (size, witness, line) VALUES ($1, $2, $3) "
        "ON CONFLICT (size, witness) DO NOTHING", size, witness, "".join(lines))


async def last_cosigned(con: Conn, witness: str) -> int:
    """The largest checkpoint size ``witness`` cosigned, or 0."""
    size: int = await con.fetchval(
        "SELECT coalesce(max(size), 0) FROM witness_cosignatures WHERE witness = $1", witness)
    return size
