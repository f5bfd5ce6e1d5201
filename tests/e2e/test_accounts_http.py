"""People over HTTP (WEB.md §1): signing in and out, the cookie, CSRF, the idle timeout, the
lock, electronic signatures on release, a machine that tries to sign, and an auditor who
finds every step of one person."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from app.bootstrap import Services
from app.store import accounts
from tests.conftest import KeyMaker
from tests.e2e.api_world import PROBLEM, Net, din
from tests.support.people_http import Person, enrol, sign_in


@pytest.fixture
async def net(client: httpx.AsyncClient, make_key: KeyMaker) -> Net:
    return await Net(client, make_key).setup()


async def _processing(net: Net, user: str = "rana") -> Person:
    return await enrol(net.client, net.keys["admin"], user, "processing", "BB1")


async def _tested_red(net: Net, n: int) -> str:
    red, _ = await net.split(await net.collect(n))
    await net.test_all(din(n))
    return red


def _problem(response: httpx.Response, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["rule"] == rule, body
    return body


async def _post(net: Net, who: Person, type_: str, data: dict[str, Any],
                **envelope: Any) -> httpx.Response:
    return await net.client.post("/v1/events", json={"type": type_, "data": data, **envelope},
                                 headers=who.headers)


async def test_sign_in_and_out(net: Net) -> None:
    created = await net.client.post("/v1/users", headers=net.keys["admin"], json={
        "user_id": "rana", "role": "processing", "site_id": "BB1", "name": "Rana Haddad"})
    assert created.status_code == 201, created.text
    password = created.json()["password"]
    response = await net.client.post("/v1/session", json={"user": "rana",
                                                           "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user_id", "role", "site_id", "csrf_token"}
    assert (body["user_id"], body["role"], body["site_id"]) == ("rana", "processing", "BB1")
    cookie = response.cookies["bt_session"]
    net.client.cookies.clear()
    jar = {"Cookie": f"bt_session={cookie}"}
    me = await net.client.get("/v1/session", headers=jar)
    assert me.status_code == 200 and me.json()["csrf_token"] == body["csrf_token"]
    _problem(await net.client.delete("/v1/session", headers=jar), 403, "csrf-token-required")
    out = await net.client.delete("/v1/session",
                                  headers={**jar, "X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    assert "bt_session=" in out.headers["set-cookie"]
    _problem(await net.client.get("/v1/session", headers=jar), 401, "session-expired")
    _problem(await net.client.get("/v1/units/x", headers=jar), 401, "session-expired")
    wrong = await net.client.post("/v1/session", json={"user": "rana", "password": "nope"})
    assert password not in _problem(wrong, 401, "sign-in-failed")["detail"]
    _problem(await net.client.post("/v1/session", json={"user": "nobody",
                                                        "password": password}),
             401, "sign-in-failed")


async def test_the_cookie_is_httponly_samesite_strict_and_secure_over_tls(
        net: Net, services: Services) -> None:
    password = (await net.client.post("/v1/users", headers=net.keys["admin"], json={
        "user_id": "tls", "role": "auditor"})).json()["password"]
    plain = await net.client.post("/v1/session", json={"user": "tls", "password": password})
    flags = [f.strip().lower() for f in plain.headers["set-cookie"].split(";")]
    assert {"httponly", "samesite=strict", "path=/"} <= set(flags)
    assert "secure" not in flags
    # A forwarded scheme is believed only from a configured proxy (uvicorn's
    # forwarded_allow_ips), never from the client itself.
    forged = await net.client.post("/v1/session", json={"user": "tls", "password": password},
                                   headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in [f.strip().lower() for f in forged.headers["set-cookie"].split(";")]
    transport = httpx.ASGITransport(app=net.client._transport.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="https://bt.test") as tls:
        secure = await tls.post("/v1/session", json={"user": "tls", "password": password})
    assert secure.status_code == 200
    assert "secure" in [f.strip().lower() for f in secure.headers["set-cookie"].split(";")]


async def test_a_write_with_the_cookie_needs_the_csrf_token(net: Net) -> None:
    rana = await _processing(net)
    unit = await net.collect(1)
    data = {"unit_id": unit, "reason": "lipaemic"}
    cookie_only = {"Cookie": rana.headers["Cookie"]}
    body = _problem(await net.client.post("/v1/events", headers=cookie_only,
                                          json={"type": "UnitQuarantined", "data": data}),
                    403, "csrf-token-required")
    assert body["field"] == "X-CSRF-Token"
    _problem(await net.client.post("/v1/events", headers={**cookie_only,
                                                          "X-CSRF-Token": "forged"},
                                   json={"type": "UnitQuarantined", "data": data}),
             403, "csrf-token-required")
    assert (await _post(net, rana, "UnitQuarantined", data)).status_code == 201
    # Reading needs no token; an API key never needs one.
    assert (await net.client.get(f"/v1/units/{unit}", headers=cookie_only)).status_code == 200


async def test_the_session_ends_after_the_idle_timeout(net: Net, fresh_db: str) -> None:
    rana = await _processing(net)
    assert (await net.client.get("/v1/session", headers=rana.headers)).status_code == 200
    con = await asyncpg.connect(fresh_db)
    try:  # fifteen minutes pass without a request (session_idle_minutes, default 15)
        await con.execute("UPDATE sessions SET last_seen_at = last_seen_at - interval '14 min'")
        assert (await net.client.get("/v1/session", headers=rana.headers)).status_code == 200
        await con.execute("UPDATE sessions SET last_seen_at = last_seen_at - interval '16 min'")
    finally:
        await con.close()
    body = _problem(await net.client.get("/v1/session", headers=rana.headers), 401,
                    "session-expired")
    assert "15 minutes" in body["detail"]
    _problem(await net.client.get("/v1/session", headers=rana.headers), 401, "session-expired")


async def test_a_sign_in_sweeps_the_sessions_that_idled_out(net: Net, fresh_db: str) -> None:
    """A tab closed without signing out leaves its session row; the next sign-in of anyone
    deletes every row idle past ``session_idle_minutes``, and no live one."""
    rana = await _processing(net)
    sami = await enrol(net.client, net.keys["admin"], "sami", "processing", "BB1")
    con = await asyncpg.connect(fresh_db)
    try:
        await con.execute("UPDATE sessions SET last_seen_at = last_seen_at - interval '16 min' "
                          "WHERE user_id = 'rana'")
        assert await con.fetchval("SELECT count(*) FROM sessions") == 2
        await sign_in(net.client, "sami", sami.password)
        left = await con.fetch("SELECT user_id FROM sessions ORDER BY user_id")
    finally:
        await con.close()
    assert [r["user_id"] for r in left] == ["sami", "sami"]
    _problem(await net.client.get("/v1/session", headers=rana.headers), 401, "session-expired")
    assert (await net.client.get("/v1/session", headers=sami.headers)).status_code == 200


async def test_five_failed_sign_ins_lock_the_account_and_the_lock_is_recorded(
        net: Net, fresh_db: str) -> None:
    rana = await _processing(net)
    for _ in range(4):
        _problem(await net.client.post("/v1/session", json={"user": "rana",
                                                            "password": "not it at all"}),
                 401, "sign-in-failed")
    _problem(await net.client.post("/v1/session", json={"user": "rana",
                                                        "password": "not it at all"}),
             401, "account-locked")
    _problem(await net.client.post("/v1/session", json={"user": "rana",
                                                        "password": rana.password}),
             401, "account-locked")
    # The lock ended the open session too.
    _problem(await net.client.get("/v1/session", headers=rana.headers), 401, "session-expired")
    feed = (await net.get("auditor", "/v1/audit/events", type="AccountLocked")).json()
    [locked] = feed["events"]
    assert locked["data"]["user_id"] == "rana" and locked["data"]["failures"] == 5
    assert locked["actor"]["key_id"] == "system"
    con = await asyncpg.connect(fresh_db)
    try:  # the window passes
        await con.execute("UPDATE accounts SET locked_until = now() - interval '1 s'")
    finally:
        await con.close()
    again = await net.client.post("/v1/session", json={"user": "rana",
                                                       "password": rana.password})
    assert again.status_code == 200, again.text


async def test_failed_sign_ins_at_once_past_the_limit_record_one_lock(net: Net,
                                                                    fresh_db: str) -> None:
    """Four failures, then three more at once: one of them locks the account and records
    ``AccountLocked``, and the others are refused too (as locked, or as a failure counted
    after the lock), but record no second lock."""
    rana = await _processing(net)
    wrong = {"user": "rana", "password": "not it at all"}
    for _ in range(4):
        _problem(await net.client.post("/v1/session", json=wrong), 401, "sign-in-failed")
    answers = await asyncio.gather(*(net.client.post("/v1/session", json=wrong)
                                     for _ in range(3)))
    assert {a.status_code for a in answers} == {401}
    assert "account-locked" in {a.json()["rule"] for a in answers}
    _problem(await net.client.post("/v1/session", json={"user": "rana",
                                                        "password": rana.password}),
             401, "account-locked")
    feed = (await net.get("auditor", "/v1/audit/events", type="AccountLocked")).json()
    assert [e["data"]["user_id"] for e in feed["events"]] == ["rana"]
    con = await asyncpg.connect(fresh_db)
    try:  # the decision the race turns on: a lock that holds is not taken again
        now = datetime.now(UTC)
        assert not await accounts.lock(con, "rana", now, now + timedelta(minutes=30))
        await con.execute("UPDATE accounts SET locked_until = now() - interval '1 hour'")
        assert await accounts.lock(con, "rana", now, now + timedelta(minutes=30))
    finally:
        await con.close()


async def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(net: Net) -> None:
    rana = await _processing(net)
    _problem(await net.client.post("/v1/users/rana/disable", headers=net.keys["hospital@H1"],
                                   json={"reason": "left"}), 403, "forbidden")
    response = await net.client.post("/v1/users/rana/disable", headers=net.keys["admin"],
                                     json={"reason": "left the blood bank"})
    assert response.status_code == 204
    _problem(await net.client.get("/v1/session", headers=rana.headers), 401, "session-expired")
    _problem(await net.client.post("/v1/session", json={"user": "rana",
                                                        "password": rana.password}),
             401, "account-disabled")
    reset = await net.client.post("/v1/users/rana/password-reset", headers=net.keys["admin"])
    assert reset.status_code == 200 and reset.json()["password"] != rana.password
    listed = (await net.client.get("/v1/users", headers=net.keys["admin"])).json()["users"]
    [row] = [u for u in listed if u["user_id"] == "rana"]
    assert row["disabled"] is True and "password_hash" not in row


async def test_release_needs_the_persons_signature(net: Net) -> None:
    rana = await _processing(net)
    red = await _tested_red(net, 1)
    body = _problem(await _post(net, rana, "UnitReleased", {"unit_id": red}), 403,
                    "signature-required")
    assert (body["field"], body["meaning"]) == ("signature", "release")
    _problem(await _post(net, rana, "UnitReleased", {"unit_id": red},
                         signature={"password": "wrong password!", "meaning": "release"}),
             403, "signature-invalid")
    _problem(await _post(net, rana, "UnitReleased", {"unit_id": red},
                         signature={"password": rana.password, "meaning": "lift hold"}),
             422, "signature-meaning")
    signed = await _post(net, rana, "UnitReleased", {"unit_id": red},
                         signature=rana.signature("release"))
    assert signed.status_code == 201, signed.text
    history = (await net.get("auditor", f"/v1/units/{red}/history")).json()
    [released] = [e for e in history["events"] if e["type"] == "UnitReleased"]
    assert released["actor"] == {"key_id": "user:rana", "role": "processing",
                                 "site_id": "BB1", "user_id": "rana"}
    assert set(released["signature"]) == {"user_id", "meaning", "signed_at"}
    assert (released["signature"]["user_id"], released["signature"]["meaning"]) == (
        "rana", "release")
    assert rana.password not in history.__repr__() and "password" not in str(released)
    provenance = (await net.get("auditor", f"/v1/units/{red}/provenance")).json()
    [step] = [e for e in provenance["events"] if e["type"] == "UnitReleased"]
    assert step["actor"]["person"] == {"user_id": "rana", "name": "Person rana"}
    split = next(e for e in provenance["events"] if e["type"] == "UnitSplit")
    assert split["actor"]["person"] is None  # recorded by a machine's key


async def test_an_api_key_may_not_sign_nor_release(net: Net) -> None:
    red = await _tested_red(net, 2)
    key = net.keys["processing@BB1"]
    body = _problem(await net.client.post("/v1/events", headers=key, json={
        "type": "UnitReleased", "data": {"unit_id": red},
        "signature": {"password": "whatever it is", "meaning": "release"}}),
        403, "machine-cannot-sign")
    assert body["field"] == "signature" and "whatever" not in str(body)
    body = _problem(await net.machine_post("processing@BB1", "UnitReleased",
                                           {"unit_id": red}), 403, "signature-required")
    assert "machine" in body["detail"]
    batch = await net.client.post("/v1/events/batch", headers=key, json={"events": [
        {"type": "UnitReleased", "data": {"unit_id": red}}]})
    assert batch.json()["results"][0]["problem"]["rule"] == "signature-required"


async def test_an_auditor_finds_every_step_of_one_person(net: Net) -> None:
    rana = await _processing(net)
    other = await enrol(net.client, net.keys["admin"], "omar", "processing", "BB1")
    positions = set()
    for n, who in ((3, rana), (4, other), (5, rana)):
        red = await _tested_red(net, n)
        response = await _post(net, who, "UnitReleased", {"unit_id": red},
                               signature=who.signature("release"))
        assert response.status_code == 201, response.text
        if who is rana:
            positions.add(response.json()["position"])
            stored = await _post(net, rana, "UnitStored", {
                "unit_id": red, "site_id": "BB1", "location": "fridge 2"})
            assert stored.status_code == 201, stored.text
            positions.add(stored.json()["position"])
    found = (await net.get("auditor", "/v1/audit/events", user="rana")).json()["events"]
    assert {e["position"] for e in found} == positions
    assert all(e["actor"]["user_id"] == "rana" for e in found)
    assert len((await net.get("auditor", "/v1/audit/events", user="omar")).json()[
        "events"]) == 1
    _problem(await net.get("hospital@H1", "/v1/audit/events", user="rana"), 403, "forbidden")
    # Who granted what: the account events name the admin's key.
    created = (await net.get("auditor", "/v1/audit/events", type="AccountCreated")).json()
    assert {e["data"]["user_id"] for e in created["events"]} >= {"rana", "omar"}
    assert all("password" not in str(e["data"]) for e in created["events"])


async def test_totp_is_asked_for_at_sign_in_and_in_a_signature(net: Net) -> None:
    from datetime import UTC, datetime

    import pyotp

    rana = await _processing(net)
    enrolled = await net.client.post("/v1/users/rana/totp", headers=net.keys["admin"])
    assert enrolled.status_code == 200
    secret = pyotp.parse_uri(enrolled.json()["otpauth_uri"]).secret
    _problem(await net.client.post("/v1/session", json={"user": "rana",
                                                        "password": rana.password}),
             401, "sign-in-failed")
    code = pyotp.TOTP(secret).at(datetime.now(UTC))
    person = await sign_in_totp(net, rana.password, code)
    red = await _tested_red(net, 6)
    _problem(await _post(net, person, "UnitReleased", {"unit_id": red},
                         signature=person.signature("release")), 403, "signature-invalid")
    ok = await _post(net, person, "UnitReleased", {"unit_id": red},
                     signature={**person.signature("release"), "totp": code})
    assert ok.status_code == 201, ok.text


async def sign_in_totp(net: Net, password: str, code: str) -> Person:
    response = await net.client.post("/v1/session", json={"user": "rana",
                                                           "password": password,
                                                           "totp": code})
    assert response.status_code == 200, response.text
    token = response.cookies["bt_session"]
    net.client.cookies.clear()
    return Person("rana", password, token, response.json()["csrf_token"])


async def test_signing_in_again_after_signing_out_works(net: Net) -> None:
    rana = await _processing(net)
    again = await sign_in(net.client, "rana", rana.password)
    assert again.token != rana.token


async def test_guessing_across_user_ids_slows_the_client_down(net: Net) -> None:
    rana = await _processing(net)
    answers = []
    while len(answers) < 60 and (not answers or answers[-1].status_code != 429):
        answers.append(await net.client.post("/v1/session", json={
            "user": f"guess{len(answers)}", "password": "correct horse battery"}))
    assert [a.status_code for a in answers[:20]] == [401] * 20  # the burst (refilling)
    slowed = _problem(answers[-1], 429, "too-many-requests")
    assert int(answers[-1].headers["retry-after"]) >= 1 and "password" not in str(slowed)
    _problem(await net.client.post("/v1/session", json={"user": "rana",
                                                        "password": rana.password}),
             429, "too-many-requests")  # the client waits, the account is not locked


async def test_a_pages_live_refresh_does_not_keep_the_session_alive(
        net: Net, fresh_db: str) -> None:
    """A stock screen left open refreshes its fragment on every event; that is not use by
    the person, so the session still ends after the idle time (Part 11 §11.10(d))."""
    rana = await _processing(net)
    con = await asyncpg.connect(fresh_db)
    try:
        await con.execute("UPDATE sessions SET last_seen_at = last_seen_at - interval '10 min'")
        seen = await con.fetchval("SELECT last_seen_at FROM sessions")
        for _ in range(3):
            fragment = await net.client.get("/stock/fragment", headers=rana.headers)
            assert fragment.status_code == 200, fragment.text
        assert await con.fetchval("SELECT last_seen_at FROM sessions") == seen
        await con.execute("UPDATE sessions SET last_seen_at = last_seen_at - interval '6 min'")
        ended = await net.client.get("/stock/fragment", headers=rana.headers)
        assert ended.status_code in (302, 303, 307), ended.text
        assert ended.headers["location"].startswith("/signin")
        # The person's own request is use: a page opened in time keeps the session.
        await con.execute("DELETE FROM sessions")
        rana = await _processing(net, "rana2")
        await con.execute("UPDATE sessions SET last_seen_at = last_seen_at - interval '10 min'")
        seen = await con.fetchval("SELECT last_seen_at FROM sessions")
        assert (await net.client.get("/stock", headers=rana.headers)).status_code == 200
        assert await con.fetchval("SELECT last_seen_at FROM sessions") > seen
    finally:
        await con.close()
