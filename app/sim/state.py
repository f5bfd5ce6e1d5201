"""The simulator's state and the helpers every flow uses: acting keys, simulated time,
identifiers (DINs with their ISO 7064 Mod 37-2 check character, pseudonyms) and stock
indexes by site and category."""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from stdnum.iso7064 import mod_37_2

from app.events import isbt
from app.events.catalogue import default_catalogue
from app.events.messages import Actor
from app.sim.eligibility import VOLUME_SPREAD, earliest_day, interval_day
from app.sim.model import (
    COLLECTION_TYPES,
    GROUPS,
    PRODUCTS,
    DayClock,
    Donation,
    Donor,
    Hold,
    Product,
    Step,
    Unit,
)
from app.sim.network import Network, NetworkConfig, Site, build_network
from app.sim.people import People

if TYPE_CHECKING:
    from app.sim.lookback import InformationCase, Lookback
    from app.sim.patients import Patient

PatientRequest = tuple[str, str, str, tuple[str, str]]
"""(hospital, category, patient, ABO/RhD group)."""
SAFE_HOURS = timedelta(hours=10)
"""Units expiring sooner are not shipped or issued: they wait for the evening's discard."""
ADMIN = Actor.person("admin", "admin", None)
"""The simulated network's staff are people: each steps as themselves (``user_id``) and
signs what needs a signature (``app.sim.runner``). The national admin creates each one's
account (``AccountCreated``) just before their first step."""
OPERATOR = Actor(key_id="sim-operator", role="admin", site_id=None)
"""The server's console, which creates the national admin's own account."""


def staff_id(role: str, site_id: str) -> str:
    """The user id of the simulated person of ``role`` at ``site_id``."""
    return f"{role}.{site_id}".lower()


ROLE_AT = {"blood_bank": "inventory", "mobile_unit": "inventory", "hospital": "hospital",
           "fractionator": "inventory", "lab": "lab"}
"""The role that looks after the units at each kind of site."""


@dataclass(frozen=True, slots=True)
class SimConfig:
    """One simulation run: the network, how many donations over how many days, the seed and
    the moment the simulated period ends (default: now, so every event is in the past)."""

    network: NetworkConfig = field(default_factory=NetworkConfig)
    donations: int = 300
    days: int = 120
    seed: int = 7
    end: datetime | None = None


class SimState:
    """Everything the flows read and change, plus the step buffer of the current phase."""

    def __init__(self, config: SimConfig,
                 pseudonym_of: Callable[[str], str] | None = None) -> None:
        self.config = config
        self.pseudonym_of = pseudonym_of
        """The vault's pseudonym of a national id: donors are then registered through the
        vault, with fictional identities (``app.sim.people``)."""
        self.people = People(config.seed)
        self.identity_rng = random.Random(config.seed ^ 0x1DE1D)
        """Decides identity reads and erasures, apart from ``rng``: every other decision
        of a run is the same with them as without."""
        self.rates = config.network.rates
        catalogue = default_catalogue()
        self.donor_rules = catalogue.donors
        """The catalogue's donor numbers (intervals, caps, Hb limits) the service runs with."""
        self.products = catalogue.products
        """Its product numbers (how long a modified unit keeps)."""
        self.rng = random.Random(config.seed)
        self._ids = random.Random(config.seed ^ 0x5EED)
        self.network: Network = build_network(config.network)
        self.sites: dict[str, Site] = {s.site_id: s for s in self.network.sites}
        self.banks = self.network.of_kind("blood_bank")
        self.collecting = self.banks + self.network.of_kind("mobile_unit")
        self.hospitals: dict[str, list[Site]] = {}
        for h in self.network.of_kind("hospital"):
            self.hospitals.setdefault(h.supplier or "", []).append(h)
        end = config.end or datetime.now(UTC).replace(microsecond=0)
        self.end = end
        # Simulated days run midnight to midnight (UTC) and end before today began.
        midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = midnight - timedelta(days=config.days)
        self.clock = DayClock(self.start, end, self.start)
        self.day = 0
        self.carry = 0.0
        self.donors: dict[str, Donor] = {}
        self.due: dict[str, list[tuple[int, int, str]]] = {s.site_id: [] for s in self.collecting}
        self.donations: dict[str, Donation] = {}
        self.units: dict[str, Unit] = {}
        self.stock: dict[tuple[str, str], dict[str, Unit]] = {}
        self.expiry: list[tuple[datetime, str]] = []
        self.collected_today: list[Donation] = []
        self.in_transit: list[tuple[Unit, str, str]] = []
        """(unit, shipment id, destination) shipped in this phase, received in the next."""
        self.excursion_due: list[tuple[Unit, str]] = []
        """(unit, what happens to it: temperature, inspection or damaged) later today."""
        self.watch: list[tuple[Unit, Hold, str]] = []
        """Units held today, with the hold and why, to assess the next day."""
        self.pending: dict[str, list[Unit]] = {"reserved": [], "issued": []}
        self.patients: dict[str, Patient] = {}
        self.emergencies: list[tuple[Patient, list[Unit], datetime]] = []
        """(patient, units issued uncrossmatched, when) to crossmatch at the issue round."""
        self.late: list[Unit] = []
        """Transfusions running long, completed (with the reason) in the evening."""
        self.orders: list[PatientRequest] = []
        """(hospital, category, patient, group) a hospital could not serve from its stock."""
        self.awaiting: list[PatientRequest] = []
        """Requests whose urgent order was settled, to reserve in the next phase."""
        self.unreleased: dict[str, Unit] = {}
        """Units the blood bank has not released yet, in the order they were made."""
        self.tests_due: dict[int, list[tuple[str, str, str]]] = {}
        """By day: (test, DIN, marker) the lab records then (repeat, confirmatory, group,
        bacteria)."""
        self.doomed: dict[str, str] = {}
        """Units only a discard may follow, with its reason, discarded once not in transit."""
        self.reinstate: dict[int, list[tuple[Donor, str]]] = {}
        """By day: (donor, deferral id) the blood bank ends then."""
        self.lookbacks: list[Lookback] = []
        self.information: list[InformationCase] = []
        self.unmet: Counter[str] = Counter()
        self.out: list[Step] = []
        self._seq: Counter[str] = Counter()
        self._actors: dict[tuple[str | None, str], Actor] = {}

    # --- time and output -------------------------------------------------------------------

    def begin_day(self, day: int) -> None:
        self.day = day
        self.clock.base = self.start + timedelta(days=day)

    def emit(self, type: str, data: dict[str, Any], actor: Actor, *,
             expect: str | None = None, units: tuple[str, ...] = (),
             path: str | None = None) -> Step:
        """Queue one command of the current phase, a moment after the previous one.
        ``expect`` is the rule it must break (a mistake sent on purpose)."""
        step = Step(type, data, actor, self.clock.tick(), self.event_id(), expect, units,
                    path=path)
        self.out.append(step)
        return step

    def emit_aside(self, type: str, data: dict[str, Any], actor: Actor, *,
                   path: str | None = None) -> Step:
        """Queue a step beside the flows (an identity read or erasure): its id comes from
        ``identity_rng`` and it takes the moment of the step before, so that every other
        id, time and decision of the run stays as it would be without it."""
        event_id = uuid.UUID(int=self.identity_rng.getrandbits(128), version=4)
        step = Step(type, data, actor, min(self.clock.now, self.clock.end), event_id,
                    path=path)
        self.out.append(step)
        return step

    def take(self) -> list[Step]:
        steps, self.out = self.out, []
        return steps

    def when(self, day: int) -> str:
        """The ISO date-time of the start of simulated ``day``."""
        return self.midnight(day).isoformat().replace("+00:00", "Z")

    def midnight(self, day: int) -> datetime:
        return self.start + timedelta(days=day)

    def order_test(self, days: int, test: str, din: str, marker: str) -> None:
        """Have the lab record ``test`` of ``marker`` on ``din`` in ``days`` days."""
        self.tests_due.setdefault(self.day + days, []).append((test, din, marker))

    # --- acting keys and identifiers -------------------------------------------------------

    def actor(self, site_id: str | None, role: str) -> Actor:
        key = (site_id, role)
        if key not in self._actors:
            self._actors[key] = ADMIN if site_id is None else Actor.person(
                staff_id(role, site_id), role, site_id)
            if site_id is not None:
                self.emit("AccountCreated", {"user_id": staff_id(role, site_id),
                                             "name": f"{role} staff of {site_id}",
                                             "role": role, "site_id": site_id}, ADMIN)
        return self._actors[key]

    @property
    def staff(self) -> list[Actor]:
        """Every person who acted so far."""
        return list(self._actors.values())

    def custodian(self, site_id: str) -> Actor:
        """The key that acts for a unit's custodian: inventory at a bank, hospital staff at
        a hospital."""
        return self.actor(site_id, ROLE_AT[self.sites[site_id].kind])

    def event_id(self) -> uuid.UUID:
        return uuid.UUID(int=self._ids.getrandbits(128), version=4)

    def pseudonym(self, prefix: str) -> str:
        """A random pseudonym such as ``DNR-7QX2K9MA`` (never a name or a national id)."""
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return prefix + "-" + "".join(self._ids.choice(alphabet) for _ in range(8))

    def serial(self, prefix: str) -> str:
        self._seq[prefix] += 1
        return f"{prefix}-{self._seq[prefix]:06d}"

    def new_din(self, fin: str) -> str:
        """The next bare DIN of facility ``fin``: 5 + 2-digit year + 6-digit sequence."""
        year = f"{self.clock.now.year % 100:02d}"
        self._seq[fin + year] += 1
        return f"{fin}{year}{self._seq[fin + year]:06d}"

    def din_as_sent(self, din: str) -> str:
        """DINs go out bare, with their Mod 37-2 check character (one time in three) or, as
        a scanner reads them, in barcode form with flags carrying 60 + the check value."""
        r = self.rng.random()
        if r < self.rates.barcode_share:
            return isbt.barcode(din)
        if r < self.rates.barcode_share + 1 / 3:
            return din + mod_37_2.calc_check_digit(din)
        return din

    def poisson(self, mean: float) -> int:
        """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
        if mean > 30:
            return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, self.rng.random()
        while p > limit:
            k += 1
            p *= self.rng.random()
        return k

    def random_group(self) -> tuple[str, str]:
        abo, rhd, _ = self.rng.choices(GROUPS, weights=[g[2] for g in GROUPS])[0]
        return abo, rhd

    # --- donors, units and stock -----------------------------------------------------------

    def schedule(self, donor: Donor, day: int, code: str | None = None) -> None:
        """Ask the donor back on ``day`` for ``code`` (what they were asked back for, unless
        given), never before the interval matrix and the annual caps allow (coming back too
        early is a mistake ``donors`` makes on purpose)."""
        donor.next_code = code or donor.next_code
        day = max(day, self.earliest_day(donor, donor.next_code))
        donor.next_visit = day
        heapq.heappush(self.due[donor.home], (day, len(self.donors), donor.donor_id))

    def earliest_day(self, donor: Donor, code: str, *, caps: bool = True) -> int:
        """The first day ``donor`` may give the procedure that collects ``code``: its
        intervals passed and (with ``caps``) one more within the annual caps."""
        given = [self.donations[din] for din, _ in donor.donations]
        if not caps:
            return interval_day(self.donor_rules, donor.sex, given, COLLECTION_TYPES[code])
        return earliest_day(self.donor_rules, donor.sex, given, COLLECTION_TYPES[code],
                            PRODUCTS[code].volume_ml + VOLUME_SPREAD)

    def add_unit(self, unit_id: str, din: str, code: str, site: str, donor: Donor | None,
                 group: tuple[str, str], collected: datetime,
                 sources: tuple[str, ...] | None = None, expires: datetime | None = None
                 ) -> Unit:
        """A new unit, unreleased, in stock at ``site``; ``sources`` are the donations it
        comes from (its own DIN unless pooled). It expires ``expires`` when that is earlier
        than its shelf life from ``collected`` (a child never outlives its parent)."""
        product: Product = PRODUCTS[code]
        shelf_end = collected + timedelta(days=product.shelf_days)
        unit = Unit(unit_id, din, product, site, group[0], group[1],
                    min(shelf_end, expires) if expires else shelf_end,
                    donor.donor_id if donor else None, sources or (din,), collected)
        unit.volume = product.volume_ml
        self.units[unit_id] = unit
        self.unreleased[unit_id] = unit
        heapq.heappush(self.expiry, (unit.expires, unit_id))
        self.stock.setdefault((site, product.category), {})[unit_id] = unit
        return unit

    def move(self, unit: Unit, site: str) -> None:
        self.stock.get((unit.site, unit.category), {}).pop(unit.unit_id, None)
        unit.site = site
        if unit.live:
            self.stock.setdefault((site, unit.category), {})[unit.unit_id] = unit

    def finish(self, unit: Unit, fate: str) -> None:
        """A final fate (transfused, discarded, fractionated), consumed, or abandoned."""
        unit.status = "final"
        unit.fate = fate
        self.unreleased.pop(unit.unit_id, None)
        self.doomed.pop(unit.unit_id, None)
        self.stock.get((unit.site, unit.category), {}).pop(unit.unit_id, None)

    def lineage(self, unit_ids: list[str]) -> list[Unit]:
        """These units and every unit made from them (splits, pools), each once, in the
        order the rules walk them (``app.events.lineage.units_of``)."""
        seen: set[str] = set()
        found: list[Unit] = []
        queue = deque(unit_ids)
        while queue:
            unit_id = queue.popleft()
            if unit_id in seen or unit_id not in self.units:
                continue
            seen.add(unit_id)
            unit = self.units[unit_id]
            found.append(unit)
            queue.extend(unit.children)
        return found

    def bank_of(self, donor: Donor) -> str:
        """The blood bank that looks after a donor (the home site's, for a mobile unit)."""
        return self.sites[donor.home].supplier or donor.home

    def available(self, site: str, category: str) -> list[Unit]:
        """Units at ``site`` of ``category`` that may be shipped or issued, FEFO; units that
        expire within the next hours are left for the evening's expiry round."""
        horizon = self.clock.now + SAFE_HOURS
        units = [u for u in self.stock.get((site, category), {}).values()
                 if u.available and u.expires > horizon]
        units.sort(key=lambda u: (u.expires, u.unit_id))
        return units
