"""Patients and issue: reserve (crossmatch), release the reservation, issue, return (RULES §7).

Only released, in-date, unheld units are reserved or issued; research and source-plasma
units never, autologous and directed ones only to their named recipient. Every reservation
and issue is checked against the patient's record (``app.events.slices.patients``): its
group, the two-sample rule, its antibodies (no electronic crossmatch) and its requirements.
An issue must match its reservation; a group given at issue that differs is refused, never
taken as the new truth. In a bleeding emergency a unit may be issued uncrossmatched
(``emergency: true``, with a justification and a physician) within the emergency categories;
its crossmatch follows afterwards, as a ``UnitReserved`` on the issued (or already
transfused) unit, and is recorded whatever it found.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field, StrictBool

from app.errors import (
    AboIncompatible,
    AntiDProphylaxisRequired,
    CrossmatchAlreadyRecorded,
    CrossmatchIncompatible,
    ElectronicCrossmatchNotAllowed,
    EmergencyDetailsMissing,
    EmergencyProductNotAllowed,
    IntendedUseMismatch,
    NotCustodian,
    PatientGroupConflict,
    PatientGroupDiscordant,
    PatientGroupMismatch,
    RequirementNotMet,
    SampleDiscounted,
    SampleTooOld,
    SampleUnknown,
    TransfusionAlreadyStarted,
    TwoSampleRuleNotMet,
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
from app.events.event_type import (
    Changes,
    EventType,
    Need,
    RawData,
    on_unit,
    reads_key,
    reads_unit,
    roles,
)
from app.events.fields import AboGroup, Ident, Pseudonym, RhdType, TempDc, Text, UnitId
from app.events.messages import Event, Key
from app.events.payload import Crossmatch, EventData
from app.events.signatures import issue_meaning
from app.events.slices.holds import place_holds
from app.events.slices.patients import record_of
from app.events.state import GroupStated, PatientState, World, get_patient, get_unit, updated
from app.events.unit import UnitState

HOSPITAL = roles("hospital")
NOT_FOR_PATIENTS = frozenset({"research", "source_plasma"})
NAMED_RECIPIENT = frozenset({"autologous", "directed"})


class UnitReserved(EventData):
    """Reserved (crossmatched) for a pseudonymous patient of the given group, on the sample
    ``sample_id`` (one of the patient's recorded determinations, at most 72 h old). On a unit
    issued in an emergency it records the follow-up crossmatch, whatever it found."""

    unit_id: UnitId
    patient_id: Pseudonym
    patient_abo: AboGroup
    patient_rhd: RhdType
    crossmatch: Crossmatch
    sample_id: Ident | None = None


class ReservationReleased(EventData):
    """The reservation ends; the unit is back in stock."""

    unit_id: UnitId
    reason: Text | None = None


class UnitIssued(EventData):
    """Emergency issue (``emergency: true``) needs ``justification`` and ``physician_id`` and
    no reservation; ``patient_abo``/``patient_rhd`` are optional and must match the
    reservation and the patient's record. RhD-positive platelets for an RhD-negative patient
    (or one of unknown RhD) need ``anti_d_prophylaxis: true`` or an ``override_reason``,
    listed in ``GET /v1/audit/overrides``."""

    unit_id: UnitId
    patient_id: Pseudonym
    ward: Text | None = None
    emergency: StrictBool = False
    justification: Text | None = None
    physician_id: Ident | None = None
    patient_abo: AboGroup | None = None
    patient_rhd: RhdType | None = None
    anti_d_prophylaxis: StrictBool = False
    override_reason: Text | None = None


class UnitReturned(EventData):
    """An issued unit comes back: into stock within the return window, or later when it
    travelled in a validated shipper and arrived (``temp_dc``) inside the transport range;
    otherwise it is returned late and may only be discarded."""

    unit_id: UnitId
    reason: Text | None = None
    temp_dc: TempDc | None = None
    validated_shipper: StrictBool = False
    returned_late: StrictBool | None = Field(
        default=None, description="enrichment: the domain's finding that the return was late "
        "(only discard follows)")


def patient_refs(unit_id: str, patient_id: str) -> set[Key]:
    return unit_refs(unit_id) | {("patient", patient_id)}


def reads_unit_and_patient(data: RawData) -> list[Need]:
    return [*reads_unit(data), *reads_key("patient", data.get("patient_id"))]


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


def for_patient(unit: UnitState, patient_id: str) -> None:
    """The unit's intended use allows it to reach this patient (RULES §5)."""
    if unit.intended_use in NOT_FOR_PATIENTS:
        raise IntendedUseMismatch(
            f"unit {unit.unit_id} is collected for {unit.intended_use.replace('_', ' ')}: it "
            "never reaches a patient", field="data.unit_id")
    if unit.intended_use in NAMED_RECIPIENT and unit.intended_recipient_id != patient_id:
        raise IntendedUseMismatch(
            f"unit {unit.unit_id} is {unit.intended_use}: only for its named recipient",
            field="data.patient_id")


def _record_group(record: PatientState | None, patient_id: str) -> tuple[str, str] | None:
    """The patient's recorded group; a discordant record blocks."""
    if record is None:
        return None
    if record.blocked:
        raise PatientGroupDiscordant(
            f"patient {patient_id}'s group determinations disagree: record a new "
            "determination first", field="data.patient_id")
    return record.group


def _against_record(group: tuple[str, str] | None, abo: str | None, rhd: str | None,
                    patient_id: str) -> None:
    if group is not None and (abo, rhd) != (None, None) and (
            abo not in (None, group[0]) or rhd not in (None, group[1])):
        raise PatientGroupMismatch(
            f"patient {patient_id} is recorded as {group[0]} {group[1]}, not "
            f"{abo or group[0]} {rhd or group[1]}", field="data.patient_abo")


def _agrees_with_stated(record: PatientState | None, abo: str | None, rhd: str | None,
                        patient_id: str) -> None:
    """With no recorded group, every group given for the patient must agree with those given
    before (at a reservation, issue or follow-up crossmatch): two groups for one patient are
    a possible wrong blood in tube, refused until the laboratory records a determination."""
    if record is None or record.group is not None:
        return
    clash = next((g for g in record.stated if g.disagrees(abo, rhd)), None)
    if clash is not None:
        raise PatientGroupConflict(
            f"patient {patient_id} has no recorded group and was given as "
            f"{clash.abo or '?'} {clash.rhd or '?'} for unit {clash.unit_id} ({clash.step} by "
            f"{clash.site_id}); this step says {abo or clash.abo} {rhd or clash.rhd}: record a "
            "group determination first", field="data.patient_abo")


def _requirements(d: Decision, unit: UnitState, record: PatientState | None) -> None:
    if record is None:
        return
    attributes = d.catalogue.patients.requirement_attributes
    missing = [r for r in record.active_requirements(d.at)
               if attributes.get(r, r) not in unit.attributes]
    if missing:
        raise RequirementNotMet(
            f"patient {record.patient_id} requires {', '.join(missing)}; unit {unit.unit_id} "
            f"is {', '.join(unit.attributes) or 'without attributes'}", field="data.unit_id",
            requirements=missing)


def _two_samples(d: Decision, unit: UnitState, abo: str, record: PatientState | None) -> None:
    rules = d.catalogue.patients
    if unit.category in rules.two_sample_categories and abo != "O" and (
            record is None or not record.confirmed):
        raise TwoSampleRuleNotMet(
            f"{abo} {unit.category.replace('_', ' ')} need two agreeing determinations from "
            "different samples of the patient", field="data.patient_id")


def _sample(d: Decision, data: UnitReserved, record: PatientState | None) -> None:
    if data.crossmatch == "electronic":
        if record is not None and record.antibodies:
            raise ElectronicCrossmatchNotAllowed(
                f"patient {data.patient_id} has {record.antibodies[-1].antibody}: crossmatch "
                "serologically", field="data.crossmatch")
        if data.sample_id is None or record is None or not record.confirmed:
            raise ElectronicCrossmatchNotAllowed(
                "an electronic crossmatch needs a current sample (sample_id) and two agreeing "
                "determinations", field="data.sample_id" if data.sample_id is None
                else "data.crossmatch")
    if data.sample_id is None:
        return
    if record is None or record.sample(data.sample_id) is None:
        raise SampleUnknown(f"sample {data.sample_id} is not recorded for patient "
                            f"{data.patient_id}", field="data.sample_id")
    _sample_current(d, record, data.sample_id, "")


def _sample_current(d: Decision, record: PatientState, sample_id: str, when: str) -> None:
    """The sample's determination still counts (no disagreement since) and it is at most
    ``sample_valid_hours`` old."""
    sample = next((x for x in reversed(record.counted) if x.sample_id == sample_id), None)
    if sample is None:
        raise SampleDiscounted(
            f"sample {sample_id} of patient {record.patient_id} no longer counts: a later "
            f"determination disagreed with it{when}", field="data.sample_id")
    limit = d.catalogue.patients.sample_valid_hours
    if d.at - sample.sample_collected_at > timedelta(hours=limit):
        raise SampleTooOld(f"sample {sample_id} is older than {limit} h{when}",
                           field="data.sample_id")


def _reservation_still_valid(d: Decision, unit: UnitState, record: PatientState | None) -> None:
    """At a planned issue, what the reservation rested on still holds: no antibody recorded
    since an electronic crossmatch, and its sample still counts and is in date."""
    held = record.reservation(unit.unit_id) if record is not None else None
    if record is None or held is None:
        return
    if held.crossmatch == "electronic" and record.antibodies:
        raise ElectronicCrossmatchNotAllowed(
            f"patient {record.patient_id} has {record.antibodies[-1].antibody} recorded since "
            f"unit {unit.unit_id} was crossmatched electronically: release the reservation and "
            "crossmatch serologically", field="data.unit_id")
    if held.sample_id is not None:
        _sample_current(d, record, held.sample_id, " at issue: a new sample and crossmatch")


def unit_reserved(d: Decision, data: UnitReserved) -> None:
    """Reserve (crossmatch) for a patient, checked against the patient's record; or record
    the follow-up crossmatch of an emergency issue."""
    unit = d.unit(data.unit_id)
    if unit.emergency and (unit.issued_patient_id or unit.recipient_patient_id):
        _emergency_crossmatch(d, unit, data)
        return
    unit = d.workable(data.unit_id)
    require_unallocated(unit)
    abo, rhd = usable(d, unit)
    for_patient(unit, data.patient_id)
    if data.crossmatch == "incompatible":
        raise CrossmatchIncompatible(f"unit {unit.unit_id} crossmatched incompatible",
                                     field="data.crossmatch")
    record = record_of(d, data.patient_id)
    _against_record(_record_group(record, data.patient_id), data.patient_abo, data.patient_rhd,
                    data.patient_id)
    _agrees_with_stated(record, data.patient_abo, data.patient_rhd, data.patient_id)
    if not compatible(unit.category, abo, rhd, data.patient_abo, data.patient_rhd):
        raise AboIncompatible(
            f"{unit.category} {abo} {rhd} is not compatible with a {data.patient_abo} "
            f"{data.patient_rhd} patient", field="data.patient_abo",
        )
    _two_samples(d, unit, abo, record)
    _sample(d, data, record)
    _requirements(d, unit, record)
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))


def _emergency_crossmatch(d: Decision, unit: UnitState, data: UnitReserved) -> None:
    """The crossmatch after an uncrossmatched issue: evidence, so an incompatible result is
    recorded (and shows in the emergency audit), never refused."""
    patient_id = unit.issued_patient_id or unit.recipient_patient_id
    if patient_id != data.patient_id:
        raise WrongPatient(f"unit {unit.unit_id} was issued to another patient",
                           field="data.patient_id")
    if not acts_for(d.cmd.actor, unit.custodian_site_id):
        raise NotCustodian(f"unit {unit.unit_id} was issued by another site",
                           field="data.unit_id", custodian_site_id=unit.custodian_site_id)
    record = record_of(d, data.patient_id)
    if unit.crossmatch is not None or (record is not None and any(
            g.unit_id == unit.unit_id and g.step == "crossmatched" for g in record.stated)):
        raise CrossmatchAlreadyRecorded(
            f"unit {unit.unit_id} already has its follow-up crossmatch",
            field="data.unit_id")
    d.in_order(unit.last_at, f"unit {unit.unit_id}")
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
    for_patient(unit, data.patient_id)
    reserved = unit.reserved_patient_id == data.patient_id
    if reserved and (data.patient_abo not in (None, unit.patient_abo)
                     or data.patient_rhd not in (None, unit.patient_rhd)):
        raise PatientGroupConflict(
            f"unit {unit.unit_id} is reserved for a {unit.patient_abo} {unit.patient_rhd} "
            f"patient; the issue says {data.patient_abo or unit.patient_abo} "
            f"{data.patient_rhd or unit.patient_rhd}", field="data.patient_abo")
    record = record_of(d, data.patient_id)
    known = _known_group(d, data, unit, reserved, record)
    if data.emergency:
        _emergency(d, data, unit, abo, rhd, known)
    elif not reserved:
        raise UnitNotReserved(
            f"unit {unit.unit_id} is not reserved for patient {data.patient_id}",
            field="data.patient_id",
        )
    elif known is None or not compatible(unit.category, abo, rhd, *known):
        raise AboIncompatible(f"unit {unit.unit_id} is not compatible with the patient",
                              field="data.patient_abo")
    else:
        _two_samples(d, unit, abo, record)
        _reservation_still_valid(d, unit, record)
    _requirements(d, unit, record)
    if unit.category == "platelets" and rhd == "POS" and (known is None or known[1] != "POS") \
            and not data.anti_d_prophylaxis and data.override_reason is None:
        raise AntiDProphylaxisRequired(
            f"unit {unit.unit_id} is RhD-positive platelets and the patient is "
            f"{'RhD-negative' if known else 'of unknown RhD'}: give anti_d_prophylaxis or an "
            "override_reason", field="data.anti_d_prophylaxis")
    d.emit(data, unit.unit_id, patient_refs(unit.unit_id, data.patient_id))


def _known_group(d: Decision, data: UnitIssued, unit: UnitState, reserved: bool,
                 record: PatientState | None) -> tuple[str, str] | None:
    """The patient's group as known at issue: the record's, else the reservation's (checked
    when it was made). The group an issue itself states is checked against the record and
    the groups given before, but never trusted on its own: in an emergency with no record it
    leaves the group unknown (universal components only). So does a discordant record, which
    refuses a planned issue, and, for red cells, a group resting on one sample only
    (the two-sample rule: group O red cells until a second sample agrees)."""
    if record is not None and record.blocked:
        if data.emergency:
            return None
        _record_group(record, data.patient_id)
    group = record.group if record is not None else None
    _against_record(group, data.patient_abo or (unit.patient_abo if reserved else None),
                    data.patient_rhd or (unit.patient_rhd if reserved else None),
                    data.patient_id)
    _agrees_with_stated(record, data.patient_abo, data.patient_rhd, data.patient_id)
    if group is not None:
        if data.emergency and not reserved and record is not None and not record.confirmed \
                and unit.category in d.catalogue.patients.two_sample_categories:
            return None
        return group
    if reserved and unit.patient_abo is not None and unit.patient_rhd is not None:
        return unit.patient_abo, unit.patient_rhd
    return None


def _emergency(d: Decision, data: UnitIssued, unit: UnitState, abo: str, rhd: str,
               known: tuple[str, str] | None) -> None:
    if data.justification is None or data.physician_id is None:
        raise EmergencyDetailsMissing(
            "an emergency issue needs a justification and a physician_id",
            field="data.justification" if data.justification is None else "data.physician_id",
        )
    if not emergency_allowed(unit.category, abo, rhd, known,
                             group_a_plasma=d.catalogue.patients.emergency_group_a_plasma):
        raise EmergencyProductNotAllowed(
            f"{unit.category} {abo} {rhd} may not be issued uncrossmatched to a patient of "
            f"{' '.join(known) if known else 'unknown group'}", field="data.unit_id")


def unit_returned(d: Decision, data: UnitReturned) -> None:
    """Back into stock within the return window, or later in a validated shipper inside the
    transport range; any other return is recorded as late (only discard follows). A return
    inside the window but outside the transport range is held for temperature."""
    unit = d.workable(data.unit_id)
    if unit.issued_patient_id is None or unit.issued_at is None:
        raise UnitNotIssued(f"unit {unit.unit_id} is not issued", field="data.unit_id")
    if unit.transfusion_started_at is not None:
        raise TransfusionAlreadyStarted(
            f"unit {unit.unit_id} was spiked at the bedside: it never returns to stock",
            field="data.unit_id")
    in_range = data.temp_dc is not None and d.catalogue.cold_chain.in_range(
        unit.category, data.temp_dc, unit.modifications)
    in_window = d.at - unit.issued_at <= d.catalogue.return_window
    late = not in_window and not (data.validated_shipper and in_range)
    d.emit(data.model_copy(update={"returned_late": late}), unit.unit_id,
           patient_refs(unit.unit_id, unit.issued_patient_id))
    if not late and data.temp_dc is not None and not in_range:
        place_holds(d, [unit], "temperature",
                    f"returned at {data.temp_dc} dC, outside the transport range")


def _stating(unit_step: Any, stated: Any) -> Any:
    """An evolve step that changes the unit and keeps the group the step gave for the
    patient on the patient's record (``PatientState.stated``)."""
    on_the_unit = on_unit(unit_step)

    def evolve(world: World, e: Event, data: Any) -> Changes:
        before = get_unit(world, data.unit_id)
        changes = dict(on_the_unit(world, e, data))
        given = stated(before, e, data) if before is not None else None
        if given is not None:
            record = get_patient(world, data.patient_id) or PatientState(
                patient_id=data.patient_id)
            changes[("patient", data.patient_id)] = updated(
                record, {"stated": (*record.stated, given)})
        return changes

    evolve.__doc__ = unit_step.__doc__
    return evolve


def _stated_reserved(u: UnitState, e: Event, data: UnitReserved) -> GroupStated:
    follow_up = u.issued_patient_id is not None or u.fate is not None
    return GroupStated(unit_id=data.unit_id, step="crossmatched" if follow_up else "reserved",
                       abo=data.patient_abo, rhd=data.patient_rhd, sample_id=data.sample_id,
                       crossmatch=data.crossmatch, at=e.occurred_at, site_id=e.actor.site_id)


def _stated_issued(u: UnitState, e: Event, data: UnitIssued) -> GroupStated | None:
    if data.patient_abo is None and data.patient_rhd is None:
        return None
    return GroupStated(unit_id=data.unit_id, step="issued", abo=data.patient_abo,
                       rhd=data.patient_rhd, at=e.occurred_at, site_id=e.actor.site_id)


def _reserved(u: UnitState, e: Event, data: UnitReserved) -> UnitState:
    if u.fate is not None:
        return u  # a final fate never changes: the follow-up crossmatch is in the log
    if u.issued_patient_id is not None:
        return updated(u, {"crossmatch": data.crossmatch})  # an emergency's follow-up
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
        "emergency": False, "returned_late": u.returned_late or bool(data.returned_late),
    })


_UNIT = "A999926123456-E0398V00"
TYPES = (
    EventType(UnitReserved, _stating(_reserved, _stated_reserved), unit_reserved, HOSPITAL,
              reads=reads_unit_and_patient,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2", "patient_abo": "O",
                       "patient_rhd": "NEG", "crossmatch": "compatible",
                       "sample_id": "S-2026-000123"}),
    EventType(ReservationReleased, on_unit(_reservation_released), reservation_released,
              roles("inventory", "hospital"),
              example={"unit_id": _UNIT, "reason": "surgery postponed"}),
    EventType(UnitIssued, _stating(_issued, _stated_issued), unit_issued, HOSPITAL,
              reads=reads_unit_and_patient,
              example={"unit_id": _UNIT, "patient_id": "PAT-4F7Q2", "ward": "ICU"},
              signs=lambda world, data: issue_meaning(data.__dict__)),
    EventType(UnitReturned, on_unit(_returned), unit_returned, HOSPITAL,
              example={"unit_id": _UNIT, "reason": "not needed", "temp_dc": 45,
                       "validated_shipper": True}),
)
