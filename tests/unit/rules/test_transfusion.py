"""RULES §8, transfusion: given a unit issued to a patient, when the transfusion starts and
ends, then the start needs a bedside check with the wristband and the unit scanned and comes
within the start window after issue, the end (UnitTransfused) needs a start and comes within
4 h of issue unless a late-completion reason says why, and no more is given than the unit
holds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.events.catalogue import Catalogue
from tests.support.scene import BEDSIDE, Scene, actor, scene

H1 = actor("hospital", "H1")


def issued(s: Scene, patient: str = "PAT-1") -> tuple[str, datetime]:
    """A released O NEG red-cell unit (250 mL) at H1, reserved and issued to ``patient``;
    returns it and the time of issue."""
    unit = s.released_component("O", "NEG")
    s.reserve(unit, patient)
    at = s.later(minutes=1)
    s.do("UnitIssued", {"unit_id": unit, "patient_id": patient}, H1, at=at)
    return unit, at


def start(unit: str, patient: str = "PAT-1", **check: Any) -> dict[str, Any]:
    return {"unit_id": unit, "patient_id": patient, "bedside_check": {**BEDSIDE, **check}}


def transfused(unit: str, patient: str = "PAT-1", **extra: Any) -> dict[str, Any]:
    return {"unit_id": unit, "patient_id": patient, **extra}


# --- TransfusionStarted ---------------------------------------------------------------------


def test_transfusion_started_with_bedside_check_wristband_and_unit_scanned() -> None:
    """Given a unit issued to PAT-1,
    when the transfusion starts with the wristband or the unit not scanned, it is refused
    (bedside-check-failed on data.bedside_check);
    when both are scanned (no second checker needed), it is accepted: the unit shows when its
    transfusion started and is still issued to PAT-1."""
    # review item: (5) there was no start and no bedside check.
    s = scene()
    unit, _ = issued(s)
    for unscanned in ({"wristband_scanned": False}, {"unit_scanned": False},
                      {"wristband_scanned": False, "unit_scanned": False}):
        err = s.refuse("TransfusionStarted", start(unit, **unscanned), H1)
        assert (err.rule, err.field) == ("bedside-check-failed", "data.bedside_check")
    assert s.unit(unit).transfusion_started_at is None
    data = start(unit)
    del data["bedside_check"]["second_checker_id"]
    [event] = s.do("TransfusionStarted", data, H1)
    state = s.unit(unit)
    assert state.transfusion_started_at == event.occurred_at
    assert (state.status, state.issued_patient_id) == ("issued", "PAT-1")


def test_transfusion_started_bedside_check_is_required() -> None:
    """When a transfusion starts with no bedside check, then it is refused
    (invalid-event-data on data.bedside_check)."""
    s = scene()
    unit, _ = issued(s)
    err = s.refuse("TransfusionStarted", {"unit_id": unit, "patient_id": "PAT-1"}, H1)
    assert (err.rule, err.field) == ("invalid-event-data", "data.bedside_check")


def test_transfusion_started_within_the_start_window_after_issue() -> None:
    """Given two units issued at I1 and I2,
    when the first starts at I1 + 30 min, it is accepted;
    when the second starts at I2 + 30 min + 1 µs, it is refused (start-window-exceeded on
    occurred_at): it has been out of controlled storage too long."""
    # review item: (5) UnitTransfused was accepted 20 h after issue.
    s = scene()
    first, first_at = issued(s, "PAT-1")
    second, second_at = issued(s, "PAT-2")
    s.do("TransfusionStarted", start(first, "PAT-1"), H1, at=first_at + timedelta(minutes=30))
    err = s.refuse("TransfusionStarted", start(second, "PAT-2"), H1,
                   at=second_at + timedelta(minutes=30, microseconds=1))
    assert (err.rule, err.field) == ("start-window-exceeded", "occurred_at")
    assert s.unit(second).transfusion_started_at is None


def test_transfusion_started_the_start_window_is_configurable() -> None:
    """Given a catalogue with start_within_minutes 60,
    when a unit starts 45 minutes after issue, then it is accepted."""
    from app.events.catalogue_parts import PatientRules

    s = Scene(Catalogue(patients=PatientRules(start_within_minutes=60))).network()
    unit, at = issued(s)
    s.do("TransfusionStarted", start(unit), H1, at=at + timedelta(minutes=45))
    assert s.unit(unit).transfusion_started_at == at + timedelta(minutes=45)


def test_transfusion_started_only_for_the_patient_the_unit_was_issued_to() -> None:
    """Given a unit issued to PAT-1 and a unit only reserved,
    when the first starts for PAT-2, it is refused (wrong-patient); the reserved one,
    refused (unit-not-issued); the first twice, the second time refused
    (transfusion-already-started)."""
    s = scene()
    unit, _ = issued(s)
    reserved = s.released_component("O", "NEG")
    s.reserve(reserved, "PAT-1")
    assert s.refuse("TransfusionStarted", start(unit, "PAT-2"), H1).rule == "wrong-patient"
    assert s.refuse("TransfusionStarted", start(reserved), H1).rule == "unit-not-issued"
    s.do("TransfusionStarted", start(unit), H1)
    assert s.refuse("TransfusionStarted", start(unit), H1).rule == "transfusion-already-started"


def test_transfusion_started_never_for_a_held_unit() -> None:
    """Given a unit issued and then held (a recall reached it at the ward),
    when its transfusion starts, then it is refused (unit-quarantined)."""
    s = scene()
    unit, _ = issued(s)
    s.do("UnitQuarantined", {"unit_id": unit, "reason": "recall"}, H1)
    assert s.refuse("TransfusionStarted", start(unit), H1).rule == "unit-quarantined"


# --- UnitTransfused -------------------------------------------------------------------------


def test_unit_transfused_needs_a_start() -> None:
    """Given a unit issued to PAT-1 and never started,
    when UnitTransfused is recorded 20 h after issue (or at once), then it is refused
    (transfusion-not-started): no final fate without a bedside check."""
    # review item: (5) UnitTransfused was accepted 20 h after issue with no start, no bedside
    # check and no 4-hour rule.
    s = scene()
    unit, at = issued(s)
    err = s.refuse("UnitTransfused", transfused(unit), H1, at=at + timedelta(minutes=1))
    assert (err.rule, err.field) == ("transfusion-not-started", "data.unit_id")
    err = s.refuse("UnitTransfused", transfused(unit, late_completion_reason="slow"), H1,
                   at=at + timedelta(hours=20))
    assert err.rule == "transfusion-not-started"
    assert s.unit(unit).fate is None


def test_unit_transfused_four_hour_rule_late_completion_reason() -> None:
    """Given two units issued at I1 and I2 and started at once,
    when the first ends at I1 + 4 h, it is accepted (the final fate: transfused to PAT-1);
    when the second ends at I2 + 4 h + 1 µs, it is refused
    (late-completion-reason-required on data.late_completion_reason);
    when it ends then with a late_completion_reason, it is accepted and the reason recorded."""
    # review item: (5) no 4-hour rule.
    s = scene()
    first, first_at = issued(s, "PAT-1")
    s.do("TransfusionStarted", start(first, "PAT-1"), H1, at=first_at + timedelta(minutes=1))
    second, second_at = issued(s, "PAT-2")
    s.do("TransfusionStarted", start(second, "PAT-2"), H1, at=second_at + timedelta(minutes=1))
    s.do("UnitTransfused", transfused(first, "PAT-1"), H1, at=first_at + timedelta(hours=4))
    state = s.unit(first)
    assert (state.status, state.recipient_patient_id) == ("transfused", "PAT-1")
    late = second_at + timedelta(hours=4, microseconds=1)
    err = s.refuse("UnitTransfused", transfused(second, "PAT-2"), H1, at=late)
    assert (err.rule, err.field) == ("late-completion-reason-required",
                                     "data.late_completion_reason")
    assert s.unit(second).fate is None
    [event] = s.do("UnitTransfused", transfused(
        second, "PAT-2", late_completion_reason="slow rate: heart failure"), H1, at=late)
    assert event.data.late_completion_reason == "slow rate: heart failure"  # type: ignore[attr-defined]
    assert s.unit(second).status == "transfused"


def test_unit_transfused_volume_cannot_exceed_the_unit() -> None:
    """Given a 250 mL unit started at the bedside,
    when 251 mL is recorded as given, it is refused (transfused-volume-exceeded on
    data.volume_ml);
    when 250 mL, it is accepted."""
    s = scene()
    unit, _ = issued(s)
    assert s.unit(unit).volume_ml == 250
    s.do("TransfusionStarted", start(unit), H1)
    err = s.refuse("UnitTransfused", transfused(unit, volume_ml=251), H1)
    assert (err.rule, err.field) == ("transfused-volume-exceeded", "data.volume_ml")
    [event] = s.do("UnitTransfused", transfused(unit, volume_ml=250), H1)
    assert event.data.volume_ml == 250  # type: ignore[attr-defined]
    assert s.unit(unit).status == "transfused"


def test_unit_transfused_stopped_reason_is_the_units_fate_reason() -> None:
    """Given a unit started at the bedside,
    when the transfusion is stopped after 80 mL because of rigors, then UnitTransfused records
    the volume and the stopped reason: the unit's final fate, with that reason."""
    s = scene()
    unit, _ = issued(s)
    s.do("TransfusionStarted", start(unit), H1)
    s.do("UnitTransfused", transfused(unit, volume_ml=80, stopped_reason="rigors"), H1)
    state = s.unit(unit)
    assert (state.status, state.fate_reason, state.recipient_patient_id) == (
        "transfused", "rigors", "PAT-1")


def test_unit_transfused_only_to_the_patient_it_was_issued_to() -> None:
    """Given a unit issued to PAT-1 and started,
    when it is recorded as transfused to another patient, then it is refused (wrong-patient)."""
    s = scene()
    unit, _ = issued(s)
    s.do("TransfusionStarted", start(unit), H1)
    err = s.refuse("UnitTransfused", transfused(unit, "PAT-2"), H1)
    assert (err.rule, err.field) == ("wrong-patient", "data.patient_id")
