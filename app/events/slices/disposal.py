"""Discard and fractionation: the other two final fates.

Discarded and fractionated are final, like transfused: nothing but annotations may follow.
"""

from __future__ import annotations

from app.errors import DiscardReasonMismatch, FractionationPlasmaOnly
from app.events.decision import Decision, require_unallocated, unit_refs
from app.events.event_type import EventType, on_unit, roles
from app.events.fields import Ident, UnitId
from app.events.messages import Event
from app.events.payload import DiscardReason, EventData
from app.events.slices.holds import UNIT_CARE
from app.events.slices.issue import usable
from app.events.state import updated
from app.events.unit import UnitState

FRACTIONATOR = ("fractionator",)


class UnitDiscarded(EventData):
    """Final fate: discarded, with a reason code."""

    unit_id: UnitId
    reason: DiscardReason


class UnitShippedForFractionation(EventData):
    """Final fate: released plasma leaves for a plasma fractionator."""

    unit_id: UnitId
    fractionator_site_id: Ident


def unit_discarded(d: Decision, data: UnitDiscarded) -> None:
    """Final fate, with a reason that fits (expired only once expired, returned_late only
    while issued)."""
    unit = d.workable(data.unit_id)
    if data.reason == "expired" and not unit.expired_at(d.at):
        raise DiscardReasonMismatch(f"unit {unit.unit_id} is not expired", field="data.reason")
    if data.reason == "returned_late" and unit.issued_patient_id is None:
        raise DiscardReasonMismatch(f"unit {unit.unit_id} is not issued", field="data.reason")
    d.emit(data, unit.unit_id, unit_refs(unit.unit_id))


def shipped_for_fractionation(d: Decision, data: UnitShippedForFractionation) -> None:
    """Released plasma, not quarantined, to a registered fractionator."""
    unit = d.workable(data.unit_id)
    if unit.category != "plasma":
        raise FractionationPlasmaOnly(f"unit {unit.unit_id} is {unit.category}",
                                      field="data.unit_id")
    require_unallocated(unit)
    usable(d, unit)
    d.site(data.fractionator_site_id, "data.fractionator_site_id", FRACTIONATOR)
    d.emit(data, unit.unit_id, unit_refs(unit.unit_id) | {("site", data.fractionator_site_id)})


def _discarded(u: UnitState, e: Event, data: UnitDiscarded) -> UnitState:
    return updated(u, {
        "fate": "discarded", "fate_at": e.occurred_at, "fate_reason": data.reason})


def _fractionated(u: UnitState, e: Event, data: UnitShippedForFractionation) -> UnitState:
    # The fractionator takes the plasma out of the blood system: it becomes the last holder.
    return updated(u, {
        "fate": "fractionated", "fate_at": e.occurred_at,
        "custodian_site_id": data.fractionator_site_id, "location": None,
    })


TYPES = (
    EventType(UnitDiscarded, on_unit(_discarded), unit_discarded, UNIT_CARE | {"collector"},
              example={"unit_id": "A999926123456-E0398V00", "reason": "expired"}),
    EventType(UnitShippedForFractionation, on_unit(_fractionated), shipped_for_fractionation,
              roles("processing", "inventory"),
              example={"unit_id": "A999926123456-E2555V00", "fractionator_site_id": "FR-01"}),
)
