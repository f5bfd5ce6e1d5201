"""The two-region network of the authorization matrix, built over HTTP with the right key at
every step; each step the service accepts is folded into the relation model too
(``tests/support/relations.py``), which is what the expectations are computed from.

Damascus and Aleppo each have a blood bank, a mobile unit, a lab and two hospitals; one
fractionator serves both. Each collection site has a lab by agreement. There is a key of
every role at every site, and an auditor and an admin key.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from tests.support.people_http import Staff
from tests.support.relations import NATIONAL, SITE_ROLES, Key, Relations

KeyMaker = Callable[..., Awaitable[dict[str, str]]]


async def at_most_two(jobs: Iterable[Awaitable[Any]]) -> None:
    """Run ``jobs`` two at a time (argon2id hashing has two cores here)."""
    pending = list(jobs)
    for i in range(0, len(pending), 2):
        await asyncio.gather(*pending[i:i + 2])
REGIONS = {"DAM": "Damascus", "ALE": "Aleppo"}
SITES = {f"{prefix}-{code}-{n}": kind for code in REGIONS for prefix, n, kind in (
    ("BB", "01", "blood_bank"), ("MU", "01", "mobile_unit"), ("LAB", "01", "lab"),
    ("H", "01", "hospital"), ("H", "02", "hospital"))} | {"FR-01": "fractionator"}
KEYS = [Key(role) for role in NATIONAL] + [Key(role, site) for site in SITES
                                            for role in SITE_ROLES]
WHOLE, RED, PLASMA = "E0001V00", "E0398V00", "E2555V00"
ADMIN = Key("admin")
BEDSIDE = {"wristband_scanned": True, "unit_scanned": True, "second_checker_id": "NRS-1"}


def bank(site: str) -> str:
    """The blood bank of a site's region."""
    return f"BB-{site.split('-')[1]}-01" if site != "FR-01" else "BB-DAM-01"


def lab_of(site: str) -> str:
    return f"LAB-{site.split('-')[1]}-01"


class Network:
    """Sites, keys and builders; ``model`` holds the relations of everything recorded."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.model = Relations()
        self.headers: dict[Key, dict[str, str]] = {}
        self.serial = itertools.count(1)
        self.cache: dict[str, Any] = {}
        self.staff = Staff(client)
        """The person beside each key, who records (and signs) its signed steps."""

    @classmethod
    async def build(cls, client: httpx.AsyncClient, make_key: KeyMaker) -> Network:
        net = cls(client)
        made = await asyncio.gather(*(make_key(k.role, k.site) for k in KEYS))
        net.headers = dict(zip(KEYS, made, strict=True))
        await net.batch(ADMIN, [("SiteRegistered", {
            "site_id": site, "name": f"Site {site}", "kind": kind,
            "region": REGIONS.get(site.split("-")[1], "Damascus")})
            for site, kind in SITES.items()])
        await net.batch(ADMIN, [("LabServiceAgreed", {
            "collection_site_id": f"{p}-{code}-01", "lab_site_id": f"LAB-{code}-01"})
            for code in REGIONS for p in ("BB", "MU")])
        return net

    # --- recording ------------------------------------------------------------------------

    async def post(self, key: Key, type_: str, data: dict[str, Any],
                   **envelope: Any) -> httpx.Response:
        """Record as ``key``; a signed step as the person of that role and site, signed
        (``tests.support.people_http``)."""
        headers, envelope = await self.staff.route(
            self.headers[ADMIN], key.name, key.role, key.site, type_, data, envelope,
            self.headers[key])
        return await self.client.post("/v1/events", json={"type": type_, "data": data,
                                                          **envelope}, headers=headers)

    async def step(self, key: Key, type_: str, data: dict[str, Any],
                   **envelope: Any) -> dict[str, Any]:
        response = await self.post(key, type_, data, **envelope)
        assert response.status_code == 201, (key.name, type_, response.text)
        self.model.record(key, type_, data)
        body: dict[str, Any] = response.json()
        return body

    async def enrol_all(self) -> None:
        """The person beside every key but the auditor's, enrolled now (their accounts are
        events: a test that counts the log enrols them before it counts)."""
        await at_most_two(self.staff.person(self.headers[ADMIN], k.name, k.role, k.site)
                          for k in KEYS if k.role != "auditor")

    async def batch(self, key: Key, items: list[tuple[str, dict[str, Any]]]) -> None:
        response = await self.client.post("/v1/events/batch", headers=self.headers[key], json={
            "events": [{"type": t, "data": d} for t, d in items]})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["status"] for r in results] == [201] * len(items), (key.name, results)
        for type_, data in items:
            self.model.record(key, type_, data)

    def next(self, prefix: str) -> str:
        return f"{prefix}-{next(self.serial):05d}"

    def din(self) -> str:
        return f"A999925{next(self.serial):06d}"

    # --- builders -------------------------------------------------------------------------

    async def donor(self, by: Key = ADMIN) -> str:
        donor = self.next("DNR")
        await self.step(by, "DonorRegistered", {"donor_id": donor})
        return donor

    async def screen(self, donor: str, site: str, **envelope: Any) -> None:
        """The passing pre-donation screening every collection needs (RULES §4)."""
        await self.step(Key("collector", site), "DonorScreened", {
            "donor_id": donor, "site_id": site, "hb_g_l": 145, "pass": True}, **envelope)

    async def collect(self, site: str, donor: str | None = None, **envelope: Any) -> str:
        """A whole-blood donation at ``site`` (a new donor unless given); its unit id."""
        donor = donor or await self.donor()
        await self.screen(donor, site, **envelope)
        din = self.din()
        await self.step(Key("collector", site), "DonationCollected", {
            "din": din, "donor_id": donor, "site_id": site, "collection_type": "whole_blood",
            "product_code": WHOLE, "category": "whole_blood", "volume_ml": 450}, **envelope)
        return f"{din}-{WHOLE}"

    async def split(self, unit: str) -> tuple[str, str]:
        held = self.model.units[unit].custodian
        await self.step(Key("processing", held), "UnitSplit", {"unit_id": unit, "components": [
            {"product_code": RED, "category": "red_cells", "volume_ml": 250},
            {"product_code": PLASMA, "category": "plasma", "volume_ml": 180}]})
        din = unit.split("-")[0]
        return f"{din}-{RED}", f"{din}-{PLASMA}"

    async def test_all(self, din: str, lab: str | None = None) -> None:
        lab = lab or lab_of(self.model.collected_at[din])
        await self.batch(Key("lab", lab), [("TestResultRecorded", {
            "din": din, "marker": marker, "result": result, "lab_site_id": lab})
            for marker, result in (("HIV", "non_reactive"), ("HBV", "non_reactive"),
                                   ("HCV", "non_reactive"), ("SYPHILIS", "non_reactive"),
                                   ("ABO", "O"), ("RHD", "NEG"))])

    async def release(self, unit: str) -> None:
        held = self.model.units[unit].custodian
        await self.step(Key("processing", held), "UnitReleased", {"unit_id": unit})

    async def ship(self, unit: str, to: str) -> str:
        held = self.model.units[unit].custodian
        shipment = self.next("SHP")
        await self.step(Key("inventory", held), "UnitShipped", {
            "unit_id": unit, "from_site_id": held, "to_site_id": to, "shipment_id": shipment})
        return shipment

    async def receive(self, unit: str, shipment: str) -> None:
        to = self.model.units[unit].in_transit_to
        assert to is not None
        role = "hospital" if SITES.get(to) == "hospital" else "inventory"
        await self.step(Key(role, to), "UnitReceived", {
            "unit_id": unit, "site_id": to, "shipment_id": shipment, "accepted": True})

    async def move(self, unit: str, to: str) -> None:
        await self.receive(unit, await self.ship(unit, to))

    async def released(self, at: str, component: str = RED, collected_at: str | None = None,
                       ) -> str:
        """A released red cell (or plasma) unit at ``at``, collected in its region."""
        red, plasma = await self.split(await self.collect(collected_at or bank(at)))
        unit = red if component == RED else plasma
        await self.test_all(unit.split("-")[0])
        await self.release(unit)
        if self.model.units[unit].custodian != at:
            await self.move(unit, at)
        return unit

    async def patient_step(self, type_: str, unit: str, patient: str) -> None:
        site = self.model.units[unit].custodian
        data: dict[str, Any] = {"unit_id": unit, "patient_id": patient}
        if type_ == "UnitReserved":
            data |= {"patient_abo": "O", "patient_rhd": "NEG", "crossmatch": "compatible"}
        if type_ == "TransfusionStarted":
            data |= {"bedside_check": BEDSIDE}
        await self.step(Key("hospital", site), type_, data)

    async def given_to(self, unit: str, patient: str, until: str = "UnitTransfused") -> None:
        """Reserve, issue, start and transfuse (or stop at ``until``) for ``patient``."""
        for type_ in ("UnitReserved", "UnitIssued", "TransfusionStarted", "UnitTransfused"):
            await self.patient_step(type_, unit, patient)
            if type_ == until:
                return

    async def lookback(self, din: str | None = None, donor: str | None = None,
                       by: Key | None = None) -> str:
        source = self.model.collected_at[din] if din else None
        by = by or Key("processing", source or "BB-DAM-01")
        lookback_id = self.next("LB")
        await self.step(by, "LookbackStarted", {"lookback_id": lookback_id, "marker": "HIV"} | (
            {"din": din} if din else {"donor_id": donor}))
        return lookback_id
