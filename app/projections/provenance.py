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
from app.events.payload import EventData, unit_id_of
from app.events.slices.collection import DonationCollected
from app.events.slices.custody import UnitReceived, UnitShipped
from app.events.slices.disposal import UnitDiscarded, UnitShippedForFractionation
from app.events.slices.issue import ReservationReleased, UnitIssued, UnitReserved, UnitReturned
from app.events.slices.processing import UnitModified, UnitSplit, UnitsPooled
from app.events.slices.transfusion import AdverseReactionReported, UnitTransfused
from app.projections.base import Load, Subscription, WorkingSet, load, types_of, unit_ids_in
from app.projections.tables import CUSTODY, PATIENT_UNITS, Row, TableSpec

_CLOSING: dict[type[EventData], str] = {
    UnitTransfused: "transfused",
    UnitDiscarded: "discarded",
    UnitShippedForFractionation: "fractionated",
}
_PATIENT_ACTIONS: dict[type[EventData], str] = {
    UnitReserved: "reserved",
    ReservationReleased: "reservation_released",
    UnitIssued: "issued",
    UnitReturned: "returned",
    UnitTransfused: "transfused",
    AdverseReactionReported: "adverse_reaction",
}
_NEEDS_PATIENT = (ReservationReleased, UnitReturned)
"""Patient actions whose data does not name the patient: it is the one the unit was last
reserved for or issued to."""


class ProvenanceProjection:
    """Custody chains (with dwell and transit times) and patient → units."""

    name = "provenance"
    tables: tuple[TableSpec, ...] = (CUSTODY, PATIENT_UNITS)
    subscription = Subscription(types_of(
        DonationCollected, UnitSplit, UnitModified, UnitsPooled, UnitShipped, UnitReceived,
        *_CLOSING, *_PATIENT_ACTIONS))

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        units = {u for e in events for u in unit_ids_in(e)}
        patients = {str(unit_id_of(e.data)) for e in events
                    if isinstance(e.data, _NEEDS_PATIENT)}
        return (load(CUSTODY, "unit_id", units, open_column="to_position")
                + load(PATIENT_UNITS, "unit_id", patients))

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        d = event.data
        if type(d) is DonationCollected:
            _open(ws, str(d.unit_id), event, kind="site", site_id=d.site_id)
        elif type(d) is UnitSplit:
            parent = _close(ws, d.unit_id, event, "split")
            site = parent["site_id"] if parent else event.actor.site_id
            for comp in d.components:
                _open(ws, str(comp.unit_id), event, kind="site", site_id=site)
        elif type(d) is UnitModified:
            parent = _close(ws, d.unit_id, event, d.modification)
            site = parent["site_id"] if parent else event.actor.site_id
            _open(ws, str(d.new_unit_id), event, kind="site", site_id=site)
        elif type(d) is UnitsPooled:
            closed = [_close(ws, p, event, "pooled") for p in d.parent_unit_ids]
            sites = [c["site_id"] for c in closed if c]
            site = event.actor.site_id or (sites[0] if sites else None)
            _open(ws, str(d.unit_id), event, kind="site", site_id=site)
        elif type(d) is UnitShipped:
            _close(ws, d.unit_id, event, "shipped")
            _open(ws, d.unit_id, event, kind="transit", site_id=d.to_site_id,
                  from_site_id=d.from_site_id, shipment_id=d.shipment_id)
        elif type(d) is UnitReceived:
            _close(ws, d.unit_id, event, "received", accepted=d.accepted)
            _open(ws, d.unit_id, event, kind="site", site_id=d.site_id,
                  shipment_id=d.shipment_id, accepted=d.accepted)
        elif type(d) in _CLOSING:
            _close(ws, str(unit_id_of(d)), event, _CLOSING[type(d)])
        action = _PATIENT_ACTIONS.get(type(d))
        if action is not None:
            _patient_action(ws, event, action)


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


def _detail(d: EventData) -> str | None:
    for name in ("reason", "ward", "reaction_type", "crossmatch"):
        value = d.__dict__.get(name)
        if value is not None:
            return str(value)
    return None


def _patient_action(ws: WorkingSet, e: StoredEvent, action: str) -> None:
    d = e.data
    unit_id = str(unit_id_of(d))
    patient = d.__dict__.get("patient_id")
    if patient is None:  # the patient the unit was last reserved for or issued to
        earlier = [r for r in ws.find(PATIENT_UNITS, "unit_id", unit_id)
                   if r["action"] in ("reserved", "issued")]
        if not earlier:
            return
        patient = max(earlier, key=lambda r: r["position"])["patient_id"]
    ws.put(PATIENT_UNITS, {
        "patient_id": patient, "position": e.position, "unit_id": unit_id, "action": action,
        "site_id": e.actor.site_id, "occurred_at": e.occurred_at,
        "emergency": bool(d.__dict__.get("emergency", False)), "detail": _detail(d),
    })

