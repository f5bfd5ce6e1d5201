"""The web app (WEB.md §2): pages at ``/`` on the same service, in Arabic and English.

``mount(app)`` is called by the application factory (``app.api.app.create_app``): it builds
the languages (catalogues compiled in memory, one Jinja environment per language) and
includes every module of ``ROUTERS``. Page routes stay out of the OpenAPI document.
"""

from __future__ import annotations

from types import ModuleType

from fastapi import FastAPI

from app.web import (
    routes_audit,
    routes_home,
    routes_lookbacks,
    routes_signin,
    routes_static,
    routes_stock,
    routes_units,
    routes_workbench,
)
from app.web.i18n import DEFAULT_TIME_ZONE, Languages
from app.web.routes_static import static_url
from app.web.shell import SignInRequired, signin_redirect

ROUTERS: list[ModuleType] = [
    routes_static,
    routes_signin,
    routes_home,
    routes_units,
    routes_stock,
    routes_workbench,
    routes_lookbacks,
    routes_audit,
]
"""Each module has ``router = APIRouter(include_in_schema=False)``."""


def mount(app: FastAPI, *, time_zone: str = DEFAULT_TIME_ZONE) -> None:
    """Add the pages and their static files to ``app``; times are shown in ``time_zone``."""
    app.state.web_languages = Languages(globals_={"static_url": static_url},
                                        time_zone=time_zone)
    app.add_exception_handler(SignInRequired, signin_redirect)
    for module in ROUTERS:
        app.include_router(module.router)
