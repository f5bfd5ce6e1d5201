"""A seeded random blood network that emits the events the domain would accept, enriched as
the domain enriches them (unit ids, expiries, groups, derived quarantines with
``cause_event_id``, lookback units). It keeps its own ledger of where every unit is, so tests
can reconcile the read models against something they did not compute.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from app.events.messages import StoredEvent
from tests.support.unit_events import Log

SHELF_HOURS = {"whole_blood": 35 * 24, "red_cells": 42 * 24, "plasma": 365 * 24,
               "platelets": 5 * 24}
SPLIT = (("E0398V00", "red_cells"), ("E2555V00", "plasma"), ("E3000V00", "platelets"))
MARKERS = ("HIV", "HBV", "HCV", "SYPHILIS")


@dataclass
class SimUnit:
    unit_id: str
    din: str
    category: str
    site: str
    expires_hours: float
    state: str = "stock"  # stock | transit | consumed | final
    released: bool = False
    quarantined: bool = False
    patient: str | None = None
    issued: bool = False
    to_site: str | None = None
    shipment: str | None = None


@dataclass
class Sim:
    """``run(steps)`` appends events to ``log``; ``units`` is the ledger."""

    seed: int = 7
    banks: int = 4
    hospitals: int = 6
    log: Log = field(default_factory=Log)
    units: dict[str, SimUnit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.bank_ids = [f"BB{i:02d}" for i in range(self.banks)]
        self.hospital_ids = [f"H{i:02d}" for i in range(self.hospitals)]
        self.seq = 0
        self.donors: dict[str, list[str]] = {}
        self.tested: dict[str, bool] = {}  # din -> reactive?
        self.groups: dict[str, tuple[str, str]] = {}
        for site, kind in ([(b, "blood_bank") for b in self.bank_ids]
                           + [(h, "hospital") for h in self.hospital_ids]
                           + [("LAB1", "lab"), ("FR1", "fractionator")]):
            self.log.add("SiteRegistered", {"site_id": site, "name": site, "kind": kind,
                                            "region": "R1"}, site=None, role="admin")

    # -- helpers -------------------------------------------------------------------------
    def _emit(self, type: str, data: dict[str, object], site: str | None,
              role: str = "inventory") -> StoredEvent:
        return self.log.add(type, data, site=site, role=role,
                            key=f"key-{site}-{self.rng.randint(1, 3)}",
                            minutes=self.rng.randint(1, 20))

    def _pick(self, pred: object) -> SimUnit | None:
        cands = [u for u in self.units.values() if pred(u)]  # type: ignore[operator]
        return self.rng.choice(cands) if cands else None

    def _new_unit(self, unit_id: str, din: str, category: str, site: str) -> SimUnit:
        u = SimUnit(unit_id, din, category, site, self._hours_now() + SHELF_HOURS[category])
        self.units[unit_id] = u
        return u

    def _hours_now(self) -> float:
        return (self.log.now - self.log.events[0].occurred_at).total_seconds() / 3600

    def _expiry(self, category: str) -> str:
        return self.log.iso(SHELF_HOURS[category])

    def _quarantine(self, u: SimUnit, reason: str, cause: StoredEvent) -> None:
        u.quarantined = True
        self._emit("UnitQuarantined", {"unit_id": u.unit_id, "reason": reason,
                                       "cause_event_id": str(cause.event_id)}, u.site, "admin")

    def _final(self, u: SimUnit) -> None:
        u.state = "final"

    # -- actions -------------------------------------------------------------------------
    def collect(self) -> None:
        self.seq += 1
        din = f"A9999{25}{self.seq:06d}"
        donor = f"DONOR-{self.rng.randint(1, 60):03d}"
        site = self.rng.choice(self.bank_ids)
        self.donors.setdefault(donor, []).append(din)
        uid = f"{din}-E0001V00"
        self._emit("DonationCollected", {
            "din": din, "donor_id": donor, "site_id": site, "collection_type": "whole_blood",
            "product_code": "E0001V00", "category": "whole_blood", "volume_ml": 450,
            "unit_id": uid, "expires_at": self._expiry("whole_blood")}, site, "collector")
        self._new_unit(uid, din, "whole_blood", site)

    def test(self) -> None:
        pending = [d for d in sorted({u.din for u in self.units.values()}) if d not in self.tested]
        if not pending:
            return
        din = self.rng.choice(pending)
        reactive = self.rng.random() < 0.08
        abo, rhd = self.rng.choice("OOOAAB" + "X"), self.rng.choice(["POS"] * 5 + ["NEG"])
        abo = "AB" if abo == "X" else abo
        self.groups[din] = (abo, rhd)
        for m in MARKERS:
            result = "reactive" if reactive and m == "HBV" else "non_reactive"
            ev = self._emit("TestResultRecorded", {"din": din, "marker": m, "result": result,
                                                   "lab_site_id": "LAB1"}, "LAB1", "lab")
            if result == "reactive":
                for u in self.units.values():
                    if u.din == din and u.state in ("stock", "transit"):
                        self._quarantine(u, "reactive_test", ev)
        self._emit("TestResultRecorded", {"din": din, "marker": "ABO", "result": abo,
                                          "lab_site_id": "LAB1"}, "LAB1", "lab")
        self._emit("TestResultRecorded", {"din": din, "marker": "RHD", "result": rhd,
                                          "lab_site_id": "LAB1"}, "LAB1", "lab")
        self.tested[din] = reactive

    def split(self) -> None:
        u = self._pick(lambda u: u.category == "whole_blood" and u.state == "stock"
                       and u.patient is None)
        if u is None:
            return
        comps = [{"product_code": pc, "category": cat, "volume_ml": 150,
                  "unit_id": f"{u.din}-{pc}", "expires_at": self._expiry(cat)}
                 for pc, cat in SPLIT]
        self._emit("UnitSplit", {"unit_id": u.unit_id, "din": u.din, "components": comps},
                   u.site, "processing")
        u.state = "consumed"
        for c in comps:
            child = self._new_unit(str(c["unit_id"]), u.din, str(c["category"]), u.site)
            child.released, child.quarantined = u.released, u.quarantined

    def release(self) -> None:
        u = self._pick(lambda u: u.state == "stock" and not u.released and not u.quarantined
                       and self.tested.get(u.din) is False)
        if u is None:
            return
        abo, rhd = self.groups.get(u.din, (None, None))
        self._emit("UnitReleased", {"unit_id": u.unit_id, "abo": abo, "rhd": rhd}, u.site)
        u.released = True

    def pool(self) -> None:
        site = self.rng.choice(self.bank_ids)
        parents = [u for u in self.units.values() if u.category == "platelets"
                   and u.state == "stock" and u.site == site and u.released
                   and not u.quarantined and u.patient is None][:4]
        if len(parents) < 2:
            return
        self.seq += 1
        din = f"A9999{25}{self.seq:06d}"
        uid = f"{din}-E7000V00"
        self._emit("UnitsPooled", {"parent_unit_ids": [p.unit_id for p in parents], "din": din,
                                   "product_code": "E7000V00", "category": "platelets",
                                   "volume_ml": 300, "unit_id": uid,
                                   "expires_at": self._expiry("platelets")}, site, "processing")
        for p in parents:
            p.state = "consumed"
        self.tested[din] = False
        self._new_unit(uid, din, "platelets", site)

    def store_or_excursion(self) -> None:
        u = self._pick(lambda u: u.state == "stock" and u.patient is None)
        if u is None:
            return
        if self.rng.random() < 0.8:
            self._emit("UnitStored", {"unit_id": u.unit_id, "site_id": u.site,
                                      "location": f"fridge-{self.rng.randint(1, 4)}"}, u.site)
            return
        ev = self._emit("TemperatureExcursionRecorded", {"unit_id": u.unit_id,
                                                         "min_temp_dc": 10, "max_temp_dc": 95,
                                                         "minutes": 40}, u.site)
        self._quarantine(u, "temperature", ev)

    def lift(self) -> None:
        u = self._pick(lambda u: u.state == "stock" and u.quarantined
                       and self.tested.get(u.din) is False)
        if u is not None:
            self._emit("QuarantineLifted", {"unit_id": u.unit_id, "reason": "reviewed"}, u.site)
            u.quarantined = False

    def ship(self) -> None:
        u = self._pick(lambda u: u.state == "stock" and u.released and not u.quarantined
                       and u.patient is None and u.site.startswith("BB"))
        if u is None:
            return
        to = self.rng.choice(self.hospital_ids + self.bank_ids)
        if to == u.site:
            return
        self.seq += 1
        u.shipment = f"SH{self.seq}"
        self._emit("UnitShipped", {"unit_id": u.unit_id, "from_site_id": u.site,
                                   "to_site_id": to, "shipment_id": u.shipment}, u.site)
        u.state, u.to_site = "transit", to

    def receive(self) -> None:
        u = self._pick(lambda u: u.state == "transit")
        if u is None or self.rng.random() < 0.1:  # some stay unreceived: custody gaps
            return
        assert u.to_site is not None
        accepted = self.rng.random() > 0.05
        self._emit("UnitReceived", {"unit_id": u.unit_id, "site_id": u.to_site,
                                    "shipment_id": u.shipment, "accepted": accepted},
                   u.to_site)
        u.state, u.site, u.to_site = "stock", u.to_site, None
        if not accepted:
            self._emit("UnitDiscarded", {"unit_id": u.unit_id, "reason": "temperature"}, u.site)
            self._final(u)

    def hospital(self) -> None:
        u = self._pick(lambda u: u.state == "stock" and u.site.startswith("H") and u.released
                       and not u.quarantined)
        if u is None:
            return
        if u.patient is None:
            u.patient = f"PAT-{self.rng.randint(1, 80):03d}"
            self._emit("UnitReserved", {"unit_id": u.unit_id, "patient_id": u.patient,
                                        "patient_abo": "O", "patient_rhd": "POS",
                                        "crossmatch": "compatible"}, u.site, "hospital")
        elif not u.issued:
            if self.rng.random() < 0.15:
                self._emit("ReservationReleased", {"unit_id": u.unit_id}, u.site, "hospital")
                u.patient = None
                return
            self._emit("UnitIssued", {"unit_id": u.unit_id, "patient_id": u.patient,
                                      "emergency": self.rng.random() < 0.05}, u.site, "hospital")
            u.issued = True
        elif self.rng.random() < 0.1:
            self._emit("UnitReturned", {"unit_id": u.unit_id, "reason": "not used"}, u.site,
                       "hospital")
            u.issued, u.patient = False, None
        else:
            self._emit("TransfusionStarted", {"unit_id": u.unit_id, "patient_id": u.patient,
                                              "bedside_check": {"wristband_scanned": True,
                                                                "unit_scanned": True}},
                       u.site, "hospital")
            self._emit("UnitTransfused", {"unit_id": u.unit_id, "patient_id": u.patient},
                       u.site, "hospital")
            if self.rng.random() < 0.05:
                self._emit("AdverseReactionReported", {
                    "unit_id": u.unit_id, "patient_id": u.patient, "reaction_type": "fnhtr",
                    "severity": "non_severe", "imputability": "possible"}, u.site, "hospital")
            self._final(u)

    def dispose(self) -> None:
        u = self._pick(lambda u: u.state == "stock" and u.patient is None)
        if u is None:
            return
        if u.category == "plasma" and u.released and not u.quarantined and self.rng.random() < .5:
            self._emit("UnitShippedForFractionation", {"unit_id": u.unit_id,
                                                       "fractionator_site_id": "FR1"}, u.site)
        else:
            reason = ("expired" if u.expires_hours < self._hours_now()
                      else "reactive_test" if self.tested.get(u.din)
                      else self.rng.choice(["damaged", "other", "temperature"]))
            self._emit("UnitDiscarded", {"unit_id": u.unit_id, "reason": reason}, u.site)
        self._final(u)

    def lookback(self) -> None:
        donor = self.rng.choice(sorted(self.donors))
        self.seq += 1
        lb = f"LB{self.seq}"
        dins = set(self.donors[donor])
        found = [u for u in self.units.values() if u.din in dins]
        self._emit("LookbackStarted", {
            "lookback_id": lb, "donor_id": donor, "marker": "HIV", "since": "2025-01-01",
            "units": [{"unit_id": u.unit_id, "din": u.din, "status": u.state,
                       "custodian_site_id": u.site,
                       **({"patient_id": u.patient} if u.patient else {})} for u in found]},
            "BB00", "admin")
        for u in found[: len(found) // 2]:
            self._emit("LookbackAcknowledged", {"lookback_id": lb, "site_id": u.site,
                                                "unit_id": u.unit_id}, u.site, "hospital")

    def run(self, steps: int) -> list[StoredEvent]:
        actions = ([self.collect] * 6 + [self.test] * 5 + [self.split] * 4 + [self.release] * 6
                   + [self.pool] + [self.store_or_excursion] * 2 + [self.lift] + [self.ship] * 5
                   + [self.receive] * 5 + [self.hospital] * 8 + [self.dispose] * 2)
        for i in range(steps):
            self.rng.choice(actions)()
            if i % 400 == 399:
                self.lookback()
            if i % 50 == 0:
                self.log.now += timedelta(hours=self.rng.randint(1, 12))
        return self.log.events
