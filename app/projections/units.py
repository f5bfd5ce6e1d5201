"""Unit state: one row per unit (status, custody, group, expiry, patient, fate), plus the
donations, test results, lineage edges, final fates and sites it is read with.

Stock is not a table of its own: it is the units with ``in_stock`` (not consumed, not in
transit, no final fate), served by partial indexes on ``rm_units`` in FEFO order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from app.events.messages import StoredEvent
from app.projections.base import Load, WorkingSet, unit_ids_in, when
from app.projections.tables import DONATIONS, FATES, LINEAGE, SITES, TESTS, UNITS, Row, TableSpec
from app.projections.unit_changes import FINAL_FATES, UNIT_CHANGES

STOCK_STATUSES = ("unreleased", "quarantined", "released", "reserved", "issued")


def derive_status(row: Row) -> None:
    """Set ``status`` and ``in_stock`` from the unit's flags; one place decides both."""
    if row["fate"] is not None:
        status = row["fate"]
    elif row["consumed"]:
        status = "consumed"
    elif row["in_transit_to"] is not None:
        status = "in_transit"
    elif row["issued_patient_id"] is not None:
        status = "issued"
    elif row["reserved_patient_id"] is not None:
        status = "reserved"
    elif row["quarantined"]:
        status = "quarantined"
    elif row["released"]:
        status = "released"
    else:
        status = "unreleased"
    row["status"] = status
    row["in_stock"] = status in STOCK_STATUSES


def new_unit(event: StoredEvent, unit_id: str, din: str, **fields: Any) -> Row:
    """A fresh unit row: unreleased, not quarantined, at no site until ``fields`` say so."""
    row = UNITS.blank()
    row.update(
        unit_id=unit_id, din=din, released=False, quarantined=False, consumed=False,
        emergency=False, excursions=0, adverse_reactions=0,
        created_position=event.position, collected_at=event.occurred_at,
    )
    row.update(fields)
    return row


class UnitsProjection:
    """Unit state, donations, tests, lineage, final fates and the site register."""

    name = "units"
    tables: tuple[TableSpec, ...] = (UNITS, DONATIONS, TESTS, LINEAGE, FATES, SITES)

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        unit_ids: set[str] = set()
        dins: set[str] = set()
        for e in events:
            unit_ids.update(unit_ids_in(e))
            if e.type == "TestResultRecorded" and isinstance(e.data.get("din"), str):
                dins.add(e.data["din"])
        # Two loads rather than one OR, and a join on unnest rather than ``= ANY``: the planner
        # then probes the index for each key instead of scanning a small, churning table.
        loads = []
        if unit_ids:
            loads.append(Load(UNITS, "unit_id IN (SELECT unnest($1::text[]))",
                              (sorted(unit_ids),)))
        if dins:
            loads.append(Load(UNITS, "din IN (SELECT unnest($1::text[]))", (sorted(dins),)))
        return loads

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(ws, event)
            return
        unit_id = event.data.get("unit_id")
        change = UNIT_CHANGES.get(event.type)
        if change is None or not isinstance(unit_id, str):
            return
        row = ws.get(UNITS, unit_id)
        if row is None:  # an event about a unit this model never saw: nothing to fold into
            return
        row = dict(row)
        change(row, event)
        _touch(row, event)
        ws.put(UNITS, row)
        if event.type in FINAL_FATES:
            _record_fate(ws, row, event)


def _touch(row: Row, event: StoredEvent) -> None:
    derive_status(row)
    row["last_position"] = event.position
    row["updated_at"] = event.occurred_at


def _collected(ws: WorkingSet, e: StoredEvent) -> None:
    d = e.data
    din = d["din"]
    unit_id = d.get("unit_id") or f"{din}-{d['product_code']}"
    row = new_unit(
        e, unit_id, din, product_code=d["product_code"], category=d.get("category"),
        collection_type=d.get("collection_type"), donor_id=d.get("donor_id"),
        volume_ml=d.get("volume_ml"), custodian_site_id=d.get("site_id"),
        collected_site_id=d.get("site_id"), expires_at=when(d.get("expires_at")),
    )
    _touch(row, e)
    ws.put(UNITS, row)
    donation = DONATIONS.blank()
    donation.update(
        din=din, kind="collection", donor_id=d.get("donor_id"), site_id=d.get("site_id"),
        collection_type=d.get("collection_type"), product_code=d["product_code"],
        category=d.get("category"), volume_ml=d.get("volume_ml"), collected_at=e.occurred_at,
        position=e.position,
    )
    ws.put(DONATIONS, donation)


def _consume(ws: WorkingSet, parent: Row, e: StoredEvent) -> None:
    parent = dict(parent)
    parent["consumed"] = True
    _touch(parent, e)
    ws.put(UNITS, parent)


def _link(ws: WorkingSet, parent_id: str, child_id: str, kind: str, e: StoredEvent) -> None:
    ws.put(LINEAGE, {"parent_unit_id": parent_id, "child_unit_id": child_id, "kind": kind,
                     "position": e.position})


def _split(ws: WorkingSet, e: StoredEvent) -> None:
    d = e.data
    parent = ws.get(UNITS, d["unit_id"])
    if parent is None:
        return
    din = d.get("din") or parent["din"]
    for comp in d.get("components", []):
        child_id = comp.get("unit_id") or f"{din}-{comp['product_code']}"
        child = new_unit(
            e, child_id, din, product_code=comp["product_code"], category=comp.get("category"),
            volume_ml=comp.get("volume_ml"), expires_at=when(comp.get("expires_at")),
            **{k: parent[k] for k in (
                "collection_type", "donor_id", "abo", "rhd", "released", "quarantined",
                "quarantine_reason", "custodian_site_id", "location", "collected_site_id",
            )},
        )
        child["collected_at"] = parent["collected_at"]
        _touch(child, e)
        ws.put(UNITS, child)
        _link(ws, parent["unit_id"], child_id, "split", e)
    _consume(ws, parent, e)


def _pooled(ws: WorkingSet, e: StoredEvent) -> None:
    d = e.data
    parents = [p for p in (ws.get(UNITS, pid) for pid in d.get("parent_unit_ids", [])) if p]
    din = d["din"]
    unit_id = d.get("unit_id") or f"{din}-{d['product_code']}"
    groups = {(p["abo"], p["rhd"]) for p in parents}
    abo, rhd = groups.pop() if len(groups) == 1 else (None, None)
    site = e.actor.site_id or (parents[0]["custodian_site_id"] if parents else None)
    row = new_unit(
        e, unit_id, din, product_code=d["product_code"], category=d.get("category"),
        volume_ml=d.get("volume_ml"), expires_at=when(d.get("expires_at")), abo=abo, rhd=rhd,
        custodian_site_id=site, collected_site_id=site,
        quarantined=any(p["quarantined"] for p in parents),
    )
    _touch(row, e)
    ws.put(UNITS, row)
    donation = DONATIONS.blank()
    donation.update(din=din, kind="pool", site_id=site, product_code=d["product_code"],
                    category=d.get("category"), volume_ml=d.get("volume_ml"),
                    collected_at=e.occurred_at, position=e.position)
    ws.put(DONATIONS, donation)
    for parent in parents:
        _link(ws, parent["unit_id"], unit_id, "pool", e)
        _consume(ws, parent, e)


def _apply_group(row: Row, marker: str, result: str) -> None:
    if marker == "ABO":
        row["abo"] = result
    elif marker == "RHD":
        row["rhd"] = result


def _tested(ws: WorkingSet, e: StoredEvent) -> None:
    d = e.data
    din, marker, result = d["din"], str(d["marker"]).upper(), d["result"]
    ws.put(TESTS, {"din": din, "marker": marker, "result": result,
                   "lab_site_id": d.get("lab_site_id"), "tested_at": e.occurred_at,
                   "position": e.position})
    if marker not in ("ABO", "RHD"):
        return
    for unit in ws.find(UNITS, "din", din):
        unit = dict(unit)
        _apply_group(unit, marker, result)
        _touch(unit, e)
        ws.put(UNITS, unit)


def _site(ws: WorkingSet, e: StoredEvent) -> None:
    d = e.data
    ws.put(SITES, {"site_id": d["site_id"], "name": d.get("name"), "kind": d.get("kind"),
                   "region": d.get("region"), "position": e.position})


def _record_fate(ws: WorkingSet, row: Row, e: StoredEvent) -> None:
    ws.put(FATES, {
        "position": e.position, "unit_id": row["unit_id"], "fate": row["fate"],
        "reason": row["fate_reason"], "site_id": row["custodian_site_id"],
        "category": row["category"], "abo": row["abo"], "rhd": row["rhd"],
        "actor_key": e.actor.key_id, "actor_role": e.actor.role,
        "actor_site_id": e.actor.site_id, "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
    })


_HANDLERS: dict[str, Callable[[WorkingSet, StoredEvent], None]] = {
    "DonationCollected": _collected,
    "UnitSplit": _split,
    "UnitsPooled": _pooled,
    "TestResultRecorded": _tested,
    "SiteRegistered": _site,
}
