"""Splitting a unit into components and pooling units into a new DIN."""

from __future__ import annotations

from datetime import timedelta

from app.api.problems import http_status
from app.errors import (
    ComponentExists,
    DinAlreadyCollected,
    InvalidEventData,
    NotCustodian,
    PoolCategoryMismatch,
    PoolMixedGroups,
    UnitConsumed,
    UnitExpired,
    UnitNotFound,
    UnitQuarantinedError,
    VolumeExceeded,
)
from app.events import isbt
from app.log.record import format_time
from tests.support.scene import (
    PLASMA,
    PLATELETS,
    RED_CELLS,
    T0,
    Scene,
    actor,
    body,
    din,
    scene,
)

PROCESSING = actor("processing", "BB1")


def split_data(unit_id: str, *components: tuple[str, str, int]) -> dict[str, object]:
    return {"unit_id": unit_id, "components": [
        {"product_code": pc, "category": cat, "volume_ml": ml} for pc, cat, ml in components]}


def platelet_units(s: Scene, count: int, abo: str = "O", rhd: str = "POS") -> list[str]:
    units = []
    for _ in range(count):
        parent = s.collect()
        _, _, plt = s.split(parent, [(RED_CELLS, "red_cells", 250), (PLASMA, "plasma", 150),
                                     (PLATELETS, "platelets", 50)])
        s.test_all(isbt.din_of_unit(parent), abo, rhd)
        units.append(plt)
    return units


def pool_data(parents: list[str], n: int = 900, **extra: object) -> dict[str, object]:
    return {"parent_unit_ids": parents, "din": din(n), "product_code": "E3090V00",
            "category": "platelets", "volume_ml": 100, **extra}


def test_split_children_keep_the_din_and_the_parent_is_consumed() -> None:
    s = scene()
    parent = s.collect(at=T0)
    [event] = s.do("UnitSplit", split_data(parent, (RED_CELLS, "red_cells", 250),
                                           (PLASMA, "plasma", 180)), PROCESSING)
    red, plasma = (f"{din(1)}-{pc}" for pc in (RED_CELLS, PLASMA))
    assert event.stream == parent
    assert body(event)["din"] == din(1)
    assert [c["unit_id"] for c in body(event)["components"]] == [red, plasma]
    # Shelf life runs from collection, capped by the parent's (RULES §5): red cells would
    # keep 42 days and plasma 365, but the whole blood they come from keeps 35.
    assert body(event)["components"][0]["expires_at"] == "2025-04-05T08:00:00.000000Z"
    assert body(event)["components"][1]["expires_at"] == "2025-04-05T08:00:00.000000Z"
    assert {("unit", parent), ("unit", red), ("unit", plasma)} <= event.refs
    assert s.unit(parent).consumed and s.unit(parent).children == (red, plasma)
    assert s.unit(red).parents == (parent,) and s.unit(red).custodian_site_id == "BB1"
    assert s.donation(din(1)).unit_ids == (parent, red, plasma)


def test_a_consumed_parent_cannot_be_used_again() -> None:
    s = scene()
    parent = s.collect()
    s.split(parent)
    err = s.refuse("UnitSplit", split_data(parent, ("E0400V00", "red_cells", 200)), PROCESSING)
    assert isinstance(err, UnitConsumed)
    assert isinstance(s.refuse("UnitReleased", {"unit_id": parent}, PROCESSING), UnitConsumed)


def test_components_need_distinct_product_codes() -> None:
    s = scene()
    parent = s.collect()
    err = s.refuse("UnitSplit", split_data(parent, (RED_CELLS, "red_cells", 200),
                                           (RED_CELLS, "red_cells", 200)), PROCESSING)
    assert isinstance(err, ComponentExists)
    # Whole blood is not made from whole blood (RULES §5 derivation table) ...
    err = s.refuse("UnitSplit", split_data(parent, ("E0001V00", "whole_blood", 200)),
                   PROCESSING)
    assert err.rule == "derivation-not-allowed"
    # ... and an aliquot cannot take its parent's own unit id.
    red = s.split(parent, [(RED_CELLS, "red_cells", 250)])[0]
    err = s.refuse("UnitSplit", split_data(red, (RED_CELLS, "red_cells", 100)), PROCESSING)
    assert isinstance(err, ComponentExists)


def test_divisions_of_a_component_are_distinct_units() -> None:
    s = scene()
    red, _ = s.split(s.collect())
    children = s.split(red, [("E0398VA0", "red_cells", 100), ("E0398VB0", "red_cells", 100)])
    assert [s.unit(c).category for c in children] == ["red_cells", "red_cells"]


def test_component_volumes_cannot_exceed_the_parent() -> None:
    s = scene()
    parent = s.collect(volume_ml=450)
    # 450 mL as drawn + 63 mL anticoagulant + 110 mL additive: 623 mL at most.
    err = s.refuse("UnitSplit", split_data(parent, (RED_CELLS, "red_cells", 400),
                                           (PLASMA, "plasma", 224)), PROCESSING)
    assert isinstance(err, VolumeExceeded) and err.extra["allowance_ml"] == 173
    s.do("UnitSplit", split_data(parent, (RED_CELLS, "red_cells", 400),
                                 (PLASMA, "plasma", 223)), PROCESSING)


def test_only_the_custodian_splits() -> None:
    s = scene()
    parent = s.collect()
    err = s.refuse("UnitSplit", split_data(parent, (RED_CELLS, "red_cells", 200)),
                   actor("processing", "BB2"))
    assert isinstance(err, NotCustodian) and http_status(err) == 403


def test_an_unknown_unit_is_a_404() -> None:
    err = scene().refuse("UnitSplit", split_data(f"{din(5)}-E0001V00",
                                                 (RED_CELLS, "red_cells", 200)), PROCESSING)
    assert isinstance(err, UnitNotFound) and http_status(err) == 404


def test_an_expired_unit_is_not_split() -> None:
    s = scene()
    parent = s.collect(at=T0)
    err = s.refuse("UnitSplit", split_data(parent, (RED_CELLS, "red_cells", 200)), PROCESSING,
                   at=T0 + timedelta(days=35))
    assert isinstance(err, UnitExpired)


def test_pooling_makes_a_new_din_with_many_parents() -> None:
    s = scene()
    parents = platelet_units(s, 4)
    [event] = s.do("UnitsPooled", pool_data(parents), PROCESSING)
    pool = f"{din(900)}-E3090V00"
    assert event.stream == pool and body(event)["unit_id"] == pool
    earliest = min(s.unit(p).expires_at for p in parents)
    assert body(event)["expires_at"] == format_time(earliest)
    unit = s.unit(pool)
    assert unit.parents == tuple(parents)
    assert unit.source_dins == tuple(isbt.din_of_unit(p) for p in parents)
    assert unit.expires_at == earliest
    assert all(s.unit(p).consumed and s.unit(p).children == (pool,) for p in parents)
    assert {("unit", p) for p in parents} | {("unit", pool), ("donation", din(900))} <= (
        event.refs)


def test_a_pool_needs_one_category_and_one_group() -> None:
    s = scene()
    plts = platelet_units(s, 2)
    red = s.split(s.collect())[0]
    err = s.refuse("UnitsPooled", pool_data([*plts, red]), PROCESSING)
    assert isinstance(err, PoolCategoryMismatch)
    other = platelet_units(s, 1, abo="A")
    err = s.refuse("UnitsPooled", pool_data([*plts, *other]), PROCESSING)
    assert isinstance(err, PoolMixedGroups)


def test_a_pool_takes_a_din_not_in_use_and_distinct_parents() -> None:
    s = scene()
    plts = platelet_units(s, 2)
    err = s.refuse("UnitsPooled", pool_data(plts, n=1), PROCESSING)
    assert isinstance(err, DinAlreadyCollected)
    err = s.refuse("UnitsPooled", pool_data([plts[0], plts[0]]), PROCESSING)
    assert isinstance(err, InvalidEventData)


def test_quarantined_or_consumed_units_are_not_pooled() -> None:
    s = scene()
    plts = platelet_units(s, 3)
    s.do("UnitQuarantined", {"unit_id": plts[0], "reason": "clots"}, PROCESSING)
    assert isinstance(s.refuse("UnitsPooled", pool_data(plts), PROCESSING),
                      UnitQuarantinedError)
    s.do("UnitsPooled", pool_data(plts[1:]), PROCESSING)
    assert isinstance(s.refuse("UnitsPooled", pool_data(plts[1:], n=901), PROCESSING),
                      UnitConsumed)


def test_pooled_volume_cannot_exceed_the_parents() -> None:
    s = scene()
    plts = platelet_units(s, 2)
    err = s.refuse("UnitsPooled", pool_data(plts, volume_ml=101), PROCESSING)
    assert isinstance(err, VolumeExceeded)


def test_a_pool_is_released_once_every_source_donation_passed() -> None:
    s = scene()
    plts = platelet_units(s, 2)
    s.do("UnitsPooled", pool_data(plts), PROCESSING)
    pool = f"{din(900)}-E3090V00"
    # Platelets also need a bacterial screen (RULES §3), here on the pool's own DIN.
    err = s.refuse("UnitReleased", {"unit_id": pool}, PROCESSING)
    assert (err.rule, err.extra["marker"]) == ("tests-incomplete", "BACTERIA")
    s.do("TestResultRecorded", {"din": din(900), "marker": "BACTERIA", "result": "non_reactive",
                                "lab_site_id": "LAB1"}, actor("lab", "LAB1"))
    [event] = s.do("UnitReleased", {"unit_id": pool}, PROCESSING)
    assert (body(event)["abo"], body(event)["rhd"], body(event)["category"]) == (
        "O", "POS", "platelets")


def test_a_product_code_can_override_its_category_shelf_life() -> None:
    from app.events.catalogue import Catalogue, Storage

    # Irradiated red cells (say E0400) keep 28 days, not the 42 of their category.
    catalogue = Catalogue(product_overrides={"E0400": Storage(min_dc=20, max_dc=60,
                                                              shelf_life_hours=28 * 24)})
    s = Scene(catalogue).network()
    parent = s.collect(at=T0)
    [event] = s.do("UnitSplit", split_data(parent, ("E0400V00", "red_cells", 250),
                                           (RED_CELLS, "red_cells", 100)), PROCESSING)
    expiries = [c["expires_at"] for c in body(event)["components"]]
    # 28 days by its code; the other red cells 42 by category, capped at the parent's 35.
    assert expiries == ["2025-03-29T08:00:00.000000Z", "2025-04-05T08:00:00.000000Z"]


def test_keys_needed_for_a_split_names_the_components() -> None:
    from app.events.registry import keys_needed

    s = scene()
    parent = s.collect()
    cmd = s.command("UnitSplit", split_data(parent, (RED_CELLS, "red_cells", 250)))
    assert (("unit", f"{isbt.din_of_unit(parent)}-{RED_CELLS}"), False) in keys_needed(cmd)
