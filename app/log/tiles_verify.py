"""The offline check of a tiled log (a ``bloodtrace export-tiles`` tree, or a mirror of
``/tile/...``), pure but for the ``read`` callable that fetches a path.

The checkpoint must be signed by a pinned key (and, with a witness policy, cosigned). Every
record of every entry bundle is re-hashed; the leaves must equal the level-0 tiles, the hash
of each full tile must equal its entry in the tile above, the records' Merkle root must be the
signed root and their hash chain the signed chain head. A fault names the tile that holds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from app.log.merkle import CompactRange, leaf_hash
from app.log.merkle import root as merkle_root
from app.log.notes import Checkpoint, NoteError, VerifierKey, open_checkpoint
from app.log.offline import ExportReport
from app.log.quorum import WitnessPolicy
from app.log.record import CHAIN_TAG, GENESIS
from app.log.tiles import WIDTH, Tile, TileError, split_hashes, tiles_of, unbundle

Read = Callable[[str], bytes]
"""Fetch a path of the tree (``checkpoint``, ``tile/0/000``...); OSError/KeyError if absent."""


class _Bad(Exception):
    def __init__(self, position: int | None, reason: str) -> None:
        super().__init__(reason)
        self.position, self.reason = position, reason


def _fetch(read: Read, tile: Tile) -> bytes:
    try:
        return read(tile.path())
    except (OSError, KeyError):
        raise _Bad(tile.span()[0] + 1, f"{tile.path()} is missing") from None


def _records(read: Read, cp: Checkpoint) -> tuple[dict[int, list[bytes]], bytes, bytes]:
    """Re-hash every record: the level-0 hashes per tile, the root and the chain head."""
    tree, chain, leaves = CompactRange(), GENESIS, {}
    for tile in (t for t in tiles_of(cp.size) if t.level is None):
        try:
            records = unbundle(_fetch(read, tile), tile.width)
        except TileError as exc:
            raise _Bad(tile.span()[0] + 1, f"{tile.path()}: {exc}") from None
        hashes = []
        for offset, record in enumerate(records):
            position = tile.first() + offset + 1
            at = record.rfind(b',"position":')
            if at < 0 or not record.startswith(b"%d," % position, at + 12):
                raise _Bad(position, f"{tile.path()}: record {position} does not hold its own "
                                     "position")
            leaf = leaf_hash(record)
            chain = hashlib.sha256(CHAIN_TAG + chain + leaf).digest()
            tree.append(leaf)
            hashes.append(leaf)
        leaves[tile.n] = hashes
    return leaves, tree.root(), chain


def _hash_tiles(read: Read, size: int, leaves: dict[int, list[bytes]]) -> None:
    """Each hash tile against what the level below gives (the records at level 0, the full
    tiles of level L-1, themselves already checked, above)."""
    for tile in tiles_of(size):
        level = tile.level
        if level is None:
            continue
        if level == 0:
            want = leaves[tile.n]
        else:
            want = [merkle_root(_level_tile(read, level - 1, tile.first() + i))
                    for i in range(tile.width)]
        try:
            got = split_hashes(_fetch(read, tile), tile.width)
        except TileError as exc:
            raise _Bad(None, f"{tile.path()}: {exc}") from None
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if g != w:
                first = (tile.first() + i) * WIDTH ** level + 1
                raise _Bad(first, f"{tile.path()}: hash {i} is not the tree hash of the "
                                  f"records from {first} (the tile was changed)")


def _level_tile(read: Read, level: int, n: int) -> list[bytes]:
    return split_hashes(_fetch(read, Tile(level, n)), WIDTH)


def verify_tiles(read: Read, keys: Sequence[VerifierKey],
                 witnesses: WitnessPolicy | None = None, min_size: int = 0) -> ExportReport:
    """Verify a whole tiled log against the pinned ``keys``: the same verdict fields as an
    export's (``checked`` records, ``verified_to`` the checkpoint's size)."""
    size, checked = None, 0
    try:
        try:
            note = read("checkpoint").decode("utf-8")
            cp, _ = open_checkpoint(note, keys)
        except (OSError, KeyError):
            raise _Bad(None, "the tree holds no checkpoint") from None
        except (NoteError, UnicodeDecodeError) as exc:
            raise _Bad(None, f"checkpoint: {exc}") from None
        size = cp.size
        if witnesses is not None:
            why = witnesses.failure(note, f"checkpoint {size}")
            if why is not None:
                raise _Bad(None, why)
        leaves, root, chain = _records(read, cp)
        checked = size
        if root != cp.root:
            raise _Bad(1, f"the Merkle root of the records differs from checkpoint {size}")
        if cp.chain_head is not None and chain != cp.chain_head:
            raise _Bad(1, f"the chain head differs from checkpoint {size}")
        _hash_tiles(read, size, leaves)
        if size < min_size:
            raise _Bad(size + 1, f"the checkpoint covers {size} records, fewer than the "
                                 f"{min_size} required")
        return ExportReport(True, checked, None, None, None, size, 1,
                            witnesses.quorum if witnesses else None)
    except _Bad as bad:
        return ExportReport(False, checked, bad.position, bad.reason, size, 0, 0)
