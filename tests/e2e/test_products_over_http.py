"""RULES §4-6 over HTTP (issue 13): donors, processing, products and the cold chain. Each
rule refuses with a problem+json naming it and leaves the log unchanged (``refused``); the
accepted paths show what the read side says of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.api_world import PLASMA, RED_CELLS, Net, din
from tests.e2e.test_full_life import refused
from tests.e2e.test_testing_workflow import Past

WHOLE = "E0001V00"


def collection(n: int, donor: str, site: str = "BB1") -> dict[str, Any]:
    return {"din": din(n), "donor_id": donor, "site_id": site,
            "collection_type": "whole_blood", "product_code": WHOLE,
            "category": "whole_blood", "volume_ml": 450}


def screening(donor: str, hb_g_l: int = 140, passed: bool = True) -> dict[str, Any]:
    return {"donor_id": donor, "site_id": "BB1", "hb_g_l": hb_g_l, "pass": passed}


async def test_donor_rules_screening_interval_and_annual_cap(client, make_key):
    net = await Net(client, make_key).setup()
    await net.ok("collector@BB1", "DonorRegistered", {"donor_id": "DNR-F-1", "sex": "F",
                                                      "birth_year": 1990})
    # donor-screening-required: no screening at this site in the 24 h before.
    await refused(net, "collector@BB1", "DonationCollected", collection(9101, "DNR-F-1"),
                  409, "donor-screening-required")
    # donor-screening-failed: Hb 118 g/L is under the women's 125 g/L.
    await net.ok("collector@BB1", "DonorScreened", screening("DNR-F-1", 118, False))
    await refused(net, "collector@BB1", "DonationCollected", collection(9101, "DNR-F-1"),
                  409, "donor-screening-failed")

    # donation-interval and annual-limit over a past year, entered late with a reason.
    past = Past(net, days=360)
    await past.ok("collector@BB1", "DonorRegistered", {"donor_id": "DNR-F-2", "sex": "F"})
    for n in range(3):
        await past.ok("collector@BB1", "DonorScreened", screening("DNR-F-2"))
        await past.ok("collector@BB1", "DonationCollected", collection(9110 + n, "DNR-F-2"))
        past.at += timedelta(days=85 if n < 2 else 40)
    await past.ok("collector@BB1", "DonorScreened", screening("DNR-F-2"))
    early = await net.post("collector@BB1", "DonationCollected", collection(9120, "DNR-F-2"),
                           occurred_at=(past.at + timedelta(minutes=1)).isoformat(),
                           late_entry_reason="paper records entered after the fact")
    assert (early.status_code, early.json()["rule"]) == (409, "donation-interval"), early.text
    # 84 days after the third, still inside the year of the first: the fourth is refused.
    past.at += timedelta(days=45)
    await past.ok("collector@BB1", "DonorScreened", screening("DNR-F-2"))
    capped = await net.post("collector@BB1", "DonationCollected", collection(9121, "DNR-F-2"),
                            occurred_at=(past.at + timedelta(minutes=1)).isoformat(),
                            late_entry_reason="paper records entered after the fact")
    assert (capped.status_code, capped.json()["rule"]) == (409, "annual-limit"), capped.text


async def test_processing_rules_volume_derivation_codes_and_modifications(client, make_key):
    net = await Net(client, make_key).setup()
    whole = await net.collect(9201)
    split = "processing@BB1"

    def components(*parts: tuple[str, str, int]) -> dict[str, Any]:
        return {"unit_id": whole, "components": [
            {"product_code": pc, "category": cat, "volume_ml": ml} for pc, cat, ml in parts]}

    # volume-exceeded: 450 mL plus the set's 173 mL allowance is 623 mL, not 700.
    await refused(net, split, "UnitSplit", components(
        (RED_CELLS, "red_cells", 400), (PLASMA, "plasma", 300)), 409, "volume-exceeded")
    # category-mismatch: the catalogue knows E0398 as red cells.
    await refused(net, split, "UnitSplit", components((RED_CELLS, "plasma", 200)), 422,
                  "category-mismatch")
    # invalid-product-code: the division's characters are A-Z or 0, then a-z or 0.
    await refused(net, split, "UnitSplit", components(("E0398V1A", "red_cells", 200)), 422,
                  "invalid-product-code")
    # The realistic split the review saw refused: 280 + 220 mL from a 450 mL draw.
    await net.ok(split, "UnitSplit", components((RED_CELLS, "red_cells", 280),
                                                (PLASMA, "plasma", 220)))
    red = f"{din(9201)}-{RED_CELLS}"
    # derivation-not-allowed: red cells are never split into plasma.
    await refused(net, split, "UnitSplit", {"unit_id": red, "components": [
        {"product_code": PLASMA, "category": "plasma", "volume_ml": 100}]}, 409,
        "derivation-not-allowed")
    # modification-not-allowed: red cells are not thawed.
    await refused(net, split, "UnitModified", {"unit_id": red, "modification": "thawed",
                                               "product_code": "E0398VA0"}, 409,
                  "modification-not-allowed")
    await net.test_all(din(9201))
    await net.ok(split, "UnitReleased", {"unit_id": red})
    await net.ok(split, "UnitModified", {"unit_id": red, "modification": "irradiated",
                                         "product_code": "E0400V00", "device_id": "IRR-1"})
    irradiated = f"{din(9201)}-E0400V00"
    unit = (await net.get("auditor", f"/v1/units/{irradiated}")).json()
    assert unit["attributes"] == ["irradiated"] and unit["status"] == "released"
    assert [(p["unit_id"], p["kind"]) for p in unit["parents"]] == [(red, "irradiated")]
    expires = datetime.fromisoformat(unit["expires_at"])
    assert expires - datetime.now(UTC) <= timedelta(days=14)
    stock = (await net.get("inventory@BB1", "/v1/stock", product_code="E0400V00")).json()
    assert [u["unit_id"] for u in stock["units"]] == [irradiated]
    assert {c["product_code"] for c in stock["counts"]} == {"E0400V00"}


async def test_cold_chain_transport_ranges_quarantine_transfers_and_discard_reasons(
        client, make_key):
    net = await Net(client, make_key).setup()
    whole = await net.collect(9301)
    red, plasma = await net.split(whole)
    # shipment-not-allowed: an unreleased unit goes only to a blood bank.
    await refused(net, "inventory@BB1", "UnitShipped", {
        "unit_id": red, "from_site_id": "BB1", "to_site_id": "H1", "shipment_id": "SHP-Q1"},
        409, "shipment-not-allowed")
    await net.ok("inventory@BB1", "UnitShipped", {
        "unit_id": red, "from_site_id": "BB1", "to_site_id": "BB2", "shipment_id": "SHP-Q2"})
    # Red cells arriving at 8 °C are inside the 1-10 °C transport range: no hold.
    await net.ok("inventory@BB2", "UnitReceived", {
        "unit_id": red, "site_id": "BB2", "shipment_id": "SHP-Q2", "accepted": True,
        "temp_dc": 80})
    assert (await net.get("auditor", f"/v1/units/{red}")).json()["holds"] == []
    # Plasma arriving at -12 °C is outside the frozen range: held for its receipt.
    await net.ok("inventory@BB1", "UnitShipped", {
        "unit_id": plasma, "from_site_id": "BB1", "to_site_id": "BB2",
        "shipment_id": "SHP-Q3"})
    await net.ok("inventory@BB2", "UnitReceived", {
        "unit_id": plasma, "site_id": "BB2", "shipment_id": "SHP-Q3", "accepted": True,
        "temp_dc": -120})
    holds = (await net.get("auditor", f"/v1/units/{plasma}")).json()["holds"]
    assert [h["cause"] for h in holds] == ["receipt"]
    # discard-reason-mismatch: the red cells are in date, clean and never out of range.
    for reason in ("expired", "reactive_test", "temperature", "recalled"):
        await refused(net, "inventory@BB2", "UnitDiscarded", {"unit_id": red,
                                                              "reason": reason},
                      409, "discard-reason-mismatch")
    await refused(net, "inventory@BB2", "UnitDiscarded", {"unit_id": red, "reason": "damaged"},
                  409, "discard-reason-mismatch")
    await net.ok("inventory@BB2", "UnitDiscarded", {"unit_id": red, "reason": "damaged",
                                                    "note": "bag punctured in the centrifuge"})
    await net.ok("inventory@BB2", "UnitDiscarded", {"unit_id": plasma,
                                                    "reason": "temperature"})
