"""Running a simulation through the service's own writer.

Each step becomes a ``Command`` exactly as the HTTP edge builds one (``command_from_json``,
as the step's person, signed where the step needs it), and goes through
``Writer.append_many``: the same decide, the same rules, the same hash chain and the same
inline read models as an API request. No row is ever inserted behind the writer's back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from app.api.body import command_from_json
from app.errors import DomainError
from app.events.catalogue import default_catalogue
from app.events.messages import Command
from app.events.signatures import signed
from app.log.record import format_time
from app.sim.model import Step
from app.sim.simulator import Outcome, SimReport, Simulator
from app.sim.state import SimConfig
from app.store.writer import AppendResult, Writer
from app.vault.service import Identity, Vault

BACKFILL = "simulated history (backfill)"
"""Why a simulated step is recorded long after the moment it stands for (RULES §1)."""
LATE_ENTRY = default_catalogue().late_entry


def is_late(step: Step, now: datetime, bound: timedelta = LATE_ENTRY) -> bool:
    """Whether ``step`` is dated further back than the late-entry bound allows."""
    return step.at < now - bound


def to_command(step: Step, now: datetime) -> tuple[Command, bytes]:
    """The command an integrator would send for ``step``, as its key, with the late-entry
    reason when it is dated before the bound (DomainError if the envelope itself is
    wrong)."""
    raw: dict[str, Any] = {"type": step.type, "data": step.data,
                           "event_id": str(step.event_id), "occurred_at": format_time(step.at)}
    if is_late(step, now):
        raw["late_entry_reason"] = BACKFILL
    cmd, content, _ = command_from_json(raw, step.actor, now)
    return signed(cmd), content


async def send(writer: Writer, steps: Sequence[Step], vault: Vault | None = None
               ) -> list[Outcome]:
    """Append the steps in order, each accepted (where it landed) or refused on its own. A
    registration with an identity goes through the vault (``Vault.register``, as
    ``POST /v1/donors``); the steps around it are sent before and after it, in order."""
    outcomes: list[Outcome] = []
    plain: list[Step] = []
    for step in steps:
        if vault is None or not (step.identity is not None or step.type in THROUGH_VAULT):
            plain.append(step)
            continue
        outcomes += await _send_plain(writer, plain)
        plain = []
        outcomes.append(await _through_vault(vault, step))
    return outcomes + await _send_plain(writer, plain)


THROUGH_VAULT = ("DonorIdentityViewed", "DonorIdentityShredded")
"""Step types a vault records itself when there is one: reading and erasing identities."""


async def _through_vault(vault: Vault, step: Step) -> Outcome:
    """A registration, identity read or erasure as the vault performs it (the service's
    own path, as ``POST /v1/donors``, ``GET .../identity`` and ``donors shred``)."""
    late = BACKFILL if is_late(step, datetime.now(UTC)) else None
    envelope = {"event_id": str(step.event_id), "occurred_at": format_time(step.at)} | (
        {"late_entry_reason": late} if late else {})
    donor_id = str(step.data["donor_id"])
    try:
        if step.identity is not None:
            done = await vault.register(step.actor, Identity(**step.identity),
                                        occurred_at=step.at, late_entry_reason=late)
            return done.result
        if step.type == "DonorIdentityViewed":
            await vault.read(step.actor, donor_id, str(step.data["purpose"]), envelope=envelope)
            return None
        return await vault.shred(step.actor, donor_id, str(step.data["reason"]),
                                 envelope=envelope)
    except DomainError as err:
        return err


async def _send_plain(writer: Writer, steps: Sequence[Step]) -> list[Outcome]:
    if not steps:
        return []
    now = datetime.now(UTC)
    outcomes: dict[int, AppendResult | DomainError] = {}
    commands: list[tuple[int, tuple[Command, bytes]]] = []
    for i, step in enumerate(steps):
        try:
            commands.append((i, to_command(step, now)))
        except DomainError as err:
            outcomes[i] = err
    results = await writer.append_many([c for _, c in commands])
    for (i, _), result in zip(commands, results, strict=True):
        outcomes[i] = result
    return [outcomes[i] for i in range(len(steps))]


async def run_simulation(
    writer: Writer,
    config: SimConfig,
    on_day: Callable[[int], None] | None = None,
    *,
    whole_days: bool = False,
    vault: Vault | None = None,
) -> SimReport:
    """Simulate ``config`` through ``writer``; refusals are counted in the report, never
    raised. Anything that is not a DomainError (the database is gone) propagates.
    ``whole_days`` sends a day at a time (see ``Simulator.batches``). With ``vault``, new
    donors are registered through it with fictional identities (``app.sim.people``); the
    steps are then the same for the same seed and the same pepper."""
    sim = Simulator(config, vault.pseudonym if vault is not None else None)
    for steps in sim.batches(on_day, whole_days=whole_days):
        now = datetime.now(UTC)
        sim.report.late_entries += sum(is_late(step, now) for step in steps)
        sim.settle(steps, await send(writer, steps, vault))
    return sim.report
