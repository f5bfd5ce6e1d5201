"""RFC 9162 Merkle tree: the official vectors (every wantErr must fail), the reference roots,
and round trips of generated proofs at every size and index."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.log import merkle as M

# A verbatim copy of ../shared/vectors/rfc9162 (Apache-2.0, see its LICENSE), kept in the repo
# so the suite runs from any clone.
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "rfc9162"


def _b(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def test_vectors_are_present():
    assert len(_cases("inclusion")) > 90 and len(_cases("consistency")) > 90


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vector(path: Path):
    v = json.loads(path.read_text())
    proof = [_b(p) for p in v["proof"] or []]
    if v["wantErr"]:
        with pytest.raises(M.ProofError):
            M.verify_inclusion(_b(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, _b(v["root"]))
    else:
        M.verify_inclusion(_b(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, _b(v["root"]))


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vector(path: Path):
    v = json.loads(path.read_text())
    args = (v["size1"], v["size2"], [_b(p) for p in v["proof"] or []], _b(v["root1"]),
            _b(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(M.ProofError):
            M.verify_consistency(*args)
    else:
        M.verify_consistency(*args)


def test_reference_roots():
    ref = json.loads((VECTORS / "reference-roots.json").read_text())
    leaves = [M.leaf_hash(bytes.fromhex(x)) for x in ref["leaf_inputs_hex"]]
    for size, want in enumerate(ref["root_by_tree_size_hex"]):
        tree = M.CompactRange()
        for leaf in leaves[:size]:
            tree.append(leaf)
        assert M.root(leaves[:size]).hex() == want
        assert tree.root().hex() == want
        assert M.CompactRange.from_bytes(tree.to_bytes()).root().hex() == want


def _grow(size: int) -> tuple[list[bytes], dict[M.Node, bytes], list[bytes]]:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    tree = M.CompactRange()
    nodes: dict[M.Node, bytes] = {}
    roots = [M.EMPTY_ROOT]
    for leaf in leaves:
        for level, idx, value in tree.append(leaf):
            nodes[(level, idx)] = value
        roots.append(tree.root())
    return leaves, nodes, roots


def test_every_index_of_every_size_up_to_300():
    leaves, nodes, roots = _grow(300)
    for size in range(1, 301):
        assert M.root_from_nodes(size, nodes) == roots[size] == M.root(leaves[:size])
        for index in range(size):
            needed = M.inclusion_nodes(index, size)
            assert len(needed) <= 2 * size.bit_length()
            proof = M.inclusion_proof(index, size, {n: nodes[n] for n in needed})
            M.verify_inclusion(leaves[index], index, size, proof, roots[size])


def test_consistency_for_every_pair_up_to_64_and_sampled_up_to_300():
    _, nodes, roots = _grow(300)
    pairs = [(a, b) for b in range(1, 65) for a in range(1, b + 1)]
    pairs += [(a, b) for b in range(65, 301, 7) for a in range(1, b + 1, 5)]
    for a, b in pairs:
        needed = M.consistency_nodes(a, b)
        proof = M.consistency_proof(a, b, {n: nodes[n] for n in needed})
        M.verify_consistency(a, b, proof, roots[a], roots[b])


@settings(max_examples=200, deadline=None)
@given(size=st.integers(2, 300), data=st.data())
def test_tampered_proofs_fail(size, data):
    leaves, nodes, roots = _grow(size)
    index = data.draw(st.integers(0, size - 1))
    proof = M.inclusion_proof(index, size, nodes)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
        with pytest.raises(M.ProofError):
            M.verify_inclusion(leaves[index], index, size, bad, roots[size])
        with pytest.raises(M.ProofError):
            M.verify_inclusion(leaves[index], index, size, proof[:-1], roots[size])
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    with pytest.raises(M.ProofError):
        M.verify_inclusion(leaves[other], index, size, proof, roots[size])
    a = data.draw(st.integers(1, size - 1))
    cproof = M.consistency_proof(a, size, nodes)
    with pytest.raises(M.ProofError):
        M.verify_consistency(a, size, cproof, roots[a - 1] if a > 1 else bytes(32), roots[size])


def test_requests_outside_the_tree_are_refused():
    with pytest.raises(M.ProofError):
        M.inclusion_nodes(5, 5)
    with pytest.raises(M.ProofError):
        M.consistency_nodes(6, 5)
    with pytest.raises(M.ProofError):
        M.consistency_nodes(0, 5)


def test_compact_ranges_join_at_any_boundary():
    leaves, nodes, roots = _grow(300)
    for begin in range(0, 300, 7):
        for end in range(begin, 301, 11):
            joined = M.CompactRange()
            for leaf in leaves[:begin]:
                joined.append(leaf)
            start = begin
            for level in M.subtree_levels(begin, end):
                joined.append_subtree(level, nodes[(level, start >> level)])
                start += 1 << level
            assert (joined.size, joined.root()) == (end, roots[end])
            assert M.CompactRange.from_bytes(joined.copy().to_bytes()).root() == roots[end]
    with pytest.raises(ValueError):
        M.CompactRange(3, [bytes(32), bytes(32)]).append_subtree(1, bytes(32))
