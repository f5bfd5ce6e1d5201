"""Issue 20, the write side over HTTP: each test is named after the item it holds to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from tests.e2e.api_world import PROBLEM, RED_CELLS, Net, din
from tests.support.scene import BEDSIDE


def _bare_409(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["rule"] == "event-id-reused"
    assert set(body) == {"type", "title", "status", "detail", "rule", "field", "instance"}
    assert "position" not in response.text


async def test_item7_idempotency_is_bound_to_the_recording_key(client, make_key):
    net = await Net(client, make_key).setup()
    await net.collect(1)
    event_id = str(uuid4())
    body = {"type": "DonorRegistered", "data": {"donor_id": "DNR-IDEM-1"}, "event_id": event_id}
    first = await client.post("/v1/events", json=body, headers=net.keys["collector@BB1"])
    assert first.status_code == 201
    # The same key gets its result again; any other key, whatever its role, a bare 409.
    again = await client.post("/v1/events", json=body, headers=net.keys["collector@BB1"])
    assert (again.status_code, again.headers["idempotent-replay"]) == (201, "true")
    for key in ("collector@BB2", "hospital@H1", "lab@LAB1", "admin"):
        _bare_409(await client.post("/v1/events", json=body, headers=net.keys[key]))
        changed = body | {"data": {"donor_id": "DNR-IDEM-2"}}
        _bare_409(await client.post("/v1/events", json=changed, headers=net.keys[key]))
    batch = await client.post("/v1/events/batch", json={"events": [body]},
                              headers=net.keys["collector@BB2"])
    [item] = batch.json()["results"]
    assert (item["status"], item["problem"]["rule"]) == (409, "event-id-reused")
    assert "position" not in item["problem"]

    # On /v1/lookbacks a replay by another key hands over nothing.
    start = {"din": din(1), "marker": "HIV", "event_id": str(uuid4())}
    started = await client.post("/v1/lookbacks", json=start, headers=net.keys["processing@BB1"])
    assert started.status_code == 201, started.text
    replay = await client.post("/v1/lookbacks", json=start, headers=net.keys["processing@BB1"])
    assert replay.json()["lookback_id"] == started.json()["lookback_id"]
    for key in ("lab@LAB1", "admin"):
        _bare_409(await client.post("/v1/lookbacks", json=start, headers=net.keys[key]))


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _log_size(client) -> int:  # type: ignore[no-untyped-def]
    return int((await client.get("/readyz")).json()["log_size"])


async def test_item3_the_clock_cannot_release_issue_or_transfuse_an_expired_unit(
        client, make_key):
    net = await Net(client, make_key).setup()
    # Red cells collected 60 days ago (entered late, with a reason) expired 18 days ago.
    start = datetime.now(UTC) - timedelta(days=60)
    clock = iter(range(1, 100))
    entered: list[datetime] = []

    async def late(key: str, type_: str, data: dict) -> datetime:  # type: ignore[type-arg]
        at = start + timedelta(minutes=next(clock))
        response = await net.post(key, type_, data, occurred_at=_at(at),
                                  late_entry_reason="paper records entered late")
        assert response.status_code == 201, response.text
        entered.append(at)
        return at

    await late("collector@BB1", "DonorRegistered", {"donor_id": "DNR-LATE-1"})
    await late("collector@BB1", "DonorScreened", {"donor_id": "DNR-LATE-1", "site_id": "BB1",
                                                  "hb_g_l": 145, "pass": True})
    await late("collector@BB1", "DonationCollected", {
        "din": din(1), "donor_id": "DNR-LATE-1", "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450})
    last = await late("processing@BB1", "UnitSplit", {
        "unit_id": f"{din(1)}-E0001V00",
        "components": [{"product_code": RED_CELLS, "category": "red_cells", "volume_ml": 250}]})
    for marker, result in (("HIV", "non_reactive"), ("HBV", "non_reactive"),
                           ("HCV", "non_reactive"), ("SYPHILIS", "non_reactive"),
                           ("ABO", "O"), ("RHD", "NEG")):
        await late("lab@LAB1", "TestResultRecorded", {
            "din": din(1), "marker": marker, "result": result, "lab_site_id": "LAB1"})
    red = f"{din(1)}-{RED_CELLS}"
    patient = {"unit_id": red, "patient_id": "PAT-LATE-1"}

    async def refused(key: str, type_: str, data: dict) -> None:  # type: ignore[type-arg]
        """Now it is expired; in 1900 it needs a reason, and given one it is before the
        unit's previous step; just before that step too; tomorrow is in the future."""
        await net.enrol(key)  # a signed step's person has their account before the count
        size = await _log_size(client)
        previous = _at(last - timedelta(seconds=1))
        for envelope, status, rule in (
                ({}, 409, "unit-expired"),
                ({"occurred_at": "1900-01-01T00:00:00Z"}, 422, "late-entry-reason-required"),
                ({"occurred_at": "1900-01-01T00:00:00Z", "late_entry_reason": "trust me"},
                 409, "out-of-order"),
                ({"occurred_at": previous, "late_entry_reason": "trust me"}, 409,
                 "out-of-order"),
                ({"occurred_at": _at(datetime.now(UTC) + timedelta(days=1))}, 422,
                 "occurred-in-future")):
            response = await net.post(key, type_, data, **envelope)
            assert (response.status_code, response.json().get("rule")) == (status, rule), (
                type_, envelope, response.text)
        assert await _log_size(client) == size

    await refused("processing@BB1", "UnitReleased", {"unit_id": red})
    # Entered late but in date (after the previous step, with a reason), each step stands;
    # the next one, now, is refused however it is dated.
    await late("processing@BB1", "UnitReleased", {"unit_id": red})
    await late("inventory@BB1", "UnitShipped", {"unit_id": red, "from_site_id": "BB1",
                                                "to_site_id": "H1", "shipment_id": "S-L"})
    await late("hospital@H1", "UnitReceived", {"unit_id": red, "site_id": "H1",
                                               "shipment_id": "S-L", "accepted": True})
    last = await late("hospital@H1", "UnitReserved", patient | {
        "patient_abo": "O", "patient_rhd": "NEG", "crossmatch": "compatible"})
    await refused("hospital@H1", "UnitIssued", patient)
    last = await late("hospital@H1", "UnitIssued", patient)
    # The transfusion's start is where the unit's date is checked (RULES §8): once spiked,
    # its completion is what happened, and is recorded only after a start.
    await refused("hospital@H1", "TransfusionStarted", patient | {"bedside_check": BEDSIDE})
    unit = (await net.get("admin", f"/v1/units/{red}")).json()
    assert (unit["status"], unit.get("fate")) == ("issued", None), unit
    late_entries = (await net.get("auditor", "/v1/audit/late-entries")).json()["items"]
    assert len(late_entries) == len(entered)


async def test_item4_a_hospital_cannot_lift_a_lookback_hold_on_the_unit_it_holds(
        client, make_key):
    net = await Net(client, make_key).setup()
    net.keys["inventory@H1"] = await make_key("inventory", "H1")
    red = await net.red_cells_at(1, hospital="H1")
    started = await client.post("/v1/lookbacks", json={"din": din(1), "marker": "HIV"},
                                headers=net.keys["processing@BB1"])
    assert started.status_code == 201, started.text
    [hold] = (await net.get("hospital@H1", f"/v1/units/{red}")).json()["holds"]
    assert hold["cause"] == "lookback"
    for key in ("hospital@H1", "inventory@H1"):  # their people exist before the count
        await net.enrol(key)
    size = await _log_size(client)
    for key in ("hospital@H1", "inventory@H1"):
        for named in ({}, {"hold_id": hold["hold_id"]}):
            response = await net.post(key, "QuarantineLifted", {
                "unit_id": red, "reason": "looks fine to us"} | named)
            assert (response.status_code, response.json()["rule"]) == (
                403, "hold-lift-not-allowed"), response.text
    assert await _log_size(client) == size
    assert (await net.get("hospital@H1", f"/v1/units/{red}")).json()["holds"] == [hold]
    # The hold still does its work: the unit cannot be given to a patient.
    reserve = await net.post("hospital@H1", "UnitReserved", {
        "unit_id": red, "patient_id": "PAT-0001", "patient_abo": "O", "patient_rhd": "NEG",
        "crossmatch": "compatible"})
    assert (reserve.status_code, reserve.json()["rule"]) == (409, "unit-quarantined")
