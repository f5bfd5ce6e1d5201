"""Browser tests of the web app: Debian's Chromium driven by Playwright (async API, on
pytest-asyncio's session loop: the sync API runs its own loop and clashes with it), against
the real service (``bloodtrace serve`` as a child process) on a fresh database holding a
small simulated network, its demo people and demo API keys.

Every page a test opens records the requests it makes; a request to anywhere but the
service fails the test. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pyotp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from app.bootstrap import Services, open_services
from app.errors import AccountNotFound
from app.people.service import OPERATOR, people_of
from app.sim.demo import DEMO_RATES, DemoPerson, create_demo_keys, create_demo_people
from app.sim.network import NetworkConfig
from app.sim.runner import run_simulation
from app.sim.state import SimConfig, staff_id
from tests.conftest import ROOT, TEST_HASH_COST, database_from, settings_for
from tests.support.chromium import ensure_chromium
from tests.support.server import ServerProcess

ARTIFACTS = ROOT / "test-artifacts"
WEB_NETWORK = SimConfig(network=NetworkConfig(banks=2, rates=DEMO_RATES), donations=160,
                        days=40, seed=2026)
"""Two blood banks with their hospitals, labs and mobile units: small enough to simulate in
seconds, big enough to hold units in every state the pages show."""
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@dataclass
class WebWorld:
    """The running service, its demo people and keys, and units in useful states."""

    base_url: str
    database_url: str
    passwords: dict[str, str]
    """user id → password"""
    people: dict[tuple[str, str | None], str]
    """(role, site) → user id"""
    keys: dict[tuple[str, str | None], str]
    """(role, site) → API key"""
    totp_secrets: dict[str, str] = field(default_factory=dict)
    """user id → TOTP secret, for those enrolled"""
    units: dict[str, str] = field(default_factory=dict)
    """state → a unit id: ``in_stock`` (released, at H-DAM-01), ``in_stock_bank``
    (released, at a blood bank), ``transfused``, ``discarded``, ``derived`` (made by a pool
    when there is one, else a split), ``split_parent`` (split into three or more),
    ``to_hold`` (another released unit at H-DAM-01, for a test to quarantine)."""
    unit_sites: dict[str, str | None] = field(default_factory=dict)
    """state → the site that holds or last held that unit"""

    def user(self, role: str, site: str | None = None) -> str:
        return self.people[(role, site)]

    def api(self, role: str, site: str | None = None) -> httpx.Client:
        """An API client with the demo key of (role, site), for recording "elsewhere"."""
        return httpx.Client(base_url=self.base_url, timeout=30, headers={
            "Authorization": f"Bearer {self.keys[(role, site)]}"})


@pytest.fixture(scope="session")
def chromium() -> Path:
    try:
        return ensure_chromium()
    except RuntimeError as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


EXTRA_PEOPLE = (("hospital", "H-DAM-02"), ("hospital", "H-RIF-01"))
"""Hospitals beyond the demo's own, to check what one site may not see of another's."""
TOTP_PERSON = ("hospital", "H-RIF-01")
"""The one who signs in with an authenticator code too."""


async def _more_people(services: Services) -> list[DemoPerson]:
    accounts = people_of(services)
    made = []
    for role, site in EXTRA_PEOPLE:
        user_id = staff_id(role, site)
        try:  # the simulated history's staff have accounts already
            password = await accounts.reset(OPERATOR, user_id)
        except AccountNotFound:
            password = await accounts.create(OPERATOR, user_id, role, site,
                                             f"{role} staff of {site} (web tests)")
        made.append(DemoPerson(user_id, role, site, password))
    return made


async def _units_in_states(url: str) -> tuple[dict[str, str], dict[str, str | None]]:
    queries = {
        "in_stock": "SELECT unit_id, custodian_site_id AS site FROM rm_units WHERE in_stock "
                    "AND released AND custodian_site_id = 'H-DAM-01' AND in_transit_to IS NULL "
                    "AND expires_at > now() + interval '2 days' ORDER BY unit_id LIMIT 1",
        "in_stock_bank": "SELECT unit_id, custodian_site_id AS site FROM rm_units WHERE "
                         "in_stock AND released AND custodian_site_id LIKE 'BB-%' AND "
                         "in_transit_to IS NULL AND expires_at > now() + interval '2 days' "
                         "ORDER BY unit_id LIMIT 1",
        "transfused": "SELECT unit_id, fate_site_id AS site FROM rm_units "
                      "WHERE fate = 'transfused' ORDER BY unit_id LIMIT 1",
        "discarded": "SELECT unit_id, fate_site_id AS site FROM rm_units "
                     "WHERE fate = 'discarded' ORDER BY unit_id LIMIT 1",
        "derived": "SELECT u.unit_id, u.custodian_site_id AS site FROM rm_units u JOIN "
                   "rm_lineage l ON l.child_unit_id = u.unit_id "
                   "ORDER BY l.kind = 'pool' DESC, u.unit_id LIMIT 1",
        "to_hold": "SELECT unit_id, custodian_site_id AS site FROM rm_units WHERE in_stock "
                   "AND released AND custodian_site_id = 'H-DAM-01' AND in_transit_to IS NULL "
                   "AND expires_at > now() + interval '2 days' ORDER BY unit_id "
                   "OFFSET 1 LIMIT 1",
        "split_parent": "SELECT parent_unit_id AS unit_id, NULL AS site FROM rm_lineage "
                        "WHERE kind = 'split' GROUP BY parent_unit_id "
                        "HAVING count(*) >= 3 ORDER BY parent_unit_id LIMIT 1",
    }
    con = await asyncpg.connect(url)
    try:
        units, sites = {}, {}
        for state, sql in queries.items():
            row = await con.fetchrow(sql)
            if row is not None:
                units[state], sites[state] = row["unit_id"], row["site"]
        return units, sites
    finally:
        await con.close()


@pytest.fixture(scope="session")
async def web(pg_admin_url: str, template_db: str,
              tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebWorld]:
    data_dir = tmp_path_factory.mktemp("web-data")
    async with database_from(pg_admin_url, template_db) as url:
        settings = settings_for(url, data_dir=data_dir)
        async with open_services(settings) as services:
            await run_simulation(services.writer, WEB_NETWORK, whole_days=True,
                                 vault=services.vault)
            people = await create_demo_people(services)
            people += await _more_people(services)
            totp_uri = await people_of(services).enrol_totp(OPERATOR, staff_id(*TOTP_PERSON))
        keys = await create_demo_keys(url)
        server = ServerProcess(url, BLOODTRACE_DATA_DIR=str(data_dir),
                               BLOODTRACE_CHECKPOINT_EVERY_SECONDS="1",
                               **{f"BLOODTRACE_{k.upper()}": str(v)
                                  for k, v in TEST_HASH_COST.items()})
        server.start(timeout=60)
        try:
            world = WebWorld(server.base_url, url,
                             passwords={p.user_id: p.password for p in people},
                             people={(p.role, p.site_id): p.user_id for p in people},
                             keys={(k.role, k.site_id): k.token for k in keys},
                             totp_secrets={staff_id(*TOTP_PERSON): pyotp.parse_uri(
                                 totp_uri).secret})
            world.units, world.unit_sites = await _units_in_states(url)
            yield world
        finally:
            server.stop()


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium),
                                                    args=["--no-sandbox"])
        yield launched
        await launched.close()


@dataclass
class Pages:
    """Browser contexts of one test; every request they make is kept in ``requests``."""

    browser: Browser
    web: WebWorld
    artifacts: Path
    test_name: str
    requests: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    async def new(self, lang: str = "en", viewport: dict[str, int] | None = None) -> Page:
        """A fresh page (its own cookies), its browser asking for ``lang`` first."""
        context = await self.browser.new_context(
            viewport=viewport or DESKTOP, locale="ar-SY" if lang == "ar" else "en-GB",
            extra_http_headers={"Accept-Language": "ar,en;q=0.5" if lang == "ar" else "en"})
        context.on("request", lambda request: self.requests.append(request.url))
        self.contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        return page

    async def signed_in(self, role: str, lang: str = "en", *, site: str | None = None,
                        viewport: dict[str, int] | None = None) -> Page:
        """A page signed in as the demo person of (role, site), showing the home page."""
        page = await self.new(lang, viewport)
        user = self.web.user(role, site)
        await page.goto(f"{self.web.base_url}/signin?lang={lang}")
        await page.fill("#user", user)
        await page.fill("#password", self.web.passwords[user])
        async with page.expect_navigation():
            await page.click("form.stack button[type=submit]")
        assert page.url == f"{self.web.base_url}/", page.url
        return page

    async def shot(self, page: Page, name: str, *, full_page: bool = True) -> Path:
        path = self.artifacts / f"{self.test_name}-{name}.png"
        await page.screenshot(path=str(path), full_page=full_page)
        return path

    def off_origin(self) -> list[str]:
        return off_origin(self.requests, self.web.base_url)


def off_origin(urls: list[str], base_url: str) -> list[str]:
    """The requests not made to the service at ``base_url`` (inline ``data:`` aside)."""
    allowed = (base_url + "/", "data:", "about:")
    return [url for url in urls if not url.startswith(allowed)]


@pytest.fixture
async def pages(browser: Browser, web: WebWorld, artifacts: Path,
                request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    """Pages for this test. At its end: no request left the service."""
    made = Pages(browser, web, artifacts, request.node.name.replace("/", "_"))
    yield made
    for context in made.contexts:
        await context.close()
    assert not made.off_origin(), f"requests left the service: {made.off_origin()}"


@pytest.fixture
def signed_in(pages: Pages) -> Callable[..., Awaitable[Page]]:
    """``await signed_in(role, lang, site=..., viewport=...)``."""

    def sign(role: str, lang: str = "en", site: str | None = None,
             viewport: dict[str, int] | None = None) -> Awaitable[Page]:
        return pages.signed_in(role, lang, site=site, viewport=viewport)

    return sign
