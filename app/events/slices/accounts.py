"""People's accounts (WEB.md §1): created, changed, disabled, locked and reset by the log.

Creating, changing and disabling an account is an admin's step, so an auditor sees who
granted what; the lock after repeated failed sign-ins is recorded by the service itself.
No event holds password material: the password hash and the TOTP secret live outside the
log (``app.store.accounts``), and ``AccountPasswordReset`` and ``AccountTotpEnrolled`` only
say that they changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import StrictInt

from app.errors import AccountExists, AccountNotFound, InvalidEventData
from app.events.decision import Decision
from app.events.event_type import Changes, EventType, RawData, reads_key, roles
from app.events.fields import Ident, Text, Timestamp
from app.events.messages import Event
from app.events.payload import EventData
from app.events.state import AccountState, World, get_account, updated

Role = Literal["collector", "lab", "processing", "inventory", "hospital", "auditor", "admin"]
NATIONAL_ROLES = frozenset({"auditor", "admin"})


class AccountCreated(EventData):
    """A person may sign in: their user id, display name, role and site (none for the
    national roles, auditor and admin)."""

    user_id: Ident
    name: Text
    role: Role
    site_id: Ident | None = None


class AccountChanged(EventData):
    """The account's name, role or site as they now are."""

    user_id: Ident
    name: Text
    role: Role
    site_id: Ident | None = None


class AccountDisabled(EventData):
    """The person may no longer sign in; their open sessions end."""

    user_id: Ident
    reason: Text


class AccountLocked(EventData):
    """Locked after ``failures`` failed sign-ins in the lock window, until ``until``."""

    user_id: Ident
    failures: StrictInt
    until: Timestamp


class AccountPasswordReset(EventData):
    """An admin gave the person a new password (shown once, never recorded); a lock ends."""

    user_id: Ident


class AccountTotpEnrolled(EventData):
    """The person signs in (and signs) with a TOTP code as well as the password."""

    user_id: Ident


def _account(d: Decision, user_id: str) -> AccountState:
    account = get_account(d.world, user_id)
    if account is None:
        raise AccountNotFound(f"no account {user_id!r}", field="data.user_id")
    return account


def _check_site(d: Decision, data: AccountCreated | AccountChanged) -> None:
    if (data.role in NATIONAL_ROLES) != (data.site_id is None):
        raise InvalidEventData("auditor and admin accounts have no site; every other role "
                               "needs site_id", field="data.site_id")
    if data.site_id is not None:
        d.site(data.site_id, "data.site_id")


def _refs(data: AccountCreated | AccountChanged) -> set[tuple[str, str]]:
    """The account, and the site it works for: its feed shows who works there."""
    refs = {("account", data.user_id)}
    if data.site_id is not None:
        refs.add(("site", data.site_id))
    return refs


def _stream(user_id: str) -> str:
    return f"account:{user_id}"


def account_created(d: Decision, data: AccountCreated) -> None:
    """A new account (admins only, by the role matrix)."""
    if get_account(d.world, data.user_id) is not None:
        raise AccountExists(f"account {data.user_id!r} already exists", field="data.user_id")
    _check_site(d, data)
    d.emit(data, _stream(data.user_id), _refs(data))


def account_changed(d: Decision, data: AccountChanged) -> None:
    _account(d, data.user_id)
    _check_site(d, data)
    d.emit(data, _stream(data.user_id), _refs(data))


def account_step(d: Decision, data: AccountDisabled | AccountLocked | AccountPasswordReset
                 | AccountTotpEnrolled) -> None:
    """A step on an existing account."""
    _account(d, data.user_id)
    d.emit(data, _stream(data.user_id), {("account", data.user_id)})


def _created(world: World, e: Event, data: AccountCreated) -> Changes:
    return {("account", data.user_id): AccountState(
        user_id=data.user_id, name=data.name, role=data.role, site_id=data.site_id)}


def _changed(world: World, e: Event, data: AccountChanged) -> Changes:
    account = get_account(world, data.user_id)
    if account is None:
        return {}
    return {("account", data.user_id): updated(account, {
        "name": data.name, "role": data.role, "site_id": data.site_id})}


def _flag(flag: str, value: bool) -> Callable[[World, Event, Any], Changes]:
    """An evolve step that sets one flag of the account."""
    def evolve(world: World, e: Event, data: Any) -> Changes:
        account = get_account(world, data.user_id)
        if account is None:
            return {}
        return {("account", data.user_id): updated(account, {flag: value})}
    return evolve


def _unchanged(world: World, e: Event, data: EventData) -> Changes:
    return {}


def _reads_account(data: RawData) -> list[tuple[tuple[str, str], bool]]:
    return reads_key("account", data.get("user_id"))


_USER = {"user_id": "rana.haddad"}
TYPES = (
    EventType(AccountCreated, _created, account_created, roles(), _reads_account,
              {**_USER, "name": "Rana Haddad", "role": "processing", "site_id": "BB-DAM-01"},
              acting_sites=()),
    EventType(AccountChanged, _changed, account_changed, roles(), _reads_account,
              {**_USER, "name": "Rana Haddad", "role": "lab", "site_id": "LAB-DAM-01"},
              acting_sites=()),
    EventType(AccountDisabled, _flag("disabled", True), account_step,
              roles(), _reads_account, {**_USER, "reason": "left the blood bank"}),
    EventType(AccountLocked, _unchanged, account_step, roles(), _reads_account,
              {**_USER, "failures": 5, "until": "2026-11-20T09:45:00Z"}),
    EventType(AccountPasswordReset, _unchanged, account_step, roles(), _reads_account, _USER),
    EventType(AccountTotpEnrolled, _flag("totp", True), account_step,
              roles(), _reads_account, _USER),
)
