"""The unit page verifies in the browser (WEB.md §2.1), on a network a real witness cosigns:
"verified against checkpoint N, signed by K" in Arabic; a proof, a record or the checkpoint's
signature altered in flight is reported as failed, at that event's position or at the
checkpoint; with no WebCrypto (plain HTTP on a LAN address) it is "unavailable", never "ok"."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from playwright.async_api import Page

from tests.web.conftest import PHONE, Pages, WebWorld
from tests.web.vfy_fixtures import vfy_network, vfy_pages
from tests.web.vfy_support import (
    LOG,
    NO_WEBCRYPTO,
    VerifyNetwork,
    alter_json,
    flip_base64,
    lan_address,
    verdict,
)

__all__ = ["vfy_network", "vfy_pages"]


def _bundle(network: VerifyNetwork, unit: str) -> dict[str, Any]:
    answer = httpx.get(f"{network.base_url}/v1/proofs/units/{unit}", headers=network.auth)
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


async def _unit_page(pages: Pages, network: VerifyNetwork, unit: str, lang: str,
                     tamper: Any = None, init_script: str | None = None) -> Page:
    page = await pages.signed_in("auditor", lang=lang)
    if init_script:
        await page.add_init_script(init_script)
    if tamper is not None:
        await alter_json(page, "**/v1/proofs/units/**", tamper)
    await page.goto(f"{pages.web.base_url}/units/{unit}?lang={lang}")
    return page


async def test_a_unit_in_arabic_is_verified_against_the_signed_checkpoint(
        vfy_pages: Pages, vfy_network: VerifyNetwork):
    unit = vfy_network.units[0]
    page = await _unit_page(vfy_pages, vfy_network, unit, "ar")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("html").get_attribute("lang") == "ar"
    result = await verdict(page)
    bundle = _bundle(vfy_network, unit)
    size = int(bundle["checkpoint"].split("\n")[1])
    assert result["state"] == "ok", result
    assert result["text"] == (f"تم التحقق مقابل نقطة التدقيق {size:,}، الموقّعة من {LOG.name}: "
                              f"فُحص {len(bundle['records'])} من الأحداث في متصفحك.")
    checked = page.locator(".verification [data-checks] li[data-position]")
    assert [await li.get_attribute("data-position") for li in await checked.all()] == \
        [str(r["position"]) for r in bundle["records"]]
    assert await page.locator(".verification [data-checks] li[data-check='ok']").count() == \
        len(bundle["records"]) + 2  # the records, the checkpoint's signature, the witnesses
    witness = page.locator(".verification [data-witnesses] li")
    assert await witness.get_attribute("data-cosignature") == "ok"
    made = _cosigned_at(bundle["checkpoint"], vfy_network.witness.name)
    local = made.astimezone(ZoneInfo("Asia/Damascus"))  # the pages' display time zone
    shown = f"{local.hour % 12 or 12}:{local.minute:02d}:{local.second:02d}"
    assert shown in (await witness.text_content() or ""), (shown, await witness.text_content())
    history = await page.locator("ol.events li[data-position]").all()
    assert len(history) == len(bundle["records"])
    assert [await li.get_attribute("data-verified") for li in history] == ["ok"] * len(history)
    await vfy_pages.shot(page, "unit-ar")


def _cosigned_at(note: str, witness: str) -> datetime:
    """When the witness says it cosigned (the timestamp inside its cosignature/v1)."""
    line = next(x for x in note.split("\n") if x.startswith(f"\u2014 {witness} "))
    blob = base64.b64decode(line.rsplit(" ", 1)[1])
    return datetime.fromtimestamp(int.from_bytes(blob[4:12], "big"), UTC)


def _flip_proof_hash(index: int) -> Any:
    def alter(bundle: dict[str, Any]) -> None:
        proof = bundle["records"][index]["proof"]
        proof[len(proof) // 2] = flip_base64(proof[len(proof) // 2], 5)
    return alter


def _change_record(index: int) -> Any:
    def alter(bundle: dict[str, Any]) -> None:
        entry = bundle["records"][index]
        record = orjson.loads(entry["record"])
        record["occurred_at"] = "2001-01-01T00:00:00.000000Z"
        entry["record"] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode()
    return alter


def _forge_signature(bundle: dict[str, Any]) -> None:
    lines = bundle["checkpoint"].split("\n")
    for i, line in enumerate(lines):
        if line.startswith(f"\u2014 {LOG.name} "):
            head, blob = line.rsplit(" ", 1)
            lines[i] = f"{head} {flip_base64(blob, 30)}"
    bundle["checkpoint"] = "\n".join(lines)


@pytest.mark.parametrize("what, alter, index", [
    ("proof", _flip_proof_hash, 1),
    ("record", _change_record, 2),
    ("proof-last", _flip_proof_hash, -1),
])
async def test_an_event_altered_in_flight_fails_at_its_position(
        vfy_pages: Pages, vfy_network: VerifyNetwork, what: str, alter: Any, index: int):
    unit = vfy_network.units[0]
    position = _bundle(vfy_network, unit)["records"][index]["position"]
    page = await _unit_page(vfy_pages, vfy_network, unit, "en", alter(index))
    result = await verdict(page)
    assert (result["state"], result["at"], result["position"]) == \
        ("failed", "event", str(position)), result
    assert result["text"].startswith(f"Verification failed at event {position:,}: ")
    failed = page.locator(".verification [data-checks] li[data-check='failed']")
    assert await failed.count() == 1
    assert await failed.get_attribute("data-position") == str(position)
    await vfy_pages.shot(page, f"failed-{what}")


async def test_an_altered_checkpoint_signature_fails_at_the_checkpoint(
        vfy_pages: Pages, vfy_network: VerifyNetwork):
    page = await _unit_page(vfy_pages, vfy_network, vfy_network.units[1], "ar",
                            _forge_signature)
    result = await verdict(page)
    assert (result["state"], result["at"], result["position"]) == \
        ("failed", "checkpoint", None), result
    assert result["text"] == f"فشل التحقق عند نقطة التدقيق: التوقيع من {LOG.name} غير صحيح"
    assert await page.locator(".verification [data-checks] li[data-position]").count() == 0
    await vfy_pages.shot(page, "failed-signature-ar")


async def test_without_webcrypto_verification_is_unavailable_never_ok(
        vfy_pages: Pages, vfy_network: VerifyNetwork):
    page = await _unit_page(vfy_pages, vfy_network, vfy_network.units[0], "en",
                            init_script=NO_WEBCRYPTO)
    result = await verdict(page)
    assert result["state"] == "unavailable", result
    assert "WebCrypto" in result["text"] and "TLS" in result["text"]
    await page.wait_for_timeout(500)  # nothing turns it into "ok" later
    assert (await verdict(page))["state"] == "unavailable"
    await vfy_pages.shot(page, "unavailable")


async def test_served_over_plain_http_on_a_lan_address_it_is_unavailable(
        vfy_pages: Pages, vfy_network: VerifyNetwork):
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    port = vfy_network.server.port
    lan = WebWorld(f"http://{address}:{port}", vfy_network.database_url,
                   vfy_network.passwords, vfy_network.people, {})
    vfy_pages.web = lan  # the same service, reached as a hospital LAN would reach it
    page = await _unit_page(vfy_pages, vfy_network, vfy_network.units[0], "ar")
    assert not await page.evaluate("window.isSecureContext")
    result = await verdict(page)
    assert result["state"] == "unavailable", result
    assert "TLS" in result["text"] and "HTTPS" in result["text"]
    await vfy_pages.shot(page, "lan-unavailable-ar")


async def _history_altered(pages: Pages, network: VerifyNetwork, unit: str, change: Any,
                           tamper: Any = None) -> Page:
    """The unit page with its server-rendered history changed by ``change(html)``."""
    page = await pages.signed_in("auditor", lang="en")

    async def rewrite(route: Any) -> None:
        response = await route.fetch()
        await route.fulfill(response=response, body=change(await response.text()))

    await page.route(f"**/units/{unit}?lang=en", rewrite)
    if tamper is not None:
        await alter_json(page, "**/v1/proofs/units/**", tamper)
    await page.goto(f"{pages.web.base_url}/units/{unit}?lang=en")
    return page


async def test_a_history_the_page_makes_up_is_caught(vfy_pages: Pages,
                                                     vfy_network: VerifyNetwork):
    unit = vfy_network.units[0]
    records = _bundle(vfy_network, unit)["records"]
    made_up = records[0]["position"] - 1  # a real position of the log, of another unit
    extra = f'<li data-position="{made_up}" data-type="UnitDiscarded">discarded</li>'
    page = await _history_altered(vfy_pages, vfy_network, unit,
                                  lambda html: html.replace('<ol class="timeline events">',
                                                            '<ol class="timeline events">' + extra))
    result = await verdict(page)
    assert (result["state"], result["at"], result["position"]) == \
        ("failed", "event", str(made_up)), result
    assert "which the proofs do not include" in result["text"]
    assert await page.locator(f"ol.events li[data-position='{made_up}']").get_attribute(
        "data-verified") == "failed"

    second = records[1]
    kind = orjson.loads(second["record"])["type"]
    shown = f'data-position="{second["position"]}" data-type="{kind}"'
    page = await _history_altered(vfy_pages, vfy_network, unit, lambda html: html.replace(
        shown, f'data-position="{second["position"]}" data-type="UnitDiscarded"'))
    result = await verdict(page)
    assert (result["state"], result["at"], result["position"]) == \
        ("failed", "event", str(second["position"])), result
    assert "as UnitDiscarded; the log holds" in result["text"]


async def test_a_record_left_out_of_the_proofs_is_caught(vfy_pages: Pages,
                                                         vfy_network: VerifyNetwork):
    unit = vfy_network.units[0]
    last = _bundle(vfy_network, unit)["records"][-1]["position"]

    def leave_out(bundle: dict[str, Any]) -> None:
        bundle["records"].pop()

    page = await _unit_page(vfy_pages, vfy_network, unit, "en", leave_out)
    result = await verdict(page)
    assert (result["state"], result["at"], result["position"]) == \
        ("failed", "event", str(last)), result


async def test_genuine_records_of_another_unit_are_refused(vfy_pages: Pages,
                                                           vfy_network: VerifyNetwork):
    unit, other = vfy_network.units[0], vfy_network.units[1]
    theirs = _bundle(vfy_network, other)

    def swap(bundle: dict[str, Any]) -> None:
        bundle["records"] = theirs["records"]  # signed, included, but not this unit's

    page = await _unit_page(vfy_pages, vfy_network, unit, "en", swap)
    result = await verdict(page)
    first = theirs["records"][0]["position"]
    assert (result["state"], result["at"], result["position"]) == \
        ("failed", "event", str(first)), result
    assert f"does not concern unit {unit}" in result["text"]


async def test_the_verification_fits_a_phone(vfy_pages: Pages, vfy_network: VerifyNetwork):
    page = await vfy_pages.signed_in("auditor", lang="ar", viewport=PHONE)
    await page.goto(f"{vfy_network.base_url}/units/{vfy_network.units[0]}?lang=ar")
    assert (await verdict(page))["state"] == "ok"
    section = await page.locator(".verification").bounding_box()
    assert section is not None and section["width"] <= PHONE["width"]
    overflow = await page.evaluate("Math.max(...[...document.querySelectorAll('.verification *')]"
                                   ".map((e) => e.getBoundingClientRect().width))")
    assert overflow <= PHONE["width"], overflow
    await vfy_pages.shot(page, "phone-ar", full_page=False)


SEEN = f"bloodtrace.verified-checkpoint.{LOG.name}+{LOG.verifier.key_id.hex()}"


async def _remembered(page: Page, size: int, root: str) -> None:
    await page.evaluate("([key, value]) => localStorage.setItem(key, value)",
                        [SEEN, orjson.dumps({"size": str(size), "root": root}).decode()])


async def test_the_browser_holds_the_log_to_what_it_verified_before(
        vfy_pages: Pages, vfy_network: VerifyNetwork):
    unit = vfy_network.units[0]
    listed = httpx.get(f"{vfy_network.base_url}/v1/checkpoints").json()["checkpoints"]
    latest, older = listed[0], listed[-1]
    page = await _unit_page(vfy_pages, vfy_network, unit, "en")
    assert (await verdict(page))["state"] == "ok"
    stored = orjson.loads(await page.evaluate("(key) => localStorage.getItem(key)", SEEN))
    assert stored == {"size": str(latest["size"]), "root": latest["root"]}

    # An earlier visit saw a smaller tree: the log must extend it, and does.
    await _remembered(page, older["size"], older["root"])
    await page.reload()
    assert (await verdict(page))["state"] == "ok"
    seen = page.locator(".verification [data-checks] li", has_text="which this browser verified")
    assert await seen.count() == 1

    # What it saw then had another root: this log is not an extension of it.
    await _remembered(page, older["size"], flip_base64(older["root"]))
    await page.reload()
    result = await verdict(page)
    assert (result["state"], result["at"]) == ("failed", "checkpoint"), result
    assert "does not extend checkpoint" in result["text"]

    # The same size with another root: a rewritten log, re-signed.
    await _remembered(page, latest["size"], flip_base64(latest["root"]))
    await page.reload()
    result = await verdict(page)
    assert (result["state"], result["at"]) == ("failed", "checkpoint"), result
    assert "the log was rewritten" in result["text"]


async def test_a_log_cut_back_below_what_the_browser_saw_fails(vfy_pages: Pages,
                                                               vfy_network: VerifyNetwork):
    unit = vfy_network.units[0]
    listed = httpx.get(f"{vfy_network.base_url}/v1/checkpoints").json()["checkpoints"]
    page = await _unit_page(vfy_pages, vfy_network, unit, "ar")
    assert (await verdict(page))["state"] == "ok"
    first = _bundle(vfy_network, unit)["records"][0]["position"]
    earlier = [c for c in listed[1:] if c["size"] >= first][-1]  # genuine, signed, smaller

    def served_old(bundle: dict[str, Any]) -> None:
        bundle["checkpoint"] = earlier["note"]
        bundle["records"] = [r for r in bundle["records"] if r["position"] <= earlier["size"]]

    await alter_json(page, "**/v1/proofs/units/**", served_old)
    await page.reload()
    result = await verdict(page)
    assert (result["state"], result["at"]) == ("failed", "checkpoint"), result
    assert f"{listed[0]['size']:,}" in result["text"] and "قُصّ" in result["text"]
