"""The authorization matrix of issue 20, generated from the relation model
(``tests/support/relations.py``): every route of the OpenAPI document, every key of a
two-region network (every role at every site, auditor, admin), against what the model says
the key may read (here) or record (``test_authorization_matrix_writes.py``). A route without
an expectation fails the first test; the holes the matrix knows of are in
``tests/e2e/matrix_scope.py``.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.api.app import create_app
from app.config import Settings
from app.events.registry import REGISTRY
from tests.e2e import matrix_reads as reads
from tests.e2e.matrix_http import (
    CONCURRENCY,
    at_most,
    leaked_patients,
    matrix_over,
    sign_checkpoint,
    sse_first_page,
)
from tests.e2e.matrix_network import ADMIN, KEYS, Network
from tests.e2e.matrix_scope import (
    DONOR_ROUTES,
    READ_ROUTES,
    WRITE_ROUTES,
    Mismatch,
    assert_only_known_holes,
)
from tests.e2e.matrix_writes import CASES
from tests.support.relations import Key, Relations, feed_concerns


def test_every_route_and_event_type_has_an_expectation() -> None:
    document = create_app(Settings(database_url="postgresql://unused/x")).openapi()
    routes = {(method.upper(), path) for path, item in document["paths"].items()
              for method in item}
    assert routes == READ_ROUTES | WRITE_ROUTES
    assert {case.type for case in CASES} == set(REGISTRY)


async def test_reads_follow_the_relation_model(services: Any) -> None:
    async with matrix_over(services) as (app, net):
        await _reads(services, app, net)


async def _reads(services: Any, app: Any, net: Network) -> None:
    client = net.client
    scene = await reads.build_scene(net)
    await sign_checkpoint(services)
    m: Relations = net.model
    probes = [*reads.unit_probes(m, scene), *reads.donation_probes(m, scene),
              *reads.patient_probes(m, scene), *reads.lookback_probes(m, scene),
              *reads.stock_probes(m), *reads.national_probes(), *reads.public_probes(),
              *reads.transfusion_audit_probes(), *reads.people_probes()]
    full = (await client.get("/v1/events", params={"limit": 1000},
                             headers=net.headers[ADMIN])).json()["events"]
    probes.append(reads.Probe(("GET", "/v1/events"), "/v1/events", reads.anyone,
                              _feed_check(m, full), {"limit": 1000}))
    size = (await client.get("/v1/checkpoints/latest")).json()["size"]
    probes.append(reads.Probe(("GET", "/v1/checkpoints/{size}"), f"/v1/checkpoints/{size}",
                              reads.anyone))
    assert {p.route for p in probes} | {("GET", "/v1/events/stream")} | DONOR_ROUTES \
        == READ_ROUTES

    jobs = [(p, k) for p in probes for k in KEYS]
    answers = await at_most(CONCURRENCY, (client.get(p.url, params=p.params or None,
                                                     headers=net.headers[k]) for p, k in jobs))
    found: list[Mismatch] = []
    for (probe, key), response in zip(jobs, answers, strict=True):
        where = probe.url + (f"?{probe.params}" if probe.params else "")
        want = probe.expect(key)
        if response.status_code != want:
            found.append((where, key.name, f"{response.status_code}, not {want}"))
            continue
        if response.status_code != 200:
            continue
        asked = [probe.url.split("/")[3]] if probe.route[1].startswith("/v1/patients") else []
        found += [(where, key.name, x) for x in leaked_patients(m, key, response.text, asked)]
        if probe.check is not None and response.headers["content-type"].startswith(
                "application/"):
            found += [(where, key.name, x) for x in probe.check(key, response.json())]
    found += await _stream_mismatches(app, net)
    assert_only_known_holes(found, "reads")


def _feed_check(m: Relations, full: list[dict[str, Any]]) -> reads.Check:
    """A site's feed is the entries that concern it; a lookback in it is cut to its part."""
    concerns = feed_concerns(full)
    assert [e["position"] for e in full] == list(range(1, len(full) + 1))

    def check(key: Key, body: Any) -> list[str]:
        shown = {e["position"] for e in body["events"]}
        wanted = {p for p, sites in concerns.items() if key.national or key.site in sites}
        problems = [f"{'misses' if p in wanted else 'shows'} {p} {full[p - 1]['type']} "
                    f"recorded by {full[p - 1]['actor']['role']}" for p in wanted ^ shown]
        for entry in body["events"]:
            if entry["type"] == "LookbackStarted":
                part = m.lookback_part(key, entry["data"]["lookback_id"]) or set()
                problems += reads.same(part, {u["unit_id"] for u in entry["data"]["units"]},
                                        f"units of lookback at {entry['position']}")
        return problems

    return check


async def _stream_mismatches(app: Any, net: Network) -> list[Mismatch]:
    """The stream's first page is the key's feed."""
    found: list[Mismatch] = []
    for key in KEYS:
        feed = (await net.client.get("/v1/events", params={"limit": 500},
                                     headers=net.headers[key])).json()["events"]
        status, text = await sse_first_page(app, net.headers[key], len(feed))
        sent = [orjson.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
        if status != 200 or sent != feed:
            found.append(("/v1/events/stream", key.name, f"{status}: not the key's feed"))
    return found


def _reads_identities(net: Network, key: Key) -> bool:
    """Admins, and collector and processing keys of a blood bank (issue 19)."""
    return key.role == "admin" or (key.role in ("collector", "processing")
                                   and net.model.kind(key.site) == "blood_bank")


async def test_identity_reads_follow_the_role_matrix(services: Any) -> None:
    """Every key of every role at every site against every donor registry read; each
    identity read that is answered is a ``DonorIdentityViewed`` of that key, and a refused
    one records nothing."""
    async with matrix_over(services) as (_, net):
        person = {"national_id": "FICT-MATRIX-1", "name": "Matrix Fictiva",
                  "birth_date": "1991-03-04", "sex": "F"}
        made = await net.client.post("/v1/donors", json=person, headers=net.headers[ADMIN])
        assert made.status_code == 201, made.text
        donor_id = made.json()["donor_id"]
        probes: list[tuple[str, str, dict[str, Any], Any]] = [
            ("GET /v1/donors/{donor_id}/identity", f"/v1/donors/{donor_id}/identity",
             {"purpose": "matrix"}, _reads_identities),
            ("GET /v1/donors/{donor_id}/report", f"/v1/donors/{donor_id}/report", {},
             _reads_identities),
            ("GET /v1/donors/search", "/v1/donors/search", {"national_id": "fict matrix 1"},
             _reads_identities),
            ("GET /v1/donors/search", "/v1/donors/search",
             {"name": "matrix fictiva", "birth_date": "1991-03-04"}, _reads_identities),
            ("GET /v1/donors/due", "/v1/donors/due", {}, _reads_identities),
            ("GET /v1/donors/due", "/v1/donors/due", {"format": "csv"}, _reads_identities),
            ("GET /v1/donors/notifications", "/v1/donors/notifications", {},
             _reads_identities),
            ("GET /v1/donors/retention", "/v1/donors/retention", {},
             lambda n, k: k.role == "admin"),
        ]
        assert {("GET", p[0].split(" ")[1]) for p in probes} == DONOR_ROUTES
        jobs = [(p, k) for p in probes for k in KEYS]
        answers = await at_most(CONCURRENCY, (net.client.get(
            url, params=params or None, headers=net.headers[k]) for (_, url, params, _), k
            in jobs))
        found: list[Mismatch] = []
        for ((route, _, params, allowed), key), response in zip(jobs, answers, strict=True):
            want = 200 if allowed(net, key) else 403
            if response.status_code != want:
                found.append((f"{route} {params}", key.name, f"{response.status_code}, "
                                                             f"not {want}"))
            elif want == 200 and route.endswith("/search"):
                if response.json() != {"donors": [donor_id]}:
                    found.append((route, key.name, f"found {response.text}"))
        feed = (await net.client.get("/v1/events", params={"limit": 1000},
                                     headers=net.headers[ADMIN])).json()["events"]
        views = sorted((e["actor"]["role"], e["actor"]["site_id"] or "", e["data"]["purpose"])
                       for e in feed if e["type"] == "DonorIdentityViewed")
        wanted = sorted((k.role, k.site or "", purpose) for k in KEYS
                        if _reads_identities(net, k)
                        for purpose in ("matrix", "subject access request (GDPR Art. 15)"))
        if views != wanted:
            found.append(("DonorIdentityViewed", "-", f"{views} != {wanted}"))
        assert_only_known_holes(found, "reads")
