"""Stock reads: counts with expiry buckets, FEFO lists, near-expiry alerts, inventory index.

Stock is the units with ``in_stock`` (at a custodian, not in transit, not consumed, no final
fate); partial indexes on ``rm_units`` serve every read in FEFO order. SQL is assembled from
the filters actually given, so each shape gets a plan that uses its index.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from app.store.conn import Conn

USABLE = ("released", "reserved")
"""Statuses that count as supply for the inventory index and shortage checks."""
BUCKETS = (("expired", 0), ("within_24h", 24), ("within_72h", 72), ("within_7d", 168))


class _Where:
    """Conditions and their positional arguments, numbered as they are added."""

    def __init__(self, *fixed: str) -> None:
        self.parts = list(fixed)
        self.args: list[Any] = []

    def add(self, sql: str, value: Any) -> None:
        self.args.append(value)
        self.parts.append(sql.replace("?", f"${len(self.args)}"))

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def sql(self) -> str:
        return " AND ".join(self.parts) or "TRUE"


def _filters(where: _Where, site: str | None, category: str | None, abo: str | None,
             rhd: str | None, prefix: str = "") -> None:
    for column, value in ((f"{prefix}custodian_site_id", site), (f"{prefix}category", category),
                          (f"{prefix}abo", abo), (f"{prefix}rhd", rhd)):
        if value is not None:
            where.add(f"{column} = ?", value)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


async def stock(
    con: Conn,
    site: str | None = None,
    category: str | None = None,
    abo: str | None = None,
    rhd: str | None = None,
    expiring_within_hours: int | None = None,
    limit: int = 100,
    after: str | None = None,
    *,
    status: str | None = None,
    product_code: str | None = None,
    attribute: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Counts by site, category, product code, ABO/RhD and status with expiry buckets, and
    the units in FEFO order (first to expire first). A modified product (irradiated, washed,
    thawed...) has its own product code, so it is counted apart from the unmodified one;
    ``attribute`` keeps the units that carry it. ``after`` is the last unit id of the
    previous page."""
    now = _now(now)
    where = _Where("in_stock")
    _filters(where, site, category, abo, rhd)
    if status is not None:
        where.add("status = ?", status)
    if product_code is not None:
        where.add("product_code = ?", product_code)
    if attribute is not None:
        where.add("attributes @> jsonb_build_array(?::text)", attribute)
    if expiring_within_hours is not None:
        where.add("expires_at <= ?", now + timedelta(hours=expiring_within_hours))
    n = where.arg(now)
    buckets = ", ".join(
        f"count(*) FILTER (WHERE expires_at <= {n}::timestamptz + interval '{h} hours') AS {name}"
        for name, h in BUCKETS)
    counts = await con.fetch(
        f"SELECT custodian_site_id AS site_id, category, product_code, abo, rhd, status, "
        f"count(*) AS total, {buckets} FROM rm_units WHERE {where.sql()} "
        "GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6", *where.args)
    where.args.pop()
    if after is not None:
        p = where.arg(after)
        where.parts.append(
            f"(expires_at, unit_id) > ((SELECT expires_at FROM rm_units WHERE unit_id = {p}), {p})")
    lim = where.arg(limit)
    units = await con.fetch(
        "SELECT unit_id, din, product_code, category, abo, rhd, status, custodian_site_id, "
        f"location, expires_at, volume_ml, attributes FROM rm_units WHERE {where.sql()} "
        f"ORDER BY expires_at, unit_id LIMIT {lim}", *where.args)
    page = [{**u, "attributes": orjson.loads(u["attributes"] or "[]")} for u in units]
    return {
        "counts": [dict(c) for c in counts],
        "units": page,
        "next_after": page[-1]["unit_id"] if len(page) == limit else None,
    }


async def inventory_index(
    con: Conn,
    now: datetime | None = None,
    window_days: int = 30,
    site: str | None = None,
    category: str | None = None,
    abo: str | None = None,
    rhd: str | None = None,
) -> list[dict[str, Any]]:
    """Per site, category and ABO/RhD: usable stock ÷ average daily use, where use is units
    transfused or discarded (expired ones included) over the trailing ``window_days``.
    ``index_days`` is None when nothing was used (infinite cover)."""
    now = _now(now)
    held = _Where("in_stock", f"status IN ({', '.join(repr(s) for s in USABLE)})")
    _filters(held, site, category, abo, rhd)
    used = _Where("fate IN ('transfused', 'discarded')")
    used.args = held.args  # one numbering for both halves of the query
    used.add("occurred_at >= ?", now - timedelta(days=window_days))
    used.add("occurred_at < ?", now)
    for column, value in (("site_id", site), ("category", category), ("abo", abo), ("rhd", rhd)):
        if value is not None:
            used.add(f"{column} = ?", value)
    rows = await con.fetch(
        f"""WITH s AS (SELECT custodian_site_id AS site_id, category, abo, rhd, count(*) AS n
                         FROM rm_units WHERE {held.sql()} GROUP BY 1, 2, 3, 4),
                 u AS (SELECT site_id, category, abo, rhd, count(*) AS n
                         FROM rm_fates WHERE {used.sql()} GROUP BY 1, 2, 3, 4)
            SELECT site_id, category, abo, rhd, coalesce(s.n, 0) AS stock,
                   coalesce(u.n, 0) AS used
              FROM s FULL JOIN u USING (site_id, category, abo, rhd)
             ORDER BY site_id, category, abo, rhd""",
        *held.args)
    out = []
    for r in rows:
        daily = r["used"] / window_days
        out.append(dict(r) | {"daily_use": round(daily, 3),
                              "index_days": round(r["stock"] / daily, 2) if daily else None})
    return out


async def near_expiry(
    con: Conn,
    hours: int,
    now: datetime | None = None,
    *,
    site: str | None = None,
    short_days: float = 2.0,
    window_days: int = 30,
) -> list[dict[str, Any]]:
    """Released units expiring within ``hours``, grouped by site, category and ABO/RhD,
    each
    with the other sites short of that group (usable cover below ``short_days`` of their
    average daily use): where the units could still be used before they expire."""
    now = _now(now)
    where = _Where("in_stock", "status = 'released'")
    where.add("expires_at > ?", now)
    where.add("expires_at <= ?", now + timedelta(hours=hours))
    _filters(where, site, None, None, None)
    alerts = await con.fetch(
        "SELECT custodian_site_id AS site_id, category, abo, rhd, count(*) AS units, "
        "min(expires_at) AS first_expiry, array_agg(unit_id ORDER BY expires_at, unit_id) AS "
        f"unit_ids FROM rm_units WHERE {where.sql()} GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2",
        *where.args)
    if not alerts:
        return []
    cover = await inventory_index(con, now, window_days)
    short: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for c in cover:
        if c["daily_use"] and c["stock"] / c["daily_use"] < short_days:
            short.setdefault((c["category"], c["abo"], c["rhd"]), []).append(
                {"site_id": c["site_id"], "stock": c["stock"], "index_days": c["index_days"]})
    return [dict(a) | {
        "unit_ids": list(a["unit_ids"]),
        "short_sites": [s for s in short.get((a["category"], a["abo"], a["rhd"]), [])
                        if s["site_id"] != a["site_id"]],
    } for a in alerts]
