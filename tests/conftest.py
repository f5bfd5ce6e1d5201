"""Shared fixtures: real PostgreSQL (DATABASE_URL, or the embedded server), a freshly
migrated database per test from a template, services, HTTP clients and API keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.api.app import create_app
from app.bootstrap import Services, open_services
from app.config import Settings
from app.store.database import embedded_admin_url, with_database
from app.store.keys import create_key
from app.store.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """Superuser URL of the server the tests use."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return embedded_admin_url(ROOT / ".data" / "test")


@pytest.fixture(scope="session")
async def template_db(pg_admin_url: str) -> AsyncIterator[str]:
    name = f"bt_tpl_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    con = await asyncpg.connect(with_database(pg_admin_url, name))
    await migrate(con)
    await con.close()
    yield name
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@asynccontextmanager
async def database_from(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    """Superuser URL of a new database copied from the migrated template; dropped after."""
    name = f"bt_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        yield with_database(pg_admin_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def fresh_db(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    """Superuser URL of a new, migrated, empty database; dropped afterwards."""
    async with database_from(pg_admin_url, template_db) as url:
        yield url


TEST_HASH_COST = {"password_hash_time_cost": 1, "password_hash_memory_kib": 8 * 1024}
"""argon2id at its lightest for the services under test: the networks of the HTTP tests
enrol dozens of people and sign hundreds of steps on two cores. The production cost is the
default (``Settings``), which ``tests/unit/test_people.py`` hashes with."""


def settings_for(url: str, **overrides: Any) -> Settings:
    return Settings(**({"database_url": url, "pool_min_size": 1, "pool_max_size": 8}
                       | TEST_HASH_COST | overrides))


@pytest.fixture
def open_for() -> Callable[..., Any]:
    """``async with open_for(url, domain=...) as services`` for tests that need options."""

    def opener(url: str, **kwargs: Any) -> Any:
        # Tests of the log sign checkpoints themselves, when they want them.
        kwargs.setdefault("checkpoints", False)
        return open_services(settings_for(url), **kwargs)

    return opener


@pytest.fixture
async def services(fresh_db: str) -> AsyncIterator[Services]:
    """The real service stack (real domain, real read models) on a fresh database."""
    async with open_services(settings_for(fresh_db)) as built:
        yield built


@asynccontextmanager
async def app_and_client(services: Services) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """An app over already-open services, in its lifespan, and an in-process client of it."""
    @asynccontextmanager
    async def given(_: Settings) -> AsyncIterator[Services]:
        yield services

    app = create_app(services.settings, services=given)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bt.test") as client:
            yield app, client


@asynccontextmanager
async def http_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with app_and_client(services) as (_, client):
        yield client


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(services) as c:
        yield c


KeyMaker = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_key(fresh_db: str) -> KeyMaker:
    """``await make_key("hospital", "H-DAM-01")`` → Authorization headers for a new key."""

    async def maker(role: str, site: str | None = None) -> dict[str, str]:
        con = await asyncpg.connect(fresh_db)
        try:
            issued = await create_key(con, role, site)
        finally:
            await con.close()
        return {"Authorization": f"Bearer {issued.token}"}

    return maker


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    yield
