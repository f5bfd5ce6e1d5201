"""Transfusion and haemovigilance: the final fate at the bedside, and reaction reports.

``UnitTransfused`` is final: nothing but annotations (a reaction report, a lookback
acknowledgement) may follow, and an annotation changes no state.
"""

from __future__ import annotations

from app.errors import (
    NotCustodian,
    NotTransfused,
    UnitNotIssued,
    UnitQuarantinedError,
    WrongPatient,
)
from app.events.authz import acts_for
from app.events.decision import Decision
from app.events.event_type import EventType, on_unit, unchanged
from app.events.fields import Pseudonym, Text, UnitId
from app.events.messages import Event
from app.events.payload import EventData, Imputability, Severity
from app.events.slices.issue import HOSPITAL, patient_refs
from app.events.unit import UnitState


class UnitTransfused(EventData):
    """Final fate: transfused to the patient it was issued to."""

    unit_id: UnitId
    patient_id: Pseudonym


class AdverseReactionReported(EventData):
    """An annotation on a transfused unit: reaction type, severity, imputability."""

    unit_id: UnitId
    patient_id: Pseudonym
    reaction_type: Text
    severity: Severity
    imputability: Imputability


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
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))


def adverse_reaction(d: Decision, data: AdverseReactionReported) -> None:
    """An annotation after the final fate: the unit was transfused to this patient."""
    unit = d.unit(data.unit_id)
    if unit.fate != "transfused" or unit.recipient_patient_id != data.patient_id:
        raise NotTransfused(f"unit {unit.unit_id} was not transfused to this patient",
                            field="data.patient_id")
    if not acts_for(d.cmd.actor, unit.custodian_site_id):
        raise NotCustodian(f"unit {unit.unit_id} was transfused at another site",
                           field="data.unit_id", custodian_site_id=unit.custodian_site_id)
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))


def _transfused(u: UnitState, e: Event, data: UnitTransfused) -> UnitState:
    return u.model_copy(update={
        "fate": "transfused", "fate_at": e.occurred_at, "recipient_patient_id": data.patient_id,
    })


_UNIT = "A999926123456-E0398V00"
TYPES = (
    EventType(UnitTransfused, on_unit(_transfused), unit_transfused, HOSPITAL,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2"}),
    EventType(AdverseReactionReported, unchanged, adverse_reaction, HOSPITAL,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2", "reaction_type": "FNHTR",
                       "severity": "non_severe", "imputability": "possible"}),
)
