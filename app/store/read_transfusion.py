"""Transfusion-safety reads: the haemovigilance report (reactions by type, severity and
imputability, with the units transfused for rates), emergency issues whose follow-up
crossmatch is missing, late or incompatible, the overrides (RhD-positive platelets given with
anti-D or an override reason, and transfusions completed late), and the reactions as FHIR
``AdverseEvent`` reads them.

``site`` limits every view to the rows its site recorded (a site key's scope); None is the
whole country. Patient ids are returned as stored: the edge redacts them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app.store.conn import Conn

_WINDOW = ("($1::timestamptz IS NULL OR occurred_at >= $1) "
           "AND ($2::timestamptz IS NULL OR occurred_at < $2) "
           "AND ($3::text IS NULL OR site_id = $3)")


async def haemovigilance(
    con: Conn, from_: datetime | None, to: datetime | None, site: str | None,
    serious_severities: tuple[str, ...],
) -> dict[str, Any]:
    """Reactions and transfusions by the time they happened in ``[from_, to)``: the counts
    of every (reaction type, severity, imputability), sorted, and those of the serious
    severities alone."""
    rows = await con.fetch(
        "SELECT reaction_type, severity, imputability, count(*) AS count FROM rm_reactions "
        f"WHERE {_WINDOW} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", from_, to, site)
    transfused: int = await con.fetchval(
        f"SELECT count(*) FROM rm_transfusions WHERE {_WINDOW}", from_, to, site)
    counts = [dict(r) for r in rows]
    return {
        "from": from_, "to": to, "units_transfused": transfused,
        "reactions_reported": sum(c["count"] for c in counts),
        "counts": counts,
        "serious": [c for c in counts if c["severity"] in serious_severities],
    }


async def emergency_issues(
    con: Conn, within_hours: float, site: str | None, now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Emergency (uncrossmatched) issues with no crossmatch recorded within ``within_hours``
    of the issue (``overdue``), and those whose follow-up crossmatch was incompatible, oldest
    first. A unit returned unused is not listed: no crossmatch can follow it."""
    now = now if now is not None else datetime.now(UTC)
    window = timedelta(hours=within_hours)
    rows = await con.fetch(
        "SELECT unit_id, site_id, patient_id, issued_at, crossmatch, crossmatched_at "
        "FROM rm_emergency_issues WHERE returned_at IS NULL "
        "AND ($3::text IS NULL OR site_id = $3) AND ("
        "(crossmatch IS NULL AND issued_at <= $1) OR crossmatched_at > issued_at + $2 "
        "OR crossmatch = 'incompatible') ORDER BY issued_at, unit_id, position",
        now - window, window, site)
    return [dict(r) | {"overdue": r["crossmatched_at"] is None
                       or r["crossmatched_at"] > r["issued_at"] + window} for r in rows]


async def overrides(con: Conn, site: str | None) -> list[dict[str, Any]]:
    """RhD-positive platelets issued with anti-D prophylaxis or an override reason, and
    transfusions completed late with their reason, by time."""
    rows = await con.fetch(
        "SELECT 'rhd_platelets' AS kind, o.unit_id, o.site_id, o.patient_id, o.issued_at AS at,"
        " o.override_reason AS reason, o.anti_d_prophylaxis FROM rm_override_issues o "
        "JOIN rm_units u ON u.unit_id = o.unit_id "
        "WHERE u.category = 'platelets' AND u.rhd = 'POS' AND ($1::text IS NULL OR o.site_id = $1)"
        " UNION ALL "
        "SELECT 'late_completion', unit_id, site_id, patient_id, occurred_at, "
        "late_completion_reason, false FROM rm_transfusions "
        "WHERE late_completion_reason IS NOT NULL AND ($1::text IS NULL OR site_id = $1) "
        "ORDER BY at, unit_id, kind", site)
    return [dict(r) for r in rows]


_REACTION = ("SELECT r.position, r.event_id, r.unit_id, r.site_id, r.patient_id, "
             "r.reaction_type, r.reported_type, r.severity, r.imputability, r.occurred_at, "
             "r.recorded_at, u.category, u.din FROM rm_reactions r "
             "LEFT JOIN rm_units u ON u.unit_id = r.unit_id")


async def reaction(con: Conn, event_id: UUID) -> dict[str, Any] | None:
    """One reported reaction by the id of its event."""
    row = await con.fetchrow(f"{_REACTION} WHERE r.event_id = $1", event_id)
    return None if row is None else dict(row)


async def reactions_of_unit(con: Conn, unit_id: str) -> list[dict[str, Any]]:
    """Every reaction reported on a unit, in log order."""
    rows = await con.fetch(f"{_REACTION} WHERE r.unit_id = $1 ORDER BY r.position", unit_id)
    return [dict(r) for r in rows]
