"""Reserve, issue, return, transfuse, discard, fractionation, and final fates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.api.problems import http_status
from app.errors import (
    AboIncompatible,
    CrossmatchIncompatible,
    DiscardReasonMismatch,
    EmergencyDetailsMissing,
    EmergencyProductNotAllowed,
    FinalFate,
    FractionationPlasmaOnly,
    NotPseudonymous,
    NotTransfused,
    SiteKindNotAllowed,
    UnitExpired,
    UnitIssuedError,
    UnitNotIssued,
    UnitNotReleased,
    UnitNotReserved,
    UnitQuarantinedError,
    UnitReservedError,
    WrongPatient,
)
from app.events.catalogue import Catalogue
from app.events.compat import compatible, emergency_allowed
from tests.support.scene import BEDSIDE, T0, Scene, actor, body, scene

H1 = actor("hospital", "H1")
GROUPS = [(a, r) for a in ("O", "A", "B", "AB") for r in ("POS", "NEG")]

RED_CELLS_OK = {"O": {"O"}, "A": {"A", "O"}, "B": {"B", "O"}, "AB": {"O", "A", "B", "AB"}}
PLASMA_OK = {"O": {"O", "A", "B", "AB"}, "A": {"A", "AB"}, "B": {"B", "AB"}, "AB": {"AB"}}


@pytest.mark.parametrize(("patient", "unit"), [(p, u) for p in GROUPS for u in GROUPS])
def test_red_cell_compatibility_table(patient: tuple[str, str], unit: tuple[str, str]) -> None:
    expected = unit[0] in RED_CELLS_OK[patient[0]] and not (
        patient[1] == "NEG" and unit[1] == "POS")
    assert compatible("red_cells", unit[0], unit[1], *patient) is expected


@pytest.mark.parametrize(("patient", "unit"), [(p, u) for p in GROUPS for u in GROUPS])
def test_plasma_compatibility_table_is_the_reverse_and_ignores_rhd(
        patient: tuple[str, str], unit: tuple[str, str]) -> None:
    assert compatible("plasma", unit[0], unit[1], *patient) is (unit[0] in PLASMA_OK[patient[0]])


@pytest.mark.parametrize(("patient", "unit"), [(p, u) for p in GROUPS for u in GROUPS])
def test_whole_blood_needs_identical_abo(patient: tuple[str, str], unit: tuple[str, str]) -> None:
    expected = unit[0] == patient[0] and not (patient[1] == "NEG" and unit[1] == "POS")
    assert compatible("whole_blood", unit[0], unit[1], *patient) is expected


@pytest.mark.parametrize("unit", GROUPS)
def test_platelets_cross_abo(unit: tuple[str, str]) -> None:
    assert all(compatible("platelets", unit[0], unit[1], *p) for p in GROUPS)


@pytest.mark.parametrize(("category", "unit", "known", "allowed"), [
    ("red_cells", ("O", "NEG"), None, True),
    ("red_cells", ("O", "POS"), None, False),          # unknown group: O NEG only
    ("red_cells", ("O", "POS"), ("A", "POS"), True),
    ("red_cells", ("O", "POS"), ("A", "NEG"), False),
    ("red_cells", ("A", "NEG"), ("A", "NEG"), True),   # group-specific when known (RULES §7)
    ("red_cells", ("A", "NEG"), ("O", "NEG"), False),
    ("plasma", ("AB", "POS"), None, True),
    ("plasma", ("A", "POS"), None, False),             # A plasma only when the catalogue allows
    ("plasma", ("A", "POS"), ("A", "POS"), True),
    ("plasma", ("A", "POS"), ("B", "POS"), False),
    ("platelets", ("O", "NEG"), None, True),           # platelets of any group
    ("platelets", ("A", "POS"), None, True),
    ("cryoprecipitate", ("A", "POS"), None, False),
    ("whole_blood", ("O", "NEG"), None, False),
])
def test_emergency_release_table(category: str, unit: tuple[str, str],
                                 known: tuple[str, str] | None, allowed: bool) -> None:
    assert emergency_allowed(category, *unit, known) is allowed


def test_emergency_group_a_plasma_only_when_the_catalogue_allows() -> None:
    assert not emergency_allowed("plasma", "A", "POS", None)
    assert emergency_allowed("plasma", "A", "POS", None, group_a_plasma=True)
    assert not emergency_allowed("plasma", "B", "POS", None, group_a_plasma=True)


def test_the_full_life_reserve_issue_transfuse() -> None:
    s = scene()
    unit = s.released_component("O", "NEG")
    [reserved] = s.do("UnitReserved", {"unit_id": unit, "patient_id": "PAT-1",
                                       "patient_abo": "A", "patient_rhd": "-",
                                       "crossmatch": "compatible"}, H1)
    assert ("patient", "PAT-1") in reserved.refs
    assert body(reserved)["patient_rhd"] == "NEG"
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1", "ward": "ICU"}, H1)
    s.do("TransfusionStarted", {"unit_id": unit, "patient_id": "PAT-1",
        "bedside_check": BEDSIDE}, H1)
    s.do("UnitTransfused", {"unit_id": unit, "patient_id": "PAT-1"}, H1)
    state = s.unit(unit)
    assert (state.status, state.recipient_patient_id) == ("transfused", "PAT-1")
    s.do("AdverseReactionReported", {"unit_id": unit, "patient_id": "PAT-1",
                                     "reaction_type": "fnhtr", "severity": "non_severe",
                                     "imputability": "likely"}, H1)


def test_an_incompatible_crossmatch_or_group_cannot_reserve() -> None:
    s = scene()
    unit = s.released_component("A", "POS")
    assert isinstance(s.refuse("UnitReserved", {
        "unit_id": unit, "patient_id": "PAT-1", "patient_abo": "A", "patient_rhd": "POS",
        "crossmatch": "incompatible"}, H1), CrossmatchIncompatible)
    assert isinstance(s.refuse("UnitReserved", {
        "unit_id": unit, "patient_id": "PAT-1", "patient_abo": "O", "patient_rhd": "POS",
        "crossmatch": "electronic"}, H1), AboIncompatible)
    assert isinstance(s.refuse("UnitReserved", {
        "unit_id": unit, "patient_id": "PAT-1", "patient_abo": "A", "patient_rhd": "NEG",
        "crossmatch": "electronic"}, H1), AboIncompatible)


def test_plasma_reservation_uses_the_plasma_table() -> None:
    s = scene()
    unit = s.released_component("A", "POS", category="plasma")
    s.reserve(unit, abo="O", rhd="NEG", crossmatch="compatible")
    other = s.released_component("A", "POS", category="plasma")
    assert isinstance(s.refuse("UnitReserved", {
        "unit_id": other, "patient_id": "PAT-2", "patient_abo": "B", "patient_rhd": "POS",
        "crossmatch": "electronic"}, H1), AboIncompatible)


def test_patients_are_pseudonymous() -> None:
    s = scene()
    unit = s.released_component()
    err = s.refuse("UnitReserved", {"unit_id": unit, "patient_id": "Omar Haddad",
                                    "patient_abo": "O", "patient_rhd": "NEG",
                                    "crossmatch": "compatible"}, H1)
    assert isinstance(err, NotPseudonymous)


def test_issue_only_to_the_reserved_patient() -> None:
    s = scene()
    unit = s.released_component()
    assert isinstance(s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1"}, H1),
                      UnitNotReserved)
    s.reserve(unit, "PAT-1")
    assert isinstance(s.refuse("UnitReserved", {
        "unit_id": unit, "patient_id": "PAT-2", "patient_abo": "O", "patient_rhd": "NEG",
        "crossmatch": "compatible"}, H1), UnitReservedError)
    assert isinstance(s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-2"}, H1),
                      WrongPatient)
    s.issue(unit, "PAT-1")
    assert isinstance(s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1"}, H1),
                      UnitIssuedError)
    assert isinstance(s.refuse("UnitTransfused", {"unit_id": unit, "patient_id": "PAT-2"}, H1),
                      WrongPatient)


def test_a_released_reservation_frees_the_unit() -> None:
    s = scene()
    unit = s.released_component()
    s.reserve(unit, "PAT-1")
    s.do("ReservationReleased", {"unit_id": unit, "reason": "surgery cancelled"}, H1)
    assert s.unit(unit).status == "released"
    s.reserve(unit, "PAT-2")


def test_only_released_units_are_reserved_or_issued() -> None:
    s = scene()
    unit = s.collect()
    admin = actor("admin", None)  # the national role may act for any site, rules still hold
    assert isinstance(s.refuse("UnitReserved", {
        "unit_id": unit, "patient_id": "PAT-1", "patient_abo": "O", "patient_rhd": "NEG",
        "crossmatch": "compatible"}, admin), UnitNotReleased)
    assert isinstance(s.refuse("UnitIssued", {
        "unit_id": unit, "patient_id": "PAT-1", "emergency": True, "justification": "bleeding",
        "physician_id": "PHY-1"}, admin), UnitNotReleased)


def test_expiry_at_the_boundary() -> None:
    s = scene()
    unit = s.released_component()
    expires = s.unit(unit).expires_at
    s.do("UnitReserved", {"unit_id": unit, "patient_id": "PAT-1", "patient_abo": "O",
                          "patient_rhd": "NEG", "crossmatch": "compatible"}, H1,
         at=expires - timedelta(minutes=2))
    err = s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1"}, H1, at=expires)
    assert isinstance(err, UnitExpired)
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1"}, H1,
         at=expires - timedelta(microseconds=1))


def test_emergency_issue_of_o_negative_red_cells_without_crossmatch() -> None:
    s = scene()
    unit = s.released_component("O", "NEG")
    [event] = s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-9", "emergency": True,
                                  "justification": "massive haemorrhage",
                                  "physician_id": "PHY-7"}, H1)
    assert body(event)["emergency"] is True
    assert s.unit(unit).emergency


def test_emergency_issue_needs_justification_and_physician() -> None:
    s = scene()
    unit = s.released_component("O", "NEG")
    err = s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-9", "emergency": True,
                                  "physician_id": "PHY-7"}, H1)
    assert isinstance(err, EmergencyDetailsMissing) and err.field == "data.justification"


def test_emergency_issue_refuses_o_positive_for_an_unknown_group_and_non_o() -> None:
    s = scene()
    o_pos = s.released_component("O", "POS")
    a_neg = s.released_component("A", "NEG")
    base = {"patient_id": "PAT-9", "emergency": True, "justification": "trauma",
            "physician_id": "PHY-7"}
    assert isinstance(s.refuse("UnitIssued", {"unit_id": o_pos, **base}, H1),
                      EmergencyProductNotAllowed)
    assert isinstance(s.refuse("UnitIssued", {"unit_id": a_neg, **base}, H1),
                      EmergencyProductNotAllowed)
    # A group the issue only states is not a known group: the clinician's word is checked
    # against the record, never trusted on its own (a bedside grouping error).
    stated = {"unit_id": o_pos, **base, "patient_abo": "B", "patient_rhd": "POS"}
    assert isinstance(s.refuse("UnitIssued", stated, H1), EmergencyProductNotAllowed)
    # One recorded sample is not enough for red cells (two-sample rule); two are.
    s.determine("PAT-9", "B", "POS", "S-1")
    assert isinstance(s.refuse("UnitIssued", stated, H1), EmergencyProductNotAllowed)
    s.determine("PAT-9", "B", "POS", "S-2")
    s.do("UnitIssued", stated, H1)


def test_emergency_ab_plasma() -> None:
    s = scene()
    ab = s.released_component("AB", "POS", category="plasma")
    [issued] = s.do("UnitIssued", {"unit_id": ab, "patient_id": "PAT-9", "emergency": True,
                                   "justification": "coagulopathy", "physician_id": "PHY-7"}, H1)
    assert body(issued)["emergency"] is True
    unit = s.unit(ab)
    assert (unit.status, unit.issued_patient_id, unit.emergency) == ("issued", "PAT-9", True)
    group_a = s.released_component("A", "POS", category="plasma")
    err = s.refuse("UnitIssued", {"unit_id": group_a, "patient_id": "PAT-9", "emergency": True,
                                  "justification": "coagulopathy", "physician_id": "PHY-7"}, H1)
    assert err.rule == "emergency-product-not-allowed"


def test_return_within_the_window_puts_the_unit_back() -> None:
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    issued_at = s.later(minutes=5)
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-0001"}, H1, at=issued_at)
    s.do("UnitReturned", {"unit_id": unit}, H1, at=issued_at + timedelta(minutes=30))
    assert s.unit(unit).status == "released"


def test_a_late_return_is_recorded_as_returned_late_and_only_discard_follows() -> None:
    """RULES §6: a return after the window without a validated shipper is recorded (the unit
    came back: evidence) as returned late; anything but discard is refused."""
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    issued_at = s.later(minutes=5)
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-0001"}, H1, at=issued_at)
    [returned] = s.do("UnitReturned", {"unit_id": unit}, H1,
                      at=issued_at + timedelta(minutes=31))
    assert body(returned)["returned_late"] is True
    assert s.unit(unit).returned_late
    err = s.refuse("UnitReserved", {"unit_id": unit, "patient_id": "PAT-2", "patient_abo": "O",
                                    "patient_rhd": "NEG", "crossmatch": "compatible"}, H1,
                   at=issued_at + timedelta(minutes=32))
    assert err.rule == "unit-returned-late"
    s.do("UnitDiscarded", {"unit_id": unit, "reason": "returned_late"}, H1,
         at=issued_at + timedelta(minutes=32))
    assert s.unit(unit).status == "discarded"


def test_the_return_window_is_configurable() -> None:
    for window, back_in_stock in ((60, True), (30, False)):
        s = Scene(Catalogue(return_window_minutes=window)).network()
        unit = s.released_component()
        s.reserve(unit)
        s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-0001"}, H1,
             at=T0 + timedelta(1))
        returned = {"unit_id": unit}
        at = T0 + timedelta(days=1, minutes=45)
        if back_in_stock:
            s.do("UnitReturned", returned, H1, at=at)
            assert s.unit(unit).status == "released"
        else:
            s.do("UnitReturned", returned, H1, at=at)
            assert s.unit(unit).returned_late and s.unit(unit).status == "quarantined"
            assert s.refuse("UnitReserved", {
                "unit_id": unit, "patient_id": "PAT-0001", "patient_abo": "O",
                "patient_rhd": "NEG", "crossmatch": "compatible"}, H1).rule == "unit-returned-late"


def test_a_recalled_issued_unit_is_not_transfused() -> None:
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    s.issue(unit)
    s.do("UnitQuarantined", {"unit_id": unit, "reason": "recall"}, H1)
    err = s.refuse("TransfusionStarted", {"unit_id": unit, "patient_id": "PAT-0001",
                                          "bedside_check": BEDSIDE}, H1)
    assert isinstance(err, UnitQuarantinedError)


def test_transfusion_needs_an_issued_unit() -> None:
    s = scene()
    unit = s.released_component()
    assert isinstance(s.refuse("UnitTransfused", {"unit_id": unit, "patient_id": "PAT-1"}, H1),
                      UnitNotIssued)
    assert isinstance(s.refuse("UnitReturned", {"unit_id": unit}, H1), UnitNotIssued)


def test_an_adverse_reaction_needs_the_transfusion() -> None:
    s = scene()
    unit = s.released_component()
    reaction = {"unit_id": unit, "patient_id": "PAT-0001", "reaction_type": "taco",
                "severity": "severe", "imputability": "possible"}
    assert isinstance(s.refuse("AdverseReactionReported", reaction, H1), NotTransfused)


@pytest.mark.parametrize(("fate", "data"), [
    ("UnitTransfused", {"patient_id": "PAT-0001"}),
    ("UnitDiscarded", {"reason": "damaged", "note": "bag torn"}),
])
def test_final_fates_stay_final(fate: str, data: dict[str, str]) -> None:
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    s.issue(unit)
    if fate == "UnitTransfused":
        s.start(unit)
    s.do(fate, {"unit_id": unit, **data}, H1)
    for type_, extra in (
        ("UnitReturned", {}), ("UnitDiscarded", {"reason": "other"}),
        ("UnitStored", {"site_id": "H1", "location": "x"}),
        ("UnitQuarantined", {"reason": "x"}), ("UnitTransfused", {"patient_id": "PAT-0001"}),
        ("UnitShipped", {"from_site_id": "H1", "to_site_id": "H2", "shipment_id": "S"}),
    ):
        err = s.refuse(type_, {"unit_id": unit, **extra}, H1)
        assert isinstance(err, FinalFate), type_


def test_discard_reasons_must_fit() -> None:
    s = scene()
    unit = s.released_component()
    assert isinstance(s.refuse("UnitDiscarded", {"unit_id": unit, "reason": "expired"}, H1),
                      DiscardReasonMismatch)
    assert isinstance(s.refuse("UnitDiscarded", {"unit_id": unit, "reason": "returned_late"},
                               H1), DiscardReasonMismatch)
    assert http_status(s.refuse("UnitDiscarded", {"unit_id": unit, "reason": "lost"}, H1)) == 422
    s.do("UnitDiscarded", {"unit_id": unit, "reason": "expired"}, H1,
         at=s.unit(unit).expires_at)


def test_only_plasma_goes_to_fractionation_and_only_to_a_fractionator() -> None:
    s = scene()
    plasma = s.released_component(category="plasma", at_site="BB1")
    red = s.released_component(at_site="BB1")
    inventory = actor("inventory", "BB1")
    assert isinstance(s.refuse("UnitShippedForFractionation", {
        "unit_id": red, "fractionator_site_id": "FR1"}, inventory), FractionationPlasmaOnly)
    assert isinstance(s.refuse("UnitShippedForFractionation", {
        "unit_id": plasma, "fractionator_site_id": "H1"}, inventory), SiteKindNotAllowed)
    s.do("UnitShippedForFractionation", {"unit_id": plasma, "fractionator_site_id": "FR1"},
         inventory)
    assert s.unit(plasma).status == "fractionated"
    assert isinstance(s.refuse("UnitDiscarded", {"unit_id": plasma, "reason": "other"},
                               actor("admin", None)), FinalFate)
