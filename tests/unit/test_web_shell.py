"""The shell's pure parts: where a sign-in may send the browser back to, which links a role
sees, and the start-up line naming the web app's address."""

from __future__ import annotations

import pytest

from app.cli.serving import banner
from app.config import Settings
from app.web.shell import nav_for, safe_next


@pytest.mark.parametrize(("asked", "followed"), [
    ("/units/A999926123456-E0398V00?lang=ar", "/units/A999926123456-E0398V00?lang=ar"),
    ("/", "/"), (None, "/"), ("", "/"), ("//evil.example/x", "/"),
    ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("units", "/"),
])
def test_only_a_path_of_this_service_is_followed_after_sign_in(asked: str | None,
                                                               followed: str) -> None:
    assert safe_next(asked) == followed


def test_each_role_sees_its_links() -> None:
    assert [p for p, _ in nav_for("hospital")] == ["/units", "/stock", "/hospital",
                                                   "/lookbacks"]
    assert [p for p, _ in nav_for("auditor")] == ["/units", "/stock", "/lookbacks", "/audit"]
    assert [p for p, _ in nav_for("collector")] == ["/units", "/bank"]
    assert [p for p, _ in nav_for("admin")] == ["/units", "/stock", "/hospital", "/bank",
                                                "/lookbacks", "/audit"]
    assert nav_for(None) == []


def test_the_start_up_line_names_the_web_app_and_the_api() -> None:
    line = banner(Settings(host="127.0.0.1", port=8123))
    assert line.startswith("bloodtrace web app: http://127.0.0.1:8123/ ")
    assert "http://127.0.0.1:8123/v1" in line
    assert "http://[::1]:8000/" in banner(Settings(host="::1", port=8000))


def test_the_pages_stay_out_of_the_openapi_document() -> None:
    from app.api.app import create_app
    from app.web import ROUTERS

    app = create_app(Settings())
    documented = set(app.openapi()["paths"])
    pages = {route.path for module in ROUTERS for route in module.router.routes}
    assert {"/", "/signin", "/units/{unit_id}", "/stock"} <= pages
    assert not pages & documented
    assert all(p.startswith("/v1") or p in {"/healthz", "/readyz", "/metrics", "/checkpoint"}
               or p.startswith("/tile") for p in documented)


def test_the_pages_never_touch_the_database_driver() -> None:
    from pathlib import Path

    from tests.unit.test_import_graph import imported_names

    web = Path(__file__).resolve().parents[2] / "app" / "web"
    for path in web.rglob("*.py"):
        names = imported_names(path.read_text(encoding="utf-8"), "app.web")
        assert not {n for n in names if n == "asyncpg" or n.startswith("asyncpg.")}, path
