"""Authorization: role x site x endpoint. No key is 401, a key that may not is 403, both
problem+json; the log is unchanged by every refusal."""

from __future__ import annotations

import pytest

from tests.e2e.api_world import PROBLEM, Net, din

V1_GETS = [
    "/v1/events", "/v1/units/A999925000001-E0398V00", "/v1/units/A999925000001-E0398V00/history",
    "/v1/units/A999925000001-E0398V00/provenance", "/v1/donations/A999925000001", "/v1/stock",
    "/v1/stock/near-expiry", "/v1/stock/cover", "/v1/lookbacks/LB-1",
    "/v1/audit/events", "/v1/audit/verify", "/v1/audit/custody-gaps", "/v1/audit/unfated",
    "/v1/audit/discards", "/v1/patients/PAT-0001/units",
    "/v1/fhir/BiologicallyDerivedProduct/A999925000001-E0398V00",
    "/v1/fhir/BiologicallyDerivedProduct?biological-source-event=A999925000001",
    "/v1/fhir/Provenance?target=BiologicallyDerivedProduct/A999925000001-E0398V00",
    "/v1/events/stream",
]
V1_POSTS = ["/v1/events", "/v1/events/batch", "/v1/lookbacks", "/v1/admin/keys"]


def _problem(response, status: int, rule: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://")
    if rule is not None:
        assert body["rule"] == rule, body


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer bt_nope_nope", "Basic abc",
                                    "Bearer not-a-key"])
async def test_every_v1_endpoint_needs_a_valid_key(client, header):
    headers = {"Authorization": header} if header else {}
    for path in V1_GETS:
        response = await client.get(path, headers=headers)
        _problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    for path in V1_POSTS:
        _problem(await client.post(path, json={}, headers=headers), 401, "unauthenticated")
    _problem(await client.delete("/v1/admin/keys/x", headers=headers), 401)


async def test_who_may_record_what_and_for_which_site(client, make_key):
    net = await Net(client, make_key).setup()
    whole = await net.collect(1)
    red = await net.red_cells_at(2, hospital="H2")
    feed_before = (await net.get("admin", "/v1/events", limit=1000)).json()["events"]

    collection = {"din": din(9), "donor_id": "DNR-00001", "site_id": "BB1",
                  "collection_type": "whole_blood", "product_code": "E0001V00",
                  "category": "whole_blood", "volume_ml": 450}
    refusals = [
        # A lab key may not collect.
        ("lab@LAB1", "DonationCollected", collection, "role-not-allowed"),
        # A collector acts only for its own site.
        ("collector@BB2", "DonationCollected", collection, "site-scope"),
        # A hospital may not record for another hospital...
        ("hospital@H1", "UnitReceived", {"unit_id": red, "site_id": "H2",
                                         "shipment_id": "SHP-X", "accepted": True},
         "site-scope"),
        # ...nor act on a unit another hospital holds.
        ("hospital@H1", "UnitIssued", {"unit_id": red, "patient_id": "PAT-0001"},
         "not-custodian"),
        # Only admins register sites; hospitals do not split units; labs do not discard.
        ("processing@BB1", "SiteRegistered", {"site_id": "X1", "name": "X", "kind": "lab",
                                              "region": "R"}, "role-not-allowed"),
        ("hospital@H2", "UnitSplit", {"unit_id": red, "components": []}, "role-not-allowed"),
        ("lab@LAB1", "UnitDiscarded", {"unit_id": whole, "reason": "damaged", "note": "bag torn"},
         "role-not-allowed"),
        # A lab records results only as itself.
        ("lab@LAB1", "TestResultRecorded", {"din": din(1), "marker": "HIV",
                                            "result": "non_reactive", "lab_site_id": "LAB2"},
         "site-scope"),
    ]
    for key, type_, data, rule in refusals:
        _problem(await net.post(key, type_, data), 403, rule)

    # Auditors read everything and write nothing, whatever the endpoint.
    auditor = net.keys["auditor"]
    _problem(await net.post("auditor", "DonorRegistered", {"donor_id": "DNR-AUD"}), 403,
             "role-not-allowed")
    batch = {"events": [{"type": "DonorRegistered", "data": {"donor_id": "DNR-AUD"}}]}
    _problem(await client.post("/v1/events/batch", json=batch, headers=auditor), 403,
             "role-not-allowed")
    _problem(await client.post("/v1/lookbacks", json={"din": din(1), "marker": "HIV"},
                               headers=auditor), 403, "role-not-allowed")
    _problem(await client.post("/v1/admin/keys", json={"role": "auditor"}, headers=auditor),
             403, "forbidden")

    # In a batch each item is refused on its own; the others are recorded.
    mixed = {"events": [
        {"type": "DonationCollected", "data": collection},
        {"type": "DonorRegistered", "data": {"donor_id": "DNR-LAB"}},
    ]}
    reply = (await client.post("/v1/events/batch", json=mixed,
                               headers=net.keys["lab@LAB1"])).json()
    assert [r["status"] for r in reply["results"]] == [403, 403]
    assert reply["results"][0]["problem"]["rule"] == "role-not-allowed"
    feed_after = (await net.get("admin", "/v1/events", limit=1000)).json()["events"]
    assert feed_after == feed_before

    # An admin acts for any site: it screens the donor there, then collects.
    await net.ok("admin", "DonorRegistered", {"donor_id": "DNR-ADM"})
    await net.ok("admin", "DonorScreened", {"donor_id": "DNR-ADM", "site_id": "BB1",
                                            "hb_g_l": 150, "pass": True})
    assert (await net.post("admin", "DonationCollected", collection | {
        "donor_id": "DNR-ADM"})).status_code == 201


READS = {
    # path template → keys allowed (all others get 403). {red} is held by H1.
    "/v1/units/{red}": {"admin", "auditor", "hospital@H1", "processing@BB1", "collector@BB1",
                        "inventory@BB1", "lab@LAB1"},
    "/v1/units/{red}/history": {"admin", "auditor", "hospital@H1", "processing@BB1",
                                "collector@BB1", "inventory@BB1", "lab@LAB1"},
    "/v1/units/{red}/provenance": {"admin", "auditor", "hospital@H1", "processing@BB1",
                                   "collector@BB1", "inventory@BB1", "lab@LAB1"},
    "/v1/fhir/BiologicallyDerivedProduct/{red}": {
        "admin", "auditor", "hospital@H1", "processing@BB1", "collector@BB1", "inventory@BB1",
        "lab@LAB1"},
    "/v1/donations/{din}": {"admin", "auditor", "hospital@H1", "processing@BB1",
                            "collector@BB1", "inventory@BB1", "lab@LAB1"},
    "/v1/audit/events": {"admin", "auditor"},
    "/v1/audit/custody-gaps": {"admin", "auditor"},
    "/v1/audit/unfated": {"admin", "auditor"},
    "/v1/audit/discards": {"admin", "auditor"},
    "/v1/patients/PAT-0001/units": {"admin", "auditor", "hospital@H1", "hospital@H2"},
}


async def test_read_matrix(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1, hospital="H1")
    await net.transfuse(red, "PAT-0001")
    for template, allowed in READS.items():
        path = template.format(red=red, din=din(1))
        for key in net.keys:
            response = await net.get(key, path)
            if key in allowed:
                assert response.status_code == 200, (key, path, response.text)
            else:
                _problem(response, 403)
    # Only national keys re-hash the whole log (a site key could otherwise make the service
    # read 30 years of records on demand); stock is per site.
    for key in net.keys:
        verify = await net.get(key, "/v1/audit/verify")
        if key in ("admin", "auditor"):
            assert verify.status_code == 200 and verify.json()["ok"]
        else:
            _problem(verify, 403)
        assert (await net.get(key, "/v1/stock")).status_code == 200
    _problem(await net.get("hospital@H2", "/v1/stock", site="H1"), 403, "site-scope")


async def test_site_feed_shows_only_events_of_the_site(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1, hospital="H1")
    everything = (await net.get("auditor", "/v1/events", limit=1000)).json()["events"]
    assert [e["position"] for e in everything] == list(range(1, len(everything) + 1))
    h1 = (await net.get("hospital@H1", "/v1/events", limit=1000)).json()["events"]
    assert [e["type"] for e in h1] == ["SiteRegistered", "UnitShipped", "UnitReceived"]
    assert all(e["data"].get("unit_id") in (None, red) for e in h1)
    assert (await net.get("hospital@H2", "/v1/events", after=h1[-1]["position"])
            ).json()["events"] == []


async def test_admin_creates_and_revokes_keys(client, make_key):
    admin = await make_key("admin")
    created = await client.post("/v1/admin/keys", json={"role": "hospital", "site_id": "H9",
                                                        "label": "ward 3"}, headers=admin)
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith(f"bt_{key['key_id']}_") and key["site_id"] == "H9"
    bearer = {"Authorization": f"Bearer {key['key']}"}
    assert (await client.get("/v1/events", headers=bearer)).status_code == 200
    revoked = await client.delete(f"/v1/admin/keys/{key['key_id']}", headers=admin)
    assert revoked.status_code == 204
    _problem(await client.get("/v1/events", headers=bearer), 401)
    _problem(await client.delete(f"/v1/admin/keys/{key['key_id']}", headers=admin), 404)
    _problem(await client.post("/v1/admin/keys", json={"role": "hospital"}, headers=admin),
             422)
    _problem(await client.post("/v1/admin/keys", json={"role": "auditor", "site_id": "H1"},
                               headers=admin), 422)
    _problem(await client.post("/v1/admin/keys", json={"role": "king"}, headers=admin), 422)
    as_cli = await client.post("/v1/admin/keys", json={"role": "lab", "site": "L1"},
                               headers=admin)
    assert (as_cli.status_code, as_cli.json()["site_id"]) == (201, "L1")
    _problem(await client.post("/v1/admin/keys", json={"role": "lab", "site_id": "L1"},
                               headers=bearer), 401)
