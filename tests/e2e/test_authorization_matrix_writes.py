"""The write half of the authorization matrix (issue 20): every event type of the registry
through ``POST /v1/events`` and ``POST /v1/events/batch``, lookbacks through
``POST /v1/lookbacks`` and the key routes, for every key of the two-region network, against
the relation model (``tests/support/step_rules.py``).

A key the model refuses must get the refusal of one of its reasons (a 403 naming the rule;
the documented ``not-custodian`` when it may not even read the unit), a refusal that names
no site it may not know of, and no change to the log; in a batch, the same answer item by
item. A key the model allows gets a 201, on a subject of its own when the step uses one up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from app.events.signatures import meaning_of
from tests.e2e import matrix_writes
from tests.e2e.matrix_http import CONCURRENCY, at_most, leaked_patients, matrix_over
from tests.e2e.matrix_network import ADMIN, KEYS, SITES, Network
from tests.e2e.matrix_scope import WRITE_ROUTES, Mismatch, assert_only_known_holes
from tests.e2e.matrix_writes import CASES, Case, Subject
from tests.support.relations import SITE_FIELDS, Key, Relations
from tests.support.step_rules import refusals

ANSWERS = {
    "role": {(403, "role-not-allowed")}, "site-scope": {(403, "site-scope")},
    "custody": {(403, "not-custodian")},
    "destination": {(403, "not-destination"), (403, "not-custodian")},
    "lab": {(403, "lab-not-serving")}, "site-kind": {(409, "site-kind-not-allowed")},
    "lookback-scope": {(403, "lookback-out-of-scope")},
    "donor-scope": {(403, "donor-out-of-scope")},
    "hold": {(403, "hold-lift-not-allowed")},
    "lookback-site": {(409, "lookback-site-mismatch")},
    "scope": {(403, "lookback-out-of-scope"), (403, "not-custodian"), (403, "site-scope")},
}
"""The refusal each reason of the model is documented to give."""
UNSEEN = (403, "not-custodian")
"""What a key is told about a unit it may not read, whatever the reason (item 14)."""

Sent = tuple[Case, Key, dict[str, Any], set[str], httpx.Response]
ACCOUNT_ROUTES = {("POST", "/v1/users"), ("PUT", "/v1/users/{user_id}"),
                  ("POST", "/v1/users/{user_id}/disable"),
                  ("POST", "/v1/users/{user_id}/password-reset"),
                  ("POST", "/v1/users/{user_id}/totp")}


SENT_TO = {("POST", "/v1/events"), ("POST", "/v1/events/batch"), ("POST", "/v1/lookbacks"),
           ("POST", "/v1/admin/keys"), ("DELETE", "/v1/admin/keys/{key_id}"),
           *ACCOUNT_ROUTES, ("POST", "/v1/session"), ("DELETE", "/v1/session"),
           ("POST", "/v1/donors")}
"""The routes this test sends to: every write route of the OpenAPI document."""


async def test_writes_follow_the_relation_model(services: Any) -> None:
    assert SENT_TO == WRITE_ROUTES
    async with matrix_over(services) as (_, net):
        found: list[Mismatch] = []
        # A machine's key cannot sign: each key's signed steps go through the person of its
        # role and site, whose account (an event) exists before the log is counted.
        await net.enrol_all()
        subjects = await at_most(CONCURRENCY, (_subjects(net, case) for case in CASES))
        refused = await _refused(net, subjects, found)
        await _batches(net, refused, found)
        await _allowed(net, subjects, found)
        found += await _lookbacks(net)
        found += await _key_routes(net)
        found += await _account_routes(net)
        found += await _machines_cannot_sign(net)
        found += await _donor_registrations(net)
        assert_only_known_holes(found, "writes")


async def _subjects(net: Network, case: Case) -> dict[Key, Subject]:
    shared = await case.subject(net)
    return {key: await case.subject(net) if case.own_subject(key) else shared for key in KEYS}


async def _refused(net: Network, subjects: list[dict[Key, Subject]],
                   found: list[Mismatch]) -> list[Sent]:
    """Every key the model refuses sends the command; in key order within a case, so that a
    hole's answer is the same every run. The log must not change."""
    head = await _head(net)

    async def one_case(case: Case, by_key: dict[Key, Subject]) -> list[Sent]:
        sent = []
        for key in KEYS:
            data = case.command(net, by_key[key], key)
            reasons = refusals(net.model, key, case.type, data)
            if reasons:
                sent.append((case, key, data, reasons, await net.post(key, case.type, data)))
        return sent

    done = [s for group in await at_most(CONCURRENCY, (
        one_case(c, s) for c, s in zip(CASES, subjects, strict=True))) for s in group]
    recorded: set[int] = set()
    for case, key, data, reasons, response in done:
        where = f"POST /v1/events {case.name}"
        found += [(where, key.name, x) for x in _judged(net.model, key, data, reasons, response)]
        if response.status_code < 300:
            body = response.json()
            recorded |= {body["position"], *body["derived_positions"]}
    new = await net.client.get("/v1/events", params={"after": head, "limit": 1000},
                               headers=net.headers[ADMIN])
    assert {e["position"] for e in new.json()["events"]} == recorded, "a refusal wrote"
    return [s for s in done if s[4].status_code >= 300]


def _judged(m: Relations, key: Key, data: Mapping[str, Any], reasons: set[str],
            response: httpx.Response) -> list[str]:
    if response.status_code < 300:
        return [f"recorded, though the model refuses it ({', '.join(sorted(reasons))})"]
    body = response.json()
    got = (response.status_code, body.get("rule"))
    allowed = set().union(*(ANSWERS[r] for r in reasons))
    unseen = not _may_read_subject(m, key, data)
    if unseen and reasons - {"role", "site-scope"}:
        allowed.add(UNSEEN)
    problems = [] if got in allowed else [f"{got}, not one of {sorted(allowed)}"]
    problems += leaked_patients(m, key, response.text, [str(data.get("patient_id"))])
    if unseen and not key.national:
        named = {s for s in SITES if s in response.text} - {key.site} - {
            v for f in SITE_FIELDS if isinstance(v := data.get(f), str)}
        problems += [f"the refusal names {sorted(named)}"] if named else []
    return problems


def _may_read_subject(m: Relations, key: Key, data: Mapping[str, Any]) -> bool:
    units = [u for u in (data.get("unit_id"), *(data.get("parent_unit_ids") or ()))
             if isinstance(u, str) and u in m.units]
    dins = [d for d in (data.get("din"), *(data.get("dins") or ())) if d in m.collected_at]
    lookback = data.get("lookback_id")
    return (all(m.may_read_unit(key, u) for u in units)
            and all(m.may_read_donation(key, d) for d in dins)
            and (lookback not in m.lookbacks or m.lookback_part(key, lookback) is not None))


async def _batches(net: Network, refused: list[Sent], found: list[Mismatch]) -> None:
    """Each key sends again, in one batch, every command it was rightly refused: each item
    gets the answer the single request got."""
    by_key: dict[Key, list[Sent]] = {}
    for sent in refused:
        by_key.setdefault(sent[1], []).append(sent)

    async def one_key(key: Key, items: list[Sent]) -> list[Mismatch]:
        # As the single requests went: signed steps by the key's person, signed.
        person = net.staff.people.get(key.name)
        signed = person is not None and any(meaning_of(c.type, d) for c, _, d, _, _ in items)
        events = []
        for case, _, data, _, _ in items:
            event: dict[str, Any] = {"type": case.type, "data": data}
            meaning = meaning_of(case.type, data)
            if signed and meaning is not None and person is not None:
                event["signature"] = person.signature(meaning)
            events.append(event)
        headers = person.headers if signed and person is not None else net.headers[key]
        response = await net.client.post("/v1/events/batch", headers=headers,
                                         json={"events": events})
        if response.status_code != 200:  # an auditor records nothing, not even a batch
            return [] if (response.status_code, response.json()["rule"]) == (
                403, "role-not-allowed") and key.role == "auditor" else [
                ("POST /v1/events/batch", key.name, f"{response.status_code}")]
        misses = []
        for (case, _, _, _, single), item in zip(items, response.json()["results"],
                                                 strict=True):
            alone = (single.status_code, single.json()["rule"])
            batched = (item["status"], (item.get("problem") or {}).get("rule"))
            if batched != alone:
                misses.append((f"POST /v1/events/batch {case.name}", key.name,
                               f"{batched}, alone {alone}"))
        return misses

    for misses in await at_most(CONCURRENCY, (one_key(k, v) for k, v in by_key.items())):
        found += misses


async def _allowed(net: Network, subjects: list[dict[Key, Subject]],
                   found: list[Mismatch]) -> None:
    """Every key the model allows records the command, on a subject of its own when the
    step uses it up."""
    async def one_case(case: Case, by_key: dict[Key, Subject]) -> list[Mismatch]:
        misses = []
        for key in KEYS:
            subject = by_key[key]
            if refusals(net.model, key, case.type, case.command(net, subject, key)):
                continue
            if case.consumes and not case.own_subject(key):
                subject = await case.subject(net)
            data = case.command(net, subject, key)
            response = await net.post(key, case.type, data)
            if response.status_code == 201:
                net.model.record(key, case.type, data)
            else:
                misses.append((f"POST /v1/events {case.name}", key.name,
                               f"refused: {response.text}"))
        return misses

    for misses in await at_most(CONCURRENCY, (
            one_case(c, s) for c, s in zip(CASES, subjects, strict=True))):
        found += misses


async def _lookbacks(net: Network) -> list[Mismatch]:
    """``POST /v1/lookbacks`` by every key, on a donation whose red cells a hospital
    transfused: the collecting site and its labs (and admins) start it and see it whole,
    the recipient's id only if they treat the patient."""
    unit = await net.released("H-DAM-01")
    await net.given_to(unit, net.next("PAT"))
    din = unit.split("-")[0]
    found: list[Mismatch] = []
    for key in KEYS:
        reasons = refusals(net.model, key, "LookbackStarted", {"din": din})
        response = await net.client.post("/v1/lookbacks", headers=net.headers[key],
                                          json={"din": din, "marker": "HCV"})
        where = "POST /v1/lookbacks"
        if reasons:
            found += [(where, key.name, x) for x in _judged(
                net.model, key, {"din": din}, reasons, response)]
            continue
        if response.status_code != 201:
            found.append((where, key.name, f"refused: {response.text}"))
            continue
        shown = {u["unit_id"] for u in response.json()["units"]}
        wanted = {u for u, found_unit in net.model.units.items() if found_unit.din == din}
        if shown != wanted:
            found.append((where, key.name, f"units {sorted(shown ^ wanted)}"))
        found += [(where, key.name, x) for x in leaked_patients(net.model, key, response.text)]
    return found


async def _key_routes(net: Network) -> list[Mismatch]:
    """Only admins create and revoke keys; a refused revocation leaves the key working."""
    made = await net.client.post("/v1/admin/keys", headers=net.headers[ADMIN],
                                 json={"role": "auditor"})
    assert made.status_code == 201
    victim, bearer = made.json()["key_id"], {"Authorization": f"Bearer {made.json()['key']}"}
    found: list[Mismatch] = []
    for key in KEYS:
        if key.role == "admin":
            continue
        create = await net.client.post("/v1/admin/keys", headers=net.headers[key],
                                       json={"role": "admin"})
        revoke = await net.client.delete(f"/v1/admin/keys/{victim}", headers=net.headers[key])
        for route, response in (("POST /v1/admin/keys", create),
                                ("DELETE /v1/admin/keys/{key_id}", revoke)):
            if (response.status_code, response.json().get("rule")) != (403, "forbidden"):
                found.append((route, key.name, f"{response.status_code}, not 403"))
    assert (await net.client.get("/v1/events", headers=bearer)).status_code == 200
    revoked = await net.client.delete(f"/v1/admin/keys/{victim}", headers=net.headers[ADMIN])
    assert revoked.status_code == 204
    assert (await net.client.get("/v1/events", headers=bearer)).status_code == 401
    return found


async def _account_routes(net: Network) -> list[Mismatch]:
    """Only admins manage accounts; a refused request changes nothing. Signing in needs the
    person's own password, and signing out a session (every key is refused)."""
    made = await net.client.post("/v1/users", headers=net.headers[ADMIN], json={
        "user_id": "matrix.person", "role": "hospital", "site_id": "H-DAM-01"})
    assert made.status_code == 201, made.text
    head = await _head(net)
    found: list[Mismatch] = []
    for key in KEYS:
        if key.role == "admin":
            continue
        h = net.headers[key]
        answers = {
            "POST /v1/users": await net.client.post("/v1/users", headers=h, json={
                "user_id": f"x.{key.name.replace('@', '.')}", "role": "admin"}),
            "PUT /v1/users/{user_id}": await net.client.put(
                "/v1/users/matrix.person", headers=h,
                json={"name": "Taken over", "role": "admin"}),
            "POST /v1/users/{user_id}/disable": await net.client.post(
                "/v1/users/matrix.person/disable", headers=h, json={"reason": "x"}),
            "POST /v1/users/{user_id}/password-reset": await net.client.post(
                "/v1/users/matrix.person/password-reset", headers=h),
            "POST /v1/users/{user_id}/totp": await net.client.post(
                "/v1/users/matrix.person/totp", headers=h),
            "DELETE /v1/session": await net.client.delete("/v1/session", headers=h),
        }
        for route, response in answers.items():
            want = (401, "unauthenticated") if route == "DELETE /v1/session" else (
                403, "forbidden")
            if (response.status_code, response.json().get("rule")) != want:
                found.append((route, key.name, f"{response.status_code}, not {want[0]}"))
    assert await _head(net) == head, "a refused account request wrote"
    signed_in = await net.client.post("/v1/session", json={
        "user": "matrix.person", "password": made.json()["password"]})
    net.client.cookies.clear()
    wrong = await net.client.post("/v1/session", json={"user": "matrix.person",
                                                       "password": "not the password"})
    if signed_in.status_code != 200 or wrong.status_code != 401:
        found.append(("POST /v1/session", "matrix.person",
                      f"{signed_in.status_code} / {wrong.status_code}, not 200 / 401"))
    return found


async def _machines_cannot_sign(net: Network) -> list[Mismatch]:
    """No key, whatever its role, records a signed step: unsigned it needs a signature, and
    a signature it sends is refused; the log is unchanged."""
    unit = (await matrix_writes.tested_whole(net))["unit"]
    head = await _head(net)
    found: list[Mismatch] = []
    for key in KEYS:
        for envelope, want in (({}, "signature-required"), ({"signature": {
                "password": "a machine has none", "meaning": "release"}},
                "machine-cannot-sign")):
            response = await net.client.post("/v1/events", headers=net.headers[key], json={
                "type": "UnitReleased", "data": {"unit_id": unit}, **envelope})
            got = response.json().get("rule")
            if key.role == "auditor" or (
                    key.role not in ("admin", "processing") and not envelope):
                want = "role-not-allowed"
            elif not envelope and not net.model.may_read_unit(key, unit):
                want = "not-custodian"  # a refusal tells nothing of units it may not read
            if (response.status_code, got) != (403, want):
                found.append(("POST /v1/events UnitReleased (machine)", key.name,
                              f"{response.status_code} {got}, not 403 {want}"))
    assert await _head(net) == head, "a machine's release wrote"
    return found


async def _donor_registrations(net: Network) -> list[Mismatch]:
    """A person is registered through the vault by the keys that record ``DonorRegistered``
    (the model's role matrix, any site: donors are a national register); a second
    registration of the same person is answered with the same pseudonym."""
    found: list[Mismatch] = []
    for i, key in enumerate(KEYS):
        allowed = not refusals(net.model, key, "DonorRegistered", {"donor_id": "DNR-x"})
        person = {"national_id": f"FICT-MX-{i:04d}", "name": f"Matrix Person {i}",
                  "birth_date": "1980-01-01", "sex": "F"}
        answers = [await net.client.post("/v1/donors", json=person, headers=net.headers[key])
                   for _ in range(2)]
        want = [201, 200] if allowed else [403, 403]
        got = [a.status_code for a in answers]
        if got != want:
            found.append(("POST /v1/donors", key.name, f"{got}, not {want}"))
        elif allowed:
            ids = {a.json()["donor_id"] for a in answers}
            if len(ids) != 1 or answers[1].json()["existing"] is not True:
                found.append(("POST /v1/donors", key.name, "a second pseudonym"))
    return found


async def _head(net: Network) -> int:
    return int((await net.client.get("/readyz")).json()["log_size"])

