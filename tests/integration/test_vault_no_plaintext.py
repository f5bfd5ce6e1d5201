"""Identities never leave the vault in clear (issue 19): a simulated network registered
through the vault, plus the test people registered, read, searched and listed over HTTP;
then every table of the database (as a pg_dump would see it, bytea as hex too), the export
and the captured logs are searched for every name and national id, and none is found
outside the vault's ciphertexts, which hold none either. The simulator stays deterministic
per seed (and pepper) with the vault."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from app.bootstrap import Services
from app.sim.network import NetworkConfig, Rates
from app.sim.people import People
from app.sim.runner import run_simulation
from app.sim.simulator import Simulator
from app.sim.state import SimConfig
from app.store.export_reader import open_export
from app.vault.identity import normalise_national_id
from tests.conftest import app_and_client
from tests.e2e.api_world import Net
from tests.e2e.donor_people import PEOPLE
from tests.e2e.matrix_http import sign_checkpoint

SIM = SimConfig(network=NetworkConfig(banks=2, rates=replace(Rates(), erasure_share=0.05)),
                donations=120, days=30, seed=19, end=datetime(2026, 6, 1, 12, tzinfo=UTC))


def needles(people: list[dict[str, Any]]) -> set[str]:
    """Every name and national id, as given and normalised."""
    found: set[str] = set()
    for person in people:
        found |= {person["name"], unicodedata.normalize("NFKC", person["name"]).casefold(),
                  person["national_id"], normalise_national_id(person["national_id"])}
        if person.get("phone"):
            found.add(person["phone"])
    return found


def leaks(text: str, words: set[str]) -> list[str]:
    """The words in ``text``, in clear or as the hex of their UTF-8 (how bytea prints)."""
    lowered = text.lower()
    return sorted(w for w in words if w in text or w.encode().hex() in lowered)


async def test_no_name_or_national_id_outside_the_vault(
        services: Services, make_key: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert services.vault is not None
    report = await run_simulation(services.writer, SIM, whole_days=True, vault=services.vault)
    assert not report.unexpected_refusals, report.examples
    assert report.accepted["DonorIdentityShredded"] > 0
    assert report.accepted["DonorIdentityViewed"] > 0
    async with app_and_client(services) as (_, client):
        net = await Net(client, make_key).setup()
        for person in PEOPLE:
            made = await client.post("/v1/donors", json=person,
                                     headers=net.keys["collector@BB1"])
            assert made.status_code == 201, made.text
            donor_id = made.json()["donor_id"]
            read = await net.get("processing@BB1", f"/v1/donors/{donor_id}/identity",
                                 purpose="scan test")
            assert read.json()["name"] == person["name"]
            found = await net.get("collector@BB1", "/v1/donors/search",
                                  national_id=person["national_id"])
            assert found.json() == {"donors": [donor_id]}
            assert (await net.get("admin", f"/v1/donors/{donor_id}/report")).status_code == 200
        assert (await net.get("admin", "/v1/donors/due", format="csv")).status_code == 200
        assert (await net.get("admin", "/v1/donors/notifications")).status_code == 200
    await sign_checkpoint(services)

    async with services.pool.acquire() as con:
        registered = await con.fetchval(
            "SELECT count(*) FROM events WHERE type = 'DonorRegistered'")
        tables = [r["table_name"] for r in await con.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name")]
        dumps = {t: "\n".join(r["row"] for r in await con.fetch(
            f'SELECT t::text AS row FROM "{t}" t')) for t in tables}
        vault_rows = await con.fetch("SELECT donor_id, ciphertext FROM donor_vault")
    people = People(SIM.seed)
    simulated = [people.next(None, 1990, "-") for _ in range(registered - 3)]
    assert simulated[0]["name"].startswith(("Demo Donor", "متبرع تجريبي"))
    assert {p["language"] for p in simulated} == {"ar", "en"}, len(simulated)
    words = needles(simulated + list(PEOPLE))
    # The search itself finds what it looks for, in clear and as bytea hex.
    assert leaks(f"x{PEOPLE[1]['name']}y", words) and leaks(
        "\\x" + simulated[0]["national_id"].encode().hex(), words)
    assert "donor_vault" in dumps and len(vault_rows) == registered
    for table, text in dumps.items():
        assert not leaks(text, words), f"{table} holds {leaks(text, words)[:3]}"
    for row in vault_rows:
        if row["ciphertext"] is not None:
            blob = bytes(row["ciphertext"])
            assert not [w for w in words if w.encode() in blob]

    export = b"".join([chunk async for chunk in await open_export(
        services.pool, services.settings.log_origin)])
    assert b"DonorRegistered" in export and b"identity_commitment" in export
    assert not leaks(export.decode(), words)
    # The service's own logs (the test's HTTP client logs the URLs it sends: not the service).
    served = "\n".join(r.getMessage() for r in caplog.records
                       if not r.name.startswith(("httpx", "httpcore")))
    assert "/v1/donors" in served and not leaks(served, words)


def test_the_simulator_with_a_vault_is_deterministic_and_takes_the_same_steps() -> None:
    def steps(pseudonym: Any) -> list[tuple[Any, ...]]:
        sim = Simulator(SIM, pseudonym)
        out: list[tuple[Any, ...]] = []
        for batch in sim.batches():
            sim.settle(batch, [None] * len(batch))
            out += [(s.type, s.data, s.at, s.event_id, s.identity) for s in batch]
        return out

    def pseudonym(national_id: str) -> str:
        return "P" + national_id.replace("-", "").lower()

    with_vault = steps(pseudonym)
    assert with_vault == steps(pseudonym)
    registered = [s for s in with_vault if s[0] == "DonorRegistered"]
    assert registered and all(s[4] is not None and s[1]["donor_id"] == pseudonym(
        s[4]["national_id"]) for s in registered)
    # Without the vault, the same steps under the sim's own pseudonyms.
    plain = steps(None)
    assert [(s[0], s[2], s[3]) for s in plain] == [(s[0], s[2], s[3]) for s in with_vault]
