"""``/docs``: Swagger UI served by the service itself (a hospital may be offline), under a
strict Content-Security-Policy: no inline script, nothing from anywhere but here.

The assets come from the installed ``swagger-ui-py`` package (Swagger UI 5, which reads
OpenAPI 3.1); the page and its start-up script are ours.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)


def content_security_policy(form_action: str = "'none'") -> str:
    """Nothing from anywhere but here, and no inline script or style; the web app's pages
    (``app.web``) post their forms to ``'self'``."""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            f"form-action {form_action}")


CSP = content_security_policy()
_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bloodtrace API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script></body></html>
"""
_START = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: false});
"""


def _headers() -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "Cache-Control": "public, max-age=3600"}


@router.get("/docs")
async def docs() -> Response:
    return HTMLResponse(_PAGE, headers=_headers())


@router.get("/docs/assets/{name}")
async def asset(
    name: Annotated[str, Path(pattern=r"^(swagger-ui\.css|swagger-ui-bundle\.js|start\.js)$")],
) -> Response:
    if name == "start.js":
        return Response(_START, media_type="text/javascript", headers=_headers())
    path = files("swagger_ui") / "static" / name
    return FileResponse(str(path), media_type=_ASSETS[name], headers=_headers())
