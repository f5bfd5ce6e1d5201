"""Transfusion and haemovigilance: the bedside, the final fate, and reaction reports (§8).

A transfusion starts (``TransfusionStarted``) with a bedside check of the wristband and the
unit within the catalogue's window after issue; it ends with ``UnitTransfused``, the final
fate, within 4 h of issue unless a ``late_completion_reason`` says why (listed in the audit).
Once a transfusion has started, the unit is in the patient: its completion is recorded even
if a hold was placed since, because that is what happened. A reaction is reported from the
start of a transfusion, coded; bacterial, TRALI and viral reactions hold every live
co-component of the donation and defer its donor pending investigation, in the same decision.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, StrictBool

from app.errors import (
    BedsideCheckFailed,
    LateCompletionReasonRequired,
    NotCustodian,
    NotTransfused,
    StartWindowExceeded,
    TransfusedVolumeExceeded,
    TransfusionAlreadyStarted,
    TransfusionNotStarted,
    UnitNotIssued,
    UnitQuarantinedError,
    WrongPatient,
)
from app.events.authz import acts_for
from app.events.catalogue_parts import ReactionType
from app.events.decision import Decision
from app.events.event_type import EventType, Need, RawData, on_unit, reads_unit, unchanged
from app.events.fields import Ident, Pseudonym, Text, UnitId, VolumeMl
from app.events.lineage import units_of
from app.events.messages import Event
from app.events.payload import EventData, Imputability, Severity
from app.events.slices.donors import DonorDeferred
from app.events.slices.holds import place_holds
from app.events.slices.issue import HOSPITAL, patient_refs
from app.events.state import get_donation, get_donor, updated
from app.events.unit import UnitState


class BedsideCheck(BaseModel):
    """The positive identification at the bedside: the patient's wristband and the unit's
    label scanned, and the second checker when the hospital's procedure has one."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    wristband_scanned: StrictBool
    unit_scanned: StrictBool
    second_checker_id: Ident | None = None


class TransfusionStarted(EventData):
    """The unit is spiked at the bedside, after the bedside check."""

    unit_id: UnitId
    patient_id: Pseudonym
    bedside_check: BedsideCheck


class UnitTransfused(EventData):
    """Final fate: transfused to the patient it was issued to, after its start. ``volume_ml``
    what was given; ``stopped_reason`` when the transfusion was stopped before the end;
    ``late_completion_reason`` when it ended more than 4 h after issue."""

    unit_id: UnitId
    patient_id: Pseudonym
    volume_ml: VolumeMl | None = None
    stopped_reason: Text | None = None
    late_completion_reason: Text | None = None


class AdverseReactionReported(EventData):
    """A reaction of the patient to a unit whose transfusion started: coded type, severity and
    imputability (RULES §8)."""

    unit_id: UnitId
    patient_id: Pseudonym
    reaction_type: ReactionType
    severity: Severity
    imputability: Imputability
    note: Text | None = None


def _issued_to(d: Decision, unit: UnitState, patient_id: str) -> None:
    if unit.issued_patient_id is None:
        raise UnitNotIssued(f"unit {unit.unit_id} is not issued", field="data.unit_id")
    if unit.issued_patient_id != patient_id:
        raise WrongPatient(f"unit {unit.unit_id} was issued to another patient",
                           field="data.patient_id")


def transfusion_started(d: Decision, data: TransfusionStarted) -> None:
    """Issued to this patient, unheld, in date, within the start window, both scans done."""
    unit = d.workable(data.unit_id)
    _issued_to(d, unit, data.patient_id)
    if unit.transfusion_started_at is not None:
        raise TransfusionAlreadyStarted(f"unit {unit.unit_id} is already being transfused",
                                        field="data.unit_id")
    check = data.bedside_check
    if not (check.wristband_scanned and check.unit_scanned):
        missing = [name for name, done in (("wristband", check.wristband_scanned),
                                           ("unit", check.unit_scanned)) if not done]
        raise BedsideCheckFailed(f"the bedside check did not scan the {' and the '.join(missing)}",
                                 field="data.bedside_check")
    if unit.quarantined:
        raise UnitQuarantinedError(
            f"unit {unit.unit_id} is quarantined: {unit.quarantine_reason}", field="data.unit_id"
        )
    d.in_date(unit)
    window = d.catalogue.patients.start_within_minutes
    assert unit.issued_at is not None  # set with issued_patient_id
    if d.at - unit.issued_at > timedelta(minutes=window):
        raise StartWindowExceeded(
            f"unit {unit.unit_id} was issued more than {window} minutes ago: return it "
            "(it is out of controlled storage) instead of starting", field="occurred_at")
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))


def unit_transfused(d: Decision, data: UnitTransfused) -> None:
    """Only after its start, to the patient it was issued to, within 4 h of issue or with a
    reason."""
    unit = d.workable(data.unit_id)
    _issued_to(d, unit, data.patient_id)
    if unit.transfusion_started_at is None:
        raise TransfusionNotStarted(
            f"unit {unit.unit_id}: record TransfusionStarted with its bedside check first",
            field="data.unit_id")
    hours = d.catalogue.patients.complete_within_hours
    assert unit.issued_at is not None
    if d.at - unit.issued_at > timedelta(hours=hours) and data.late_completion_reason is None:
        raise LateCompletionReasonRequired(
            f"unit {unit.unit_id} was issued more than {hours} h ago: say why in "
            "late_completion_reason", field="data.late_completion_reason")
    if data.volume_ml is not None and data.volume_ml > unit.volume_ml:
        raise TransfusedVolumeExceeded(
            f"unit {unit.unit_id} holds {unit.volume_ml} mL", field="data.volume_ml")
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))


def adverse_reaction(d: Decision, data: AdverseReactionReported) -> None:
    """From the start of the transfusion of this unit to this patient, by the site that gave
    it; the reactions that may come from the donation hold its co-components and defer its
    donors."""
    unit = d.unit(data.unit_id)
    recipient = unit.recipient_patient_id or (
        unit.issued_patient_id if unit.transfusion_started_at is not None else None)
    if recipient is None or recipient != data.patient_id:
        raise NotTransfused(
            f"unit {unit.unit_id} was not given to this patient (no transfusion started)",
            field="data.patient_id")
    if not acts_for(d.cmd.actor, unit.custodian_site_id):
        raise NotCustodian(f"unit {unit.unit_id} was transfused at another site",
                           field="data.unit_id", custodian_site_id=unit.custodian_site_id)
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))
    if data.reaction_type in d.catalogue.patients.holding_reactions:
        _hold_co_components(d, unit, data)


def _hold_co_components(d: Decision, unit: UnitState, data: AdverseReactionReported) -> None:
    reason = (f"{data.reaction_type.replace('_', ' ')} ({data.severity.replace('_', ' ')}) "
              f"in a recipient of {unit.unit_id}")
    for din in dict.fromkeys((*unit.source_dins, unit.din)):
        donation = get_donation(d.world, din)
        if donation is None or donation.kind != "collection":
            continue
        place_holds(d, units_of(d.world, donation.unit_ids), "adverse_reaction", reason,
                    din=din)
        donor = get_donor(d.world, donation.donor_id) if donation.donor_id else None
        if donor is None or any(x.cause == "adverse_reaction" and x.din == din
                                for x in donor.active_deferrals(d.at)):
            continue
        d.emit(DonorDeferred(
            donor_id=donor.donor_id, reason=f"pending investigation: {reason}",
            cause="adverse_reaction", din=din, pending_confirmation=True,
            deferral_id=str(d.next_event_id())), f"donor:{donor.donor_id}",
            {("donor", donor.donor_id)})


def reads_reaction(data: RawData) -> list[Need]:
    """The unit with its lineage: the co-components of its donation are held."""
    return reads_unit(data, deep=True)


def _started(u: UnitState, e: Event, data: TransfusionStarted) -> UnitState:
    return updated(u, {"transfusion_started_at": e.occurred_at})


def _transfused(u: UnitState, e: Event, data: UnitTransfused) -> UnitState:
    return updated(u, {
        "fate": "transfused", "fate_at": e.occurred_at, "recipient_patient_id": data.patient_id,
        "fate_reason": data.stopped_reason,
    })


_UNIT = "A999926123456-E0398V00"
TYPES = (
    EventType(TransfusionStarted, on_unit(_started), transfusion_started, HOSPITAL,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2", "bedside_check": {
                  "wristband_scanned": True, "unit_scanned": True,
                  "second_checker_id": "NURSE-0192"}}),
    EventType(UnitTransfused, on_unit(_transfused), unit_transfused, HOSPITAL,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2", "volume_ml": 280}),
    EventType(AdverseReactionReported, unchanged, adverse_reaction, HOSPITAL,
              reads=reads_reaction,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2", "reaction_type": "fnhtr",
                       "severity": "non_severe", "imputability": "possible"}),
)
