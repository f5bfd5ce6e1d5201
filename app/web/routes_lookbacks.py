"""``/lookbacks``: a hospital's worklist (the units of open lookbacks it holds or received,
to acknowledge, and the recipients it must notify) and the blood bank's open lookbacks,
the overdue ones first. The same read services as ``GET /v1/lookbacks/{id}``: each
lookback as the person's site may see it (``app.api.access.lookback_view``). Closing a
lookback is signed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api import access
from app.api.deps import connection
from app.api.params import IDENT
from app.errors import Forbidden, LookbackNotFound
from app.events.messages import Actor
from app.store import read_queries
from app.web.i18n import N_
from app.web.shell import PersonDep
from app.web.workbench import FormPath, FormQuery, RecordedQuery, page, submit
from app.web.workbench_forms import LOOKBACK

router = APIRouter(include_in_schema=False)

TEMPLATE = "lookbacks/page.html"
TITLE = N_("Lookbacks")
SHOWN = 100
"""Open lookbacks read per page view, the nearest deadline first."""
IdQuery = Annotated[str | None, Query(max_length=64, pattern=IDENT)]


async def visible_lookbacks(request: Request, actor: Actor,
                            now: datetime | None = None) -> list[dict[str, Any]]:
    """The open lookbacks ``actor`` may see, each cut to the part its site may see, with
    ``overdue``; the overdue ones first."""
    now = now or datetime.now(UTC)
    shown: list[dict[str, Any]] = []
    async with connection(request.app.state.services.pool) as con:
        for lookback_id in await read_queries.open_lookback_ids(con, SHOWN):
            found = await read_queries.lookback(con, lookback_id)
            try:
                view = await access.lookback_view(con, actor, found, lookback_id)
            except (Forbidden, LookbackNotFound):  # not this site's, or closed meanwhile
                continue
            deadline = view.get("deadline")
            shown.append(view | {"overdue": deadline is not None and deadline < now})
    return sorted(shown, key=lambda v: (not v["overdue"], v.get("deadline") or now))


async def _context(request: Request, person: PersonDep) -> dict[str, Any]:
    lookbacks = await visible_lookbacks(request, person.actor)
    return {"title": TITLE, "lookbacks": lookbacks,
            "overdue": sum(1 for v in lookbacks if v["overdue"])}


@router.get("/lookbacks")
async def lookbacks(request: Request, person: PersonDep, form: FormQuery = None,
                    recorded: RecordedQuery = None, lookback_id: IdQuery = None,
                    unit_id: IdQuery = None, patient_id: IdQuery = None) -> Response:
    """The worklist; its links open a form for one lookback's unit (and recipient)."""
    return await page(request, person, TEMPLATE, "/lookbacks", LOOKBACK, form, recorded,
                      {"lookback_id": lookback_id, "unit_id": unit_id,
                       "patient_id": patient_id}, **await _context(request, person))


@router.post("/lookbacks/{name}")
async def lookback_step(request: Request, person: PersonDep, name: FormPath) -> Response:
    return await submit(request, person, TEMPLATE, "/lookbacks", LOOKBACK, name,
                        **await _context(request, person))
