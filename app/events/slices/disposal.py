"""Discard and fractionation: the other two final fates.

Discarded and fractionated are final, like transfused: nothing but annotations may follow.
"""

from __future__ import annotations

from app.errors import DiscardReasonMismatch, FractionationPlasmaOnly
from app.events.decision import Decision, require_unallocated, unit_refs
from app.events.event_type import EventType, on_unit, roles
from app.events.fields import Ident, Text, UnitId
from app.events.messages import Event
from app.events.payload import DiscardReason, EventData
from app.events.results import BLOCKING, marker_status
from app.events.slices.holds import UNIT_CARE
from app.events.slices.issue import usable
from app.events.state import get_donation, updated
from app.events.unit import UnitState

FRACTIONATOR = ("fractionator",)


class UnitDiscarded(EventData):
    """Final fate: discarded, with a reason code the unit's history must bear out (RULES
    §6); ``damaged`` and ``other`` need a ``note``."""

    unit_id: UnitId
    reason: DiscardReason
    note: Text | None = None


class UnitShippedForFractionation(EventData):
    """Final fate: released plasma leaves for a plasma fractionator."""

    unit_id: UnitId
    fractionator_site_id: Ident


RECALL_CAUSES = frozenset({"lookback", "recall", "adverse_reaction", "post_donation_information"})


def unit_discarded(d: Decision, data: UnitDiscarded) -> None:
    """Final fate, with a reason the unit's history bears out."""
    unit = d.workable(data.unit_id, returned_late_ok=True)
    why = _unsupported(d, unit, data)
    if why is not None:
        raise DiscardReasonMismatch(f"unit {unit.unit_id}: {why}", field="data.reason")
    d.emit(data, unit.unit_id, unit_refs(unit.unit_id))


def _unsupported(d: Decision, unit: UnitState, data: UnitDiscarded) -> str | None:
    """Why the reason does not fit the unit, or None when it does."""
    reason = data.reason
    if reason == "expired":
        return None if unit.expired_at(d.at) else "it is not expired"
    if reason == "returned_late":
        return None if unit.returned_late or unit.issued_patient_id is not None else (
            "it was not returned late nor is it issued")
    if reason == "reactive_test":
        blocked = any(
            marker_status(donation.results, r.marker, d.catalogue.repeats_to_resolve)
            in BLOCKING for din in {*unit.source_dins, unit.din}
            if (donation := get_donation(d.world, din)) is not None
            for r in donation.results if r.marker in d.catalogue.infectious)
        return None if blocked else "no infectious marker of its donations is reactive"
    if reason == "temperature":
        excursion = unit.excursions > 0 or unit.returned_late or any(
            h.cause in ("temperature", "receipt") for h in unit.holds)
        return None if excursion else "it has no excursion and no out-of-range arrival"
    if reason == "recalled":
        recalled = any(h.open and h.cause in RECALL_CAUSES for h in unit.holds)
        return None if recalled else "it has no open lookback, recall, reaction or " \
            "post-donation hold"
    return "say what happened in a note" if data.note is None else None


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
