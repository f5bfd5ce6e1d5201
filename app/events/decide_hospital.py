"""Decisions at the bedside end: reserve, issue, return, transfuse, and the final fates.

Transfused, discarded and fractionated are final: the guards refuse every later step except
the annotations (an adverse reaction report, a lookback acknowledgement).
"""

from __future__ import annotations

from app.errors import (
    AboIncompatible,
    CrossmatchIncompatible,
    DiscardReasonMismatch,
    EmergencyDetailsMissing,
    EmergencyProductNotAllowed,
    FractionationPlasmaOnly,
    NotCustodian,
    NotTransfused,
    ReturnWindowExceeded,
    UnitIssuedError,
    UnitNotIssued,
    UnitNotReleased,
    UnitNotReserved,
    UnitQuarantinedError,
    WrongPatient,
)
from app.events.authz import acts_for
from app.events.compat import compatible, emergency_allowed
from app.events.decision import Decision, require_unallocated, unit_refs
from app.events.messages import Key
from app.events.models_base import dump
from app.events.models_units import (
    AdverseReactionReported,
    ReservationReleased,
    UnitDiscarded,
    UnitIssued,
    UnitReserved,
    UnitReturned,
    UnitShippedForFractionation,
    UnitTransfused,
)
from app.events.state import UnitState

FRACTIONATOR = ("fractionator",)


def _patient_refs(unit_id: str, patient_id: str) -> set[Key]:
    return unit_refs(unit_id) | {("patient", patient_id)}


def _usable(d: Decision, unit: UnitState) -> tuple[str, str]:
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
    abo, rhd = _usable(d, unit)
    if data.crossmatch == "incompatible":
        raise CrossmatchIncompatible(f"unit {unit.unit_id} crossmatched incompatible",
                                     field="data.crossmatch")
    if not compatible(unit.category, abo, rhd, data.patient_abo, data.patient_rhd):
        raise AboIncompatible(
            f"{unit.category} {abo} {rhd} is not compatible with a {data.patient_abo} "
            f"{data.patient_rhd} patient", field="data.patient_abo",
        )
    d.emit("UnitReserved", unit.unit_id, dump(data),
           _patient_refs(unit.unit_id, data.patient_id))


def reservation_released(d: Decision, data: ReservationReleased) -> None:
    """End a reservation that has not been issued."""
    unit = d.workable(data.unit_id)
    if unit.issued_patient_id is not None or unit.reserved_patient_id is None:
        raise UnitNotReserved(f"unit {unit.unit_id} is not reserved", field="data.unit_id")
    d.emit("ReservationReleased", unit.unit_id, dump(data),
           _patient_refs(unit.unit_id, unit.reserved_patient_id))


def unit_issued(d: Decision, data: UnitIssued) -> None:
    """Issue to the patient it was reserved for, or uncrossmatched in an emergency."""
    unit = d.workable(data.unit_id)
    if unit.issued_patient_id is not None:
        raise UnitIssuedError(f"unit {unit.unit_id} is already issued", field="data.unit_id")
    if unit.reserved_patient_id not in (None, data.patient_id):
        raise WrongPatient(f"unit {unit.unit_id} is reserved for another patient",
                           field="data.patient_id")
    abo, rhd = _usable(d, unit)
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
    d.emit("UnitIssued", unit.unit_id, dump(data),
           _patient_refs(unit.unit_id, data.patient_id))


def unit_returned(d: Decision, data: UnitReturned) -> None:
    """Back into stock only within the catalogue's return window."""
    unit = d.workable(data.unit_id)
    if unit.issued_patient_id is None or unit.issued_at is None:
        raise UnitNotIssued(f"unit {unit.unit_id} is not issued", field="data.unit_id")
    window = d.catalogue.return_window
    if d.at - unit.issued_at > window:
        raise ReturnWindowExceeded(
            f"unit {unit.unit_id} was issued more than {d.catalogue.return_window_minutes} "
            "minutes ago; discard it as returned_late", field="data.unit_id",
        )
    d.emit("UnitReturned", unit.unit_id, dump(data),
           _patient_refs(unit.unit_id, unit.issued_patient_id))


def unit_transfused(d: Decision, data: UnitTransfused) -> None:
    """Only an issued unit, to the patient it was issued to, not recalled, in date."""
    unit = d.workable(data.unit_id)
    if unit.issued_patient_id is None:
        raise UnitNotIssued(f"unit {unit.unit_id} is not issued", field="data.unit_id")
    if unit.issued_patient_id != data.patient_id:
        raise WrongPatient(f"unit {unit.unit_id} was issued to another patient",
                           field="data.patient_id")
    if unit.quarantined:
        raise UnitQuarantinedError(
            f"unit {unit.unit_id} is quarantined: {unit.quarantine_reason}", field="data.unit_id"
        )
    d.in_date(unit)
    d.emit("UnitTransfused", unit.unit_id, dump(data),
           _patient_refs(unit.unit_id, data.patient_id))


def adverse_reaction(d: Decision, data: AdverseReactionReported) -> None:
    """An annotation after the final fate: the unit was transfused to this patient."""
    unit = d.unit(data.unit_id)
    if unit.fate != "transfused" or unit.recipient_patient_id != data.patient_id:
        raise NotTransfused(f"unit {unit.unit_id} was not transfused to this patient",
                            field="data.patient_id")
    if not acts_for(d.cmd.actor, unit.custodian_site_id):
        raise NotCustodian(f"unit {unit.unit_id} was transfused at {unit.custodian_site_id}",
                           field="data.unit_id")
    d.emit("AdverseReactionReported", unit.unit_id, dump(data),
           _patient_refs(unit.unit_id, data.patient_id))


def unit_discarded(d: Decision, data: UnitDiscarded) -> None:
    """Final fate, with a reason that fits (expired only once expired, returned_late only
    while issued)."""
    unit = d.workable(data.unit_id)
    if data.reason == "expired" and not unit.expired_at(d.at):
        raise DiscardReasonMismatch(f"unit {unit.unit_id} is not expired", field="data.reason")
    if data.reason == "returned_late" and unit.issued_patient_id is None:
        raise DiscardReasonMismatch(f"unit {unit.unit_id} is not issued", field="data.reason")
    d.emit("UnitDiscarded", unit.unit_id, dump(data), unit_refs(unit.unit_id))


def shipped_for_fractionation(d: Decision, data: UnitShippedForFractionation) -> None:
    """Released plasma, not quarantined, to a registered fractionator."""
    unit = d.workable(data.unit_id)
    if unit.category != "plasma":
        raise FractionationPlasmaOnly(f"unit {unit.unit_id} is {unit.category}",
                                      field="data.unit_id")
    require_unallocated(unit)
    _usable(d, unit)
    d.site(data.fractionator_site_id, "data.fractionator_site_id", FRACTIONATOR)
    d.emit("UnitShippedForFractionation", unit.unit_id, dump(data),
           unit_refs(unit.unit_id) | {("site", data.fractionator_site_id)})
