"""``bloodtrace users``: people's accounts from the command line (WEB.md §1).

The commands go through the accounts service and the writer, as the admin API does: each
change is an event in the log, recorded as the operator of this machine (``OPERATOR``).
A generated password is printed once, as the last line of stdout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import orjson
import typer
from rich.console import Console

from app.bootstrap import open_services
from app.config import Settings
from app.errors import DomainError
from app.people.service import OPERATOR, People, people_of

T = TypeVar("T")
err = Console(stderr=True)
users_app = typer.Typer(help="People's accounts (sign-in, signatures).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _run(work: Callable[[People], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_services(Settings(), checkpoints=False) as services:
            return await work(people_of(services))

    try:
        return asyncio.run(run())
    except DomainError as exc:
        err.print(f"[red]{exc.rule}: {exc.detail}[/red]")
        raise typer.Exit(2) from None


@users_app.command("create")
def create(
    user: Annotated[str, typer.Argument(help="The user id the person signs in with.")],
    role: Annotated[str, typer.Option(help="collector, lab, processing, inventory, hospital, "
                                           "auditor or admin")],
    site: Annotated[str | None, typer.Option(help="The person's site (none for national "
                                                  "roles).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name (default: the user id).")]
    = None,
) -> None:
    """Create an account. The generated password is printed once, as the last line."""
    password = _run(lambda people: people.create(OPERATOR, user, role, site, name))
    err.print(f"user={user} role={role} site={site or '-'}: give this password to the "
              "person now; it is not shown again")
    print(password)


@users_app.command("change")
def change(
    user: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="The role the account now has.")],
    name: Annotated[str, typer.Option(help="The display name.")],
    site: Annotated[str | None, typer.Option(help="The site (none for national roles).")]
    = None,
) -> None:
    """Change an account's name, role or site (recorded as AccountChanged)."""
    _run(lambda people: people.change(OPERATOR, user, name, role, site))
    err.print(f"{user}: role={role} site={site or '-'}")


@users_app.command("disable")
def disable(
    user: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why (recorded in the log).")] = "disabled by "
    "an admin",
) -> None:
    """Disable an account: no more sign-ins; its sessions end."""
    _run(lambda people: people.disable(OPERATOR, user, reason))
    err.print(f"{user} disabled")


@users_app.command("reset")
def reset(user: Annotated[str, typer.Argument()]) -> None:
    """Give the account a new generated password (printed once, last line); a lock ends."""
    password = _run(lambda people: people.reset(OPERATOR, user))
    err.print(f"new password for {user}: it is not shown again")
    print(password)


@users_app.command("totp")
def totp(user: Annotated[str, typer.Argument()]) -> None:
    """Enrol TOTP; the otpauth:// URI (for an authenticator app) is the last line."""
    uri = _run(lambda people: people.enrol_totp(OPERATOR, user))
    err.print(f"TOTP enrolled for {user}: scan this now; it is not shown again")
    print(uri)


@users_app.command("list")
def list_users() -> None:
    """Every account, one JSON object a line (no credentials)."""
    for row in _run(lambda people: people.list()):
        print(orjson.dumps(row).decode())
