"""tlog-tiles over HTTP (https://c2sp.org/tlog-tiles): ``/checkpoint``, ``/tile/<L>/<N>[.p/<W>]``
and ``/tile/entries/<N>[.p/<W>]``, for the tree of the latest signed checkpoint.

Full tiles never change: they are cached for a year, ``immutable``. Partial tiles and the
checkpoint change as the log grows: cached for seconds. Hash tiles are public, as the
checkpoint is; entry bundles hold whole records (every pseudonym), so, like the export, they
are for auditor and admin keys.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import PlainTextResponse, Response

from app.api.access import require_national
from app.api.deps import ActorDep, ConDep, SettingsDep
from app.api.responses import PROBLEMS
from app.errors import NoCheckpoint, TileNotFound
from app.log.tiles import TileError, parse_path, within
from app.store.checkpoint_store import latest_checkpoint
from app.store.conn import Conn
from app.store.tile_reader import tile_data

router = APIRouter(tags=["tlog-tiles"])
IMMUTABLE = "public, max-age=31536000, immutable"
FRESH = "public, max-age=5"
OCTETS = "application/octet-stream"
# The characters a tile path can hold; anything else (a NUL, say) is invalid input, a 422,
# while a well-formed path naming no tile is a 404.
Index = Annotated[str, Path(pattern=r"^[0-9x./p]{1,64}$", description="N[.p/W], N in "
                                                                       "x-prefixed 3-digit groups")]
Level = Annotated[str, Path(pattern=r"^[0-9]{1,2}$", description="the tile level L, 0 to 63")]


async def _signed_size(con: Conn, origin: str) -> int:
    signed = await latest_checkpoint(con, origin)
    return 0 if signed is None else signed.checkpoint.size


@router.get("/checkpoint", response_class=PlainTextResponse, responses=PROBLEMS)
async def checkpoint(con: ConDep, settings: SettingsDep) -> Response:
    """The latest checkpoint with its cosignatures, as tlog-tiles serves it."""
    signed = await latest_checkpoint(con, settings.log_origin)
    if signed is None:
        raise NoCheckpoint("no checkpoint has been signed yet")
    return PlainTextResponse(signed.note, media_type="text/plain; charset=utf-8",
                             headers={"Cache-Control": FRESH})


async def _tile(con: Conn, origin: str, path: str) -> Response:
    try:
        tile = parse_path(path)
    except TileError as exc:
        raise TileNotFound(str(exc), field="path") from None
    if not within(tile, await _signed_size(con, origin)):
        raise TileNotFound(f"{path} is not in the tree of the latest checkpoint", field="path")
    data = await tile_data(con, tile)
    if data is None:
        raise TileNotFound(f"{path} is not in the log", field="path")
    return Response(data, media_type=OCTETS,
                    headers={"Cache-Control": IMMUTABLE if tile.full else FRESH})


@router.get("/tile/entries/{index:path}", response_class=Response, responses=PROBLEMS)
async def entries(actor: ActorDep, con: ConDep, settings: SettingsDep, index: Index) -> Response:
    """An entry bundle: the exact records, each after its big-endian uint16 length."""
    require_national(actor, "entry bundles")
    return await _tile(con, settings.log_origin, f"tile/entries/{index}")


@router.get("/tile/{level}/{index:path}", response_class=Response, responses=PROBLEMS)
async def hashes(con: ConDep, settings: SettingsDep, level: Level, index: Index) -> Response:
    """A hash tile: 256 (a partial tile: W) consecutive tree hashes at tile level L."""
    return await _tile(con, settings.log_origin, f"tile/{level}/{index}")



