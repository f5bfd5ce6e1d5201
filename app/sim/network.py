"""The simulated national network: sites and the rates that drive the simulation.

Everything configurable lives in one object, ``NetworkConfig`` (``rates`` holds the flows of
``network.md``). The defaults describe Syria: 14 governorates and 36 blood banks, each bank
supplying a few hospitals, a mobile collection unit and a screening lab per governorate, and
one national plasma fractionator. Facility ids and site names are plainly fictitious; place
names are real and given in English and Arabic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SiteKind = Literal["blood_bank", "hospital", "mobile_unit", "lab", "fractionator"]


@dataclass(frozen=True, slots=True)
class Governorate:
    code: str
    name: str
    name_ar: str


@dataclass(frozen=True, slots=True)
class BankSpec:
    """One blood bank: its governorate, town, relative size and how many hospitals it supplies."""

    governorate: str
    town: str
    town_ar: str
    weight: int = 1
    hospitals: int = 2
    central: bool = False


GOVERNORATES: tuple[Governorate, ...] = (
    Governorate("DAM", "Damascus", "دمشق"),
    Governorate("RIF", "Rif Dimashq", "ريف دمشق"),
    Governorate("ALE", "Aleppo", "حلب"),
    Governorate("HOM", "Homs", "حمص"),
    Governorate("HAM", "Hama", "حماة"),
    Governorate("LAT", "Latakia", "اللاذقية"),
    Governorate("TAR", "Tartus", "طرطوس"),
    Governorate("IDL", "Idlib", "إدلب"),
    Governorate("DRA", "Daraa", "درعا"),
    Governorate("SWD", "As-Suwayda", "السويداء"),
    Governorate("QUN", "Quneitra", "القنيطرة"),
    Governorate("DEZ", "Deir ez-Zor", "دير الزور"),
    Governorate("RAQ", "Raqqa", "الرقة"),
    Governorate("HAS", "Al-Hasakah", "الحسكة"),
)

BANKS: tuple[BankSpec, ...] = (
    BankSpec("DAM", "Damascus", "دمشق", weight=4, hospitals=4, central=True),
    BankSpec("DAM", "Al-Mezzeh", "المزة", weight=2),
    BankSpec("DAM", "Rukn al-Din", "ركن الدين", weight=2),
    BankSpec("DAM", "Al-Midan", "الميدان"),
    BankSpec("RIF", "Douma", "دوما", weight=2),
    BankSpec("RIF", "Qatana", "قطنا"),
    BankSpec("RIF", "Al-Nabk", "النبك", hospitals=1),
    BankSpec("ALE", "Aleppo", "حلب", weight=3, hospitals=4),
    BankSpec("ALE", "Azaz", "أعزاز"),
    BankSpec("ALE", "Al-Bab", "الباب"),
    BankSpec("ALE", "Manbij", "منبج"),
    BankSpec("ALE", "Afrin", "عفرين", hospitals=1),
    BankSpec("HOM", "Homs", "حمص", weight=2, hospitals=3),
    BankSpec("HOM", "Al-Rastan", "الرستن", hospitals=1),
    BankSpec("HOM", "Palmyra", "تدمر", hospitals=1),
    BankSpec("HAM", "Hama", "حماة", weight=2, hospitals=3),
    BankSpec("HAM", "Salamiyah", "السلمية"),
    BankSpec("HAM", "Masyaf", "مصياف", hospitals=1),
    BankSpec("LAT", "Latakia", "اللاذقية", weight=2, hospitals=3),
    BankSpec("LAT", "Jableh", "جبلة"),
    BankSpec("LAT", "Al-Haffah", "الحفة", hospitals=1),
    BankSpec("TAR", "Tartus", "طرطوس", weight=2),
    BankSpec("TAR", "Baniyas", "بانياس"),
    BankSpec("IDL", "Idlib", "إدلب", weight=2),
    BankSpec("IDL", "Jisr al-Shughur", "جسر الشغور", hospitals=1),
    BankSpec("DRA", "Daraa", "درعا", weight=2),
    BankSpec("DRA", "Izraa", "إزرع", hospitals=1),
    BankSpec("SWD", "As-Suwayda", "السويداء"),
    BankSpec("QUN", "Quneitra", "القنيطرة", hospitals=1),
    BankSpec("DEZ", "Deir ez-Zor", "دير الزور", weight=2),
    BankSpec("DEZ", "Al-Mayadin", "الميادين", hospitals=1),
    BankSpec("DEZ", "Al-Bukamal", "البوكمال", hospitals=1),
    BankSpec("RAQ", "Raqqa", "الرقة"),
    BankSpec("RAQ", "Al-Tabqa", "الطبقة", hospitals=1),
    BankSpec("HAS", "Al-Hasakah", "الحسكة"),
    BankSpec("HAS", "Qamishli", "القامشلي"),
)


@dataclass(frozen=True, slots=True)
class Rates:
    """The flows of ``network.md`` (per donation, per unit or per day). Illustrative defaults."""

    whole_blood_share: float = 0.92
    apheresis_plasma_share: float = 0.05
    mobile_share: float = 0.25
    split_share: float = 0.95
    platelet_share: float = 0.30
    platelet_pool_share: float = 0.40
    platelet_pool_wait_days: int = 2
    """How long platelets set aside for pooling wait for partners of their group."""
    reactive: tuple[tuple[str, float], ...] = (
        ("HBV", 0.015), ("HCV", 0.005), ("SYPHILIS", 0.005), ("HIV", 0.0005),
    )
    """Initially reactive screens per donation, by marker (first-time donors)."""
    repeat_reactive_factor: float = 0.3
    """Repeat donors are screened already: their reactive rates are scaled down by this."""
    indeterminate_share: float = 0.10
    """Initially reactive screens that read indeterminate rather than reactive."""
    repeatedly_reactive_share: float = 0.35
    """Initially reactive screens a repeat finds reactive again (the rest resolve on two
    non-reactive repeats)."""
    confirmed_negative_share: float = 0.30
    """Repeatedly reactive donations that confirmatory testing clears; the rest are confirmed
    positive (permanent deferral and a lookback)."""
    reinstate_share: float = 0.80
    """Donors cleared by a confirmatory negative whom the blood bank reinstates."""
    bacteria_reactive: float = 0.003
    """Platelet bacterial cultures initially reactive. A confirmed one is contamination of
    the bag, not an infection of the donor: its confirmatory result is negative."""
    nat_share: float = 0.25
    """Donations also screened by NAT (HIV, HBV, HCV multiplex)."""
    abo_mistype_share: float = 0.002
    """Typings of a donor of known group that disagree with it (a sample mix-up)."""
    wrong_card_share: float = 0.01
    """Donor cards that show a wrong group (found at the first typing)."""
    lab_outage_share: float = 0.01
    """Days a governorate's lab is down: the blood banks test that day's samples
    themselves, and the mobile units send theirs to their blood bank (SamplesDispatched)."""
    information_rate: float = 0.002
    """Post-donation information per donation (the donor calls back)."""
    information_risk_share: float = 0.4
    """Information that puts the units at risk: they are recalled, the donor is deferred."""
    information_lookback_share: float = 0.3
    """Risky information naming an infection: a lookback on the donor's donations."""
    untraceable_share: float = 0.05
    """Recipients of a looked-back unit who cannot be traced (moved, no contact)."""
    mistake_share: float = 0.005
    """Wrong steps a real network sends now and then, refused as they must be: a result
    under an assay name the catalogue does not know or a DIN scanned with flags whose check
    value is wrong (per donation), a bag scanned before the donor's screening is entered (per
    visit), platelets released before their bacterial screen (per evening a platelet waits
    for its pool); and, twenty times as often since the chance is rarer, a test hold lifted
    before its repeats (per resolving repeat), a hospital lifting the blood bank's hold (per
    unit it holds) and a donor bled despite a failed screening (per failed screening)."""

    @property
    def rare_mistake_share(self) -> float:
        """``mistake_share`` for the mistakes that have few chances to happen."""
        return min(1.0, 20 * self.mistake_share)
    return_interval_days: tuple[int, int] = (90, 180)
    """Days until a whole-blood donor is asked back; never sooner than the catalogue's
    interval from each earlier procedure, for the donor's sex, and its annual caps allow."""
    apheresis_return_days: tuple[int, int] = (14, 42)
    """Days until an apheresis donor is asked back (within the same limits)."""
    recall_view_share: float = 0.3
    """Donations at a blood bank after which the bank reads the donor's identity (to book
    the next visit): a ``DonorIdentityViewed``, through the vault when there is one."""
    erasure_share: float = 0.005
    """Donors who, asked back, decline and ask for their identity to be erased instead
    (``DonorIdentityShredded``, crypto-shredding through the vault when there is one)."""
    switch_share: float = 0.10
    """Donors of a blood bank asked back for the other procedure (whole blood → plasma
    apheresis, apheresis → whole blood), which walks the interval matrix."""
    sexes: tuple[tuple[str | None, float], ...] = (
        ("F", 0.44), ("M", 0.51), ("X", 0.01), (None, 0.04))
    """Donors by sex as registered (None: not recorded)."""
    haemoglobin_g_l: tuple[tuple[str, float, float], ...] = (("F", 138, 9), ("M", 154, 10))
    """Pre-donation Hb (mean, sd) by sex: about 7 % of women and 2 % of men fall below the
    catalogue's limits (125 and 135 g/L) and are deferred."""
    low_hb_deferral_days: int = 90
    early_attempt_share: float = 0.01
    """Returning donors who come back before their interval (refused, as in life)."""
    plasma_to_fractionation: float = 0.60
    irradiated_share: float = 0.08
    """Red cells and platelets irradiated at the blood bank once released."""
    pathogen_reduced_share: float = 0.10
    """Platelets from a split pathogen-reduced at once (they need no bacterial screen)."""
    thawed_plasma_share: float = 0.30
    """Of a hospital's expected daily plasma use, what it thaws in the morning."""
    barcode_share: float = 0.20
    """DINs scanned in barcode form, with the flags carrying their check value."""
    second_hospital_share: float = 0.10
    return_share: float = 0.03
    """Issued units returned unused within the return window (back into stock)."""
    returned_late_share: float = 0.005
    """Issued units not started within the start window (the patient went to theatre):
    returned after the return window, back into stock from a validated shipper inside the
    transport range, otherwise recorded as returned late and discarded."""
    validated_shipper_share: float = 0.6
    reservation_cancel_share: float = 0.08
    emergency_share: float = 0.01
    pack_share: float = 0.3
    """Emergencies that are massive haemorrhages: O NEG red cells, AB plasma and platelets."""
    discordant_sample_share: float = 0.002
    """Second samples whose group disagrees with the first (wrong blood in tube)."""
    single_sample_share: float = 0.5
    """Platelet and plasma patients grouped on one sample only (no two-sample rule)."""
    antibody_share: float = 0.03
    """Red-cell patients with a clinically significant antibody (serological crossmatch)."""
    irradiated_requirement_share: float = 0.4
    """Haematology and oncology patients who need irradiated components."""
    cmv_requirement_share: float = 0.15
    """Maternity and haematology patients who need CMV-negative components."""
    cmv_tested_share: float = 0.4
    """Donations tested for CMV (the rest carry no CMV result)."""
    cmv_negative_share: float = 0.3
    """Tested donations found CMV-negative (CMV is common among donors)."""
    anti_d_share: float = 0.85
    """RhD-positive platelets for RhD-negative patients covered by anti-D (else an
    override is given)."""
    stopped_share: float = 0.01
    """Transfusions stopped early for a reason other than a reaction (the cannula tissued)."""
    late_completion_share: float = 0.01
    """Transfusions that end more than 4 h after issue, with the reason."""
    excursion_share: float = 0.005
    damage_share: float = 0.002
    inspection_share: float = 0.003
    """Storage periods where visual inspection quarantines a unit for assessment."""
    reactions_per_1000: tuple[tuple[str, float], ...] = (
        ("fnhtr", 2.0), ("allergic", 2.0), ("taco", 0.3), ("other", 0.2),
        ("other_alloimmune_haemolysis", 0.1), ("anaphylaxis", 0.05), ("trali", 0.05),
        ("bacterial_infection", 0.04), ("non_immune_haemolysis", 0.03),
        ("abo_haemolysis", 0.01), ("viral_infection", 0.005),
    )
    """Reactions reported per 1000 units transfused, by coded type (RULES §8; the order of
    magnitude national haemovigilance reports give)."""
    reaction_factor: float = 1.0
    """Scales every reaction rate (tests make the rare ones common)."""
    reaction_during_share: float = 0.6
    """Reactions noticed during the transfusion: reported at once, the transfusion stopped."""
    shipment_refused_share: float = 0.005
    receipt_out_of_range_share: float = 0.005
    """Accepted arrivals at a hospital measured outside the transport range (held)."""
    red_cell_use_per_donation: float = 0.93
    """Hospital demand for red cells against supply; below 1 some units expire unused."""
    platelet_use_per_unit: float = 0.90
    plasma_use_per_unit: float = 0.90


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """The network and its rates. ``banks`` limits how many blood banks take part (1-36)."""

    banks: int = len(BANKS)
    mobile_units_per_governorate: int = 1
    rates: Rates = field(default_factory=Rates)
    facility_prefix: str = "Z9"
    """ISBT facility ids are ``Z9`` + 3 digits: well-formed, plainly fictitious."""


@dataclass(frozen=True, slots=True)
class Site:
    """One site of the network. ``fin`` is the ISBT facility id of collecting sites."""

    site_id: str
    kind: SiteKind
    name: str
    name_ar: str
    region: str
    governorate: str
    fin: str | None = None
    supplier: str | None = None
    """The blood bank that supplies a hospital or processes a mobile unit's collections."""
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Network:
    sites: tuple[Site, ...]

    def of_kind(self, kind: SiteKind) -> list[Site]:
        return [s for s in self.sites if s.kind == kind]

    def by_id(self, site_id: str) -> Site:
        return next(s for s in self.sites if s.site_id == site_id)

    @property
    def fractionator(self) -> Site:
        return self.of_kind("fractionator")[0]

    def lab_for(self, governorate: str) -> Site:
        return next(s for s in self.of_kind("lab") if s.governorate == governorate)


def bank_order() -> list[BankSpec]:
    """The central bank first, then one bank per governorate, then the others round-robin,
    so a small network still spans the country."""
    by_gov: dict[str, list[BankSpec]] = {}
    for bank in BANKS:
        by_gov.setdefault(bank.governorate, []).append(bank)
    ordered: list[BankSpec] = []
    while any(by_gov.values()):
        for gov in GOVERNORATES:
            if by_gov.get(gov.code):
                ordered.append(by_gov[gov.code].pop(0))
    return ordered


def build_network(config: NetworkConfig) -> Network:
    """The sites of ``config``: its first ``banks`` blood banks with their hospitals, a
    mobile unit and a lab in every governorate they cover, and the fractionator."""
    govs = {g.code: g for g in GOVERNORATES}
    chosen = bank_order()[: max(1, min(config.banks, len(BANKS)))]
    sites: list[Site] = []
    first_bank: dict[str, Site] = {}
    per_gov: dict[str, int] = {}
    for index, spec in enumerate(BANKS, start=1):
        if spec not in chosen:
            continue
        gov = govs[spec.governorate]
        n = per_gov[gov.code] = per_gov.get(gov.code, 0) + 1
        name = "Damascus Central Blood Bank" if spec.central else f"{spec.town} Blood Bank"
        name_ar = "بنك الدم المركزي - دمشق" if spec.central else f"بنك الدم - {spec.town_ar}"
        bank = Site(f"BB-{gov.code}-{n:02d}", "blood_bank", name, name_ar, gov.name, gov.code,
                    fin=f"{config.facility_prefix}{index:03d}", weight=spec.weight)
        sites.append(bank)
        first_bank.setdefault(gov.code, bank)
        for _ in range(spec.hospitals):
            h = sum(1 for s in sites if s.kind == "hospital" and s.governorate == gov.code) + 1
            sites.append(Site(
                f"H-{gov.code}-{h:02d}", "hospital", f"{spec.town} Hospital {h}",
                f"مستشفى {spec.town_ar} {h}", gov.name, gov.code, supplier=bank.site_id,
            ))
    mobile_fins = iter(range(501, 1000))
    for code, bank in first_bank.items():
        gov = govs[code]
        for m in range(1, config.mobile_units_per_governorate + 1):
            sites.append(Site(
                f"MU-{code}-{m:02d}", "mobile_unit", f"{gov.name} Mobile Collection Unit {m}",
                f"وحدة التبرع المتنقلة {m} - {gov.name_ar}", gov.name, code,
                fin=f"{config.facility_prefix}{next(mobile_fins):03d}", supplier=bank.site_id,
            ))
        sites.append(Site(f"LAB-{code}-01", "lab", f"{gov.name} Screening Laboratory",
                          f"مختبر فحص الدم - {gov.name_ar}", gov.name, code))
    sites.append(Site("FR-RIF-01", "fractionator", "National Plasma Fractionation Centre",
                      "المركز الوطني لتجزئة البلازما", "Rif Dimashq", "RIF"))
    return Network(tuple(sites))
