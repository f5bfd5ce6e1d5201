"""The stock page (WEB.md §2, page 2): by site, product and group with expiry bands and
days of cover, charts, near-expiry units with suggested transfers, live from the change
feed without a reload, on a desktop and on a phone."""

from __future__ import annotations

import uuid

from playwright.async_api import Page

from tests.web.conftest import PHONE, Pages, WebWorld


def group_of(abo: str, rhd: str) -> str:
    return f"{abo}{'+' if rhd == 'POS' else '-'}"


async def cell(page: Page, site: str, category: str, group: str) -> int:
    value = await page.locator(f"#stock-live tr[data-site='{site}'][data-category='{category}']"
                               f" td[data-group='{group}']").get_attribute("data-available")
    return int(value or 0)


async def test_the_stock_page_changes_without_reload_when_a_unit_is_discarded_elsewhere(
        pages: Pages, web: WebWorld) -> None:
    unit_id, site = web.units["in_stock"], web.unit_sites["in_stock"]
    assert site is not None
    with web.api("auditor") as api:
        unit = api.get(f"/v1/units/{unit_id}").json()
    category, group = unit["category"], group_of(unit["abo"], unit["rhd"])
    page = await pages.signed_in("auditor", "en")
    await page.goto(f"{web.base_url}/stock")
    await page.wait_for_selector("[data-live-status='live']")
    before = await cell(page, site, category, group)
    assert before >= 1
    chart = page.locator(f"svg.chart g[data-group='{group}']")
    chart_before = float(await chart.get_attribute("data-value") or 0)
    await page.evaluate("window.__sameDocument = 'yes'")
    await pages.shot(page, "before")
    with web.api("hospital", site) as api:
        recorded = api.post("/v1/events", json={
            "type": "UnitDiscarded", "event_id": str(uuid.uuid4()),
            "data": {"unit_id": unit_id, "reason": "damaged",
                     "note": "bag punctured (web test)"}})
    assert recorded.status_code in (200, 201), recorded.text
    await page.wait_for_function(
        "([sel, n]) => Number(document.querySelector(sel)?.dataset.available ?? 0) === n",
        arg=[f"#stock-live tr[data-site='{site}'][data-category='{category}'] "
             f"td[data-group='{group}']", before - 1])
    assert await page.evaluate("window.__sameDocument") == "yes"
    assert int(await page.locator("#stock-live").get_attribute("data-refreshes") or 0) >= 1
    if category == "red_cells":
        assert float(await chart.get_attribute("data-value") or 0) == chart_before - 1
    await pages.shot(page, "after")


async def test_the_stock_page_shows_charts_bands_and_suggested_transfers(
        pages: Pages, web: WebWorld) -> None:
    with web.api("auditor") as api:
        alerts = api.get("/v1/stock/near-expiry", params={"hours": 72}).json()["alerts"]
        counts = api.get("/v1/stock", params={"limit": 1}).json()["counts"]
    page = await pages.signed_in("auditor", "en")
    await page.goto(f"{web.base_url}/stock")
    held = sum(c["total"] for c in counts)
    shown = await page.locator("table.stock td[data-group]").evaluate_all(
        "els => els.reduce((n, e) => n + Number(e.dataset.total), 0)")
    assert shown == held
    assert await page.locator("svg.chart g[data-group]").count() == 8
    assert await page.locator("svg.chart g[data-cover-site]").count() >= 1
    assert await page.locator("tr[data-alert-site]").count() == len(alerts)
    with_short = [a for a in alerts if a["short_sites"]]
    suggested = await page.locator("[data-transfer-to]").evaluate_all(
        "els => els.map(e => e.dataset.transferTo)")
    assert {s for a in with_short for s in [a["short_sites"][0]["site_id"]]} <= set(suggested)
    assert (len(suggested) > 0) == bool(with_short)
    await pages.shot(page, "stock-en")
    async with page.expect_navigation():
        await page.locator("table.stock tr[data-site='H-DAM-01'] a").first.click()
    assert page.url == f"{web.base_url}/stock?site=H-DAM-01"
    assert set(await page.locator("table.stock tr[data-site]").evaluate_all(
        "els => els.map(e => e.dataset.site)")) == {"H-DAM-01"}
    await page.set_viewport_size(PHONE)
    await page.goto(f"{web.base_url}/stock")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def test_a_hospital_sees_its_own_stock_in_arabic_and_on_a_phone(
        pages: Pages, web: WebWorld) -> None:
    page = await pages.signed_in("hospital", "ar", site="H-DAM-01", viewport=PHONE)
    await page.goto(f"{web.base_url}/stock")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    sites = set(await page.locator("table.stock tr[data-site]").evaluate_all(
        "els => els.map(e => e.dataset.site)"))
    assert sites <= {"H-DAM-01"}
    heading = await page.locator("h1").inner_text()
    assert "H-DAM-01" not in heading and "مستشفى" in heading, heading
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide"
    await pages.shot(page, "stock-phone-ar")
    await page.goto(f"{web.base_url}/stock?lang=en")
    await page.set_viewport_size({"width": 1366, "height": 768})
    await pages.shot(page, "stock-hospital-en")
    other = await page.goto(f"{web.base_url}/stock?site=H-DAM-02")
    assert other is not None and other.status == 403
