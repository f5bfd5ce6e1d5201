"""Plumbing of the authorization matrix: the network over an in-process app, a signed
checkpoint on demand, requests sent many at a time, the first page of an SSE stream, and the
patient-id search every answer goes through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from app.bootstrap import Services
from app.signing_keys import load_signers
from app.store.checkpoint_store import make_checkpoint, register_keys
from app.store.keys import create_key
from tests.conftest import app_and_client
from tests.e2e.matrix_network import Network
from tests.support.pool_watch import watch_nesting
from tests.support.relations import Key, Relations

T = TypeVar("T")
CONCURRENCY = 8


@asynccontextmanager
async def matrix_over(services: Services) -> AsyncIterator[tuple[Any, Network]]:
    """The app over the test's services, and the network built through it. On the way out,
    no request may have taken a second connection of the pool while it held one: ``CONCURRENCY``
    such requests at once would deadlock a pool of as many connections."""
    async def make_key(role: str, site: str | None) -> dict[str, str]:
        async with services.pool.acquire() as con:
            issued = await create_key(con, role, site)
        return {"Authorization": f"Bearer {issued.token}"}

    with watch_nesting(services.pool) as nested:
        async with app_and_client(services) as (app, client):
            yield app, await Network.build(client, make_key)
    assert not nested, f"{len(nested)} nested acquisitions; the first:\n{nested[0]}"


async def sign_checkpoint(services: Services) -> None:
    signers = await asyncio.to_thread(load_signers, services.settings)
    async with services.pool.acquire() as con:
        signers = await register_keys(con, signers)
        await make_checkpoint(con, signers, services.settings.log_origin)


async def at_most(n: int, jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Await the jobs, ``n`` at a time, results in order."""
    gate = asyncio.Semaphore(n)

    async def one(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


async def sse_first_page(app: Any, headers: dict[str, str], entries: int) -> tuple[int, str]:
    """Open ``/v1/events/stream`` on the ASGI app, read until ``entries`` events came (or a
    second passed), then hang up; the status and what was sent."""
    started: dict[str, Any] = {}
    chunks: list[bytes] = []
    hang_up = asyncio.Event()
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if b"".join(chunks).count(b"\nid: ") >= entries:
                hang_up.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/v1/events/stream",
             "raw_path": b"/v1/events/stream", "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("bt.test", 80)}
    task = asyncio.create_task(app(scope, receive, send))
    try:
        await asyncio.wait_for(asyncio.shield(hang_up.wait()), 1.0)
    except TimeoutError:
        hang_up.set()
    await asyncio.wait_for(task, 5.0)
    return started.get("status", 0), b"".join(chunks).decode()


def leaked_patients(model: Relations, key: Key, text: str,
                    told: Iterable[str] = ()) -> list[str]:
    """The patient ids in an answer that the key may not see (bar those it sent itself)."""
    return [f"shows {p}" for p in model.patients - set(told)
            if p in text and not model.sees_patient(key, p)]
