"""Inclusion proofs attached to the events of a provenance answer."""

from __future__ import annotations

from typing import Any

from app.log import merkle
from app.store.api_access import merkle_nodes
from app.store.codec import b64
from app.store.conn import Conn
from app.store.log_reader import head_position


async def attach_inclusion_proofs(con: Conn, events: list[dict[str, Any]]) -> None:
    """Give each event (a dict with ``position``) ``inclusion``: the RFC 9162 audit path of
    its leaf (index ``position - 1``) in the tree of the current log size, and that tree's
    root, so a client can check it against a signed checkpoint via a consistency proof."""
    if not events:
        return
    size = await head_position(con)
    wanted = sorted({n for e in events for n in merkle.inclusion_nodes(e["position"] - 1, size)}
                    | set(merkle.root_nodes(size)))
    nodes = await merkle_nodes(con, wanted)
    root = b64(merkle.root_from_nodes(size, nodes))
    for event in events:
        path = merkle.inclusion_proof(event["position"] - 1, size, nodes)
        event["inclusion"] = {"leaf_index": event["position"] - 1, "tree_size": size,
                              "root_hash": root, "audit_path": [b64(h) for h in path]}
