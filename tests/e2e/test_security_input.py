"""Issue 20, hostile bodies over HTTP (items 8, 10, 12 and 16): each is refused with a 4xx
problem, quickly, and in a batch only the bad item is refused."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson
import pytest

from tests.e2e.api_world import PROBLEM

JSON = {"content-type": "application/json"}


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _event(data: bytes) -> bytes:
    return b'{"type": "DonorRegistered", "data": {"donor_id": "DNR-DEEP-1", "x": ' + data + b"}}"


async def _refused(response, status: int, rule: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["rule"] == rule, body
    return body  # type: ignore[no-any-return]


async def test_item8_millions_of_elements_are_refused_before_any_parser_runs(client, make_key,
                                                                           monkeypatch):
    """The count of separators refuses the body: neither parser is ever called on it (the
    parsers took 1.5 s of the event loop on this body). Deterministic, not timed."""
    from app.api import strict_json

    def _must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a body over the element limit reached a JSON parser")

    # Only the body parser's own references are replaced, not the modules everyone shares.
    monkeypatch.setattr(strict_json, "orjson", SimpleNamespace(
        loads=_must_not_parse, JSONDecodeError=orjson.JSONDecodeError))
    monkeypatch.setattr(strict_json, "json", SimpleNamespace(loads=_must_not_parse))
    admin = await make_key("admin") | JSON
    numbers = b"[" + b",".join([b"1"] * 2_000_000) + b"]"
    assert len(numbers) <= 4 * 1024 * 1024
    for path, body in (("/v1/events", _event(numbers)),
                       ("/v1/events/batch", b'{"events": [' + _event(numbers) + b"]}"),
                       ("/v1/lookbacks", b'{"din": ' + numbers + b"}"),
                       ("/v1/admin/keys", b'{"role": ' + numbers + b"}")):
        response = await client.post(path, content=body, headers=admin)
        await _refused(response, 413, "payload-too-large")
        assert "JSON elements" in response.json()["detail"]
    monkeypatch.undo()
    assert (await client.get("/v1/events", headers=admin)).json()["events"] == []


@pytest.mark.parametrize("depth", [40, 255, 600, 1000])
async def test_item10_deep_nesting_is_a_422_and_fails_only_its_batch_item(client, make_key,
                                                                          depth):
    admin = await make_key("admin") | JSON
    body = await _refused(await client.post("/v1/events", content=_event(_nested(depth)),
                                            headers=admin), 422, "invalid-input")
    assert "nested more than" in body["detail"]
    batch = (b'{"events": [' + _event(_nested(depth)) + b', {"type": "DonorRegistered", '
             b'"data": {"donor_id": "DNR-MATE-1"}}]}')
    response = await client.post("/v1/events/batch", content=batch, headers=admin)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == [422, 201]
    # Deeper than any parser here goes is not JSON this service reads: a 400, never a 500.
    await _refused(await client.post("/v1/events", content=_event(_nested(5000)),
                                     headers=admin), 400, "malformed-request")


async def test_item16_repeated_keys_are_refused_where_they_are(client, make_key):
    admin = await make_key("admin") | JSON
    twice = (b'{"type": "DonorRegistered", "data": {"donor_id": "DNR-DUP-1", '
             b'"donor_id": "DNR-DUP-2"}}')
    body = await _refused(await client.post("/v1/events", content=twice, headers=admin), 422,
                          "invalid-input")
    assert body["field"] == "data.donor_id"
    outer = b'{"type": "DonorRegistered", "type": "DonorDeferred", "data": {"donor_id": "D-1"}}'
    assert (await _refused(await client.post("/v1/events", content=outer, headers=admin), 422,
                           "invalid-input"))["field"] == "type"
    batch = (b'{"events": [' + twice + b', {"type": "DonorRegistered", "data": '
             b'{"donor_id": "DNR-DUP-3"}}]}')
    results = (await client.post("/v1/events/batch", content=batch, headers=admin)).json()
    assert [r["status"] for r in results["results"]] == [422, 201]
    assert results["results"][0]["problem"]["field"] == "data.donor_id"
    doubled = b'{"events": [], "events": [' + twice + b"]}"
    await _refused(await client.post("/v1/events/batch", content=doubled, headers=admin), 422,
                   "invalid-input")
    lookback = b'{"din": "A999925000001", "din": "A999925000002", "marker": "HIV"}'
    assert (await _refused(await client.post("/v1/lookbacks", content=lookback, headers=admin),
                           422, "invalid-input"))["field"] == "din"


async def test_item16_only_json_bodies_and_no_nil_event_id(client, make_key):
    admin = await make_key("admin")
    event = orjson.dumps({"type": "DonorRegistered", "data": {"donor_id": "DNR-CT-1"}})
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/json; charset=latin-1"):
        headers = admin | ({"content-type": content_type} if content_type else {})
        for path in ("/v1/events", "/v1/events/batch", "/v1/lookbacks", "/v1/admin/keys"):
            await _refused(await client.post(path, content=event, headers=headers), 415,
                           "unsupported-media-type")
    ok = await client.post("/v1/events", content=event,
                           headers=admin | {"content-type": "application/json; charset=UTF-8"})
    assert ok.status_code == 201, ok.text
    nil = "00000000-0000-0000-0000-000000000000"
    refused = await client.post("/v1/events", headers=admin, json={
        "type": "DonorRegistered", "data": {"donor_id": "DNR-NIL-1"}, "event_id": nil})
    assert (await _refused(refused, 422, "invalid-input"))["field"] == "event_id"
    refused = await client.post("/v1/lookbacks", headers=admin,
                                json={"din": "A999925000001", "marker": "HIV", "event_id": nil})
    assert (await _refused(refused, 422, "invalid-input"))["field"] == "event_id"


async def test_item12_a_body_slower_than_the_deadline_is_a_408(services, make_key):
    from tests.conftest import http_client

    services.settings = services.settings.model_copy(update={"body_read_timeout_s": 0.3})
    admin = await make_key("admin") | JSON

    async def trickle():  # type: ignore[no-untyped-def]
        yield b'{"type": "DonorRegistered", '
        await asyncio.sleep(3.0)  # ten times the deadline: a 201 would mean no deadline
        yield b'"data": {"donor_id": "DNR-SLOW-1"}}'

    async with http_client(services) as client:
        response = await client.post("/v1/events", content=trickle(), headers=admin)
        await _refused(response, 408, "request-timeout")
