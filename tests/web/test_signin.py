"""Signing in and out through the pages (WEB.md sections 1 and 2)."""

from __future__ import annotations

import pyotp

from tests.web.conftest import PHONE, Pages, WebWorld


async def test_a_hospital_user_signs_in_sees_their_links_and_signs_out(
        pages: Pages, web: WebWorld) -> None:
    page = await pages.signed_in("hospital", site="H-DAM-01")
    nav = await page.locator("header nav a").all_inner_texts()
    assert nav == ["Units", "Stock", "Hospital", "Lookbacks"]
    assert await page.locator(".person").get_attribute("data-user") == web.user(
        "hospital", "H-DAM-01")
    assert await page.locator("#scan-q").evaluate("e => e === document.activeElement")
    await pages.shot(page, "home")
    async with page.expect_navigation():
        await page.click("header form button")
    assert page.url.startswith(f"{web.base_url}/signin")
    await page.goto(f"{web.base_url}/?lang=en")
    assert page.url == f"{web.base_url}/signin?next=%2F%3Flang%3Den"


async def test_an_auditor_signs_in_and_sees_the_audit_link(pages: Pages) -> None:
    page = await pages.signed_in("auditor")
    nav = await page.locator("header nav a").all_inner_texts()
    assert nav == ["Units", "Stock", "Lookbacks", "Audit"]
    await pages.shot(page, "home")


async def test_a_wrong_password_is_refused_in_arabic(pages: Pages, web: WebWorld) -> None:
    page = await pages.new("ar")
    await page.goto(f"{web.base_url}/signin")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("html").get_attribute("lang") == "ar"
    await page.fill("#user", web.user("hospital", "H-DAM-01"))
    await page.fill("#password", "not the password at all")
    async with page.expect_navigation():
        await page.click("form.stack button[type=submit]")
    alert = page.locator("[role=alert]")
    assert await alert.get_attribute("data-rule") == "sign-in-failed"
    assert await alert.inner_text() == "مستخدم غير معروف، أو كلمة مرور خاطئة، أو رمز مصادقة خاطئ."
    await pages.shot(page, "refused")


async def test_after_signing_in_the_page_asked_for_comes_back(pages: Pages,
                                                              web: WebWorld) -> None:
    page = await pages.new("en")
    await page.goto(f"{web.base_url}/?lang=ar")
    assert "/signin?next=" in page.url
    user = web.user("auditor")
    await page.fill("#user", user)
    await page.fill("#password", web.passwords[user])
    async with page.expect_navigation():
        await page.click("form.stack button[type=submit]")
    assert page.url == f"{web.base_url}/?lang=ar"
    assert await page.locator("html").get_attribute("dir") == "rtl"


async def test_signing_in_works_on_a_phone_in_both_languages(pages: Pages,
                                                            web: WebWorld) -> None:
    for lang in ("en", "ar"):
        page = await pages.new(lang, PHONE)
        await page.goto(f"{web.base_url}/signin")
        for field in ("#user", "#password", "#totp", "form.stack button"):
            box = await page.locator(field).bounding_box()
            assert box is not None and box["x"] >= 0, field
            assert box["x"] + box["width"] <= PHONE["width"], field
        user = web.user("hospital", "H-DAM-01")
        await page.fill("#user", user)
        await page.fill("#password", web.passwords[user])
        async with page.expect_navigation():
            await page.press("#password", "Enter")
        assert page.url == f"{web.base_url}/"
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await pages.shot(page, f"home-phone-{lang}")


async def test_an_account_with_an_authenticator_needs_its_code(pages: Pages,
                                                               web: WebWorld) -> None:
    user = web.user("hospital", "H-RIF-01")
    secret = web.totp_secrets[user]
    page = await pages.new("en")
    await page.goto(f"{web.base_url}/signin")
    await page.fill("#user", user)
    await page.fill("#password", web.passwords[user])
    async with page.expect_navigation():
        await page.click("form.stack button[type=submit]")
    assert await page.locator("[role=alert]").get_attribute("data-rule") == "sign-in-failed"
    await page.fill("#password", web.passwords[user])
    await page.fill("#totp", pyotp.TOTP(secret).now())
    async with page.expect_navigation():
        await page.click("form.stack button[type=submit]")
    assert page.url == f"{web.base_url}/"
    assert await page.locator(".person").get_attribute("data-user") == user


async def test_signing_out_needs_the_sessions_csrf_token(pages: Pages, web: WebWorld) -> None:
    page = await pages.signed_in("auditor", "en")
    refused = await page.request.post(f"{web.base_url}/signout",
                                      form={"csrf_token": "not-the-token"}, max_redirects=0)
    assert refused.status == 403
    assert (await refused.json())["type"].endswith("/csrf-token-required")
    response = await page.goto(f"{web.base_url}/")
    assert response is not None and page.url == f"{web.base_url}/"
