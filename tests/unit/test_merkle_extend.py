"""``merkle.extend``, the Merkle step of both verifiers: a compact range grown a page of leaves
at a time equals the one grown leaf by leaf, from any first leaf and however it is cut."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from app.log.merkle import CompactRange, extend, joined, node_hash, subtree_levels


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(k.to_bytes(4, "big")).digest() for k in range(n)]


def _one_by_one(begin: int, leaves: list[bytes]) -> list[bytes]:
    """The compact range of leaves ``[begin, begin + len(leaves))``, a leaf at a time."""
    nodes: list[bytes] = []
    for offset, leaf in enumerate(leaves):
        index, value, level = begin + offset, leaf, 0
        while index & 1 and (index - 1) << level >= begin:
            value = node_hash(nodes.pop(), value)
            index >>= 1
            level += 1
        nodes.append(value)
    return nodes


@given(begin=st.integers(0, 300), n=st.integers(0, 300),
       cuts=st.lists(st.integers(1, 70), max_size=12))
def test_pages_give_the_range_of_single_leaves(begin, n, cuts):
    leaves = _leaves(begin + n)[begin:]
    nodes: list[bytes] = []
    end = begin
    for step in [*cuts, n]:
        page = leaves[end - begin:end - begin + step]
        extend(nodes, begin, end, page)
        end += len(page)
    assert end == begin + n
    assert nodes == _one_by_one(begin, leaves)
    assert len(nodes) == len(subtree_levels(begin, begin + n))


@given(split=st.integers(0, 200), n=st.integers(1, 200))
def test_joined_halves_give_the_root(split, n):
    leaves = _leaves(split + n)
    whole = CompactRange()
    for leaf in leaves:
        whole.append(leaf)
    left: list[bytes] = []
    extend(left, 0, 0, leaves[:split])
    right: list[bytes] = []
    extend(right, split, split, leaves[split:])
    tree = joined(CompactRange(split, left), split, split + n, right)
    assert tree.root() == whole.root()
