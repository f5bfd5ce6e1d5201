"""tlog-tiles (https://c2sp.org/tlog-tiles), pure: tile paths, what a tile holds, entry
bundles, and the check of a whole tiled tree against its checkpoint.

- ``tile/<L>/<N>[.p/<W>]``: at level L, hashes ``i`` in ``[0, W)`` are the Merkle tree hashes
  of the perfect subtrees of ``256**L`` leaves at index ``N*256 + i`` (level ``8L`` of
  ``merkle_nodes``). A full tile has 256 hashes; a partial one 1 to 255.
- ``tile/entries/<N>[.p/<W>]``: the records of leaves ``N*256 .. N*256+W-1`` (positions one
  more), each as a big-endian uint16 length and the exact record bytes that were hashed.
- ``<N>`` is written in 3-digit groups, every group but the last with an ``x``:
  1234067 is ``x001/x234/067``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

WIDTH = 256
HASH = 32
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF
_PATH = re.compile(r"^tile/(0|[1-9][0-9]?|entries)/((?:x[0-9]{3}/)*[0-9]{3})"
                   r"(?:\.p/([1-9][0-9]{0,2}))?$")


class TileError(ValueError):
    """A path that names no tile, or a tile or bundle that does not check out."""


@dataclass(frozen=True, slots=True, order=True)
class Tile:
    """A tile at ``level`` (None: an entry bundle), index ``n``, ``width`` hashes/entries."""

    level: int | None
    n: int
    width: int = WIDTH

    @property
    def full(self) -> bool:
        return self.width == WIDTH

    @property
    def leaf_level(self) -> int:
        """The level of these hashes among the Merkle nodes (8 per tile level)."""
        return 8 * (self.level or 0)

    def first(self) -> int:
        """The index of the tile's first hash among the nodes of its level."""
        return self.n * WIDTH

    def span(self) -> tuple[int, int]:
        """The leaves [start, end) the tile's ``width`` hashes cover."""
        unit = WIDTH ** (self.level or 0)
        return self.n * WIDTH * unit, (self.n * WIDTH + self.width) * unit

    def path(self) -> str:
        groups = f"{self.n:d}"
        digits = groups.rjust(-(-len(groups) // 3) * 3, "0")
        parts = [digits[i:i + 3] for i in range(0, len(digits), 3)]
        index = "/".join([*("x" + p for p in parts[:-1]), parts[-1]])
        level = "entries" if self.level is None else str(self.level)
        suffix = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{index}{suffix}"


def parse_path(path: str) -> Tile:
    """The tile a spec path names, or TileError."""
    match = _PATH.match(path)
    if match is None:
        raise TileError(f"{path!r} is not a tile path")
    level_text, index, width_text = match.groups()
    level = None if level_text == "entries" else int(level_text)
    if level is not None and level > MAX_LEVEL:
        raise TileError(f"tile level {level} is above {MAX_LEVEL}")
    width = WIDTH if width_text is None else int(width_text)
    if width_text is not None and width >= WIDTH:
        raise TileError(f"a partial tile is 1 to {WIDTH - 1} wide")
    return Tile(level, int(index.replace("x", "").replace("/", "")), width)


def within(tile: Tile, size: int) -> bool:
    """Whether a tree of ``size`` leaves holds everything ``tile`` covers."""
    return tile.span()[1] <= size


def tiles_of(size: int) -> Iterator[Tile]:
    """Every tile of a tree of ``size`` leaves (full ones, then the partial one per level),
    hash tiles and entry bundles, as a mirror holds them."""
    level, count = 0, size
    while count:
        full, rest = divmod(count, WIDTH)
        for n in range(full):
            yield Tile(level, n)
            if level == 0:
                yield Tile(None, n)
        if rest:
            yield Tile(level, full, rest)
            if level == 0:
                yield Tile(None, full, rest)
        level, count = level + 1, full
        if level > MAX_LEVEL:
            break


def bundle(records: list[bytes]) -> bytes:
    """An entry bundle of ``records``."""
    out = bytearray()
    for record in records:
        if len(record) > MAX_ENTRY:
            raise TileError(f"a record of {len(record)} bytes does not fit an entry bundle")
        out += len(record).to_bytes(2, "big") + record
    return bytes(out)


def unbundle(data: bytes, width: int) -> list[bytes]:
    """The records of an entry bundle of ``width`` entries, or TileError."""
    records, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileError("an entry bundle ends inside a length prefix")
        length = int.from_bytes(data[at:at + 2], "big")
        if at + 2 + length > len(data):
            raise TileError("an entry bundle ends inside an entry")
        records.append(data[at + 2:at + 2 + length])
        at += 2 + length
    if len(records) != width:
        raise TileError(f"the entry bundle holds {len(records)} entries, not {width}")
    return records


def split_hashes(data: bytes, width: int) -> list[bytes]:
    """The hashes of a tile of ``width``, or TileError."""
    if len(data) != width * HASH:
        raise TileError(f"the tile holds {len(data)} bytes, not {width * HASH}")
    return [data[i:i + HASH] for i in range(0, len(data), HASH)]
