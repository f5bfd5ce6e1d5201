"""Signed checkpoints: the log's signing keys, their manifest, and the periodic checkpointer.

Keys are Ed25519 private keys in PEM (PKCS#8), from ``BLOODTRACE_SIGNING_KEY`` (inline) or
``signing_key_file``; with neither, one is generated on first start into
``data_dir/signing-key.pem`` (mode 0600). A PEM may hold several keys: each signs every
checkpoint, which is how a key rotates (add the new key beside the old one, let verifiers pin
it, then remove and retire the old one). Each key's vkey lands in the ``signing_keys``
manifest with the time it first signed.

Before signing, the checkpointer recomputes the root from the stored Merkle nodes and checks
consistency with the previous checkpoint: the log never signs a head that its proofs could
not back, nor one that contradicts an earlier signature.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.config import Settings
from app.log import merkle
from app.log.notes import Checkpoint, NoteSigner, sign_checkpoint
from app.log.proofs import fetch_nodes
from app.store.conn import Conn
from app.store.errors import StoreUnavailable, map_driver_errors

log = logging.getLogger(__name__)
DEFAULT_KEY_FILE = "signing-key.pem"
_PEM = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----",
                  re.DOTALL)


class SigningKeyError(RuntimeError):
    """The configured signing key cannot be used."""


class InconsistentLogError(RuntimeError):
    """The head of the log contradicts its stored tree or an earlier checkpoint."""


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str
    created_at: datetime


# --- keys -------------------------------------------------------------------------------------


def parse_private_keys(pem: bytes) -> list[Ed25519PrivateKey]:
    """Every Ed25519 private key in a PEM text (one or more blocks)."""
    pem = pem.replace(b"\\n", b"\n")  # keys passed through environment variables
    keys = []
    for block in _PEM.findall(pem):
        try:
            key = serialization.load_pem_private_key(block, password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"unreadable signing key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("signing keys must be Ed25519")
        keys.append(key)
    if not keys:
        raise SigningKeyError("no PEM private key found")
    return keys


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def generate_key_file(path: Path) -> Ed25519PrivateKey | None:
    """Write a new key to ``path`` (0600); None if the file already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None  # another process won the race; use its key
    with os.fdopen(fd, "wb") as out:
        out.write(private_key_pem(key))
    return key


def load_signers(settings: Settings) -> list[NoteSigner]:
    """The log's signers: from the settings, or a key generated on first start."""
    if settings.signing_key:
        pem = settings.signing_key.encode()
    elif settings.signing_key_file is not None:
        try:
            pem = settings.signing_key_file.read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"cannot read {settings.signing_key_file}: {exc}") from None
    else:
        path = settings.data_dir / DEFAULT_KEY_FILE
        if generate_key_file(path) is not None:
            log.warning("generated a new log signing key in %s", path)
        pem = path.read_bytes()
    return [NoteSigner(settings.log_origin, key) for key in parse_private_keys(pem)]


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
    rows = await con.fetch("SELECT vkey, name, key_id, valid_from, valid_until FROM signing_keys "
                           "ORDER BY valid_from, vkey")
    return [dict(r) for r in rows]


# --- checkpoints ------------------------------------------------------------------------------


def _signed(row: Any, origin: str) -> SignedCheckpoint:
    cp = Checkpoint(origin, row["size"], row["root"], row["chain_head"])
    return SignedCheckpoint(cp, row["note"], row["created_at"])


async def latest_checkpoint(con: Conn, origin: str) -> SignedCheckpoint | None:
    row = await con.fetchrow("SELECT size, root, chain_head, note, created_at FROM checkpoints "
                             "ORDER BY size DESC LIMIT 1")
    return None if row is None else _signed(row, origin)


async def checkpoint_at(con: Conn, size: int, origin: str) -> SignedCheckpoint | None:
    row = await con.fetchrow("SELECT size, root, chain_head, note, created_at FROM checkpoints "
                             "WHERE size = $1", size)
    return None if row is None else _signed(row, origin)


async def make_checkpoint(
    con: Conn, signers: list[NoteSigner], origin: str
) -> SignedCheckpoint | None:
    """Sign the current head of the log, unless it is empty or already signed."""
    head = await con.fetchrow("SELECT position, chain_hash, compact_range FROM log_head "
                              "WHERE id = 1")
    assert head is not None, "log_head row missing: run migrations"
    size: int = head["position"]
    previous = await latest_checkpoint(con, origin)
    if size == 0 or (previous is not None and previous.checkpoint.size >= size):
        return None
    tree = merkle.CompactRange.from_bytes(head["compact_range"])
    if tree.size != size:
        raise InconsistentLogError(f"head at {size} holds a compact range of {tree.size}")
    root = tree.root()
    wanted = merkle.root_nodes(size)
    if previous is not None:
        wanted += merkle.consistency_nodes(previous.checkpoint.size, size)
    nodes = await fetch_nodes(con, wanted)
    try:
        if merkle.root_from_nodes(size, nodes) != root:
            raise InconsistentLogError(f"stored Merkle nodes do not give the head's root at {size}")
        if previous is not None:
            old = previous.checkpoint
            proof = merkle.consistency_proof(old.size, size, nodes)
            merkle.verify_consistency(old.size, size, proof, old.root, root)
    except (KeyError, merkle.ProofError) as exc:
        raise InconsistentLogError(f"refusing to sign size {size}: {exc!r}") from None
    checkpoint = Checkpoint(origin, size, root, head["chain_hash"])
    note = sign_checkpoint(checkpoint, signers)
    created = await con.fetchval(
        """INSERT INTO checkpoints (size, root, chain_head, note) VALUES ($1, $2, $3, $4)
           ON CONFLICT (size) DO NOTHING RETURNING created_at""",
        size, root, checkpoint.chain_head, note,
    )
    return None if created is None else SignedCheckpoint(checkpoint, note, created)


async def run_checkpointer(pool: asyncpg.Pool, settings: Settings, stop: asyncio.Event,
                           signers: list[NoteSigner] | None = None) -> None:
    """Sign a checkpoint every ``checkpoint_every_events`` records or, when the log moved,
    every ``checkpoint_every_seconds``; and once more when ``stop`` is set, then return.

    Pass ``signers`` (from ``load_signers``, called at start-up) to fail fast on a bad key.
    """
    if signers is None:
        signers = await asyncio.to_thread(load_signers, settings)
    async with pool.acquire() as con:
        signers = await register_keys(con, signers)
    if not signers:
        raise SigningKeyError("every configured signing key is retired")
    poll = min(0.5, settings.checkpoint_every_seconds)
    signed_at, last_signed = time.monotonic(), -1
    while True:
        stopping = stop.is_set()
        try:
            async with map_driver_errors(), pool.acquire() as con:
                position: int = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
                if last_signed < 0:
                    last_signed = (await con.fetchval(
                        "SELECT coalesce(max(size), 0) FROM checkpoints"))
                waited = time.monotonic() - signed_at
                due = position - last_signed >= settings.checkpoint_every_events or (
                    position > last_signed
                    and (waited >= settings.checkpoint_every_seconds or stopping))
                if due:
                    await make_checkpoint(con, signers, settings.log_origin)
                    signed_at, last_signed = time.monotonic(), position
        except StoreUnavailable as exc:
            # The checkpointer must outlive a database restart.
            log.warning("checkpointer: database unavailable (%s)", exc.__cause__)
        except Exception:
            # The top of a background task: anything else (an inconsistent head, a bug) is
            # logged with its traceback on every round until it is fixed, never dropped.
            log.exception("checkpointer: cannot sign a checkpoint")
        if stopping:
            return
        try:
            await asyncio.wait_for(stop.wait(), poll)
        except TimeoutError:
            pass
