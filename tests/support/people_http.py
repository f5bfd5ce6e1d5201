"""People beside the keys of the HTTP test networks (WEB.md §1).

A machine's API key cannot sign, so the signed steps of a test network (release, lifting a
blood-establishment hold, emergency issue, override, reinstating a donor, closing a lookback)
are recorded by the person of the same role and site: an admin creates their account over
the API, they sign in (``POST /v1/session``) and send the step with the session cookie, the
CSRF token and their signature. Everything else stays with the machine keys.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from app.api.deps import CSRF_HEADER, SESSION_COOKIE
from app.events.signatures import meaning_of


@dataclass(frozen=True, slots=True)
class Person:
    user_id: str
    password: str
    token: str
    csrf_token: str

    @property
    def headers(self) -> dict[str, str]:
        """What a browser sends: the session cookie and the CSRF token."""
        return {"Cookie": f"{SESSION_COOKIE}={self.token}", CSRF_HEADER: self.csrf_token}

    def signature(self, meaning: str) -> dict[str, Any]:
        return {"password": self.password, "meaning": meaning}


def user_id_of(name: str) -> str:
    """``processing@BB1`` → ``processing.bb1``."""
    return name.replace("@", ".").lower()


async def sign_in(client: httpx.AsyncClient, user_id: str, password: str) -> Person:
    """Sign in; the cookie is kept by the person, not by the shared client."""
    response = await client.post("/v1/session", json={"user": user_id, "password": password})
    assert response.status_code == 200, response.text
    token = response.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return Person(user_id, password, token, response.json()["csrf_token"])


async def enrol(client: httpx.AsyncClient, admin: dict[str, str], user_id: str, role: str,
                site: str | None) -> Person:
    """An admin creates the account; the person signs in."""
    body: dict[str, Any] = {"user_id": user_id, "role": role, "name": f"Person {user_id}"}
    if site is not None:
        body["site_id"] = site
    response = await client.post("/v1/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return await sign_in(client, user_id, response.json()["password"])


class Staff:
    """The people of a network, by key name, enrolled the first time one signs a step (or
    when a test says so, ``person``, before it counts the log)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.people: dict[str, Person] = {}
        self.tag = secrets.token_hex(3)
        """Networks built over one database (the matrix) each have their own people."""

    async def person(self, admin: dict[str, str], name: str, role: str,
                     site: str | None) -> Person:
        if name not in self.people:
            self.people[name] = await enrol(
                self.client, admin, f"{user_id_of(name)}.{self.tag}", role, site)
        return self.people[name]

    async def route(self, admin: dict[str, str], name: str, role: str, site: str | None,
                    type_: str, data: dict[str, Any], envelope: dict[str, Any],
                    headers: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
        """The headers and envelope of one step: a signed step goes through the person of
        ``name``, signed; anything else (or a step the test signs itself) as given."""
        meaning = meaning_of(type_, data)
        if meaning is None or "signature" in envelope or role == "auditor":
            return headers, envelope
        who = await self.person(admin, name, role, site)
        return who.headers, {**envelope, "signature": who.signature(meaning)}
