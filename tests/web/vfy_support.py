"""What the verification tests share: a small simulated network served by ``bloodtrace serve``
that pushes its checkpoints to a real witness (``bloodtrace witness serve``), and the browser
tricks they use on it: answers altered in flight, and ``crypto.subtle`` taken away."""

from __future__ import annotations

import asyncio
import base64
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.async_api import Page, Route

from app.bootstrap import open_services
from app.config import Settings
from app.log import notes as N
from app.log.checkpoints import private_key_pem
from app.sim.demo import DEMO_RATES, create_demo_people
from app.sim.network import NetworkConfig
from app.sim.runner import run_simulation
from app.sim.state import SimConfig
from app.store.keys import create_key
from tests.conftest import TEST_HASH_COST
from tests.support.server import ROOT, ServerProcess
from tests.support.witness_process import WitnessProcess

ORIGIN = "bloodtrace.test/vfy"
LOG = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"v" * 32))
ARTIFACTS = ROOT / "test-artifacts"
# Fixed, test-only vault secrets (32 bytes each), so the seeding process and the server agree.
VAULT = {"vault_master_key": base64.b64encode(b"m" * 32).decode(),
         "vault_pepper": base64.b64encode(b"p" * 32).decode()}
SMALL = SimConfig(network=NetworkConfig(rates=DEMO_RATES), donations=40, days=8, seed=15)


@dataclass(frozen=True, slots=True)
class VerifyNetwork:
    """The served network: where it is, its pinned keys, an auditor's key and some units."""

    server: ServerProcess
    witness: WitnessProcess
    database_url: str
    auditor_token: str
    units: list[str]
    passwords: dict[str, str]
    """user id → password of the demo people"""
    people: dict[tuple[str, str | None], str]
    """(role, site) → user id"""

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def log_key(self) -> str:
        return str(LOG.verifier)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.auditor_token}"}


async def _units_with_history(url: str, checkpoint: int) -> list[str]:
    con = await asyncpg.connect(url)
    try:
        rows = await con.fetch(
            "SELECT ref FROM event_refs WHERE kind = 'unit' AND position <= $1 "
            "GROUP BY ref ORDER BY count(*) DESC, ref LIMIT 5", checkpoint)
    finally:
        await con.close()
    return [r["ref"] for r in rows]


async def _wait_cosigned(url: str, timeout: float = 60) -> int:
    """The size of the latest checkpoint once the witness has cosigned it."""
    con = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            size = await con.fetchval("SELECT max(size) FROM checkpoints")
            if size and await con.fetchval(
                    "SELECT count(*) FROM witness_cosignatures WHERE size = $1", size):
                return int(size)
            assert time.monotonic() < deadline, "the latest checkpoint was not cosigned"
            await asyncio.sleep(0.2)
    finally:
        await con.close()


@asynccontextmanager
async def served_network(database_url: str, folder: Path) -> AsyncIterator[VerifyNetwork]:
    """Seed a small network into ``database_url``, then serve it with a witness."""
    witness = WitnessProcess(folder, [f"{ORIGIN}={LOG.verifier}"], "directorate.example/w")
    witness.start()
    pem = private_key_pem(LOG.key).decode()
    witnesses = [{"url": witness.url, "vkey": witness.vkey}]
    settings = Settings(database_url=database_url, signing_key=pem, log_origin=ORIGIN,
                        data_dir=folder, checkpoint_every_seconds=0.2,
                        checkpoint_every_events=100, **TEST_HASH_COST, **VAULT)
    async with open_services(settings) as services:  # signs a last checkpoint on exit
        await run_simulation(services.writer, SMALL, whole_days=True, vault=services.vault)
        people = await create_demo_people(services)
    env = {"BLOODTRACE_SIGNING_KEY": pem, "BLOODTRACE_LOG_ORIGIN": ORIGIN,
           "BLOODTRACE_WITNESSES": orjson.dumps(witnesses).decode(),
           "BLOODTRACE_WITNESS_QUORUM": "1", "BLOODTRACE_DATA_DIR": str(folder),
           "BLOODTRACE_CHECKPOINT_EVERY_SECONDS": "1",
           "BLOODTRACE_VAULT_MASTER_KEY": VAULT["vault_master_key"],
           "BLOODTRACE_VAULT_PEPPER": VAULT["vault_pepper"],
           **{f"BLOODTRACE_{k.upper()}": str(v) for k, v in TEST_HASH_COST.items()}}
    # Every interface, so that a test can also open the pages at a LAN address (no WebCrypto).
    server = ServerProcess(database_url, HOST="0.0.0.0", **env)
    server.start()
    try:
        size = await _wait_cosigned(database_url)
        con = await asyncpg.connect(database_url)
        try:
            signed = await con.fetchval("SELECT count(*) FROM checkpoints")
            assert signed >= 3, f"only {signed} checkpoints: consistency needs two or more"
            token = (await create_key(con, "auditor", None)).token
        finally:
            await con.close()
        units = await _units_with_history(database_url, size)
        assert units, "the simulated network made no units"
        yield VerifyNetwork(server, witness, database_url, token, units,
                            {p.user_id: p.password for p in people},
                            {(p.role, p.site_id): p.user_id for p in people})
    finally:
        server.stop()
        witness.stop()


def lan_address() -> str | None:
    """This machine's address on its LAN (not loopback), if it has one. A UDP "connect"
    sends nothing; it only picks the interface a packet would leave by."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


# --- the browser -------------------------------------------------------------------------------


Alter = Callable[[Any], Any]
"""Changes a decoded JSON answer in place (or returns a new one)."""


async def alter_json(page: Page, pattern: str, alter: Alter,
                     headers: dict[str, str] | None = None) -> None:
    """Every answer of ``pattern`` reaches the page changed by ``alter``: a tampering service,
    or a tampering network between it and the browser."""

    async def handle(route: Route) -> None:
        response = await route.fetch(headers={**route.request.headers, **(headers or {})})
        body = orjson.loads(await response.body())
        changed = alter(body)
        await route.fulfill(response=response,
                            body=orjson.dumps(body if changed is None else changed))

    await page.route(pattern, handle)


async def alter_text(page: Page, pattern: str, alter: Callable[[str], str]) -> None:
    async def handle(route: Route) -> None:
        response = await route.fetch()
        await route.fulfill(response=response, body=alter(await response.text()))

    await page.route(pattern, handle)


NO_WEBCRYPTO = "Object.defineProperty(globalThis.crypto, 'subtle', {value: undefined});"
"""What a page served over plain HTTP on a LAN address sees: no ``crypto.subtle``."""


def flip_base64(text: str, byte: int = 0) -> str:
    """The same base64 value with one bit of byte ``byte`` flipped."""
    raw = bytearray(base64.b64decode(text))
    raw[byte] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


async def verdict(page: Page, selector: str = "[data-verdict]",
                  timeout: float = 20_000) -> dict[str, str | None]:
    """The verdict once the module has reached one (not ``pending``)."""
    element = page.locator(selector).first
    await page.wait_for_function(
        "s => { const v = document.querySelector(s); return v && v.dataset.verification && "
        "v.dataset.verification !== 'pending'; }", arg=selector, timeout=timeout)
    return {"state": await element.get_attribute("data-verification"),
            "at": await element.get_attribute("data-failed-at"),
            "position": await element.get_attribute("data-failed-position"),
            "text": (await element.text_content() or "").strip()}


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


Check = Callable[[Page], Awaitable[None]]
