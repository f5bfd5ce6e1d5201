"""Audit views for auditor and admin keys: event search, custody gaps, units past expiry with
no final fate, and discards by reason, site and actor (the wastage and anti-corruption view)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel
from starlette.responses import Response

from app.api import access
from app.api.deps import ActorDep, ConDep
from app.api.responses import LIST_PROBLEMS, FastJSON, FeedEntry, Row
from app.errors import InvalidInput
from app.store import read_queries

router = APIRouter(tags=["audit"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Ident = Annotated[str | None, Query(min_length=1, max_length=64)]
From = Annotated[AwareDatetime | None, Query(alias="from", description="inclusive, RFC 3339")]
To = Annotated[AwareDatetime | None, Query(description="exclusive, RFC 3339")]


class AuditEntry(FeedEntry):
    flags: list[str]


class AuditPage(BaseModel):
    """Matching events oldest first (by ``recorded_at``); resume with
    ``after=next_after`` (null on the last page)."""

    events: list[AuditEntry]
    next_after: int | None


class Listing(BaseModel):
    items: list[Row]


class Discards(Row):
    by_reason: list[Row]
    by_site: list[Row]
    by_actor: list[Row]


def _window(from_: AwareDatetime | None, to: AwareDatetime | None) -> None:
    if from_ is not None and to is not None and to < from_:
        raise InvalidInput("`to` is before `from`", field="to")


@router.get("/v1/audit/events", response_model=AuditPage, responses=LIST_PROBLEMS)
async def search_events(
    actor: ActorDep,
    con: ConDep,
    key: Annotated[str | None, Query(
        alias="actor", min_length=1, max_length=64, description="an API key id")] = None,
    site: Ident = None,
    type: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    from_: From = None,
    to: To = None,
    limit: Limit = 100,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="a position")] = None,
) -> Response:
    """Events by acting key, acting site, type and recording time, each with audit
    ``flags`` (``emergency_release``, ``discard``, ``admin_action``)."""
    access.require_national(actor, "the audit search")
    _window(from_, to)
    page = await read_queries.audit_events(con, key, site, type, from_, to, limit, after)
    return FastJSON(page)


@router.get("/v1/audit/custody-gaps", response_model=Listing, responses=LIST_PROBLEMS)
async def custody_gaps(
    actor: ActorDep,
    con: ConDep,
    older_than_hours: Annotated[int, Query(ge=0, le=24 * 365)] = 24,
    limit: Limit = 1000,
) -> Response:
    """Units shipped and not received for more than ``older_than_hours``, oldest first."""
    access.require_national(actor, "custody gaps")
    return FastJSON({"items": await read_queries.custody_gaps(con, older_than_hours,
                                                              limit=limit)})


@router.get("/v1/audit/unfated", response_model=Listing, responses=LIST_PROBLEMS)
async def unfated(actor: ActorDep, con: ConDep, limit: Limit = 1000) -> Response:
    """Units past expiry with no final fate (every unit must end transfused, discarded or
    fractionated), soonest expired first."""
    access.require_national(actor, "the unfated-units report")
    return FastJSON({"items": await read_queries.unfated_past_expiry(con, limit=limit)})


@router.get("/v1/audit/discards", response_model=Discards, responses=LIST_PROBLEMS)
async def discards(
    actor: ActorDep,
    con: ConDep,
    from_: From = None,
    to: To = None,
    site: Ident = None,
    key: Annotated[str | None, Query(alias="actor", min_length=1, max_length=64)] = None,
    reason: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> Response:
    """Discards in ``[from, to)`` (default: the last 30 days) by reason, by site and by
    acting key, with each key's discard rate among the final fates it recorded."""
    access.require_national(actor, "the discard report")
    _window(from_, to)
    return FastJSON(await read_queries.discards(con, from_, to, site, key, reason))
