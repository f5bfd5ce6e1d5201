"""The ``bloodtrace`` command line (typer + rich): serve, migrate, keys and verify here; the
other commands in this package's modules (``verifiable``, ``projections``, ``sim``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import asyncpg
import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.bootstrap import migrate_database, resolve_admin_url
from app.config import Settings
from app.log.verify import verify_log
from app.store.keys import create_key

app = typer.Typer(help="bloodtrace: blood unit traceability on a hash-chained log.",
                  no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
err = Console(stderr=True)


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load the demo network into an empty log.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (they share the one "
                                                     "serialised writer through the head lock).")]
    = 1,
) -> None:
    """Migrate, then serve the API (HOST/PORT from the environment). An embedded PostgreSQL
    this command started stops with it (SIGTERM or Ctrl-C)."""
    import os
    import signal
    import sys

    import uvicorn

    from app.cli.serving import server_options
    from app.json_logging import configure_logging
    from app.store.database import start_embedded

    settings = Settings()
    configure_logging(settings.log_json)
    stop_embedded = None
    if settings.database_url is None:
        admin_url, stop_embedded = start_embedded(settings.data_dir)
    else:
        admin_url = settings.database_url
    # Workers read their settings from the environment: point them at the same database.
    os.environ["DATABASE_URL"] = admin_url
    settings = settings.model_copy(update={"database_url": admin_url, "demo_on_empty": demo})
    asyncio.run(migrate_database(admin_url))
    if demo:
        from app.sim.demo import load_demo_if_empty

        asyncio.run(load_demo_if_empty(settings))
    from app.cli.serving import banner

    print(banner(settings), flush=True)
    if stop_embedded is None:
        uvicorn.run("app.asgi:app_from_env", factory=True, workers=workers,
                    **server_options(settings))
        return
    # uvicorn ends on SIGTERM by raising it again once it has shut down; the default action
    # would kill the process before the embedded PostgreSQL it started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        uvicorn.run("app.asgi:app_from_env", factory=True, workers=workers,
                    **server_options(settings))
    finally:
        stop_embedded()


@app.command()
def migrate() -> None:
    """Apply pending migrations."""
    settings = Settings()
    applied = asyncio.run(migrate_database(resolve_admin_url(settings)))
    err.print(f"applied: {', '.join(applied) or 'nothing to do'}")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="collector, lab, processing, inventory, hospital, "
                                           "auditor or admin")],
    site: Annotated[str | None, typer.Option(help="The key's site (none for national roles).")]
    = None,
    label: Annotated[str | None, typer.Option(help="A note on who holds it.")] = None,
) -> None:
    """Create an API key. The key is printed once, as the last line of stdout."""
    settings = Settings()

    async def run() -> str:
        url = resolve_admin_url(settings)
        await migrate_database(url)
        con = await asyncpg.connect(url)
        try:
            issued = await create_key(con, role, site, label)
        finally:
            await con.close()
        return issued.token

    try:
        token = asyncio.run(run())
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    err.print(f"role={role} site={site or '-'}: store this key now; it is not shown again")
    print(token)


@app.command()
def verify(
    from_: Annotated[int, typer.Option("--from", min=1)] = 1,
    to: Annotated[int | None, typer.Option(min=1)] = None,
    workers: Annotated[int, typer.Option(min=0, help="worker processes; 0: every core, "
                                                     "1: one pass in this process")] = 0,
) -> None:
    """Re-hash the whole log (or a range) and recompute the chain, on every core. Exit 1 when
    it fails."""
    from app.store.log_reader import PgLogRows

    settings = Settings()

    async def run() -> dict[str, object]:
        url = resolve_admin_url(settings)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        assert pool is not None
        try:
            rows = PgLogRows(pool, dsn=url, workers=workers or None)
            total, _, _ = await rows.head()
            with Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err) as bar:
                task = bar.add_task("verify", total=(to or total) - from_ + 1)
                report = await verify_log(rows, from_, to,
                                          progress=lambda n: bar.update(task, completed=n))
            return report.as_dict()
        finally:
            await pool.close()

    report = asyncio.run(run())
    print(orjson.dumps(report).decode())
    if not report["ok"]:
        raise typer.Exit(1)


def main() -> None:
    """Run ``bloodtrace`` with every command of this package."""
    from app.cli import donors, ha, projections, sim, users, verifiable

    logging.basicConfig(level=logging.WARNING)
    for module in (verifiable, projections, sim, users, donors, ha):
        module.register(app)
    app(prog_name="bloodtrace")
