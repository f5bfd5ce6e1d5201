"""The "given" of the life-cycle specifications: a small network, a clock and builders.

``Scene.do`` decides and applies a command (when → then events); ``Scene.refuse`` expects a
DomainError and checks the world did not change. The other test_lifecycle_* modules import
from here; ``tests/unit/test_lifecycle_given.py`` checks that the standard scene itself holds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from app.errors import DomainError
from app.events.catalogue import Catalogue, default_catalogue
from app.events.messages import Actor, Command, NewEvent, StoredEvent
from app.events.payload import dump
from app.events.signatures import signed
from app.events.state import DonationState, DonorState
from app.events.unit import UnitState
from app.log.merkle import CompactRange
from app.log.record import GENESIS, format_time
from app.store.append import LogTail
from tests.support.memory_world import InMemoryWorld

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ADMIN = Actor("key-admin", "admin", None, user_id="person-admin")
SITES = {
    "BB1": "blood_bank", "BB2": "blood_bank", "MU1": "mobile_unit", "LAB1": "lab",
    "H1": "hospital", "H2": "hospital", "FR1": "fractionator",
}
RED_CELLS, PLASMA, PLATELETS = "E0398V00", "E2555V00", "E3084V00"
BEDSIDE: dict[str, Any] = {"wristband_scanned": True, "unit_scanned": True,
                           "second_checker_id": "NURSE-2"}
"""A bedside check that passes."""


def actor(role: str, site: str | None) -> Actor:
    """The person of ``role`` at ``site`` (their steps carry ``actor.user_id``)."""
    return Actor(f"key-{role}-{site}", role, site, user_id=f"person-{role}-{site}")


def machine(role: str, site: str | None) -> Actor:
    """An API key of ``role`` at ``site``: a machine, which cannot sign."""
    return Actor(f"key-{role}-{site}", role, site)


def din(n: int, facility: str = "A9999", year: int = 25) -> str:
    """A well-formed bare DIN of a fictitious facility."""
    return f"{facility}{year:02d}{n:06d}"


class Scene:
    """A world under test with a clock that moves one minute per command, starting an hour
    before ``T0`` (so that the network and donors registered by the builders exist before
    a step a test dates at ``T0``)."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.world = InMemoryWorld()
        self.catalogue = catalogue or default_catalogue()
        self.now = T0 - timedelta(hours=1)
        self.log: list[NewEvent] = []
        self.serial = 0
        self.dins = 0
        self.screen_before_collection = True

    # --- when ---------------------------------------------------------------------------

    def command(self, type: str, data: dict[str, Any], by: Actor = ADMIN,
                at: datetime | None = None) -> Command:
        if at is None:
            self.now += timedelta(minutes=1)
            at = self.now
        else:  # the clock never runs back: later implicit steps follow an explicit one
            self.now = max(self.now, at)
        # The person doing a signed step signs it (``app.events.signatures``).
        return signed(Command(type=type, data=data, event_id=uuid4(), occurred_at=at,
                              recorded_at=at, actor=by))

    def do(self, type: str, data: dict[str, Any], by: Actor = ADMIN,
           at: datetime | None = None) -> list[NewEvent]:
        self._given(type, data, at)
        return self.run(self.command(type, data, by, at))

    def refuse(self, type: str, data: dict[str, Any], by: Actor = ADMIN,
               at: datetime | None = None) -> DomainError:
        self._given(type, data, at)
        return self.refuse_command(self.command(type, data, by, at))

    def _given(self, type: str, data: dict[str, Any], at: datetime | None) -> None:
        """What a collection presupposes in the scene: the donor was screened at the site
        just before (``screen_before_collection``; the screening rules' own specs turn it
        off). Best effort: when the screening itself is refused, the collection will be for
        its own reason."""
        if type != "DonationCollected" or not self.screen_before_collection:
            return
        try:
            self.screen(str(data.get("donor_id")), str(data.get("site_id")), at=at)
        except DomainError:
            pass

    def run(self, cmd: Command) -> list[NewEvent]:
        """Decide and apply a command built by hand (a late entry, say)."""
        events = self.world.execute(cmd, self.catalogue)
        self.log.extend(events)
        return events

    def refuse_command(self, cmd: Command) -> DomainError:
        before = dict(self.world.states)
        with pytest.raises(DomainError) as caught:
            self.run(cmd)
        assert self.world.states == before
        return caught.value

    def stored(self) -> list[StoredEvent]:
        """Every event decided so far as the writer would store it: positions, stream
        versions, records and hashes from the pure append step."""
        tail = LogTail(0, GENESIS, CompactRange(), defaultdict(int))
        for event in self.log:
            tail.append(event, event.occurred_at)
        return tail.stored

    def later(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    # --- reading ------------------------------------------------------------------------

    def unit(self, unit_id: str) -> UnitState:
        state = self.world.get(("unit", unit_id))
        assert isinstance(state, UnitState)
        return state

    def donation(self, din: str) -> DonationState:
        state = self.world.get(("donation", din))
        assert isinstance(state, DonationState)
        return state

    def donor(self, donor_id: str) -> DonorState:
        state = self.world.get(("donor", donor_id))
        assert isinstance(state, DonorState)
        return state

    # --- given --------------------------------------------------------------------------

    def network(self) -> Scene:
        for site_id, kind in SITES.items():
            self.do("SiteRegistered", {"site_id": site_id, "name": f"Site {site_id}",
                                       "kind": kind, "region": "Damascus"})
        for collecting in ("BB1", "BB2", "MU1"):  # LAB1 tests every collection site's samples
            self.do("LabServiceAgreed", {"collection_site_id": collecting,
                                         "lab_site_id": "LAB1"})
        return self

    def new_donor(self, donor_id: str | None = None, at: datetime | None = None,
                  **extra: Any) -> str:
        self.serial += 1
        donor_id = donor_id or f"DNR-{self.serial:04d}"
        extra.setdefault("sex", "M")  # the scene's donors are men unless a test says so
        self.do("DonorRegistered", {"donor_id": donor_id, **{k: v for k, v in extra.items()
                                                            if v is not None}},
                actor("collector", "BB1"), at)
        return donor_id

    def collect(self, n: int | None = None, donor_id: str | None = None, site: str = "BB1",
                collection_type: str = "whole_blood", category: str = "whole_blood",
                product_code: str = "E0001V00", volume_ml: int = 450,
                at: datetime | None = None) -> str:
        """Collect a donation (new donor unless given) after a passing screening at the
        site; returns the primary unit id."""
        self.dins += 1
        number = n if n is not None else self.dins
        donor_id = donor_id or self.new_donor(at=at)
        self.do("DonationCollected", {
            "din": din(number), "donor_id": donor_id, "site_id": site,
            "collection_type": collection_type, "product_code": product_code,
            "category": category, "volume_ml": volume_ml,
        }, actor("collector", site), at)
        return f"{din(number)}-{product_code}"

    def screen(self, donor_id: str, site: str = "BB1", hb_g_l: int = 140, passed: bool = True,
               at: datetime | None = None) -> None:
        """The pre-donation check at ``site`` (Hb 140 g/L passes for every sex)."""
        self.do("DonorScreened", {"donor_id": donor_id, "site_id": site, "hb_g_l": hb_g_l,
                                  "pass": passed}, actor("collector", site), at)

    def split(self, unit_id: str, components: list[tuple[str, str, int]] | None = None,
              site: str = "BB1") -> list[str]:
        components = components or [(RED_CELLS, "red_cells", 250), (PLASMA, "plasma", 180)]
        self.do("UnitSplit", {"unit_id": unit_id, "components": [
            {"product_code": pc, "category": cat, "volume_ml": ml} for pc, cat, ml in components
        ]}, actor("processing", site))
        base = unit_id.split("-")[0]
        return [f"{base}-{pc}" for pc, _, _ in components]

    def test_all(self, din_: str, abo: str = "O", rhd: str = "NEG",
                 results: dict[str, str] | None = None) -> None:
        lab = actor("lab", "LAB1")
        for marker in ("HIV", "HBV", "HCV", "SYPHILIS"):
            result = (results or {}).get(marker, "non_reactive")
            self.do("TestResultRecorded", {"din": din_, "marker": marker, "result": result,
                                           "lab_site_id": "LAB1"}, lab)
        for marker, result in (("ABO", abo), ("RHD", rhd)):
            self.do("TestResultRecorded", {"din": din_, "marker": marker, "result": result,
                                           "lab_site_id": "LAB1"}, lab)

    def release(self, unit_id: str, site: str = "BB1") -> None:
        self.do("UnitReleased", {"unit_id": unit_id}, actor("processing", site))

    def ship(self, unit_id: str, to: str = "H1", frm: str = "BB1") -> str:
        self.serial += 1
        shipment = f"SHP-{self.serial}"
        self.do("UnitShipped", {"unit_id": unit_id, "from_site_id": frm, "to_site_id": to,
                                "shipment_id": shipment}, actor("inventory", frm))
        return shipment

    def receive(self, unit_id: str, shipment: str, site: str = "H1",
                accepted: bool = True) -> list[NewEvent]:
        role = "hospital" if SITES.get(site) == "hospital" else "inventory"
        return self.do("UnitReceived", {"unit_id": unit_id, "site_id": site,
                                        "shipment_id": shipment, "accepted": accepted},
                       actor(role, site))

    def released_component(self, abo: str = "O", rhd: str = "NEG", at_site: str = "H1",
                           category: str = "red_cells") -> str:
        """A released red cell (or plasma) unit at ``at_site``, from a fresh donation."""
        parent = self.collect()
        red, plasma = self.split(parent)
        self.test_all(parent.split("-")[0], abo, rhd)
        unit_id = red if category == "red_cells" else plasma
        self.release(unit_id)
        if at_site != "BB1":
            self.receive(unit_id, self.ship(unit_id, at_site), at_site)
        return unit_id

    def irradiated_component(self, abo: str = "O", rhd: str = "NEG") -> str:
        """A released red-cell unit irradiated at the blood bank, then received at H1."""
        unit = self.released_component(abo, rhd, at_site="BB1")
        self.do("UnitModified", {"unit_id": unit, "modification": "irradiated",
                                 "product_code": "E0398VA0"}, actor("processing", "BB1"))
        new = unit.replace(RED_CELLS, "E0398VA0")
        self.receive(new, self.ship(new, "H1"), "H1")
        return new

    def reserve(self, unit_id: str, patient: str = "PAT-0001", abo: str = "O",
                rhd: str = "NEG", site: str = "H1", crossmatch: str = "compatible") -> None:
        self.do("UnitReserved", {"unit_id": unit_id, "patient_id": patient, "patient_abo": abo,
                                 "patient_rhd": rhd, "crossmatch": crossmatch},
                actor("hospital", site))

    def issue(self, unit_id: str, patient: str = "PAT-0001", site: str = "H1") -> None:
        self.do("UnitIssued", {"unit_id": unit_id, "patient_id": patient},
                actor("hospital", site))

    def start(self, unit_id: str, patient: str = "PAT-0001", site: str = "H1") -> None:
        self.do("TransfusionStarted", {"unit_id": unit_id, "patient_id": patient,
                                       "bedside_check": BEDSIDE}, actor("hospital", site))

    def transfuse(self, unit_id: str, patient: str = "PAT-0001", site: str = "H1") -> None:
        """Start at the bedside, then complete."""
        self.start(unit_id, patient, site)
        self.do("UnitTransfused", {"unit_id": unit_id, "patient_id": patient},
                actor("hospital", site))

    def determine(self, patient: str, abo: str, rhd: str, sample: str,
                  site: str = "H1", hours_ago: float = 1) -> None:
        """A group determination of one of the patient's samples."""
        self.do("PatientGroupDetermined", {
            "patient_id": patient, "sample_id": sample, "abo": abo, "rhd": rhd,
            "sample_collected_at": format_time(self.now - timedelta(hours=hours_ago))},
            actor("hospital", site))


def body(event: NewEvent) -> dict[str, Any]:
    """An event's data as its record holds it (canonical JSON, absent fields left out)."""
    return dump(event.data)


def scene() -> Scene:
    return Scene().network()
