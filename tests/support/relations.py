"""The relation model behind the authorization matrix: who may read what, and who may record
which step, worked out from first principles (``SECURITY.md``, the README's "Who may do
what") and from nothing the service computes.

``Relations`` is a fold of the steps a test recorded (key, type, data): it keeps the sites
and their regions, the lab relation (``LabServiceAgreed``, ``SamplesDispatched``), who
collected each donation, where each unit is (custodian, destination), which sites touched it
(acted on it, held it, were sent it), which hospitals treat each patient, and what each
lookback found. It answers who may read a unit, a donation, a patient's record, a lookback
(``may_read_unit``, ``may_read_donation``, ``sees_patient``, ``patients_of``,
``lookback_part``) and whose change feed carries an entry (``feed_concerns``); who may record
what is ``tests/support/step_rules.py``, on the same relations.

Rules a site key is held to, and why they are what they are:
- the national roles (auditor, admin) read everything; only admin records, for any site;
- a site key reads a unit its site touched, or whose donation its site collected or tests;
  a lookback grants no unit to the sites it names (they see the lookback, not the units);
- patient ids go to national keys and to hospital keys of a site whose keys recorded a step
  naming the patient (a patient fact too: group, antibody, requirement);
- a lookback is whole for national keys, its starter and those who may start it (the
  collecting site and the labs serving the donation), else the units the site held or was
  sent when it started (or acknowledged);
- a unit step is taken by its custodian only; a receipt by the destination only; a lab
  records results only for donations it serves (by agreement, by dispatch, or a blood bank
  for its own collections); a lookback comes from the collecting blood establishment or its
  lab, and only they (or its starter) close it; information a donor gives after donating,
  which holds their donations' units, is recorded by a site that collected one of them; the
  holds of the blood establishment's causes are lifted by its processing keys only; a
  patient's facts (group determinations, antibodies, requirements) are one national record,
  recorded by any hospital key; a transfusion is started by the unit's custodian.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NATIONAL = ("auditor", "admin")
SITE_ROLES = ("collector", "lab", "processing", "inventory", "hospital")
ESTABLISHMENT_ROLES = ("lab", "processing")
"""Who starts and closes a lookback, at the blood establishment or its lab."""
COLLECTION_KINDS = ("blood_bank", "mobile_unit")
"""The blood establishment: where donations are collected."""
LAB_KINDS = ("lab", "blood_bank")
RECEIVING_KINDS = ("blood_bank", "hospital")
ESTABLISHMENT_CAUSES = frozenset({"test", "abo_discrepancy", "lookback",
                                  "post_donation_information", "adverse_reaction", "recall"})
SITE_FIELDS = ("site_id", "from_site_id", "to_site_id", "lab_site_id", "fractionator_site_id",
               "collection_site_id")



@dataclass(frozen=True, slots=True)
class Key:
    role: str
    site: str | None = None

    @property
    def name(self) -> str:
        return self.role if self.site is None else f"{self.role}@{self.site}"

    @property
    def national(self) -> bool:
        return self.role in NATIONAL


@dataclass(slots=True)
class Unit:
    unit_id: str
    din: str
    custodian: str
    in_transit_to: str | None = None
    touched: set[str] = field(default_factory=set)
    patient: str | None = None
    holds: dict[str, str] = field(default_factory=dict)
    """Open holds: hold id (or a placeholder for a derived one) → cause."""


@dataclass(slots=True)
class Lookback:
    lookback_id: str
    starter: str | None
    dins: tuple[str, ...]
    holders: dict[str, tuple[str, ...]]
    """Unit → the sites that held it or were sending for it when the lookback started."""
    patients: dict[str, str] = field(default_factory=dict)
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


@dataclass(slots=True)
class Relations:
    sites: dict[str, tuple[str, str]] = field(default_factory=dict)
    labs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    dispatched: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    collected_at: dict[str, str] = field(default_factory=dict)
    donor_dins: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    units: dict[str, Unit] = field(default_factory=dict)
    treating: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    patient_steps: dict[tuple[str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set))
    """(patient, unit) → the sites that recorded a step naming both (admins: no site)."""
    lookbacks: dict[str, Lookback] = field(default_factory=dict)

    # --- reads ---------------------------------------------------------------------------

    def kind(self, site: str | None) -> str | None:
        return self.sites[site][0] if site in self.sites else None

    def donor_of(self, din: str) -> str:
        return next(donor for donor, dins in self.donor_dins.items() if din in dins)

    def testing_labs(self, din: str) -> set[str]:
        """The labs that test a donation: by agreement with its collection site, by
        dispatch of its samples, or the collecting blood bank itself."""
        site = self.collected_at.get(din)
        if site is None:
            return set()
        own = {site} if self.kind(site) in LAB_KINDS else set()
        return own | self.labs[site] | self.dispatched[din]

    def serving(self, din: str) -> set[str]:
        """The sites responsible for a donation: the collecting site and its labs."""
        site = self.collected_at.get(din)
        return set() if site is None else {site} | self.testing_labs(din)

    def may_read_unit(self, key: Key, unit_id: str) -> bool:
        if key.national:
            return True
        unit = self.units[unit_id]
        return key.site in unit.touched or key.site in self.serving(unit.din)

    def may_read_donation(self, key: Key, din: str) -> bool:
        return key.national or key.site in self.serving(din) or any(
            key.site in u.touched for u in self.units.values() if u.din == din)

    def readable_components(self, key: Key, din: str) -> set[str]:
        return {u.unit_id for u in self.units.values()
                if u.din == din and self.may_read_unit(key, u.unit_id)}

    @property
    def patients(self) -> set[str]:
        """Every patient a recorded step named."""
        return {patient for patient, _ in self.patient_steps}

    def sees_patient(self, key: Key, patient: str) -> bool:
        return key.national or (key.role == "hospital" and key.site in self.treating[patient])

    def may_run_lookback(self, key: Key, dins: tuple[str, ...] | list[str]) -> bool:
        return key.role == "admin" or (key.role in ESTABLISHMENT_ROLES and any(
            key.site in self.serving(din) for din in dins))

    def lookback_part(self, key: Key, lookback_id: str) -> set[str] | None:
        """The units of the lookback the key sees; None when it may not read it at all."""
        lookback = self.lookbacks[lookback_id]
        if key.national or key.site == lookback.starter or any(
                key.site in self.serving(din) for din in lookback.dins):
            return set(lookback.holders)
        part = {u for u, sites in lookback.holders.items()
                if key.site in sites or key.site in lookback.acknowledged[u]}
        return part or None

    def patients_of(self, key: Key, patient: str) -> set[str] | None:
        """The units a key sees in a patient's record; None when it may not read it."""
        if not key.national and key.role != "hospital":
            return None
        return {unit for (named, unit), sites in self.patient_steps.items()
                if named == patient and (key.national or key.site in sites)}

    # --- the fold --------------------------------------------------------------------------

    def record(self, key: Key, type_: str, data: Mapping[str, Any]) -> None:
        """Fold a step the service accepted."""
        site = key.site
        unit = self.units.get(str(data.get("unit_id")))
        if unit is not None and type_ not in ("LookbackStarted",):
            unit.touched |= {s for s in (site, *_named_sites(data)) if s}
        patient = data.get("patient_id")
        if isinstance(patient, str) and site is not None:
            self.treating[patient].add(site)  # a patient fact too: the site treats them
        if isinstance(patient, str) and unit is not None:
            unit.patient = patient
            steps = self.patient_steps[(patient, unit.unit_id)]
            if site is not None:
                steps.add(site)
        fold = _FOLDS.get(type_)
        if fold is not None:
            fold(self, key, data)


def _named_sites(data: Mapping[str, Any]) -> list[str]:
    return [data[f] for f in SITE_FIELDS if isinstance(data.get(f), str)]


# --- the fold, per type --------------------------------------------------------------------


def _site(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    r.sites[d["site_id"]] = (d["kind"], d["region"])


def _agreed(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    r.labs[d["collection_site_id"]].add(d["lab_site_id"])


def _dispatched(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    for din in d["dins"]:
        r.dispatched[din].add(d["lab_site_id"])


def _collected(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    unit_id = f"{d['din']}-{d['product_code']}"
    r.collected_at[d["din"]] = d["site_id"]
    r.donor_dins[d["donor_id"]].append(d["din"])
    r.units[unit_id] = Unit(unit_id, d["din"], d["site_id"], touched={d["site_id"]})


def _split(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    parent = r.units[d["unit_id"]]
    for c in d["components"]:
        unit_id = f"{parent.din}-{c['product_code']}"
        r.units[unit_id] = Unit(unit_id, parent.din, parent.custodian,
                                touched={parent.custodian} | ({key.site} if key.site else set()))


def _modified(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    """The modified product is a new unit where its parent was, with the parent's holds."""
    parent = r.units[d["unit_id"]]
    unit_id = f"{parent.din}-{d['product_code']}"
    r.units[unit_id] = Unit(unit_id, parent.din, parent.custodian, holds=dict(parent.holds),
                            touched={parent.custodian} | ({key.site} if key.site else set()))


def _shipped(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    r.units[d["unit_id"]].in_transit_to = d["to_site_id"]


def _received(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    unit = r.units[d["unit_id"]]
    unit.custodian, unit.in_transit_to = d["site_id"], None


def _quarantined(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    unit = r.units[d["unit_id"]]
    unit.holds[d.get("hold_id") or f"hold-{len(unit.holds)}"] = d.get("cause", "manual")


def _lifted(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    holds = r.units[d["unit_id"]].holds
    holds.pop(d.get("hold_id") or next(iter(holds)))


def _lookback(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    dins = tuple(r.donor_dins[d["donor_id"]]) if d.get("donor_id") else (d["din"],)
    units = [u for u in r.units.values() if u.din in dins]
    r.lookbacks[d["lookback_id"]] = Lookback(
        d["lookback_id"], key.site, dins,
        {u.unit_id: tuple(s for s in (u.custodian, u.in_transit_to) if s) for u in units},
        {u.unit_id: u.patient for u in units if u.patient is not None})
    for u in units:
        u.holds.setdefault(f"lookback:{d['lookback_id']}", "lookback")


def _acknowledged(r: Relations, key: Key, d: Mapping[str, Any]) -> None:
    r.lookbacks[d["lookback_id"]].acknowledged[d["unit_id"]].add(d["site_id"])


_FOLDS = {
    "SiteRegistered": _site, "LabServiceAgreed": _agreed, "SamplesDispatched": _dispatched,
    "DonationCollected": _collected, "UnitSplit": _split, "UnitModified": _modified,
    "UnitShipped": _shipped,
    "UnitReceived": _received, "UnitQuarantined": _quarantined, "QuarantineLifted": _lifted,
    "LookbackStarted": _lookback, "LookbackAcknowledged": _acknowledged,
}


# --- the change feed -------------------------------------------------------------------------


def feed_concerns(entries: list[Mapping[str, Any]]) -> dict[int, set[str]]:
    """Position → the sites whose feed carries the entry: the site that recorded it, the
    sites it names, and the sites holding (or being sent) each unit it is about at that
    moment, whoever recorded it. Read off the whole log in order (a national key's feed)."""
    custodian: dict[str, str] = {}
    sent_to: dict[str, str] = {}
    concerns: dict[int, set[str]] = {}
    for entry in entries:
        data, actor = entry["data"], entry.get("actor") or {}
        sites = {actor.get("site_id"), *_named_sites(data)}
        units = [data.get("unit_id"), *(data.get("parent_unit_ids") or ())]
        for unit in units:
            sites |= {custodian.get(unit), sent_to.get(unit)}
        for found in data.get("units") or ():
            sites |= {found.get("custodian_site_id"), found.get("in_transit_to")}
        concerns[entry["position"]] = {s for s in sites if isinstance(s, str)}
        _follow_custody(entry["type"], data, custodian, sent_to)
    return concerns


def _follow_custody(type_: str, data: Mapping[str, Any], custodian: dict[str, str],
                    sent_to: dict[str, str]) -> None:
    unit = data.get("unit_id")
    if type_ == "DonationCollected":
        custodian[unit] = data["site_id"]
    elif type_ == "UnitsPooled":
        custodian[unit] = custodian[data["parent_unit_ids"][0]]
    elif type_ == "UnitSplit":
        for component in data["components"]:
            custodian[component["unit_id"]] = custodian[unit]
    elif type_ == "UnitModified":
        custodian[data["new_unit_id"]] = custodian[unit]
    elif type_ == "UnitShipped":
        sent_to[unit] = data["to_site_id"]
    elif type_ == "UnitReceived":
        custodian[unit] = data["site_id"]
        sent_to.pop(unit, None)
    elif type_ == "UnitShippedForFractionation":
        custodian[unit] = data["fractionator_site_id"]
