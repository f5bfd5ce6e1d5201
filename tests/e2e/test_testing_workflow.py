"""The testing workflow over HTTP (RULES §1-3, §8): an initially reactive screen, a reactive
repeat, a confirmatory positive, the lookback it starts, the recipient notified, the
lookback closed; each refusal on the way is a problem+json naming its rule, and leaves the
log unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.api_world import Net, din
from tests.e2e.test_full_life import refused
from tests.support.scene import BEDSIDE


def result(din_: str, marker: str, value: str, kind: str = "screen") -> dict[str, Any]:
    return {"din": din_, "marker": marker, "result": value, "lab_site_id": "LAB1",
            "test_kind": kind, "sample_id": f"S-{din_}-{kind}", "assay": "combo",
            "kit_lot": "LOT-7"}


class Past:
    """Steps dated ``days`` ago, recorded now with a late-entry reason (as a blood bank
    entering paper records would), one minute apart."""

    def __init__(self, net: Net, days: int) -> None:
        self.net = net
        self.at = datetime.now(UTC) - timedelta(days=days)

    async def ok(self, key: str, type: str, data: dict[str, Any]) -> dict[str, Any]:
        self.at += timedelta(minutes=1)
        response = await self.net.post(key, type, data, occurred_at=self.at.isoformat(),
                                       late_entry_reason="paper records entered after the fact")
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


async def test_reactive_repeat_confirmed_lookback_notified_closed(client, make_key):
    net = await Net(client, make_key).setup()
    first, second = din(8001), din(8002)
    red, plasma = f"{first}-E0398V00", f"{first}-E2555V00"
    # A hundred days ago: the donor's first donation, clean; its red cells transfused at H1.
    past = Past(net, 100)
    await past.ok("collector@BB1", "DonorRegistered", {"donor_id": "DNR-LB-1", "abo": "O",
                                                       "rhd": "NEG"})
    await past.ok("collector@BB1", "DonorScreened", {"donor_id": "DNR-LB-1", "site_id": "BB1",
                                                     "hb_g_l": 142, "pass": True})
    await past.ok("collector@BB1", "DonationCollected", {
        "din": first, "donor_id": "DNR-LB-1", "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450})
    await past.ok("processing@BB1", "UnitSplit", {"unit_id": f"{first}-E0001V00", "components": [
        {"product_code": "E0398V00", "category": "red_cells", "volume_ml": 250},
        {"product_code": "E2555V00", "category": "plasma", "volume_ml": 180}]})
    for marker, value in (("HIV", "non_reactive"), ("HBV", "non_reactive"),
                          ("HCV", "non_reactive"), ("SYPHILIS", "non_reactive"), ("ABO", "O"),
                          ("RHD", "NEG")):
        await past.ok("lab@LAB1", "TestResultRecorded", result(first, marker, value))
    await past.ok("processing@BB1", "UnitReleased", {"unit_id": red})
    await past.ok("inventory@BB1", "UnitShipped", {"unit_id": red, "from_site_id": "BB1",
                                                   "to_site_id": "H1", "shipment_id": "SHP-P1"})
    await past.ok("hospital@H1", "UnitReceived", {"unit_id": red, "site_id": "H1",
                                                  "shipment_id": "SHP-P1", "accepted": True})
    await past.ok("hospital@H1", "UnitReserved", {
        "unit_id": red, "patient_id": "PAT-LB-1", "patient_abo": "O", "patient_rhd": "NEG",
        "crossmatch": "compatible"})
    await past.ok("hospital@H1", "UnitIssued", {"unit_id": red, "patient_id": "PAT-LB-1"})
    await past.ok("hospital@H1", "TransfusionStarted", {"unit_id": red, "patient_id": "PAT-LB-1",
        "bedside_check": BEDSIDE})
    await past.ok("hospital@H1", "UnitTransfused", {"unit_id": red, "patient_id": "PAT-LB-1"})
    # Today (100 days on: past the 84 days that follow whole blood when the donor's sex is
    # unrecorded), the second donation screens initially reactive for HCV.
    await net.screen("DNR-LB-1")
    await net.ok("collector@BB1", "DonationCollected", {
        "din": second, "donor_id": "DNR-LB-1", "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450})
    unit = f"{second}-E0001V00"
    ir = await net.ok("lab@LAB1", "TestResultRecorded", result(second, "HCV", "reactive"))
    assert len(ir["derived_positions"]) == 1  # the test hold; the donor is not deferred yet
    state = (await net.get("processing@BB1", f"/v1/units/{unit}")).json()
    [hold] = state["holds"]
    assert (state["status"], hold["cause"], hold["marker"]) == ("quarantined", "test", "HCV")
    await refused(net, "processing@BB1", "QuarantineLifted",
                  {"unit_id": unit, "reason": "looks fine"}, 409, "hold-unresolved")
    await refused(net, "processing@BB1", "UnitReleased", {"unit_id": unit}, 409,
                  "unit-quarantined")
    # A later non-reactive screen never hides the reactive one.
    await net.ok("lab@LAB1", "TestResultRecorded", result(second, "HCV", "non_reactive"))
    await refused(net, "processing@BB1", "QuarantineLifted",
                  {"unit_id": unit, "reason": "retested"}, 409, "hold-unresolved")
    rr = await net.ok("lab@LAB1", "TestResultRecorded", result(second, "HCV", "reactive",
                                                                "repeat"))
    [pending] = [e for e in (await net.get("auditor", "/v1/events", after=rr["position"]))
                 .json()["events"] if e["type"] == "DonorDeferred"]
    assert pending["data"]["pending_confirmation"] is True
    confirmed = await net.ok("lab@LAB1", "TestResultRecorded",
                             result(second, "HCV", "positive", "confirmatory"))
    feed = (await net.get("auditor", "/v1/events", after=confirmed["position"])).json()["events"]
    derived = [e for e in feed if e["position"] in confirmed["derived_positions"]]
    assert [e["type"] for e in derived][:2] == ["DonorDeferred", "LookbackStarted"]
    assert derived[0]["data"]["pending_confirmation"] is False  # permanent
    assert "until" not in derived[0]["data"]
    lookback = derived[1]["data"]
    lb = lookback["lookback_id"]
    # Its window reaches back 12 months before the last clear HCV screen: both donations.
    assert lookback["dins"] == [first, second] and "deadline" in lookback
    assert {u["unit_id"]: u.get("patient_id") for u in lookback["units"]}[red] == "PAT-LB-1"
    plasma_state = (await net.get("processing@BB1", f"/v1/units/{plasma}")).json()
    assert [h["cause"] for h in plasma_state["holds"]] == ["lookback"]
    await refused(net, "hospital@H1", "QuarantineLifted", {"unit_id": plasma, "reason": "x"},
                  403, "not-custodian")
    await refused(net, "inventory@BB1", "QuarantineLifted", {"unit_id": plasma, "reason": "x"},
                  403, "hold-lift-not-allowed")
    await refused(net, "processing@BB1", "UnitReleased", {"unit_id": unit}, 409,
                  "unit-quarantined")
    await net.screen("DNR-LB-1")
    await refused(net, "collector@BB1", "DonationCollected", {
        "din": din(8003), "donor_id": "DNR-LB-1", "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450}, 409, "donor-deferred")
    await refused(net, "processing@BB1", "LookbackClosed",
                  {"lookback_id": lb, "outcome": "recipients_notified"}, 409,
                  "lookback-items-open")
    await net.ok("hospital@H1", "LookbackAcknowledged",
                 {"lookback_id": lb, "site_id": "H1", "unit_id": red})
    await net.ok("hospital@H1", "LookbackRecipientNotified",
                 {"lookback_id": lb, "unit_id": red, "patient_id": "PAT-LB-1"})
    await net.ok("processing@BB1", "LookbackClosed",
                 {"lookback_id": lb, "outcome": "recipients_notified"})
    await refused(net, "processing@BB1", "LookbackClosed",
                  {"lookback_id": lb, "outcome": "recipients_notified"}, 409, "lookback-closed")


async def test_a_lookback_reaches_the_recipient_who_is_notified_then_it_closes(client,
                                                                               make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(8101)
    await net.transfuse(red, "PAT-LB-9")
    started = await net.client.post("/v1/lookbacks", headers=net.keys["processing@BB1"],
                                    json={"din": din(8101), "marker": "HIV"})
    assert started.status_code == 201, started.text
    lookback = started.json()
    assert lookback["recipients_to_notify"] == [red] and lookback["deadline"] is not None
    lb = lookback["lookback_id"]
    await refused(net, "processing@BB1", "LookbackClosed",
                  {"lookback_id": lb, "outcome": "recipients_notified"}, 409,
                  "lookback-items-open")
    await refused(net, "hospital@H2", "LookbackRecipientNotified",
                  {"lookback_id": lb, "unit_id": red, "patient_id": "PAT-LB-9"}, 403,
                  "not-custodian")
    await refused(net, "hospital@H1", "LookbackRecipientNotified",
                  {"lookback_id": lb, "unit_id": red, "patient_id": "PAT-LB-8"}, 409,
                  "lookback-recipient-mismatch")
    await net.ok("hospital@H1", "LookbackRecipientNotified",
                 {"lookback_id": lb, "unit_id": red, "patient_id": "PAT-LB-9"})
    await refused(net, "hospital@H1", "LookbackRecipientNotified",
                  {"lookback_id": lb, "unit_id": red, "patient_id": "PAT-LB-9"}, 409,
                  "lookback-already-notified")
    await net.ok("processing@BB1", "LookbackClosed",
                 {"lookback_id": lb, "outcome": "recipients_notified"})
    after = (await net.get("processing@BB1", f"/v1/lookbacks/{lb}")).json()
    assert (after["outcome"], after["recipients_to_notify"]) == ("recipients_notified", [])


async def test_late_entries_need_a_reason_and_are_listed(client, make_key):
    net = await Net(client, make_key).setup()
    old = (datetime.now(UTC) - timedelta(days=5)).isoformat()
    response = await net.post("collector@BB1", "DonorRegistered", {"donor_id": "DNR-OLD-1"},
                              occurred_at=old)
    assert (response.status_code, response.json()["rule"]) == (
        422, "late-entry-reason-required")
    ok = await net.post("collector@BB1", "DonorRegistered", {"donor_id": "DNR-OLD-1"},
                        occurred_at=old, late_entry_reason="paper record from the mobile unit")
    assert ok.status_code == 201, ok.text
    listed = (await net.get("auditor", "/v1/audit/late-entries")).json()["items"]
    assert [(e["type"], e["reason"]) for e in listed] == [
        ("DonorRegistered", "paper record from the mobile unit")]
    assert listed[0]["hours_late"] >= 5 * 24 - 1
    feed = (await net.get("auditor", "/v1/events", after=ok.json()["position"] - 1)).json()
    assert feed["events"][0]["late_entry_reason"] == "paper record from the mobile unit"
    forbidden = await net.get("hospital@H1", "/v1/audit/late-entries")
    assert forbidden.status_code == 403


async def test_overdue_lookbacks_are_listed_with_their_open_items(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(8201)
    await net.transfuse(red, "PAT-OD-1")
    fresh = await net.client.post("/v1/lookbacks", headers=net.keys["processing@BB1"],
                                  json={"din": din(8201), "marker": "HIV"})
    assert fresh.status_code == 201
    assert (await net.get("auditor", "/v1/audit/lookbacks-overdue")).json()["items"] == []
    # One started four days ago (entered late, with its reason) is past its 3-day deadline.
    four_days = (datetime.now(UTC) - timedelta(days=4)).isoformat()
    late = await net.client.post("/v1/lookbacks", headers=net.keys["processing@BB1"], json={
        "din": din(8201), "marker": "HCV", "occurred_at": four_days,
        "late_entry_reason": "paper notification from the donor's clinic"})
    assert late.status_code == 201, late.text
    [overdue] = (await net.get("auditor", "/v1/audit/lookbacks-overdue")).json()["items"]
    assert overdue["lookback_id"] == late.json()["lookback_id"]
    assert overdue["days_overdue"] >= 0.9
    waiting = {i["unit_id"]: i["waiting_for"] for i in overdue["open_items"]}
    assert waiting[red] == ["acknowledgement", "recipient_notification"]
