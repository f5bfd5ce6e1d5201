"""Lookback: the units found, acknowledgements, open items."""

from __future__ import annotations

from tests.support.unit_events import Log
from tests.unit.projection_fold import fold


def _started(log: Log) -> None:
    log.add("LookbackStarted", {
        "lookback_id": "LB1", "donor_id": "D1", "marker": "HIV", "since": "2024-01-01",
        "units": [
            {"unit_id": "U1", "status": "transfused", "custodian_site_id": "H1",
             "patient_id": "P1"},
            {"unit_id": "U2", "status": "quarantined", "custodian_site_id": "BB1"},
        ]}, site="BB1", role="admin")


def test_lookback_lists_units_and_counts_acknowledgements_once() -> None:
    log = Log()
    _started(log)
    log.add("LookbackAcknowledged", {"lookback_id": "LB1", "site_id": "H1", "unit_id": "U1"},
            site="H1")
    log.add("LookbackAcknowledged", {"lookback_id": "LB1", "site_id": "H1", "unit_id": "U1"},
            site="H1")
    for batch in (1, 2, 10):
        t = fold(log.events, batch=batch)
        head = t["rm_lookbacks"][("LB1",)]
        assert (head["unit_count"], head["acknowledged_count"], head["donor_id"]) == (2, 1, "D1")
        u1, u2 = t["rm_lookback_units"][("LB1", "U1")], t["rm_lookback_units"][("LB1", "U2")]
        assert u1["ack_position"] == 2 and u1["patient_id"] == "P1"
        assert u2["ack_position"] is None


def test_acknowledging_an_unknown_item_changes_nothing() -> None:
    log = Log()
    _started(log)
    log.add("LookbackAcknowledged", {"lookback_id": "LB1", "site_id": "H1", "unit_id": "U9"})
    assert fold(log.events)["rm_lookbacks"][("LB1",)]["acknowledged_count"] == 0
