"""The RFC 9162 Merkle tree, pure: hashes, a compact range, proof generation and verification.

The store keeps every perfect subtree (``merkle_nodes``: node (level, idx) covers leaves
``[idx * 2**level, (idx + 1) * 2**level)``), so a proof needs O(log n) of them. Generation is in
two steps so that the store can fetch all nodes in one query: ``*_nodes`` says which perfect
nodes a proof needs, ``*_proof`` builds it from them. Verification follows
transparency-dev/merkle (the source of the official vectors), including its exact proof-length
checks, which is what makes padded, truncated or re-ordered proofs fail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

Node = tuple[int, int]
EMPTY_ROOT = hashlib.sha256(b"").digest()
_SIZE = 32


class ProofError(ValueError):
    """A proof that does not verify, or a request for one that cannot exist."""


def leaf_hash(record: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || record)."""
    return hashlib.sha256(b"\x00" + record).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (already hashed), by the RFC's recursive definition."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees covering leaves [0, size), left to right."""

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        self.size = size
        self.hashes = hashes if hashes is not None else []
        if len(self.hashes) != self.size.bit_count():
            raise ValueError("a compact range holds one hash per set bit of its size")

    @classmethod
    def from_bytes(cls, raw: bytes) -> CompactRange:
        """Read ``to_bytes`` output (empty bytes: the empty tree)."""
        if not raw:
            return cls()
        size = int.from_bytes(raw[:8], "big")
        body = raw[8:]
        return cls(size, [body[i : i + _SIZE] for i in range(0, len(body), _SIZE)])

    def to_bytes(self) -> bytes:
        """8-byte big-endian size, then the hashes left to right (what log_head stores)."""
        return self.size.to_bytes(8, "big") + b"".join(self.hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return every perfect node it completes, the leaf included."""
        index = self.size
        completed = [(0, index, leaf)]
        value, level = leaf, 0
        while index & 1:
            value = node_hash(self.hashes.pop(), value)
            level += 1
            index >>= 1
            completed.append((level, index, value))
        self.hashes.append(value)
        self.size += 1
        return completed

    def append_subtree(self, level: int, value: bytes) -> None:
        """Add the root of a perfect subtree of ``2**level`` leaves that starts at ``size``.

        This joins compact ranges: a range over ``[size, end)`` is ``subtree_levels(size, end)``
        with its hashes, appended left to right.
        """
        if self.size & ((1 << level) - 1):
            raise ValueError(f"a subtree of level {level} cannot start at leaf {self.size}")
        index = self.size >> level
        while index & 1:
            value = node_hash(self.hashes.pop(), value)
            index >>= 1
        self.hashes.append(value)
        self.size += 1 << level

    def copy(self) -> CompactRange:
        return CompactRange(self.size, list(self.hashes))

    def root(self) -> bytes:
        """The Merkle tree hash of leaves [0, size)."""
        if not self.hashes:
            return EMPTY_ROOT
        value = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            value = node_hash(left, value)
        return value


# --- generation ------------------------------------------------------------------------------


def _inclusion_ranges(index: int, begin: int, end: int) -> list[tuple[int, int]]:
    """PATH(m, D[begin:end]) of RFC 9162 §2.1.3.1, as the subtree ranges it hashes."""
    if end - begin == 1:
        return []
    k = _split(end - begin)
    if index < begin + k:
        return [*_inclusion_ranges(index, begin, begin + k), (begin + k, end)]
    return [*_inclusion_ranges(index, begin + k, end), (begin, begin + k)]


def _consistency_ranges(m: int, begin: int, end: int, whole: bool) -> list[tuple[int, int]]:
    """SUBPROOF(m, D[begin:end], b) of RFC 9162 §2.1.4.1."""
    if begin + m == end:
        return [] if whole else [(begin, end)]
    k = _split(end - begin)
    if m <= k:
        return [*_consistency_ranges(m, begin, begin + k, whole), (begin + k, end)]
    return [*_consistency_ranges(m - k, begin + k, end, False), (begin, begin + k)]


def _perfect(begin: int, end: int) -> list[Node]:
    """The perfect, aligned subtrees that make up [begin, end), left to right."""
    nodes: list[Node] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def subtree_levels(begin: int, end: int) -> list[int]:
    """The levels of the perfect subtrees that make up leaves ``[begin, end)``, left to right."""
    return [level for level, _ in _perfect(begin, end)]


def joined(tree: CompactRange, begin: int, end: int, nodes: Sequence[bytes]) -> CompactRange:
    """``tree`` (of size ``begin``) extended by the compact range ``nodes`` of leaves
    ``[begin, end)``: how the results of a log verified in slices are put back together."""
    out = tree.copy()
    for level, value in zip(subtree_levels(begin, end), nodes, strict=True):
        out.append_subtree(level, value)
    return out


_DIGEST = type(hashlib.sha256()).digest
_NODE_PREFIX = b"\x01".__add__


def _pairs(row: Sequence[bytes]) -> list[bytes]:
    """node_hash(row[0], row[1]), node_hash(row[2], row[3]), ... (an even row), each step a
    C function mapped over the row: no Python frame per node."""
    return list(map(_DIGEST, map(hashlib.sha256, map(
        bytes.__add__, map(_NODE_PREFIX, row[0::2]), row[1::2]))))


def _subtrees(begin: int, leaves: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """(level, hash) of the perfect subtrees that make up leaves ``[begin, begin + n)`` (the
    hashes ``leaves``), left to right: each level is hashed in one pass over the row."""
    left: list[tuple[int, bytes]] = []
    right: list[tuple[int, bytes]] = []
    level, index, row = 0, begin, list(leaves)
    while row:
        if index & 1:  # its left sibling is outside the range
            left.append((level, row[0]))
            del row[0]
            index += 1
        if len(row) & 1:  # and the last one's right sibling
            right.append((level, row.pop()))
        row = _pairs(row)
        index >>= 1
        level += 1
    return left + right[::-1]


def extend(nodes: list[bytes], begin: int, end: int, leaves: Sequence[bytes]) -> None:
    """Extend ``nodes``, the compact range of leaves ``[begin, end)`` (the perfect subtrees
    ``subtree_levels(begin, end)``), in place by the leaf hashes ``leaves`` at ``end, end + 1,
    ...``: what verification does with each page of recomputed leaves. A subtree is merged
    with the one to its left while that one is its sibling and inside the range."""
    for level, value in _subtrees(end, leaves):
        size, index = 1 << level, end >> level
        while index & 1 and (index - 1) << level >= begin:
            value = node_hash(nodes.pop(), value)
            index >>= 1
            level += 1
        nodes.append(value)
        end += size


def _range_hash(begin: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    parts = [nodes[n] for n in _perfect(begin, end)]
    value = parts[-1]
    for left in reversed(parts[:-1]):
        value = node_hash(left, value)
    return value


def _needed(ranges: list[tuple[int, int]]) -> list[Node]:
    return sorted({n for b, e in ranges for n in _perfect(b, e)})


def _check_inclusion(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")


def _check_consistency(size1: int, size2: int) -> None:
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to {size2}")


def inclusion_nodes(index: int, size: int) -> list[Node]:
    """The stored perfect nodes an inclusion proof of leaf ``index`` in ``size`` reads."""
    _check_inclusion(index, size)
    return _needed(_inclusion_ranges(index, 0, size))


def inclusion_proof(index: int, size: int, nodes: Mapping[Node, bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size``, from ``inclusion_nodes``."""
    _check_inclusion(index, size)
    return [_range_hash(b, e, nodes) for b, e in _inclusion_ranges(index, 0, size)]


def consistency_nodes(size1: int, size2: int) -> list[Node]:
    """The stored perfect nodes a consistency proof from ``size1`` to ``size2`` reads."""
    _check_consistency(size1, size2)
    return _needed(_consistency_ranges(size1, 0, size2, True))


def consistency_proof(size1: int, size2: int, nodes: Mapping[Node, bytes]) -> list[bytes]:
    """The RFC 9162 consistency proof from ``size1`` to ``size2``, from ``consistency_nodes``."""
    _check_consistency(size1, size2)
    return [_range_hash(b, e, nodes) for b, e in _consistency_ranges(size1, 0, size2, True)]


def root_nodes(size: int) -> list[Node]:
    """The perfect nodes whose hashes give the root of the tree of ``size`` leaves."""
    return _perfect(0, size)


def root_from_nodes(size: int, nodes: Mapping[Node, bytes]) -> bytes:
    """The root of the tree of ``size`` leaves, from the nodes ``root_nodes`` names."""
    return EMPTY_ROOT if size == 0 else _range_hash(0, size, nodes)


# --- verification ----------------------------------------------------------------------------


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = node_hash(seed, h) if (index >> i) & 1 == 0 else node_hash(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = node_hash(h, seed)
    return seed


def _decompose(index: int, size: int) -> tuple[int, int]:
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def _check_hashes(*values: bytes) -> None:
    if any(len(v) != _SIZE for v in values):
        raise ProofError("a hash is not 32 bytes")


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2), checking its exact length."""
    _check_inclusion(index, size)
    _check_hashes(leaf, *proof)
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise ProofError(f"proof has {len(proof)} hashes, expected {inner + border}")
    return _chain_border_right(_chain_inner(leaf, proof[:inner], index), proof[inner:])


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows leaf ``index`` in the tree with that root."""
    if root_from_inclusion(leaf, index, size, proof) != expected_root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Raise ProofError unless the tree of ``size2`` extends the tree of ``size1``."""
    _check_hashes(*proof)
    if size1 <= 0:
        # Everything extends the empty tree, so such a "proof" proves nothing: refuse it.
        raise ProofError("a consistency proof must start from a non-empty tree")
    if size2 < size1:
        raise ProofError(f"size {size2} is smaller than {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes with different roots")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    seed, start = proof[0], 1
    if size1 == 1 << shift:
        seed, start = root1, 0
    if len(proof) != start + inner + border:
        raise ProofError(f"proof has {len(proof)} hashes, expected {start + inner + border}")
    rest = proof[start:]
    mask = (size1 - 1) >> shift
    first = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    if first != root1:
        raise ProofError("consistency proof does not lead to the first root")
    second = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    if second != root2:
        raise ProofError("consistency proof does not lead to the second root")
