"""The audit page (WEB.md §2.6) on a network whose checkpoints a real witness cosigns: the
latest checkpoint and its cosignature checked in the browser, consistency between two real
checkpoints checked in the browser (and refused when the proof is altered in flight), the
discard chart, and every view's CSV download giving the API's figures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page

from tests.web.conftest import PHONE, Pages
from tests.web.vfy_fixtures import vfy_network, vfy_pages
from tests.web.vfy_support import VerifyNetwork, alter_json, flip_base64, verdict

__all__ = ["vfy_network", "vfy_pages"]

LATEST = "[data-verify-checkpoint] [data-verdict]"
CONSISTENCY = "[data-verify-consistency] [data-verdict]"


async def _audit(vfy_pages: Pages, lang: str = "en") -> Page:
    page = await vfy_pages.signed_in("auditor", lang=lang)
    await page.goto(f"{vfy_pages.web.base_url}/audit?lang={lang}")
    return page


def _sizes(network: VerifyNetwork) -> list[int]:
    listed = httpx.get(f"{network.base_url}/v1/checkpoints").json()["checkpoints"]
    return [c["size"] for c in listed]


async def _check_consistency(page: Page, older: int, newer: int) -> dict[str, str | None]:
    form = page.locator("[data-verify-consistency] form")
    await form.locator("input[name=from_size]").fill(str(older))
    await form.locator("input[name=to_size]").fill(str(newer))
    await form.locator("button[type=submit]").click()
    return await verdict(page, CONSISTENCY)


async def test_the_latest_checkpoint_and_its_witness_are_checked_in_arabic(
        vfy_pages: Pages, vfy_network: VerifyNetwork):
    page = await _audit(vfy_pages, "ar")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    result = await verdict(page, LATEST)
    size = _sizes(vfy_network)[0]
    assert result["state"] == "ok", result
    assert result["text"] == f"تم التحقق من نقطة التدقيق {size:,}، الموقّعة من bloodtrace.test/vfy."
    witness = page.locator("[data-verify-checkpoint] [data-witnesses] li")
    assert await witness.count() == 1
    assert await witness.get_attribute("data-witness") == "directorate.example/w"
    assert await witness.get_attribute("data-cosignature") == "ok"
    assert "تم التحقق من التوقيع المشترك" in (await witness.text_content() or "")
    assert await page.locator("[data-verify-checkpoint]").get_attribute("data-witnessed") == \
        "true"
    await vfy_pages.shot(page, "integrity-ar", full_page=False)


async def test_a_forged_cosignature_fails_the_checkpoint(vfy_pages: Pages,
                                                         vfy_network: VerifyNetwork):
    page = await vfy_pages.signed_in("auditor", lang="en")

    async def forge(route: Any) -> None:
        response = await route.fetch()
        lines = (await response.text()).split("\n")
        for i, line in enumerate(lines):
            if line.startswith("\u2014 directorate.example/w "):
                head, blob = line.rsplit(" ", 1)
                lines[i] = f"{head} {flip_base64(blob, 40)}"
        await route.fulfill(response=response, body="\n".join(lines))

    await page.route("**/v1/checkpoints/latest/note", forge)
    await page.goto(f"{vfy_network.base_url}/audit")
    result = await verdict(page, LATEST)
    assert (result["state"], result["at"]) == ("failed", "checkpoint"), result
    assert "directorate.example/w: cosignature does not verify" in result["text"]
    bad = page.locator("[data-witnesses] li[data-cosignature='bad']")
    assert await bad.count() == 1


async def test_consistency_between_two_real_checkpoints(vfy_pages: Pages,
                                                        vfy_network: VerifyNetwork):
    sizes = _sizes(vfy_network)
    assert len(sizes) >= 3
    page = await _audit(vfy_pages)
    for older, newer in ((sizes[-1], sizes[0]), (sizes[-2], sizes[1]), (sizes[1], sizes[1])):
        result = await _check_consistency(page, older, newer)
        assert result["state"] == "ok", (older, newer, result)
        assert result["text"] == (f"Checkpoint {newer:,} extends checkpoint {older:,}: "
                                  "verified in your browser.")
    await vfy_pages.shot(page, "consistency-ok", full_page=False)
    result = await _check_consistency(page, sizes[0], sizes[-1])  # backwards: no such proof
    assert (result["state"], result["at"]) == ("failed", "consistency"), result
    assert "no consistency proof exists" in result["text"]
    result = await _check_consistency(page, sizes[-1] + 1, sizes[0])  # not a checkpoint
    assert (result["state"], result["at"]) == ("failed", "fetch"), result


async def test_an_altered_consistency_proof_fails(vfy_pages: Pages, vfy_network: VerifyNetwork):
    sizes = _sizes(vfy_network)
    page = await _audit(vfy_pages)
    for byte in (0, 31):
        await page.unroute("**/v1/proofs/consistency**")

        def flip(answer: dict[str, Any], byte: int = byte) -> None:
            answer["proof"][-1] = flip_base64(answer["proof"][-1], byte)

        await alter_json(page, "**/v1/proofs/consistency**", flip)
        result = await _check_consistency(page, sizes[-1], sizes[0])
        assert (result["state"], result["at"]) == ("failed", "consistency"), result
        assert "Consistency check failed" in result["text"]
    await page.unroute("**/v1/proofs/consistency**")

    def shorten(answer: dict[str, Any]) -> None:
        answer["proof"].pop()

    await alter_json(page, "**/v1/proofs/consistency**", shorten)
    result = await _check_consistency(page, sizes[-1], sizes[0])
    assert (result["state"], result["at"]) == ("failed", "consistency"), result
    await page.unroute("**/v1/proofs/consistency**")

    def other_root(checkpoint: dict[str, Any]) -> None:  # the server's roots are never used
        checkpoint["root"] = flip_base64(checkpoint["root"])

    await alter_json(page, "**/v1/checkpoints/*", other_root)
    result = await _check_consistency(page, sizes[-1], sizes[0])
    assert result["state"] == "ok", result
    await vfy_pages.shot(page, "consistency-altered", full_page=False)


# --- the views and their CSV -------------------------------------------------------------------


def _api_rows(network: VerifyNetwork, view: str, period: dict[str, str]) -> list[dict[str, Any]]:
    headers = network.auth
    base = f"{network.base_url}/v1/audit"
    if view.startswith("discards-"):
        body = httpx.get(f"{base}/discards", params=period, headers=headers).json()
        rows: list[dict[str, Any]] = body[view.removeprefix("discards-").replace("-", "_")]
        return rows
    path, key = {"custody-gaps": ("custody-gaps", "items"), "unfated": ("unfated", "items"),
                 "emergency": ("emergency", "issues"), "overrides": ("overrides", "overrides"),
                 "late-entries": ("late-entries", "items")}[view]
    params = period if view == "late-entries" else {}
    answer = httpx.get(f"{base}/{path}", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()[key]
    return found


def _same(cell: str, value: Any) -> bool:
    """A CSV cell and the API's JSON value are the same figure."""
    if value is None:
        return cell == ""
    if isinstance(value, bool):
        return cell == str(value).lower()
    if isinstance(value, int | float):
        return float(cell) == value
    if isinstance(value, str):
        return cell in (value, "'" + value)  # a leading apostrophe disarms a formula
    return False


VIEWS = ("custody-gaps", "unfated", "discards-by-reason", "discards-by-site",
         "discards-by-actor", "discards-by-day", "emergency", "overrides", "late-entries")


async def test_every_csv_download_gives_the_api_figures(vfy_pages: Pages,
                                                        vfy_network: VerifyNetwork):
    page = await _audit(vfy_pages)
    today = datetime.now(UTC).date()
    first = today - timedelta(days=29)
    period = {"from": f"{first.isoformat()}T00:00:00Z",
              "to": f"{(today + timedelta(days=1)).isoformat()}T00:00:00Z"}
    nonempty = 0
    for view in VIEWS:
        link = page.locator(f"a[data-csv='{view}']")
        async with page.expect_download() as event:
            await link.click()
        download = await event.value
        assert download.suggested_filename == \
            f"bloodtrace-{view}-{first.isoformat()}-{today.isoformat()}.csv"
        text = Path(await download.path()).read_text(encoding="utf-8")
        table = list(csv.reader(io.StringIO(text)))
        api = _api_rows(vfy_network, view, period)
        header, rows = table[0], table[1:]
        assert len(rows) == len(api), view
        for line, row in zip(rows, api, strict=True):
            assert set(header) <= set(row), (view, header, row)
            for name, cell in zip(header, line, strict=True):
                assert _same(cell, row[name]), (view, name, cell, row[name])
        shown = page.locator(f"table[data-view='{view}'] tbody tr")
        assert await shown.count() == max(1, min(len(api), 50))
        nonempty += bool(api)
    assert nonempty >= 4, "the network should give most views some rows"


async def test_the_discard_chart_draws_the_discards_of_the_period(vfy_pages: Pages,
                                                                  vfy_network: VerifyNetwork):
    page = await _audit(vfy_pages, "ar")
    today = datetime.now(UTC).date()
    period = {"from": f"{(today - timedelta(days=29)).isoformat()}T00:00:00Z",
              "to": f"{(today + timedelta(days=1)).isoformat()}T00:00:00Z"}
    by_day = _api_rows(vfy_network, "discards-by-day", period)
    bars = await page.locator("svg[data-chart='discards-by-day'] rect[data-count]").all()
    drawn = sorted([(await b.get_attribute("data-day"), await b.get_attribute("data-reason"),
                     int(await b.get_attribute("data-count") or 0)) for b in bars])
    assert drawn == sorted((r["day"], r["reason"], r["discards"]) for r in by_day)
    assert drawn, "the network should have discarded some units in the last 30 days"
    await page.locator("svg[data-chart]").scroll_into_view_if_needed()
    await vfy_pages.shot(page, "discards-ar", full_page=False)


async def test_the_audit_page_is_for_national_roles_only(vfy_pages: Pages,
                                                         vfy_network: VerifyNetwork):
    site = next(s for (role, s) in vfy_network.people if role == "hospital")
    page = await vfy_pages.signed_in("hospital", lang="ar", site=site)
    assert await page.locator("header nav a[href='/audit']").count() == 0
    answer = await page.goto(f"{vfy_network.base_url}/audit?lang=ar")
    assert answer is not None and answer.status == 403
    refusal = page.locator("[role=alert]")
    assert await refusal.get_attribute("data-rule") == "forbidden"
    assert "للمدققين" in (await refusal.inner_text())
    assert await page.locator("[data-verify-checkpoint], table").count() == 0
    answer = await page.request.get(f"{vfy_network.base_url}/audit/discards-by-reason.csv")
    assert answer.status == 403 and not (await answer.text()).startswith("reason,discards")


async def test_the_audit_page_is_usable_at_phone_size(vfy_pages: Pages,
                                                      vfy_network: VerifyNetwork):
    page = await vfy_pages.signed_in("auditor", lang="ar", viewport=PHONE)
    await page.goto(f"{vfy_network.base_url}/audit?lang=ar")
    assert (await verdict(page, LATEST))["state"] == "ok"
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = await page.evaluate("""() => [...document.querySelectorAll('main *')]
      .filter((e) => e.getBoundingClientRect().width > document.documentElement.clientWidth)
      .slice(0, 5).map((e) => e.tagName + '.' + e.className + ' '
                              + Math.round(e.getBoundingClientRect().width))""")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone: {wide}"
    sizes = _sizes(vfy_network)
    result = await _check_consistency(page, sizes[-1], sizes[0])
    assert result["state"] == "ok", result
    await vfy_pages.shot(page, "phone-ar", full_page=False)
