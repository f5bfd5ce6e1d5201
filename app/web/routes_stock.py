"""``/stock``: stock by site, category and group with expiry bands, days of cover, charts,
and near-expiry units with suggested transfers to short sites; ``/stock/fragment`` is the
part ``live.js`` fetches again when the change feed reports an event. National roles see
the whole network, site roles their own site, as ``/v1/stock`` allows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api import access
from app.api.deps import ReadConDep
from app.api.params import SiteQuery
from app.projections.stock_view import (
    GROUPS,
    available_by_group,
    cover_by_site,
    group_label,
    stock_rows,
    suggest_transfers,
)
from app.store import read_queries
from app.store.conn import Conn
from app.store.log_reader import head_position
from app.web.charts import columns, rows
from app.web.i18n import RTL
from app.web.labels import term
from app.web.shell import Person, PersonDep, render

router = APIRouter(include_in_schema=False)
NEAR_EXPIRY_HOURS = 72
COVER_WINDOW_DAYS = 30
COVER_CAP_DAYS = 14.0
"""The days-of-cover chart's scale: a longer cover is drawn to the end."""
COUNT_PAGE = 1
"""The stock read's FEFO page is not shown: the counts are."""


async def _stock(con: Conn, person: Person, asked: str | None) -> dict[str, Any]:
    site = access.stock_site(person.actor, asked)
    position = await head_position(con)
    stock = await read_queries.stock(con, site, limit=COUNT_PAGE)
    cover = await read_queries.inventory_index(con, window_days=COVER_WINDOW_DAYS, site=site)
    alerts = await read_queries.near_expiry(con, NEAR_EXPIRY_HOURS, site=site)
    table = stock_rows(stock["counts"])
    by_group = available_by_group(table, "red_cells")
    site_cover = cover_by_site(cover, "red_cells")
    rtl = person.lang in RTL
    return {
        "position": position, "table": table, "groups": [group_label(*g) for g in GROUPS],
        "transfers": suggest_transfers(alerts), "alerts": alerts, "site_scope": site,
        "group_chart": columns(list(by_group.items()), rtl=rtl),
        "cover_chart": rows([(c.site_id, c.days) for c in site_cover], cap=COVER_CAP_DAYS,
                            rtl=rtl),
        "site_cover": {c.site_id: c for c in site_cover}, "cover_cap": COVER_CAP_DAYS,
        "hours": NEAR_EXPIRY_HOURS, "term": term,
    }


@router.get("/stock")
async def stock_page(request: Request, person: PersonDep, con: ReadConDep,
                     site: SiteQuery = None) -> Response:
    """The network's stock (national roles; ``?site=`` one site), or the person's site's."""
    return await render(request, "stock.html", **await _stock(con, person, site))


@router.get("/stock/fragment")
async def stock_fragment(request: Request, person: PersonDep, con: ReadConDep,
                         site: SiteQuery = None) -> Response:
    """The live part of ``/stock``, as HTML."""
    return await render(request, "_stock_body.html", **await _stock(con, person, site))
