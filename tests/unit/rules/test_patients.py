"""RULES §7, patient facts: given what a hospital's transfusion laboratory recorded of a
patient (group determinations, antibodies, special requirements), when a unit is reserved
for them, then the record decides: non-O red cells need two agreeing determinations from
different samples, a disagreeing determination is recorded and blocks the patient until new
determinations, and a requirement is met by the unit's attributes or refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from app.log.record import format_time
from tests.support.scene import Scene, actor, din, scene

H1 = actor("hospital", "H1")
H2 = actor("hospital", "H2")
REQUIREMENTS = ("irradiated", "washed", "cmv_negative", "hbs_negative", "hla_matched")


def record(s: Scene, patient: str) -> Any:
    """The patient's record (a ``PatientState``)."""
    state = s.world.get(("patient", patient))
    assert state is not None, f"nothing recorded of {patient}"
    return state


def determination(patient: str, sample: str, abo: str, rhd: str,
                  collected_at: datetime) -> dict[str, str]:
    return {"patient_id": patient, "sample_id": sample, "abo": abo, "rhd": rhd,
            "sample_collected_at": format_time(collected_at)}


def reservation(unit: str, patient: str, abo: str, rhd: str,
                crossmatch: str = "compatible") -> dict[str, str]:
    return {"unit_id": unit, "patient_id": patient, "patient_abo": abo, "patient_rhd": rhd,
            "crossmatch": crossmatch}


# --- PatientGroupDetermined ----------------------------------------------------------------


def test_patient_group_determined_is_recorded_on_the_patients_record() -> None:
    """Given a patient of whom nothing is recorded,
    when the hospital's transfusion lab determines sample S1 as A POS,
    then the patient's record holds that determination and A POS is the recorded group, not
    yet confirmed by a second sample."""
    s = scene()
    assert s.world.get(("patient", "PAT-1")) is None
    [event] = s.do("PatientGroupDetermined",
                   determination("PAT-1", "S1", "A", "POS", s.now), H1)
    assert ("patient", "PAT-1") in event.refs
    state = record(s, "PAT-1")
    [found] = state.determinations
    assert (found.sample_id, found.abo, found.rhd, found.discordant) == ("S1", "A", "POS", False)
    assert state.group == ("A", "POS")
    assert not state.confirmed and not state.blocked


def test_patient_group_determined_sample_is_not_collected_after_the_step() -> None:
    """Given a determination dated at T,
    when its sample is said to be collected at T, it is recorded;
    when at T + 1 µs, it is refused (invalid-event-data on data.sample_collected_at)."""
    s = scene()
    at = s.later(minutes=1)
    s.do("PatientGroupDetermined", determination("PAT-1", "S1", "O", "NEG", at), H1, at=at)
    at = s.later(minutes=1)
    err = s.refuse("PatientGroupDetermined", determination(
        "PAT-1", "S2", "O", "NEG", at + timedelta(microseconds=1)), H1, at=at)
    assert (err.rule, err.field) == ("invalid-event-data", "data.sample_collected_at")
    assert len(record(s, "PAT-1").determinations) == 1


@pytest.mark.parametrize("role", ["lab", "collector", "processing", "inventory"])
def test_patient_facts_are_recorded_by_a_hospital(role: str) -> None:
    """Given a key of another role (RULES §9: a hospital records patient facts; its
    transfusion lab under the hospital role),
    when it records a determination, an antibody or a requirement,
    then it is refused (role-not-allowed) and nothing is recorded of the patient."""
    s = scene()
    by = actor(role, "LAB1" if role == "lab" else "BB1")
    for type_, data in (
        ("PatientGroupDetermined", determination("PAT-1", "S1", "O", "NEG", s.now)),
        ("PatientAntibodyRecorded", {"patient_id": "PAT-1", "antibody": "anti-K"}),
        ("PatientRequirementRecorded", {"patient_id": "PAT-1", "requirement": "irradiated"}),
    ):
        assert s.refuse(type_, data, by).rule == "role-not-allowed", type_
    assert s.world.get(("patient", "PAT-1")) is None


# --- the two-sample rule -------------------------------------------------------------------


def test_two_sample_rule_non_o_red_cells_need_second_sample() -> None:
    """Given A POS red cells at H1 and a patient determined A POS on one sample (S1),
    when the unit is reserved for the patient, it is refused (two-sample-rule);
    when a second sample (S2) agrees, the record is confirmed and the reservation is accepted:
    the unit is reserved for the patient."""
    # review item: (9) no patient record, no two-sample rule: non-O red cells were reserved for
    # a patient on the strength of one sample (or none).
    s = scene()
    unit = s.released_component("A", "POS")
    s.determine("PAT-1", "A", "POS", "S1")
    err = s.refuse("UnitReserved", reservation(unit, "PAT-1", "A", "POS"), H1)
    assert (err.rule, err.field) == ("two-sample-rule", "data.patient_id")
    assert s.unit(unit).status == "released"
    s.determine("PAT-1", "A", "POS", "S2")
    assert record(s, "PAT-1").confirmed
    s.do("UnitReserved", reservation(unit, "PAT-1", "A", "POS"), H1)
    state = s.unit(unit)
    assert (state.status, state.reserved_patient_id) == ("reserved", "PAT-1")


def test_two_sample_rule_non_o_red_cells_for_a_patient_with_no_determination() -> None:
    """Given A POS red cells and a patient of whom nothing is recorded,
    when the unit is reserved for the patient as A POS (the group only as the request says),
    then it is refused (two-sample-rule): fail closed."""
    # review item: (9) with no patient record the group given on the request was taken as true.
    s = scene()
    unit = s.released_component("A", "POS")
    err = s.refuse("UnitReserved", reservation(unit, "PAT-1", "A", "POS"), H1)
    assert err.rule == "two-sample-rule"


def test_two_sample_rule_the_same_sample_twice_is_one_sample() -> None:
    """Given a patient determined A POS twice on the same sample S1,
    when A POS red cells are reserved for them, then it is refused (two-sample-rule)."""
    s = scene()
    unit = s.released_component("A", "POS")
    s.determine("PAT-1", "A", "POS", "S1")
    s.determine("PAT-1", "A", "POS", "S1")
    assert len(record(s, "PAT-1").determinations) == 2
    assert not record(s, "PAT-1").confirmed
    assert s.refuse("UnitReserved", reservation(unit, "PAT-1", "A", "POS"),
                    H1).rule == "two-sample-rule"


def test_two_sample_rule_group_o_red_cells_and_plasma_need_one_determination() -> None:
    """Given a patient determined A POS on one sample,
    when group O red cells, or A plasma (not red cells), are reserved for them,
    then both are accepted: the rule covers non-O red cells only."""
    s = scene()
    o_red = s.released_component("O", "NEG")
    a_plasma = s.released_component("A", "POS", category="plasma")
    s.determine("PAT-1", "A", "POS", "S1")
    s.do("UnitReserved", reservation(o_red, "PAT-1", "A", "POS"), H1)
    s.do("UnitReserved", reservation(a_plasma, "PAT-1", "A", "POS"), H1)
    assert s.unit(o_red).status == s.unit(a_plasma).status == "reserved"


def test_two_sample_rule_discordant_determination_blocks_until_new_determinations() -> None:
    """Given a patient confirmed A POS on samples S1 and S2, with an A POS unit reserved,
    when sample S3 is determined B POS (a possible wrong blood in tube),
    then the determination is recorded, never refused, marked discordant, and every
    reservation and issue for the patient is refused (patient-group-discordant);
    when a new sample S4 is determined B POS, the block ends: group O red cells may be
    reserved again, the earlier A POS reservation no longer matches the record
    (patient-group-mismatch), and B red cells need a second new sample (two-sample-rule):
    the determinations before the disagreement no longer count."""
    # review item: (9) no record, so nothing could ever notice two samples disagreeing.
    s = scene()
    reserved = s.released_component("A", "POS")
    o_neg = s.released_component("O", "NEG")
    b_pos = s.released_component("B", "POS")
    s.determine("PAT-1", "A", "POS", "S1")
    s.determine("PAT-1", "A", "POS", "S2")
    s.do("UnitReserved", reservation(reserved, "PAT-1", "A", "POS"), H1)

    [event] = s.do("PatientGroupDetermined",
                   determination("PAT-1", "S3", "B", "POS", s.now), H1)
    assert event.type == "PatientGroupDetermined"
    state = record(s, "PAT-1")
    assert [d.discordant for d in state.determinations] == [False, False, True]
    assert state.blocked and state.group is None
    for abo in ("A", "B", "O"):
        err = s.refuse("UnitReserved", reservation(o_neg, "PAT-1", abo, "POS"), H1)
        assert (err.rule, err.field) == ("patient-group-discordant", "data.patient_id")
    err = s.refuse("UnitIssued", {"unit_id": reserved, "patient_id": "PAT-1"}, H1)
    assert err.rule == "patient-group-discordant"

    s.determine("PAT-1", "B", "POS", "S4")
    state = record(s, "PAT-1")
    assert not state.blocked and state.group == ("B", "POS") and not state.confirmed
    assert s.refuse("UnitIssued", {"unit_id": reserved, "patient_id": "PAT-1"},
                    H1).rule == "patient-group-mismatch"
    assert s.refuse("UnitReserved", reservation(b_pos, "PAT-1", "B", "POS"),
                    H1).rule == "two-sample-rule"
    s.do("UnitReserved", reservation(o_neg, "PAT-1", "B", "POS"), H1)
    s.determine("PAT-1", "B", "POS", "S5")
    assert record(s, "PAT-1").confirmed
    s.do("UnitReserved", reservation(b_pos, "PAT-1", "B", "POS"), H1)
    assert s.unit(b_pos).reserved_patient_id == "PAT-1"


def test_two_sample_rule_a_disagreement_in_rhd_alone_is_discordant() -> None:
    """Given a patient determined O NEG on S1,
    when S2 is determined O POS, then the record is blocked (patient-group-discordant)."""
    s = scene()
    unit = s.released_component("O", "NEG")
    s.determine("PAT-1", "O", "NEG", "S1")
    s.determine("PAT-1", "O", "POS", "S2")
    assert record(s, "PAT-1").blocked
    assert s.refuse("UnitReserved", reservation(unit, "PAT-1", "O", "NEG"),
                    H1).rule == "patient-group-discordant"


# --- PatientAntibodyRecorded ---------------------------------------------------------------


def test_patient_antibody_recorded_at_one_hospital_protects_the_patient_at_another() -> None:
    """Given a patient confirmed O NEG on two current samples,
    when H2 records anti-K for them, then the record keeps it, and at H1 an electronic
    crossmatch on the current sample is refused (electronic-crossmatch-not-allowed) while a
    serological one is accepted: one record in the country."""
    # review item: (9) no antibodies were recorded anywhere; electronic crossmatch for anyone.
    s = scene()
    unit = s.released_component("O", "NEG")
    s.determine("PAT-1", "O", "NEG", "S1", hours_ago=30)
    s.determine("PAT-1", "O", "NEG", "S2")
    s.do("PatientAntibodyRecorded", {"patient_id": "PAT-1", "antibody": "anti-K"}, H2)
    [antibody] = record(s, "PAT-1").antibodies
    assert (antibody.antibody, antibody.site_id) == ("anti-K", "H2")
    electronic = {**reservation(unit, "PAT-1", "O", "NEG", "electronic"), "sample_id": "S2"}
    err = s.refuse("UnitReserved", electronic, H1)
    assert (err.rule, err.field) == ("electronic-crossmatch-not-allowed", "data.crossmatch")
    s.do("UnitReserved", {**electronic, "crossmatch": "compatible"}, H1)
    assert s.unit(unit).crossmatch == "compatible"


def test_patient_antibody_recorded_names_an_antibody() -> None:
    """When an antibody that is not a laboratory name (empty, or free prose with a
    semicolon) is recorded, then it is refused (invalid-event-data on data.antibody)."""
    s = scene()
    for bad in ("", "anti-K; also see notes"):
        err = s.refuse("PatientAntibodyRecorded", {"patient_id": "PAT-1", "antibody": bad}, H1)
        assert (err.rule, err.field) == ("invalid-event-data", "data.antibody")
    s.do("PatientAntibodyRecorded", {"patient_id": "PAT-1", "antibody": "anti-Fya"}, H1)
    assert [a.antibody for a in record(s, "PAT-1").antibodies] == ["anti-Fya"]


# --- PatientRequirementRecorded ------------------------------------------------------------


@pytest.mark.parametrize("requirement", REQUIREMENTS)
def test_patient_requirement_recorded_is_one_of_the_coded_requirements(
        requirement: str) -> None:
    """When a coded requirement is recorded, then the record lists it as active."""
    s = scene()
    s.do("PatientRequirementRecorded", {"patient_id": "PAT-1", "requirement": requirement}, H1)
    assert record(s, "PAT-1").active_requirements(s.now) == (requirement,)


@pytest.mark.parametrize("requirement", ["leukoreduced", "IRRADIATED", "fresh", ""])
def test_patient_requirement_recorded_uncoded_is_refused(requirement: str) -> None:
    """When a requirement outside RULES §7's list is recorded, then it is refused
    (invalid-event-data on data.requirement) and nothing is recorded."""
    s = scene()
    err = s.refuse("PatientRequirementRecorded",
                   {"patient_id": "PAT-1", "requirement": requirement}, H1)
    assert (err.rule, err.field) == ("invalid-event-data", "data.requirement")
    assert s.world.get(("patient", "PAT-1")) is None


def test_patient_requirement_irradiated_unmet_is_refused_met_is_reserved() -> None:
    """Given an O NEG patient who needs irradiated components,
    when plain O NEG red cells are reserved for them, it is refused (requirement-not-met,
    naming the requirement);
    when irradiated O NEG red cells are, the reservation is accepted."""
    # review item: (9) no special requirements existed; irradiated was never checked.
    s = scene()
    plain = s.released_component("O", "NEG")
    treated = s.irradiated_component()
    assert "irradiated" in s.unit(treated).attributes
    s.do("PatientRequirementRecorded", {"patient_id": "PAT-1", "requirement": "irradiated"}, H1)
    err = s.refuse("UnitReserved", reservation(plain, "PAT-1", "O", "NEG"), H1)
    assert (err.rule, err.field, err.extra["requirements"]) == (
        "requirement-not-met", "data.unit_id", ["irradiated"])
    s.do("UnitReserved", reservation(treated, "PAT-1", "O", "NEG"), H1)
    assert s.unit(treated).status == "reserved"


def test_patient_requirement_cmv_negative_is_met_by_a_cmv_negative_test() -> None:
    """Given a patient who needs CMV-negative and irradiated components, and an irradiated
    O NEG unit with no CMV result,
    when it is reserved, it is refused (requirement-not-met: cmv_negative only);
    when the lab records CMV non-reactive on its donation, the unit is cmv_negative and the
    reservation is accepted."""
    s = scene()
    unit = s.irradiated_component()
    for requirement in ("irradiated", "cmv_negative"):
        s.do("PatientRequirementRecorded", {"patient_id": "PAT-1", "requirement": requirement},
             H1)
    err = s.refuse("UnitReserved", reservation(unit, "PAT-1", "O", "NEG"), H1)
    assert (err.rule, err.extra["requirements"]) == ("requirement-not-met", ["cmv_negative"])
    s.do("TestResultRecorded", {"din": din(1), "marker": "CMV", "result": "non_reactive",
                                "lab_site_id": "LAB1"}, actor("lab", "LAB1"))
    assert "cmv_negative" in s.unit(unit).attributes
    s.do("UnitReserved", reservation(unit, "PAT-1", "O", "NEG"), H1)


def test_patient_requirement_active_window_ends_at_until() -> None:
    """Given a patient who needs irradiated components until U,
    when plain red cells are reserved at U - 1 µs, it is refused (requirement-not-met);
    when at U, the requirement has ended and the reservation is accepted."""
    s = scene()
    unit = s.released_component("O", "NEG")
    until = s.now + timedelta(hours=2)
    s.do("PatientRequirementRecorded", {"patient_id": "PAT-1", "requirement": "irradiated",
                                        "until": format_time(until)}, H1)
    err = s.refuse("UnitReserved", reservation(unit, "PAT-1", "O", "NEG"), H1,
                   at=until - timedelta(microseconds=1))
    assert err.rule == "requirement-not-met"
    s.do("UnitReserved", reservation(unit, "PAT-1", "O", "NEG"), H1, at=until)
    assert record(s, "PAT-1").active_requirements(until) == ()


def test_patient_requirement_until_is_after_the_step() -> None:
    """When a requirement is recorded at T with ``until`` T, it is refused
    (invalid-event-data on data.until); with ``until`` T + 1 µs it is recorded."""
    s = scene()
    at = s.later(minutes=1)
    err = s.refuse("PatientRequirementRecorded", {
        "patient_id": "PAT-1", "requirement": "washed", "until": format_time(at)}, H1, at=at)
    assert (err.rule, err.field) == ("invalid-event-data", "data.until")
    s.do("PatientRequirementRecorded", {
        "patient_id": "PAT-1", "requirement": "washed",
        "until": format_time(at + timedelta(microseconds=1))}, H1, at=at)
    [requirement] = record(s, "PAT-1").requirements
    assert requirement.until == at + timedelta(microseconds=1)
