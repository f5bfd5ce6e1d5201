"""Aggregate states: what ``decide`` needs to know, folded from events by ``evolve``.

Kinds: site, donor, donation, unit (``app.events.unit``), lookback, patient and account.
Each state is a frozen pydantic model that round-trips through JSON (the writer keeps them
as jsonb in ``write_state``). Changes are made with ``model_copy(update=...)``, which skips
re-validation: states only ever come from evolve or from ``load_state``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict

from app.events.messages import Key
from app.events.unit import UnitState

S = TypeVar("S", bound=BaseModel)


def updated(state: S, changes: Mapping[str, Any]) -> S:
    """``state`` with ``changes``: what ``model_copy(update=...)`` gives (no re-validation;
    states only come from evolve), without copying the field set and extras per call. Evolve
    makes one for every event of a 30-year log in a rebuild."""
    made = state.__class__.__new__(state.__class__)
    object.__setattr__(made, "__dict__", {**state.__dict__, **changes})
    object.__setattr__(made, "__pydantic_fields_set__", state.__pydantic_fields_set__)
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SiteState(_State):
    """A registered site and its kind."""

    site_id: str
    site_kind: str
    name: str
    region: str
    labs: tuple[str, ...] = ()
    """The labs that test this collection site's donations (``LabServiceAgreed``)."""


class DonorDonation(_State):
    """One of a donor's donations, as the interval and lookback rules need it."""

    din: str
    collected_at: datetime
    collection_type: str
    volume_ml: int = 0


DeferralCause = Literal[
    "infectious_marker", "post_donation_information", "adverse_reaction", "low_haemoglobin",
    "medical", "travel", "behaviour", "other",
]


class Deferral(_State):
    """One reason a donor may not give, active until it ends or its ``until`` passes. A
    deferral with no ``until`` is permanent, or pending a confirmatory test when
    ``pending_confirmation``. A donor keeps every deferral: an ended one stays in history."""

    deferral_id: str
    cause: DeferralCause
    reason: str
    since: datetime
    until: datetime | None = None
    pending_confirmation: bool = False
    marker: str | None = None
    din: str | None = None
    ended_at: datetime | None = None
    ended_reason: str | None = None

    def active_at(self, moment: datetime) -> bool:
        return self.ended_at is None and (self.until is None or moment < self.until)

    @property
    def permanent(self) -> bool:
        return self.until is None and not self.pending_confirmation


class Screening(_State):
    """A pre-donation check: where, when, the haemoglobin and whether the donor passed."""

    site_id: str
    at: datetime
    hb_g_l: int
    passed: bool


class DonorState(_State):
    """A pseudonymous donor: deferrals as a set, the group known from registration or typing,
    and every donation."""

    donor_id: str
    sex: str | None = None
    birth_year: int | None = None
    group: dict[str, str] = {}
    """Known ABO and RHD: as registered, then as first typed or confirmed on a donation."""
    deferrals: tuple[Deferral, ...] = ()
    donations: tuple[DonorDonation, ...] = ()
    screenings: tuple[Screening, ...] = ()
    last_at: datetime | None = None

    def active_deferrals(self, moment: datetime) -> tuple[Deferral, ...]:
        return tuple(d for d in self.deferrals if d.active_at(moment))

    def deferred_at(self, moment: datetime) -> bool:
        return any(d.active_at(moment) for d in self.deferrals)

    def deferral(self, deferral_id: str) -> Deferral | None:
        return next((d for d in self.deferrals if d.deferral_id == deferral_id), None)


TestKind = Literal["screen", "repeat", "confirmatory", "nat"]


class Result(_State):
    """One test result of a donation, kept for good: a later result never overwrites it."""

    __test__ = False  # a model, not a pytest class

    position: int
    marker: str
    kind: TestKind
    result: str
    at: datetime
    sample_id: str | None = None


class DonationState(_State):
    """A DIN: a collection from a donor, or a pool (``donor_id`` None).

    ``unit_ids`` are the units bearing this DIN (the primary unit and split components);
    ``results`` every test result in log order (``app.events.results`` reads them);
    ``donor_group`` the donor's known group when the donation was collected, which its own
    typing is compared with.
    """

    din: str
    kind: Literal["collection", "pool"] = "collection"
    donor_id: str | None = None
    site_id: str | None = None
    collection_type: str | None = None
    collected_at: datetime
    unit_ids: tuple[str, ...] = ()
    results: tuple[Result, ...] = ()
    donor_group: dict[str, str] = {}
    dispatched_to: tuple[str, ...] = ()
    """Labs the collecting site sent this donation's samples to (``SamplesDispatched``)."""


class LookbackState(_State):
    """What a lookback found: each unit with the sites that held or transfused it and its
    recipient, who acknowledged and who was notified, its deadline and its closure."""

    lookback_id: str
    started_by: str | None = None
    units: dict[str, tuple[str, ...]] = {}
    patients: dict[str, str] = {}
    acknowledged: dict[str, tuple[str, ...]] = {}
    notified: dict[str, tuple[str, ...]] = {}
    deadline: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None


class GroupDetermination(_State):
    """One ABO/RhD determination of a patient's sample, kept for good. ``discordant``: it
    disagreed with a determination before it (a possible wrong blood in tube)."""

    sample_id: str
    abo: str
    rhd: str
    sample_collected_at: datetime
    at: datetime
    site_id: str | None = None
    discordant: bool = False


class PatientAntibody(_State):
    antibody: str
    at: datetime
    site_id: str | None = None


class PatientRequirement(_State):
    """A special requirement (irradiated, CMV-negative...), active until ``until``."""

    requirement: str
    since: datetime
    until: datetime | None = None
    site_id: str | None = None

    def active_at(self, moment: datetime) -> bool:
        return self.until is None or moment < self.until


class GroupStated(_State):
    """A group a hospital gave for the patient on one unit: at a reservation (with its sample
    and crossmatch), at an issue, or on an emergency's follow-up crossmatch. Kept for good:
    while the patient has no recorded group, a later step that states another group is a
    possible wrong blood in tube (RULES §7)."""

    unit_id: str
    step: str
    """``reserved``, ``issued`` or ``crossmatched`` (an emergency's follow-up)."""
    abo: str | None = None
    rhd: str | None = None
    sample_id: str | None = None
    crossmatch: str | None = None
    at: datetime
    site_id: str | None = None

    def disagrees(self, abo: str | None, rhd: str | None) -> bool:
        return (abo is not None and self.abo not in (None, abo)) or (
            rhd is not None and self.rhd not in (None, rhd))


class PatientState(_State):
    """A pseudonymous patient's transfusion record: every group determination, antibody and
    requirement (RULES §7). One record in the country: an antibody or a requirement found at
    one hospital protects the patient at every other.

    The determinations since the last disagreement (``counted_from`` on) are the ones that
    count: after a disagreement none of the earlier ones do, and ``blocked`` holds every
    reservation and issue until a new determination is recorded.
    """

    patient_id: str
    determinations: tuple[GroupDetermination, ...] = ()
    counted_from: int = 0
    blocked: bool = False
    antibodies: tuple[PatientAntibody, ...] = ()
    requirements: tuple[PatientRequirement, ...] = ()
    stated: tuple[GroupStated, ...] = ()
    """Every group given for the patient at a reservation, issue or follow-up crossmatch."""
    last_at: datetime | None = None
    """When the last patient fact was recorded (a reservation or issue does not move it)."""

    @property
    def counted(self) -> tuple[GroupDetermination, ...]:
        return self.determinations[self.counted_from:]

    @property
    def group(self) -> tuple[str, str] | None:
        """The patient's group by the determinations that count, or None (none, or
        blocked)."""
        counted = self.counted
        if self.blocked or not counted:
            return None
        return counted[-1].abo, counted[-1].rhd

    @property
    def confirmed(self) -> bool:
        """Two determinations that count, from different samples, agree (two-sample rule)."""
        return self.group is not None and len({d.sample_id for d in self.counted}) >= 2

    def sample(self, sample_id: str) -> GroupDetermination | None:
        return next((d for d in reversed(self.determinations) if d.sample_id == sample_id),
                    None)

    def reservation(self, unit_id: str) -> GroupStated | None:
        """The latest reservation of ``unit_id`` for this patient."""
        return next((g for g in reversed(self.stated)
                     if g.unit_id == unit_id and g.step == "reserved"), None)

    def active_requirements(self, moment: datetime) -> tuple[str, ...]:
        return tuple(sorted({r.requirement for r in self.requirements if r.active_at(moment)}))


class AccountState(_State):
    """A person's account as the log tells it: who they are, their role and site, and
    whether it is disabled. Credentials are never here (``app.store.accounts``)."""

    user_id: str
    name: str
    role: str
    site_id: str | None = None
    disabled: bool = False
    totp: bool = False


State: TypeAlias = (
    SiteState | DonorState | DonationState | UnitState | LookbackState | PatientState
    | AccountState)

STATE_MODELS: dict[str, type[BaseModel]] = {
    "site": SiteState,
    "donor": DonorState,
    "donation": DonationState,
    "unit": UnitState,
    "lookback": LookbackState,
    "patient": PatientState,
    "account": AccountState,
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
    assert isinstance(loaded, SiteState | DonorState | DonationState | UnitState | LookbackState
                      | PatientState | AccountState)
    return loaded


def get_site(world: World, site_id: str) -> SiteState | None:
    """The site state, or None."""
    state = world.get(("site", site_id))
    return state if type(state) is SiteState else None


def get_donor(world: World, donor_id: str) -> DonorState | None:
    """The donor state, or None."""
    state = world.get(("donor", donor_id))
    return state if type(state) is DonorState else None


def get_donation(world: World, din: str) -> DonationState | None:
    """The donation state, or None."""
    state = world.get(("donation", din))
    return state if type(state) is DonationState else None


def get_unit(world: World, unit_id: str) -> UnitState | None:
    """The unit state, or None."""
    state = world.get(("unit", unit_id))
    return state if type(state) is UnitState else None


def get_lookback(world: World, lookback_id: str) -> LookbackState | None:
    """The lookback state, or None."""
    state = world.get(("lookback", lookback_id))
    return state if type(state) is LookbackState else None


def get_patient(world: World, patient_id: str) -> PatientState | None:
    """The patient's record, or None when nothing was recorded of them."""
    state = world.get(("patient", patient_id))
    return state if type(state) is PatientState else None


def get_account(world: World, user_id: str) -> AccountState | None:
    """A person's account, or None."""
    state = world.get(("account", user_id))
    return state if type(state) is AccountState else None
