"""The donor registry over HTTP (issue 19): registration through the vault, one pseudonym
per person across sites, reads recorded as events, search through blind indexes, the recall
and notification lists and the donor's own report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import asyncpg

from app.events.messages import Actor
from app.vault.service import Identity
from tests.e2e.api_world import PROBLEM, Net, din
from tests.e2e.donor_people import PEOPLE, person


async def viewed(net: Net, donor_id: str) -> list[dict]:
    feed = (await net.get("admin", "/v1/events", after=0, limit=1000)).json()["events"]
    return [e for e in feed if e["type"] == "DonorIdentityViewed"
            and e["data"]["donor_id"] == donor_id]


async def test_register_read_search_and_one_pseudonym_across_sites(client, make_key):
    net = await Net(client, make_key).setup()
    first = await client.post("/v1/donors", json=person(0), headers=net.keys["collector@BB1"])
    assert first.status_code == 201, first.text
    donor_id = first.json()["donor_id"]
    assert first.json() == {"donor_id": donor_id, "existing": False}
    assert len(donor_id) == 64

    # The same person at another bank, the national id written differently: same donor.
    again = await client.post("/v1/donors", json=person(0, national_id=" fict 0001 aa"),
                              headers=net.keys["collector@BB2"])
    assert again.status_code == 200, again.text
    assert again.json() == {"donor_id": donor_id, "existing": True}
    assert (await client.post("/v1/donors", json=person(0), headers=net.keys[
        "collector@BB1"])).json() == {"donor_id": donor_id, "existing": True}

    feed = (await net.get("admin", "/v1/events", after=0, limit=1000)).json()["events"]
    registered = [e for e in feed if e["type"] == "DonorRegistered"]
    assert len(registered) == 1
    data = registered[0]["data"]
    assert data["donor_id"] == donor_id and data["sex"] == "F" and data["birth_year"] == 1990
    assert data["identity_commitment"].startswith("sha256:")
    assert set(data) <= {"donor_id", "sex", "birth_year", "identity_commitment"}

    read = await net.get("processing@BB1", f"/v1/donors/{donor_id}/identity",
                         purpose="confirm before donation")
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["name"] == "Testa Fictiva" and body["birth_date"] == "1990-05-01"
    assert body["national_id"] == "FICT0001AA"
    seen = await viewed(net, donor_id)
    assert [(e["data"]["purpose"], e["data"]["site_id"], e["actor"]["role"]) for e in seen] \
        == [("confirm before donation", "BB1", "processing")]

    by_id = await net.get("collector@BB2", "/v1/donors/search", national_id="FICT0001-AA")
    assert by_id.json() == {"donors": [donor_id]}
    by_name = await net.get("collector@BB1", "/v1/donors/search",
                            name="  testa   FICTIVA ", birth_date="1990-05-01")
    assert by_name.json() == {"donors": [donor_id]}
    assert (await net.get("collector@BB1", "/v1/donors/search", name="Testa Fictiva",
                          birth_date="1990-05-02")).json() == {"donors": []}
    assert (await net.get("collector@BB1", "/v1/donors/search",
                          national_id="FICT-9999")).json() == {"donors": []}
    arabic = await client.post("/v1/donors", json=person(1), headers=net.keys["collector@BB2"])
    assert arabic.status_code == 201
    assert (await net.get("admin", "/v1/donors/search", name="وهمي  الاختبار الأول",
                          birth_date="1984-11-23")).json() == {"donors": [arabic.json()[
                              "donor_id"]]}
    both = await net.get("admin", "/v1/donors/search", national_id="X", name="y")
    assert both.status_code == 422


async def test_registration_refuses_bad_input(client, make_key):
    net = await Net(client, make_key).setup()
    for bad in (person(0, national_id="--"), person(0, national_id="ID\u00e9123"),
                person(0, birth_date="2999-01-01"), person(0, sex="Q"),
                person(0, phone="=cmd|' /C calc'!A0"), person(0, extra="x"),
                person(0, name="   ")):
        answer = await client.post("/v1/donors", json=bad, headers=net.keys["collector@BB1"])
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM)
    hospital = await client.post("/v1/donors", json=person(0), headers=net.keys["hospital@H1"])
    assert hospital.status_code == 403
    auditor = await client.post("/v1/donors", json=person(0), headers=net.keys["auditor"])
    assert auditor.status_code == 403


async def test_due_list_json_and_csv_and_the_report(services, client, make_key):
    net = await Net(client, make_key).setup()
    at = datetime.now(UTC) - timedelta(days=100)
    # Registered 100 days ago (the service's own registration, dated as a late entry).
    actor = Actor("test", "collector", "BB1")
    assert services.vault is not None
    donor_id = (await services.vault.register(
        actor, Identity(**person(0)), occurred_at=at - timedelta(hours=2),
        late_entry_reason="paper record")).donor_id
    # A screening and a donation 100 days ago (late entries): the 84-day interval for women
    # after whole blood has passed.
    screened = await net.post("collector@BB1", "DonorScreened", {
        "donor_id": donor_id, "site_id": "BB1", "hb_g_l": 140, "pass": True},
        occurred_at=(at - timedelta(hours=1)).isoformat(), late_entry_reason="paper record")
    assert screened.status_code == 201, screened.text
    collected = await net.post("collector@BB1", "DonationCollected", {
        "din": din(1), "donor_id": donor_id, "site_id": "BB1", "collection_type": "whole_blood",
        "product_code": "E0001V00", "category": "whole_blood", "volume_ml": 450},
        occurred_at=at.isoformat(), late_entry_reason="paper record")
    assert collected.status_code == 201, collected.text
    other = (await client.post("/v1/donors", json=person(2),
                               headers=net.keys["collector@BB1"])).json()["donor_id"]

    due = await net.get("collector@BB1", "/v1/donors/due")
    assert due.status_code == 200, due.text
    listed = {d["donor_id"]: d for d in due.json()["donors"]}
    assert set(listed) == {donor_id}
    assert listed[donor_id]["phone"] == "+000 111 0001"
    assert listed[donor_id]["last_site_id"] == "BB1"
    assert other not in listed  # never gave: nothing to recall yet
    text = (await net.get("collector@BB1", "/v1/donors/due", format="csv"))
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert [r["donor_id"] for r in rows] == list(listed)
    assert all(e["data"]["purpose"] == "recall" for e in await viewed(net, donor_id))

    # Deferred: off the list.
    await net.ok("collector@BB1", "DonorDeferred", {"donor_id": donor_id, "reason": "travel",
                                                    "cause": "travel", "until": "2099-01-01"})
    assert (await net.get("collector@BB1", "/v1/donors/due")).json()["donors"] == []
    assert (await net.get("collector@BB2", "/v1/donors/due", site="BB1")).status_code == 403

    report = await net.get("processing@BB1", f"/v1/donors/{donor_id}/report")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["identity"]["name"] == "Testa Fictiva"
    assert body["commitment"]["matches"] is True
    assert body["commitment"]["identity_commitment"].startswith("sha256:")
    assert [x["cause"] for x in body["deferrals"]] == ["travel"]
    assert [d["din"] for d in body["donations"]] == [din(1)]
    assert (await viewed(net, donor_id))[-1]["data"]["purpose"].startswith("subject access")


async def test_notifications_after_a_confirmed_positive_and_a_lookback(client, make_key):
    net = await Net(client, make_key).setup()
    positive = (await client.post("/v1/donors", json=person(1),
                                  headers=net.keys["collector@BB1"])).json()["donor_id"]
    looked = (await client.post("/v1/donors", json=person(2),
                                headers=net.keys["collector@BB1"])).json()["donor_id"]
    quiet = (await client.post("/v1/donors", json=person(0),
                               headers=net.keys["collector@BB1"])).json()["donor_id"]
    await net.ok("admin", "DonorDeferred", {
        "donor_id": positive, "reason": "HIV confirmed positive", "cause": "infectious_marker",
        "marker": "HIV"})
    await net.ok("collector@BB1", "DonorDeferred", {
        "donor_id": quiet, "reason": "travel", "cause": "travel", "until": "2099-01-01"})
    await net.screen(looked)
    await net.ok("collector@BB1", "DonationCollected", {
        "din": din(7), "donor_id": looked, "site_id": "BB1", "collection_type": "whole_blood",
        "product_code": "E0001V00", "category": "whole_blood", "volume_ml": 450})
    started = await client.post("/v1/lookbacks", json={
        "donor_id": looked, "marker": "HCV", "since": "2020-01-01T00:00:00Z"},
        headers=net.keys["processing@BB1"])
    assert started.status_code == 201, started.text

    answer = await net.get("processing@BB1", "/v1/donors/notifications")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["type"] == "bloodtrace.donor-notifications" and body["site_id"] == "BB1"
    by_event = {(n["event"], n["donor_id"]): n for n in body["notifications"]}
    assert set(by_event) == {("donor.confirmed_positive", positive),
                             ("donor.lookback", looked)}
    told = by_event[("donor.confirmed_positive", positive)]
    assert told["marker"] == "HIV"
    assert told["contact"] == {"name": PEOPLE[1]["name"], "phone": PEOPLE[1]["phone"],
                               "language": "ar"}
    assert by_event[("donor.lookback", looked)]["lookback_id"] == started.json()["lookback_id"]
    assert [e["data"]["purpose"] for e in await viewed(net, positive)] == ["donor notification"]
    assert await viewed(net, quiet) == []  # not on the list: never read


async def test_a_shred_recorded_in_the_log_erases_the_identity(client, make_key, services):
    """The log is the authority: an admin's DonorIdentityShredded sent as an event erases
    the identity as the command would (the key is destroyed at the next touch)."""
    net = await Net(client, make_key).setup()
    donor_id = (await client.post("/v1/donors", json=person(0),
                                  headers=net.keys["collector@BB1"])).json()["donor_id"]
    await net.ok("admin", "DonorIdentityShredded", {"donor_id": donor_id,
                                                    "reason": "erasure by event"})
    gone = await net.get("admin", f"/v1/donors/{donor_id}/identity", purpose="check")
    assert gone.status_code == 410, gone.text
    async with services.pool.acquire() as con:
        row = await con.fetchrow("SELECT wrapped_key, ciphertext, shredded_at FROM donor_vault "
                                 "WHERE donor_id = $1", donor_id)
    assert row["wrapped_key"] is None and row["ciphertext"] is None and row["shredded_at"]
    again = await client.post("/v1/donors", json=person(0), headers=net.keys["collector@BB2"])
    assert again.status_code == 410
    assert (await net.get("admin", "/v1/donors/search",
                          national_id=person(0)["national_id"])).json() == {"donors": []}


async def test_a_vault_row_changed_behind_the_service_does_not_open(client, make_key, fresh_db):
    """Rows moved or altered by someone with database access (a superuser) fail their
    integrity check: the service says so instead of answering someone else's identity."""
    net = await Net(client, make_key).setup()
    one = (await client.post("/v1/donors", json=person(0),
                             headers=net.keys["collector@BB1"])).json()["donor_id"]
    two = (await client.post("/v1/donors", json=person(1),
                             headers=net.keys["collector@BB1"])).json()["donor_id"]
    con = await asyncpg.connect(fresh_db)
    try:
        await con.execute(
            """UPDATE donor_vault a SET wrapped_key = b.wrapped_key, ciphertext = b.ciphertext
                 FROM donor_vault b WHERE a.donor_id = $1 AND b.donor_id = $2""", one, two)
    finally:
        await con.close()
    moved = await net.get("admin", f"/v1/donors/{one}/identity", purpose="check")
    assert moved.status_code == 503 and moved.json()["rule"] == "vault-tampered", moved.text
    assert (await net.get("admin", f"/v1/donors/{two}/identity",
                          purpose="check")).json()["name"] == PEOPLE[1]["name"]
