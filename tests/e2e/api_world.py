"""A small network driven over HTTP, for the API tests: sites, one key per role and site,
and builders that take a unit through its life with the right key at each step."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.support.people_http import Staff
from tests.support.scene import BEDSIDE

KeyMaker = Callable[..., Awaitable[dict[str, str]]]
SITES = {"BB1": "blood_bank", "BB2": "blood_bank", "LAB1": "lab", "H1": "hospital",
         "H2": "hospital", "FR1": "fractionator"}
RED_CELLS, PLASMA = "E0398V00", "E2555V00"
PROBLEM = "application/problem+json"


def din(n: int) -> str:
    return f"A999925{n:06d}"


class Net:
    """Keys by name: ``admin``, ``auditor``, ``collector@BB1``, ``hospital@H1``..."""

    def __init__(self, client: httpx.AsyncClient, make_key: KeyMaker) -> None:
        self.client = client
        self.make_key = make_key
        self.keys: dict[str, dict[str, str]] = {}
        self.serial = 0
        self.staff = Staff(client)
        """The person beside each key, who records (and signs) its signed steps."""

    async def setup(self) -> Net:
        self.keys["admin"] = await self.make_key("admin")
        self.keys["auditor"] = await self.make_key("auditor")
        for site, kind in SITES.items():
            await self.ok("admin", "SiteRegistered", {
                "site_id": site, "name": f"Site {site}", "kind": kind, "region": "Damascus"})
        for collecting in ("BB1", "BB2"):
            await self.ok("admin", "LabServiceAgreed", {"collection_site_id": collecting,
                                                        "lab_site_id": "LAB1"})
        for role, site in (("collector", "BB1"), ("processing", "BB1"), ("inventory", "BB1"),
                           ("collector", "BB2"), ("inventory", "BB2"), ("lab", "LAB1"),
                           ("hospital", "H1"), ("hospital", "H2"), ("inventory", "FR1")):
            self.keys[f"{role}@{site}"] = await self.make_key(role, site)
        return self

    async def post(self, key: str, type: str, data: dict[str, Any],
                   **envelope: Any) -> httpx.Response:
        """Record as ``key``; a signed step as the person of that role and site, signed
        (``tests.support.people_http``)."""
        role, _, site = key.partition("@")
        headers, envelope = await self.staff.route(
            self.keys["admin"], key, role, site or None, type, data, envelope, self.keys[key])
        return await self.client.post("/v1/events", json={"type": type, "data": data,
                                                          **envelope}, headers=headers)

    async def enrol(self, key: str) -> None:
        """Make sure the person beside ``key`` exists (their account is an event: a test
        that counts the log enrols them before it counts)."""
        role, _, site = key.partition("@")
        if role != "auditor":
            await self.staff.person(self.keys["admin"], key, role, site or None)

    async def machine_post(self, key: str, type: str, data: dict[str, Any],
                           **envelope: Any) -> httpx.Response:
        """Record as the API key itself, whatever the step."""
        return await self.client.post("/v1/events", json={"type": type, "data": data,
                                                          **envelope},
                                      headers=self.keys[key])

    async def ok(self, key: str, type: str, data: dict[str, Any]) -> dict[str, Any]:
        response = await self.post(key, type, data)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def get(self, key: str, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params or None, headers=self.keys[key])

    async def collect(self, n: int, site: str = "BB1") -> str:
        """A whole-blood donation from a new donor, screened just before (RULES §4);
        returns the unit id."""
        self.serial += 1
        donor = f"DNR-{self.serial:05d}"
        await self.ok(f"collector@{site}", "DonorRegistered", {"donor_id": donor, "sex": "M",
                                                               "birth_year": 1985})
        await self.screen(donor, site)
        await self.ok(f"collector@{site}", "DonationCollected", {
            "din": din(n), "donor_id": donor, "site_id": site,
            "collection_type": "whole_blood", "product_code": "E0001V00",
            "category": "whole_blood", "volume_ml": 450})
        return f"{din(n)}-E0001V00"

    async def screen(self, donor: str, site: str = "BB1", hb_g_l: int = 145) -> None:
        """The pre-donation check a collection needs at its site in the 24 h before."""
        await self.ok(f"collector@{site}", "DonorScreened", {
            "donor_id": donor, "site_id": site, "hb_g_l": hb_g_l, "pass": True})

    async def split(self, unit_id: str) -> tuple[str, str]:
        await self.ok("processing@BB1", "UnitSplit", {"unit_id": unit_id, "components": [
            {"product_code": RED_CELLS, "category": "red_cells", "volume_ml": 250},
            {"product_code": PLASMA, "category": "plasma", "volume_ml": 180}]})
        base = unit_id.split("-")[0]
        return f"{base}-{RED_CELLS}", f"{base}-{PLASMA}"

    async def test_all(self, din_: str, abo: str = "O", rhd: str = "NEG") -> None:
        for marker, result in (("HIV", "non_reactive"), ("HBV", "non_reactive"),
                               ("HCV", "non_reactive"), ("SYPHILIS", "non_reactive"),
                               ("ABO", abo), ("RHD", rhd)):
            await self.ok("lab@LAB1", "TestResultRecorded", {
                "din": din_, "marker": marker, "result": result, "lab_site_id": "LAB1"})

    async def ship(self, unit_id: str, to: str = "H1", frm: str = "BB1") -> None:
        self.serial += 1
        shipment = f"SHP-{self.serial}"
        await self.ok(f"inventory@{frm}", "UnitShipped", {
            "unit_id": unit_id, "from_site_id": frm, "to_site_id": to,
            "shipment_id": shipment})
        await self.ok(f"hospital@{to}", "UnitReceived", {
            "unit_id": unit_id, "site_id": to, "shipment_id": shipment, "accepted": True})

    async def red_cells_at(self, n: int, hospital: str = "H1") -> str:
        """A released O NEG red cell unit received by ``hospital``."""
        whole = await self.collect(n)
        red, _plasma = await self.split(whole)
        await self.test_all(din(n))
        await self.ok("processing@BB1", "UnitReleased", {"unit_id": red})
        await self.ship(red, hospital)
        return red

    async def transfuse(self, unit_id: str, patient: str, site: str = "H1") -> None:
        key = f"hospital@{site}"
        await self.ok(key, "UnitReserved", {
            "unit_id": unit_id, "patient_id": patient, "patient_abo": "O", "patient_rhd": "NEG",
            "crossmatch": "compatible"})
        await self.ok(key, "UnitIssued", {"unit_id": unit_id, "patient_id": patient})
        await self.ok(key, "TransfusionStarted", {"unit_id": unit_id, "patient_id": patient,
            "bedside_check": BEDSIDE})
        await self.ok(key, "UnitTransfused", {"unit_id": unit_id, "patient_id": patient})


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free local port, in this event loop; yields the base
    URL. Needed where the in-process ASGI transport cannot go: endless SSE streams."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=5))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


def app_over(services: Any) -> Any:
    """An app over already-open services (the test owns their lifetime)."""
    from app.api.app import create_app

    @asynccontextmanager
    async def given(_: Any) -> AsyncIterator[Any]:
        yield services

    return create_app(services.settings, services=given)
