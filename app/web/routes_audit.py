"""``/audit`` (WEB.md §2.6), for auditors and the national directorate: the log's integrity
(checked in the browser by ``verify.js``), custody gaps and unfated units, discards by reason,
site and person with a chart over time, emergency issues, overrides and late entries; and
``/audit/<view>.csv``, each view as CSV.

Every figure comes from the audit read services the ``/v1/audit/...`` routes answer from, with
the same defaults, so a download and the API agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api import access
from app.api.deps import CatalogueDep, ReadConDep, SettingsDep
from app.api.redact import hide_patients
from app.errors import Forbidden, InvalidInput
from app.events.catalogue import Catalogue
from app.events.messages import Actor
from app.store import read_queries
from app.store.checkpoint_store import recent_checkpoints
from app.store.conn import Conn
from app.web.audit_views import COLUMNS, DISCARD_VIEWS, csv_text, discard_chart
from app.web.i18n import RTL
from app.web.labels import term
from app.web.pinned import pinned_keys
from app.web.shell import PersonDep, render

router = APIRouter(include_in_schema=False)

DAYS: Final = 30
"""The default period: the last 30 days, as the API's discard report."""
GAP_HOURS: Final = 24
LIMIT: Final = 1000
SHOWN: Final = 50
"""Rows a table shows on the page; the CSV holds them all."""
DateQuery = Annotated[date | None, Query(description="YYYY-MM-DD, UTC")]
View = Annotated[str, Path(pattern=r"^[a-z-]{1,40}$")]


def period(start: date | None, end: date | None, today: date | None = None) -> tuple[
        datetime, datetime]:
    """``[from 00:00 UTC, the day after to 00:00 UTC)``: the form's days, both included."""
    last = end or today or datetime.now(UTC).date()
    first = start or last - timedelta(days=DAYS - 1)
    if first > last:
        raise InvalidInput("the period starts after it ends", field="from")
    return (datetime.combine(first, time(), UTC),
            datetime.combine(last + timedelta(days=1), time(), UTC))


async def read_view(con: Conn, actor: Actor, catalogue: Catalogue, view: str,
                    start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One view's rows, from the same read as its ``/v1/audit`` route."""
    if view == "custody-gaps":
        return await read_queries.custody_gaps(con, GAP_HOURS, limit=LIMIT)
    if view == "unfated":
        return await read_queries.unfated_past_expiry(con, limit=LIMIT)
    if view in DISCARD_VIEWS:
        found = await read_queries.discards(con, start, end)
        rows: list[dict[str, Any]] = found[view.replace("discards-", "").replace("-", "_")]
        return rows
    if view == "emergency":
        issues = await read_queries.emergency_issues(
            con, catalogue.patients.emergency_crossmatch_hours, None)
        await hide_patients(con, actor, issues)
        return issues
    if view == "overrides":
        found_overrides = await read_queries.overrides(con, None)
        await hide_patients(con, actor, found_overrides)
        return found_overrides
    if view == "late-entries":
        return await read_queries.late_entries(con, start, end, LIMIT)
    raise InvalidInput(f"no audit view {view!r}", field="view")


@router.get("/audit")
async def audit(request: Request, person: PersonDep, con: ReadConDep, settings: SettingsDep,
                catalogue: CatalogueDep,
                from_: Annotated[date | None, Query(alias="from")] = None,
                to: DateQuery = None) -> Response:
    if not access.reads_everything(person.actor):  # the rule of /v1/audit, said in a page
        return await render(request, "audit_refused.html", status=403, rule=Forbidden.rule)
    start, end = period(from_, to)
    discards = await read_queries.discards(con, start, end)
    views = {view: await read_view(con, person.actor, catalogue, view, start, end)
             for view in COLUMNS if view not in DISCARD_VIEWS}
    views |= {view: discards[view.replace("discards-", "").replace("-", "_")]
              for view in DISCARD_VIEWS}
    checkpoints = await recent_checkpoints(con, settings.log_origin, 20)
    pinned = await pinned_keys(con, settings)
    query = f"from={start.date().isoformat()}&to={(end - timedelta(days=1)).date().isoformat()}"
    return await render(
        request, "audit.html", views=views, columns=COLUMNS, shown=SHOWN,
        chart=discard_chart(discards["by_day"], start, end, rtl=person.lang in RTL), start=start,
        last_day=(end - timedelta(days=1)).date(), period_query=query,
        checkpoints=checkpoints, witnesses=settings.witnesses, term=term, **pinned.context())


@router.get("/audit/{view}.csv")
async def audit_csv(person: PersonDep, con: ReadConDep, catalogue: CatalogueDep, view: View,
                    from_: Annotated[date | None, Query(alias="from")] = None,
                    to: DateQuery = None) -> Response:
    access.require_national(person.actor, "the audit page")
    if view not in COLUMNS:
        raise InvalidInput(f"no audit view {view!r}", field="view")
    start, end = period(from_, to)
    rows = await read_view(con, person.actor, catalogue, view, start, end)
    name = f"bloodtrace-{view}-{start.date().isoformat()}-{(end - timedelta(days=1)).date()}"
    return Response(csv_text(view, rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}.csv"',
        "Cache-Control": "no-store"})
