"""The simulator's own picture of the network: donors, donations and units as it believes
them to be. The service's rules stay the judge: a command the sim expected to pass and that is
refused makes the sim abandon the units involved (see ``Simulator.settle``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from app.events.messages import Actor

# ABO/RhD of the donor population (illustrative).
GROUPS: tuple[tuple[str, str, float], ...] = (
    ("O", "POS", 0.38), ("A", "POS", 0.33), ("B", "POS", 0.10), ("AB", "POS", 0.04),
    ("O", "NEG", 0.06), ("A", "NEG", 0.06), ("B", "NEG", 0.02), ("AB", "NEG", 0.01),
)

RED_CELLS = "red_cells"
PLASMA = "plasma"
PLATELETS = "platelets"
WHOLE_BLOOD = "whole_blood"


@dataclass(frozen=True, slots=True)
class Product:
    """A product code of the sim's catalogue (ISBT form: letter + 4 digits + type + division)."""

    code: str
    category: str
    volume_ml: int
    shelf_days: int
    storage_dc: tuple[int, int]
    location: str


PRODUCTS: dict[str, Product] = {p.code: p for p in (
    Product("E0011V00", WHOLE_BLOOD, 450, 35, (20, 60), "fridge-1"),
    Product("E0398V00", RED_CELLS, 280, 42, (20, 60), "fridge-2"),
    Product("E0400V00", RED_CELLS, 280, 42, (20, 60), "fridge-2"),
    Product("E2555V00", PLASMA, 250, 365, (-400, -180), "freezer-1"),
    Product("E2557V00", PLASMA, 250, 365, (20, 60), "blood-fridge"),
    Product("E3080V00", PLATELETS, 60, 5, (200, 240), "agitator-1"),
    Product("E3082V00", PLATELETS, 60, 5, (200, 240), "agitator-1"),
    Product("E3084V00", PLATELETS, 60, 5, (200, 240), "agitator-1"),
    Product("E3087V00", PLATELETS, 280, 5, (200, 240), "agitator-1"),
    Product("E3090V00", PLATELETS, 280, 5, (200, 240), "agitator-1"),
    Product("E4712V00", PLASMA, 600, 365, (-400, -180), "freezer-2"),
)}
WB, RBC, FFP, PLT, PLT_POOL, APH_PLASMA = (
    "E0011V00", "E0398V00", "E2555V00", "E3080V00", "E3087V00", "E4712V00",
)
COLLECTION_TYPES = {WB: "whole_blood", APH_PLASMA: "apheresis_plasma", PLT: "apheresis_platelets"}
"""The procedure that collects each primary product."""
MODIFIED: dict[tuple[str, str], str] = {
    (RBC, "irradiated"): "E0400V00",
    (PLT, "irradiated"): "E3084V00",
    (PLT_POOL, "irradiated"): "E3090V00",
    (PLT, "pathogen_reduced"): "E3082V00",
    (FFP, "thawed"): "E2557V00",
}
"""(product code, modification) → the product code of the modified unit."""


def red_cells_compatible(donor: tuple[str, str], patient: tuple[str, str]) -> bool:
    """Red cells: the donor's ABO antigens must be absent from the patient's antibodies."""
    abo_ok = donor[0] == "O" or donor[0] == patient[0] or patient[0] == "AB"
    return abo_ok and (donor[1] == "NEG" or patient[1] == "POS")


def plasma_compatible(donor: tuple[str, str], patient: tuple[str, str]) -> bool:
    """Plasma: the donor's antibodies must not meet the patient's antigens (RhD irrelevant)."""
    return donor[0] == "AB" or donor[0] == patient[0] or patient[0] == "O"


@dataclass(slots=True)
class Step:
    """One command to send: its type, data, acting key and when it happened.

    ``expect`` names the rule a deliberately wrong command must break (an early donor, a
    deferred one); ``units`` are the units the sim's picture changed with this step;
    ``derived`` lists the events the sim expects the rules to add in the same decision
    (holds, lifts, a deferral, a lookback), and ``path`` names the flow it shows.
    """

    type: str
    data: dict[str, Any]
    actor: Actor
    at: datetime
    event_id: UUID
    expect: str | None = None
    units: tuple[str, ...] = ()
    derived: list[str] = field(default_factory=list)
    path: str | None = None
    identity: dict[str, Any] | None = None
    """For a ``DonorRegistered`` sent through the vault: the (fictional) person."""

    def derive(self, type: str) -> str:
        """Expect the rules to derive an event of ``type`` next; its id is ``uuid5`` of
        the command's event id and the event's index in the decision (``Decision.emit``)."""
        self.derived.append(type)
        return str(uuid5(self.event_id, str(len(self.derived))))


@dataclass(frozen=True, slots=True)
class Hold:
    """An open hold on a unit, as the sim knows it (its id and what placed it)."""

    hold_id: str
    cause: str
    marker: str | None = None
    din: str | None = None

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return self.cause, self.marker, self.din


@dataclass(slots=True)
class Deferral:
    """An active deferral of a donor: until a moment, or (``until`` None) permanent or,
    when ``pending``, until a confirmatory test."""

    deferral_id: str
    cause: str
    until: datetime | None = None
    marker: str | None = None
    din: str | None = None
    pending: bool = False

    def active_at(self, moment: datetime) -> bool:
        return self.until is None or moment < self.until


@dataclass(slots=True)
class Donor:
    """``abo``/``rhd`` are the donor's true group; ``known`` the group the service holds
    (from a donor card, which may be wrong, or from typing)."""

    donor_id: str
    abo: str
    rhd: str
    home: str
    next_visit: int
    sex: str | None = None
    """F, M, X, or None when the donor did not say."""
    usual: str = "E0011V00"
    """The product code of the procedure the donor usually gives (whole blood, apheresis)."""
    next_code: str = "E0011V00"
    """What the donor is asked back for."""
    donations: list[tuple[str, int]] = field(default_factory=list)
    deferrals: dict[str, Deferral] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)
    under_information: bool = False

    @property
    def group(self) -> tuple[str, str]:
        return self.abo, self.rhd

    def truth(self, marker: str) -> str:
        return self.abo if marker == "ABO" else self.rhd

    def deferred_at(self, moment: datetime) -> bool:
        return any(x.active_at(moment) for x in self.deferrals.values())

    @property
    def indefinitely_deferred(self) -> bool:
        """Deferred with no end date (permanent, or pending a confirmatory test)."""
        return any(x.until is None for x in self.deferrals.values())


@dataclass(slots=True)
class Unit:
    """A unit as the sim believes it to be. ``status`` is where it stands: stock, transit,
    reserved, issued or final; ``released`` is its flag and ``holds`` its open holds."""

    unit_id: str
    din: str
    product: Product
    site: str
    abo: str
    rhd: str
    expires: datetime
    donor_id: str | None
    source_dins: tuple[str, ...] = ()
    collected: datetime | None = None
    """When its earliest donation was collected (a split child keeps its parent's)."""
    attributes: tuple[str, ...] = ()
    """What its modifications give (irradiated, pathogen_reduced)."""
    status: str = "stock"
    released: bool = False
    holds: list[Hold] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    in_transit_to: str | None = None
    patient: str | None = None
    patient_group: tuple[str, str] | None = None
    issued_at: datetime | None = None
    started: bool = False
    """Its transfusion started (the bedside check passed): it never returns to stock."""
    moves: int = 0
    fractionate: bool = False
    pool: bool = False
    fate: str | None = None
    volume: int = 0

    @property
    def category(self) -> str:
        return self.product.category

    @property
    def group(self) -> tuple[str, str]:
        return self.abo, self.rhd

    @property
    def live(self) -> bool:
        return self.status != "final"

    @property
    def quarantined(self) -> bool:
        return bool(self.holds)

    def hold_of(self, cause: str) -> Hold | None:
        return next((h for h in self.holds if h.cause == cause), None)

    @property
    def available(self) -> bool:
        """Released, not held, in stock: may be shipped, reserved or issued."""
        return self.status == "stock" and self.released and not self.holds


CLEAR = ("negative", "resolved")
"""Marker statuses that let a unit be released (``app.events.results``)."""
REPEATEDLY = ("repeatedly_reactive", "confirmed_positive", "confirmed_negative")
"""Marker statuses after which the donation's units are only discarded."""


@dataclass(slots=True)
class Donation:
    """A DIN: a collection from a donor, or a pool. ``units`` bear the DIN (the primary
    unit, then split components); ``markers`` the status of each infectious marker as the
    sim's results make it; ``open_groups`` the ABO/RhD discrepancies not yet confirmed."""

    din: str
    donor_id: str | None
    site: str
    bank: str
    day: int
    at: datetime
    units: list[str] = field(default_factory=list)
    collection_type: str | None = None
    """None for a pool."""
    volume: int = 0
    markers: dict[str, str] = field(default_factory=dict)
    clear_repeats: dict[str, int] = field(default_factory=dict)
    donor_group: dict[str, str] = field(default_factory=dict)
    typed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Each group result so far, by marker: (test kind, value)."""
    open_groups: set[str] = field(default_factory=set)
    lab: str | None = None
    """The lab its samples went to, when not the governorate's (a day that lab was down)."""

    @property
    def blocked(self) -> bool:
        """A marker is open or repeatedly reactive: no unit of the donation is released."""
        return any(m not in CLEAR for m in self.markers.values())

    @property
    def doomed(self) -> bool:
        """Repeatedly reactive (or confirmed): the units can only be discarded."""
        return any(m in REPEATEDLY for m in self.markers.values())

    def clear(self, marker: str) -> bool:
        return self.markers.get(marker) in CLEAR



@dataclass(slots=True)
class DayClock:
    """Monotonic simulated time for one day: each step is a little after the one before, and
    each phase starts at its hour unless earlier steps already ran past it. Never after
    ``end``, so every ``occurred_at`` is in the past."""

    base: datetime
    end: datetime
    now: datetime

    def phase(self, hour: float) -> None:
        self.now = max(self.now, self.base + timedelta(hours=hour))

    def tick(self) -> datetime:
        self.now += timedelta(milliseconds=250)
        return min(self.now, self.end)
