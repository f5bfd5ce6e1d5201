"""Operations and edges: 413 on every body, request ids, metrics, readiness, schemas, the
OpenAPI document, problem+json for unknown paths and parameters."""

from __future__ import annotations

import orjson

from tests.e2e.api_world import PROBLEM, Net


async def _chunks(body: bytes):  # type: ignore[no-untyped-def]
    """A body without Content-Length (chunked), so only the streamed size can tell."""
    for start in range(0, len(body), 65536):
        yield body[start:start + 65536]


async def test_bodies_over_the_limit_are_413_problems(client, make_key, services):
    admin = await make_key("admin")
    limit = services.settings.max_body_bytes
    big = orjson.dumps({"events": [{"type": "DonorRegistered",
                                    "data": {"donor_id": "D1", "pad": "x" * limit}}]})
    for path in ("/v1/events", "/v1/events/batch", "/v1/lookbacks", "/v1/admin/keys"):
        for chunked in (False, True):
            content = _chunks(big) if chunked else big
            response = await client.post(path, content=content, headers=admin | {
                "content-type": "application/json"})
            assert response.status_code == 413, (path, chunked, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.json()["rule"] == "payload-too-large"


async def test_request_ids_are_echoed_or_made(client):
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "a b\x7f"})
    assert unsafe.headers["x-request-id"] != "a b\x7f"
    problem = await client.get("/v1/events")
    assert problem.status_code == 401 and problem.headers["x-request-id"]


async def test_metrics_count_appends_refusals_batches_and_latency(client, make_key):
    net = await Net(client, make_key).setup()
    await net.post("lab@LAB1", "DonorRegistered", {"donor_id": "DNR-1"})
    await client.post("/v1/events/batch", headers=net.keys["admin"], json={"events": [
        {"type": "DonorRegistered", "data": {"donor_id": "DNR-2"}},
        {"type": "DonorRegistered", "data": {"donor_id": "x"}}]})
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers=net.keys["hospital@H1"])).status_code == 403
    text = (await client.get("/metrics", headers=net.keys["auditor"])).text
    assert 'bloodtrace_events_appended_total{type="SiteRegistered"} 6.0' in text
    assert 'bloodtrace_refusals_total{rule="role-not-allowed",status="403"} 1.0' in text
    assert 'bloodtrace_refusals_total{rule="not-pseudonymous",status="422"} 1.0' in text
    assert "bloodtrace_http_batch_events_count 1.0" in text
    assert 'route="/v1/events",status="201"' in text
    assert 'route="/v1/units/{unit_id}"' not in text  # routes are templates, never raw paths
    commits = next(line for line in text.splitlines()
                   if line.startswith("bloodtrace_writer_batch_commands_count"))
    assert float(commits.split()[-1]) >= 1
    assert "bloodtrace_writer_lock_wait_seconds_bucket" in text


async def test_readiness_and_health(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True


async def test_schemas_are_served_and_match_the_published_files(client):
    from pathlib import Path

    from app.events.registry import REGISTRY

    index = (await client.get("/v1/schemas")).json()
    assert len(index["events"]) == len(REGISTRY)
    assert {e["type"] for e in index["events"]} == set(REGISTRY)
    folder = Path(__file__).resolve().parents[2] / "schemas"
    for entry in index["events"]:
        response = await client.get(entry["url"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/schema+json"
        assert response.json() == orjson.loads((folder / entry["schema"]).read_bytes())
    assert (await client.get("/v1/schemas/DonorRegistered")).status_code == 200
    missing = await client.get("/v1/schemas/NoSuchEvent.v1.json")
    assert (missing.status_code, missing.json()["rule"]) == (404, "not-found")


async def test_openapi_is_3_1_with_examples_and_bearer_auth(client):
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    schemas = document["components"]["schemas"]
    assert schemas["EventIn"]["examples"] and schemas["LookbackIn"]["examples"]
    body = document["paths"]["/v1/events/batch"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/BatchIn")
    assert schemas["BatchIn"]["properties"]["events"]["maxItems"] == 1000
    assert (await client.get("/docs")).status_code == 200


async def test_unknown_paths_methods_and_parameters_are_problems(client, make_key):
    admin = await make_key("admin")
    missing = await client.get("/v1/nothing", headers=admin)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    wrong = await client.delete("/v1/events", headers=admin)
    assert (wrong.status_code, wrong.json()["rule"]) == (405, "method-not-allowed")
    typo = await client.get("/v1/stock", params={"sitee": "BB1"}, headers=admin)
    assert (typo.status_code, typo.json()["field"]) == (422, "sitee")
    nul = await client.post("/v1/events", headers=admin, json={
        "type": "DonorRegistered", "data": {"donor_id": "DNR-1", "note": "a\x00b"}})
    assert (nul.status_code, nul.json()["field"]) == (422, "data.note")


async def test_times_out_of_range_are_422_not_500(client, make_key):
    admin = await make_key("admin")
    # The first two overflow in UTC (not times at all: 422); the last two are times, before
    # anything was recorded (an audit search over them is an empty 200).
    for moment, audit_status in (("0001-01-01T00:00:00+01:00", 422),
                                 ("9999-12-31T23:00:00-05:00", 422),
                                 ("0500-01-01T00:00:00Z", 200), ("1899-12-31T23:59:59Z", 200)):
        response = await client.post("/v1/events", headers=admin, json={
            "type": "DonorRegistered", "data": {"donor_id": "DNR-1"}, "occurred_at": moment})
        assert (response.status_code, response.json()["field"]) == (422, "occurred_at"), moment
        audit = await client.get("/v1/audit/events", headers=admin, params={"from": moment})
        assert audit.status_code == audit_status, (moment, audit.text)
        if audit_status == 200:
            assert audit.json()["events"] == []
