"""A refused write as the key that sent it may see it.

The domain decides with the whole network in view, so its refusals may describe a unit held
elsewhere: that it is in transit, met its fate, which site holds it (``custodian_site_id``,
``destination_site_id`` in the problem's extras), or that it does not exist at all. A site
key learns such things only about what it may read. For a command on a unit (its
``data.unit_id``, or a pool's ``data.parent_unit_ids``) the key may not read, every refusal
that depends on the unit becomes one answer, the same whether the unit exists or not: it is
"not held by this key's site" (``not-custodian``). For a donation (``data.din``) the key may
not read, "no such donation" becomes the refusal the domain gives for another site's
donation (``lab-not-serving``, ``lookback-out-of-scope``, else ``site-scope``), without
extras. Refusals of the input itself, of the key's role or acting site, and of a reused
event id come first and are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.api import access
from app.errors import (
    Category,
    DomainError,
    Forbidden,
    IdempotencyConflict,
    LabNotServing,
    LookbackOutOfScope,
    NotCustodian,
    OutcomeUnknown,
    RoleNotAllowed,
    SiteScopeViolation,
    Unavailable,
)
from app.events import isbt
from app.events.messages import Actor
from app.store.conn import Conn

_SUBJECT_FREE_CATEGORIES = frozenset({
    Category.INVALID_INPUT, Category.MALFORMED, Category.TOO_LARGE, Category.UNAUTHENTICATED,
    Category.UNAVAILABLE})
_SUBJECT_FREE = (RoleNotAllowed, IdempotencyConflict)


def _parsed(parse: Any, text: object) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        value: str = parse(text, "subject")
    except DomainError:
        return None
    return value


def _units(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The units a command acts on, with their fields: ``unit_id``, or a pool's parents."""
    parents = data.get("parent_unit_ids")
    named = [("data.unit_id", data.get("unit_id"))] + [
        (f"data.parent_unit_ids[{i}]", x) for i, x in enumerate(
            parents if isinstance(parents, list) else ())]
    return [(unit_id, field) for field, raw in named
            if (unit_id := _parsed(isbt.parse_unit_id, raw)) is not None]


def depends_on_subject(err: DomainError) -> bool:
    """Whether the refusal says something about the command's unit or donation."""
    if err.category in _SUBJECT_FREE_CATEGORIES or isinstance(err, _SUBJECT_FREE):
        return False
    # A key naming another acting site is refused before any unit is looked at.
    return not (type(err) is SiteScopeViolation and err.field != "data.din")


_UNSEEN_DONATION: dict[str, type[Forbidden]] = {
    "TestResultRecorded": LabNotServing, "LookbackStarted": LookbackOutOfScope}
"""What the domain answers a site key for another site's donation, by type: the same answer
stands for a donation that does not exist."""


@dataclass(frozen=True, slots=True)
class Readable:
    """Which of the units and donations named by some refused commands the key may read."""

    units: frozenset[str]
    donations: frozenset[str]


def _donation(data: dict[str, Any], err: DomainError) -> str | None:
    # A command may name a DIN it creates (a collection, a pool): only refusals about the
    # donation itself are the donation's to hide.
    return _parsed(isbt.parse_din, data.get("din")) if err.field == "data.din" else None


def _hides(actor: Actor, data: object, err: DomainError) -> bool:
    return not access.reads_everything(actor) and depends_on_subject(err) and isinstance(
        data, dict)


async def readable(con: Conn, actor: Actor,
                   refused: Sequence[tuple[object, DomainError]]) -> Readable:
    """What ``actor`` may read of the subjects of these refused commands (``(data, err)``):
    the same few queries however many there are, none when nothing depends on them."""
    units: set[str] = set()
    dins: set[str] = set()
    for data, err in refused:
        if _hides(actor, data, err):
            assert isinstance(data, dict)
            units.update(unit_id for unit_id, _ in _units(data))
            if (din := _donation(data, err)) is not None:
                dins.add(din)
    return Readable(
        frozenset(await access.readable_units(con, actor, sorted(units)) if units else ()),
        frozenset(await access.readable_donations(con, actor, sorted(dins)) if dins else ()))


def needs_lookup(actor: Actor, refused: Sequence[tuple[object, DomainError]]) -> bool:
    """Whether ``readable`` would ask the database anything for these refusals."""
    return any(_hides(actor, data, err) for data, err in refused)


def as_seen_by(seen: Readable, actor: Actor, event_type: str, data: object,
               err: DomainError) -> DomainError:
    """``err`` as ``actor`` may see it, for a command of this type and ``data``, given what
    ``readable`` found the key may read."""
    if not _hides(actor, data, err):
        return err
    assert isinstance(data, dict)
    for unit_id, field in _units(data):
        if unit_id not in seen.units:
            return NotCustodian(f"unit {unit_id} is not held by this key's site", field=field)
    din = _donation(data, err)
    if din is None or din in seen.donations:
        return err
    if err.category is Category.NOT_FOUND:
        unseen = _UNSEEN_DONATION.get(event_type, SiteScopeViolation)
        return unseen(f"donation {din} is not within the scope of this key's site",
                      field="data.din")
    if err.extra:
        return type(err)(err.detail, field=err.field)
    return err


def outcome_unknown(event_id: object, err: DomainError) -> DomainError:
    """A write that met an unreachable database may or may not have committed: the client
    learns so, and the ``event_id`` to retry with (a retry is answered with the original
    result when it did commit)."""
    if err.category is not Category.UNAVAILABLE:
        return err
    if isinstance(err, OutcomeUnknown):  # the writer lost the database while committing
        known = OutcomeUnknown(f"{err.detail} ({event_id})", outcome="unknown",
                               event_id=str(event_id))
        known.__cause__ = err.__cause__
        return known
    unknown = Unavailable(f"outcome unknown: retry with the same event_id ({event_id})",
                          outcome="unknown", event_id=str(event_id))
    unknown.__cause__ = err.__cause__
    return unknown
