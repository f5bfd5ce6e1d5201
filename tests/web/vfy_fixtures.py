"""Fixtures of the verification tests (imported by their modules): the served network with
its witness, one per module, and a headless Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.conftest import database_from
from tests.web.vfy_support import VerifyNetwork, served_network

try:
    from tests.support.chromium import ensure_chromium
except ImportError:  # before the shell's helper lands
    def ensure_chromium() -> Path:
        return Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
async def vfy_network(pg_admin_url: str, template_db: str,
                      tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[VerifyNetwork]:
    async with database_from(pg_admin_url, template_db) as url:
        async with served_network(url, tmp_path_factory.mktemp("vfy")) as network:
            yield network


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(ensure_chromium()),
                                           args=["--no-sandbox"])
        yield browser
        await browser.close()
