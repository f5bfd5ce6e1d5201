"""RULES §7, the guards against a wrong blood in tube, given/when/then: with no recorded group,
every group given for a patient must agree with those given before; a reservation rests on a
sample that still counts; a planned issue re-checks what its reservation rested on; and in an
emergency only the laboratory's record (two samples for red cells) makes a group known.

The review item of issue 12 among them: two reservations for one patient with conflicting
groups were both accepted.
"""

from __future__ import annotations

from typing import Any

from app.events import isbt
from tests.support.scene import Scene, actor, scene
from tests.unit.test_lifecycle_processing import platelet_units

H1 = actor("hospital", "H1")
H2 = actor("hospital", "H2")
EMERGENCY = {"emergency": True, "justification": "massive haemorrhage", "physician_id": "PHY-7"}


def _reserve(unit: str, patient: str, abo: str, rhd: str, **more: Any) -> dict[str, Any]:
    return {"unit_id": unit, "patient_id": patient, "patient_abo": abo, "patient_rhd": rhd,
            "crossmatch": "compatible", **more}


def test_patient_group_conflict_two_reservations_with_conflicting_groups() -> None:
    """Review item (issue 12): two reservations for one patient with conflicting groups were
    both accepted, a possible wrong blood in tube.

    Given a patient with no recorded group, reserved one O NEG unit as A POS;
    when a second reservation of that patient says B POS;
    then it is refused (patient-group-conflict) and nothing is written, and the same group
    as before is accepted."""
    s = scene()
    first, second = s.released_component("O", "NEG"), s.released_component("O", "NEG")
    s.do("UnitReserved", _reserve(first, "PAT-1", "A", "POS"), H1)
    err = s.refuse("UnitReserved", _reserve(second, "PAT-1", "B", "POS"), H1)
    assert err.rule == "patient-group-conflict"
    assert err.field == "data.patient_abo"
    assert s.unit(second).reserved_patient_id is None
    s.do("UnitReserved", _reserve(second, "PAT-1", "A", "POS"), H1)
    assert s.unit(second).reserved_patient_id == "PAT-1"


def test_patient_group_conflict_holds_across_hospitals_and_after_release() -> None:
    """Given a patient reserved as A POS at one hospital, the reservation since released;
    when another hospital reserves the patient as A NEG;
    then it is refused: a group once given is evidence, and a release does not unsay it."""
    s = scene()
    first = s.released_component("O", "NEG")
    elsewhere = s.released_component("O", "NEG", at_site="H2")
    s.do("UnitReserved", _reserve(first, "PAT-1", "A", "POS"), H1)
    s.do("ReservationReleased", {"unit_id": first, "reason": "surgery postponed"}, H1)
    err = s.refuse("UnitReserved", _reserve(elsewhere, "PAT-1", "A", "NEG"), H2)
    assert err.rule == "patient-group-conflict"


def test_patient_group_conflict_at_an_emergency_issue_with_no_record() -> None:
    """Given a patient reserved as A POS on one unit (no recorded group);
    when an O NEG unit is issued to the patient in an emergency, the issue saying O NEG;
    then the issue is refused (patient-group-conflict); the same issue that states no group
    is accepted (O NEG red cells need none)."""
    s = scene()
    first, second = s.released_component("O", "NEG"), s.released_component("O", "NEG")
    s.do("UnitReserved", _reserve(first, "PAT-1", "A", "POS"), H1)
    issue = {"unit_id": second, "patient_id": "PAT-1", **EMERGENCY}
    err = s.refuse("UnitIssued", {**issue, "patient_abo": "O", "patient_rhd": "NEG"}, H1)
    assert err.rule == "patient-group-conflict"
    s.do("UnitIssued", issue, H1)


def test_patient_group_conflict_is_lifted_by_a_laboratory_determination() -> None:
    """Given two groups stated for a patient (the second refused);
    when the laboratory records two agreeing determinations of B POS;
    then the record is the truth: a B POS reservation is accepted, an A POS one is refused
    as a mismatch with the record."""
    s = scene()
    first, second, third = (s.released_component("O", "NEG") for _ in range(3))
    s.do("UnitReserved", _reserve(first, "PAT-1", "A", "POS"), H1)
    assert s.refuse("UnitReserved", _reserve(second, "PAT-1", "B", "POS"), H1).rule == (
        "patient-group-conflict")
    s.determine("PAT-1", "B", "POS", "S-1")
    s.determine("PAT-1", "B", "POS", "S-2")
    s.do("UnitReserved", _reserve(second, "PAT-1", "B", "POS"), H1)
    err = s.refuse("UnitReserved", _reserve(third, "PAT-1", "A", "POS"), H1)
    assert err.rule == "patient-group-mismatch"


def test_patient_group_conflict_a_follow_up_crossmatch_is_recorded_and_then_binds() -> None:
    """Given an emergency issue of O NEG red cells to a patient of unknown group, and its
    follow-up crossmatch stating A POS (recorded whatever it says: evidence);
    when a later reservation states O POS;
    then it is refused (patient-group-conflict)."""
    s = scene()
    issued, later = s.released_component("O", "NEG"), s.released_component("O", "NEG")
    s.do("UnitIssued", {"unit_id": issued, "patient_id": "PAT-1", **EMERGENCY}, H1)
    s.do("UnitReserved", _reserve(issued, "PAT-1", "A", "POS"), H1)
    err = s.refuse("UnitReserved", _reserve(later, "PAT-1", "O", "POS"), H1)
    assert err.rule == "patient-group-conflict"


def test_sample_discounted_a_reservation_on_a_sample_a_later_one_disagreed_with() -> None:
    """Given a patient's samples S-1 and S-2 both A POS, then S-3 O POS (discordant: blocked),
    then S-4 O POS (the block lifts; only S-4 counts);
    when a reservation names S-1;
    then it is refused (sample-discounted); one naming S-4 is accepted."""
    s = scene()
    unit = s.released_component("O", "POS")
    for sample, abo in (("S-1", "A"), ("S-2", "A"), ("S-3", "O"), ("S-4", "O")):
        s.determine("PAT-1", abo, "POS", sample)
    err = s.refuse("UnitReserved", _reserve(unit, "PAT-1", "O", "POS", sample_id="S-1"), H1)
    assert err.rule == "sample-discounted"
    assert err.field == "data.sample_id"
    s.do("UnitReserved", _reserve(unit, "PAT-1", "O", "POS", sample_id="S-4"), H1)


def test_sample_too_old_is_checked_again_at_issue() -> None:
    """Given a reservation on a sample taken 70 h ago;
    when the unit is issued 3 h later (the sample is then 73 h old);
    then the issue is refused (sample-too-old): a new sample and crossmatch are needed.
    Issued at 71 h it is accepted."""
    s = scene()
    late, early = s.released_component("O", "NEG"), s.released_component("O", "NEG")
    s.determine("PAT-1", "O", "NEG", "S-1", hours_ago=70)
    s.do("UnitReserved", _reserve(late, "PAT-1", "O", "NEG", sample_id="S-1"), H1)
    s.do("UnitReserved", _reserve(early, "PAT-1", "O", "NEG", sample_id="S-1"), H1)
    s.do("UnitIssued", {"unit_id": early, "patient_id": "PAT-1"}, H1, at=s.later(minutes=50))
    err = s.refuse("UnitIssued", {"unit_id": late, "patient_id": "PAT-1"}, H1,
                   at=s.later(hours=2))
    assert err.rule == "sample-too-old"
    assert s.unit(late).issued_patient_id is None


def test_electronic_crossmatch_not_allowed_an_antibody_found_before_issue() -> None:
    """Given an electronic crossmatch (two agreeing samples, no antibody);
    when an antibody is recorded for the patient before the unit is issued;
    then the issue is refused (electronic-crossmatch-not-allowed): release the reservation and
    crossmatch serologically, which is then accepted and issued."""
    s = scene()
    unit = s.released_component("A", "POS")
    s.determine("PAT-1", "A", "POS", "S-1")
    s.determine("PAT-1", "A", "POS", "S-2")
    s.do("UnitReserved", _reserve(unit, "PAT-1", "A", "POS", sample_id="S-2",
                                  crossmatch="electronic"), H1)
    s.do("PatientAntibodyRecorded", {"patient_id": "PAT-1", "antibody": "anti-K"}, H1)
    err = s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1"}, H1)
    assert err.rule == "electronic-crossmatch-not-allowed"
    s.do("ReservationReleased", {"unit_id": unit, "reason": "antibody found"}, H1)
    s.do("UnitReserved", _reserve(unit, "PAT-1", "A", "POS", sample_id="S-2"), H1)
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1"}, H1)


def test_emergency_group_specific_red_cells_need_the_laboratory_record() -> None:
    """Given a bleeding patient whose group only the issue states (A POS), or the laboratory
    determined on one sample;
    when A POS red cells are issued uncrossmatched;
    then they are refused (emergency-product-not-allowed): the group is not known, so only
    O NEG red cells go; after a second agreeing sample, A POS red cells are accepted. Plasma
    of the patient's group needs only the one recorded determination."""
    s = scene()
    red = s.released_component("A", "POS")
    plasma = s.released_component("A", "POS", category="plasma")
    stated = {"patient_id": "PAT-1", "patient_abo": "A", "patient_rhd": "POS", **EMERGENCY}
    assert s.refuse("UnitIssued", {"unit_id": red, **stated}, H1).rule == (
        "emergency-product-not-allowed")
    assert s.refuse("UnitIssued", {"unit_id": plasma, **stated}, H1).rule == (
        "emergency-product-not-allowed")
    s.determine("PAT-1", "A", "POS", "S-1")
    assert s.refuse("UnitIssued", {"unit_id": red, **stated}, H1).rule == (
        "emergency-product-not-allowed")
    s.do("UnitIssued", {"unit_id": plasma, **stated}, H1)
    s.determine("PAT-1", "A", "POS", "S-2", hours_ago=0.5)
    s.do("UnitIssued", {"unit_id": red, **stated}, H1, at=s.later(minutes=1))
    assert s.unit(red).emergency


def test_rhd_platelets_a_stated_rhd_positive_is_not_a_known_group() -> None:
    """Given a patient of no recorded group;
    when RhD-positive platelets are issued in an emergency, the issue stating RhD-positive;
    then anti-D prophylaxis or an override is still required (rhd-platelets-need-prophylaxis)."""
    s = scene()
    platelets = _platelets(s)
    err = s.refuse("UnitIssued", {"unit_id": platelets, "patient_id": "PAT-1",
                                  "patient_abo": "O", "patient_rhd": "POS", **EMERGENCY}, H1)
    assert err.rule == "rhd-platelets-need-prophylaxis"
    s.do("UnitIssued", {"unit_id": platelets, "patient_id": "PAT-1", "patient_abo": "O",
                        "patient_rhd": "POS", "anti_d_prophylaxis": True, **EMERGENCY}, H1)


def _platelets(s: Scene) -> str:
    """A released RhD-positive platelet unit at H1."""
    [unit] = platelet_units(s, 1, "O", "POS")
    s.do("TestResultRecorded", {"din": isbt.din_of_unit(unit), "marker": "BACTERIA",
                                "result": "non_reactive", "lab_site_id": "LAB1"},
         actor("lab", "LAB1"))
    s.release(unit)
    s.receive(unit, s.ship(unit, "H1"), "H1")
    return unit


def test_issue_time_checks_do_not_outlive_the_window() -> None:
    """The re-checks at issue use the issue's own time: a reservation made on a fresh sample
    is issued an hour later without refusal."""
    s = scene()
    unit = s.released_component("O", "NEG")
    s.determine("PAT-1", "O", "NEG", "S-1", hours_ago=2)
    s.do("UnitReserved", _reserve(unit, "PAT-1", "O", "NEG", sample_id="S-1"), H1)
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1"}, H1, at=s.later(hours=1))
    assert s.unit(unit).issued_patient_id == "PAT-1"
