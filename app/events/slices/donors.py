"""Donors: pseudonymous registration, deferrals as a set, reinstatement, and information a
donor gives after donating (RULES §4 deferrals, §8 post-donation information).

Names and national ids never enter the log: a donor is known by a pseudonym only. A donor
may have several deferrals at once; collection is refused while any is active, and a later
temporary deferral never shortens a permanent one. A reinstatement ends one deferral, named;
one for an infectious marker ends only after a confirmatory negative on that marker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from app.errors import (
    AlreadyExists,
    ConfirmatoryNegativeRequired,
    DeferralIdRequired,
    DeferralNotFound,
    DonorNotDeferred,
    DonorNotFound,
    DonorOutOfScope,
    IdentityAccessDenied,
)
from app.events.authz import ADMIN
from app.events.catalogue_parts import Sex
from app.events.decision import Decision
from app.events.event_type import Changes, EventType, Need, RawData, reads_key, roles
from app.events.fields import AboGroup, Din, Ident, Marker, Pseudonym, RhdType, Text, Timestamp
from app.events.lineage import units_of
from app.events.messages import Event
from app.events.payload import DerivedData, EventData, construct
from app.events.results import of_marker
from app.events.signatures import REINSTATE_DONOR, always
from app.events.slices.holds import place_holds
from app.events.slices.sites import COLLECTION_SITE_KINDS, collected_or_tests
from app.events.state import (
    Deferral,
    DeferralCause,
    DonorState,
    Screening,
    World,
    get_donation,
    get_donor,
    updated,
)
from app.log.record import parse_time

DONOR_CARE = roles("collector", "processing")
IDENTITY_READERS = roles("collector", "processing")
"""Who may read an identity from the vault (and admins): only at a blood bank."""
IDENTITY_SITE_KINDS = ("blood_bank",)

Commitment = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class DonorRegistered(EventData):
    """A donor, known only by a pseudonym; names and national ids never enter the log."""

    donor_id: Pseudonym
    abo: AboGroup | None = None
    rhd: RhdType | None = None
    sex: Sex | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    identity_commitment: Commitment | None = Field(default=None, description=(
        "A salted SHA-256 commitment to the identity the vault holds (issue 19). Optional "
        "in the schema, so records from before the vault still decode; a registration "
        "through POST /v1/donors always carries it."))


class DonorIdentityViewed(EventData):
    """Someone read the donor's identity from the vault, and why: an auditor sees who looked
    at whom. ``site_id`` is the reading key's blood bank (absent for an admin)."""

    donor_id: Pseudonym
    purpose: Text
    site_id: Ident | None = None


class DonorIdentityShredded(EventData):
    """The donor's data key was destroyed (crypto-shredding): the identity can never be read
    again. The donor's history stays in the log under the pseudonym."""

    donor_id: Pseudonym
    reason: Text


class DonorScreened(EventData):
    """The pre-donation check at a collection site: haemoglobin (g/L) and the outcome of the
    health questions. A collection needs a passing one at the same site in the 24 h before."""

    donor_id: Pseudonym
    site_id: Ident
    hb_g_l: int = Field(ge=0, le=300)
    passed: StrictBool = Field(alias="pass", description="``pass`` in JSON")
    reason: Text | None = None


class DonorDeferred(DerivedData):
    """``until`` absent means permanent (or, with ``pending_confirmation``, until a
    confirmatory test). Enrichment: ``deferral_id`` (the event's id when absent)."""

    donor_id: Pseudonym
    reason: Text
    until: Timestamp | None = None
    deferral_id: Ident | None = None
    cause: DeferralCause = "other"
    marker: Marker | None = None
    din: Din | None = None
    pending_confirmation: StrictBool = False


class DonorReinstated(EventData):
    """Ends the deferral ``deferral_id`` (required when several are active); ``until`` is
    ignored."""

    donor_id: Pseudonym
    reason: Text
    until: Timestamp | None = None
    deferral_id: Ident | None = None


class PostDonationInformationReceived(EventData):
    """Something the donor (or their doctor) reported after donating that puts earlier
    donations in doubt: every live unit from the donor's donations since ``since`` is held."""

    donor_id: Pseudonym
    information: Text
    since: Timestamp


def registered_donor(d: Decision, donor_id: str) -> DonorState:
    """The donor, who must be registered; the step must not be dated before their last."""
    donor = get_donor(d.world, donor_id)
    if donor is None:
        raise DonorNotFound(f"donor {donor_id} is not registered", field="data.donor_id")
    d.in_order(donor.last_at, f"donor {donor_id}")
    return donor


def active_for_marker(donor: DonorState, marker: str, moment: datetime) -> list[Deferral]:
    return [x for x in donor.active_deferrals(moment)
            if x.cause == "infectious_marker" and x.marker == marker]


def donor_registered(d: Decision, data: DonorRegistered) -> None:
    """A new pseudonymous donor."""
    if get_donor(d.world, data.donor_id) is not None:
        raise AlreadyExists(f"donor {data.donor_id} is already registered",
                            field="data.donor_id")
    d.emit(data, f"donor:{data.donor_id}", {("donor", data.donor_id)})


def donor_identity_viewed(d: Decision, data: DonorIdentityViewed) -> None:
    """A read of a registered donor's identity, by an admin or at a blood bank."""
    registered_donor(d, data.donor_id)
    if d.cmd.actor.role != ADMIN:
        if data.site_id is None:
            raise IdentityAccessDenied("an identity is read at a blood bank: name its site",
                                       field="data.site_id")
        d.site(data.site_id, "data.site_id", IDENTITY_SITE_KINDS)
    elif data.site_id is not None:
        d.site(data.site_id, "data.site_id")
    sites = {("site", data.site_id)} if data.site_id is not None else set()
    d.emit(data, f"donor:{data.donor_id}", {("donor", data.donor_id)} | sites)


def donor_identity_shredded(d: Decision, data: DonorIdentityShredded) -> None:
    """The erasure of a registered donor's identity (admins only)."""
    registered_donor(d, data.donor_id)
    d.emit(data, f"donor:{data.donor_id}", {("donor", data.donor_id)})


def donor_screened(d: Decision, data: DonorScreened) -> None:
    """A check at a collection site of a registered donor."""
    registered_donor(d, data.donor_id)
    d.site(data.site_id, "data.site_id", COLLECTION_SITE_KINDS)
    d.emit(data, f"donor:{data.donor_id}", {("donor", data.donor_id), ("site", data.site_id)})


def donor_deferred(d: Decision, data: DonorDeferred) -> None:
    """Add a deferral to a registered donor: until a date, permanently, or pending."""
    registered_donor(d, data.donor_id)
    deferral_id = data.deferral_id or str(d.next_event_id())
    d.emit(data.model_copy(update={"deferral_id": deferral_id}), f"donor:{data.donor_id}",
           {("donor", data.donor_id)})


def donor_reinstated(d: Decision, data: DonorReinstated) -> None:
    """End one active deferral; an infectious-marker one only after a confirmatory negative."""
    donor = registered_donor(d, data.donor_id)
    active = donor.active_deferrals(d.at)
    if not active:
        raise DonorNotDeferred(f"donor {data.donor_id} is not deferred", field="data.donor_id")
    if data.deferral_id is None:
        if len(active) > 1:
            raise DeferralIdRequired(
                f"donor {data.donor_id} has {len(active)} active deferrals: "
                + ", ".join(f"{x.deferral_id} ({x.cause})" for x in active),
                field="data.deferral_id")
        target = active[0]
    else:
        found = donor.deferral(data.deferral_id)
        if found is None:
            raise DeferralNotFound(f"donor {data.donor_id} has no deferral {data.deferral_id}",
                                   field="data.deferral_id")
        if not found.active_at(d.at):
            raise DonorNotDeferred(f"deferral {data.deferral_id} is not active",
                                   field="data.deferral_id")
        target = found
    if target.cause == "infectious_marker" and target.marker is not None:
        _confirmed_negative(d, target)
    d.emit(data.model_copy(update={"deferral_id": target.deferral_id}),
           f"donor:{data.donor_id}", {("donor", data.donor_id)})


def _confirmed_negative(d: Decision, deferral: Deferral) -> None:
    donation = get_donation(d.world, deferral.din) if deferral.din else None
    confirms = [r for r in of_marker(donation.results if donation else (), str(deferral.marker))
                if r.kind == "confirmatory"]
    if not confirms or confirms[-1].result != "negative":
        raise ConfirmatoryNegativeRequired(
            f"deferral {deferral.deferral_id} is for {deferral.marker} on donation "
            f"{deferral.din}, which has no confirmatory negative", field="data.deferral_id",
            marker=deferral.marker, din=deferral.din)


def post_donation_information(d: Decision, data: PostDonationInformationReceived) -> None:
    """Hold every live unit from the donor's donations collected since ``since``: recorded by
    a site that collected from the donor (or its lab), never by a stranger to the donor, who
    could otherwise hold any site's stock."""
    donor = registered_donor(d, data.donor_id)
    if not (d.cmd.actor.role == ADMIN or collected_or_tests(
            d.world, d.cmd.actor.site_id, [given.din for given in donor.donations])):
        raise DonorOutOfScope(
            f"donor {data.donor_id} never gave at {d.cmd.actor.site_id}, nor at a site its "
            "lab serves", field="data.donor_id")
    since = parse_time(data.since)
    start = [unit_id for given in donor.donations if given.collected_at >= since
             for unit_id in _unit_ids(d, given.din)]
    d.emit(data, f"donor:{data.donor_id}", {("donor", data.donor_id)} | {
        ("donation", given.din) for given in donor.donations if given.collected_at >= since})
    place_holds(d, units_of(d.world, start), "post_donation_information",
                f"post-donation information: {data.information}")


def _unit_ids(d: Decision, din: str) -> tuple[str, ...]:
    donation = get_donation(d.world, din)
    return donation.unit_ids if donation is not None else ()


def _registered(world: World, e: Event, data: DonorRegistered) -> Changes:
    group = {m: v for m, v in (("ABO", data.abo), ("RHD", data.rhd)) if v is not None}
    return {("donor", data.donor_id): DonorState(
        donor_id=data.donor_id, group=group, sex=data.sex, birth_year=data.birth_year)}


def _screened(world: World, e: Event, data: DonorScreened) -> Changes:
    donor = get_donor(world, data.donor_id)
    if donor is None:
        return {}
    screening = construct(Screening, dict(site_id=data.site_id, at=e.occurred_at,
                                          hb_g_l=data.hb_g_l, passed=data.passed))
    return {("donor", donor.donor_id): updated(
        donor, {"screenings": (*donor.screenings, screening)})}


def _deferred(world: World, e: Event, data: DonorDeferred) -> Changes:
    donor = get_donor(world, data.donor_id)
    if donor is None:
        return {}
    deferral = construct(Deferral, dict(
        deferral_id=data.deferral_id or str(e.event_id), cause=data.cause, reason=data.reason,
        since=e.occurred_at, until=parse_time(data.until) if data.until else None,
        pending_confirmation=data.pending_confirmation, marker=data.marker, din=data.din))
    kept = donor.deferrals
    if deferral.permanent and deferral.cause == "infectious_marker":
        # The pending deferral becomes permanent (RULES §3): it ends, superseded.
        kept = tuple(
            updated(x, {"ended_at": e.occurred_at,
                        "ended_reason": f"superseded by permanent deferral {deferral.deferral_id}"})
            if x.pending_confirmation and x.marker == deferral.marker
            and x.active_at(e.occurred_at) else x for x in kept)
    return {("donor", donor.donor_id): updated(donor, {"deferrals": (*kept, deferral)})}


def _reinstated(world: World, e: Event, data: DonorReinstated) -> Changes:
    donor = get_donor(world, data.donor_id)
    if donor is None:
        return {}
    # A v1 reinstatement names no deferral: it ended every deferral active then.
    ended = tuple(
        updated(x, {"ended_at": e.occurred_at, "ended_reason": data.reason})
        if x.active_at(e.occurred_at) and data.deferral_id in (None, x.deferral_id) else x
        for x in donor.deferrals)
    return {("donor", donor.donor_id): updated(donor, {"deferrals": ended})}


def _unchanged_donor(world: World, e: Event,
                     data: PostDonationInformationReceived | DonorIdentityViewed
                     | DonorIdentityShredded) -> Changes:
    return {}


def _reads_donor(data: RawData) -> list[Need]:
    return reads_key("donor", data.get("donor_id"))


def _reads_donor_lineage(data: RawData) -> list[Need]:
    return reads_key("donor", data.get("donor_id"), deep=True)


TYPES = (
    EventType(DonorRegistered, _registered, donor_registered, DONOR_CARE,
              _reads_donor, {"donor_id": "DNR-7QX2K9", "abo": "O", "rhd": "NEG", "sex": "F",
               "birth_year": 1990}),
    EventType(DonorScreened, _screened, donor_screened, DONOR_CARE, _reads_donor,
              {"donor_id": "DNR-7QX2K9", "site_id": "BB-DAM-01", "hb_g_l": 141, "pass": True}),
    EventType(DonorDeferred, _deferred, donor_deferred, DONOR_CARE,
              _reads_donor, {"donor_id": "DNR-7QX2K9", "reason": "low haemoglobin",
                             "until": "2026-12-20", "cause": "low_haemoglobin"}),
    EventType(DonorReinstated, _reinstated, donor_reinstated, roles("processing"),
              _reads_donor_lineage, {"donor_id": "DNR-7QX2K9",
                                     "reason": "deferral period reviewed",
                                     "deferral_id": "5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11"},
              signs=always(REINSTATE_DONOR)),
    EventType(PostDonationInformationReceived, _unchanged_donor, post_donation_information,
              DONOR_CARE, _reads_donor_lineage,
              {"donor_id": "DNR-7QX2K9", "information": "fever three days after donating",
               "since": "2026-11-01"}),
    EventType(DonorIdentityViewed, _unchanged_donor, donor_identity_viewed, IDENTITY_READERS,
              _reads_donor, {"donor_id": "DNR-7QX2K9", "purpose": "recall for donation",
                             "site_id": "BB-DAM-01"}),
    EventType(DonorIdentityShredded, _unchanged_donor, donor_identity_shredded, roles(),
              _reads_donor, {"donor_id": "DNR-7QX2K9",
                             "reason": "erasure requested by the donor (GDPR Art. 17)"}),
)
