"""``bloodtrace demo`` (simulate a network into the configured database) and ``bloodtrace
bench`` (run the benchmark harness of a source checkout)."""

from __future__ import annotations

import asyncio
import importlib
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.bootstrap import open_services, resolve_admin_url
from app.config import Settings
from app.sim.network import BANKS, NetworkConfig
from app.sim.runner import run_simulation
from app.sim.simulator import SimReport
from app.sim.state import SimConfig


def register(app: typer.Typer) -> None:
    """Add ``demo`` and ``bench`` to the ``bloodtrace`` command line."""
    app.command()(demo)
    app.command()(bench)


def demo(
    sites: Annotated[int, typer.Option(min=1, max=len(BANKS),
                                       help="Blood banks taking part (1-36).")] = len(BANKS),
    donations: Annotated[int, typer.Option(min=1, help="Donations to simulate.")] = 2000,
    days: Annotated[int, typer.Option(min=1, help="Simulated days, ending now.")] = 120,
    seed: Annotated[int, typer.Option(help="Same seed, same network and events.")] = 7,
    force: Annotated[bool, typer.Option(help="Simulate into a log that already holds "
                                             "events (ids of an earlier run may collide).")]
    = False,
) -> None:
    """Simulate a national network through the writer and its rules (never a bulk insert)."""
    config = SimConfig(network=NetworkConfig(banks=sites), donations=donations, days=days,
                       seed=seed)
    console = Console(stderr=True)
    report = asyncio.run(_simulate(Settings(), config, console, force))
    if report is None:
        console.print("[red]the log already holds events: the simulated sites, DINs and "
                      "donors would collide with them. Use an empty database, or --force."
                      "[/red]")
        raise typer.Exit(1)
    print_report(Console(), report)


async def _simulate(settings: Settings, config: SimConfig, console: Console, force: bool
                    ) -> SimReport | None:
    settings = settings.model_copy(update={"database_url": resolve_admin_url(settings)})
    async with open_services(settings) as services:
        async with services.pool.acquire() as con:
            if not force and await con.fetchval("SELECT position FROM log_head WHERE id = 1"):
                return None
        with Progress(TextColumn("simulating days"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("days", total=config.days)
            return await run_simulation(services.writer, config,
                                        on_day=lambda d: bar.update(task, completed=d),
                                        vault=services.vault)


def print_report(console: Console, report: SimReport) -> None:
    """Events recorded by type, then refusals by rule (expected and unexpected)."""
    table = Table(title=f"{report.events:,} events: {report.donations:,} donations from "
                        f"{report.donors:,} donors, {report.units:,} units")
    table.add_column("event type")
    table.add_column("recorded", justify="right")
    for name, count in sorted(report.accepted.items()):
        table.add_row(name, f"{count:,}")
    console.print(table)
    refusals = Table(title="refused by the rules")
    refusals.add_column("rule")
    refusals.add_column("kind")
    refusals.add_column("count", justify="right")
    for rule, count in sorted(report.expected_refusals.items()):
        refusals.add_row(rule, "expected (sent on purpose)", str(count))
    for rule, count in sorted(report.unexpected_refusals.items()):
        refusals.add_row(rule, report.examples.get(rule, ""), str(count))
    if report.refused:
        console.print(refusals)


def bench(
    quick: Annotated[bool, typer.Option("--quick/--full",
                                        help="Small sizes (CI) or the full run.")] = True,
) -> None:
    """Run the benchmarks (``python -m bench.run``); needs a source checkout."""
    try:
        runner = importlib.import_module("bench.run")
    except ModuleNotFoundError:
        Console(stderr=True).print("[red]bench/ is not importable: run from a source "
                                   "checkout (make bench)[/red]")
        raise typer.Exit(2) from None
    raise typer.Exit(runner.main(["--quick" if quick else "--full"]))
