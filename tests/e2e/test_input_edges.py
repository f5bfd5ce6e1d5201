"""Edge values that once reached a 500: far-past times in the envelope and in event data."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "DonorRegistered", "data": {"donor_id": "DNR-EDGE-1"},
      "occurred_at": "0500-01-01T00:00:00Z"}, "occurred_at"),
    ({"type": "DonorRegistered", "data": {"donor_id": "DNR-EDGE-1"},
      "occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
    ({"type": "DonorDeferred", "data": {"donor_id": "DNR-EDGE-1", "reason": "low Hb",
                                        "until": "0001-01-01T00:00:00+01:00"}}, "data.until"),
    ({"type": "DonorDeferred", "data": {"donor_id": "DNR-EDGE-1", "reason": "low Hb",
                                        "until": "0999-12-31T00:00:00Z"}}, "data.until"),
])
async def test_far_past_times_are_a_422_naming_the_field(client, make_key, body, field):
    headers = await make_key("admin")
    registered = await client.post("/v1/events", headers=headers, json={
        "type": "DonorRegistered", "data": {"donor_id": "DNR-EDGE-1"}})
    assert registered.status_code in (201, 409)
    response = await client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
