"""The lean write routes (``app.api.lean``) are described exactly as the FastAPI routes they
replaced: ``fixtures/openapi_writes.json`` is the description of ``POST /v1/events`` and
``POST /v1/events/batch`` (and every schema they use) taken from the app before the change,
and the app must still publish it unchanged."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import Request
from starlette.responses import Response

from app.api import routes_events
from app.api.app import create_app
from app.api.deps import PoolDep, RecorderDep
from app.api.lean import LeanRoute
from app.config import Settings

FIXTURE = Path(__file__).parent / "fixtures" / "openapi_writes.json"
WRITES = ("/v1/events", "/v1/events/batch")
_REF = re.compile(r"#/components/schemas/(\w+)")


def write_operations(document: dict[str, Any]) -> dict[str, Any]:
    """The two POST operations, every component schema they reach, the security schemes."""
    paths = {p: {"post": document["paths"][p]["post"]} for p in WRITES}
    schemas: dict[str, Any] = {}
    todo = set(_REF.findall(orjson.dumps(paths).decode()))
    while todo:
        name = todo.pop()
        schemas[name] = document["components"]["schemas"][name]
        todo |= set(_REF.findall(orjson.dumps(schemas[name]).decode())) - set(schemas)
    return {"paths": paths, "schemas": schemas,
            "securitySchemes": document["components"]["securitySchemes"]}


def test_the_write_operations_are_described_as_before() -> None:
    document = create_app(Settings()).openapi()
    assert write_operations(document) == orjson.loads(FIXTURE.read_bytes())


def test_the_writes_are_lean_routes_and_the_feed_is_not() -> None:
    lean = {(r.path, m) for r in routes_events.writes.routes if isinstance(r, LeanRoute)
            for m in r.methods}
    assert lean == {("/v1/events", "POST"), ("/v1/events/batch", "POST")}
    assert not any(isinstance(r, LeanRoute) for r in routes_events.router.routes)


def test_a_lean_endpoint_cannot_declare_what_it_would_never_be_given() -> None:
    async def endpoint(request: Request, actor: RecorderDep, pool: PoolDep) -> Response:
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="LeanRoute endpoint takes"):
        LeanRoute("/x", endpoint, methods=["POST"])
