"""Helpers for the verifiable-log tests: a log filled in batches with a checkpoint after each,
and an HTTP client for an app that serves the verifiable-log routes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx

from app.api import routes_verifiable
from app.api.app import create_app
from app.bootstrap import Services
from app.config import Settings
from app.events.messages import Command, NewEvent
from app.log.notes import NoteSigner
from app.store.checkpoint_store import make_checkpoint
from app.store.world import World
from tests.support.factories import note
from tests.support.ledger_domain import LedgerDomain

ORIGIN = "bloodtrace.dev/log"  # the Settings default, which the app signs and serves under


class UnitLedger(LedgerDomain):
    """The ledger domain, but each note concerns the unit named by its subject."""

    def decide(self, world: World, cmd: Command) -> list[NewEvent]:
        return [dataclasses.replace(e, refs=frozenset({("unit", str(cmd.data["subject"]))}))
                for e in super().decide(world, cmd)]


async def fill(open_for: Any, url: str, batches: list[int], signer: NoteSigner | None,
               text: str = "hello") -> None:
    """Append the batches; sign a checkpoint after each when a signer is given."""
    async with open_for(url, domain=UnitLedger(), inline=()) as services:
        for i, size in enumerate(batches):
            await services.writer.append_many(
                [note(f"U{(i + k) % 3}", text) for k in range(size)])
            if signer is not None:
                async with services.pool.acquire() as con:
                    await make_checkpoint(con, [signer], ORIGIN)


async def as_superuser(url: str, *sql: str) -> None:
    """Change history behind the service's back (triggers off), as a DBA could."""
    con = await asyncpg.connect(url)
    try:
        await con.execute("SET session_replication_role = replica")
        for statement in sql:
            await con.execute(statement)
    finally:
        await con.close()


@asynccontextmanager
async def verifiable_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the real app (with the verifiable-log routes) over given services."""

    @asynccontextmanager
    async def given(_: Settings) -> AsyncIterator[Services]:
        yield services

    app = create_app(services.settings, services=given)
    if not any(getattr(r, "path", "") == "/v1/export" for r in app.routes):
        app.include_router(routes_verifiable.router)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bt.test") as client:
            yield client
