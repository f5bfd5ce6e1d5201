"""The workbenches in the browser (WEB.md §2.3 to 2.5): a receipt by scanning and an
emergency issue from the hospital workbench, signed (a wrong password refused, the right
one recorded with its signature), then found in the unit's history; a refused step shown in
Arabic with its rule; the mobile collection form on a phone; the lookbacks worklist."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page

from app.events import isbt
from tests.web.conftest import PHONE, Pages, WebWorld
from tests.web.wb_support import (
    fetch_one,
    history,
    new_din,
    new_person,
    record,
    ship,
    sign_in,
    unit_at,
)

HOSPITAL = "H-DAM-01"
"""The demo hospital (the demo network has two banks, their hospitals and mobile units)."""


async def _submit(page: Page, form: str) -> None:
    async with page.expect_navigation():
        await page.click(f"#form-{form} button[type=submit]")


async def _recorded(page: Page, event_type: str) -> int:
    banner = page.locator(f".recorded[data-type={event_type}]")
    assert await banner.count() == 1, await page.content()
    return int(await banner.get_attribute("data-position") or 0)


async def test_a_receipt_by_scanning_and_a_signed_emergency_issue(
        pages: Pages, web: WebWorld) -> None:
    # O NEG red cells, what an emergency issue to a patient of unknown group may take,
    # sent on from another hospital of the network.
    unit = None
    for elsewhere in ("H-DAM-02", "H-DAM-03", "BB-DAM-01", "BB-RIF-01", "H-RIF-01"):
        unit = await unit_at(web, elsewhere, "red_cells", "O", "NEG")
        if unit is not None:
            break
    assert unit is not None, "the demo network holds no O NEG red cells outside H-DAM-01"
    shipment = ship(web, unit, elsewhere, HOSPITAL)
    user, password = new_person(web, "hospital", HOSPITAL)
    page = await sign_in(pages, user, password)
    await page.goto(f"{web.base_url}/hospital?form=receive")
    await page.fill("#f-shipment_id", shipment)
    await page.fill("#f-temp_dc", "40")
    din = isbt.din_of_unit(unit)
    # The scanner types the DIN with its check character, then Enter: the one unit of that
    # donation on its way here is the one received.
    await page.fill("#f-unit_id", din + isbt.check_character(din))
    async with page.expect_navigation():
        await page.press("#f-unit_id", "Enter")
    received = await _recorded(page, "UnitReceived")
    assert await page.get_attribute("a[data-unit-link]", "href") == f"/units/{unit}"
    assert await page.input_value("#f-shipment_id") == shipment, "the next scan's shipment"
    assert await page.evaluate("() => document.activeElement.id") == "f-unit_id"
    await pages.shot(page, "received")

    await page.goto(f"{web.base_url}/hospital?form=issue")
    await page.fill("#f-unit_id", unit)
    await page.fill("#f-patient_id", "PAT-WB-EMERG1")
    await page.check("#f-emergency")
    await page.fill("#f-justification", "massive haemorrhage, group unknown")
    await page.fill("#f-physician_id", "DR-WB-01")
    await page.fill("#sig-password-issue", "not my password at all")
    await _submit(page, "issue")
    alert = page.locator("#refusal")
    assert await alert.get_attribute("data-rule") == "signature-invalid"
    assert await page.get_attribute("#sig-password-issue", "aria-invalid") == "true"
    assert await page.input_value("#sig-password-issue") == "", "a password is never shown back"
    assert await page.input_value("#f-patient_id") == "PAT-WB-EMERG1"
    await pages.shot(page, "wrong-password")

    await page.fill("#sig-password-issue", password)
    await _submit(page, "issue")
    issued = await _recorded(page, "UnitIssued")
    assert issued > received
    assert await page.locator(".recorded [data-meaning], .recorded strong").count() >= 1
    await pages.shot(page, "issued")

    stored = {e["type"]: e for e in history(web, unit)}
    assert stored["UnitReceived"]["position"] == received
    event = stored["UnitIssued"]
    assert event["position"] == issued and event["actor"]["user_id"] == user
    assert event["data"]["emergency"] is True
    assert set(event["signature"]) == {"user_id", "meaning", "signed_at"}
    assert (event["signature"]["user_id"], event["signature"]["meaning"]) == (
        user, "emergency issue")

    async with page.expect_navigation():
        await page.click("a[data-unit-link]")
    assert page.url == f"{web.base_url}/units/{unit}"
    history_list = page.locator("#history-h + *, section[aria-labelledby=history-h]")
    assert await history_list.locator(
        f"li[data-position='{issued}'][data-type=UnitIssued]").count() == 1
    assert await history_list.locator(
        f"li[data-position='{received}'][data-type=UnitReceived]").count() == 1
    await pages.shot(page, "unit-history")


async def test_a_refused_step_shows_its_rule_in_arabic(pages: Pages, web: WebWorld) -> None:
    unit = await unit_at(web, HOSPITAL, "red_cells", "O", "POS")
    assert unit is not None
    page = await pages.signed_in("hospital", "ar", site=HOSPITAL)
    assert await page.locator("html").get_attribute("dir") == "rtl"
    await page.goto(f"{web.base_url}/hospital?form=group")
    taken = (datetime.now(ZoneInfo("Asia/Damascus")) - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M")  # the wall clock of the pages' zone
    await page.fill("#f-patient_id", "PAT-WB-AR0001")
    await page.fill("#f-sample_id", "S-WB-AR-1")
    await page.select_option("#f-abo", "A")
    await page.select_option("#f-rhd", "POS")
    await page.fill("#f-sample_collected_at", taken)
    await _submit(page, "group")
    await _recorded(page, "PatientGroupDetermined")

    await page.goto(f"{web.base_url}/hospital?form=reserve")
    await page.fill("#f-unit_id", unit)
    await page.fill("#f-patient_id", "PAT-WB-AR0001")
    await page.select_option("#f-patient_abo", "O")
    await page.select_option("#f-patient_rhd", "NEG")
    await page.select_option("#f-crossmatch", "compatible")
    await page.fill("#f-sample_id", "S-WB-AR-1")
    await _submit(page, "reserve")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    alert = page.locator("#refusal")
    assert await alert.get_attribute("data-rule") == "patient-group-mismatch"
    assert await alert.locator(".refusal-title").inner_text() == \
        "الزمرة المعطاة ليست زمرة المريض المسجّلة"
    assert await alert.locator("[data-rule-code]").inner_text() == "patient-group-mismatch"
    assert await page.get_attribute("#f-patient_abo", "aria-invalid") == "true", \
        await alert.inner_text()
    assert await page.locator(".field.fault").count() == 1
    await pages.shot(page, "refused-ar")
    assert not [e for e in history(web, unit) if e["type"] == "UnitReserved"]


async def _no_horizontal_overflow(page: Page) -> None:
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"


async def test_the_mobile_collection_form_works_on_a_phone(pages: Pages, web: WebWorld) -> None:
    site = "MU-DAM-01"
    donor = f"DNR-WB{new_din()[-6:]}"
    record(web, "admin", None, "DonorRegistered", {"donor_id": donor, "sex": "F",
                                                   "birth_year": 1992})
    user, password = new_person(web, "collector", site)
    page = await sign_in(pages, user, password, viewport=PHONE)
    await page.goto(f"{web.base_url}/bank?form=screen")
    await _no_horizontal_overflow(page)
    await page.fill("#f-donor_id", donor)
    await page.fill("#f-hb_g_l", "132")
    await page.select_option("#f-pass", "true")
    await _submit(page, "screen")
    await _recorded(page, "DonorScreened")

    await page.goto(f"{web.base_url}/bank?form=collect")
    await _no_horizontal_overflow(page)
    box = await page.locator("#form-collect button[type=submit]").bounding_box()
    assert box is not None and box["width"] >= PHONE["width"] * 0.7 and box["height"] >= 44
    din = new_din()
    await page.fill("#f-donor_id", donor)
    await page.select_option("#f-collection_type", "whole_blood")
    await page.select_option("#f-category", "whole_blood")
    await pages.shot(page, "collect-phone")
    await page.fill("#f-din", "=" + din + "00")  # the DIN's barcode, as scanned
    await _submit(page, "collect")
    position = await _recorded(page, "DonationCollected")
    await _no_horizontal_overflow(page)
    assert await page.get_attribute("a[data-unit-link]", "href") == f"/units/{din}-E0001V00"
    await pages.shot(page, "collected-phone")
    events = history(web, f"{din}-E0001V00")
    assert (events[0]["type"], events[0]["position"]) == ("DonationCollected", position)


async def test_the_lookbacks_worklist_and_a_signed_close(pages: Pages, web: WebWorld) -> None:
    # A unit transfused at the demo hospital, from a donation of the demo bank that has no
    # other live unit: the lookback quarantines nothing another test looks at.
    transfused = await fetch_one(web, """
        SELECT u.unit_id, u.din FROM rm_units u JOIN rm_donations d USING (din)
         WHERE u.fate = 'transfused' AND u.fate_site_id = $1 AND d.site_id = 'BB-DAM-01'
           AND NOT EXISTS (SELECT 1 FROM rm_units o WHERE o.din = u.din
                            AND o.fate IS NULL AND NOT o.consumed)
         ORDER BY u.unit_id LIMIT 1""", HOSPITAL)
    assert transfused is not None
    unit = str(transfused["unit_id"])
    with web.api("processing", "BB-DAM-01") as api:
        started = api.post("/v1/lookbacks", json={"din": transfused["din"], "marker": "HCV"})
    assert started.status_code == 201, started.text
    lookback_id = started.json()["lookback_id"]

    page = await pages.signed_in("hospital", site=HOSPITAL)
    await page.goto(f"{web.base_url}/lookbacks")
    card = page.locator(f"article[data-lookback='{lookback_id}']")
    assert await card.count() == 1, await page.content()
    await pages.shot(page, "worklist")
    row = card.locator(f"tr[data-unit='{unit}']")
    async with page.expect_navigation():
        await row.locator("a[href*='form=acknowledge']").click()
    assert await page.input_value("#f-lookback_id") == lookback_id
    assert await page.input_value("#f-unit_id") == unit
    await _submit(page, "acknowledge")
    await _recorded(page, "LookbackAcknowledged")
    assert await row.locator("a[href*='form=acknowledge']").count() == 0
    async with page.expect_navigation():
        await row.locator("a[href*='form=notify']").click()
    assert await page.input_value("#f-patient_id") != ""
    await _submit(page, "notify")
    await _recorded(page, "LookbackRecipientNotified")
    assert await row.locator("a").count() == 1  # only the unit's own link is left

    user, password = new_person(web, "processing", "BB-DAM-01")
    bank = await sign_in(pages, user, password)
    await bank.goto(f"{web.base_url}/lookbacks?form=close&lookback_id={lookback_id}")
    assert await bank.locator(f"article[data-lookback='{lookback_id}']").count() == 1
    # The bank sees the hospital's part, to follow it up, but acknowledges nothing it does
    # not hold.
    assert await bank.locator(f"tr[data-holder='{HOSPITAL}']").count() >= 1
    assert await bank.locator(f"tr[data-holder='{HOSPITAL}'] a[href*='form=']").count() == 0
    await bank.select_option("#f-outcome", "recipients_notified")
    await bank.fill("#sig-password-close", password)
    await pages.shot(bank, "close")
    await _submit(bank, "close")
    closed = await _recorded(bank, "LookbackClosed")
    assert await bank.locator(f"article[data-lookback='{lookback_id}']").count() == 0
    with web.api("auditor", None) as api:
        feed = api.get("/v1/events", params={"after": closed - 1, "limit": 1}).json()
    event = feed["events"][0]
    assert (event["position"], event["type"]) == (closed, "LookbackClosed")
    assert (event["signature"]["user_id"], event["signature"]["meaning"]) == (
        user, "close lookback")


async def test_reserve_issue_bedside_check_complete_and_a_reaction(
        pages: Pages, web: WebWorld) -> None:
    unit = await unit_at(web, HOSPITAL, "red_cells", "O", "POS")
    assert unit is not None
    patient = f"PAT-WB-{new_din()[-6:]}"
    page = await pages.signed_in("hospital", site=HOSPITAL)

    async def step(form: str, fill: dict[str, str], select: dict[str, str] | None = None,
                   check: tuple[str, ...] = ()) -> int:
        await page.goto(f"{web.base_url}/hospital?form={form}")
        for name, value in fill.items():
            await page.fill(f"#f-{name}", value)
        for name, value in (select or {}).items():
            await page.select_option(f"#f-{name}", value)
        for name in check:
            await page.check(f"#f-{name}")
        await _submit(page, form)
        form_type = await page.get_attribute(f"#form-{form}", "data-event-type")
        assert form_type is not None
        return await _recorded(page, form_type)

    taken = (datetime.now(ZoneInfo("Asia/Damascus")) - timedelta(minutes=30)).strftime(
        "%Y-%m-%dT%H:%M")
    await step("group", {"patient_id": patient, "sample_id": f"S-{patient}",
                         "sample_collected_at": taken}, {"abo": "O", "rhd": "POS"})
    await step("reserve", {"unit_id": unit, "patient_id": patient,
                           "sample_id": f"S-{patient}"},
               {"patient_abo": "O", "patient_rhd": "POS", "crossmatch": "compatible"})
    issued = await step("issue", {"unit_id": unit, "patient_id": patient, "ward": "ICU"})
    # At the bedside: the patient's wristband and the unit's label, both scanned.
    started = await step("start", {
        "unit_id": unit, "patient_id": patient,
        "bedside_check-wristband_scanned": patient,
        "bedside_check-unit_scanned": unit})
    done = await step("complete", {"unit_id": unit, "patient_id": patient,
                                   "volume_ml": "250"})
    reaction = await step("reaction", {"unit_id": unit, "patient_id": patient},
                          {"reaction_type": "fnhtr", "severity": "non_severe",
                           "imputability": "possible"})
    assert issued < started < done < reaction
    await pages.shot(page, "reaction")
    events = {e["type"]: e for e in history(web, unit)}
    assert events["UnitIssued"]["position"] == issued and "signature" not in events["UnitIssued"]
    assert events["TransfusionStarted"]["data"]["bedside_check"]["unit_scanned"] is True
    assert events["UnitTransfused"]["data"]["volume_ml"] == 250
    assert events["AdverseReactionReported"]["data"]["reaction_type"] == "fnhtr"


async def test_a_split_then_a_signed_release_at_the_blood_bank(
        pages: Pages, web: WebWorld) -> None:
    bank, din = "BB-DAM-01", new_din()
    donor = f"DNR-WB{din[-6:]}"
    record(web, "admin", None, "DonorRegistered", {"donor_id": donor, "sex": "M",
                                                   "birth_year": 1985})
    record(web, "collector", bank, "DonorScreened", {"donor_id": donor, "site_id": bank,
                                                     "hb_g_l": 150, "pass": True})
    record(web, "collector", bank, "DonationCollected", {
        "din": din, "donor_id": donor, "site_id": bank, "collection_type": "whole_blood",
        "product_code": "E0001V00", "category": "whole_blood", "volume_ml": 450})
    user, password = new_person(web, "processing", bank)
    page = await sign_in(pages, user, password)

    await page.goto(f"{web.base_url}/bank?form=split")
    await page.fill("#f-unit_id", din + isbt.check_character(din))  # the one unit of it
    for row, (code, category, volume) in enumerate((("E0398V00", "red_cells", "280"),
                                                    ("E2555V00", "plasma", "220"))):
        await page.fill(f"#f-components-{row}-product_code", code)
        await page.select_option(f"#f-components-{row}-category", category)
        await page.fill(f"#f-components-{row}-volume_ml", volume)
    await _submit(page, "split")
    await _recorded(page, "UnitSplit")
    red = f"{din}-E0398V00"
    for marker, result in (("HIV", "non_reactive"), ("HBV", "non_reactive"),
                           ("HCV", "non_reactive"), ("SYPHILIS", "non_reactive"),
                           ("ABO", "O"), ("RHD", "POS")):
        record(web, "lab", "LAB-DAM-01", "TestResultRecorded", {
            "din": din, "marker": marker, "result": result, "lab_site_id": "LAB-DAM-01"})

    await page.goto(f"{web.base_url}/bank?form=release")
    assert await page.get_attribute("#form-release [data-meaning]", "data-meaning") == "release"
    await page.fill("#f-unit_id", red)
    await _submit(page, "release")
    assert await page.get_attribute("#refusal", "data-rule") == "signature-required"
    assert await page.get_attribute("#sig-password-release", "aria-invalid") == "true"
    await page.fill("#sig-password-release", password)
    await _submit(page, "release")
    released = await _recorded(page, "UnitReleased")
    await pages.shot(page, "released")
    event = {e["type"]: e for e in history(web, red)}["UnitReleased"]
    assert event["position"] == released
    assert (event["signature"]["user_id"], event["signature"]["meaning"]) == (user, "release")
    assert password not in str(event)


async def test_the_bank_sees_an_overdue_lookback_first(pages: Pages, web: WebWorld) -> None:
    # A lookback recorded late (started four days ago, past its three-day deadline), on a
    # donation whose units all met their fate before then.
    old = await fetch_one(web, """
        SELECT u.din FROM rm_units u JOIN rm_donations d USING (din)
         WHERE d.site_id = 'BB-DAM-01' AND u.fate = 'transfused'
           AND NOT EXISTS (SELECT 1 FROM rm_units o WHERE o.din = u.din
                            AND (o.last_at > now() - interval '5 days'
                                 OR (o.fate IS NULL AND NOT o.consumed)))
           AND NOT EXISTS (SELECT 1 FROM rm_lookbacks l WHERE l.din = u.din)
         ORDER BY u.din DESC LIMIT 1""")
    assert old is not None
    started_at = (datetime.now(ZoneInfo("UTC")) - timedelta(days=4)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    with web.api("processing", "BB-DAM-01") as api:
        started = api.post("/v1/lookbacks", json={
            "din": old["din"], "marker": "HBV", "occurred_at": started_at,
            "late_entry_reason": "the lab's notice was found in the post"})
    assert started.status_code == 201, started.text
    lookback_id = started.json()["lookback_id"]
    user, password = new_person(web, "processing", "BB-DAM-01")
    page = await sign_in(pages, user, password, lang="ar")
    await page.goto(f"{web.base_url}/lookbacks")
    first = page.locator("article.lookback").first
    assert await first.get_attribute("data-lookback") == lookback_id
    assert "overdue" in (await first.get_attribute("class") or "")
    assert await page.locator("h2 .badge.bad").count() == 1
    await pages.shot(page, "overdue-ar")
