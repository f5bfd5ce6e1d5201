"""The unit page (WEB.md §2, page 1): looked up by what a scanner types, in Arabic and
English, with status, holds, expiry, tests, lineage, custody, history and fate, under the
same read scope as ``/v1/units``."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Page

from app.events import isbt
from tests.web.conftest import PHONE, Pages, WebWorld

ARABIC = re.compile(r"[\u0600-\u06FF]")
ARABIC_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس",
                 "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")


async def scan(page: Page, text: str) -> None:
    """Type into the scan box and press Enter, as a barcode scanner does."""
    await page.fill("#scan-q", text)
    async with page.expect_navigation():
        await page.press("#scan-q", "Enter")


async def test_a_unit_id_with_its_check_character_opens_the_unit_in_arabic(
        pages: Pages, web: WebWorld) -> None:
    unit = web.units["transfused"]
    din, product = unit.split("-", 1)
    page = await pages.signed_in("hospital", "ar", site="H-DAM-01")
    await scan(page, f"{din}{isbt.check_character(din)}-{product}")
    assert page.url == f"{web.base_url}/units/{unit}"
    html = page.locator("html")
    assert (await html.get_attribute("dir"), await html.get_attribute("lang")) == ("rtl", "ar")
    held_by = await page.locator("[data-custodian]").inner_text()
    assert ARABIC.search(held_by) and "H-DAM-01" not in held_by, held_by
    fate = await page.locator("[data-fate]").inner_text()
    assert "نُقلت للمريض" in fate
    assert any(month in fate for month in ARABIC_MONTHS), fate
    assert await page.locator("[data-verify-unit]").get_attribute("data-verify-unit") == unit
    await pages.shot(page, "unit-ar")


async def test_a_scanned_din_barcode_lists_the_donation_units_or_opens_the_only_one(
        pages: Pages, web: WebWorld) -> None:
    unit = web.units["split_parent"]
    page = await pages.signed_in("auditor", "en")
    await scan(page, isbt.barcode(isbt.din_of_unit(unit)))
    links = await page.locator("ul.components a").all_inner_texts()
    assert unit in links and len(links) >= 3
    async with page.expect_navigation():
        await page.click(f"ul.components a:text-is('{unit}')")
    assert page.url == f"{web.base_url}/units/{unit}"


async def test_the_unit_page_shows_status_lineage_custody_history_and_fate(
        pages: Pages, web: WebWorld) -> None:
    unit = web.units["transfused"]
    page = await pages.signed_in("auditor", "en")
    await page.goto(f"{web.base_url}/units/{unit}")
    assert await page.locator("[data-status]").get_attribute("data-status") == "transfused"
    assert await page.locator("[data-fate]").get_attribute("data-fate") == "transfused"
    assert (await page.locator("[data-recipient]").inner_text()).startswith("PAT-")
    boxes = page.locator("svg.lineage a[data-unit]")
    assert await boxes.count() >= 2
    assert unit in await boxes.evaluate_all("els => els.map(e => e.dataset.unit)")
    assert await page.locator(f"svg.lineage path[data-child='{unit}']").count() == 1
    types = await page.locator("ol.events li").evaluate_all(
        "els => els.map(e => e.dataset.type)")
    assert types[-1] == "UnitTransfused" and "UnitReceived" in types
    assert await page.locator("ol.custody li").count() >= 3
    assert await page.locator("tr[data-marker]").count() >= 4
    await pages.shot(page, "unit-en")
    din, product = unit.split("-", 1)
    await page.goto(f"{web.base_url}/units/{isbt.barcode(din)}-{product}")
    assert page.url == f"{web.base_url}/units/{unit}"
    parent = await page.locator(f"svg.lineage a[data-unit]:not([data-unit='{unit}'])").first \
        .get_attribute("data-unit")
    async with page.expect_navigation():
        await page.locator(f"svg.lineage a[data-unit='{parent}']").click()
    assert page.url == f"{web.base_url}/units/{parent}"


async def test_a_wrong_check_character_is_named_in_both_languages(pages: Pages,
                                                                  web: WebWorld) -> None:
    din = isbt.din_of_unit(web.units["transfused"])
    wrong = next(c for c in "0123456789" if c != isbt.check_character(din))
    for lang, words in (("en", "check character"), ("ar", "حرف التحقق")):
        page = await pages.signed_in("hospital", lang, site="H-DAM-01")
        await scan(page, din + wrong)
        alert = page.locator("[role=alert]")
        assert await alert.get_attribute("data-rule") == "din-check-character"
        assert words in await alert.inner_text()
        await pages.shot(page, f"check-character-{lang}")
    await scan(page, "NOT-A-UNIT")
    assert await page.locator("[role=alert]").get_attribute("data-rule") in (
        "invalid-unit-id", "invalid-din", "invalid-product-code")


async def test_a_hospital_sees_neither_another_sites_unit_nor_its_patient(
        pages: Pages, web: WebWorld) -> None:
    unit = web.units["transfused"]
    assert web.unit_sites["transfused"] == "H-DAM-01"
    own = await pages.signed_in("hospital", "en", site="H-DAM-01")
    await own.goto(f"{web.base_url}/units/{unit}")
    patient = await own.locator("[data-recipient]").inner_text()
    assert patient.startswith("PAT-")
    other = await pages.signed_in("hospital", "en", site="H-DAM-02")
    response = await other.goto(f"{web.base_url}/units/{unit}")
    assert response is not None and response.status == 403
    assert await other.locator("[role=alert]").get_attribute("data-rule") == "site-scope"
    assert patient not in await other.content()
    # The lab that tested the donation reads the unit, but not whom it was given to.
    lab = await pages.signed_in("lab", "en", site="LAB-DAM-01")
    await lab.goto(f"{web.base_url}/units/{unit}")
    assert await lab.locator("[data-status]").get_attribute("data-status") == "transfused"
    assert patient not in await lab.content()
    await pages.shot(lab, "lab-view")


async def test_the_unit_page_is_usable_on_a_phone(pages: Pages, web: WebWorld) -> None:
    unit = web.units["split_parent"]
    for lang in ("en", "ar"):
        page = await pages.signed_in("auditor", lang, viewport=PHONE)
        await page.goto(f"{web.base_url}/units/{unit}")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{lang}: the page is {width}px wide"
        box = await page.locator("#scan-q").bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]
        await page.focus("#scan-q")
        await page.keyboard.type(unit)
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert page.url == f"{web.base_url}/units/{unit}"
        await pages.shot(page, f"unit-phone-{lang}")


async def test_a_hold_recorded_elsewhere_shows_with_its_rule_in_arabic(pages: Pages,
                                                                       web: WebWorld) -> None:
    unit, site = web.units["to_hold"], web.unit_sites["to_hold"]
    with web.api("hospital", site) as api:
        recorded = api.post("/v1/events", json={
            "type": "UnitQuarantined", "event_id": str(uuid.uuid4()),
            "data": {"unit_id": unit, "cause": "temperature",
                     "reason": "fridge alarm 7.9 C (web test)"}})
    assert recorded.status_code in (200, 201), recorded.text
    page = await pages.signed_in("hospital", "ar", site=site)
    await page.goto(f"{web.base_url}/units/{unit}")
    assert await page.locator("[data-status]").get_attribute("data-status") == "quarantined"
    hold = page.locator("li[data-hold-cause='temperature']")
    text = await hold.inner_text()
    assert "الحرارة" in text and "temperature" in text and "fridge alarm" in text
    assert "UnitQuarantined" in await page.locator("ol.events li").evaluate_all(
        "els => els.map(e => e.dataset.type)")
    await pages.shot(page, "held-ar")
