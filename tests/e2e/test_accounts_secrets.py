"""Acceptance (issue 14): no password, password hash or TOTP secret is ever in the log, an
export, a log line or an error body. A person's whole life — created, enrolled in TOTP,
signing in, signing a release, mistyping, locked, reset — is run over HTTP with every log
line captured; then the export, the log's records, the captured lines and every refusal are
searched for each secret."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import asyncpg
import httpx
import pyotp
import pytest

from app.bootstrap import Services
from tests.conftest import KeyMaker
from tests.e2e.api_world import Net, din
from tests.e2e.matrix_http import sign_checkpoint
from tests.support.people_http import Person


async def _session(client: httpx.AsyncClient, password: str, code: str | None,
                   refusals: list[str]) -> Person | None:
    body = {"user": "layla", "password": password} | ({"totp": code} if code else {})
    response = await client.post("/v1/session", json=body)
    if response.status_code != 200:
        refusals.append(response.text)
        return None
    token = response.cookies["bt_session"]
    client.cookies.clear()
    return Person("layla", password, token, response.json()["csrf_token"])


async def test_no_secret_in_the_log_the_export_the_log_lines_or_an_error_body(
        client: httpx.AsyncClient, make_key: KeyMaker, services: Services, fresh_db: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    net = await Net(client, make_key).setup()
    refusals: list[str] = []
    created = await client.post("/v1/users", headers=net.keys["admin"], json={
        "user_id": "layla", "role": "processing", "site_id": "BB1", "name": "Layla Nasser"})
    first = created.json()["password"]
    enrolled = await client.post("/v1/users/layla/totp", headers=net.keys["admin"])
    secret = pyotp.parse_uri(enrolled.json()["otpauth_uri"]).secret
    now = datetime.now(UTC)
    code = pyotp.TOTP(secret).at(now)
    person = await _session(client, first, code, refusals)
    assert person is not None
    red, _ = await net.split(await net.collect(1))
    await net.test_all(din(1))
    for signature in ({"password": first, "meaning": "release"},  # no TOTP
                      {"password": first + "x", "totp": code, "meaning": "release"},
                      {"password": first, "totp": code, "meaning": "lift hold"}):
        refused = await client.post("/v1/events", headers=person.headers, json={
            "type": "UnitReleased", "data": {"unit_id": red}, "signature": signature})
        assert refused.status_code >= 400
        refusals.append(refused.text)
    machine = await client.post("/v1/events", headers=net.keys["processing@BB1"], json={
        "type": "UnitReleased", "data": {"unit_id": red},
        "signature": {"password": first, "meaning": "release"}})
    refusals.append(machine.text)
    invalid = await client.post("/v1/session", json={"user": "layla", "password": first,
                                                     "totp": "12345x"})
    refusals.append(invalid.text)
    released = await client.post("/v1/events", headers=person.headers, json={
        "type": "UnitReleased", "data": {"unit_id": red},
        "signature": {"password": first, "totp": code, "meaning": "release"}})
    assert released.status_code == 201, released.text
    for _ in range(5):  # mistyped until the account locks
        assert await _session(client, first[::-1], code, refusals) is None
    reset = await client.post("/v1/users/layla/password-reset", headers=net.keys["admin"])
    second = reset.json()["password"]
    assert await _session(client, second, pyotp.TOTP(secret).now(), refusals) is not None
    await sign_checkpoint(services)

    size = (await client.get("/readyz")).json()["log_size"]
    export = await client.get("/v1/export", headers=net.keys["auditor"],
                              params={"to": size})
    assert export.status_code == 200
    lines = [json.loads(line) for line in export.text.splitlines()]
    exported = [json.loads(x["record"]) for x in lines if x["kind"] == "record"]
    assert len(exported) == size
    con = await asyncpg.connect(fresh_db)
    try:
        hashed = await con.fetchval("SELECT password_hash FROM accounts WHERE user_id = 'layla'")
        records = b"\n".join(r["record"] for r in await con.fetch("SELECT record FROM events"))
        types = {r["type"] for r in await con.fetch("SELECT type FROM events")}
    finally:
        await con.close()
    assert {"AccountCreated", "AccountTotpEnrolled", "AccountLocked",
            "AccountPasswordReset", "UnitReleased"} <= types
    [signed] = [r for r in exported if "signature" in r]
    assert (signed["type"], signed["signature"]["user_id"]) == ("UnitReleased", "layla")
    assert b'"user_id":"layla"' in records
    places = {"the export": export.text, "the log's records": records.decode(),
              "the log lines": caplog.text, "the error bodies": "\n".join(refusals)}
    assert len(refusals) >= 10 and caplog.text
    secrets = {"first password": first, "second password": second, "hash": hashed,
               "hash's salt and digest": hashed.rsplit("$", 2)[-2],
               "TOTP secret": secret}
    for place, text in places.items():
        for name, value in secrets.items():
            assert value not in text, f"the {name} is in {place}"
