"""RULES §5, processing and products: given a unit, when it is split, pooled or modified,
then the derivation table, the collection set's allowance, the parent's expiry and the
modification's own rule decide what comes out (each issue-13 review item is a test)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.events.catalogue import Catalogue
from app.events.catalogue_parts import ProductRules
from app.log.record import parse_time
from tests.support.scene import PLASMA, PLATELETS, RED_CELLS, Scene, actor, body, din, scene

PROCESSING = actor("processing", "BB1")


def split(s: Scene, unit: str, *components: tuple[str, str, int], system: str | None = None
          ) -> list[str]:
    data: dict[str, object] = {"unit_id": unit, "components": [
        {"product_code": pc, "category": cat, "volume_ml": ml} for pc, cat, ml in components]}
    if system is not None:
        data["system"] = system
    [event] = s.do("UnitSplit", data, PROCESSING)
    return [c["unit_id"] for c in body(event)["components"]]


def test_volume_allowance_a_realistic_split_is_accepted() -> None:
    """Review: 280 mL of red cells and 220 mL of plasma from a 450 mL draw were refused."""
    s = scene()
    whole = s.collect(volume_ml=450)
    split(s, whole, (RED_CELLS, "red_cells", 280), (PLASMA, "plasma", 220))


def test_volume_allowance_only_at_the_first_processing() -> None:
    s = scene()
    red = split(s, s.collect(), (RED_CELLS, "red_cells", 280))[0]
    err = s.refuse("UnitSplit", {"unit_id": red, "components": [
        {"product_code": "E0398VA0", "category": "red_cells", "volume_ml": 150},
        {"product_code": "E0398VB0", "category": "red_cells", "volume_ml": 150}]}, PROCESSING)
    assert (err.rule, err.extra["allowance_ml"]) == ("volume-exceeded", 0)


def test_split_expiry_an_aliquot_never_outlives_its_parent() -> None:
    """Review: a parent with 24 h left gave an aliquot 42 days."""
    s = scene()
    red = split(s, s.collect(), (RED_CELLS, "red_cells", 280))[0]
    s.later(days=34)
    [aliquot] = split(s, red, ("E0398VA0", "red_cells", 100))
    assert s.unit(aliquot).expires_at == s.unit(red).expires_at
    assert s.unit(red).expires_at - s.now < timedelta(days=2)


def test_split_expiry_first_processing_is_capped_by_the_collection_by_default() -> None:
    """RULES §5 as written: every child, first processing included, is capped by its parent
    (so red cells and plasma from 35-day whole blood keep 35 days)."""
    s = scene()
    whole = s.collect(volume_ml=450)
    red, plasma = split(s, whole, (RED_CELLS, "red_cells", 280), (PLASMA, "plasma", 220))
    assert s.unit(red).expires_at == s.unit(plasma).expires_at == s.unit(whole).expires_at


def test_split_expiry_first_processing_exemption_is_configurable_never_for_aliquots() -> None:
    """With the Council of Europe Guide's reading, components of whole blood get their own
    shelf life from collection; an aliquot is still capped by its parent."""
    s = Scene(Catalogue(products=ProductRules(first_processing_capped_by_parent=False)))
    s.network()
    whole = s.collect(volume_ml=450)
    collected = s.unit(whole).collected_at
    red, plasma = split(s, whole, (RED_CELLS, "red_cells", 280), (PLASMA, "plasma", 220))
    assert s.unit(red).expires_at == collected + timedelta(days=42)
    assert s.unit(plasma).expires_at == collected + timedelta(days=365)
    s.later(days=41)
    [aliquot] = split(s, red, ("E0398VA0", "red_cells", 100))
    assert s.unit(aliquot).expires_at == s.unit(red).expires_at


def test_derivation_red_cells_are_never_split_into_plasma() -> None:
    """Review: red cells could be "split" into 365-day plasma."""
    s = scene()
    red = split(s, s.collect(), (RED_CELLS, "red_cells", 280))[0]
    err = s.refuse("UnitSplit", {"unit_id": red, "components": [
        {"product_code": PLASMA, "category": "plasma", "volume_ml": 100}]}, PROCESSING)
    assert (err.rule, err.field) == ("derivation-not-allowed", "data.components[0].category")


@pytest.mark.parametrize(("parent_category", "child", "allowed"), [
    ("whole_blood", "buffy_coat", True), ("plasma", "cryoprecipitate", True),
    ("platelets", "platelets", True), ("plasma", "red_cells", False),
    ("platelets", "plasma", False), ("cryoprecipitate", "cryoprecipitate", False)])
def test_derivation_table(parent_category: str, child: str, allowed: bool) -> None:
    assert (child in ProductRules().derivations.get(parent_category, ())) is allowed


def test_open_system_caps_red_cells_at_24_hours_platelets_at_4() -> None:
    s = scene()
    red, plt = split(s, s.collect(), (RED_CELLS, "red_cells", 280), (PLATELETS, "platelets", 60),
                     system="open")
    assert s.unit(red).expires_at == s.now + timedelta(hours=24)
    assert s.unit(plt).expires_at == s.now + timedelta(hours=4)


def test_modification_irradiation_makes_a_new_unit_with_14_days_and_the_attribute() -> None:
    s = scene()
    red = split(s, s.collect(), (RED_CELLS, "red_cells", 280))[0]
    s.later(days=2)
    [event] = s.do("UnitModified", {"unit_id": red, "modification": "irradiated",
                                    "product_code": "E0400V00", "device_id": "IRR-1"},
                   PROCESSING)
    irradiated = body(event)["new_unit_id"]
    assert irradiated == f"{din(1)}-E0400V00"
    assert s.unit(red).consumed and s.unit(irradiated).parents == (red,)
    assert s.unit(irradiated).expires_at == event.occurred_at + timedelta(days=14)
    assert s.unit(irradiated).attributes == ("irradiated",)
    assert s.unit(irradiated).custodian_site_id == "BB1"


def test_modification_never_outlives_the_parent_and_is_configurable() -> None:
    hours = ProductRules().modification_hours
    hours["irradiated"]["red_cells"] = 28 * 24  # the FDA's 28 days
    s = Scene(Catalogue(products=ProductRules(modification_hours=hours))).network()
    red = split(s, s.collect(), (RED_CELLS, "red_cells", 280))[0]
    s.later(days=20)
    s.do("UnitModified", {"unit_id": red, "modification": "irradiated",
                          "product_code": "E0400V00"}, PROCESSING)
    assert s.unit(f"{din(1)}-E0400V00").expires_at == s.unit(red).expires_at


def test_modification_thawed_plasma_keeps_24_hours_at_the_hospital() -> None:
    s = scene()
    plasma = s.released_component(category="plasma")
    s.do("UnitModified", {"unit_id": plasma, "modification": "thawed",
                          "product_code": "E2555VA0"}, actor("hospital", "H1"))
    thawed = s.unit(f"{din(1)}-E2555VA0")
    assert thawed.expires_at == s.now + timedelta(hours=24)
    assert (thawed.released, thawed.abo) == (True, "O")  # still the released product


def test_modification_must_fit_the_category() -> None:
    s = scene()
    red = split(s, s.collect(), (RED_CELLS, "red_cells", 280))[0]
    err = s.refuse("UnitModified", {"unit_id": red, "modification": "thawed",
                                    "product_code": "E0398VA0"}, PROCESSING)
    assert err.rule == "modification-not-allowed"


def test_product_code_category_a_known_code_must_be_its_category() -> None:
    """Review: the category was the client's word, never checked against the code."""
    s = scene()
    err = s.refuse("UnitSplit", {"unit_id": s.collect(), "components": [
        {"product_code": RED_CELLS, "category": "plasma", "volume_ml": 200}]}, PROCESSING)
    assert err.rule == "category-mismatch"


def test_pool_keeps_only_the_attributes_every_parent_has() -> None:
    s = scene()
    plts = []
    for n in (1, 2):
        whole = s.collect(n)
        s.test_all(din(n))
        plts.append(split(s, whole, (RED_CELLS, "red_cells", 250),
                          (PLATELETS, "platelets", 60))[1])
    s.do("UnitModified", {"unit_id": plts[0], "modification": "irradiated",
                          "product_code": "E3084VA0"}, PROCESSING)
    s.do("UnitsPooled", {"parent_unit_ids": [f"{din(1)}-E3084VA0", plts[1]], "din": din(900),
                         "product_code": "E3090V00", "category": "platelets",
                         "volume_ml": 110}, PROCESSING)
    assert s.unit(f"{din(900)}-E3090V00").attributes == ()
    assert parse_time(body(s.log[-1])["expires_at"]) <= s.unit(plts[1]).expires_at
