"""Inclusion proofs attached to the events of a provenance answer (built by
``app.store.proof_reader``): against the latest signed checkpoint when it covers the event, else
against the current log head (not yet signed)."""

from __future__ import annotations

from typing import Any

from app.log.encoding import b64
from app.store.checkpoint_store import latest_checkpoint
from app.store.conn import Conn
from app.store.log_reader import head_position
from app.store.proof_reader import inclusion_proofs


async def attach_inclusion_proofs(con: Conn, events: list[dict[str, Any]], origin: str) -> None:
    """Give each event (a dict with ``position``) ``inclusion``: leaf index, tree size, root
    and RFC 9162 audit path, and ``signed``: whether that tree is a signed checkpoint (whose
    note is then the answer's ``checkpoint``)."""
    if not events:
        return
    signed = await latest_checkpoint(con, origin)
    signed_size = signed.checkpoint.size if signed is not None else 0
    head = await head_position(con)
    for size, batch in ((signed_size, [e for e in events if e["position"] <= signed_size]),
                        (head, [e for e in events if e["position"] > signed_size])):
        if not batch:
            continue
        proofs = await inclusion_proofs(con, [e["position"] for e in batch], size)
        for event, proof in zip(batch, proofs, strict=True):
            event["inclusion"] = {
                "leaf_index": proof.leaf_index, "tree_size": proof.tree_size,
                "root_hash": b64(proof.root), "audit_path": [b64(h) for h in proof.proof],
                "signed": size == signed_size,
            }
