"""RULES §5 intended use and §6 returns, given/when/then: a research or source-plasma unit
never reaches a patient or a hospital, an autologous one only its named recipient; a return
after the window goes back to stock only in a validated shipper inside the transport range."""

from __future__ import annotations

from datetime import timedelta

from tests.support.scene import Scene, actor, din, scene

H1 = actor("hospital", "H1")


def _released(s: Scene, intended_use: str, recipient: str | None = None) -> str:
    s.dins += 1
    donor = s.new_donor()
    s.screen(donor, "BB1")
    s.screen_before_collection = False
    data = {"din": din(s.dins), "donor_id": donor, "site_id": "BB1",
            "collection_type": "whole_blood", "product_code": "E0001V00",
            "category": "whole_blood", "volume_ml": 450, "intended_use": intended_use}
    if recipient is not None:
        data["intended_recipient_id"] = recipient
    s.do("DonationCollected", data, actor("collector", "BB1"))
    s.screen_before_collection = True
    red, _ = s.split(f"{din(s.dins)}-E0001V00")
    s.test_all(din(s.dins), "O", "NEG")
    s.release(red)
    return red


def _reserve(unit: str, patient: str) -> dict[str, str]:
    return {"unit_id": unit, "patient_id": patient, "patient_abo": "O", "patient_rhd": "NEG",
            "crossmatch": "compatible"}


def test_intended_use_research_and_source_plasma_never_reach_a_hospital() -> None:
    """Review (issue 13): research or source-plasma units can be issued."""
    s = scene()
    for use in ("research", "source_plasma"):
        unit = _released(s, use)
        err = s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "BB1",
                                       "to_site_id": "H1", "shipment_id": f"S-{use}"},
                       actor("inventory", "BB1"))
        assert err.rule == "intended-use"
        err = s.refuse("UnitReserved", _reserve(unit, "PAT-1"), actor("admin", None))
        assert err.rule == "intended-use"


def test_intended_use_autologous_only_to_its_named_recipient() -> None:
    """Review (issue 13): autologous and directed units can go to anyone."""
    s = scene()
    unit = _released(s, "autologous", "PAT-OWN")
    s.receive(unit, s.ship(unit, "H1"), "H1")
    assert s.refuse("UnitReserved", _reserve(unit, "PAT-OTHER"), H1).rule == "intended-use"
    s.do("UnitReserved", _reserve(unit, "PAT-OWN"), H1)


def test_return_in_a_validated_shipper_after_31_minutes_goes_back_to_stock() -> None:
    """Review (issue 13): a unit returned in a validated cooler after 31 minutes can never
    go back to stock."""
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    issued_at = s.later(minutes=5)
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-0001"}, H1, at=issued_at)
    [returned] = s.do("UnitReturned", {"unit_id": unit, "temp_dc": 45,
                                       "validated_shipper": True}, H1,
                      at=issued_at + timedelta(minutes=31))
    assert returned.data.returned_late is False  # type: ignore[attr-defined]
    assert s.unit(unit).status == "released" and not s.unit(unit).returned_late


def test_return_in_a_validated_shipper_out_of_range_is_late() -> None:
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    issued_at = s.later(minutes=5)
    s.do("UnitIssued", {"unit_id": unit, "patient_id": "PAT-0001"}, H1, at=issued_at)
    s.do("UnitReturned", {"unit_id": unit, "temp_dc": 150, "validated_shipper": True}, H1,
         at=issued_at + timedelta(minutes=40))
    assert s.unit(unit).returned_late and s.unit(unit).status == "quarantined"
    s.do("UnitDiscarded", {"unit_id": unit, "reason": "returned_late"}, H1)


def test_return_within_the_window_out_of_range_is_held_for_temperature() -> None:
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    s.issue(unit)
    s.do("UnitReturned", {"unit_id": unit, "temp_dc": 150}, H1)
    state = s.unit(unit)
    assert not state.returned_late
    assert [h.cause for h in state.open_holds] == ["temperature"]


def test_a_unit_whose_transfusion_started_never_returns() -> None:
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    s.issue(unit)
    s.start(unit)
    assert s.refuse("UnitReturned", {"unit_id": unit}, H1).rule == "transfusion-already-started"
