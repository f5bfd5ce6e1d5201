"""Reading the stored perfect subtrees (``merkle_nodes``) that proofs are built from.

Every proof asks ``app.log.proofs`` which O(log n) nodes it needs, reads them here in one
query and has ``app.log.proofs`` build it; no separate read of the head is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.log import merkle, proofs
from app.log.merkle import Node
from app.log.proofs import MAX_BATCH, ConsistencyProof, InclusionProof
from app.store.conn import Conn


async def fetch_nodes(con: Conn, wanted: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of ``wanted`` nodes (absent ones are simply missing), in one query."""
    unique = sorted(set(wanted))
    if not unique:
        return {}
    rows = await con.fetch(
        """SELECT n.level, n.idx, n.hash
             FROM unnest($1::int[], $2::bigint[]) AS w(level, idx)
             JOIN merkle_nodes n ON n.level = w.level AND n.idx = w.idx""",
        [n[0] for n in unique], [n[1] for n in unique],
    )
    return {(r[0], r[1]): r[2] for r in rows}


async def _nodes(con: Conn, wanted: Sequence[Node], size: int) -> dict[Node, bytes]:
    nodes = await fetch_nodes(con, wanted)
    proofs.require_nodes(nodes, wanted, size)
    return nodes


async def root_at(con: Conn, size: int) -> bytes:
    """The Merkle root of the first ``size`` records."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.root_from_nodes(size, await _nodes(con, proofs.root_wanted(size), size))


async def inclusion_proofs(
    con: Conn, positions: Sequence[int], tree_size: int
) -> list[InclusionProof]:
    """Inclusion proofs of several records in the tree of ``tree_size``: one query in all."""
    wanted = proofs.inclusion_wanted(positions, tree_size)
    nodes = await _nodes(con, wanted, tree_size)
    return proofs.inclusion_proofs_from(positions, tree_size, nodes)


async def inclusion_proof(con: Conn, position: int, tree_size: int) -> InclusionProof:
    """The RFC 9162 inclusion proof of record ``position`` in the tree of ``tree_size``."""
    return (await inclusion_proofs(con, [position], tree_size))[0]


async def consistency_proof(con: Conn, from_size: int, to_size: int) -> ConsistencyProof:
    """The RFC 9162 consistency proof from the tree of ``from_size`` to that of ``to_size``."""
    wanted = proofs.consistency_wanted(from_size, to_size)
    nodes = await _nodes(con, wanted, to_size)
    return proofs.consistency_proof_from(from_size, to_size, nodes)


async def unit_records_with_proofs(
    con: Conn, unit_id: str, tree_size: int
) -> list[tuple[int, bytes, list[bytes]]]:
    """(position, record, inclusion proof) of every record of the unit within ``tree_size``."""
    rows = await con.fetch(
        """SELECT e.position, e.record FROM event_refs r JOIN events e USING (position)
            WHERE r.kind = 'unit' AND r.ref = $1 AND r.position <= $2
            ORDER BY e.position LIMIT $3""",
        unit_id, tree_size, MAX_BATCH,
    )
    if not rows:
        return []
    found = await inclusion_proofs(con, [r["position"] for r in rows], tree_size)
    return [(r["position"], r["record"], p.proof) for r, p in zip(rows, found, strict=True)]
