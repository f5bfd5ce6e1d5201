"""Signed checkpoints, pure: the signing keys' PEM form, and the checks a head must pass
before the log signs it.

A PEM may hold several Ed25519 keys: each signs every checkpoint, which is how a key rotates
(add the new key beside the old one, let verifiers pin it, then remove and retire the old
one). Where the keys come from is ``app/signing_keys.py``; the stored checkpoints and the key
manifest are ``app/store/checkpoint_store.py``.

Before signing, the root is recomputed from the stored Merkle nodes and checked for
consistency with the previous checkpoint: the log never signs a head that its proofs could
not back, nor one that contradicts an earlier signature.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.log import merkle
from app.log.merkle import Node
from app.log.notes import Checkpoint

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
    """The signed note, with the witnesses' cosignature lines appended when it has some."""
    created_at: datetime
    cosignatures: int = 0


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


# --- checking a head before it is signed ------------------------------------------------------


def nodes_to_check(size: int, previous: Checkpoint | None) -> list[Node]:
    """The stored nodes that back the root at ``size`` and its consistency with ``previous``."""
    wanted = merkle.root_nodes(size)
    if previous is not None:
        wanted += merkle.consistency_nodes(previous.size, size)
    return wanted


def checked_head(
    origin: str, size: int, chain_head: bytes, compact_range: bytes,
    nodes: Mapping[Node, bytes], previous: Checkpoint | None,
) -> Checkpoint:
    """The checkpoint of the head at ``size`` (its ``compact_range`` as stored in the head
    row), once the ``nodes`` of ``nodes_to_check`` give the same root and prove it extends
    ``previous``; else InconsistentLogError."""
    tree = merkle.CompactRange.from_bytes(compact_range)
    if tree.size != size:
        raise InconsistentLogError(f"head at {size} holds a compact range of {tree.size}")
    root = tree.root()
    try:
        if merkle.root_from_nodes(size, nodes) != root:
            raise InconsistentLogError(f"stored Merkle nodes do not give the head's root at {size}")
        if previous is not None:
            proof = merkle.consistency_proof(previous.size, size, nodes)
            merkle.verify_consistency(previous.size, size, proof, previous.root, root)
    except (KeyError, merkle.ProofError) as exc:
        raise InconsistentLogError(f"refusing to sign size {size}: {exc!r}") from None
    return Checkpoint(origin, size, root, chain_head)
