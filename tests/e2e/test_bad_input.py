"""Bad input gets a clear 4xx problem+json, and the log is unchanged."""

from __future__ import annotations

import orjson
import pytest

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(("body", "status", "rule"), [
    (b"{not json", 400, "malformed-request"),
    (b"[1, 2]", 422, "invalid-input"),
    (b'{"type": "NoSuchThing", "data": {}}', 422, "unknown-event-type"),
    (b'{"type": "DonorRegistered"}', 422, "invalid-input"),
    (b'{"data": {"donor_id": "D1"}}', 422, "invalid-input"),
    (b'{"type": "DonorRegistered", "data": {"donor_id": "D1"}, "surprise": 1}', 422,
     "invalid-input"),
    (b'{"type": "DonorRegistered", "data": {"donor_id": "D1", "weight": 71.5}}', 422,
     "float-not-allowed"),
    (b'{"type": "DonorRegistered", "data": {"donor_id": "D1"}, "event_id": "nope"}', 422,
     "invalid-input"),
    (b'{"type": "DonorRegistered", "data": {"donor_id": "D1"},'
     b' "occurred_at": "2999-01-01T00:00:00Z"}', 422, "occurred-in-future"),
    (b'{"type": "DonorRegistered", "data": {"donor_id": "D1"},'
     b' "occurred_at": "2026-01-01T00:00:00"}', 422, "invalid-input"),
])
async def test_bad_event_is_a_4xx_problem(client, make_key, body, status, rule):
    headers = await make_key("admin") | {"content-type": "application/json"}
    response = await client.post("/v1/events", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["rule"] == rule
    assert problem["type"].endswith("/" + rule)
    assert problem["status"] == status
    feed = await client.get("/v1/events", headers=headers)
    assert feed.json()["events"] == []


async def test_oversized_body_is_413(client, make_key, services):
    headers = await make_key("admin") | {"content-type": "application/json"}
    big = orjson.dumps({"type": "DonorRegistered",
                        "data": {"donor_id": "D1", "pad": "x" * services.settings.max_body_bytes}})
    response = await client.post("/v1/events", content=big, headers=headers)
    assert response.status_code == 413
    assert response.json()["rule"] == "payload-too-large"
    assert (await client.get("/v1/events", headers=headers)).json()["events"] == []


async def test_no_key_is_401_and_bad_key_is_401(client):
    response = await client.post("/v1/events", json={"type": "DonorRegistered", "data": {}})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    response = await client.get("/v1/events", headers={"Authorization": "Bearer bt_x_y"})
    assert response.status_code == 401
