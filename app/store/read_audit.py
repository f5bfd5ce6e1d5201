"""Audit reads: the log searched by actor, site, type and time; custody gaps; units past
expiry with no final fate; discards by reason, site and actor (the wastage and
anti-corruption view).

The event search reads the log through its own indexes (``(actor_key, recorded_at)``,
``(actor_user, recorded_at)``, ``(actor_site, recorded_at)``, ``(type, recorded_at)``,
``recorded_at``) in ``(recorded_at, position)`` order, so a page never scans the log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.store.codec import FEED_COLUMNS, feed_entry
from app.store.conn import Conn


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _flags(entry: dict[str, Any]) -> list[str]:
    flags = []
    if entry["type"] == "UnitIssued" and entry["data"].get("emergency"):
        flags.append("emergency_release")
    if entry["type"] == "UnitDiscarded":
        flags.append("discard")
    if (entry.get("actor") or {}).get("role") == "admin":
        flags.append("admin_action")
    return flags


async def audit_events(
    con: Conn,
    actor: str | None = None,
    site: str | None = None,
    type: str | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    limit: int = 100,
    after: int | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Feed entries matching every filter given, oldest first, each with audit ``flags``
    (emergency release, discard, admin action). ``after`` is the last position of the
    previous page; ``from_`` and ``to`` bound ``recorded_at`` (to exclusive); ``user`` is
    the person who recorded the step (``actor.user_id``)."""
    parts: list[str] = []
    args: list[Any] = []

    def add(sql: str, value: Any) -> None:
        args.append(value)
        parts.append(sql.replace("?", f"${len(args)}"))

    for column, value in (("actor_key", actor), ("actor_site", site), ("type", type),
                          ("actor_user", user)):
        if value is not None:
            add(f"{column} = ?", value)
    if from_ is not None:
        add("recorded_at >= ?", from_)
    if to is not None:
        add("recorded_at < ?", to)
    if after is not None:
        args.append(after)
        p = f"${len(args)}"
        parts.append(f"(recorded_at, position) > "
                     f"((SELECT recorded_at FROM events WHERE position = {p}), {p})")
    args.append(limit)
    rows = await con.fetch(
        f"SELECT {FEED_COLUMNS} FROM events WHERE {' AND '.join(parts) or 'TRUE'} "
        f"ORDER BY recorded_at, position LIMIT ${len(args)}", *args)
    entries = [feed_entry(dict(r)) for r in rows]
    for entry in entries:
        entry["flags"] = _flags(entry)
    return {"events": entries,
            "next_after": entries[-1]["position"] if len(entries) == limit else None}


async def custody_gaps(
    con: Conn, older_than_hours: float = 24, now: datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Units shipped but not received for more than ``older_than_hours``, oldest first."""
    now = _now(now)
    rows = await con.fetch(
        "SELECT unit_id, din, category, abo, rhd, in_transit_from AS from_site_id, "
        "in_transit_to AS to_site_id, shipment_id, shipped_at FROM rm_units "
        "WHERE in_transit_to IS NOT NULL AND shipped_at <= $1 ORDER BY shipped_at, unit_id "
        "LIMIT $2", now - timedelta(hours=older_than_hours), limit)
    return [dict(r) | {"hours_in_transit": round((now - r["shipped_at"]).total_seconds() / 3600,
                                                 1)} for r in rows]


async def unfated_past_expiry(
    con: Conn, now: datetime | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Units past their expiry that have no final fate (and were not consumed into others):
    every one must still be transfused, discarded or fractionated, or be explained."""
    rows = await con.fetch(
        "SELECT unit_id, din, category, abo, rhd, status, custodian_site_id, in_transit_to, "
        "expires_at FROM rm_units WHERE fate IS NULL AND NOT consumed AND expires_at < $1 "
        "ORDER BY expires_at, unit_id LIMIT $2", _now(now), limit)
    return [dict(r) for r in rows]


async def discards(
    con: Conn,
    from_: datetime | None = None,
    to: datetime | None = None,
    site: str | None = None,
    actor: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Discards in ``[from_, to)`` (default: the last 30 days) by reason, by site, by actor,
    and by UTC day and reason (the series of the audit page's chart).

    An actor's discard rate is their discards ÷ all the final fates they recorded (transfused,
    discarded, fractionated) in the window: a key that discards far more than its peers is
    what the anti-corruption view is for.
    """
    to = to or _now(now)
    from_ = from_ or to - timedelta(days=30)
    parts = ["occurred_at >= $1", "occurred_at < $2"]
    args: list[Any] = [from_, to]
    for column, value in (("site_id", site), ("actor_key", actor)):
        if value is not None:
            args.append(value)
            parts.append(f"{column} = ${len(args)}")
    fates = " AND ".join(parts)
    if reason is not None:
        args.append(reason)
        only = f"fate = 'discarded' AND reason = ${len(args)}"
    else:
        only = "fate = 'discarded'"
    by_reason = await con.fetch(
        f"SELECT reason, count(*) AS discards FROM rm_fates WHERE {fates} AND {only} "
        "GROUP BY reason ORDER BY 2 DESC, 1", *args)
    by_site = await con.fetch(
        f"SELECT site_id, reason, count(*) AS discards FROM rm_fates WHERE {fates} AND {only} "
        "GROUP BY site_id, reason ORDER BY 1, 3 DESC, 2", *args)
    by_actor = await con.fetch(
        f"SELECT actor_key, actor_role, actor_site_id, count(*) FILTER (WHERE {only}) AS discards,"
        f" count(*) AS fates FROM rm_fates WHERE {fates} GROUP BY 1, 2, 3 "
        f"HAVING count(*) FILTER (WHERE {only}) > 0 ORDER BY 4 DESC, 1", *args)
    by_day = await con.fetch(
        f"SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, reason, count(*) AS discards "
        f"FROM rm_fates WHERE {fates} AND {only} GROUP BY 1, 2 ORDER BY 1, 2", *args)
    return {
        "from": from_, "to": to,
        "by_reason": [dict(r) for r in by_reason],
        "by_day": [dict(r) for r in by_day],
        "by_site": [dict(r) for r in by_site],
        "by_actor": [dict(r) | {"rate": round(r["discards"] / r["fates"], 4)} for r in by_actor],
    }


async def late_entries(
    con: Conn, from_: datetime | None = None, to: datetime | None = None, limit: int = 1000,
) -> list[dict[str, Any]]:
    """Steps recorded more than the late-entry bound after they happened, with the reason
    their envelope gave and how late they were, by recording time ``[from_, to)``."""
    rows = await con.fetch(
        "SELECT position, event_id, type, stream, occurred_at, recorded_at, reason, actor_key, "
        "actor_role, actor_site_id FROM rm_late_entries "
        "WHERE ($1::timestamptz IS NULL OR recorded_at >= $1) "
        "AND ($2::timestamptz IS NULL OR recorded_at < $2) "
        "ORDER BY recorded_at, position LIMIT $3", from_, to, limit)
    return [dict(r) | {"event_id": str(r["event_id"]), "hours_late": round(
        (r["recorded_at"] - r["occurred_at"]).total_seconds() / 3600, 1)} for r in rows]


async def lookbacks_overdue(
    con: Conn, now: datetime | None = None, limit: int = 1000,
) -> list[dict[str, Any]]:
    """Open lookbacks past their deadline, each with the items still open: units no site has
    acknowledged, and transfused units whose recipient is not notified yet."""
    rows = await con.fetch(
        "SELECT lookback_id, donor_id, din, marker, started_at, deadline, site_id, unit_count, "
        "acknowledged_count FROM rm_lookbacks WHERE closed_at IS NULL AND deadline < $1 "
        "ORDER BY deadline, lookback_id LIMIT $2", _now(now), limit)
    if not rows:
        return []
    items = await con.fetch(
        "SELECT lookback_id, unit_id, status, custodian_site_id, patient_id, ack_position, "
        "notified_position FROM rm_lookback_units WHERE lookback_id = ANY($1::text[]) "
        "AND (ack_position IS NULL OR (status = 'transfused' AND patient_id IS NOT NULL "
        "AND notified_position IS NULL)) ORDER BY lookback_id, unit_id",
        [r["lookback_id"] for r in rows])
    open_items: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        waiting = [w for w, missing in (
            ("acknowledgement", item["ack_position"] is None),
            ("recipient_notification", item["status"] == "transfused"
             and item["patient_id"] is not None and item["notified_position"] is None),
        ) if missing]
        open_items.setdefault(item["lookback_id"], []).append({
            "unit_id": item["unit_id"], "status": item["status"],
            "custodian_site_id": item["custodian_site_id"], "waiting_for": waiting})
    now_ = _now(now)
    return [dict(r) | {"days_overdue": round((now_ - r["deadline"]).total_seconds() / 86400, 1),
                       "open_items": open_items.get(r["lookback_id"], [])} for r in rows]
