"""Holds: quarantining a unit and lifting the quarantine.

A quarantine is asked for by the unit's custodian, or derived by the domain (with
``cause_event_id``) from a reactive result, a lookback, a temperature excursion or a refused
receipt. Lifting it needs a reason and is refused while a source donation is reactive.
"""

from __future__ import annotations

from app.errors import ReactiveMarker, UnitNotQuarantined, UnitQuarantinedError
from app.events.decision import Decision, unit_refs
from app.events.event_type import EventType, on_unit, roles
from app.events.fields import Text, UnitId
from app.events.messages import Event
from app.events.payload import DerivedData, EventData
from app.events.state import get_donation
from app.events.unit import UnitState

UNIT_CARE = roles("processing", "inventory", "hospital")
"""The roles of every site that holds units and looks after them."""


class UnitQuarantined(DerivedData):
    """The unit is held: not released, reserved, issued or transfused until lifted.

    Also derived by the domain (with ``cause_event_id``) from a reactive result, a lookback,
    a temperature excursion or a refused receipt."""

    unit_id: UnitId
    reason: Text


class QuarantineLifted(EventData):
    """The hold ends, with a reason; refused while a source donation is reactive."""

    unit_id: UnitId
    reason: Text


def quarantine_all(d: Decision, units: list[UnitState], reason: str) -> None:
    """Derived quarantines for every live unit not quarantined yet."""
    for unit in units:
        if unit.live and not unit.quarantined:
            d.emit(UnitQuarantined(unit_id=unit.unit_id, reason=reason), unit.unit_id,
                   unit_refs(unit.unit_id))


def unit_quarantined(d: Decision, data: UnitQuarantined) -> None:
    """Quarantine a live unit, with a reason; not twice."""
    unit = d.workable(data.unit_id)
    if unit.quarantined:
        raise UnitQuarantinedError(
            f"unit {unit.unit_id} is already quarantined: {unit.quarantine_reason}",
            field="data.unit_id",
        )
    d.emit(data, unit.unit_id, unit_refs(unit.unit_id))


def quarantine_lifted(d: Decision, data: QuarantineLifted) -> None:
    """Lifting needs a reason and is refused while a source donation is reactive."""
    unit = d.workable(data.unit_id)
    if not unit.quarantined:
        raise UnitNotQuarantined(f"unit {unit.unit_id} is not quarantined", field="data.unit_id")
    for din in unit.source_dins:
        donation = get_donation(d.world, din)
        if donation is not None and donation.reactive:
            raise ReactiveMarker(
                f"donation {din} is reactive for {', '.join(donation.reactive)}",
                field="data.unit_id", din=din,
            )
    d.emit(data, unit.unit_id, unit_refs(unit.unit_id))


def _quarantined(u: UnitState, e: Event, data: UnitQuarantined) -> UnitState:
    return u.model_copy(update={"quarantined": True, "quarantine_reason": data.reason})


def _lifted(u: UnitState, e: Event, data: QuarantineLifted) -> UnitState:
    return u.model_copy(update={"quarantined": False, "quarantine_reason": None})


_UNIT = "A999926123456-E0398V00"
TYPES = (
    EventType(UnitQuarantined, on_unit(_quarantined), unit_quarantined,
              UNIT_CARE | {"collector"},
              example={"unit_id": _UNIT, "reason": "bag leaking at the seal"}),
    EventType(QuarantineLifted, on_unit(_lifted), quarantine_lifted, UNIT_CARE,
              example={"unit_id": _UNIT, "reason": "seal inspected, intact"}),
)
