"""Issue 20 at the HTTP edge (items 9, 11, 13, 15, 17 and 18)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
import uvicorn

from app.api.app import create_app
from app.cli.serving import server_options
from app.config import Settings
from tests.e2e.api_world import PROBLEM, app_over, served
from tests.support.server import ROOT, free_port


async def test_item9_streams_are_capped_per_key_and_in_all(services, make_key):
    services.settings = services.settings.model_copy(update={
        "stream_max_per_key": 1, "stream_max_total": 2})
    keys = [await make_key("auditor") for _ in range(3)]
    async with served(app_over(services)) as base, httpx.AsyncClient(
            base_url=base, timeout=10) as http, contextlib.AsyncExitStack() as streams:
        first = await streams.enter_async_context(
            http.stream("GET", "/v1/events/stream", headers=keys[0]))
        assert first.status_code == 200
        again = await http.get("/v1/events/stream", headers=keys[0])
        assert (again.status_code, again.json()["rule"]) == (429, "too-many-requests")
        assert again.headers["retry-after"]
        second = await streams.enter_async_context(
            http.stream("GET", "/v1/events/stream", headers=keys[1]))
        assert second.status_code == 200
        full = await http.get("/v1/events/stream", headers=keys[2])
        assert (full.status_code, full.headers["retry-after"]) == (503, "5")
        await first.aclose()
        for _ in range(100):  # the slot comes back once the server sees the stream end
            async with http.stream("GET", "/v1/events/stream", headers=keys[2]) as third:
                if third.status_code == 200:
                    break
            await asyncio.sleep(0.05)
        assert third.status_code == 200


async def test_item11_nul_in_any_path_parameter_is_a_422(client, make_key):
    admin = await make_key("admin")
    document = create_app(Settings(database_url="postgresql://unused/x")).openapi()
    tried = 0
    for path, item in document["paths"].items():
        if "{" not in path:
            continue
        target = path
        for name in [p["name"] for p in item.get(next(iter(item)), {}).get("parameters", ())
                     if p["in"] == "path"]:
            target = target.replace("{" + name + "}", "A999925000001%00-E0398V00")
        method = next(iter(item))
        response = await client.request(method.upper(), target, headers=admin)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        tried += 1
    assert tried >= 10


async def test_item13_failed_authentications_cost_the_client(services):
    services.settings = services.settings.model_copy(update={"auth_failures_burst": 3})
    from tests.conftest import http_client

    guesses = [f"Bearer bt_{i:016x}_" + "A" * 43 for i in range(6)]
    async with http_client(services) as client:
        answers = [(await client.get("/v1/events", headers={"Authorization": g})).status_code
                   for g in guesses]
        assert answers[:3] == [401, 401, 401] and set(answers[3:]) == {429}
        limited = await client.get("/v1/events", headers={"Authorization": guesses[5]})
        assert limited.headers["retry-after"] and limited.json()["rule"] == "too-many-requests"
        # The same wrong key again is answered from memory, without a look-up.
        repeated = await client.get("/v1/events", headers={"Authorization": guesses[0]})
        assert repeated.status_code == 401
        # A malformed one never reaches the database.
        junk = await client.get("/v1/events", headers={"Authorization": "Bearer bt_\x01_x"})
        assert junk.status_code == 401


async def test_item15_http_hygiene(services, make_key):
    admin = await make_key("admin")
    settings = services.settings.model_copy(update={"public_url": "https://blood.example.org",
                                                    "header_read_timeout_s": 1.0})
    services.settings = settings
    app = app_over(services)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, **server_options(
        settings.model_copy(update={"port": port, "host": "127.0.0.1"}))))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            answer = await http.get("/v1/events", headers=admin | {"Host": "evil.example"})
            assert "server" not in answer.headers
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["cache-control"] == "no-store"
            assert "strict-transport-security" not in answer.headers
            behind_tls = await http.get("/healthz", headers={"X-Forwarded-Proto": "https"})
            assert behind_tls.headers["strict-transport-security"].startswith("max-age=")
            docs = await http.get("/docs")
            csp = docs.headers["content-security-policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp
            assert "cdn" not in docs.text and "<script>" not in docs.text
            for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "start.js"):
                assert (await http.get(f"/docs/assets/{asset}")).status_code == 200
            assert (await http.get("/metrics")).status_code == 401
            bundle = await http.get("/v1/fhir/BiologicallyDerivedProduct", headers=admin | {
                "Host": "evil.example"}, params={"biological-source-event": "A999925000001"})
            assert bundle.json()["link"][0]["url"].startswith("https://blood.example.org/v1/")
            # Headers that never end are cut off by the header deadline.
            with socket.create_connection(("127.0.0.1", port)) as raw:
                raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                raw.settimeout(settings.header_read_timeout_s + 5)
                started = time.monotonic()
                raw.sendall(b"X-Slow: 1\r\n")
                assert await asyncio.to_thread(raw.recv, 100) == b""
                assert time.monotonic() - started <= settings.header_read_timeout_s + 1
    finally:
        server.should_exit = True
        await task


async def test_item18_a_write_that_meets_an_outage_says_its_outcome_is_unknown(
        services, make_key):
    from tests.conftest import http_client

    admin = await make_key("admin")
    async with http_client(services) as client:
        await services.writer.stop()  # the writer cannot commit: the outcome is not known
        response = await client.post("/v1/events", headers=admin, json={
            "type": "DonorRegistered", "data": {"donor_id": "DNR-OUT-1"},
            "event_id": "6f1c3a36-0a39-4b64-8d7e-7b5c1d2e3f40"})
        await services.writer.start()
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["outcome"] == "unknown"
    assert body["event_id"] == "6f1c3a36-0a39-4b64-8d7e-7b5c1d2e3f40"
    assert "retry with the same event_id" in body["detail"]
    assert response.headers["retry-after"]


@pytest.mark.timeout(60)
def test_item17_the_embedded_postgres_stops_with_the_server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)} | {
        "BLOODTRACE_DATA_DIR": str(tmp_path), "PORT": str(port), "HOST": "127.0.0.1",
        "BLOODTRACE_CHECKPOINT_EVERY_SECONDS": "3600"}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 45
        while True:
            assert proc.poll() is None and time.monotonic() < deadline
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        pidfile = tmp_path / "pg" / "postmaster.pid"
        postmaster = int(pidfile.read_text().split()[0])
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        for _ in range(100):
            if not pidfile.exists() and not _alive(postmaster):
                break
            time.sleep(0.1)
        assert not _alive(postmaster), "the embedded PostgreSQL outlived the server"
    finally:
        if proc.poll() is None:
            proc.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
