"""Issue 20, who reads what over HTTP (items 1, 2, 5, 6 and 14)."""

from __future__ import annotations

from tests.e2e.api_world import Net, din

UNIT_READS = ("/v1/units/{u}", "/v1/units/{u}/history", "/v1/units/{u}/provenance",
              "/v1/fhir/BiologicallyDerivedProduct/{u}")


async def _lab2(net: Net, serves: str | None = None) -> None:
    await net.ok("admin", "SiteRegistered", {"site_id": "LAB2", "name": "Lab 2", "kind": "lab",
                                             "region": "Aleppo"})
    if serves:
        await net.ok("admin", "LabServiceAgreed", {"collection_site_id": serves,
                                                   "lab_site_id": "LAB2"})
    net.keys["lab@LAB2"] = await net.make_key("lab", "LAB2")


async def test_item1_a_lab_reads_only_the_donations_it_serves(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1)
    await net.transfuse(red, "PAT-0001")
    await _lab2(net)
    marked = await net.post("lab@LAB2", "TestResultRecorded", {
        "din": din(1), "marker": "HIV", "result": "reactive", "lab_site_id": "LAB2"})
    assert (marked.status_code, marked.json()["rule"]) == (403, "lab-not-serving")
    # A donation that does not exist is refused the same way.
    missing = await net.post("lab@LAB2", "TestResultRecorded", {
        "din": din(77), "marker": "HIV", "result": "reactive", "lab_site_id": "LAB2"})
    assert (missing.status_code, missing.json()["rule"]) == (403, "lab-not-serving")
    for path in UNIT_READS:
        assert (await net.get("lab@LAB2", path.format(u=red))).status_code == 403
    assert (await net.get("lab@LAB2", f"/v1/donations/{din(1)}")).status_code == 403
    # Samples dispatched to it make it the donation's lab: it reads the units, no patient.
    await net.ok("collector@BB1", "SamplesDispatched", {"dins": [din(1)], "lab_site_id": "LAB2"})
    for path in UNIT_READS:
        response = await net.get("lab@LAB2", path.format(u=red))
        assert response.status_code == 200, (path, response.text)
        assert "PAT-0001" not in response.text
    # The lab serving by agreement reads them too; a lab of another collection site does not.
    assert (await net.get("lab@LAB1", f"/v1/units/{red}")).status_code == 200


async def test_item2_each_site_sees_its_own_part_of_a_lookback(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1, hospital="H1")
    await net.transfuse(red, "PAT-0001")
    plasma = f"{din(1)}-E2555V00"
    await net.ok("inventory@BB1", "UnitShipped", {"unit_id": plasma, "from_site_id": "BB1",
                                                  "to_site_id": "BB2", "shipment_id": "S-Q"})
    await net.ok("inventory@BB2", "UnitReceived", {"unit_id": plasma, "site_id": "BB2",
                                                   "shipment_id": "S-Q", "accepted": True})
    net.keys["processing@BB2"] = await make_key("processing", "BB2")
    refused = await client.post("/v1/lookbacks", json={"din": din(1), "marker": "HIV"},
                                headers=net.keys["processing@BB2"])
    assert (refused.status_code, refused.json()["rule"]) == (403, "lookback-out-of-scope")
    started = await client.post("/v1/lookbacks", json={"din": din(1), "marker": "HIV"},
                                headers=net.keys["processing@BB1"])
    assert started.status_code == 201, started.text
    lookback = started.json()["lookback_id"]
    assert {u["unit_id"] for u in started.json()["units"]} >= {red, plasma}
    assert "PAT-0001" not in started.text
    parts = {key: (await net.get(key, f"/v1/lookbacks/{lookback}")) for key in net.keys}
    assert [u["unit_id"] for u in parts["hospital@H1"].json()["units"]] == [red]
    assert parts["hospital@H1"].json()["units"][0]["patient_id"] == "PAT-0001"
    assert [u["unit_id"] for u in parts["inventory@BB2"].json()["units"]] == [plasma]
    assert "PAT-0001" not in parts["inventory@BB2"].text
    assert parts["hospital@H2"].status_code == 403
    assert "PAT-0001" in parts["auditor"].text
    # The lookback names every unit and holder, but it gives no site a way into the others.
    for path in UNIT_READS:
        assert (await net.get("inventory@BB2", path.format(u=red))).status_code == 403
    feed = (await net.get("inventory@BB2", "/v1/events", limit=1000)).json()["events"]
    [entry] = [e for e in feed if e["type"] == "LookbackStarted"]
    assert [u["unit_id"] for u in entry["data"]["units"]] == [plasma]
    assert "data.units" in entry["redacted"]


async def test_item5_a_sites_feed_carries_the_quarantine_of_its_unit_caused_elsewhere(
        client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1, hospital="H1")
    other = await net.red_cells_at(2, hospital="H1")
    started = await client.post("/v1/lookbacks", json={"din": din(1), "marker": "HIV"},
                                headers=net.keys["processing@BB1"])
    assert started.status_code == 201, started.text
    await net.ok("lab@LAB1", "TestResultRecorded", {
        "din": din(2), "marker": "HCV", "result": "reactive", "lab_site_id": "LAB1"})
    feed = (await net.get("hospital@H1", "/v1/events", limit=1000)).json()["events"]
    held = {(e["data"]["unit_id"], e["data"]["cause"]) for e in feed
            if e["type"] == "UnitQuarantined"}
    assert {(red, "lookback"), (other, "test")} <= held


async def test_item6_patient_ids_reach_only_the_treating_hospital(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1, hospital="H1")
    await net.transfuse(red, "PAT-0001")
    net.keys["inventory@H1"] = await make_key("inventory", "H1")
    paths = [p.format(u=red) for p in UNIT_READS] + [
        f"/v1/donations/{din(1)}", f"/v1/fhir/Provenance?target=BiologicallyDerivedProduct/{red}",
        "/v1/events?limit=1000"]
    for key in net.keys:
        for path in paths:
            response = await net.client.get(path, headers=net.keys[key])
            if response.status_code != 200:
                continue
            allowed = key in ("admin", "auditor", "hospital@H1")
            assert ("PAT-0001" in response.text) <= allowed, (key, path)
            if "/history" in path or path.startswith("/v1/events"):
                assert ("PAT-0001" in response.text) == allowed, (key, path)
    history = (await net.get("processing@BB1", f"/v1/units/{red}/history")).json()["events"]
    issued = next(e for e in history if e["type"] == "UnitIssued")
    assert issued["data"]["patient_id"] is None and issued["redacted"] == ["data.patient_id"]


async def test_item14_refusals_name_no_other_site_and_do_not_tell_existence(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1, hospital="H1")
    ghost = f"{din(99)}-E0398V00"
    answers = []
    for unit in (red, ghost):
        response = await net.post("hospital@H2", "UnitIssued", {"unit_id": unit,
                                                                "patient_id": "PAT-0009"})
        body = response.json()
        assert "H1" not in response.text and "custodian_site_id" not in body
        answers.append((response.status_code, body["rule"]))
        for path in UNIT_READS:
            assert (await net.get("hospital@H2", path.format(u=unit))).status_code == 403
    assert answers == [(403, "not-custodian")] * 2
    # A reader of the unit (the site that shipped it) learns where it is.
    shipped = await net.post("inventory@BB1", "UnitShipped", {
        "unit_id": red, "from_site_id": "BB1", "to_site_id": "H2", "shipment_id": "S-X"})
    assert shipped.json()["custodian_site_id"] == "H1"
    assert (await net.get("admin", f"/v1/units/{ghost}")).status_code == 404
