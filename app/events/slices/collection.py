"""Collection: a DIN is collected once, at a collection site, from a donor who may give now.

The collection creates the primary unit ``{din}-{product_code}``, with its expiry from the
catalogue's shelf life.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import model_validator

from app.errors import (
    AnnualLimitReached,
    CategoryMismatch,
    DinAlreadyCollected,
    DonationIntervalTooShort,
    DonorDeferredError,
    DonorScreeningFailed,
    DonorScreeningRequired,
    ExpiryBeyondShelfLife,
    InvalidEventData,
)
from app.events import isbt
from app.events.catalogue import Catalogue, Category, CollectionType, IntendedUse
from app.events.decision import Decision
from app.events.event_type import (
    Changes,
    EventType,
    Need,
    RawData,
    quiet,
    reads_din,
    reads_key,
    roles,
)
from app.events.fields import (
    AboGroup,
    Din,
    Ident,
    ProductCode,
    Pseudonym,
    RhdType,
    Timestamp,
    UnitId,
    VolumeMl,
)
from app.events.messages import Event
from app.events.payload import EventData, construct
from app.events.slices.donors import registered_donor
from app.events.slices.sites import COLLECTION_SITE_KINDS
from app.events.state import (
    DonationState,
    DonorDonation,
    DonorState,
    World,
    get_donation,
    get_donor,
    get_unit,
    updated,
)
from app.events.unit import UnitState
from app.log.record import format_time, parse_time


class DonationCollected(EventData):
    """Creates unit ``{din}-{product_code}``.

    Enrichment: ``unit_id``, ``expires_at`` (collection time + the catalogue's shelf life, or
    an earlier expiry the client gives) and ``donor_abo``/``donor_rhd``, the donor's group as
    known then (registered or typed before), which the donation's own typing is compared with.
    """

    din: Din
    donor_id: Pseudonym
    site_id: Ident
    collection_type: CollectionType
    product_code: ProductCode
    category: Category
    volume_ml: VolumeMl
    unit_id: UnitId | None = None
    expires_at: Timestamp | None = None
    donor_abo: AboGroup | None = None
    donor_rhd: RhdType | None = None
    intended_use: IntendedUse = "allogeneic"
    intended_recipient_id: Pseudonym | None = None

    @model_validator(mode="after")
    def _recipient_named(self) -> DonationCollected:
        named = self.intended_use in ("autologous", "directed")
        if named != (self.intended_recipient_id is not None):
            raise ValueError("intended_recipient_id names the recipient of an autologous or "
                             "directed donation, and only of one")
        return self


def donation_collected(d: Decision, data: DonationCollected) -> None:
    """A DIN is collected once, at a collection site, from a donor who may donate now."""
    cat = d.catalogue
    d.site(data.site_id, "data.site_id", COLLECTION_SITE_KINDS)
    if data.category not in cat.collection_categories.get(data.collection_type, ()):
        raise CategoryMismatch(
            f"a {data.collection_type} collection does not yield {data.category}",
            field="data.category",
        )
    unit_id = derived_unit_id(data.din, data.product_code, data.unit_id, "data.unit_id")
    if get_donation(d.world, data.din) is not None or get_unit(d.world, unit_id) is not None:
        raise DinAlreadyCollected(f"DIN {data.din} was already collected", field="data.din")
    donor = registered_donor(d, data.donor_id)
    active = donor.active_deferrals(d.at)
    if active:
        raise DonorDeferredError(
            f"donor {donor.donor_id} is deferred: " + "; ".join(
                f"{x.reason} ({'until ' + format_time(x.until) if x.until else 'permanent'})"
                for x in active),
            field="data.donor_id", deferral_ids=[x.deferral_id for x in active],
        )
    check_product_code(cat, data.product_code, data.category, "data.product_code")
    _check_screening(d, donor, data.site_id)
    _check_interval(d, donor, data.collection_type)
    _check_caps(d, donor, data.collection_type, data.volume_ml)
    shelf_end = d.at + cat.storage_for(data.category, data.product_code).shelf_life
    enriched = data.model_copy(update={
        "unit_id": unit_id,
        "expires_at": expiry(d.at, shelf_end, data.expires_at, "data.expires_at"),
        "donor_abo": donor.group.get("ABO"), "donor_rhd": donor.group.get("RHD"),
    })
    d.emit(enriched, unit_id, {
        ("unit", unit_id), ("donation", data.din), ("donor", data.donor_id),
        ("site", data.site_id),
    })


def _check_screening(d: Decision, donor: DonorState, site_id: str) -> None:
    """A passing pre-donation check at this site in the hours before (RULES §4)."""
    rules = d.catalogue.donors
    window = timedelta(hours=rules.screening_valid_hours)
    recent = [x for x in donor.screenings
              if x.site_id == site_id and d.at - window <= x.at <= d.at]
    if not recent:
        raise DonorScreeningRequired(
            f"donor {donor.donor_id} has no screening at {site_id} in the "
            f"{rules.screening_valid_hours} h before", field="data.donor_id")
    last = recent[-1]
    limit = rules.hb_min(donor.sex)
    if not last.passed or last.hb_g_l < limit:
        raise DonorScreeningFailed(
            f"donor {donor.donor_id} did not pass screening (Hb {last.hb_g_l} g/L; the limit "
            f"is {limit} g/L{'' if donor.sex else ' for a donor of unrecorded sex'})",
            field="data.donor_id", hb_g_l=last.hb_g_l, limit_g_l=limit)


def _check_interval(d: Decision, donor: DonorState, collection_type: str) -> None:
    """Each earlier donation's interval to this one, by the two procedures and the sex."""
    rules = d.catalogue.donors
    for earlier in donor.donations:
        days = rules.interval_days(earlier.collection_type, collection_type, donor.sex)
        if d.at - earlier.collected_at < timedelta(days=days):
            raise DonationIntervalTooShort(
                f"donor {donor.donor_id} gave {earlier.collection_type} (DIN {earlier.din}) on "
                f"{format_time(earlier.collected_at)}; {collection_type} may follow after "
                f"{days} days", field="data.donor_id", previous_din=earlier.din)


def _check_caps(d: Decision, donor: DonorState, collection_type: str, volume_ml: int) -> None:
    """No more donations (or plasma) in any 12 months than the catalogue allows."""
    rules = d.catalogue.donors
    year = [x for x in donor.donations if d.at - x.collected_at < timedelta(days=365)]
    if collection_type == "whole_blood":
        cap = rules.whole_blood_cap(donor.sex)
        given = sum(1 for x in year if x.collection_type == "whole_blood")
        what = "whole-blood donations"
    else:
        cap = rules.apheresis_per_year
        given = sum(1 for x in year if x.collection_type != "whole_blood")
        what = "apheresis procedures"
    if given + 1 > cap:
        raise AnnualLimitReached(f"donor {donor.donor_id} gave {given} {what} in 12 months "
                                 f"(at most {cap})", field="data.donor_id")
    if collection_type == "apheresis_plasma":
        plasma = sum(x.volume_ml for x in year if x.collection_type == "apheresis_plasma")
        if plasma + volume_ml > rules.plasma_ml_per_year:
            raise AnnualLimitReached(
                f"donor {donor.donor_id} gave {plasma} mL of plasma in 12 months; "
                f"{volume_ml} mL more exceeds {rules.plasma_ml_per_year} mL",
                field="data.volume_ml")


def check_product_code(cat: Catalogue, code: str, category: str, field: str) -> None:
    """A product code the catalogue knows must be declared as its category."""
    known = cat.products.product_categories.get(code[:5])
    if known is not None and known != category:
        raise CategoryMismatch(f"product code {code} is {known}, not {category}", field=field)


def derived_unit_id(din: str, product_code: str, given: str | None, field: str) -> str:
    """``{din}-{product_code}``; a unit id the client sends must say the same."""
    unit_id = isbt.unit_id_of(din, product_code)
    if given is not None and given != unit_id:
        raise InvalidEventData(f"{field} must be {unit_id}", field=field)
    return unit_id


def expiry(at: datetime, shelf_end: datetime, given: str | None, field: str) -> str:
    """The expiry to record: the catalogue's, or an earlier one the client gives."""
    if given is None:
        return format_time(shelf_end)
    moment = parse_time(given)
    if moment > shelf_end:
        raise ExpiryBeyondShelfLife(
            f"{field} {given} is after the shelf-life end {format_time(shelf_end)}", field=field
        )
    if moment <= at:
        raise InvalidEventData(f"{field} {given} is not after occurred_at", field=field)
    return given


def _collected(world: World, e: Event, data: DonationCollected) -> Changes:
    din, at = data.din, e.occurred_at
    unit_id = data.unit_id or isbt.unit_id_of(din, data.product_code)
    assert data.expires_at is not None, "decide enriches every collection with its expiry"
    unit = construct(UnitState, dict(
        unit_id=unit_id, din=din, product_code=data.product_code, category=data.category,
        volume_ml=data.volume_ml, collected_at=at, expires_at=parse_time(data.expires_at),
        source_dins=(din,), collection_type=data.collection_type, donor_id=data.donor_id,
        collected_site_id=data.site_id, custodian_site_id=data.site_id,
        intended_use=data.intended_use, intended_recipient_id=data.intended_recipient_id,
    ))
    donor = get_donor(world, data.donor_id)
    donation = construct(DonationState, dict(
        din=din, donor_id=data.donor_id, site_id=data.site_id,
        collection_type=data.collection_type, collected_at=at, unit_ids=(unit_id,),
        donor_group={m: v for m, v in (("ABO", data.donor_abo), ("RHD", data.donor_rhd))
                     if v is not None},
    ))
    changes: Changes = {("unit", unit_id): unit, ("donation", din): donation}
    if donor is not None:
        given = construct(DonorDonation, dict(din=din, collected_at=at, volume_ml=data.volume_ml,
                                              collection_type=data.collection_type))
        changes[("donor", donor.donor_id)] = updated(
            donor, {"donations": (*donor.donations, given)})
    return changes


def _reads(data: RawData) -> list[Need]:
    needs = reads_key("donor", data.get("donor_id")) + reads_din(data)
    din = quiet(isbt.parse_din, data.get("din"))
    product = quiet(isbt.parse_product_code, data.get("product_code"))
    if din is not None and product is not None:
        needs.append((("unit", isbt.unit_id_of(din, product)), False))
    return needs


TYPES = (
    EventType(DonationCollected, _collected, donation_collected, roles("collector"), _reads,
              {"din": "A999926123456", "donor_id": "DNR-7QX2K9", "site_id": "BB-DAM-01",
               "collection_type": "whole_blood", "product_code": "E0001V00",
               "category": "whole_blood", "volume_ml": 450}),
)
