"""What the pages load: only the service's own pinned files, under a strict CSP, no inline
script; and the browser tests' own check that no request leaves the service can fail."""

from __future__ import annotations

import re

import httpx

from app.web.routes_static import digest
from tests.web.conftest import Pages, WebWorld, off_origin


def test_static_files_are_pinned_by_hash_cached_and_confined(web: WebWorld) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        css = client.get(f"/static/app.css?v={digest('app.css')}")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert "immutable" in css.headers["cache-control"]
        assert "default-src 'none'" in css.headers["content-security-policy"]
        js = client.get("/static/live.js")
        assert js.headers["content-type"].startswith("text/javascript")
        assert client.get("/static/nope.js").status_code == 404
        assert client.get("/static/..%2Fshell.py").status_code in (404, 422)
        assert client.get("/static/app.css?other=1").status_code == 422


async def test_pages_carry_a_strict_csp_and_no_inline_script(pages: Pages,
                                                           web: WebWorld) -> None:
    page = await pages.signed_in("auditor", "en")
    for path in ("/", "/stock", f"/units/{web.units['transfused']}", "/units"):
        response = await page.goto(web.base_url + path)
        assert response is not None and response.status == 200, path
        headers = await response.all_headers()
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert headers["cache-control"] == "no-store", path
        html = await page.content()
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert all("src=" in tag for tag in scripts), (path, scripts)
        assert not re.search(r"\son[a-z]+=\"", html), path  # no inline handlers
        assert not re.search(r"(src|href)=\"(https?:)?//", html), path


def test_the_origin_check_catches_a_request_elsewhere() -> None:
    base = "http://127.0.0.1:8000"
    assert off_origin([f"{base}/", f"{base}/static/app.css", "data:image/png;base64,xx"],
                      base) == []
    assert off_origin([f"{base}/", "https://cdn.example/htmx.js",
                       "http://127.0.0.1:8001/x"], base) == ["https://cdn.example/htmx.js",
                                                             "http://127.0.0.1:8001/x"]
