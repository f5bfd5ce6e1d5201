"""Queries behind the HTTP edge's read scope: does a site touch a unit, a donation, a feed?

A site "touches" something when an event that concerns it also concerns the site: the site
acted on it (every event a site key records names the key's site) or was named in it (the
destination of a shipment, the lab of a test). Both sides are ``event_refs`` primary-key
look-ups, so a check costs a few index probes whatever the size of the log.
"""

from __future__ import annotations

from typing import Any

from app.store.codec import FEED_COLUMNS, feed_entry
from app.store.conn import Conn

_TOUCHES = """
SELECT EXISTS (
    SELECT 1 FROM event_refs x
      JOIN event_refs s ON s.kind = 'site' AND s.ref = $3 AND s.position = x.position
     WHERE x.kind = $1 AND x.ref = $2)
"""


async def site_touches(con: Conn, kind: str, ref: str, site_id: str) -> bool:
    """Whether any event concerning ``(kind, ref)`` also concerns ``site_id``."""
    found: bool = await con.fetchval(_TOUCHES, kind, ref, site_id)
    return found


_TESTED = """
SELECT EXISTS (
    SELECT 1 FROM event_refs x
      JOIN events e ON e.position = x.position AND e.type = 'TestResultRecorded'
      JOIN event_refs s ON s.kind = 'site' AND s.ref = $2 AND s.position = x.position
     WHERE x.kind = 'donation' AND x.ref = $1)
"""


async def site_touches_unit(con: Conn, unit_id: str, din: str, site_id: str) -> bool:
    """A site touches a unit when it touched the unit itself, or tested its donation (a lab
    tests a donation's samples without ever holding its units)."""
    if await site_touches(con, "unit", unit_id, site_id):
        return True
    tested: bool = await con.fetchval(_TESTED, din, site_id)
    return tested


async def site_feed(con: Conn, site_id: str, after: int, limit: int) -> list[dict[str, Any]]:
    """Feed entries (position > ``after``, in order) of the events that concern ``site_id``."""
    rows = await con.fetch(
        f"""SELECT {FEED_COLUMNS} FROM events WHERE position IN (
                SELECT position FROM event_refs WHERE kind = 'site' AND ref = $1
                   AND position > $2 ORDER BY position LIMIT $3)
             ORDER BY position""",
        site_id, after, limit,
    )
    return [feed_entry(r) for r in rows]


async def touched_units(con: Conn, unit_ids: list[str], site_id: str) -> set[str]:
    """Those of ``unit_ids`` that ``site_id`` touched (see ``site_touches_unit``)."""
    if not unit_ids:
        return set()
    rows = await con.fetch(
        """SELECT u.id FROM unnest($1::text[]) AS u(id)
            WHERE EXISTS (
                SELECT 1 FROM event_refs x
                  JOIN event_refs s ON s.kind = 'site' AND s.ref = $2 AND s.position = x.position
                 WHERE x.kind = 'unit' AND x.ref = u.id)
               OR EXISTS (
                SELECT 1 FROM event_refs x
                  JOIN events e ON e.position = x.position AND e.type = 'TestResultRecorded'
                  JOIN event_refs s ON s.kind = 'site' AND s.ref = $2 AND s.position = x.position
                 WHERE x.kind = 'donation' AND x.ref = split_part(u.id, '-', 1))""",
        unit_ids, site_id,
    )
    return {r["id"] for r in rows}


async def unit_exists(con: Conn, unit_id: str) -> bool:
    found = await con.fetchval("SELECT 1 FROM rm_units WHERE unit_id = $1", unit_id)
    return found is not None


async def merkle_nodes(
    con: Conn, nodes: list[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """The stored perfect subtree hashes asked for (nodes never change once written)."""
    rows = await con.fetch(
        "SELECT n.level, n.idx, n.hash FROM merkle_nodes n JOIN unnest($1::int[], "
        "$2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx",
        [lv for lv, _ in nodes], [ix for _, ix in nodes])
    return {(r["level"], r["idx"]): r["hash"] for r in rows}
