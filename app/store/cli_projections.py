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


def list_command() -> None:
    """List the read models and their tables."""
    for name, projection in BY_NAME.items():
        print(f"{name}: {', '.join(t.name for t in projection.tables)}")


def rebuild_command(
    name: Annotated[str | None, typer.Argument(
        help=f"One of: {', '.join(BY_NAME)}. All when left out.")] = None,
) -> None:
    """Replay the log into shadow tables and swap them in, without stopping the service."""
    from app.bootstrap import migrate_database, resolve_admin_url
    from app.config import Settings
    from app.store.rebuild import rebuild

    err = Console(stderr=True)
    if name is not None and name not in BY_NAME:
        err.print(f"[red]unknown projection {name!r}; known: {', '.join(BY_NAME)}[/red]")
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
                task = bar.add_task(name or "all", total=None)
                await rebuild(pool, [name] if name else None,
                              lambda done, head: bar.update(task, completed=done, total=head))
        finally:
            await pool.close()

    asyncio.run(run())
    err.print(f"rebuilt: {name or ', '.join(BY_NAME)}")
