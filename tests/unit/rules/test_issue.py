"""RULES §7, reservation and issue: given a released unit at a hospital and what is recorded
of the patient, when it is reserved or issued, then the group is checked against the record,
an electronic crossmatch needs a patient without antibodies, the sample is at most 72 h old,
the issue matches its reservation, the patient's requirements are met, RhD-positive platelets
for an RhD-negative (or unknown) patient need anti-D or an override, and an emergency issue
stays within its categories and is followed up by a crossmatch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.events.catalogue import Catalogue
from app.log.record import format_time
from tests.support.scene import PLATELETS, RED_CELLS, Scene, actor, din, scene

H1 = actor("hospital", "H1")
H2 = actor("hospital", "H2")
EMERGENCY: dict[str, Any] = {"emergency": True, "justification": "massive haemorrhage",
                             "physician_id": "PHY-7"}


def reservation(unit: str, patient: str, abo: str, rhd: str,
                crossmatch: str = "compatible", **extra: str) -> dict[str, str]:
    return {"unit_id": unit, "patient_id": patient, "patient_abo": abo, "patient_rhd": rhd,
            "crossmatch": crossmatch, **extra}


def platelets(s: Scene, abo: str, rhd: str, at_site: str = "H1") -> str:
    """Released platelets from a fresh whole-blood donation (bacterial screen clear)."""
    parent = s.collect()
    _, unit = s.split(parent, [(RED_CELLS, "red_cells", 250), (PLATELETS, "platelets", 60)])
    s.test_all(din(s.dins), abo, rhd)
    s.do("TestResultRecorded", {"din": din(s.dins), "marker": "BACTERIA",
                                "result": "non_reactive", "lab_site_id": "LAB1"},
         actor("lab", "LAB1"))
    s.release(unit)
    s.receive(unit, s.ship(unit, at_site), at_site)
    return unit


def emergency_issue(unit: str, patient: str = "PAT-9", **extra: Any) -> dict[str, Any]:
    return {"unit_id": unit, "patient_id": patient, **EMERGENCY, **extra}


# --- UnitReserved ---------------------------------------------------------------------------


def test_reservation_patient_group_must_equal_the_recorded_group() -> None:
    """Given a patient recorded O NEG,
    when O NEG red cells are reserved for them as A POS, or as O POS, it is refused
    (patient-group-mismatch on data.patient_abo);
    when as O NEG, the reservation is accepted with that group."""
    # review item: (9) no historical group: whatever group the request said was believed.
    s = scene()
    unit = s.released_component("O", "NEG")
    s.determine("PAT-1", "O", "NEG", "S1")
    for abo, rhd in (("A", "POS"), ("O", "POS")):
        err = s.refuse("UnitReserved", reservation(unit, "PAT-1", abo, rhd), H1)
        assert (err.rule, err.field) == ("patient-group-mismatch", "data.patient_abo")
    s.do("UnitReserved", reservation(unit, "PAT-1", "O", "NEG"), H1)
    state = s.unit(unit)
    assert (state.reserved_patient_id, state.patient_abo, state.patient_rhd) == (
        "PAT-1", "O", "NEG")


def test_reservation_sample_no_older_than_72_hours() -> None:
    """Given a patient whose sample S1 was collected at C (recorded O NEG),
    when a unit is reserved on S1 at C + 72 h, it is accepted;
    when another is reserved on S1 at C + 72 h + 1 µs, it is refused (sample-too-old on
    data.sample_id)."""
    s = scene()
    first = s.released_component("O", "NEG")
    second = s.released_component("O", "NEG")
    collected = s.later(minutes=1)
    s.do("PatientGroupDetermined", {"patient_id": "PAT-1", "sample_id": "S1", "abo": "O",
                                    "rhd": "NEG", "sample_collected_at": format_time(collected)},
         H1)
    limit = collected + timedelta(hours=72)
    s.do("UnitReserved", reservation(first, "PAT-1", "O", "NEG", sample_id="S1"), H1, at=limit)
    assert s.unit(first).reserved_patient_id == "PAT-1"
    err = s.refuse("UnitReserved", reservation(second, "PAT-1", "O", "NEG", sample_id="S1"), H1,
                   at=limit + timedelta(microseconds=1))
    assert (err.rule, err.field) == ("sample-too-old", "data.sample_id")


def test_reservation_sample_must_be_one_of_the_patients_samples() -> None:
    """Given sample S1 recorded for PAT-1 and none for PAT-2,
    when a unit is reserved for PAT-2 on S1, then it is refused (sample-unknown)."""
    s = scene()
    unit = s.released_component("O", "NEG")
    s.determine("PAT-1", "O", "NEG", "S1")
    err = s.refuse("UnitReserved", reservation(unit, "PAT-2", "O", "NEG", sample_id="S1"), H1)
    assert (err.rule, err.field) == ("sample-unknown", "data.sample_id")
    s.do("UnitReserved", reservation(unit, "PAT-1", "O", "NEG", sample_id="S1"), H1)


def test_electronic_crossmatch_refused_when_the_patient_has_antibodies() -> None:
    """Given a patient confirmed O NEG on two samples, the latest (S2) current,
    when a unit is reserved by electronic crossmatch on S2, it is accepted;
    when the patient then has anti-D recorded, an electronic crossmatch of a second unit is
    refused (electronic-crossmatch-not-allowed on data.crossmatch), and a serological one is
    accepted."""
    # review item: (9) electronic crossmatch was allowed for any patient, antibodies or not.
    s = scene()
    first = s.released_component("O", "NEG")
    second = s.released_component("O", "NEG")
    s.determine("PAT-1", "O", "NEG", "S1", hours_ago=48)
    s.determine("PAT-1", "O", "NEG", "S2")
    s.do("UnitReserved", reservation(first, "PAT-1", "O", "NEG", "electronic", sample_id="S2"),
         H1)
    assert s.unit(first).crossmatch == "electronic"
    s.do("PatientAntibodyRecorded", {"patient_id": "PAT-1", "antibody": "anti-D"}, H1)
    err = s.refuse("UnitReserved",
                   reservation(second, "PAT-1", "O", "NEG", "electronic", sample_id="S2"), H1)
    assert (err.rule, err.field) == ("electronic-crossmatch-not-allowed", "data.crossmatch")
    s.do("UnitReserved", reservation(second, "PAT-1", "O", "NEG", sample_id="S2"), H1)
    assert s.unit(second).crossmatch == "compatible"


def test_electronic_crossmatch_needs_a_sample_and_two_agreeing_determinations() -> None:
    """Given O NEG red cells (no two-sample rule for group O),
    when they are reserved by electronic crossmatch for a patient with no record, it is
    refused (electronic-crossmatch-not-allowed on data.sample_id); for a patient determined on
    one sample only, refused too (on data.crossmatch): the catalogue's choice (BSH) that an
    electronic issue rests on two agreeing samples."""
    # review item: (9) electronic crossmatch allowed for any patient.
    s = scene()
    unit = s.released_component("O", "NEG")
    err = s.refuse("UnitReserved", reservation(unit, "PAT-1", "O", "NEG", "electronic"), H1)
    assert (err.rule, err.field) == ("electronic-crossmatch-not-allowed", "data.sample_id")
    s.determine("PAT-2", "O", "NEG", "S1")
    err = s.refuse("UnitReserved",
                   reservation(unit, "PAT-2", "O", "NEG", "electronic", sample_id="S1"), H1)
    assert (err.rule, err.field) == ("electronic-crossmatch-not-allowed", "data.crossmatch")
    s.determine("PAT-2", "O", "NEG", "S2")
    s.do("UnitReserved", reservation(unit, "PAT-2", "O", "NEG", "electronic", sample_id="S2"),
         H1)


def test_electronic_crossmatch_not_on_a_sample_discredited_by_a_disagreement() -> None:
    """Given a patient determined A POS on S1 and S2, then B POS on S3 (discordant), then
    B POS on S4 and S5 (confirmed B POS afresh: the determinations before the disagreement
    no longer count, PatientRules),
    when a unit is reserved by electronic crossmatch on S5, it is accepted;
    when another is reserved by electronic crossmatch on S1 (which said A POS, all within
    72 h), then it is refused (sample-discounted on data.sample_id): an electronic
    crossmatch rests on the sample's group, and S1's may be another patient's."""
    s = scene()
    current = s.released_component("O", "NEG")
    stale = s.released_component("O", "NEG")
    for sample, abo in (("S1", "A"), ("S2", "A"), ("S3", "B"), ("S4", "B"), ("S5", "B")):
        s.determine("PAT-1", abo, "POS", sample)
    s.do("UnitReserved", reservation(current, "PAT-1", "B", "POS", "electronic",
                                     sample_id="S5"), H1)
    err = s.refuse("UnitReserved", reservation(stale, "PAT-1", "B", "POS", "electronic",
                                               sample_id="S1"), H1)
    assert (err.rule, err.field) == ("sample-discounted", "data.sample_id")


# --- UnitIssued -----------------------------------------------------------------------------


def test_issue_must_match_the_reservation_group() -> None:
    """Given O NEG red cells reserved for an A POS patient,
    when they are issued saying the patient is AB (or RhD negative), it is refused
    (patient-group-conflict on data.patient_abo), never taken as the new truth, and the unit
    stays reserved as A POS;
    when issued saying A POS (or nothing), the issue is accepted."""
    # review item: (2) the issue-time group (AB) silently overrode the reservation (A POS).
    s = scene()
    unit = s.released_component("O", "NEG")
    s.reserve(unit, "PAT-1", "A", "POS")
    for abo, rhd in (("AB", None), (None, "NEG"), ("AB", "POS")):
        issue = {"unit_id": unit, "patient_id": "PAT-1", "patient_abo": abo, "patient_rhd": rhd}
        err = s.refuse("UnitIssued", {k: v for k, v in issue.items() if v is not None}, H1)
        assert (err.rule, err.field) == ("patient-group-conflict", "data.patient_abo")
    state = s.unit(unit)
    assert (state.status, state.patient_abo, state.patient_rhd) == ("reserved", "A", "POS")
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1", "patient_abo": "A",
                        "patient_rhd": "POS"}, H1)
    assert (s.unit(unit).status, s.unit(unit).issued_patient_id) == ("issued", "PAT-1")


def test_issue_must_match_the_reservation_patient() -> None:
    """Given a unit reserved for PAT-1,
    when it is issued to PAT-2, it is refused (wrong-patient); to PAT-1 it is accepted."""
    s = scene()
    unit = s.released_component("O", "NEG")
    s.reserve(unit, "PAT-1")
    err = s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-2"}, H1)
    assert (err.rule, err.field) == ("wrong-patient", "data.patient_id")
    s.issue(unit, "PAT-1")
    assert s.unit(unit).issued_patient_id == "PAT-1"


def test_issue_group_checked_against_the_record() -> None:
    """Given O NEG red cells reserved for PAT-1 as A POS while nothing was recorded of them,
    when the lab then determines PAT-1 B POS and the unit is issued, it is refused
    (patient-group-mismatch): the record, not the reservation, is the patient's group."""
    s = scene()
    unit = s.released_component("O", "NEG")
    other = s.released_component("O", "NEG")
    s.reserve(unit, "PAT-1", "A", "POS")
    s.reserve(other, "PAT-2", "A", "POS")
    s.determine("PAT-1", "B", "POS", "S1")
    s.determine("PAT-2", "A", "POS", "S7")
    err = s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1"}, H1)
    assert (err.rule, err.field) == ("patient-group-mismatch", "data.patient_abo")
    s.issue(other, "PAT-2")
    assert s.unit(other).status == "issued"


def test_issue_patient_requirements_checked_against_the_units_attributes() -> None:
    """Given plain O NEG red cells reserved for a patient, and irradiated O NEG red cells,
    when the patient is then recorded as needing irradiated components and the plain unit is
    issued, it is refused (requirement-not-met), in an emergency too;
    when the irradiated unit is issued in an emergency, it is accepted."""
    # review item: (9) special requirements were never checked.
    s = scene()
    plain = s.released_component("O", "NEG")
    spare = s.released_component("O", "NEG")
    treated = s.irradiated_component()
    s.reserve(plain, "PAT-1")
    s.do("PatientRequirementRecorded", {"patient_id": "PAT-1", "requirement": "irradiated"}, H1)
    err = s.refuse("UnitIssued", {"unit_id": plain, "patient_id": "PAT-1"}, H1)
    assert (err.rule, err.extra["requirements"]) == ("requirement-not-met", ["irradiated"])
    err = s.refuse("UnitIssued", emergency_issue(spare, "PAT-1"), H1)
    assert (err.rule, err.field) == ("requirement-not-met", "data.unit_id")
    s.do("UnitIssued", emergency_issue(treated, "PAT-1"), H1)
    assert s.unit(treated).issued_patient_id == "PAT-1"


# --- RhD-positive platelets -----------------------------------------------------------------


def test_rhd_negative_patient_rhd_positive_platelets_need_anti_d_or_override() -> None:
    """Given A POS platelets reserved for an O NEG patient (platelets cross ABO),
    when they are issued with no more, it is refused (rhd-platelets-need-prophylaxis on
    data.anti_d_prophylaxis);
    when issued with anti_d_prophylaxis: true, accepted; a second unit with an
    override_reason instead, accepted, the reason kept on the event (for the overrides
    audit)."""
    # review item: (1) an RhD-negative patient got RhD-positive platelets with no check at all.
    s = scene()
    first = platelets(s, "A", "POS")
    second = platelets(s, "B", "POS")
    s.reserve(first, "PAT-1", "O", "NEG")
    s.reserve(second, "PAT-1", "O", "NEG")
    err = s.refuse("UnitIssued", {"unit_id": first, "patient_id": "PAT-1"}, H1)
    assert (err.rule, err.field) == ("rhd-platelets-need-prophylaxis", "data.anti_d_prophylaxis")
    s.do("UnitIssued", {"unit_id": first, "patient_id": "PAT-1", "anti_d_prophylaxis": True}, H1)
    assert s.unit(first).status == "issued"
    [issued] = s.do("UnitIssued", {"unit_id": second, "patient_id": "PAT-1",
                                   "override_reason": "no RhD-negative platelets in stock"}, H1)
    assert issued.data.override_reason == "no RhD-negative platelets in stock"  # type: ignore[attr-defined]


def test_rhd_unknown_patient_rhd_positive_platelets_need_anti_d_or_override() -> None:
    """Given A POS platelets and a patient of unknown group,
    when they are issued in an emergency with no more, it is refused
    (rhd-platelets-need-prophylaxis): an unknown RhD counts as negative;
    when with an override_reason, the issue is accepted."""
    s = scene()
    unit = platelets(s, "A", "POS")
    err = s.refuse("UnitIssued", emergency_issue(unit), H1)
    assert err.rule == "rhd-platelets-need-prophylaxis"
    s.do("UnitIssued", emergency_issue(unit, override_reason="bleeding, none RhD-negative"), H1)
    assert s.unit(unit).emergency


def test_rhd_platelets_no_check_when_it_cannot_sensitise() -> None:
    """Given A POS platelets reserved for an O POS patient and A NEG platelets reserved for
    an O NEG patient,
    when each is issued with no anti-D and no override, then both are accepted."""
    s = scene()
    pos = platelets(s, "A", "POS")
    neg = platelets(s, "A", "NEG")
    s.reserve(pos, "PAT-1", "O", "POS")
    s.reserve(neg, "PAT-2", "O", "NEG")
    s.issue(pos, "PAT-1")
    s.issue(neg, "PAT-2")
    assert s.unit(pos).status == s.unit(neg).status == "issued"


# --- emergency release ----------------------------------------------------------------------


def test_emergency_release_o_neg_red_cells_when_the_group_is_unknown() -> None:
    """Given a patient of unknown group,
    when O NEG red cells are issued uncrossmatched, it is accepted and the unit is issued as
    an emergency; O POS red cells are refused (emergency-product-not-allowed)."""
    s = scene()
    o_neg = s.released_component("O", "NEG")
    o_pos = s.released_component("O", "POS")
    assert s.refuse("UnitIssued", emergency_issue(o_pos), H1).rule == (
        "emergency-product-not-allowed")
    s.do("UnitIssued", emergency_issue(o_neg), H1)
    state = s.unit(o_neg)
    assert (state.status, state.emergency, state.issued_patient_id) == ("issued", True, "PAT-9")


def test_emergency_release_needs_justification_and_physician() -> None:
    """When an emergency issue lacks the justification or the physician, it is refused
    (emergency-details-missing on that field)."""
    s = scene()
    unit = s.released_component("O", "NEG")
    for missing in ("justification", "physician_id"):
        data = {k: v for k, v in emergency_issue(unit).items() if k != missing}
        err = s.refuse("UnitIssued", data, H1)
        assert (err.rule, err.field) == ("emergency-details-missing", f"data.{missing}")


def test_emergency_release_ab_plasma_and_a_plasma_only_when_the_catalogue_allows() -> None:
    """Given a patient of unknown group,
    when AB plasma is issued uncrossmatched, it is accepted; A plasma is refused
    (emergency-product-not-allowed), unless the catalogue sets emergency_group_a_plasma."""
    from app.events.catalogue_parts import PatientRules

    s = scene()
    ab = s.released_component("AB", "POS", category="plasma")
    a = s.released_component("A", "POS", category="plasma")
    s.do("UnitIssued", emergency_issue(ab), H1)
    assert s.refuse("UnitIssued", emergency_issue(a), H1).rule == "emergency-product-not-allowed"
    allowing = Scene(Catalogue(patients=PatientRules(emergency_group_a_plasma=True))).network()
    a = allowing.released_component("A", "POS", category="plasma")
    allowing.do("UnitIssued", emergency_issue(a), H1)
    assert allowing.unit(a).emergency


@pytest.mark.parametrize(("abo", "rhd"), [("O", "NEG"), ("A", "NEG"), ("B", "NEG"),
                                          ("AB", "NEG")])
def test_emergency_release_platelets_of_any_group(abo: str, rhd: str) -> None:
    """Given a patient of unknown group,
    when RhD-negative platelets of any ABO group are issued uncrossmatched, then the issue is
    accepted."""
    # review item: (4) platelets could never be issued in an emergency.
    s = scene()
    unit = platelets(s, abo, rhd)
    s.do("UnitIssued", emergency_issue(unit), H1)
    assert (s.unit(unit).status, s.unit(unit).emergency) == ("issued", True)


def test_emergency_release_group_specific_plasma_when_the_group_is_known() -> None:
    """Given a patient the laboratory determined A POS on one sample,
    when A plasma is issued uncrossmatched, it is accepted (group-specific);
    when B plasma is, it is refused (emergency-product-not-allowed). Before the
    determination, the issue only stating A POS, A plasma is refused too: a stated group is
    not a known one."""
    # review item: (4) plasma for a patient of known group could never be issued in an
    # emergency (AB only).
    s = scene()
    a = s.released_component("A", "POS", category="plasma")
    b = s.released_component("B", "POS", category="plasma")
    known = {"patient_abo": "A", "patient_rhd": "POS"}
    assert s.refuse("UnitIssued", emergency_issue(a, **known), H1).rule == (
        "emergency-product-not-allowed")
    s.determine("PAT-9", "A", "POS", "S1")
    assert s.refuse("UnitIssued", emergency_issue(b, **known), H1).rule == (
        "emergency-product-not-allowed")
    s.do("UnitIssued", emergency_issue(a, **known), H1)
    assert s.unit(a).emergency


def test_emergency_release_group_specific_red_cells_when_the_record_knows_the_group() -> None:
    """Given a patient recorded A POS on two samples (the two-sample rule),
    when A POS red cells are issued uncrossmatched, it is accepted (group-specific);
    B POS red cells are refused (emergency-product-not-allowed); an issue claiming another
    group than the record is refused (patient-group-mismatch). On one sample only, A POS red
    cells are refused: group O until a second sample agrees."""
    # review item: (4) group-specific components could never be issued in an emergency.
    s = scene()
    a_pos = s.released_component("A", "POS")
    b_pos = s.released_component("B", "POS")
    s.determine("PAT-9", "A", "POS", "S1")
    assert s.refuse("UnitIssued", emergency_issue(a_pos), H1).rule == (
        "emergency-product-not-allowed")
    s.determine("PAT-9", "A", "POS", "S2")
    assert s.refuse("UnitIssued", emergency_issue(b_pos), H1).rule == (
        "emergency-product-not-allowed")
    err = s.refuse("UnitIssued", emergency_issue(a_pos, patient_abo="AB", patient_rhd="POS"), H1)
    assert err.rule == "patient-group-mismatch"
    s.do("UnitIssued", emergency_issue(a_pos), H1)
    assert s.unit(a_pos).issued_patient_id == "PAT-9"


def test_emergency_release_discordant_record_counts_as_unknown_group() -> None:
    """Given a patient whose two determinations disagree (blocked),
    when A POS red cells are issued in an emergency saying A POS, it is refused
    (emergency-product-not-allowed): the group is unknown; O NEG red cells are accepted."""
    s = scene()
    a_pos = s.released_component("A", "POS")
    o_neg = s.released_component("O", "NEG")
    s.determine("PAT-9", "A", "POS", "S1")
    s.determine("PAT-9", "B", "POS", "S2")
    err = s.refuse("UnitIssued", emergency_issue(a_pos, patient_abo="A", patient_rhd="POS"), H1)
    assert err.rule == "emergency-product-not-allowed"
    s.do("UnitIssued", emergency_issue(o_neg), H1)


def test_emergency_release_massive_haemorrhage_pack_without_a_patient_group() -> None:
    """Given a patient of unknown group in massive haemorrhage,
    when a pack of two O NEG red cells, AB plasma and O NEG platelets is issued
    uncrossmatched with no patient group at all, then every unit is issued to the patient as
    an emergency."""
    # review item: (4) a massive-haemorrhage pack could not be recorded without inventing a
    # patient group (and its platelets not at all).
    s = scene()
    pack = [s.released_component("O", "NEG"), s.released_component("O", "NEG"),
            s.released_component("AB", "POS", category="plasma"), platelets(s, "O", "NEG")]
    for unit in pack:
        s.do("UnitIssued", emergency_issue(unit, ward="ED"), H1)
    assert {(s.unit(u).status, s.unit(u).issued_patient_id, s.unit(u).emergency)
            for u in pack} == {("issued", "PAT-9", True)}


def test_emergency_follow_up_crossmatch_is_a_unit_reserved_on_the_issued_unit() -> None:
    """Given O NEG red cells issued uncrossmatched to PAT-9,
    when the follow-up crossmatch is recorded as UnitReserved for PAT-9, it is accepted: the
    unit stays issued to PAT-9 and now has its crossmatch;
    when another is recorded, it is refused (crossmatch-already-recorded); for another
    patient, refused (wrong-patient); by another hospital, refused (not-custodian)."""
    # review item: (4) nothing followed up an emergency issue with a crossmatch.
    s = scene()
    unit = s.released_component("O", "NEG")
    s.do("UnitIssued", emergency_issue(unit), H1)
    err = s.refuse("UnitReserved", reservation(unit, "PAT-8", "A", "POS"), H1)
    assert (err.rule, err.field) == ("wrong-patient", "data.patient_id")
    assert s.refuse("UnitReserved", reservation(unit, "PAT-9", "A", "POS"),
                    H2).rule == "not-custodian"
    s.do("UnitReserved", reservation(unit, "PAT-9", "A", "POS"), H1)
    state = s.unit(unit)
    assert (state.status, state.issued_patient_id, state.crossmatch) == (
        "issued", "PAT-9", "compatible")
    err = s.refuse("UnitReserved", reservation(unit, "PAT-9", "A", "POS"), H1)
    assert err.rule == "crossmatch-already-recorded"


def test_emergency_follow_up_crossmatch_incompatible_is_recorded_never_refused() -> None:
    """Given O NEG red cells issued uncrossmatched and already being transfused,
    when the follow-up crossmatch finds them incompatible, then it is recorded (evidence),
    not refused, and the unit shows the incompatible crossmatch."""
    s = scene()
    unit = s.released_component("O", "NEG")
    s.do("UnitIssued", emergency_issue(unit), H1)
    s.start(unit, "PAT-9")
    [event] = s.do("UnitReserved", reservation(unit, "PAT-9", "O", "NEG", "incompatible"), H1)
    assert event.type == "UnitReserved"
    assert s.unit(unit).crossmatch == "incompatible"


def test_emergency_follow_up_crossmatch_after_the_transfusion_is_recorded() -> None:
    """Given O NEG red cells issued uncrossmatched and transfused,
    when the follow-up crossmatch is recorded, then it is accepted; the unit's final fate
    stays transfused to the patient."""
    s = scene()
    unit = s.released_component("O", "NEG")
    s.do("UnitIssued", emergency_issue(unit), H1)
    s.transfuse(unit, "PAT-9")
    [event] = s.do("UnitReserved", reservation(unit, "PAT-9", "A", "POS"), H1)
    assert event.type == "UnitReserved"
    state = s.unit(unit)
    assert (state.status, state.recipient_patient_id) == ("transfused", "PAT-9")
    # The final fate never changes, so the patient's record keeps the crossmatch: a second
    # one (it could overwrite what the first found in the audit) is refused.
    assert s.refuse("UnitReserved", reservation(unit, "PAT-9", "A", "POS"), H1).rule == (
        "crossmatch-already-recorded")


def test_emergency_follow_up_crossmatch_of_a_unit_held_since_issue_is_recorded() -> None:
    """Given O NEG red cells issued uncrossmatched to PAT-9 and held at the ward since (a
    recall reached them),
    when the follow-up crossmatch is recorded, then it is accepted (evidence is never lost:
    RULES §0), the unit stays held, and its transfusion still cannot start."""
    s = scene()
    unit = s.released_component("O", "NEG")
    s.do("UnitIssued", emergency_issue(unit), H1)
    s.do("UnitQuarantined", {"unit_id": unit, "reason": "recall"}, H1)
    [event] = s.do("UnitReserved", reservation(unit, "PAT-9", "A", "POS"), H1)
    assert event.type == "UnitReserved"
    state = s.unit(unit)
    assert (state.quarantined, state.crossmatch, state.issued_patient_id) == (
        True, "compatible", "PAT-9")
    assert s.refuse("TransfusionStarted", {
        "unit_id": unit, "patient_id": "PAT-9",
        "bedside_check": {"wristband_scanned": True, "unit_scanned": True}},
        H1).rule == "unit-quarantined"


def test_a_planned_reservation_of_an_issued_unit_is_refused() -> None:
    """Given a unit issued after its reservation (not an emergency),
    when a second UnitReserved is recorded on it, then it is refused (unit-issued): only an
    emergency issue takes a follow-up crossmatch."""
    s = scene()
    unit = s.released_component("O", "NEG")
    s.reserve(unit, "PAT-1")
    s.issue(unit, "PAT-1")
    assert s.refuse("UnitReserved", reservation(unit, "PAT-1", "O", "NEG"),
                    H1).rule == "unit-issued"
