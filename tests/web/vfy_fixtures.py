"""Fixtures of the verification and audit tests (imported by their modules): the served
network with its witness, one for the session (no test writes to it), and pages signed in on
it (the shell's ``Pages``, pointed at this network instead of the shared one, which has no
witness)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.conftest import database_from
from tests.web.conftest import Pages, WebWorld
from tests.web.vfy_support import VerifyNetwork, served_network


@pytest.fixture(scope="session")
async def vfy_network(pg_admin_url: str, template_db: str,
                      tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[VerifyNetwork]:
    async with database_from(pg_admin_url, template_db) as url:
        async with served_network(url, tmp_path_factory.mktemp("vfy")) as network:
            yield network


@pytest.fixture
async def vfy_pages(browser: Browser, vfy_network: VerifyNetwork, artifacts: Path,
                    request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    """Pages on the witnessed network. At the test's end: no request left the service."""
    world = WebWorld(vfy_network.base_url, vfy_network.database_url, vfy_network.passwords,
                     vfy_network.people, {})
    made = Pages(browser, world, artifacts, request.node.name.replace("/", "_"))
    yield made
    for context in made.contexts:
        await context.close()
    assert made.requests, "the test opened no page"
    assert not made.off_origin(), f"requests left the service: {made.off_origin()}"
