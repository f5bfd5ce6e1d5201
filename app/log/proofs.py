"""Inclusion and consistency proofs from the stored perfect subtrees (``merkle_nodes``).

Every proof asks ``app.log.merkle`` which O(log n) nodes it needs, reads them in one query and
builds the proof from them. A node exists only once every leaf under it is committed, so a
missing node means the tree is not that large yet: no separate read of the head is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.errors import InvalidProofRequest, ProofUnavailable
from app.log import merkle
from app.log.merkle import Node
from app.store.conn import Conn

MAX_BATCH = 1000
"""Most inclusion proofs one call builds (a unit's history is far shorter)."""


@dataclass(frozen=True, slots=True)
class InclusionProof:
    position: int
    tree_size: int
    leaf_hash: bytes
    proof: list[bytes]
    root: bytes

    @property
    def leaf_index(self) -> int:
        return self.position - 1


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    from_size: int
    to_size: int
    proof: list[bytes]
    from_root: bytes
    to_root: bytes


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
    if len(nodes) < len(set(wanted)):
        raise ProofUnavailable(f"the log holds fewer than {size} records", field="tree_size")
    return nodes


def _check_size(size: int, field: str) -> None:
    if size < 1:
        raise InvalidProofRequest(f"{field} must be at least 1", field=field)


async def root_at(con: Conn, size: int) -> bytes:
    """The Merkle root of the first ``size`` records."""
    if size == 0:
        return merkle.EMPTY_ROOT
    _check_size(size, "tree_size")
    wanted = merkle.root_nodes(size)
    return merkle.root_from_nodes(size, await _nodes(con, wanted, size))


async def inclusion_proofs(
    con: Conn, positions: Sequence[int], tree_size: int
) -> list[InclusionProof]:
    """Inclusion proofs of several records in the tree of ``tree_size``: one query in all."""
    _check_size(tree_size, "tree_size")
    if len(positions) > MAX_BATCH:
        raise InvalidProofRequest(f"at most {MAX_BATCH} proofs at once", field="position")
    for position in positions:
        if not 1 <= position <= tree_size:
            raise InvalidProofRequest(
                f"position {position} is not in a tree of {tree_size} records", field="position")
    wanted = [*merkle.root_nodes(tree_size)]
    for position in positions:
        wanted += merkle.inclusion_nodes(position - 1, tree_size)
        wanted.append((0, position - 1))
    nodes = await _nodes(con, wanted, tree_size)
    root = merkle.root_from_nodes(tree_size, nodes)
    return [
        InclusionProof(p, tree_size, nodes[(0, p - 1)],
                       merkle.inclusion_proof(p - 1, tree_size, nodes), root)
        for p in positions
    ]


async def inclusion_proof(con: Conn, position: int, tree_size: int) -> InclusionProof:
    """The RFC 9162 inclusion proof of record ``position`` in the tree of ``tree_size``."""
    return (await inclusion_proofs(con, [position], tree_size))[0]


async def consistency_proof(con: Conn, from_size: int, to_size: int) -> ConsistencyProof:
    """The RFC 9162 consistency proof from the tree of ``from_size`` to that of ``to_size``."""
    _check_size(from_size, "from_size")
    if from_size > to_size:
        raise InvalidProofRequest(f"from_size {from_size} exceeds to_size {to_size}",
                                  field="from_size")
    wanted = [*merkle.consistency_nodes(from_size, to_size), *merkle.root_nodes(from_size),
              *merkle.root_nodes(to_size)]
    nodes = await _nodes(con, wanted, to_size)
    return ConsistencyProof(
        from_size, to_size, merkle.consistency_proof(from_size, to_size, nodes),
        merkle.root_from_nodes(from_size, nodes), merkle.root_from_nodes(to_size, nodes),
    )


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
    proofs = await inclusion_proofs(con, [r["position"] for r in rows], tree_size)
    return [(r["position"], r["record"], p.proof) for r, p in zip(rows, proofs, strict=True)]
