"""One full life over HTTP — donor, collection, split, tests, release, storage, shipment,
receipt, crossmatch, issue, transfusion — then the refused variants, each a 4xx
problem+json with its stable rule type, and nothing half-written."""

from __future__ import annotations

from stdnum.iso7064 import mod_37_2

from app.events import isbt
from tests.e2e.api_world import Net, din
from tests.support.scene import BEDSIDE

PROBLEM = "application/problem+json"


async def refused(net: Net, key: str, type: str, data: dict, status: int, rule: str) -> None:
    await net.enrol(key)  # a signed step's person has their account before the count
    before = (await net.get("auditor", "/v1/events", after=0, limit=1000)).json()["events"]
    response = await net.post(key, type, data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert (problem["rule"], problem["type"]) == (rule, f"https://bloodtrace.dev/problems/{rule}")
    after = (await net.get("auditor", "/v1/events", after=0, limit=1000)).json()["events"]
    assert len(after) == len(before)


async def test_one_full_life_then_the_refusals(client, make_key):
    net = await Net(client, make_key).setup()
    await net.ok("collector@BB1", "DonorRegistered", {"donor_id": "DNR-LIFE-1",
                                                      "abo": "O", "rhd": "NEG"})
    bare = din(7001)
    await net.screen("DNR-LIFE-1")
    await net.ok("collector@BB1", "DonationCollected", {
        # The barcode form: "=" + DIN + two flags carrying 60 + the Mod 37-2 check value;
        # stored bare.
        "din": isbt.barcode(bare), "donor_id": "DNR-LIFE-1", "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450})
    red, plasma = await net.split(f"{bare}-E0001V00")

    await refused(net, "processing@BB1", "UnitReleased", {"unit_id": red}, 409,
                  "tests-incomplete")
    await net.test_all(bare)
    await net.ok("processing@BB1", "UnitReleased", {"unit_id": red})
    await net.ok("inventory@BB1", "UnitStored", {"unit_id": red, "site_id": "BB1",
                                                 "location": "Fridge 2 / shelf 3"})
    await net.ok("inventory@BB1", "UnitShipped", {"unit_id": red, "from_site_id": "BB1",
                                                  "to_site_id": "H1", "shipment_id": "SHP-L1"})
    await refused(net, "hospital@H1", "UnitIssued", {"unit_id": red, "patient_id": "PAT-L1"},
                  409, "unit-in-transit")
    await net.ok("hospital@H1", "UnitReceived", {"unit_id": red, "site_id": "H1",
                                                 "shipment_id": "SHP-L1", "accepted": True})
    await refused(net, "hospital@H1", "UnitReserved", {
        "unit_id": red, "patient_id": "PAT-L2", "patient_abo": "A", "patient_rhd": "POS",
        "crossmatch": "incompatible"}, 409, "crossmatch-incompatible")
    await net.ok("hospital@H1", "UnitReserved", {
        "unit_id": red, "patient_id": "PAT-L1", "patient_abo": "A", "patient_rhd": "POS",
        "crossmatch": "compatible"})
    await refused(net, "hospital@H2", "UnitIssued", {"unit_id": red, "patient_id": "PAT-L1"},
                  403, "not-custodian")
    await refused(net, "hospital@H1", "UnitIssued", {"unit_id": red, "patient_id": "PAT-L9"},
                  409, "wrong-patient")
    await net.ok("hospital@H1", "UnitIssued", {"unit_id": red, "patient_id": "PAT-L1",
                                               "ward": "ICU"})
    await net.ok("hospital@H1", "TransfusionStarted", {"unit_id": red, "patient_id": "PAT-L1",
        "bedside_check": BEDSIDE})
    await net.ok("hospital@H1", "UnitTransfused", {"unit_id": red, "patient_id": "PAT-L1"})
    await refused(net, "hospital@H1", "UnitDiscarded",
                  {"unit_id": red, "reason": "damaged", "note": "bag torn"}, 409, "final-fate")

    state = (await net.get("auditor", f"/v1/units/{red}")).json()
    assert (state["unit_id"], state["fate"], state["recipient_patient_id"]) == (
        red, "transfused", "PAT-L1")
    sibling = (await net.get("auditor", f"/v1/units/{plasma}")).json()
    assert (sibling["custodian_site_id"], sibling["fate"]) == ("BB1", None)
    history = (await net.get("auditor", f"/v1/units/{red}/history")).json()
    types = [e["type"] for e in history["events"]]
    for step in ("UnitSplit", "UnitReleased", "UnitStored", "UnitShipped", "UnitReceived",
                 "UnitReserved", "UnitIssued", "UnitTransfused"):
        assert step in types

    # Identifier and rule refusals that never reach a unit.
    wrong = "Z" if mod_37_2.calc_check_digit(din(7002)) != "Z" else "Y"
    await refused(net, "collector@BB1", "DonationCollected", {
        "din": din(7002) + wrong, "donor_id": "DNR-LIFE-1", "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450}, 422, "din-check-character")
    flags = int(isbt.barcode(din(7002))[-2:])
    await refused(net, "collector@BB1", "DonationCollected", {
        "din": isbt.barcode(din(7002), 60 + (flags - 60 + 1) % 37), "donor_id": "DNR-LIFE-1",
        "site_id": "BB1", "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450}, 422, "din-check-character")
    await refused(net, "collector@BB1", "DonationCollected", {
        "din": bare, "donor_id": "DNR-LIFE-1", "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450}, 409, "din-already-collected")
    await refused(net, "lab@LAB1", "DonationCollected", {
        "din": din(7003), "donor_id": "DNR-LIFE-1", "site_id": "LAB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450}, 403, "role-not-allowed")
    await refused(net, "collector@BB2", "DonorRegistered", {"donor_id": "DNR-LIFE-2",
                                                            "abo": "Q"}, 422,
                  "unknown-blood-group")
