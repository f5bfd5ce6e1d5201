"""Lookback and recall: start one (a ``LookbackStarted`` event), read its result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.api import access
from app.api.body import EventId, Rfc3339, command_from_json, read_json, reject_floats
from app.api.deps import (
    ActorDep,
    ConDep,
    MetricsDep,
    PoolDep,
    RecorderDep,
    SettingsDep,
    WriterDep,
    connection,
)
from app.api.openapi import json_body
from app.api.params import IdentPath
from app.api.recording import seen_by
from app.api.responses import READ_PROBLEMS, WRITE_PROBLEMS, FastJSON, Row
from app.errors import DomainError, InvalidInput, LookbackNotFound
from app.events.registry import check_role
from app.store import read_queries

router = APIRouter(tags=["lookbacks"])


class LookbackIn(BaseModel):
    """Start a lookback from a donor (donations collected since ``since``; without it, from
    12 months before the donor's last clear screen for the marker) or from one DIN."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"donor_id": "DNR-7QX2K9", "marker": "HIV", "since": "2025-01-01T00:00:00Z"},
        {"din": "A999926123456", "marker": "HCV"},
    ]})

    donor_id: str | None = Field(default=None, max_length=64)
    din: str | None = Field(default=None, max_length=16)
    marker: str = Field(min_length=1, max_length=32)
    since: str | None = Field(default=None, max_length=40,
                              description="RFC 3339 time or a date; donor lookbacks only")
    lookback_id: str | None = Field(
        default=None, max_length=64,
        description="default: derived from event_id, so a retry starts nothing new")
    event_id: EventId | None = None
    occurred_at: Rfc3339 | None = None
    late_entry_reason: str | None = Field(default=None, min_length=1, max_length=500)


class LookbackOut(Row):
    """The lookback, the units it found (each with its custodian or recipient) and the items
    not yet acknowledged. On creation also the log ``position`` and ``event_id``."""

    lookback_id: str
    marker: str | None = None
    units: list[Row]
    open_items: list[str]


def _envelope(raw: Any) -> dict[str, Any]:
    """The ``LookbackStarted`` envelope for a request body; the domain validates the data."""
    if not isinstance(raw, dict):
        raise InvalidInput("body must be a JSON object", field=None)
    reject_floats(raw)
    unknown = sorted(set(raw) - set(LookbackIn.model_fields))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}", field=unknown[0])
    event_id = raw.get("event_id") or str(uuid4())
    if not isinstance(event_id, str):
        raise InvalidInput("event_id must be a UUID", field="event_id")
    lookback_id = raw.get("lookback_id") or "LB-" + event_id.replace("-", "")[:16].upper()
    data = {"lookback_id": lookback_id} | {
        k: raw[k] for k in ("donor_id", "din", "marker", "since") if raw.get(k) is not None}
    envelope = {"type": "LookbackStarted", "data": data, "event_id": event_id}
    for name in ("occurred_at", "late_entry_reason"):
        if raw.get(name) is not None:
            envelope[name] = raw[name]
    return envelope


@router.post(
    "/v1/lookbacks", status_code=201, response_model=LookbackOut, responses=WRITE_PROBLEMS,
    openapi_extra=json_body(LookbackIn),
)
async def start_lookback(
    request: Request, actor: RecorderDep, writer: WriterDep, settings: SettingsDep,
    metrics: MetricsDep, pool: PoolDep,
) -> Response:
    """Record ``LookbackStarted``: every donation of the donor since ``since`` (or the one
    DIN), every component through splits and pools, with its custodian or recipient. Units
    still in stock are quarantined in the same step. Lab, processing and admin keys."""
    check_role(actor, "LookbackStarted")
    raw = await read_json(request, settings)
    cmd, content, _ = command_from_json(_envelope(raw), actor, datetime.now(UTC))
    try:
        result = await writer.append(cmd, content)
    except DomainError as err:
        raise await seen_by(pool, actor, cmd, err) from err.__cause__
    if result.replayed:
        metrics.replays.inc()
    else:
        metrics.appends.labels(type="LookbackStarted").inc()
    # The connection is taken only now: holding one while the writer (which needs one of
    # the same pool) commits could starve it.
    lookback_id = str(cmd.data["lookback_id"])
    async with connection(pool) as con:
        found = await read_queries.lookback(con, lookback_id)
        if found is None:
            raise LookbackNotFound("the lookback was recorded but is not readable yet")
        found = await access.lookback_view(con, actor, found, lookback_id)
    body = found | {"position": result.position, "event_id": str(result.event_id),
                    "quarantine_positions": list(result.derived)}
    return FastJSON(body, status_code=201)


@router.get("/v1/lookbacks/{lookback_id}", response_model=LookbackOut, responses=READ_PROBLEMS)
async def read_lookback(
    lookback_id: IdentPath,
    actor: ActorDep,
    con: ConDep,
) -> Response:
    """A lookback's result: its units with custodian or recipient, acknowledgements and the
    open items. Readable by national keys, the starting site and sites holding its units."""
    found = await read_queries.lookback(con, lookback_id)
    return FastJSON(await access.lookback_view(con, actor, found, lookback_id))
