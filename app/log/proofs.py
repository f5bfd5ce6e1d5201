"""Inclusion and consistency proofs from the nodes they need, pure.

Each proof first names the O(log n) perfect subtrees it needs (``*_wanted``); the store reads
them in one query (``app/store/proof_reader.py``) and the proof is built from them here. A
node exists only once every leaf under it is committed, so a missing node means the tree is
not that large yet (``require_nodes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.errors import InvalidProofRequest, ProofUnavailable
from app.log import merkle
from app.log.merkle import Node

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


def require_nodes(nodes: Mapping[Node, bytes], wanted: Sequence[Node], size: int) -> None:
    """ProofUnavailable unless every ``wanted`` node was found (the tree holds ``size``)."""
    if len(nodes) < len(set(wanted)):
        raise ProofUnavailable(f"the log holds fewer than {size} records", field="tree_size")


def _check_size(size: int, field: str) -> None:
    if size < 1:
        raise InvalidProofRequest(f"{field} must be at least 1", field=field)


def root_wanted(size: int) -> list[Node]:
    """The nodes the root of the first ``size`` records is computed from (``size`` ≥ 1)."""
    _check_size(size, "tree_size")
    return merkle.root_nodes(size)


def inclusion_wanted(positions: Sequence[int], tree_size: int) -> list[Node]:
    """The nodes of the inclusion proofs of ``positions`` in the tree of ``tree_size``, with
    their leaves and the root; InvalidProofRequest when no such proofs can exist."""
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
    return wanted


def inclusion_proofs_from(
    positions: Sequence[int], tree_size: int, nodes: Mapping[Node, bytes]
) -> list[InclusionProof]:
    """The inclusion proofs of ``positions``, from the nodes ``inclusion_wanted`` names."""
    root = merkle.root_from_nodes(tree_size, nodes)
    return [
        InclusionProof(p, tree_size, nodes[(0, p - 1)],
                       merkle.inclusion_proof(p - 1, tree_size, nodes), root)
        for p in positions
    ]


def consistency_wanted(from_size: int, to_size: int) -> list[Node]:
    """The nodes of the consistency proof from ``from_size`` to ``to_size`` and both roots."""
    _check_size(from_size, "from_size")
    if from_size > to_size:
        raise InvalidProofRequest(f"from_size {from_size} exceeds to_size {to_size}",
                                  field="from_size")
    return [*merkle.consistency_nodes(from_size, to_size), *merkle.root_nodes(from_size),
            *merkle.root_nodes(to_size)]


def consistency_proof_from(
    from_size: int, to_size: int, nodes: Mapping[Node, bytes]
) -> ConsistencyProof:
    """The consistency proof, from the nodes ``consistency_wanted`` names."""
    return ConsistencyProof(
        from_size, to_size, merkle.consistency_proof(from_size, to_size, nodes),
        merkle.root_from_nodes(from_size, nodes), merkle.root_from_nodes(to_size, nodes),
    )
