"""Patients and issue: reserve (crossmatch), release the reservation, issue, return.

Only released, in-date, unquarantined units are reserved or issued, and red cells and plasma
must be ABO/RhD compatible with the patient. In a bleeding emergency a unit may be issued
uncrossmatched (``emergency: true``, with a justification and a physician).
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictBool

from app.errors import (
    AboIncompatible,
    CrossmatchIncompatible,
    EmergencyDetailsMissing,
    EmergencyProductNotAllowed,
    ReturnWindowExceeded,
    UnitIssuedError,
    UnitNotIssued,
    UnitNotReleased,
    UnitNotReserved,
    UnitQuarantinedError,
    WrongPatient,
)
from app.events.compat import compatible, emergency_allowed
from app.events.decision import Decision, require_unallocated, unit_refs
from app.events.event_type import EventType, on_unit, roles
from app.events.fields import AboGroup, Ident, Pseudonym, RhdType, Text, UnitId
from app.events.messages import Event, Key
from app.events.payload import Crossmatch, EventData
from app.events.state import updated
from app.events.unit import UnitState

HOSPITAL = roles("hospital")


class UnitReserved(EventData):
    """Reserved (crossmatched) for a pseudonymous patient of the given group."""

    unit_id: UnitId
    patient_id: Pseudonym
    patient_abo: AboGroup
    patient_rhd: RhdType
    crossmatch: Crossmatch


class ReservationReleased(EventData):
    """The reservation ends; the unit is back in stock."""

    unit_id: UnitId
    reason: Text | None = None


class UnitIssued(EventData):
    """Emergency issue (``emergency: true``) needs ``justification`` and ``physician_id`` and
    no reservation; ``patient_abo``/``patient_rhd`` are optional and, when absent, the
    patient's group counts as unknown."""

    unit_id: UnitId
    patient_id: Pseudonym
    ward: Text | None = None
    emergency: StrictBool = False
    justification: Text | None = None
    physician_id: Ident | None = None
    patient_abo: AboGroup | None = None
    patient_rhd: RhdType | None = None


class UnitReturned(EventData):
    """An issued unit comes back into stock within the return window."""

    unit_id: UnitId
    reason: Text | None = None


def patient_refs(unit_id: str, patient_id: str) -> set[Key]:
    return unit_refs(unit_id) | {("patient", patient_id)}


def usable(d: Decision, unit: UnitState) -> tuple[str, str]:
    """Released, not quarantined, in date; returns the unit's ABO/RhD."""
    if not unit.released or unit.abo is None or unit.rhd is None:
        raise UnitNotReleased(f"unit {unit.unit_id} is not released", field="data.unit_id")
    if unit.quarantined:
        raise UnitQuarantinedError(
            f"unit {unit.unit_id} is quarantined: {unit.quarantine_reason}", field="data.unit_id"
        )
    d.in_date(unit)
    return unit.abo, unit.rhd


def unit_reserved(d: Decision, data: UnitReserved) -> None:
    """Reserve (crossmatch) for a patient; an incompatible crossmatch or group is refused."""
    unit = d.workable(data.unit_id)
    require_unallocated(unit)
    abo, rhd = usable(d, unit)
    if data.crossmatch == "incompatible":
        raise CrossmatchIncompatible(f"unit {unit.unit_id} crossmatched incompatible",
                                     field="data.crossmatch")
    if not compatible(unit.category, abo, rhd, data.patient_abo, data.patient_rhd):
        raise AboIncompatible(
            f"{unit.category} {abo} {rhd} is not compatible with a {data.patient_abo} "
            f"{data.patient_rhd} patient", field="data.patient_abo",
        )
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))


def reservation_released(d: Decision, data: ReservationReleased) -> None:
    """End a reservation that has not been issued."""
    unit = d.workable(data.unit_id)
    if unit.issued_patient_id is not None or unit.reserved_patient_id is None:
        raise UnitNotReserved(f"unit {unit.unit_id} is not reserved", field="data.unit_id")
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, unit.reserved_patient_id))


def unit_issued(d: Decision, data: UnitIssued) -> None:
    """Issue to the patient it was reserved for, or uncrossmatched in an emergency."""
    unit = d.workable(data.unit_id)
    if unit.issued_patient_id is not None:
        raise UnitIssuedError(f"unit {unit.unit_id} is already issued", field="data.unit_id")
    if unit.reserved_patient_id not in (None, data.patient_id):
        raise WrongPatient(f"unit {unit.unit_id} is reserved for another patient",
                           field="data.patient_id")
    abo, rhd = usable(d, unit)
    reserved = unit.reserved_patient_id == data.patient_id
    patient_abo = data.patient_abo or (unit.patient_abo if reserved else None)
    patient_rhd = data.patient_rhd or (unit.patient_rhd if reserved else None)
    if data.emergency:
        if data.justification is None or data.physician_id is None:
            raise EmergencyDetailsMissing(
                "an emergency issue needs a justification and a physician_id",
                field="data.justification" if data.justification is None else "data.physician_id",
            )
        if not emergency_allowed(unit.category, abo, rhd, patient_abo, patient_rhd):
            raise EmergencyProductNotAllowed(
                f"{unit.category} {abo} {rhd} may not be issued uncrossmatched "
                f"(patient group {patient_abo or 'unknown'} {patient_rhd or ''})".rstrip(),
                field="data.unit_id",
            )
    elif not reserved:
        raise UnitNotReserved(
            f"unit {unit.unit_id} is not reserved for patient {data.patient_id}",
            field="data.patient_id",
        )
    elif patient_abo is not None and patient_rhd is not None and not compatible(
        unit.category, abo, rhd, patient_abo, patient_rhd
    ):
        raise AboIncompatible(f"unit {unit.unit_id} is not compatible with the patient",
                              field="data.patient_abo")
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))


def unit_returned(d: Decision, data: UnitReturned) -> None:
    """Back into stock only within the catalogue's return window."""
    unit = d.workable(data.unit_id)
    if unit.issued_patient_id is None or unit.issued_at is None:
        raise UnitNotIssued(f"unit {unit.unit_id} is not issued", field="data.unit_id")
    if d.at - unit.issued_at > d.catalogue.return_window:
        raise ReturnWindowExceeded(
            f"unit {unit.unit_id} was issued more than {d.catalogue.return_window_minutes} "
            "minutes ago; discard it as returned_late", field="data.unit_id",
        )
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, unit.issued_patient_id))


def _reserved(u: UnitState, e: Event, data: UnitReserved) -> UnitState:
    return updated(u, {
        "reserved_patient_id": data.patient_id, "patient_abo": data.patient_abo,
        "patient_rhd": data.patient_rhd, "crossmatch": data.crossmatch,
    })


_NO_PATIENT: dict[str, Any] = {
    "reserved_patient_id": None, "patient_abo": None, "patient_rhd": None, "crossmatch": None,
}


def _reservation_released(u: UnitState, e: Event, data: ReservationReleased) -> UnitState:
    return updated(u, _NO_PATIENT)


def _issued(u: UnitState, e: Event, data: UnitIssued) -> UnitState:
    return updated(u, {
        "issued_patient_id": data.patient_id, "issued_at": e.occurred_at, "ward": data.ward,
        "emergency": data.emergency,
    })


def _returned(u: UnitState, e: Event, data: UnitReturned) -> UnitState:
    return updated(u, {
        **_NO_PATIENT, "issued_patient_id": None, "issued_at": None, "ward": None,
        "emergency": False,
    })


_UNIT = "A999926123456-E0398V00"
TYPES = (
    EventType(UnitReserved, on_unit(_reserved), unit_reserved, HOSPITAL,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2", "patient_abo": "O",
                       "patient_rhd": "NEG", "crossmatch": "compatible"}),
    EventType(ReservationReleased, on_unit(_reservation_released), reservation_released,
              roles("inventory", "hospital"),
              example={"unit_id": _UNIT, "reason": "surgery postponed"}),
    EventType(UnitIssued, on_unit(_issued), unit_issued, HOSPITAL,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2", "ward": "ICU"}),
    EventType(UnitReturned, on_unit(_returned), unit_returned, HOSPITAL,
              example={"unit_id": _UNIT, "reason": "not needed"}),
)
