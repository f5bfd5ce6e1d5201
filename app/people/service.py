"""The accounts service: what the admin API, the CLI and the sign-in share.

Each change to an account is an event recorded through the writer first (the domain
refuses a duplicate user id, an unknown site or a missing account), then its credentials are
written outside the log. The password is checked again for a signature exactly as for a
sign-in, and a failure counts towards the lock either way. Hashing runs in a thread: argon2id
is slow on purpose and must not stall the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from uuid import uuid4

import asyncpg

from app.config import Settings
from app.errors import (
    AccountDisabled,
    AccountLocked,
    AccountNotFound,
    SessionExpired,
    SignatureInvalid,
    SignInFailed,
)
from app.events.messages import SYSTEM_ACTOR, Actor, Command, Signature, content_hash
from app.log.record import format_time
from app.people import passwords, totp
from app.people.lockout import LockPolicy, is_locked
from app.store import accounts as store
from app.store.accounts import Credentials
from app.store.errors import map_driver_errors
from app.store.writer import Writer

OPERATOR = Actor(key_id="cli", role="admin", site_id=None)
"""Who records what the server's own console does (``bloodtrace users``, the demo): the
operator of the machine, an admin."""


@cache
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """What an unknown user's password is checked against, at the configured cost, so that
    the answer takes as long as for a known one."""
    return passwords.hash_password("a password no account has, for constant timing",
                                   passwords.hasher(time_cost, memory_kib))


@dataclass(frozen=True, slots=True)
class SignedIn:
    actor: Actor
    token: str
    csrf_token: str


@dataclass(slots=True)
class People:
    pool: asyncpg.Pool
    writer: Writer
    settings: Settings

    @property
    def policy(self) -> LockPolicy:
        return LockPolicy(self.settings.signin_lock_failures,
                          timedelta(minutes=self.settings.signin_lock_minutes))

    def _hash(self, password: str) -> str:
        return passwords.hash_password(password, passwords.hasher(
            self.settings.password_hash_time_cost, self.settings.password_hash_memory_kib))

    async def _record(self, by: Actor, type_: str, data: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        cmd = Command(type=type_, data=data, event_id=uuid4(), occurred_at=now,
                      recorded_at=now, actor=by)
        await self.writer.append(cmd, content_hash(cmd, False))

    async def _credentials(self, user_id: str) -> Credentials | None:
        async with map_driver_errors(), self.pool.acquire() as con:
            return await store.credentials(con, user_id)

    # --- administration --------------------------------------------------------------

    async def create(self, by: Actor, user_id: str, role: str, site_id: str | None,
                     name: str | None = None, password: str | None = None) -> str:
        """A new account; returns its password (generated unless given), shown once."""
        password = password if password is not None else passwords.generate_password()
        passwords.check_password(password, self.settings.password_min_length)
        hashed = await asyncio.to_thread(self._hash, password)
        display = name or user_id
        data: dict[str, Any] = {"user_id": user_id, "name": display, "role": role}
        if site_id is not None:
            data["site_id"] = site_id
        await self._record(by, "AccountCreated", data)
        async with map_driver_errors(), self.pool.acquire() as con:
            await store.insert_account(con, user_id, display, role, site_id, hashed)
        return password

    async def change(self, by: Actor, user_id: str, name: str, role: str,
                     site_id: str | None) -> None:
        data: dict[str, Any] = {"user_id": user_id, "name": name, "role": role}
        if site_id is not None:
            data["site_id"] = site_id
        await self._record(by, "AccountChanged", data)
        async with map_driver_errors(), self.pool.acquire() as con:
            await store.update_profile(con, user_id, name, role, site_id)

    async def disable(self, by: Actor, user_id: str, reason: str) -> None:
        await self._record(by, "AccountDisabled", {"user_id": user_id, "reason": reason})
        async with map_driver_errors(), self.pool.acquire() as con:
            await store.disable(con, user_id, datetime.now(UTC))

    async def issue_password(self, by: Actor, user_id: str, name: str, role: str,
                             site_id: str | None) -> str:
        """A generated password for an account the log already holds (``AccountCreated``
        recorded elsewhere, as by the simulated network) that has no credentials yet."""
        password = passwords.generate_password()
        hashed = await asyncio.to_thread(self._hash, password)
        await self._record(by, "AccountPasswordReset", {"user_id": user_id})
        async with map_driver_errors(), self.pool.acquire() as con:
            await store.insert_account(con, user_id, name, role, site_id, hashed)
        return password

    async def reset(self, by: Actor, user_id: str) -> str:
        """A new generated password (shown once); a lock ends with it."""
        password = passwords.generate_password()
        hashed = await asyncio.to_thread(self._hash, password)
        await self._record(by, "AccountPasswordReset", {"user_id": user_id})
        async with map_driver_errors(), self.pool.acquire() as con:
            await store.set_password(con, user_id, hashed)
        return password

    async def enrol_totp(self, by: Actor, user_id: str) -> str:
        """A new TOTP secret for the account; returns its ``otpauth://`` URI, shown once."""
        secret = totp.new_secret()
        await self._record(by, "AccountTotpEnrolled", {"user_id": user_id})
        async with map_driver_errors(), self.pool.acquire() as con:
            await store.set_totp(con, user_id, secret)
        return totp.provisioning_uri(secret, user_id)

    async def list(self) -> list[dict[str, Any]]:
        async with map_driver_errors(), self.pool.acquire() as con:
            return await store.list_accounts(con)

    # --- signing in, and signing ------------------------------------------------------

    async def _check(self, user_id: str, password: str, code: str | None,
                     now: datetime) -> Credentials | None:
        """The account when the password (and TOTP) are right and it may act; None when
        they are wrong, after counting the failure (and locking, at the limit)."""
        creds = await self._credentials(user_id)
        known = creds.password_hash if creds else _dummy_hash(
            self.settings.password_hash_time_cost, self.settings.password_hash_memory_kib)
        good = await asyncio.to_thread(passwords.verify_password, known, password)
        if creds is None:
            return None
        if creds.disabled:
            raise AccountDisabled(f"account {user_id!r} is disabled")
        if creds.locked_until is not None and is_locked(creds.locked_until, now):
            raise AccountLocked(f"account {user_id!r} is locked until "
                                f"{format_time(creds.locked_until)}")
        if good and (creds.totp_secret is None or totp.verify_code(creds.totp_secret, code, now)):
            async with map_driver_errors(), self.pool.acquire() as con:
                await store.clear_failures(con, user_id)
            return creds
        async with map_driver_errors(), self.pool.acquire() as con:
            failures = await store.add_failure(con, user_id, now, now - self.policy.window)
            until = self.policy.lock_until(failures, now)
            locked = until is not None and await store.lock(con, user_id, now, until)
        if until is not None:
            if not locked:  # an attempt beside this one locked it, and recorded the lock
                raise AccountLocked(f"account {user_id!r} is locked")
            await self._record(SYSTEM_ACTOR, "AccountLocked", {
                "user_id": user_id, "failures": len(failures), "until": format_time(until)})
            raise AccountLocked(f"account {user_id!r} is locked after {len(failures)} failed "
                                f"attempts, until {format_time(until)}")
        return None

    async def sign_in(self, user_id: str, password: str, code: str | None) -> SignedIn:
        now = datetime.now(UTC)
        creds = await self._check(user_id, password, code, now)
        if creds is None:
            raise SignInFailed("unknown user, wrong password or wrong TOTP code")
        async with map_driver_errors(), self.pool.acquire() as con:
            await store.sweep_sessions(
                con, now - timedelta(minutes=self.settings.session_idle_minutes))
            token, csrf = await store.open_session(con, user_id, now)
        return SignedIn(Actor.person(user_id, creds.role, creds.site_id), token, csrf)

    async def sign(self, actor: Actor, password: str, code: str | None,
                   meaning: str) -> Signature:
        """The signed-in person's signature, once their password (and TOTP) check out."""
        assert actor.user_id is not None
        now = datetime.now(UTC)
        if await self._check(actor.user_id, password, code, now) is None:
            raise SignatureInvalid("the password or TOTP code given to sign is wrong",
                                   field="signature.password")
        return Signature(user_id=actor.user_id, meaning=meaning, signed_at=now)

    async def session(self, token: str) -> tuple[Actor, str]:
        """The person and CSRF token of a live session, which this use keeps alive."""
        actor, csrf, _ = await self.person(token)
        return actor, csrf

    async def person(self, token: str, *, keep_alive: bool = True
                     ) -> tuple[Actor, str, str]:
        """``session``, with the person's display name (for the web app's pages). A page's
        own background refresh passes ``keep_alive=False``: it is not use by the person, so
        a screen left open still signs out after ``session_idle_minutes`` (Part 11 §11.10(d),
        Annex 11 §12.1)."""
        now = datetime.now(UTC)
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        async with map_driver_errors(), self.pool.acquire() as con:
            found = await store.session(con, token)
            if found is None:
                raise SessionExpired("no such session: sign in")
            if now - found.last_seen_at > idle:
                await store.close_session(con, token)
                raise SessionExpired(
                    f"the session was idle more than {self.settings.session_idle_minutes} "
                    "minutes: sign in again")
            if keep_alive:
                await store.touch_session(con, token, now)
        return (Actor.person(found.user_id, found.role, found.site_id), found.csrf_token,
                found.name)

    async def sign_out(self, token: str) -> None:
        async with map_driver_errors(), self.pool.acquire() as con:
            await store.close_session(con, token)


def people_of(services: Any) -> People:
    """The process's accounts service (made once per ``Services``)."""
    made = services.extras.get("people")
    if made is None:
        made = services.extras["people"] = People(services.pool, services.writer,
                                                  services.settings)
    assert isinstance(made, People)
    return made


def check_found(creds: Credentials | None, user_id: str) -> Credentials:
    if creds is None:
        raise AccountNotFound(f"no account {user_id!r}", field="user_id")
    return creds
