"""Lookback: the units found, acknowledgements, open items, from decided events."""

from __future__ import annotations

import dataclasses

from tests.support.scene import BEDSIDE, Scene, actor, scene
from tests.unit.projection_fold import fold


def _lookback(s: Scene) -> tuple[str, str]:
    """Two lookbacks: LB1 on a donation still at BB1, LB2 on one whose red cells were
    transfused at H1 (its whole blood consumed, its plasma at BB1)."""
    given = s.released_component(at_site="H1")
    s.reserve(given, "PAT-1")
    s.issue(given, "PAT-1")
    s.do("TransfusionStarted", {"unit_id": given, "patient_id": "PAT-1",
        "bedside_check": BEDSIDE}, actor("hospital", "H1"))
    s.do("UnitTransfused", {"unit_id": given, "patient_id": "PAT-1"}, actor("hospital", "H1"))
    kept = s.collect()
    s.do("LookbackStarted", {"lookback_id": "LB1", "din": kept.split("-")[0], "marker": "HIV"},
         actor("processing", "BB1"))
    s.do("LookbackStarted", {"lookback_id": "LB2", "din": given.split("-")[0],
                             "marker": "HIV"}, actor("processing", "BB1"))
    return given, kept


def test_lookback_lists_units_and_counts_acknowledgements_once() -> None:
    s = scene()
    given, _ = _lookback(s)
    s.do("LookbackAcknowledged", {"lookback_id": "LB2", "site_id": "H1", "unit_id": given},
         actor("hospital", "H1"))
    events = s.stored()
    replay = dataclasses.replace(events[-1], position=events[-1].position + 1)
    for batch in (1, 2, 10):
        t = fold([*events, replay], batch=batch)  # a repeated acknowledgement counts once
        head = t["rm_lookbacks"][("LB2",)]
        assert (head["unit_count"], head["acknowledged_count"], head["din"]) == (
            3, 1, given.split("-")[0])
        item = t["rm_lookback_units"][("LB2", given)]
        assert item["ack_position"] == events[-1].position and item["patient_id"] == "PAT-1"
        others = [r for k, r in t["rm_lookback_units"].items() if k[0] == "LB2" and k[1] != given]
        assert others and all(r["ack_position"] is None for r in others)


def test_acknowledging_an_item_of_another_lookback_changes_nothing() -> None:
    s = scene()
    given, _ = _lookback(s)
    s.do("LookbackAcknowledged", {"lookback_id": "LB2", "site_id": "H1", "unit_id": given},
         actor("hospital", "H1"))
    events = s.stored()
    stray = dataclasses.replace(events[-1], position=events[-1].position + 1, data=events[-1]
                                .data.model_copy(update={"lookback_id": "LB1"}))
    t = fold([*events, stray])
    assert t["rm_lookbacks"][("LB1",)]["acknowledged_count"] == 0
    assert t["rm_lookbacks"][("LB2",)]["acknowledged_count"] == 1
