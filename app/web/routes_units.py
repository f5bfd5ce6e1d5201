"""``/units``: the scan box's look-up, and ``/units/{unit_id}``: one unit's status, holds,
expiry, tests, lineage graph, custody timeline and recipient or fate, with the verdict of
the verification in the browser. Reads go through the same views, access rules and
redaction as ``/v1/units`` (``app.api.unit_views``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from app.api.deps import ReadConDep, SettingsDep
from app.api.unit_views import donation_view, provenance_view, unit_view
from app.errors import DomainError
from app.web.i18n import RTL
from app.web.labels import term
from app.web.lineage import BOX_H, BOX_W, layout
from app.web.pinned import pinned_keys
from app.web.refusals import lookup_refusal
from app.web.scan import read_scan
from app.web.shell import PersonDep, render

router = APIRouter(include_in_schema=False)
ScanQuery = Annotated[str | None, Query(max_length=200)]


async def _refused(request: Request, error: DomainError, q: str = "") -> Response:
    found = lookup_refusal(error)
    if found is None:
        raise error
    message, rule, status = found
    return await render(request, "units_lookup.html", status=status, q=q, error=message,
                        rule=rule, components=[], term=term)


@router.get("/units")
async def look_up(request: Request, person: PersonDep, con: ReadConDep,
                  q: ScanQuery = None) -> Response:
    """What was scanned: a unit id opens its page; a DIN opens its only unit readable here,
    or lists them."""
    if not q or not q.strip():
        return await render(request, "units_lookup.html", q="", error=None, rule=None,
                            components=[], term=term)
    try:
        scanned = read_scan(q)
        if scanned.unit_id is not None:
            return RedirectResponse(f"/units/{quote(scanned.unit_id)}", status_code=303)
        donation = await donation_view(con, person.actor, scanned.din)
    except DomainError as error:
        return await _refused(request, error, q)
    components = donation["components"]
    if len(components) == 1:
        return RedirectResponse(f"/units/{quote(components[0]['unit_id'])}", status_code=303)
    return await render(request, "units_lookup.html", q=q, error=None, rule=None,
                        din=scanned.din, components=components, term=term)


@router.get("/units/{unit_id}")
async def unit_page(request: Request, unit_id: str, person: PersonDep, con: ReadConDep,
                    settings: SettingsDep) -> Response:
    try:
        unit = await unit_view(con, person.actor, unit_id)
        found = await provenance_view(con, person.actor, unit_id, settings.log_origin)
    except DomainError as error:
        return await _refused(request, error, unit_id)
    canonical = unit["unit_id"]
    if canonical != unit_id:
        return RedirectResponse(f"/units/{quote(canonical)}", status_code=303)
    lineage = found["lineage"]
    graph = layout(lineage["nodes"], lineage["edges"], canonical, rtl=person.lang in RTL)
    return await render(
        request, "unit.html", unit=unit, provenance=found, graph=graph, term=term,
        box_w=BOX_W, box_h=BOX_H,
        events=found["events"], custody=found["custody"], patients=found["patients"],
        expired=_expired(unit.get("expires_at")), unit_id=canonical,
        **(await pinned_keys(con, settings)).context())


def _expired(expires_at: Any) -> bool:
    if expires_at is None:
        return False
    when = datetime.fromisoformat(expires_at) if isinstance(expires_at, str) else expires_at
    return bool(when <= datetime.now(UTC))

