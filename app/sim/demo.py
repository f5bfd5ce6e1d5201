"""The demo data of ``bloodtrace serve --demo`` (``make run``): on an empty log, a small
simulated national network (its donors registered through the identity vault, with clearly
fictional Arabic and English identities), an account for each person of its staff, and a set
of demo API keys; the demo people's user names and passwords, and the keys, are printed once,
with where the vault's master key was written."""

from __future__ import annotations

from dataclasses import dataclass, replace

import asyncpg
from rich.console import Console
from rich.table import Table

from app.bootstrap import Services, open_services, resolve_admin_url
from app.config import Settings
from app.errors import SiteNotFound
from app.people.service import OPERATOR, people_of
from app.sim.network import NetworkConfig, Rates
from app.sim.runner import run_simulation
from app.sim.simulator import SimReport
from app.sim.state import SimConfig, staff_id
from app.store.keys import create_key

DEMO_RATES = replace(Rates(), repeat_reactive_factor=1.0, return_interval_days=(57, 120),
                     information_rate=0.01, reinstate_share=1.0, reaction_factor=3.0)
"""network.md's rates, with the rare flows made commoner so that a small network shows
each of them: repeat donors react as often as new ones and are asked back sooner (from 57
days on; the interval matrix keeps women to 84 days after whole blood), so that lookbacks
find units already transfused; donors call back after donating five times as often; every
donor cleared by a confirmatory test returns; reactions are reported three times as often
as national reports give (about 15 per 1000 units transfused instead of 5)."""
DEMO = SimConfig(network=NetworkConfig(rates=DEMO_RATES), donations=1500, days=120,
                 seed=2026)

DEMO_KEYS: tuple[tuple[str, str | None], ...] = (
    ("admin", None),
    ("auditor", None),
    ("collector", "BB-DAM-01"),
    ("processing", "BB-DAM-01"),
    ("inventory", "BB-DAM-01"),
    ("lab", "LAB-DAM-01"),
    ("hospital", "H-DAM-01"),
    ("collector", "MU-ALE-01"),
    ("inventory", "BB-ALE-01"),
    ("hospital", "H-ALE-01"),
    ("hospital", "H-DEZ-02"),
)
"""(role, site) of each demo key: national roles, and a few sites of Damascus, Aleppo and
Deir ez-Zor."""


@dataclass(frozen=True, slots=True)
class DemoKey:
    role: str
    site_id: str | None
    token: str


async def load_demo_if_empty(settings: Settings, console: Console | None = None) -> None:
    """Load the demo network into an empty log and print demo keys; on a log that already
    holds events, print how to create a key instead."""
    # Wide enough that a key never wraps, even when stdout is not a terminal.
    out = console or Console(width=140)
    admin_url = resolve_admin_url(settings)
    async with open_services(settings.model_copy(update={"database_url": admin_url})) as svc:
        async with svc.pool.acquire() as con:
            head: int = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
        assert svc.vault is not None
        out.print(f"donor identity vault master key: [bold]{svc.vault.source}[/bold] "
                  "(keep it: without it the vault cannot be read; the service refuses to "
                  "start with another)")
        if head:
            out.print(f"[bold]bloodtrace[/bold]: the log already holds {head:,} events; "
                      "no demo data loaded. Create a key with:\n"
                      "  bloodtrace keys create --role admin\n"
                      "  bloodtrace users create USER --role processing --site BB-DAM-01\n"
                      "  bloodtrace keys create --role hospital --site H-DAM-01")
            return
        with out.status("loading the demo network (36 blood banks, "
                        f"{DEMO.donations} donations over {DEMO.days} days)..."):
            report = await run_simulation(svc.writer, DEMO, whole_days=True,
                                          vault=svc.vault)
        with out.status("creating the accounts of the demo network's staff..."):
            people = await create_demo_people(svc)
    out.print(f"demo network loaded: {report.events:,} events, {report.donations} donations, "
              f"{report.units} units; {report.refused} commands refused by the rules "
              "(as a real network would see); "
              f"{report.late_entries:,} steps backfilled with a late-entry reason")
    print_flows(out, report)
    print_reactions(out, report)
    print_people(out, people)
    keys = await create_demo_keys(admin_url)
    print_keys(out, keys)


def print_flows(console: Console, report: SimReport) -> None:
    """How often each blood-safety flow was walked, and the refusals by rule (expected:
    mistakes sent on purpose; unexpected: the sim misjudged the rules)."""
    table = Table(title="blood-safety flows in the demo network")
    table.add_column("flow")
    table.add_column("times", justify="right")
    for path, count in sorted(report.paths.items()):
        table.add_row(path, f"{count:,}")
    for rule, count in sorted(report.expected_refusals.items()):
        table.add_row(f"refused as expected: {rule}", f"{count:,}")
    for rule, count in sorted(report.unexpected_refusals.items()):
        table.add_row(f"[red]refused unexpectedly: {rule}[/red]", f"{count:,}")
    console.print(table)


def print_reactions(console: Console, report: SimReport) -> None:
    """The sim's own haemovigilance tally: every reaction the rules accepted, by coded type,
    severity and imputability, against the units transfused (GET /v1/audit/haemovigilance
    gives the same counts)."""
    table = Table(title=f"adverse reactions reported ({sum(report.reactions.values()):,}) "
                        f"per {report.units_transfused:,} units transfused")
    for column in ("reaction type", "severity", "imputability"):
        table.add_column(column)
    table.add_column("count", justify="right")
    for (kind, severity, imputability), count in sorted(report.reactions.items()):
        table.add_row(kind, severity, imputability, f"{count:,}")
    console.print(table)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    user_id: str
    role: str
    site_id: str | None
    password: str


async def create_demo_people(svc: Services) -> list[DemoPerson]:
    """Sign-in credentials for the demo people: the simulated staff's accounts are in the
    log already (``AccountCreated`` before each person's first step); those at a
    ``DEMO_KEYS`` (role, site) get a generated password, returned to print once; the others
    get one that is never shown (``bloodtrace users reset USER`` gives them a new one)."""
    async with svc.pool.acquire() as con:
        accounts = await con.fetch(
            "SELECT DISTINCT e.actor_user AS user_id, e.actor_role AS role, "
            "e.actor_site AS site_id, convert_from(c.record, 'UTF8')::jsonb "
            "-> 'data' ->> 'name' AS name FROM events e JOIN events c "
            "ON c.type = 'AccountCreated' AND c.stream = 'account:' || e.actor_user "
            "WHERE e.actor_user IS NOT NULL ORDER BY user_id")
    people = people_of(svc)
    shown = set(DEMO_KEYS)
    made = []
    for row in accounts:
        role, site = row["role"], row["site_id"]
        password = await people.issue_password(OPERATOR, row["user_id"], row["name"], role,
                                               site)
        if (role, site) in shown:
            made.append(DemoPerson(row["user_id"], role, site, password))
    # A demo role the simulated history has no person for (the auditor reads only).
    for role, site in DEMO_KEYS:
        if (role, site) not in {(p.role, p.site_id) for p in made}:
            user_id = role if site is None else staff_id(role, site)
            try:
                password = await people.create(OPERATOR, user_id, role, site,
                                               f"Demo {role} at {site or 'national level'}")
            except SiteNotFound:  # a smaller network than the demo's
                continue
            made.append(DemoPerson(user_id, role, site, password))
    return sorted(made, key=lambda p: p.user_id)


def print_people(console: Console, people: list[DemoPerson]) -> None:
    table = Table(title="demo people (passwords shown once; sign in with POST /v1/session, "
                        "or reset one with bloodtrace users reset USER)")
    for column in ("user", "role", "site", "password"):
        table.add_column(column, overflow="fold")
    for person in people:
        table.add_row(person.user_id, person.role, person.site_id or "(national)",
                      person.password)
    console.print(table)


async def create_demo_keys(admin_url: str) -> list[DemoKey]:
    """One key per (role, site) of ``DEMO_KEYS``, created with the owner connection."""
    con = await asyncpg.connect(admin_url)
    try:
        keys = []
        for role, site in DEMO_KEYS:
            issued = await create_key(con, role, site, "demo")
            keys.append(DemoKey(role, site, issued.token))
        return keys
    finally:
        await con.close()


def print_keys(console: Console, keys: list[DemoKey]) -> None:
    table = Table(title="demo API keys (shown once; send as Authorization: Bearer <key>)")
    table.add_column("role")
    table.add_column("site")
    table.add_column("key", overflow="fold")
    for key in keys:
        table.add_row(key.role, key.site_id or "(national)", key.token)
    console.print(table)
