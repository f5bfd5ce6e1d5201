"""Stock: counts with expiry buckets and a FEFO list; near-expiry alerts; inventory index."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from app.api import access
from app.api.deps import ActorDep, ReadConDep
from app.api.params import (
    AboQuery,
    AttributeQuery,
    ProductCodeQuery,
    RhdQuery,
    SiteQuery,
    UnitCursorQuery,
)
from app.api.responses import LIST_PROBLEMS, FastJSON, Row
from app.events import isbt
from app.events.catalogue import Category
from app.store import read_queries

router = APIRouter(tags=["stock"])

CategoryQuery = Annotated[Category | None, Query()]
StockStatus = Literal["unreleased", "quarantined", "released", "reserved", "issued"]


class StockPage(BaseModel):
    """Counts by site, category, product code, ABO/RhD and status with expiry buckets
    (``expired``, ``within_24h``, ``within_72h``, ``within_7d``), and one page of units in
    FEFO order. A modified product (irradiated, washed, thawed...) is counted under its own
    product code."""

    counts: list[Row]
    units: list[Row]
    next_after: str | None


class Alerts(BaseModel):
    alerts: list[Row]


class Cover(BaseModel):
    cover: list[Row]


def _groups(abo: str | None, rhd: str | None) -> tuple[str | None, str | None]:
    return (isbt.parse_abo(abo) if abo is not None else None,
            isbt.parse_rhd(rhd) if rhd is not None else None)


@router.get("/v1/stock", response_model=StockPage, responses=LIST_PROBLEMS)
async def read_stock(
    actor: ActorDep,
    con: ReadConDep,
    site: SiteQuery = None,
    category: CategoryQuery = None,
    abo: AboQuery = None,
    rhd: RhdQuery = None,
    expiring_within_hours: Annotated[int | None, Query(ge=0, le=24 * 400)] = None,
    status: Annotated[StockStatus | None, Query()] = None,
    product_code: ProductCodeQuery = None,
    attribute: AttributeQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: UnitCursorQuery = None,
) -> Response:
    """Units held in stock (not in transit, not consumed, no final fate): counts and a FEFO
    page (first to expire first). Site keys see their own site's stock."""
    abo_, rhd_ = _groups(abo, rhd)
    return FastJSON(await read_queries.stock(
        con, access.stock_site(actor, site), category, abo_, rhd_, expiring_within_hours,
        limit, after, status=status,
        product_code=isbt.parse_product_code(product_code) if product_code else None,
        attribute=attribute))


@router.get("/v1/stock/near-expiry", response_model=Alerts, responses=LIST_PROBLEMS)
async def read_near_expiry(
    actor: ActorDep,
    con: ReadConDep,
    hours: Annotated[int, Query(ge=1, le=24 * 30)] = 72,
    site: SiteQuery = None,
) -> Response:
    """Released units expiring within ``hours``, by site, category and group, each with the
    other sites short of that group (where the units could still be used)."""
    alerts = await read_queries.near_expiry(con, hours, site=access.stock_site(actor, site))
    return FastJSON({"alerts": alerts})


@router.get("/v1/stock/cover", response_model=Cover, responses=LIST_PROBLEMS)
async def read_cover(
    actor: ActorDep,
    con: ReadConDep,
    site: SiteQuery = None,
    category: CategoryQuery = None,
    abo: AboQuery = None,
    rhd: RhdQuery = None,
    window_days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> Response:
    """The inventory index: usable stock ÷ average daily use over ``window_days``
    (``index_days`` is null when nothing was used)."""
    abo_, rhd_ = _groups(abo, rhd)
    cover = await read_queries.inventory_index(
        con, window_days=window_days, site=access.stock_site(actor, site), category=category,
        abo=abo_, rhd=rhd_)
    return FastJSON({"cover": cover})
