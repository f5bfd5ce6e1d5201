"""The sites of the network (the ``rm_sites`` read model of ``SiteRegistered``), for the
names shown to people."""

from __future__ import annotations

from typing import Any

from app.store.conn import Conn


async def registered_sites(con: Conn) -> list[dict[str, Any]]:
    """``{site_id, name, kind, region}`` of every registered site, by site id."""
    rows = await con.fetch("SELECT site_id, name, kind, region FROM rm_sites ORDER BY site_id")
    return [dict(r) for r in rows]
