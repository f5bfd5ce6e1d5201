"""``bloodtrace donors``: erase a donor's identity (crypto-shredding) and list the donors
past retention. These run with the operator's database credentials, as an admin: the shred
is recorded in the log as ``DonorIdentityShredded`` by an admin actor."""

from __future__ import annotations

import asyncio
from typing import Annotated

import orjson
import typer
from rich.console import Console

from app.bootstrap import open_services, resolve_admin_url
from app.config import Settings
from app.errors import DomainError
from app.events.messages import Actor

donors_app = typer.Typer(help="The donor identity vault.", no_args_is_help=True)
err = Console(stderr=True)
CLI_ADMIN = Actor(key_id="cli:donors", role="admin", site_id=None)


def _settings() -> Settings:
    settings = Settings()
    return settings.model_copy(update={"database_url": resolve_admin_url(settings)})


@donors_app.command("shred")
def shred(
    donor_id: Annotated[str, typer.Argument(help="The donor's pseudonym")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the log)")],
) -> None:
    """Destroy the donor's data key: the identity can never be read again; the donor's
    history stays in the log under the pseudonym, and the log still verifies."""
    async def run() -> dict[str, object]:
        async with open_services(_settings()) as services:
            assert services.vault is not None
            result = await services.vault.shred(CLI_ADMIN, donor_id, reason)
            return {"donor_id": donor_id, "shredded": True, "position": result.position}

    try:
        outcome = asyncio.run(run())
    except DomainError as exc:
        err.print(f"[red]{exc.rule}: {exc.detail}[/red]")
        raise typer.Exit(1) from None
    print(orjson.dumps(outcome).decode())


@donors_app.command("retention")
def retention() -> None:
    """List the donors whose identity is past retention (``donor_retention_years`` after
    the last donation), as JSON: candidates for ``donors shred``."""
    from datetime import UTC, datetime

    from app.store.read_donors import past_retention

    settings = _settings()

    async def run() -> list[dict[str, object]]:
        async with open_services(settings, checkpoints=False) as services, \
                services.pool.acquire() as con:
            return await past_retention(con, settings.donor_retention_years,
                                        datetime.now(UTC))

    found = asyncio.run(run())
    print(orjson.dumps({"retention_years": settings.donor_retention_years, "donors": found},
                       option=orjson.OPT_INDENT_2).decode())


def register(app: typer.Typer) -> None:
    """Add ``donors`` to the ``bloodtrace`` command line."""
    app.add_typer(donors_app, name="donors")
