"""Reading tlog-tiles from the log: hash tiles from ``merkle_nodes``, entry bundles from the
records (``app.log.tiles`` says what each holds)."""

from __future__ import annotations

from app.log.tiles import Tile, bundle
from app.store.conn import Conn


async def tile_data(con: Conn, tile: Tile) -> bytes | None:
    """The bytes of ``tile``, or None when the log does not hold all of it."""
    if tile.level is None:
        first = tile.first()
        rows = await con.fetch("SELECT record FROM events WHERE position > $1 AND position <= $2 "
                               "ORDER BY position", first, first + tile.width)
        return bundle([bytes(r[0]) for r in rows]) if len(rows) == tile.width else None
    rows = await con.fetch("SELECT hash FROM merkle_nodes WHERE level = $1 AND idx >= $2 "
                           "AND idx < $3 ORDER BY idx", tile.leaf_level, tile.first(),
                           tile.first() + tile.width)
    return b"".join(bytes(r[0]) for r in rows) if len(rows) == tile.width else None
