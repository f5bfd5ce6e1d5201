"""The demo's people (``make run``): after the simulated history, every person who recorded
it can sign in; there is one demo person per demo role and site, with a password printed
once, and no account is created twice."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console

from app.bootstrap import Services
from app.people.service import people_of
from app.sim.demo import DEMO_KEYS, create_demo_people, print_people
from app.sim.runner import run_simulation
from tests.integration.test_simulator import SMALL


async def test_demo_people_sign_in_with_the_printed_passwords(services: Services) -> None:
    await run_simulation(services.writer, replace(SMALL, donations=60, days=30))
    async with services.pool.acquire() as con:
        sites = {r["site_id"] for r in await con.fetch(
            "SELECT DISTINCT ref AS site_id FROM event_refs WHERE kind = 'site'")}
    people = await create_demo_people(services)
    assert sorted((p.role, p.site_id or "") for p in people) == sorted(
        (role, site or "") for role, site in DEMO_KEYS if site is None or site in sites)
    assert {"admin", "auditor", "processing.bb-dam-01"} <= {p.user_id for p in people}
    console = Console(width=200, record=True)
    print_people(console, people)
    shown = console.export_text()
    accounts = people_of(services)
    for person in people:
        assert person.user_id in shown and person.password in shown
        signed_in = await accounts.sign_in(person.user_id, person.password, None)
        assert signed_in.actor.role == person.role
    async with services.pool.acquire() as con:
        created = await con.fetch("SELECT stream, count(*) AS n FROM events "
                                  "WHERE type = 'AccountCreated' GROUP BY stream")
        with_credentials = {r["user_id"] for r in await con.fetch(
            "SELECT user_id FROM accounts")}
        acted = {r["u"] for r in await con.fetch(
            "SELECT DISTINCT actor_user AS u FROM events WHERE actor_user IS NOT NULL")}
    assert all(r["n"] == 1 for r in created)
    assert with_credentials == acted | {p.user_id for p in people}
