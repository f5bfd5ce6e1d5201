"""The published JSON Schemas of the v1 events (the files under ``schemas/``).

They are generated from the event models by ``app.events.schemas_gen``, and the drift test
pins the committed files to that output, so the service serves the generator's documents
directly: no file system path to get wrong in a container. Open to everyone, like ``/docs``.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path
from pydantic import BaseModel
from starlette.responses import Response

from app.api.responses import FastJSON, Row, problems
from app.errors import NotFound
from app.events.registry import REGISTRY
from app.events.schemas_gen import event_schema, index

router = APIRouter(tags=["schemas"])
SCHEMA_JSON = "application/schema+json"


class SchemaIndex(BaseModel):
    """Each entry: ``type``, ``schema_version``, ``schema`` (file name) and ``url``."""

    events: list[Row]


_SCHEMA_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "A JSON Schema (draft 2020-12) of one event type's `data`",
    "content": {SCHEMA_JSON: {"schema": {"type": "object"}}}}}


@router.get("/v1/schemas", response_model=SchemaIndex)
async def list_schemas() -> Response:
    """Every event type and version with the URL of its JSON Schema (draft 2020-12)."""
    body = index()
    for entry in body["events"]:
        entry["url"] = f"/v1/schemas/{entry['schema']}"
    return FastJSON(body)


@router.get(
    "/v1/schemas/{name}", responses=_SCHEMA_DOC | problems(404, 422),
)
async def read_schema(
    name: Annotated[str, Path(
        pattern=r"^[A-Za-z]{1,64}(\.v[0-9]{1,3})?(\.json)?$",
        examples=["DonorRegistered.v1.json"],
        description="`Type.v1.json`, `Type.v1` or `Type`")],
) -> Response:
    """The JSON Schema of one event type's ``data``."""
    event_type, _, version = name.removesuffix(".json").partition(".")
    if event_type not in REGISTRY or version not in ("", "v1"):
        raise NotFound(f"no published schema {name!r}; see /v1/schemas", field="name")
    return Response(orjson.dumps(event_schema(event_type)), media_type=SCHEMA_JSON)
