"""Reads of the read models for the API: units, donations, provenance, patients, lookbacks.

Every query is a primary-key or index look-up on the read-model tables (or on ``event_refs``
and the log's primary key); none scans the log. Results are plain dicts. Stock, audit and
transfusion-safety reads live in ``read_stock``, ``read_audit`` and ``read_transfusion`` and
are re-exported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import orjson

from app.log.encoding import b64
from app.projections.tables import UNIT_STATE
from app.store.conn import Conn
from app.store.read_audit import (
    audit_events,
    custody_gaps,
    discards,
    late_entries,
    lookbacks_overdue,
    unfated_past_expiry,
)
from app.store.read_stock import inventory_index, near_expiry, stock
from app.store.read_transfusion import (
    emergency_issues,
    haemovigilance,
    overrides,
    reaction,
    reactions_of_unit,
)

__all__ = [
    "audit_events", "custody_gaps", "discards", "donation", "donor_trace", "emergency_issues",
    "haemovigilance", "inventory_index", "late_entries", "lookback", "lookbacks_overdue",
    "near_expiry", "open_lookback_ids", "overrides", "patient_units", "provenance",
    "reaction", "reactions_of_unit", "stock", "unfated_past_expiry", "unit_state",
]

_ANCESTORS = """
WITH RECURSIVE up(unit_id) AS (
    SELECT parent_unit_id FROM rm_lineage WHERE child_unit_id = $1
    UNION
    SELECT l.parent_unit_id FROM rm_lineage l JOIN up ON l.child_unit_id = up.unit_id
) SELECT unit_id FROM up
"""
_EDGES_UP = """
WITH RECURSIVE up(parent_unit_id, child_unit_id, kind, position) AS (
    SELECT parent_unit_id, child_unit_id, kind, position FROM rm_lineage WHERE child_unit_id = $1
    UNION
    SELECT l.parent_unit_id, l.child_unit_id, l.kind, l.position
      FROM rm_lineage l JOIN up ON l.child_unit_id = up.parent_unit_id
) SELECT * FROM up
"""
_EDGES_DOWN = """
WITH RECURSIVE down(parent_unit_id, child_unit_id, kind, position) AS (
    SELECT parent_unit_id, child_unit_id, kind, position FROM rm_lineage WHERE parent_unit_id = $1
    UNION
    SELECT l.parent_unit_id, l.child_unit_id, l.kind, l.position
      FROM rm_lineage l JOIN down ON l.parent_unit_id = down.child_unit_id
) SELECT * FROM down
"""
_NODE_COLUMNS = """unit_id, din, product_code, category, donor_id, abo, rhd, status,
    custodian_site_id, fate, fate_reason, fate_at, recipient_patient_id"""


def _dicts(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]


async def unit_state(con: Conn, unit_id: str) -> dict[str, Any] | None:
    """A unit's current state, its donation's test results, its parents and children."""
    row = await con.fetchrow("SELECT * FROM rm_units WHERE unit_id = $1", unit_id)
    if row is None:
        return None
    unit = unit_row(row)
    ancestors = [r["unit_id"] for r in await con.fetch(_ANCESTORS, unit_id)]
    dins = {unit["din"], *(u.split("-", 1)[0] for u in ancestors)}
    unit["tests"] = _dicts(await con.fetch(
        "SELECT din, marker, test_kind, result, sample_id, assay, kit_lot, lab_site_id, "
        "tested_at, position FROM rm_tests WHERE din = ANY($1::text[]) ORDER BY din, position",
        sorted(dins)))
    unit["parents"] = _dicts(await con.fetch(
        "SELECT parent_unit_id AS unit_id, kind, position FROM rm_lineage "
        "WHERE child_unit_id = $1 ORDER BY parent_unit_id", unit_id))
    unit["children"] = _dicts(await con.fetch(
        "SELECT child_unit_id AS unit_id, kind, position FROM rm_lineage "
        "WHERE parent_unit_id = $1 ORDER BY child_unit_id", unit_id))
    return unit


_JSON_STATE = tuple(name for name, pgtype in UNIT_STATE.columns if pgtype == "jsonb")
_OPEN_HOLD = ("hold_id", "cause", "reason", "since", "marker", "din")


def unit_row(row: Any) -> dict[str, Any]:
    """An ``rm_units`` row for a reader: its JSON state columns decoded, ``holds`` the open
    holds (``hold_id, cause, reason, since``, and the marker and donation of a test hold) and
    ``hold_history`` every hold with when and why it was lifted."""
    unit = dict(row)
    for name in _JSON_STATE:
        if isinstance(unit.get(name), str):
            unit[name] = orjson.loads(unit[name])
    history = unit.pop("holds", None) or []
    unit["hold_history"] = history
    unit["holds"] = [{k: h.get(k) for k in _OPEN_HOLD} for h in history
                     if h.get("lifted_at") is None]
    return unit


async def donation(con: Conn, din: str) -> dict[str, Any] | None:
    """A donation (or pool) by bare DIN, with its test results and all its components."""
    row = await con.fetchrow("SELECT * FROM rm_donations WHERE din = $1", din)
    if row is None:
        return None
    result = dict(row)
    result["tests"] = _dicts(await con.fetch(
        "SELECT marker, test_kind, result, sample_id, assay, kit_lot, lab_site_id, tested_at, "
        "position FROM rm_tests WHERE din = $1 ORDER BY position", din))
    result["components"] = _dicts(await con.fetch(
        f"SELECT {_NODE_COLUMNS}, volume_ml, expires_at, consumed, in_stock, in_transit_to "
        "FROM rm_units WHERE din = $1 ORDER BY unit_id", din))
    ids = [c["unit_id"] for c in result["components"]]
    result["pooled_from"] = _dicts(await con.fetch(
        "SELECT parent_unit_id AS unit_id, child_unit_id, position FROM rm_lineage "
        "WHERE child_unit_id = ANY($1::text[]) AND kind = 'pool' ORDER BY parent_unit_id", ids))
    return result


async def provenance(
    con: Conn, unit_id: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """Donor pseudonyms → donations → lineage graph → custody chain (with dwell and transit
    times; open stays measured to ``now``) → recipient or final fate, and the positions and
    hashes of the unit's events (for inclusion proofs)."""
    row = await con.fetchrow(f"SELECT {_NODE_COLUMNS}, expires_at, in_transit_to, holds "
                             "FROM rm_units WHERE unit_id = $1", unit_id)
    if row is None:
        return None
    edges = _dicts(await con.fetch(_EDGES_UP, unit_id)) + _dicts(
        await con.fetch(_EDGES_DOWN, unit_id))
    ancestors = _upward(edges, unit_id)
    node_ids = sorted({unit_id} | {e["parent_unit_id"] for e in edges}
                      | {e["child_unit_id"] for e in edges})
    nodes = _dicts(await con.fetch(
        f"SELECT {_NODE_COLUMNS} FROM rm_units WHERE unit_id = ANY($1::text[]) ORDER BY unit_id",
        node_ids))
    line = sorted(ancestors | {unit_id})
    dins = sorted({u.split("-", 1)[0] for u in line})
    custody = _dicts(await con.fetch(
        "SELECT unit_id, from_position, kind, site_id, from_site_id, shipment_id, from_at, "
        "to_at, to_position, end_reason, accepted FROM rm_custody "
        "WHERE unit_id = ANY($1::text[]) ORDER BY from_at, from_position, unit_id", line))
    for seg in custody:
        end = seg["to_at"] or now
        seg["dwell_seconds"] = None if end is None else int((end - seg["from_at"]).total_seconds())
    events = await con.fetch(
        "SELECT e.position, e.type, e.occurred_at, e.leaf_hash, e.chain_hash, e.actor_key, "
        "e.actor_role, e.actor_site, e.actor_user, a.name AS person_name FROM event_refs r "
        "JOIN events e ON e.position = r.position "
        "LEFT JOIN accounts a ON a.user_id = e.actor_user "
        "WHERE r.kind = 'unit' AND r.ref = $1 ORDER BY r.position", unit_id)
    return {
        "unit": unit_row(row),
        "donors": sorted({n["donor_id"] for n in nodes
                          if n["donor_id"] is not None and n["unit_id"] in line}),
        "donations": _dicts(await con.fetch(
            "SELECT * FROM rm_donations WHERE din = ANY($1::text[]) ORDER BY din", dins)),
        "lineage": {"nodes": nodes, "edges": sorted(
            edges, key=lambda e: (e["position"], e["parent_unit_id"], e["child_unit_id"]))},
        "custody": custody,
        "patients": _dicts(await con.fetch(
            "SELECT patient_id, action, site_id, occurred_at, emergency, detail, position "
            "FROM rm_patient_units WHERE unit_id = $1 ORDER BY position", unit_id)),
        "fate": {"fate": row["fate"], "reason": row["fate_reason"], "at": row["fate_at"],
                 "recipient_patient_id": row["recipient_patient_id"]},
        "events": [{"position": e["position"], "type": e["type"],
                    "occurred_at": e["occurred_at"], "leaf_hash": b64(e["leaf_hash"]),
                    "chain_hash": b64(e["chain_hash"]), "actor": _step_actor(e)}
                   for e in events],
    }


def _step_actor(e: Any) -> dict[str, Any]:
    """Who did a step: the key, role and site, and the person by user id and name (a
    machine's key names no person)."""
    person = None if e["actor_user"] is None else {
        "user_id": e["actor_user"], "name": e["person_name"]}
    return {"key_id": e["actor_key"], "role": e["actor_role"], "site_id": e["actor_site"],
            "person": person}


def _upward(edges: list[dict[str, Any]], unit_id: str) -> set[str]:
    """The ancestors of ``unit_id`` among ``edges``."""
    parents: dict[str, set[str]] = {}
    for e in edges:
        parents.setdefault(e["child_unit_id"], set()).add(e["parent_unit_id"])
    seen: set[str] = set()
    todo = [unit_id]
    while todo:
        for p in parents.get(todo.pop(), ()):
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


async def patient_units(con: Conn, patient_id: str) -> list[dict[str, Any]]:
    """Every unit reserved for, issued to or transfused into a patient, with each action."""
    rows = await con.fetch(
        "SELECT p.unit_id, p.action, p.site_id, p.occurred_at, p.emergency, p.detail, "
        "p.position, u.din, u.category, u.abo, u.rhd, u.status, u.fate "
        "FROM rm_patient_units p LEFT JOIN rm_units u ON u.unit_id = p.unit_id "
        "WHERE p.patient_id = $1 ORDER BY p.position", patient_id)
    units: dict[str, dict[str, Any]] = {}
    for r in rows:
        unit = units.setdefault(r["unit_id"], {
            k: r[k] for k in ("unit_id", "din", "category", "abo", "rhd", "status", "fate")
        } | {"actions": []})
        unit["actions"].append({k: r[k] for k in (
            "action", "site_id", "occurred_at", "emergency", "detail", "position")})
    for unit in units.values():
        unit["received"] = any(a["action"] == "transfused" for a in unit["actions"])
    return list(units.values())


async def lookback(con: Conn, lookback_id: str) -> dict[str, Any] | None:
    """A lookback, the units it found (custodian or recipient) and its open items."""
    row = await con.fetchrow("SELECT * FROM rm_lookbacks WHERE lookback_id = $1", lookback_id)
    if row is None:
        return None
    result = dict(row)
    result["units"] = _dicts(await con.fetch(
        "SELECT unit_id, status, custodian_site_id, patient_id, acknowledged_at, "
        "acknowledged_site_id, ack_position, notified_at, notified_position "
        "FROM rm_lookback_units WHERE lookback_id = $1 ORDER BY unit_id", lookback_id))
    result["open_items"] = [u["unit_id"] for u in result["units"] if u["ack_position"] is None]
    result["recipients_to_notify"] = [
        u["unit_id"] for u in result["units"] if u["status"] == "transfused"
        and u["patient_id"] is not None and u["notified_position"] is None]
    return result


async def open_lookback_ids(con: Conn, limit: int = 100) -> list[str]:
    """The lookbacks still open, the nearest deadline first (the lookbacks worklist reads
    each with ``lookback``)."""
    rows = await con.fetch(
        "SELECT lookback_id FROM rm_lookbacks WHERE closed_at IS NULL "
        "ORDER BY deadline NULLS LAST, lookback_id LIMIT $1", limit)
    return [str(r["lookback_id"]) for r in rows]


_TRACE = """
WITH RECURSIVE tree(unit_id) AS (
    SELECT u.unit_id FROM rm_units u
     WHERE u.din IN (SELECT d.din FROM rm_donations d WHERE {where})
    UNION
    SELECT l.child_unit_id FROM rm_lineage l JOIN tree ON l.parent_unit_id = tree.unit_id
)
SELECT u.unit_id, u.din, u.category, u.status, u.custodian_site_id, u.in_transit_to,
       u.fate, u.recipient_patient_id, u.issued_patient_id, u.reserved_patient_id
  FROM tree JOIN rm_units u USING (unit_id) ORDER BY u.unit_id
"""


async def donor_trace(
    con: Conn, donor_id: str | None = None, din: str | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every unit derived from a donor's donations (collected at or after ``since``) or from
    one DIN, through splits and pools, with its custodian or recipient: what a lookback
    must reach."""
    if (donor_id is None) == (din is None):
        raise ValueError("give exactly one of donor_id and din")
    where = "d.donor_id = $1" if donor_id is not None else "d.din = $1"
    args: list[Any] = [donor_id if donor_id is not None else din]
    if since is not None:
        where += " AND d.collected_at >= $2"
        args.append(since)
    return _dicts(await con.fetch(_TRACE.format(where=where), *args))
