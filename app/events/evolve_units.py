"""How each single-unit event changes that unit's state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.events.messages import NewEvent, StoredEvent
from app.events.state import UnitState

Event = NewEvent | StoredEvent


def _released(u: UnitState, e: Event) -> UnitState:
    update: dict[str, Any] = {"released": True}
    for name in ("abo", "rhd"):
        if e.data.get(name) is not None:
            update[name] = e.data[name]
    return u.model_copy(update=update)


def _quarantined(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update={"quarantined": True, "quarantine_reason": e.data.get("reason")})


def _lifted(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update={"quarantined": False, "quarantine_reason": None})


def _stored(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update={"location": e.data.get("location")})


def _unchanged(u: UnitState, e: Event) -> UnitState:
    return u


def _shipped(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update={
        "in_transit_to": e.data["to_site_id"], "shipment_id": e.data["shipment_id"],
        "shipped_at": e.occurred_at, "location": None,
    })


def _received(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update={
        "custodian_site_id": e.data["site_id"], "in_transit_to": None, "shipment_id": None,
        "shipped_at": None, "location": None,
    })


def _reserved(u: UnitState, e: Event) -> UnitState:
    d = e.data
    return u.model_copy(update={
        "reserved_patient_id": d["patient_id"], "patient_abo": d.get("patient_abo"),
        "patient_rhd": d.get("patient_rhd"), "crossmatch": d.get("crossmatch"),
    })


_NO_PATIENT: dict[str, Any] = {
    "reserved_patient_id": None, "patient_abo": None, "patient_rhd": None, "crossmatch": None,
}


def _reservation_released(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update=_NO_PATIENT)


def _issued(u: UnitState, e: Event) -> UnitState:
    d = e.data
    return u.model_copy(update={
        "issued_patient_id": d["patient_id"], "issued_at": e.occurred_at,
        "emergency": bool(d.get("emergency", False)),
    })


def _returned(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update={
        **_NO_PATIENT, "issued_patient_id": None, "issued_at": None, "emergency": False,
    })


def _transfused(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update={
        "fate": "transfused", "fate_at": e.occurred_at,
        "recipient_patient_id": e.data["patient_id"],
    })


def _discarded(u: UnitState, e: Event) -> UnitState:
    return u.model_copy(update={"fate": "discarded", "fate_at": e.occurred_at})


def _fractionated(u: UnitState, e: Event) -> UnitState:
    # The fractionator takes the plasma out of the blood system: it becomes the last holder.
    return u.model_copy(update={
        "fate": "fractionated", "fate_at": e.occurred_at,
        "custodian_site_id": e.data["fractionator_site_id"], "location": None,
    })


UNIT_CHANGES: dict[str, Callable[[UnitState, Event], UnitState]] = {
    "UnitReleased": _released,
    "UnitQuarantined": _quarantined,
    "QuarantineLifted": _lifted,
    "UnitStored": _stored,
    "TemperatureExcursionRecorded": _unchanged,
    "UnitShipped": _shipped,
    "UnitReceived": _received,
    "UnitReserved": _reserved,
    "ReservationReleased": _reservation_released,
    "UnitIssued": _issued,
    "UnitReturned": _returned,
    "UnitTransfused": _transfused,
    "AdverseReactionReported": _unchanged,
    "UnitDiscarded": _discarded,
    "UnitShippedForFractionation": _fractionated,
}
"""Event type → the new unit state. Status (in stock, final...) is derived from the fields."""
