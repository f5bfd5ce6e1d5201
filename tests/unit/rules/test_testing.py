"""RULES §3, testing and release: given a donation's results, when a unit of it is released,
reserved, issued or transfused, then the whole result history decides, for every infectious
marker, and a discordant group holds the units until a confirmatory result settles it.

Each item of the issue-11 review is a test below, named after the rule it breaks."""

from __future__ import annotations

import pytest

from app.events.catalogue import Catalogue
from tests.support.scene import PLATELETS, RED_CELLS, Scene, actor, body, din, scene

LAB = actor("lab", "LAB1")
PROCESSING = actor("processing", "BB1")
MANDATORY = (("HIV", "non_reactive"), ("HBV", "non_reactive"), ("HCV", "non_reactive"),
             ("SYPHILIS", "non_reactive"), ("ABO", "O"), ("RHD", "NEG"))


def record(s: Scene, din_: str, marker: str, value: str, kind: str = "screen") -> list[str]:
    events = s.do("TestResultRecorded", {"din": din_, "marker": marker, "result": value,
                                         "lab_site_id": "LAB1", "test_kind": kind}, LAB)
    return [e.type for e in events]


def panel(s: Scene, din_: str, **overrides: str) -> None:
    for marker, value in MANDATORY:
        record(s, din_, marker, overrides.get(marker, value))


def release(s: Scene, unit: str) -> str:
    """The rule a release is refused with, or "released"."""
    from app.errors import DomainError

    try:
        s.do("UnitReleased", {"unit_id": unit}, PROCESSING)
    except DomainError as err:
        return err.rule
    return "released"


def test_initially_reactive_indeterminate_then_non_reactive_is_never_released() -> None:
    """Review: HIV indeterminate followed by non_reactive let the unit be released."""
    s = scene()
    unit = s.collect()
    panel(s, din(1), HIV="indeterminate")
    record(s, din(1), "HIV", "non_reactive")
    assert release(s, unit) == "unit-quarantined"
    assert [h.marker for h in s.unit(unit).open_holds] == ["HIV"]


def test_every_infectious_marker_a_reactive_htlv_holds_and_blocks() -> None:
    """Review: a reactive HTLV (outside the mandatory list) was ignored and the unit
    released."""
    s = scene()
    unit = s.collect()
    panel(s, din(1))
    assert record(s, din(1), "HTLV", "reactive") == ["TestResultRecorded", "UnitQuarantined"]
    assert release(s, unit) == "unit-quarantined"


def test_unknown_markers_are_refused_not_ignored() -> None:
    s = scene()
    s.collect()
    err = s.refuse("TestResultRecorded", {"din": din(1), "marker": "HIVV", "result": "reactive",
                                          "lab_site_id": "LAB1"}, LAB)
    assert (err.rule, err.field) == ("unknown-marker", "data.marker")


def test_informational_markers_never_hold() -> None:
    s = scene()
    s.collect()
    assert record(s, din(1), "CMV", "reactive") == ["TestResultRecorded"]


def test_pool_own_din_a_reactive_result_on_the_pool_cannot_be_lifted() -> None:
    """Review: a reactive result recorded on a pool's own DIN was lifted, and the pool
    released."""
    s = scene()
    parents = []
    for _ in range(2):
        whole = s.collect()
        panel(s, whole.split("-")[0])
        parents.append(s.split(whole, [(RED_CELLS, "red_cells", 250),
                                       (PLATELETS, "platelets", 50)])[1])
    s.do("UnitsPooled", {"parent_unit_ids": parents, "din": din(900), "product_code": "E3090V00",
                         "category": "platelets", "volume_ml": 100}, PROCESSING)
    pool = f"{din(900)}-E3090V00"
    assert record(s, din(900), "BACTERIA", "reactive") == ["TestResultRecorded",
                                                           "UnitQuarantined"]
    assert s.refuse("QuarantineLifted", {"unit_id": pool, "reason": "contaminated sample?"},
                    PROCESSING).rule == "hold-unresolved"
    assert release(s, pool) == "unit-quarantined"


def test_two_repeats_resolve_an_initial_reactive_and_the_hold_is_lifted() -> None:
    s = scene()
    unit = s.collect()
    panel(s, din(1), HCV="reactive")
    record(s, din(1), "HCV", "non_reactive", "repeat")
    assert release(s, unit) == "unit-quarantined"
    assert record(s, din(1), "HCV", "non_reactive", "repeat") == [
        "TestResultRecorded", "QuarantineLifted"]
    assert release(s, unit) == "released"


def test_repeatedly_reactive_never_released_donor_deferred_pending_confirmation() -> None:
    s = scene()
    donor = s.new_donor()
    unit = s.collect(donor_id=donor)
    panel(s, din(1), HBV="reactive")
    assert not s.donor(donor).deferred_at(s.now)
    assert record(s, din(1), "HBV", "reactive", "repeat") == [
        "TestResultRecorded", "DonorDeferred"]
    [deferral] = s.donor(donor).active_deferrals(s.now)
    assert deferral.pending_confirmation and deferral.until is None
    for _ in range(2):
        record(s, din(1), "HBV", "non_reactive", "repeat")
    assert release(s, unit) == "unit-quarantined"
    assert s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "x"},
                    PROCESSING).rule == "hold-unresolved"
    s.do("UnitDiscarded", {"unit_id": unit, "reason": "reactive_test"}, PROCESSING)


def test_confirmatory_positive_permanent_deferral_and_lookback_in_the_same_decision() -> None:
    s = scene()
    donor = s.new_donor()
    earlier = s.collect(donor_id=donor)
    panel(s, din(1))
    s.later(days=70)
    unit = s.collect(2, donor_id=donor)
    panel(s, din(2), HIV="reactive")
    record(s, din(2), "HIV", "reactive", "repeat")
    types = record(s, din(2), "HIV", "positive", "confirmatory")
    assert types[:3] == ["TestResultRecorded", "DonorDeferred", "LookbackStarted"]
    assert set(types[3:]) == {"UnitQuarantined"}  # the earlier donation's unit, now held
    permanent = [d for d in s.donor(donor).active_deferrals(s.now) if d.permanent]
    assert [(d.cause, d.marker) for d in permanent] == [("infectious_marker", "HIV")]
    assert [h.cause for h in s.unit(earlier).open_holds] == ["lookback"]
    assert release(s, unit) == "unit-quarantined"


def test_confirmatory_negative_units_stay_unreleasable() -> None:
    s = scene()
    unit = s.collect()
    panel(s, din(1), HCV="reactive")
    record(s, din(1), "HCV", "reactive", "repeat")
    record(s, din(1), "HCV", "negative", "confirmatory")
    assert release(s, unit) == "unit-quarantined"
    assert s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "x"},
                    PROCESSING).rule == "hold-unresolved"


def test_one_initially_reactive_screen_does_not_defer_the_donor() -> None:
    """Review: one initially reactive screen deferred the donor permanently."""
    s = scene()
    donor = s.new_donor()
    s.collect(donor_id=donor)
    assert "DonorDeferred" not in record(s, din(1), "SYPHILIS", "reactive")
    assert not s.donor(donor).deferrals


def test_mandatory_per_category_platelets_need_a_bacterial_screen() -> None:
    s = scene()
    whole = s.collect()
    panel(s, din(1))
    red, plt = s.split(whole, [(RED_CELLS, "red_cells", 250), (PLATELETS, "platelets", 50)])
    assert release(s, red) == "released"
    assert release(s, plt) == "tests-incomplete"
    record(s, din(1), "BACTERIA", "non_reactive")
    assert release(s, plt) == "released"


@pytest.mark.parametrize("missing", ["HIV", "HBV", "HCV", "SYPHILIS", "ABO", "RHD"])
def test_mandatory_markers_each_one_missing_blocks_release(missing: str) -> None:
    s = scene()
    unit = s.collect()
    for marker, value in MANDATORY:
        if marker != missing:
            record(s, din(1), marker, value)
    assert release(s, unit) == "tests-incomplete"


def test_abo_discrepancy_a_discordant_result_is_recorded_held_and_confirmed() -> None:
    """Review: a discordant ABO/RhD result was refused and lost, so the first stood and the
    unit was released."""
    s = scene()
    unit = s.collect()
    panel(s, din(1))
    assert record(s, din(1), "ABO", "A") == ["TestResultRecorded", "UnitQuarantined"]
    assert release(s, unit) == "unit-quarantined"
    assert s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "x"},
                    PROCESSING).rule == "hold-unresolved"
    assert record(s, din(1), "ABO", "A", "confirmatory") == [
        "TestResultRecorded", "QuarantineLifted"]
    assert s.unit(unit).abo == "A"  # the confirmatory group stands
    s.do("UnitReleased", {"unit_id": unit}, PROCESSING)
    assert (s.unit(unit).abo, s.unit(unit).rhd) == ("A", "NEG")


def test_abo_donor_history_a_donor_registered_o_neg_typed_a_pos_is_held() -> None:
    """Review: a donor registered O NEG whose donation typed A POS was released."""
    s = scene()
    donor = s.new_donor(abo="O", rhd="NEG")
    unit = s.collect(donor_id=donor)
    panel(s, din(1), ABO="A", RHD="POS")
    assert {(h.cause, h.marker) for h in s.unit(unit).open_holds} == {
        ("abo_discrepancy", "ABO"), ("abo_discrepancy", "RHD")}
    assert release(s, unit) == "unit-quarantined"


def test_abo_donor_history_an_earlier_donation_s_typing_is_remembered() -> None:
    s = scene()
    donor = s.new_donor()
    s.collect(donor_id=donor)
    panel(s, din(1), ABO="B", RHD="POS")
    assert s.donor(donor).group == {"ABO": "B", "RHD": "POS"}
    s.later(days=70)
    unit = s.collect(2, donor_id=donor)
    panel(s, din(2), ABO="O", RHD="POS")
    assert [h.marker for h in s.unit(unit).open_holds] == ["ABO"]


def test_release_based_on_names_the_results_it_relied_on() -> None:
    """Review: UnitReleased did not record which results it relied on."""
    s = scene()
    unit = s.collect()
    panel(s, din(1))
    record(s, din(1), "CMV", "non_reactive")
    [event] = s.do("UnitReleased", {"unit_id": unit}, PROCESSING)
    mandatory = [r.position for r in s.donation(din(1)).results if r.marker != "CMV"]
    assert body(event)["based_on"] == mandatory


def test_repeats_needed_are_configurable() -> None:
    s = Scene(Catalogue(repeats_to_resolve=1)).network()
    unit = s.collect()
    panel(s, din(1), HCV="reactive")
    assert record(s, din(1), "HCV", "non_reactive", "repeat") == [
        "TestResultRecorded", "QuarantineLifted"]
    assert release(s, unit) == "released"


def test_results_of_a_kind_must_fit_it() -> None:
    s = scene()
    s.collect()
    for data in ({"marker": "HIV", "result": "positive"},
                 {"marker": "HIV", "result": "reactive", "test_kind": "confirmatory"},
                 {"marker": "ABO", "result": "A", "test_kind": "nat"}):
        err = s.refuse("TestResultRecorded", {"din": din(1), "lab_site_id": "LAB1", **data}, LAB)
        assert err.rule == "invalid-event-data", data
