"""Issue 20, the write side over HTTP: each test is named after the item it holds to."""

from __future__ import annotations

from uuid import uuid4

from tests.e2e.api_world import PROBLEM, Net, din


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
