"""WEB.md §1, accounts are events: given the network, when an admin creates, changes,
disables or resets an account, then the log says so, with no password material; anyone
else is refused, and an account is created once, at a registered site or none."""

from __future__ import annotations

from app.events.payload import dump
from tests.support.scene import ADMIN, actor, scene


def _create(**extra: str) -> dict[str, str]:
    return {"user_id": "rana.haddad", "name": "Rana Haddad", "role": "processing",
            "site_id": "BB1", **extra}


def test_an_admin_creates_an_account_once() -> None:
    s = scene()
    [created] = s.do("AccountCreated", _create(), ADMIN)
    assert created.stream == "account:rana.haddad"
    assert ("account", "rana.haddad") in created.refs
    assert set(dump(created.data)) == {"user_id", "name", "role", "site_id"}
    assert s.refuse("AccountCreated", _create(), ADMIN).rule == "account-exists"


def test_only_an_admin_manages_accounts() -> None:
    s = scene()
    for role, site in (("processing", "BB1"), ("hospital", "H1"), ("auditor", None)):
        assert s.refuse("AccountCreated", _create(), actor(role, site)).rule == (
            "role-not-allowed")


def test_national_roles_have_no_site_and_site_roles_a_registered_one() -> None:
    s = scene()
    assert s.refuse("AccountCreated", _create(role="auditor"), ADMIN).field == "data.site_id"
    no_site = {"user_id": "x1", "name": "X", "role": "hospital"}
    assert s.refuse("AccountCreated", no_site, ADMIN).field == "data.site_id"
    assert s.refuse("AccountCreated", _create(site_id="NOWHERE"), ADMIN).rule == (
        "site-not-found")
    s.do("AccountCreated", {"user_id": "aud", "name": "Auditor", "role": "auditor"}, ADMIN)


def test_changing_disabling_and_resetting_need_the_account() -> None:
    s = scene()
    for type_, data in (("AccountDisabled", {"user_id": "ghost", "reason": "left"}),
                        ("AccountPasswordReset", {"user_id": "ghost"}),
                        ("AccountChanged", {"user_id": "ghost", "name": "G",
                                            "role": "lab", "site_id": "LAB1"})):
        assert s.refuse(type_, data, ADMIN).rule == "account-not-found"
    s.do("AccountCreated", _create(), ADMIN)
    s.do("AccountChanged", {"user_id": "rana.haddad", "name": "Rana H.", "role": "lab",
                            "site_id": "LAB1"}, ADMIN)
    s.do("AccountDisabled", {"user_id": "rana.haddad", "reason": "left"}, ADMIN)
    state = s.world.get(("account", "rana.haddad"))
    assert state is not None and state.model_dump()["role"] == "lab"
    assert state.model_dump()["disabled"] is True
