"""Fixtures of the workbench browser tests: units found in (or put into) the state a form
needs, on the demo network of ``tests.web.conftest``, through the API as its demo keys."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from playwright.async_api import Page

from tests.web.conftest import Pages, WebWorld


async def fetch_one(web: WebWorld, sql: str, *args: Any) -> asyncpg.Record | None:
    con = await asyncpg.connect(web.database_url)
    try:
        return await con.fetchrow(sql, *args)
    finally:
        await con.close()


def record(web: WebWorld, role: str, site: str | None, type_: str,
           data: dict[str, Any]) -> dict[str, Any]:
    """Record one step through the API as the demo key of (role, site)."""
    with web.api(role, site) as api:
        response = api.post("/v1/events", json={"type": type_, "data": data})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def ship(web: WebWorld, unit_id: str, frm: str, to: str) -> str:
    """``unit_id`` shipped from ``frm`` to ``to`` (by the admin's key, which acts for any
    site); the shipment id."""
    shipment = f"SHP-WB-{uuid.uuid4().hex[:10].upper()}"
    record(web, "admin", None, "UnitShipped", {
        "unit_id": unit_id, "from_site_id": frm, "to_site_id": to, "shipment_id": shipment})
    return shipment


def history(web: WebWorld, unit_id: str) -> list[dict[str, Any]]:
    """The unit's events as the auditor reads them."""
    with web.api("auditor", None) as api:
        response = api.get(f"/v1/units/{unit_id}/history")
    assert response.status_code == 200, response.text
    body = response.json()
    events: list[dict[str, Any]] = body["events"] if isinstance(body, dict) else body
    return events


def new_din() -> str:
    """A DIN no donation of the demo network has (facility A9999, year 26)."""
    return f"A999926{uuid.uuid4().int % 10**6:06d}"


def new_person(web: WebWorld, role: str, site: str | None) -> tuple[str, str]:
    """An account of its own for a test (a wrong password typed on purpose counts against
    no demo person's lock): (user id, password)."""
    user = f"wb-{role}-{uuid.uuid4().hex[:8]}"
    with web.api("admin", None) as api:
        response = api.post("/v1/users", json={"user_id": user, "role": role,
                                               "site_id": site, "name": f"Test {role}"})
    assert response.status_code == 201, response.text
    return user, str(response.json()["password"])


async def sign_in(pages: Pages, user: str, password: str, lang: str = "en",
                  viewport: dict[str, int] | None = None) -> Page:
    """A page signed in as ``user``, showing the home page."""
    page = await pages.new(lang, viewport)
    await page.goto(f"{pages.web.base_url}/signin?lang={lang}")
    await page.fill("#user", user)
    await page.fill("#password", password)
    async with page.expect_navigation():
        await page.click("form.stack button[type=submit]")
    assert page.url == f"{pages.web.base_url}/", page.url
    return page


async def unit_at(web: WebWorld, site: str, category: str, abo: str, rhd: str) -> str | None:
    """A released, unheld, unreserved unit in stock at ``site``, in date for days yet."""
    row = await fetch_one(web, """
        SELECT unit_id FROM rm_units WHERE custodian_site_id = $1 AND released AND in_stock
           AND NOT quarantined AND in_transit_to IS NULL AND category = $2 AND abo = $3
           AND rhd = $4 AND fate IS NULL AND reserved_patient_id IS NULL
           AND intended_use = 'allogeneic' AND expires_at > now() + interval '3 days'
         ORDER BY unit_id DESC LIMIT 1""", site, category, abo, rhd)
    return None if row is None else str(row["unit_id"])
