"""Patient facts: group determinations, antibodies and special requirements (RULES §7).

A hospital records what its transfusion laboratory found about a pseudonymous patient; the
record is the patient's state, one in the country, which every reservation and issue is
checked against. Nothing recorded here is ever refused for disagreeing with what came before:
a determination that disagrees is evidence of a possible wrong blood in tube, so it is
recorded, marked discordant, and blocks the patient's reservations and issues until a new
determination is recorded.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from app.errors import InvalidEventData
from app.events.catalogue_parts import Requirement
from app.events.decision import Decision
from app.events.event_type import Changes, EventType, RawData, reads_key, roles
from app.events.fields import AboGroup, Ident, Pseudonym, RhdType, Timestamp
from app.events.messages import Event
from app.events.payload import EventData, construct
from app.events.state import (
    GroupDetermination,
    PatientAntibody,
    PatientRequirement,
    PatientState,
    World,
    get_patient,
    updated,
)
from app.log.record import parse_time

HOSPITAL = roles("hospital")
Antibody = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 +()/._-]{0,39}$")]
"""An antibody as the laboratory names it (anti-D, anti-K, anti-Fya...)."""


class PatientGroupDetermined(EventData):
    """The ABO/RhD group of one sample of the patient, determined by the transfusion lab."""

    patient_id: Pseudonym
    sample_id: Ident
    abo: AboGroup
    rhd: RhdType
    sample_collected_at: Timestamp


class PatientAntibodyRecorded(EventData):
    """A clinically significant red-cell antibody the patient has: no electronic crossmatch."""

    patient_id: Pseudonym
    antibody: Antibody


class PatientRequirementRecorded(EventData):
    """A special requirement for the patient's components, until ``until`` when given."""

    patient_id: Pseudonym
    requirement: Requirement
    until: Timestamp | None = None


def record_of(d: Decision, patient_id: str) -> PatientState | None:
    return get_patient(d.world, patient_id)


def _patient_stream(patient_id: str) -> str:
    return f"patient:{patient_id}"


def _emit(d: Decision, data: PatientGroupDetermined | PatientAntibodyRecorded
          | PatientRequirementRecorded) -> None:
    record = record_of(d, data.patient_id)
    if record is not None:
        d.in_order(record.last_at, f"patient {data.patient_id}")
    d.emit(data, _patient_stream(data.patient_id), {("patient", data.patient_id)})


def group_determined(d: Decision, data: PatientGroupDetermined) -> None:
    """Recorded whatever it says; the sample cannot be taken after the step is recorded."""
    if parse_time(data.sample_collected_at) > d.at:
        raise InvalidEventData("the sample cannot be collected after the determination",
                               field="data.sample_collected_at")
    _emit(d, data)


def antibody_recorded(d: Decision, data: PatientAntibodyRecorded) -> None:
    _emit(d, data)


def requirement_recorded(d: Decision, data: PatientRequirementRecorded) -> None:
    if data.until is not None and parse_time(data.until) <= d.at:
        raise InvalidEventData("until must be after the step", field="data.until")
    _emit(d, data)


def _record(world: World, patient_id: str) -> PatientState:
    return get_patient(world, patient_id) or PatientState(patient_id=patient_id)


def _determined(world: World, e: Event, data: PatientGroupDetermined) -> Changes:
    record = _record(world, data.patient_id)
    counted = record.counted
    discordant = not record.blocked and any(
        (x.abo, x.rhd) != (data.abo, data.rhd) for x in counted)
    new = construct(GroupDetermination, dict(
        sample_id=data.sample_id, abo=data.abo, rhd=data.rhd,
        sample_collected_at=parse_time(data.sample_collected_at), at=e.occurred_at,
        site_id=e.actor.site_id, discordant=discordant))
    determinations = (*record.determinations, new)
    if discordant:
        # Nothing determined so far counts any more; the next determination starts afresh.
        changes = {"blocked": True, "counted_from": len(determinations)}
    elif record.blocked:
        changes = {"blocked": False, "counted_from": len(record.determinations)}
    else:
        changes = {}
    return {("patient", data.patient_id): updated(record, {
        **changes, "determinations": determinations, "last_at": e.occurred_at})}


def _antibody(world: World, e: Event, data: PatientAntibodyRecorded) -> Changes:
    record = _record(world, data.patient_id)
    found = construct(PatientAntibody, dict(antibody=data.antibody, at=e.occurred_at,
                                            site_id=e.actor.site_id))
    return {("patient", data.patient_id): updated(record, {
        "antibodies": (*record.antibodies, found), "last_at": e.occurred_at})}


def _requirement(world: World, e: Event, data: PatientRequirementRecorded) -> Changes:
    record = _record(world, data.patient_id)
    needed = construct(PatientRequirement, dict(
        requirement=data.requirement, since=e.occurred_at,
        until=parse_time(data.until) if data.until is not None else None,
        site_id=e.actor.site_id))
    return {("patient", data.patient_id): updated(record, {
        "requirements": (*record.requirements, needed), "last_at": e.occurred_at})}


def reads_patient(data: RawData) -> list[tuple[tuple[str, str], bool]]:
    return reads_key("patient", data.get("patient_id"))


_PATIENT = "PAT-4F7Q2"
TYPES = (
    EventType(PatientGroupDetermined, _determined, group_determined, HOSPITAL,
              reads=reads_patient,
              example={"patient_id": _PATIENT, "sample_id": "S-2026-000123", "abo": "A",
                       "rhd": "POS", "sample_collected_at": "2026-03-01T08:00:00.000000Z"}),
    EventType(PatientAntibodyRecorded, _antibody, antibody_recorded, HOSPITAL,
              reads=reads_patient, example={"patient_id": _PATIENT, "antibody": "anti-K"}),
    EventType(PatientRequirementRecorded, _requirement, requirement_recorded, HOSPITAL,
              reads=reads_patient,
              example={"patient_id": _PATIENT, "requirement": "irradiated",
                       "until": "2027-03-01T00:00:00.000000Z"}),
)
