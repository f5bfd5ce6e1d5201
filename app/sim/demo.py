"""The demo data of ``bloodtrace serve --demo`` (``make run``): on an empty log, a small
simulated national network (its donors registered through the identity vault, with clearly
fictional Arabic and English identities) and a set of demo API keys, printed once, with
where the vault's master key was written."""

from __future__ import annotations

from dataclasses import dataclass, replace

import asyncpg
from rich.console import Console
from rich.table import Table

from app.bootstrap import open_services, resolve_admin_url
from app.config import Settings
from app.sim.network import NetworkConfig, Rates
from app.sim.runner import run_simulation
from app.sim.simulator import SimReport
from app.sim.state import SimConfig
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
                      "  bloodtrace keys create --role hospital --site H-DAM-01")
            return
        with out.status("loading the demo network (36 blood banks, "
                        f"{DEMO.donations} donations over {DEMO.days} days)..."):
            report = await run_simulation(svc.writer, DEMO, whole_days=True,
                                          vault=svc.vault)
    out.print(f"demo network loaded: {report.events:,} events, {report.donations} donations, "
              f"{report.units} units; {report.refused} commands refused by the rules "
              "(as a real network would see); "
              f"{report.late_entries:,} steps backfilled with a late-entry reason")
    print_flows(out, report)
    print_reactions(out, report)
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
