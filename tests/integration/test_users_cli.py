"""``bloodtrace users``: the fixed interface of WEB.md §1. ``users create`` prints the
generated password as the last line of stdout; the person signs in with it; ``reset`` gives
a new one; ``disable`` stops sign-ins; ``list`` shows no credentials; each is an event."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from app.cli.users import register
from app.errors import AccountDisabled, SignInFailed
from app.people.service import people_of
from tests.support.factories import command


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


async def _invoke(args: list[str]) -> Any:
    return await asyncio.to_thread(CliRunner().invoke, _cli(), args)


async def test_users_create_reset_disable_list(services: Any, fresh_db: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_db)
    cmd, digest = command("SiteRegistered", {"site_id": "BB1", "name": "Bank",
                                             "kind": "blood_bank", "region": "Damascus"})
    await services.writer.append(cmd, digest)
    made = await _invoke(["users", "create", "rana", "--role", "processing", "--site", "BB1",
                          "--name", "Rana Haddad"])
    assert made.exit_code == 0, made.output
    password = made.stdout.splitlines()[-1]
    assert len(password) >= 12
    people = people_of(services)
    signed_in = await people.sign_in("rana", password, None)
    assert (signed_in.actor.user_id, signed_in.actor.role, signed_in.actor.site_id) == (
        "rana", "processing", "BB1")
    again = await _invoke(["users", "create", "rana", "--role", "processing", "--site", "BB1"])
    assert again.exit_code == 2 and "account-exists" in again.output
    national = await _invoke(["users", "create", "aud", "--role", "auditor", "--site", "BB1"])
    assert national.exit_code == 2

    reset = await _invoke(["users", "reset", "rana"])
    assert reset.exit_code == 0, reset.output
    fresh = reset.stdout.splitlines()[-1]
    assert fresh != password
    with pytest.raises(SignInFailed):
        await people.sign_in("rana", password, None)
    await people.sign_in("rana", fresh, None)

    changed = await _invoke(["users", "change", "rana", "--role", "inventory", "--site", "BB1",
                             "--name", "Rana Haddad"])
    assert changed.exit_code == 0, changed.output
    assert (await people.sign_in("rana", fresh, None)).actor.role == "inventory"
    listed = await _invoke(["users", "list"])
    [row] = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert (row["user_id"], row["name"], row["disabled"]) == ("rana", "Rana Haddad", False)
    assert fresh not in listed.stdout and "argon2" not in listed.stdout

    assert (await _invoke(["users", "disable", "rana", "--reason", "left"])).exit_code == 0
    with pytest.raises(AccountDisabled):
        await people.sign_in("rana", fresh, None)
    async with services.pool.acquire() as con:
        types = [r["type"] for r in await con.fetch(
            "SELECT type FROM events WHERE stream = 'account:rana' ORDER BY position")]
        records = b"".join(r["record"] for r in await con.fetch("SELECT record FROM events"))
    assert types == ["AccountCreated", "AccountPasswordReset", "AccountChanged",
                     "AccountDisabled"]
    assert password.encode() not in records and fresh.encode() not in records
