"""Patients at the hospital (RULES §7): the transfusion lab groups each patient on one or two
samples before blood is reserved, records the antibodies it finds and the special
requirements the clinicians ask for, and after an emergency issue groups the patient and
crossmatches the units already given.

A patient's record is one in the country and is what every reservation is checked against:
non-O red cells need two agreeing determinations from different samples; a second sample
that disagrees (a wrong blood in tube, rare) blocks the patient until two fresh samples
agree; an antibody means a serological crossmatch; a requirement means a unit that carries
the matching attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.events.messages import Actor
from app.sim.model import GROUPS, RED_CELLS, WHOLE_BLOOD, Unit
from app.sim.state import SimState

TWO_SAMPLES = (RED_CELLS, WHOLE_BLOOD)
"""The categories of the two-sample rule the sim sends (granulocytes are never made)."""
WARDS = ("surgery", "icu", "maternity", "oncology", "haematology")
ANTIBODIES = ("anti-K", "anti-E", "anti-c", "anti-Fya", "anti-Jka")
IRRADIATED_WARDS = ("haematology", "oncology")
CMV_WARDS = ("maternity", "haematology")


@dataclass(slots=True)
class Patient:
    """A pseudonymous patient as the sim knows them: the true group, the samples that count
    on the national record (since the last discordance), antibody and requirements."""

    patient_id: str
    group: tuple[str, str]
    hospital: str
    ward: str
    samples: list[str] = field(default_factory=list)
    blocked: bool = False
    antibody: str | None = None
    requirements: tuple[str, ...] = ()

    @property
    def confirmed(self) -> bool:
        """Two counted determinations from different samples (they always agree here)."""
        return not self.blocked and len(self.samples) >= 2

    @property
    def sample(self) -> str | None:
        """The newest sample that counts: the one a reservation names."""
        return self.samples[-1] if self.samples and not self.blocked else None


def admit(s: SimState, hospital: str, category: str, *, one_sample: bool = False) -> Patient:
    """A new patient needing ``category``: grouped on a sample from an earlier visit and on
    today's (red cells always; platelets and plasma often on one sample only), then any
    antibody and requirement recorded. ``one_sample`` forgets today's sample for red cells
    (a mistake the hospital then corrects)."""
    patient = Patient(s.pseudonym("PAT"), s.random_group(), hospital, s.rng.choice(WARDS))
    s.patients[patient.patient_id] = patient
    two = category in TWO_SAMPLES or s.rng.random() >= s.rates.single_sample_share
    determine(s, patient, s.clock.now - timedelta(hours=s.rng.uniform(4, 60)))
    if two and not one_sample:
        wrong = s.rng.random() < s.rates.discordant_sample_share
        determine(s, patient, _fresh(s), wrong=wrong)
    if category in TWO_SAMPLES and s.rng.random() < s.rates.antibody_share:
        patient.antibody = s.rng.choice(ANTIBODIES)
        s.emit("PatientAntibodyRecorded", {"patient_id": patient.patient_id,
                                           "antibody": patient.antibody},
               _lab(s, patient), path="antibody found: serological crossmatch only")
    _requirements(s, patient)
    return patient


def _fresh(s: SimState) -> datetime:
    return s.clock.now - timedelta(minutes=s.rng.randint(20, 90))


def _lab(s: SimState, patient: Patient) -> Actor:
    """The hospital's transfusion laboratory records patient facts under the hospital role."""
    return s.actor(patient.hospital, "hospital")


def determine(s: SimState, patient: Patient, collected: datetime, *,
              wrong: bool = False) -> str:
    """Group one sample. ``wrong``: the tube holds another patient's blood, so the record
    turns discordant and blocks; the next determination starts the count afresh."""
    sample_id = s.serial(f"S-{patient.hospital}")
    group = patient.group
    if wrong:
        group = s.rng.choice([(g[0], g[1]) for g in GROUPS if (g[0], g[1]) != group])
    s.emit("PatientGroupDetermined", {
        "patient_id": patient.patient_id, "sample_id": sample_id, "abo": group[0],
        "rhd": group[1], "sample_collected_at": _at(min(collected, s.clock.now))},
        _lab(s, patient),
        path="wrong blood in tube: second sample discordant, patient blocked" if wrong
        else None)
    if wrong:
        patient.blocked, patient.samples = True, []
    elif patient.blocked:
        patient.blocked, patient.samples = False, [sample_id]
    else:
        patient.samples.append(sample_id)
    return sample_id


def resample(s: SimState, patient: Patient) -> None:
    """After a discordance: two fresh samples, taken and grouped again."""
    determine(s, patient, _fresh(s))
    determine(s, patient, _fresh(s))
    s.out[-1].path = "discordance resolved by two fresh samples"


def _requirements(s: SimState, patient: Patient) -> None:
    needs: list[tuple[str, datetime | None]] = []
    if patient.ward in IRRADIATED_WARDS and s.rng.random() < s.rates.irradiated_requirement_share:
        needs.append(("irradiated", None))
    if patient.ward in CMV_WARDS and s.rng.random() < s.rates.cmv_requirement_share:
        needs.append(("cmv_negative", s.clock.now + timedelta(days=s.rng.randint(60, 200))))
    for requirement, until in needs:
        data: dict[str, object] = {"patient_id": patient.patient_id,
                                   "requirement": requirement}
        if until is not None:
            data["until"] = _at(until)
        s.emit("PatientRequirementRecorded", data, s.actor(patient.hospital, "hospital"),
               path=f"patient requires {requirement.replace('_', '-')} components")
    patient.requirements = tuple(r for r, _ in needs)


def suitable(stock: list[Unit], patient: Patient) -> list[Unit]:
    """The units that carry every attribute the patient requires."""
    return [u for u in stock if all(r in u.attributes for r in patient.requirements)]


def arrive_bleeding(s: SimState, hospital: str) -> Patient:
    """A patient brought in bleeding, group unknown: nothing recorded yet."""
    patient = Patient(s.pseudonym("PAT"), s.random_group(), hospital, "emergency")
    s.patients[patient.patient_id] = patient
    return patient


def follow_up(s: SimState, patient: Patient, units: list[Unit], issued: datetime) -> None:
    """After an emergency issue: the sample drawn on arrival and a second one are grouped,
    and each unit given is crossmatched on the newest (recorded whatever it shows)."""
    determine(s, patient, issued - timedelta(minutes=2))
    sample = determine(s, patient, _fresh(s))
    for unit in units:
        s.emit("UnitReserved", {"unit_id": unit.unit_id, "patient_id": patient.patient_id,
                                "patient_abo": patient.group[0],
                                "patient_rhd": patient.group[1], "crossmatch": "compatible",
                                "sample_id": sample},
               s.actor(patient.hospital, "hospital"),
               path="emergency issue crossmatched afterwards")


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
