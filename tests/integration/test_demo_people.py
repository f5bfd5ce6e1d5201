"""The demo's people (``make run``): after the simulated history, every person who recorded
it can sign in; the ones at the demo (role, site) pairs get a password to print, once, and
no account is created twice."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console

from app.bootstrap import Services
from app.sim.demo import DEMO_KEYS, create_demo_people, print_people
from app.sim.runner import run_simulation
from tests.integration.test_simulator import SMALL


async def test_demo_people_sign_in_with_the_printed_passwords(services: Services) -> None:
    await run_simulation(services.writer, replace(SMALL, donations=60, days=30))
    people = await create_demo_people(services)
    assert {(p.role, p.site_id) for p in people} <= set(DEMO_KEYS)
    assert ("admin", None) in {(p.role, p.site_id) for p in people}
    assert ("processing", "BB-DAM-01") in {(p.role, p.site_id) for p in people}
    console = Console(width=200, record=True)
    print_people(console, people)
    shown = console.export_text()
    accounts = services.extras["people"]
    for person in people:
        assert person.user_id in shown and person.password in shown
        signed_in = await accounts.sign_in(person.user_id, person.password, None)
        assert signed_in.actor.role == person.role
    async with services.pool.acquire() as con:
        created = await con.fetch("SELECT stream, count(*) AS n FROM events "
                                  "WHERE type = 'AccountCreated' GROUP BY stream")
        with_credentials = await con.fetchval("SELECT count(*) FROM accounts")
        acted = await con.fetchval("SELECT count(DISTINCT actor_user) FROM events")
    assert all(r["n"] == 1 for r in created)
    assert with_credentials == acted
