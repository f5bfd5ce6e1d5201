"""RULES §2, holds per cause: given a unit and its holds, when someone lifts one, then only
that hold ends, only if their role may lift its cause, and a test hold only once its marker
is resolved."""

from __future__ import annotations

from tests.support.scene import actor, body, din, scene

PROCESSING = actor("processing", "BB1")
LAB = actor("lab", "LAB1")
H1 = actor("hospital", "H1")


def _result(din_: str, marker: str, value: str, kind: str = "screen") -> dict[str, str]:
    return {"din": din_, "marker": marker, "result": value, "lab_site_id": "LAB1",
            "test_kind": kind}




def test_several_holds_a_lookback_hold_is_never_absorbed_by_a_temperature_hold() -> None:
    """Review: a lookback hold was absorbed into an open temperature hold, and lifting the
    temperature hold freed the unit, which was then released."""
    s = scene()
    unit = s.collect()
    s.do("TemperatureExcursionRecorded", {"unit_id": unit, "min_temp_dc": 10,
                                          "max_temp_dc": 95, "minutes": 40},
         actor("inventory", "BB1"))
    s.do("LookbackStarted", {"lookback_id": "LB-T", "din": din(1), "marker": "HIV"}, PROCESSING)
    assert [h.cause for h in s.unit(unit).open_holds] == ["temperature", "lookback"]
    temperature = s.unit(unit).open_holds[0].hold_id
    s.do("QuarantineLifted", {"unit_id": unit, "reason": "logger checked",
                              "hold_id": temperature}, actor("inventory", "BB1"))
    assert [h.cause for h in s.unit(unit).open_holds] == ["lookback"]
    s.test_all(din(1))
    assert s.refuse("UnitReleased", {"unit_id": unit}, PROCESSING).rule == "unit-quarantined"


def test_hold_id_required_when_several_are_open() -> None:
    s = scene()
    unit = s.collect()
    for reason in ("lipaemic", "label smudged"):
        s.do("UnitQuarantined", {"unit_id": unit, "reason": reason}, PROCESSING)
    err = s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "clear"}, PROCESSING)
    assert (err.rule, err.field) == ("hold-id-required", "data.hold_id")


def test_blood_establishment_causes_a_hospital_never_lifts_a_lookback_hold() -> None:
    """Review: a hospital could lift any hold, the blood bank's included."""
    s = scene()
    unit = s.released_component(at_site="H1")
    s.do("LookbackStarted", {"lookback_id": "LB-H", "din": unit.split("-")[0], "marker": "HIV"},
         PROCESSING)
    err = s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "we need it"}, H1)
    assert err.rule == "hold-lift-not-allowed"
    assert s.unit(unit).quarantined


def test_blood_establishment_causes_a_hospitals_processing_key_never_lifts_them() -> None:
    """Security probe: a hospital's processing key (hospitals thaw and irradiate) lifted a
    lookback hold on a unit it held. Only a blood bank's processing key, or an admin, may."""
    s = scene()
    unit = s.released_component(at_site="H1")
    s.do("LookbackStarted", {"lookback_id": "LB-HP", "din": unit.split("-")[0],
                             "marker": "HIV"}, PROCESSING)
    err = s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "needed in theatre"},
                   actor("processing", "H1"))
    assert err.rule == "hold-lift-not-allowed"
    assert [h.cause for h in s.unit(unit).open_holds] == ["lookback"]
    s.do("QuarantineLifted", {"unit_id": unit, "reason": "donor confirmed negative"},
         actor("admin", None))
    assert not s.unit(unit).quarantined


def test_blood_establishment_causes_processing_lifts_them_once_the_unit_is_back() -> None:
    s = scene()
    unit = s.collect()
    s.do("PostDonationInformationReceived", {"donor_id": s.unit(unit).donor_id,
                                             "information": "cold sore", "since": "2025-01-01"},
         actor("collector", "BB1"))
    err = s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "x"}, actor("inventory", "BB1"))
    assert err.rule == "hold-lift-not-allowed"
    s.do("QuarantineLifted", {"unit_id": unit, "reason": "medical officer: no risk"}, PROCESSING)
    assert not s.unit(unit).quarantined


def test_custodian_lifts_temperature_receipt_and_manual_holds() -> None:
    s = scene()
    unit = s.released_component()
    s.do("UnitQuarantined", {"unit_id": unit, "reason": "bag creased"}, H1)
    s.do("QuarantineLifted", {"unit_id": unit, "reason": "inspected"}, H1)
    assert not s.unit(unit).quarantined
    assert s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "x"},
                    actor("hospital", "H2")).rule == "not-custodian"


def test_test_hold_only_once_its_marker_is_resolved() -> None:
    s = scene()
    unit = s.collect()
    s.do("TestResultRecorded", _result(din(1), "HBV", "reactive"), LAB)
    assert s.refuse("QuarantineLifted", {"unit_id": unit, "reason": "x"},
                    PROCESSING).rule == "hold-unresolved"
    s.do("TestResultRecorded", _result(din(1), "HBV", "non_reactive", "repeat"), LAB)
    assert s.unit(unit).quarantined  # one repeat is not enough
    lifted = s.do("TestResultRecorded", _result(din(1), "HBV", "non_reactive", "repeat"), LAB)
    assert [e.type for e in lifted] == ["TestResultRecorded", "QuarantineLifted"]
    assert not s.unit(unit).quarantined
    [hold] = s.unit(unit).holds
    assert hold.lifted_at is not None and "resolved" in str(hold.lifted_reason)


def test_derived_causes_are_never_asked_for_by_hand() -> None:
    s = scene()
    unit = s.collect()
    for cause in ("test", "abo_discrepancy", "lookback", "receipt"):
        err = s.refuse("UnitQuarantined", {"unit_id": unit, "reason": "x", "cause": cause},
                       PROCESSING)
        assert err.rule == "hold-cause-derived"


def test_holds_show_on_the_unit_with_cause_reason_and_since() -> None:
    s = scene()
    unit = s.collect()
    [event] = s.do("UnitQuarantined", {"unit_id": unit, "reason": "lipaemic",
                                       "cause": "manual"}, PROCESSING)
    [hold] = s.unit(unit).open_holds
    assert (hold.hold_id, hold.cause, hold.reason, hold.since) == (
        body(event)["hold_id"], "manual", "lipaemic", event.occurred_at)
