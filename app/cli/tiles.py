"""``bloodtrace export-tiles DIR``: the log's tlog-tiles tree as static files (a mirror for
any web server, or a USB stick for an auditor); ``verify-export DIR`` checks it offline."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from app.cli.verifiable import err


def _write(root: Path, path: str, data: bytes) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)


def export_tiles_command(
    out: Annotated[Path, typer.Argument(file_okay=False, help="The directory to write")],
) -> None:
    """Write ``checkpoint``, ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]`` for the
    latest checkpoint. Full tiles already present are kept (they never change); the
    checkpoint is written last, so a reader never sees one the tiles do not back."""
    import asyncpg

    from app.bootstrap import resolve_admin_url
    from app.config import Settings
    from app.log.tiles import tiles_of
    from app.store.checkpoint_store import latest_checkpoint
    from app.store.tile_reader import tile_data

    settings = Settings()

    async def run() -> tuple[int, int]:
        con = await asyncpg.connect(resolve_admin_url(settings))
        try:
            async with con.transaction(isolation="repeatable_read", readonly=True):
                signed = await latest_checkpoint(con, settings.log_origin)
                if signed is None:
                    err.print("[red]no checkpoint has been signed yet[/red]")
                    raise typer.Exit(1)
                written = 0
                for tile in tiles_of(signed.checkpoint.size):
                    if tile.full and (out / tile.path()).exists():
                        continue
                    data = await tile_data(con, tile)
                    if data is None:
                        err.print(f"[red]{tile.path()}: the log does not hold it[/red]")
                        raise typer.Exit(1)
                    _write(out, tile.path(), data)
                    written += 1
                _write(out, "checkpoint", signed.note.encode())
                return signed.checkpoint.size, written
        finally:
            await con.close()

    size, written = asyncio.run(run())
    err.print(f"tiles of {size} records in {out} ({written} files written)")


def register(app: typer.Typer) -> None:
    app.command("export-tiles")(export_tiles_command)
