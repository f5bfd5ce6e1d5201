"""RULES §6, custody and cold chain: given a unit in transit or in stock, when it arrives
or is discarded, then the transport range judges the arrival and the unit's own history
must bear out the discard reason."""

from __future__ import annotations

import pytest

from tests.support.scene import Scene, actor, din, scene

H1 = actor("hospital", "H1")
BB1 = actor("inventory", "BB1")


def arrive(s: Scene, unit: str, temp_dc: int) -> list[str]:
    shipment = s.ship(unit, "H1")
    events = s.do("UnitReceived", {"unit_id": unit, "site_id": "H1", "shipment_id": shipment,
                                   "accepted": True, "temp_dc": temp_dc}, H1)
    return [e.type for e in events]


@pytest.mark.parametrize(("category", "temp_dc", "held"), [
    ("red_cells", 80, False), ("red_cells", 10, False), ("red_cells", 101, True),
    ("red_cells", 5, True), ("plasma", -250, False), ("plasma", -150, True)])
def test_transport_range_judges_an_arrival(category: str, temp_dc: int, held: bool) -> None:
    """Review: red cells arriving at 8 °C were held (checked against storage, 2-6 °C)."""
    s = scene()
    unit = s.released_component(category=category, at_site="BB1")
    assert ("UnitQuarantined" in arrive(s, unit, temp_dc)) is held


def discard(s: Scene, unit: str, reason: str, by: object = BB1, **extra: str) -> str:
    from app.errors import DomainError

    try:
        s.do("UnitDiscarded", {"unit_id": unit, "reason": reason, **extra}, by)  # type: ignore[arg-type]
    except DomainError as err:
        return err.rule
    return "discarded"


def test_discard_reasons_are_borne_out_by_history() -> None:
    """Review: recalled, reactive_test and temperature were accepted on clean units."""
    s = scene()
    unit = s.released_component(at_site="BB1")
    for reason in ("recalled", "reactive_test", "temperature", "expired", "returned_late"):
        assert discard(s, unit, reason) == "discard-reason-mismatch", reason
    assert discard(s, unit, "damaged") == "discard-reason-mismatch"  # needs a note
    assert discard(s, unit, "damaged", note="bag torn in the centrifuge") == "discarded"


def test_discard_temperature_after_an_excursion() -> None:
    s = scene()
    unit = s.released_component(at_site="BB1")
    s.do("TemperatureExcursionRecorded", {"unit_id": unit, "min_temp_dc": 30,
                                          "max_temp_dc": 95, "minutes": 50}, BB1)
    assert discard(s, unit, "temperature") == "discarded"


def test_discard_recalled_needs_an_open_recall_kind_of_hold() -> None:
    s = scene()
    unit = s.released_component(at_site="BB1")
    s.do("LookbackStarted", {"lookback_id": "LB-R", "din": din(1), "marker": "HIV"},
         actor("processing", "BB1"))
    assert discard(s, unit, "recalled") == "discarded"


def test_discard_reactive_test_needs_a_reactive_result() -> None:
    s = scene()
    unit = s.collect()
    s.test_all(din(1), results={"HBV": "reactive"})
    assert discard(s, unit, "reactive_test", actor("processing", "BB1")) == "discarded"


def test_thawed_plasma_is_kept_and_carried_cold_never_frozen_again() -> None:
    """Found by the simulator: thawed plasma kept the frozen range, so a thawed unit in the
    fridge at 4 °C was held, and one frozen again at -25 °C passed."""
    s = scene()
    plasma = s.released_component(category="plasma", at_site="BB1")
    s.do("UnitModified", {"unit_id": plasma, "modification": "thawed",
                          "product_code": "E2555VA0"}, actor("processing", "BB1"))
    thawed = f"{din(1)}-E2555VA0"
    assert s.unit(thawed).modifications == ("thawed",)
    s.do("TemperatureExcursionRecorded", {"unit_id": thawed, "min_temp_dc": 30,
                                          "max_temp_dc": 50, "minutes": 60}, BB1)
    assert not s.unit(thawed).quarantined
    s.do("TemperatureExcursionRecorded", {"unit_id": thawed, "min_temp_dc": -250,
                                          "max_temp_dc": -200, "minutes": 60}, BB1)
    assert [h.cause for h in s.unit(thawed).open_holds] == ["temperature"]


def test_thawed_plasma_arrives_in_the_cold_transport_range() -> None:
    s = scene()
    plasma = s.released_component(category="plasma", at_site="BB1")
    s.do("UnitModified", {"unit_id": plasma, "modification": "thawed",
                          "product_code": "E2555VA0"}, actor("processing", "BB1"))
    assert "UnitQuarantined" not in arrive(s, f"{din(1)}-E2555VA0", 60)


def test_a_unit_is_never_modified_the_same_way_twice() -> None:
    s = scene()
    plasma = s.released_component(category="plasma", at_site="BB1")
    s.do("UnitModified", {"unit_id": plasma, "modification": "thawed",
                          "product_code": "E2555VA0"}, actor("processing", "BB1"))
    err = s.refuse("UnitModified", {"unit_id": f"{din(1)}-E2555VA0", "modification": "thawed",
                                    "product_code": "E2555VB0"}, actor("processing", "BB1"))
    assert (err.rule, err.field) == ("modification-not-allowed", "data.modification")
