"""Decisions about sites, donors and collection."""

from __future__ import annotations

from datetime import datetime

from app.errors import (
    AlreadyExists,
    CategoryMismatch,
    DinAlreadyCollected,
    DonationIntervalTooShort,
    DonorDeferredError,
    DonorNotDeferred,
    DonorNotFound,
    ExpiryBeyondShelfLife,
    InvalidEventData,
)
from app.events import isbt
from app.events.decision import Decision
from app.events.models import (
    DonationCollected,
    DonorDeferred,
    DonorRegistered,
    DonorReinstated,
    SiteRegistered,
)
from app.events.models_base import dump, own
from app.events.state import DonorState, get_donation, get_donor, get_site, get_unit
from app.log.record import format_time, parse_time

COLLECTION_SITE_KINDS = ("blood_bank", "mobile_unit")


def site_registered(d: Decision, data: SiteRegistered) -> None:
    """A new site (admins only, by the role matrix)."""
    if get_site(d.world, data.site_id) is not None:
        raise AlreadyExists(f"site {data.site_id} is already registered", field="data.site_id")
    d.emit("SiteRegistered", f"site:{data.site_id}", dump(data), {("site", data.site_id)})


def donor_registered(d: Decision, data: DonorRegistered) -> None:
    """A new pseudonymous donor."""
    if get_donor(d.world, data.donor_id) is not None:
        raise AlreadyExists(f"donor {data.donor_id} is already registered",
                            field="data.donor_id")
    d.emit("DonorRegistered", f"donor:{data.donor_id}", dump(data),
           {("donor", data.donor_id)})


def donor_deferred(d: Decision, data: DonorDeferred) -> None:
    """Defer a registered donor until a date, or permanently."""
    _donor(d, data.donor_id)
    d.emit("DonorDeferred", f"donor:{data.donor_id}", own(data), {("donor", data.donor_id)})


def donor_reinstated(d: Decision, data: DonorReinstated) -> None:
    """End the deferral of a donor who is deferred now."""
    donor = _donor(d, data.donor_id)
    if not donor.deferred_at(d.at):
        raise DonorNotDeferred(f"donor {data.donor_id} is not deferred", field="data.donor_id")
    d.emit("DonorReinstated", f"donor:{data.donor_id}", dump(data),
           {("donor", data.donor_id)})


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
    donor = _donor(d, data.donor_id)
    if donor.deferred_at(d.at):
        until = "permanently" if donor.deferred_until is None else (
            f"until {format_time(donor.deferred_until)}")
        raise DonorDeferredError(
            f"donor {donor.donor_id} is deferred {until}: {donor.deferral_reason}",
            field="data.donor_id",
        )
    _check_interval(d, donor, data.collection_type)
    shelf_end = d.at + cat.storage_for(data.category, data.product_code).shelf_life
    body = dump(data)
    body["unit_id"] = unit_id
    body["expires_at"] = expiry(d.at, shelf_end, data.expires_at, "data.expires_at")
    d.emit("DonationCollected", unit_id, body, {
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


def _donor(d: Decision, donor_id: str) -> DonorState:
    donor = get_donor(d.world, donor_id)
    if donor is None:
        raise DonorNotFound(f"donor {donor_id} is not registered", field="data.donor_id")
    return donor
