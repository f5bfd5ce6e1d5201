"""Fast JSON responses (orjson) and the response models shared by several routes.

Models document the shape in OpenAPI (and schemathesis checks every response against them);
read-model rows carry more columns than listed, so the row models allow extra fields.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict
from starlette.responses import JSONResponse


class FastJSON(JSONResponse):
    """JSONResponse rendered by orjson (bytes, datetimes, UUIDs handled natively)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class Row(BaseModel):
    """A read-model row: the listed fields plus any others."""

    model_config = ConfigDict(extra="allow")


class Actor(BaseModel):
    """Who recorded the event: the key (or ``user:<user_id>`` for a person), its role and
    site, and ``user_id`` when a signed-in person recorded it."""

    key_id: str
    role: str
    site_id: str | None
    user_id: str | None = None


class SignatureOut(BaseModel):
    """The electronic signature of a signed step: who, what it meant, when."""

    user_id: str
    meaning: str
    signed_at: str


class FeedEntry(BaseModel):
    """One event as it stands in the log; hashes are base64."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "position": 42, "event_id": "5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11",
        "type": "DonorRegistered", "stream": "donor:DNR-7QX2K9", "stream_version": 1,
        "schema_version": 1, "occurred_at": "2026-11-20T09:30:00.000000Z",
        "recorded_at": "2026-11-20T09:30:01.000000Z",
        "actor": {"key_id": "3f9c0e1d2a4b5c6d", "role": "collector", "site_id": "BB-DAM-01"},
        "data": {"donor_id": "DNR-7QX2K9", "abo": "O", "rhd": "NEG"},
        "leaf_hash": "0yBq...base64...=", "chain_hash": "lS7x...base64...=",
    }]})

    position: int
    event_id: str
    type: str
    stream: str
    stream_version: int
    schema_version: int
    occurred_at: str
    recorded_at: str
    actor: Actor
    data: dict[str, Any]
    leaf_hash: str
    chain_hash: str
    signature: SignatureOut | None = None
    late_entry_reason: str | None = None


class FeedPage(BaseModel):
    """A page of the change feed; resume with ``after=next_after``."""

    events: list[FeedEntry]
    next_after: int


class Problem(BaseModel):
    """RFC 9457 problem details; ``rule`` is the last segment of ``type``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "https://bloodtrace.dev/problems/din-check-character",
        "title": "Wrong DIN check character (ISO 7064 Mod 37-2)", "status": 422,
        "detail": "data.din: check character 'B' is wrong for G123417654321 (expected 'A')",
        "rule": "din-check-character", "field": "data.din", "instance": "/v1/events",
    }]})

    type: str
    title: str
    status: int
    detail: str | None = None
    rule: str | None = None
    field: str | None = None
    instance: str | None = None


_PROBLEM_TEXT = {
    400: "Malformed request", 401: "No valid API key", 403: "The key may not do this",
    404: "Not found", 408: "The body did not arrive in time",
    410: "Gone for good (an erased donor identity)",
    409: "Refused by a life-cycle rule or a conflict",
    413: "Request body too large (bytes or JSON elements)",
    415: "The body is not application/json", 422: "Invalid input",
    429: "Too many requests from this client or key (see Retry-After)",
    503: "Unavailable: the database is unreachable or the service is at capacity (see "
         "Retry-After); on a write the outcome is unknown: retry with the same event_id",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` map documenting the problem+json answers of a route."""
    return {code: {
        "model": Problem, "description": _PROBLEM_TEXT[code],
        "content": {"application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"}}},
    } for code in codes}


READ_PROBLEMS = problems(401, 403, 404, 422, 429, 503)
"""What a read of one thing can answer besides 200."""
LIST_PROBLEMS = problems(401, 403, 422, 429, 503)
WRITE_PROBLEMS = problems(400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 503)
PROBLEMS = WRITE_PROBLEMS
