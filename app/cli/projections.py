"""``bloodtrace projections``: rebuild read models from the log while the service runs."""

from __future__ import annotations

import asyncio
from typing import Annotated

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.projections.registry import BY_NAME


def register(app: typer.Typer) -> None:
    """Add the ``projections`` sub-command group to the CLI."""
    group = typer.Typer(help="Read models (projections).", no_args_is_help=True)
    group.command("rebuild")(rebuild_command)
    group.command("list")(list_command)
    app.add_typer(group, name="projections")


WRITE_STATE = "write_state"
"""The writer's aggregate snapshots: derived from the log like a read model, rebuilt with it."""


def list_command() -> None:
    """List the read models and their tables."""
    for name, projection in BY_NAME.items():
        print(f"{name}: {', '.join(t.name for t in projection.tables)}")
    print(f"{WRITE_STATE}: {WRITE_STATE} (the writer's aggregate snapshots)")


def rebuild_command(
    name: Annotated[str | None, typer.Argument(
        help=f"One of: {', '.join([*BY_NAME, WRITE_STATE])}. All when left out.")] = None,
) -> None:
    """Replay the log into shadow tables and swap them in, without stopping the service."""
    from app.bootstrap import default_domain, migrate_database, resolve_admin_url
    from app.config import Settings
    from app.store.rebuild import rebuild
    from app.store.rebuild_state import rebuild_write_state

    err = Console(stderr=True)
    known = [*BY_NAME, WRITE_STATE]
    if name is not None and name not in known:
        err.print(f"[red]unknown projection {name!r}; known: {', '.join(known)}[/red]")
        raise typer.Exit(2)
    settings = Settings()

    async def run() -> None:
        url = resolve_admin_url(settings)  # the tables' owner: the swap renames tables
        await migrate_database(url)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        assert pool is not None
        try:
            with Progress(TextColumn("rebuilding {task.description}"), BarColumn(),
                          MofNCompleteColumn(), TimeElapsedColumn(), console=err) as bar:
                if name != WRITE_STATE:
                    task = bar.add_task(name or "read models", total=None)
                    await rebuild(pool, [name] if name else None,
                                  lambda done, head: bar.update(task, completed=done, total=head))
                if name in (None, WRITE_STATE):
                    state = bar.add_task(WRITE_STATE, total=None)
                    await rebuild_write_state(
                        pool, default_domain(),
                        lambda done, head: bar.update(state, completed=done, total=head))
        finally:
            await pool.close()

    asyncio.run(run())
    err.print(f"rebuilt: {name or ', '.join(known)}")
