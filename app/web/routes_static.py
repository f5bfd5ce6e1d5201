"""``/static/``: the web app's own files (nothing from a CDN: hospitals and mobile units are
often offline). Pages link them as ``static_url(name)``, with the file's SHA-256 in
``?v=``, so they can be cached for a year and a changed file is a new address."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from starlette.responses import FileResponse, Response

from app.api.routes_docs import content_security_policy
from app.errors import NotFound

router = APIRouter(include_in_schema=False)
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
TYPES: Final = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
                ".png": "image/png", ".txt": "text/plain"}
NAME: Final = r"^[a-z0-9][a-z0-9_.-]{0,80}\.(js|css|svg|png|txt)$"


@cache
def digest(name: str) -> str:
    """The first 16 hex digits of the file's SHA-256 (the files do not change while the
    service runs)."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:16]


def static_url(name: str) -> str:
    return f"/static/{name}?v={digest(name)}"


@router.get("/static/{name}")
async def static_file(name: Annotated[str, PathParam(pattern=NAME)],
                      v: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    path = STATIC_DIR / name
    if not path.is_file():
        raise NotFound(f"no static file {name!r}", field="name")
    return FileResponse(path, media_type=TYPES[path.suffix], headers={
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Security-Policy": content_security_policy()})
