"""Fast JSON responses (orjson) and the shared response models."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import JSONResponse


class FastJSON(JSONResponse):
    """JSONResponse rendered by orjson (bytes, datetimes, UUIDs handled natively)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class Actor(BaseModel):
    key_id: str
    role: str
    site_id: str | None


class FeedEntry(BaseModel):
    """One event as it stands in the log; hashes are base64."""

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


class FeedPage(BaseModel):
    events: list[FeedEntry]
    next_after: int


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    rule: str | None = None
    field: str | None = None
    instance: str | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 401, 403, 404, 409, 413, 422, 503)
}
