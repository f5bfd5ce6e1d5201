"""Collection: a DIN is collected once, at a collection site, from a donor who may give now.

The collection creates the primary unit ``{din}-{product_code}``, with its expiry from the
catalogue's shelf life.
"""

from __future__ import annotations

from datetime import datetime

from app.errors import (
    CategoryMismatch,
    DinAlreadyCollected,
    DonationIntervalTooShort,
    DonorDeferredError,
    ExpiryBeyondShelfLife,
    InvalidEventData,
)
from app.events import isbt
from app.events.catalogue import Category, CollectionType
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
    _check_interval(d, donor, data.collection_type)
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


def _check_interval(d: Decision, donor: DonorState, collection_type: str) -> None:
    # The gap to any other donation must cover the longer of the two types' intervals: a
    # donor who gave whole blood waits its 56 days before giving plasma too.
    wanted = d.catalogue.min_interval(collection_type)
    for earlier in donor.donations:
        gap = max(wanted, d.catalogue.min_interval(earlier.collection_type))
        if abs(d.at - earlier.collected_at) < gap:
            raise DonationIntervalTooShort(
                f"donor {donor.donor_id} gave {earlier.collection_type} (DIN {earlier.din}) on "
                f"{format_time(earlier.collected_at)}; the minimum interval is {gap.days} days",
                field="data.donor_id", previous_din=earlier.din,
            )


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
        given = construct(DonorDonation, dict(din=din, collected_at=at,
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
