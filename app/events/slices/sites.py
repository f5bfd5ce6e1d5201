"""Sites of the network, and which lab tests which collection site's donations.

A lab records results only for donations of the collection sites it serves: an admin
records the standing agreement (``LabServiceAgreed``), and a collecting site may send one
batch of samples elsewhere (``SamplesDispatched``), for instance while its usual lab is down.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from app.errors import AlreadyExists, DonationNotFound, NotCustodian
from app.events import isbt
from app.events.authz import acts_for
from app.events.decision import Decision
from app.events.event_type import Changes, EventType, Need, RawData, quiet, roles
from app.events.fields import Din, Ident, Text
from app.events.messages import Event
from app.events.payload import EventData, SiteKind
from app.events.state import DonationState, SiteState, World, get_donation, get_site, updated

LAB_SITE_KINDS = ("lab", "blood_bank")
COLLECTION_SITE_KINDS = ("blood_bank", "mobile_unit")


class SiteRegistered(EventData):
    """A site of the network: blood bank, hospital, mobile unit, lab or fractionator."""

    site_id: Ident
    name: Text
    kind: SiteKind
    region: Text


class LabServiceAgreed(EventData):
    """The lab ``lab_site_id`` tests the donations collected at ``collection_site_id``."""

    collection_site_id: Ident
    lab_site_id: Ident


class SamplesDispatched(EventData):
    """The collecting site sent the samples of these donations to ``lab_site_id``."""

    dins: list[Din] = Field(min_length=1, max_length=1000)
    lab_site_id: Ident


def site_registered(d: Decision, data: SiteRegistered) -> None:
    """A new site (admins only, by the role matrix)."""
    if get_site(d.world, data.site_id) is not None:
        raise AlreadyExists(f"site {data.site_id} is already registered", field="data.site_id")
    d.emit(data, f"site:{data.site_id}", {("site", data.site_id)})


def lab_service_agreed(d: Decision, data: LabServiceAgreed) -> None:
    """A standing agreement between a collection site and a lab (admins only)."""
    site = d.site(data.collection_site_id, "data.collection_site_id", COLLECTION_SITE_KINDS)
    d.site(data.lab_site_id, "data.lab_site_id", LAB_SITE_KINDS)
    if data.lab_site_id in site.labs:
        raise AlreadyExists(f"{data.lab_site_id} already serves {site.site_id}",
                            field="data.lab_site_id")
    d.emit(data, f"site:{site.site_id}", {("site", site.site_id), ("site", data.lab_site_id)})


def samples_dispatched(d: Decision, data: SamplesDispatched) -> None:
    """The collecting site (only it) sends a batch of its donations' samples to a lab."""
    d.site(data.lab_site_id, "data.lab_site_id", LAB_SITE_KINDS)
    refs = {("site", data.lab_site_id)}
    for i, din in enumerate(data.dins):
        donation = get_donation(d.world, din)
        if donation is None:
            raise DonationNotFound(f"no donation with DIN {din}", field=f"data.dins[{i}]")
        if not acts_for(d.cmd.actor, donation.site_id):
            raise NotCustodian(f"donation {din} was collected by another site",
                               field=f"data.dins[{i}]")
        refs.add(("donation", din))
    d.emit(data, f"site:{data.lab_site_id}", refs)


def lab_serves(world: World, donation: DonationState, lab_site_id: str) -> bool:
    """Whether ``lab_site_id`` may test ``donation``: a lab serving its collection site, a
    lab its samples were dispatched to, or the collecting blood bank itself."""
    if lab_site_id in donation.dispatched_to or lab_site_id == donation.site_id:
        return True
    site = get_site(world, donation.site_id) if donation.site_id is not None else None
    return site is not None and lab_site_id in site.labs


def collected_or_tests(world: World, site_id: str | None, dins: Iterable[str]) -> bool:
    """Whether ``site_id`` collected one of the donations ``dins``, or tests for its
    collection site: the blood establishment that knows the donor."""
    if site_id is None:
        return False
    for din in dins:
        donation = get_donation(world, din)
        if donation is not None and (
                donation.site_id == site_id or lab_serves(world, donation, site_id)):
            return True
    return False


def _registered(world: World, e: Event, data: SiteRegistered) -> Changes:
    return {("site", data.site_id): SiteState(
        site_id=data.site_id, site_kind=data.kind, name=data.name, region=data.region)}


def _agreed(world: World, e: Event, data: LabServiceAgreed) -> Changes:
    site = get_site(world, data.collection_site_id)
    if site is None:
        return {}
    return {("site", site.site_id): updated(site, {"labs": (*site.labs, data.lab_site_id)})}


def _dispatched(world: World, e: Event, data: SamplesDispatched) -> Changes:
    changes: Changes = {}
    for din in data.dins:
        donation = get_donation(world, din)
        if donation is not None and data.lab_site_id not in donation.dispatched_to:
            changes[("donation", din)] = updated(
                donation, {"dispatched_to": (*donation.dispatched_to, data.lab_site_id)})
    return changes


def _reads_agreement(data: RawData) -> list[Need]:
    return []


def _reads_dispatch(data: RawData) -> list[Need]:
    dins = data.get("dins")
    found = [quiet(isbt.parse_din, x) for x in dins] if isinstance(dins, list) else []
    return [(("donation", x), False) for x in found if x is not None]


TYPES = (
    EventType(SiteRegistered, _registered, site_registered, roles(), reads=lambda data: (),
              example={"site_id": "BB-DAM-01", "name": "Damascus central blood bank",
                       "kind": "blood_bank", "region": "Damascus"}),
    EventType(LabServiceAgreed, _agreed, lab_service_agreed, roles(), _reads_agreement,
              {"collection_site_id": "BB-DAM-01", "lab_site_id": "LAB-DAM-01"},
              acting_sites=()),
    EventType(SamplesDispatched, _dispatched, samples_dispatched,
              roles("collector", "processing"), _reads_dispatch,
              {"dins": ["A999926123456"], "lab_site_id": "LAB-ALE-01"}, acting_sites=()),
)
