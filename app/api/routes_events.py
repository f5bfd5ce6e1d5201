"""Recording events and reading the change feed.

The two writes are ``LeanRoute``s (``app.api.lean``): documented like every route, served
without per-request dependency solving; they take what they need from the app's state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.api.access import reads_everything
from app.api.body import EventIn, command_from_json, read_json
from app.api.deps import ActorDep, ReadConDep, RecorderDep
from app.api.lean import LeanRoute
from app.api.openapi import json_body
from app.api.problems import http_status, problem
from app.api.recording import all_seen_by, count_outcomes, record_envelope
from app.api.redact import feed_view
from app.api.responses import LIST_PROBLEMS, WRITE_PROBLEMS, FastJSON, FeedPage
from app.api.signing import sign
from app.api.strict_json import RepeatedKeys
from app.bootstrap import Services
from app.errors import DomainError, InvalidInput
from app.events.messages import Actor
from app.log.encoding import b64
from app.people.service import people_of
from app.store.api_access import site_feed
from app.store.conn import Conn
from app.store.log_reader import feed
from app.store.writer import AppendResult

router = APIRouter(tags=["events"])
writes = APIRouter(tags=["events"], route_class=LeanRoute)
"""``POST /v1/events`` and ``/v1/events/batch``; the app includes it before ``router``."""


class Appended(BaseModel):
    position: int
    event_id: str
    stream: str
    stream_version: int
    chain_hash: str
    derived_positions: list[int] = Field(default_factory=list)


class BatchIn(BaseModel):
    """Up to 1000 events, each accepted or refused on its own. Each item is an ``EventIn``;
    an item that is not one is refused alone (its problem is in ``results``), so the items
    are left unconstrained here."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"events": [
        {"type": "DonorRegistered", "data": {"donor_id": "DNR-7QX2K9"}},
        {"type": "DonorDeferred", "data": {"donor_id": "DNR-7QX2K9", "reason": "low Hb",
                                           "until": "2026-12-20"}},
    ]}]})

    events: list[Any] = Field(max_length=1000, description="items: EventIn")


class BatchItem(BaseModel):
    index: int
    status: int
    result: Appended | None = None
    problem: dict[str, Any] | None = None


class BatchOut(BaseModel):
    accepted: int
    refused: int
    results: list[BatchItem]


def _appended(result: AppendResult) -> dict[str, Any]:
    return {
        "position": result.position,
        "event_id": str(result.event_id),
        "stream": result.stream,
        "stream_version": result.stream_version,
        "chain_hash": b64(result.chain_hash),
        "derived_positions": list(result.derived),
    }


@writes.post(
    "/v1/events", status_code=201, response_model=Appended, responses=WRITE_PROBLEMS,
    openapi_extra=json_body(EventIn),
)
async def record_event(request: Request, actor: RecorderDep) -> Response:
    """Record one event. A retry with the same ``event_id`` and content returns the original
    result (header ``Idempotent-Replay: true``); other content under that id is a 409.
    The key's role must allow the type, and sites named as acting in ``data`` must be the
    key's own (admins act for any site). Signed steps (release, lifting a blood-establishment
    hold, emergency issue, override, reinstating a donor, closing a lookback) need the
    ``signature`` of the signed-in person: an API key cannot sign."""
    services: Services = request.app.state.services
    raw = await read_json(request, services.settings)
    cmd, result = await record_envelope(services, actor, raw)
    count_outcomes(request.app.state.metrics, [(cmd.type, result)])
    headers = {"Idempotent-Replay": "true"} if result.replayed else None
    return FastJSON(_appended(result), status_code=201, headers=headers)


@writes.post(
    "/v1/events/batch", response_model=BatchOut, responses=WRITE_PROBLEMS,
    openapi_extra=json_body(BatchIn),
)
async def record_batch(request: Request, actor: RecorderDep) -> Response:
    """Record up to 1000 events, each accepted or refused on its own, in order: an offline
    mobile unit syncs in one call. Each result holds its index and either the append or the
    problem; the reply is 200 even when items are refused."""
    services: Services = request.app.state.services
    settings, metrics = services.settings, request.app.state.metrics
    raw = await read_json(request, settings, settings.max_batch_json_elements)
    if not isinstance(raw, dict) or not isinstance(raw.get("events"), list):
        raise InvalidInput("body must be {\"events\": [...]}", field="events")
    if isinstance(raw, RepeatedKeys):
        raise InvalidInput(f"{raw.repeated} is given more than once", field=raw.repeated)
    unknown = sorted(k for k in raw if k != "events")
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}", field=unknown[0])
    items = raw["events"]
    if len(items) > settings.max_batch_events:
        raise InvalidInput(
            f"at most {settings.max_batch_events} events per batch", field="events"
        )
    metrics.http_batch.observe(len(items))
    now = datetime.now(UTC)
    outcomes: list[Any] = [None] * len(items)
    commands = []
    people = people_of(services)
    for i, item in enumerate(items):
        try:
            cmd, content, signature = command_from_json(item, actor, now)
            commands.append((i, (await sign(people, actor, cmd, signature), content)))
        except DomainError as err:
            outcomes[i] = err
    results = await services.writer.append_many([c for _, c in commands])
    decided = list(zip(commands, results, strict=True))
    seen = iter(await all_seen_by(services.pool, actor, [
        (cmd, result) for (_, (cmd, _)), result in decided if isinstance(result, DomainError)]))
    for (i, _), result in decided:
        outcomes[i] = next(seen) if isinstance(result, DomainError) else result
    count_outcomes(metrics, [(str(item.get("type") if isinstance(item, dict) else None), outcome)
                     for item, outcome in zip(items, outcomes, strict=True)])
    body = []
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, DomainError):
            body.append({"index": i, "status": http_status(outcome),
                         "problem": problem(outcome)})
        else:
            body.append({"index": i, "status": 201, "result": _appended(outcome)})
    accepted = sum(1 for o in outcomes if not isinstance(o, DomainError))
    return FastJSON({"accepted": accepted, "refused": len(items) - accepted, "results": body})


async def feed_page(con: Conn, actor: Actor, after: int, limit: int) -> list[dict[str, Any]]:
    """The feed as ``actor`` may read it: everything for national keys, else the events that
    concern the key's site."""
    if reads_everything(actor):
        return await feed(con, after, limit)
    assert actor.site_id is not None
    return await feed_view(con, actor, await site_feed(con, actor.site_id, after, limit))


@router.get("/v1/events", response_model=FeedPage, responses=LIST_PROBLEMS)
async def read_feed(
    actor: ActorDep,
    con: ReadConDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="last position already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The change feed in position order. Resume with ``after=next_after``: since commit order
    equals position order, no event is ever skipped. Auditor and admin keys read the whole
    log; a site key reads the events that concern its site."""
    events = await feed_page(con, actor, after, limit)
    next_after = events[-1]["position"] if events else after
    return FastJSON({"events": events, "next_after": next_after})
