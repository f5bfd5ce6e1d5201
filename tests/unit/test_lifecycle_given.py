"""The standard scene itself holds (the scene lives in ``tests/support/scene.py``)."""

from __future__ import annotations

from tests.support.scene import SITES, scene


def test_the_standard_scene_registers_every_kind_of_site() -> None:
    s = scene()
    assert {k for k in s.world if k[0] == "site"} == {("site", x) for x in SITES}


def test_a_released_component_reaches_the_hospital() -> None:
    s = scene()
    unit_id = s.released_component()
    unit = s.unit(unit_id)
    assert (unit.custodian_site_id, unit.released, unit.abo, unit.rhd) == ("H1", True, "O", "NEG")
    assert unit.status == "released"
