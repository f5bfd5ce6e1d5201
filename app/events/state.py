"""Aggregate states: what ``decide`` needs to know, folded from events by ``evolve``.

Kinds: site, donor, donation, unit (``app.events.unit``) and lookback. Each state is a frozen
pydantic model that round-trips through JSON (the writer keeps them as jsonb in
``write_state``). Changes are made with ``model_copy(update=...)``, which skips re-validation:
states only ever come from evolve or from ``load_state``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol, TypeAlias

from pydantic import BaseModel, ConfigDict

from app.events.messages import Key
from app.events.unit import UnitState


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SiteState(_State):
    """A registered site and its kind."""

    site_id: str
    site_kind: str
    name: str
    region: str


class DonorDonation(_State):
    """One of a donor's donations, as the interval and lookback rules need it."""

    din: str
    collected_at: datetime
    collection_type: str


class DonorState(_State):
    """A pseudonymous donor. ``deferred`` with no ``deferred_until`` is permanent."""

    donor_id: str
    abo: str | None = None
    rhd: str | None = None
    deferred: bool = False
    deferred_until: datetime | None = None
    deferral_reason: str | None = None
    donations: tuple[DonorDonation, ...] = ()

    def deferred_at(self, moment: datetime) -> bool:
        if not self.deferred:
            return False
        return self.deferred_until is None or moment < self.deferred_until


class DonationState(_State):
    """A DIN: a collection from a donor, or a pool (``donor_id`` None, ``parents`` set).

    ``unit_ids`` are the units bearing this DIN (the primary unit and split components);
    ``tests`` the latest result per marker; ``reactive`` the markers ever found reactive, which
    a later result never clears.
    """

    din: str
    kind: Literal["collection", "pool"] = "collection"
    donor_id: str | None = None
    site_id: str | None = None
    collection_type: str | None = None
    collected_at: datetime
    unit_ids: tuple[str, ...] = ()
    tests: dict[str, str] = {}
    reactive: tuple[str, ...] = ()


class LookbackState(_State):
    """The units a lookback found, the sites that may acknowledge each, and who did."""

    lookback_id: str
    units: dict[str, tuple[str, ...]] = {}
    acknowledged: dict[str, tuple[str, ...]] = {}


State: TypeAlias = SiteState | DonorState | DonationState | UnitState | LookbackState

STATE_MODELS: dict[str, type[BaseModel]] = {
    "site": SiteState,
    "donor": DonorState,
    "donation": DonationState,
    "unit": UnitState,
    "lookback": LookbackState,
}


class World(Protocol):
    """Aggregate states by key; None when the aggregate does not exist.

    The writer's world raises ``StateNotLoaded`` for a key it has not loaded yet; domain code
    lets that propagate.
    """

    def get(self, key: Key) -> State | None: ...


def dump_state(state: State) -> dict[str, Any]:
    """A state as a JSON object (for ``write_state``)."""
    return state.model_dump(mode="json")


def load_state(kind: str, body: dict[str, Any]) -> State:
    """A state back from its JSON object."""
    loaded = STATE_MODELS[kind].model_validate(body)
    assert isinstance(loaded, SiteState | DonorState | DonationState | UnitState | LookbackState)
    return loaded


def get_site(world: World, site_id: str) -> SiteState | None:
    """The site state, or None."""
    state = world.get(("site", site_id))
    return state if isinstance(state, SiteState) else None


def get_donor(world: World, donor_id: str) -> DonorState | None:
    """The donor state, or None."""
    state = world.get(("donor", donor_id))
    return state if isinstance(state, DonorState) else None


def get_donation(world: World, din: str) -> DonationState | None:
    """The donation state, or None."""
    state = world.get(("donation", din))
    return state if isinstance(state, DonationState) else None


def get_unit(world: World, unit_id: str) -> UnitState | None:
    """The unit state, or None."""
    state = world.get(("unit", unit_id))
    return state if isinstance(state, UnitState) else None


def get_lookback(world: World, lookback_id: str) -> LookbackState | None:
    """The lookback state, or None."""
    state = world.get(("lookback", lookback_id))
    return state if isinstance(state, LookbackState) else None
