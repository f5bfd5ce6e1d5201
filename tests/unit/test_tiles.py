"""tlog-tiles paths and shapes, from the spec's own examples."""

from __future__ import annotations

import pytest

from app.log import tiles as T


def test_the_index_is_written_in_x_prefixed_groups_of_three():
    assert T.Tile(0, 1234067).path() == "tile/0/x001/x234/067"
    assert T.Tile(0, 0).path() == "tile/0/000"
    assert T.Tile(2, 1000, 7).path() == "tile/2/x001/000.p/7"
    assert T.Tile(None, 256, 1).path() == "tile/entries/256.p/1"
    assert T.Tile(None, 1256).path() == "tile/entries/x001/256"
    for tile in (T.Tile(0, 1234067), T.Tile(2, 1000, 7), T.Tile(None, 5), T.Tile(63, 0, 255)):
        assert T.parse_path(tile.path()) == tile


@pytest.mark.parametrize("path", [
    "tile/0/1", "tile/00/000", "tile/64/000", "tile/0/001.p/0", "tile/0/001.p/256",
    "tile/0/001.p/07", "tile/0/x001", "tile/0/001/002", "tile/data/000", "tile/0/x1234/000",
])
def test_malformed_paths_name_no_tile(path):
    with pytest.raises(T.TileError):
        T.parse_path(path)


def test_a_tree_of_70000_has_the_tiles_the_spec_lists():
    tiles = [t for t in T.tiles_of(70_000) if t.level is not None]
    assert sum(1 for t in tiles if t.level == 0 and t.full) == 273
    assert [t.width for t in tiles if not t.full] == [112, 17, 1]
    assert sum(1 for t in tiles if t.level == 1 and t.full) == 1
    assert [(t.level, t.width) for t in T.tiles_of(256) if t.level is not None] == \
        [(0, 256), (1, 1)]


def test_entry_bundles_are_uint16_length_prefixed_and_refuse_what_does_not_fit():
    data = T.bundle([b"ab", b"", b"xyz"])
    assert data == b"\x00\x02ab\x00\x00\x00\x03xyz"
    assert T.unbundle(data, 3) == [b"ab", b"", b"xyz"]
    with pytest.raises(T.TileError):
        T.unbundle(data, 2)
    with pytest.raises(T.TileError):
        T.unbundle(data[:-1], 3)
    with pytest.raises(T.TileError):
        T.bundle([b"x" * 65536])
