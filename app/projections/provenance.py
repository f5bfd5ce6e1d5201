"""Provenance: each unit's custody chain and each patient's units.

The custody chain is a list of segments per unit, keyed by the position of the event that
opened it: a stay at a site (``kind='site'``) or a journey (``kind='transit'``, ``site_id`` being
the destination). A segment closes when the unit leaves, is consumed or meets its final fate;
dwell time is ``to_at - from_at``. Only this model's own tables are read, so it can be rebuilt
on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.events.messages import StoredEvent
from app.projections.base import Load, WorkingSet, unit_ids_in
from app.projections.tables import CUSTODY, PATIENT_UNITS, Row, TableSpec

_CLOSING = {
    "UnitTransfused": "transfused",
    "UnitDiscarded": "discarded",
    "UnitShippedForFractionation": "fractionated",
}
_PATIENT_ACTIONS = {
    "UnitReserved": "reserved",
    "ReservationReleased": "reservation_released",
    "UnitIssued": "issued",
    "UnitReturned": "returned",
    "UnitTransfused": "transfused",
    "AdverseReactionReported": "adverse_reaction",
}
_NEEDS_PATIENT = {"ReservationReleased", "UnitReturned", "UnitTransfused",
                  "AdverseReactionReported"}


def _din_of(unit_id: str) -> str:
    return unit_id.split("-", 1)[0]


class ProvenanceProjection:
    """Custody chains (with dwell and transit times) and patient → units."""

    name = "provenance"
    tables: tuple[TableSpec, ...] = (CUSTODY, PATIENT_UNITS)

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        units = sorted({u for e in events for u in unit_ids_in(e)})
        patients = sorted({str(e.data["unit_id"]) for e in events
                           if e.type in _NEEDS_PATIENT and "unit_id" in e.data})
        loads = []
        if units:
            loads.append(Load(CUSTODY, "unit_id IN (SELECT unnest($1::text[])) "
                                       "AND to_position IS NULL", (units,)))
        if patients:
            loads.append(Load(PATIENT_UNITS, "unit_id IN (SELECT unnest($1::text[]))",
                              (patients,)))
        return loads

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        d = event.data
        t = event.type
        if t == "DonationCollected":
            unit_id = d.get("unit_id") or f"{d['din']}-{d['product_code']}"
            _open(ws, unit_id, event, kind="site", site_id=d.get("site_id"))
        elif t == "UnitSplit":
            parent = _close(ws, d["unit_id"], event, "split")
            site = parent["site_id"] if parent else event.actor.site_id
            din = d.get("din") or _din_of(d["unit_id"])
            for comp in d.get("components", []):
                child = comp.get("unit_id") or f"{din}-{comp['product_code']}"
                _open(ws, child, event, kind="site", site_id=site)
        elif t == "UnitsPooled":
            closed = [_close(ws, p, event, "pooled") for p in d.get("parent_unit_ids", [])]
            sites = [c["site_id"] for c in closed if c]
            site = event.actor.site_id or (sites[0] if sites else None)
            unit_id = d.get("unit_id") or f"{d['din']}-{d['product_code']}"
            _open(ws, unit_id, event, kind="site", site_id=site)
        elif t == "UnitShipped":
            left = _close(ws, d["unit_id"], event, "shipped")
            _open(ws, d["unit_id"], event, kind="transit", site_id=d.get("to_site_id"),
                  from_site_id=d.get("from_site_id") or (left["site_id"] if left else None),
                  shipment_id=d.get("shipment_id"))
        elif t == "UnitReceived":
            accepted = bool(d.get("accepted", True))
            _close(ws, d["unit_id"], event, "received", accepted=accepted)
            _open(ws, d["unit_id"], event, kind="site", site_id=d.get("site_id"),
                  shipment_id=d.get("shipment_id"), accepted=accepted)
        elif t in _CLOSING:
            _close(ws, d["unit_id"], event, _CLOSING[t])
        if t in _PATIENT_ACTIONS and isinstance(d.get("unit_id"), str):
            _patient_action(ws, event, _PATIENT_ACTIONS[t])


def _open(ws: WorkingSet, unit_id: str, e: StoredEvent, **fields: Any) -> None:
    row = CUSTODY.blank()
    row.update(unit_id=unit_id, from_position=e.position, from_at=e.occurred_at)
    row.update(fields)
    ws.put(CUSTODY, row)


def _close(ws: WorkingSet, unit_id: str, e: StoredEvent, reason: str,
           accepted: bool | None = None) -> Row | None:
    """Close the unit's open segment (if any) and return it as it was."""
    for seg in ws.find(CUSTODY, "unit_id", unit_id):
        if seg["to_position"] is None:
            closed = dict(seg)
            closed.update(to_at=e.occurred_at, to_position=e.position, end_reason=reason)
            if accepted is not None:
                closed["accepted"] = accepted
            ws.put(CUSTODY, closed)
            return seg
    return None


def _patient_action(ws: WorkingSet, e: StoredEvent, action: str) -> None:
    d = e.data
    unit_id = d["unit_id"]
    patient = d.get("patient_id")
    if patient is None:  # the patient the unit was last reserved for or issued to
        earlier = [r for r in ws.find(PATIENT_UNITS, "unit_id", unit_id)
                   if r["action"] in ("reserved", "issued")]
        if not earlier:
            return
        patient = max(earlier, key=lambda r: r["position"])["patient_id"]
    detail = d.get("reason") or d.get("ward") or d.get("reaction_type") or d.get("crossmatch")
    ws.put(PATIENT_UNITS, {
        "patient_id": patient, "position": e.position, "unit_id": unit_id, "action": action,
        "site_id": e.actor.site_id, "occurred_at": e.occurred_at,
        "emergency": bool(d.get("emergency", False)),
        "detail": None if detail is None else str(detail),
    })
