"""The workbench pages over HTTP (in process, real PostgreSQL): a form without the session's
CSRF token records nothing and says why, in the form; a step the role may not record is the
domain's refusal, in the person's language; a recorded step redirects to the page showing
it."""

from __future__ import annotations

import re

import httpx

from app.bootstrap import Services
from app.events.messages import Actor
from app.people.service import OPERATOR, people_of
from app.store.log_reader import head_position
from app.web.record import Step, record_step

PASSWORD = "wb15-http-password-123"


async def _hospital(services: Services, client: httpx.AsyncClient) -> str:
    admin = Actor.person("wb-http-admin", "admin", None)
    await people_of(services).create(OPERATOR, admin.user_id or "", "admin", None,
                                     password=PASSWORD)
    await record_step(services, admin, Step("SiteRegistered", {
        "site_id": "H1", "name": "Hospital 1", "kind": "hospital", "region": "Damascus"}))
    await people_of(services).create(OPERATOR, "wb-http-nurse", "hospital", "H1",
                                     password=PASSWORD)
    signed = await client.post("/v1/session", json={"user": "wb-http-nurse",
                                                    "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return str(signed.json()["csrf_token"])


async def _head(services: Services) -> int:
    async with services.pool.acquire() as con:
        return await head_position(con)


def _rule(html: str) -> str | None:
    found = re.search(r'id="refusal" data-rule="([a-z0-9-]+)"', html)
    return found.group(1) if found else None


async def test_the_forms_post_with_the_csrf_token_and_refusals_stay_in_the_form(
        services: Services, client: httpx.AsyncClient) -> None:
    csrf = await _hospital(services, client)
    page = await client.get("/hospital")
    assert page.status_code == 200
    assert 'action="/hospital/receive"' in page.text and "/bank/" not in page.text
    before = await _head(services)

    forged = await client.post("/hospital/return", data={"unit_id": "A999926000001-E0398V00"})
    assert forged.status_code == 403 and _rule(forged.text) == "csrf-token-required"

    # Not a step of the hospital's: the page leaves it to the domain, which refuses it.
    released = await client.post("/bank/release?lang=ar", data={
        "csrf_token": csrf, "unit_id": "A999926000001-E0398V00",
        "signature.password": PASSWORD})
    assert released.status_code == 403 and _rule(released.text) == "role-not-allowed"
    assert 'dir="rtl"' in released.text
    assert "لا يحق لدورك تسجيل هذا النوع من الأحداث" in released.text
    assert PASSWORD not in released.text

    unknown = await client.post("/hospital/return", data={
        "csrf_token": csrf, "unit_id": "A999926000001-E0398V00"})
    assert unknown.status_code == 403 and _rule(unknown.text) == "not-custodian"
    assert 'name="unit_id" value="A999926000001-E0398V00"' in unknown.text
    assert await _head(services) == before, "nothing refused is recorded"


async def test_a_recorded_step_redirects_to_the_page_showing_it(
        services: Services, client: httpx.AsyncClient) -> None:
    csrf = await _hospital(services, client)
    done = await client.post("/hospital/antibody", data={
        "csrf_token": csrf, "patient_id": "PAT-WB-HTTP1", "antibody": "anti-K"})
    assert done.status_code == 303
    position = await _head(services)
    assert done.headers["location"] == f"/hospital?form=antibody&recorded={position}"
    shown = await client.get(done.headers["location"])
    assert f'data-position="{position}" data-type="PatientAntibodyRecorded"' in shown.text
    # Someone else's position is not shown as if this person had recorded it.
    other = await client.get(f"/hospital?form=antibody&recorded={position - 1}")
    assert 'class="recorded"' not in other.text
