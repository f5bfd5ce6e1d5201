"""Audit views for auditor and admin keys: event search, custody gaps, units past expiry with
no final fate, and discards by reason, site and actor (the wastage and anti-corruption view).
The transfusion-safety views (haemovigilance, emergency issues, overrides) are open to site
keys too, each seeing only the rows its own site recorded, patient ids redacted as
everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.api import access
from app.api.deps import ActorDep, CatalogueDep, ReadConDep
from app.api.params import (
    IDENT,
    CodeQuery,
    EventTypeQuery,
    FromQuery,
    IdentQuery,
    ToQuery,
    time_window,
)
from app.api.redact import hide_patients
from app.api.responses import LIST_PROBLEMS, FastJSON, FeedEntry, Row
from app.events.payload import Crossmatch
from app.store import read_queries

router = APIRouter(tags=["audit"])

Limit = Annotated[int, Query(ge=1, le=1000)]


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
    by_day: list[Row]
    """``{day, reason, discards}`` per UTC day of the period, oldest first."""


@router.get("/v1/audit/events", response_model=AuditPage, responses=LIST_PROBLEMS)
async def search_events(
    actor: ActorDep,
    con: ReadConDep,
    key: Annotated[str | None, Query(
        alias="actor", pattern=IDENT, description="an API key id")] = None,
    site: IdentQuery = None,
    type: EventTypeQuery = None,
    from_: FromQuery = None,
    to: ToQuery = None,
    limit: Limit = 100,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="a position")] = None,
    user: Annotated[str | None, Query(
        pattern=IDENT, description="a person's user id (actor.user_id)")] = None,
) -> Response:
    """Events by acting key, person, acting site, type and recording time, each with audit
    ``flags`` (``emergency_release``, ``discard``, ``admin_action``)."""
    access.require_national(actor, "the audit search")
    start, end = time_window(from_, to)
    page = await read_queries.audit_events(con, key, site, type, start, end, limit, after,
                                           user)
    return FastJSON(page)


@router.get("/v1/audit/custody-gaps", response_model=Listing, responses=LIST_PROBLEMS)
async def custody_gaps(
    actor: ActorDep,
    con: ReadConDep,
    older_than_hours: Annotated[int, Query(ge=0, le=24 * 365)] = 24,
    limit: Limit = 1000,
) -> Response:
    """Units shipped and not received for more than ``older_than_hours``, oldest first."""
    access.require_national(actor, "custody gaps")
    return FastJSON({"items": await read_queries.custody_gaps(con, older_than_hours,
                                                              limit=limit)})


@router.get("/v1/audit/unfated", response_model=Listing, responses=LIST_PROBLEMS)
async def unfated(actor: ActorDep, con: ReadConDep, limit: Limit = 1000) -> Response:
    """Units past expiry with no final fate (every unit must end transfused, discarded or
    fractionated), soonest expired first."""
    access.require_national(actor, "the unfated-units report")
    return FastJSON({"items": await read_queries.unfated_past_expiry(con, limit=limit)})


@router.get("/v1/audit/discards", response_model=Discards, responses=LIST_PROBLEMS)
async def discards(
    actor: ActorDep,
    con: ReadConDep,
    from_: FromQuery = None,
    to: ToQuery = None,
    site: IdentQuery = None,
    key: Annotated[str | None, Query(alias="actor", pattern=IDENT)] = None,
    reason: CodeQuery = None,
) -> Response:
    """Discards in ``[from, to)`` (default: the last 30 days) by reason, by site and by
    acting key, with each key's discard rate among the final fates it recorded, and by UTC
    day and reason."""
    access.require_national(actor, "the discard report")
    start, end = time_window(from_, to)
    return FastJSON(await read_queries.discards(con, start, end, site, key, reason))


@router.get("/v1/audit/late-entries", response_model=Listing, responses=LIST_PROBLEMS)
async def late_entries(
    actor: ActorDep, con: ReadConDep, from_: FromQuery = None, to: ToQuery = None,
    limit: Limit = 1000,
) -> Response:
    """Steps recorded more than the late-entry bound (72 h by default) after they happened,
    each with the ``late_entry_reason`` its envelope gave and ``hours_late``, by recording
    time: backdating never passes unseen."""
    access.require_national(actor, "the late-entry report")
    start, end = time_window(from_, to)
    return FastJSON({"items": await read_queries.late_entries(con, start, end, limit)})


@router.get("/v1/audit/lookbacks-overdue", response_model=Listing, responses=LIST_PROBLEMS)
async def lookbacks_overdue(actor: ActorDep, con: ReadConDep, limit: Limit = 1000) -> Response:
    """Open lookbacks past their deadline, most overdue first, each with its open items:
    units no holder has acknowledged and recipients not yet notified."""
    access.require_national(actor, "the overdue-lookback report")
    return FastJSON({"items": await read_queries.lookbacks_overdue(con, limit=limit)})


class ReactionCount(BaseModel):
    """Reactions of one type, severity and imputability; ``reaction_type`` is ``uncoded`` for
    the free-text types of old records."""

    reaction_type: str
    severity: str
    imputability: str
    count: int


class Haemovigilance(BaseModel):
    """The annual-report counts of a period (by when each reaction or transfusion happened;
    ``to`` exclusive): every reaction, the serious ones alone, and the units transfused for
    rates."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime | None = Field(alias="from")
    to: datetime | None
    units_transfused: int
    reactions_reported: int
    counts: list[ReactionCount]
    serious: list[ReactionCount]


class EmergencyIssue(BaseModel):
    unit_id: str
    site_id: str | None
    patient_id: str | None = Field(description="null when the key may not see it")
    issued_at: datetime
    crossmatch: Crossmatch | None
    crossmatched_at: datetime | None
    overdue: bool = Field(description="no crossmatch was recorded within the window after "
                                      "the issue (24 h by default)")


class EmergencyIssues(BaseModel):
    issues: list[EmergencyIssue]


class Override(BaseModel):
    kind: Literal["rhd_platelets", "late_completion"]
    unit_id: str
    site_id: str | None
    patient_id: str | None = Field(description="null when the key may not see it")
    at: datetime
    reason: str | None
    anti_d_prophylaxis: bool


class Overrides(BaseModel):
    overrides: list[Override]


@router.get("/v1/audit/haemovigilance", response_model=Haemovigilance,
            responses=LIST_PROBLEMS)
async def haemovigilance(
    actor: ActorDep, con: ReadConDep, catalogue: CatalogueDep, from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Reactions reported in ``[from, to)`` counted by type, severity and imputability (all,
    and the serious severities alone), with the units transfused in the period: the annual
    haemovigilance report. National keys count the whole country, a site key what its own
    site recorded. No patient ids."""
    site = access.own_site_scope(actor, "the haemovigilance report")
    start, end = time_window(from_, to)
    return FastJSON(await read_queries.haemovigilance(
        con, start, end, site, catalogue.patients.serious_severities))


@router.get("/v1/audit/emergency", response_model=EmergencyIssues, responses=LIST_PROBLEMS)
async def emergency(actor: ActorDep, con: ReadConDep, catalogue: CatalogueDep) -> Response:
    """Emergency (uncrossmatched) issues with no crossmatch recorded within the window after
    the issue (``overdue``), and those whose follow-up crossmatch was incompatible, oldest
    first. A site key sees its own site's issues."""
    site = access.own_site_scope(actor, "the emergency-issue audit")
    issues = await read_queries.emergency_issues(
        con, catalogue.patients.emergency_crossmatch_hours, site)
    await hide_patients(con, actor, issues)
    return FastJSON({"issues": issues})


@router.get("/v1/audit/overrides", response_model=Overrides, responses=LIST_PROBLEMS)
async def overrides(actor: ActorDep, con: ReadConDep) -> Response:
    """RhD-positive platelets issued with anti-D prophylaxis or an override reason
    (``rhd_platelets``), and transfusions completed after the 4-hour limit with their reason
    (``late_completion``), by time. A site key sees its own site's."""
    site = access.own_site_scope(actor, "the override audit")
    found = await read_queries.overrides(con, site)
    await hide_patients(con, actor, found)
    return FastJSON({"overrides": found})
