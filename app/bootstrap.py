"""The composition root: Settings → database → pool → writer → app. Nothing at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg

from app.config import Settings
from app.store.database import embedded_admin_url, with_user
from app.store.migrate import migrate
from app.store.pool import Pool, close_pool, open_pool
from app.store.world import Domain
from app.store.writer import InlineApplier, Writer

if TYPE_CHECKING:
    from app.vault.keys import VaultSecrets
    from app.vault.service import Vault

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the HTTP edge and the CLI use, built once."""

    settings: Settings
    admin_url: str
    app_url: str
    pool: asyncpg.Pool
    writer: Writer
    extras: dict[str, Any] = field(default_factory=dict)
    vault: Vault | None = None
    """The donor identity vault (None only when opened with ``vault=False``)."""
    read_pool: asyncpg.Pool | None = None
    """On ``read_database_url`` (a replica), for reads that need not see their own writes."""

    @property
    def read_url(self) -> str:
        """Where ``read_pool`` (or, without a replica, ``pool``) connects: for read-only work
        in processes of its own (online verification's workers)."""
        if self.settings.read_database_url:
            return with_user(self.settings.read_database_url, self.settings.app_role)
        return self.app_url


def resolve_admin_url(settings: Settings) -> str:
    """DATABASE_URL when given, else the embedded PostgreSQL (started if needed)."""
    return settings.database_url or embedded_admin_url(settings.data_dir)


def resolve_app_url(settings: Settings, admin_url: str) -> str:
    return settings.app_database_url or with_user(admin_url, settings.app_role)


async def migrate_database(admin_url: str) -> list[str]:
    """Apply pending migrations, then rebuild any read model they left behind the log."""
    from app.store.stale import rebuild_stale

    con = await asyncpg.connect(admin_url)
    try:
        applied = await migrate(con)
    finally:
        await con.close()
    await rebuild_stale(admin_url)
    return applied


def default_domain() -> Domain:
    from app.events.catalogue import default_catalogue
    from app.events.domain import LifecycleDomain

    return LifecycleDomain(default_catalogue())


def default_inline() -> Sequence[InlineApplier]:
    from app.store.projection_runner import apply_inline

    return (apply_inline,)


SESSION_SETTINGS = {"idle_in_transaction_session_timeout": "60s"}
"""Sent as start-up parameters, so they are each session's defaults: a transaction left open
by a dead peer ends after 60 s and frees its locks. (A ``SET`` run when a connection opens
would last only until the pool first hands it back: asyncpg resets it with ``RESET ALL``.)"""


def _open_vault(pool: asyncpg.Pool, writer: Writer, secrets: VaultSecrets) -> Vault:
    from app.vault.envelope import LocalKeyWrapper
    from app.vault.service import Vault

    return Vault(pool, writer, LocalKeyWrapper(secrets.master_key), secrets.pepper,
                 secrets.master_key_source)


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    domain: Domain | None = None,
    inline: Sequence[InlineApplier] | None = None,
    checkpoints: bool = True,
    vault: bool = True,
) -> AsyncIterator[Services]:
    """Migrate, open the pool as the INSERT/SELECT role, start the writer, the checkpointer
    and (with witnesses configured) the witness push; on exit, sign a last checkpoint and
    close."""
    from app.signing_keys import load_signers
    from app.store.checkpointer import run_checkpointer
    from app.vault.keys import load_vault_secrets

    # A bad or unreadable signing key stops the start, before anything is served.
    signers = await asyncio.to_thread(load_signers, settings) if checkpoints else []
    secrets = await asyncio.to_thread(load_vault_secrets, settings) if vault else None
    admin_url = resolve_admin_url(settings)
    applied = await migrate_database(admin_url)
    if applied:
        log.info("migrations applied: %s", ", ".join(applied))
    app_url = resolve_app_url(settings, admin_url)
    pool = await _open_pool(settings, app_url, settings.pool_min_size, settings.pool_max_size)
    # The writer's own connection: requests that hold one of ``pool`` while they wait for
    # an append could otherwise take every connection the writer would commit them with.
    writer_pool = await _open_pool(settings, app_url, 1, 1)
    read_pool = await _open_read_pool(settings) if settings.read_database_url else None
    writer = Writer(
        writer_pool,
        domain if domain is not None else default_domain(),
        batch_max=settings.batch_max,
        inline=inline if inline is not None else default_inline(),
    )
    await writer.start()
    stop = asyncio.Event()
    checkpointer = (
        asyncio.create_task(run_checkpointer(pool, settings, stop, signers), name="checkpointer")
        if checkpoints else None
    )
    pusher = None
    if checkpoints and settings.witnesses:
        from app.witness.push import run_pusher

        pusher = asyncio.create_task(run_pusher(pool, settings, stop), name="witness-push")
    try:
        opened = None
        if secrets is not None:
            opened = _open_vault(pool, writer, secrets)
            # A wrong master key or pepper stops the start here, never an empty vault.
            await opened.check_keys()
        yield Services(settings, admin_url, app_url, pool, writer, vault=opened,
                       read_pool=read_pool)
    finally:
        await writer.stop()
        stop.set()
        if checkpointer is not None:
            await checkpointer
        if pusher is not None:
            await pusher
        for opened_pool in (read_pool, writer_pool, pool):
            if opened_pool is not None:
                await close_pool(opened_pool, settings.pool_close_grace_s)


async def _open_pool(settings: Settings, url: str, min_size: int, max_size: int) -> Pool:
    return await open_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        acquire_timeout=settings.pool_acquire_timeout_s,
        command_timeout=settings.command_timeout_s,
        timeout=settings.connect_timeout_s,
        server_settings=SESSION_SETTINGS,
    )


async def _open_read_pool(settings: Settings) -> Pool:
    """The replica's pool, as the INSERT/SELECT role like the primary's. Opened lazily
    (``min_size=0``), so a replica that is down does not stop the start."""
    assert settings.read_database_url is not None
    return await _open_pool(settings, with_user(settings.read_database_url, settings.app_role),
                            0, settings.pool_max_size)
