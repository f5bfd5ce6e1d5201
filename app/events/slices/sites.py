"""Sites of the network: blood banks, hospitals, mobile units, labs and fractionators."""

from __future__ import annotations

from app.errors import AlreadyExists
from app.events.decision import Decision
from app.events.event_type import Changes, EventType, roles
from app.events.fields import Ident, Text
from app.events.messages import Event
from app.events.payload import EventData, SiteKind
from app.events.state import SiteState, World, get_site


class SiteRegistered(EventData):
    """A site of the network: blood bank, hospital, mobile unit, lab or fractionator."""

    site_id: Ident
    name: Text
    kind: SiteKind
    region: Text


def site_registered(d: Decision, data: SiteRegistered) -> None:
    """A new site (admins only, by the role matrix)."""
    if get_site(d.world, data.site_id) is not None:
        raise AlreadyExists(f"site {data.site_id} is already registered", field="data.site_id")
    d.emit(data, f"site:{data.site_id}", {("site", data.site_id)})


def _registered(world: World, e: Event, data: SiteRegistered) -> Changes:
    return {("site", data.site_id): SiteState(
        site_id=data.site_id, site_kind=data.kind, name=data.name, region=data.region)}


TYPES = (
    EventType(SiteRegistered, _registered, site_registered, roles(), reads=lambda data: (),
              example={"site_id": "BB-DAM-01", "name": "Damascus central blood bank",
                       "kind": "blood_bank", "region": "Damascus"}),
)
