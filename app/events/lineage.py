"""The lineage graph: donor → donations → units → their children through splits and pools.

``lineage_next`` names the next keys of a closure from one state, so the store can load a
closure in rounds; ``units_of`` walks it inside a decision (a writer's world raises
``StateNotLoaded`` for keys not loaded yet, which is how the closure is fetched lazily).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from app.events.messages import Key
from app.events.state import DonationState, DonorState, State, World, get_unit
from app.events.unit import UnitState


def lineage_next(key: Key, state: State) -> set[Key]:
    """The keys one step further down the lineage from ``state`` (at ``key``)."""
    if type(state) is DonorState:
        return {("donation", d.din) for d in state.donations}
    if type(state) is DonationState:
        # The donor comes along: a result compares the donation's group with theirs.
        donor = {("donor", state.donor_id)} if state.donor_id is not None else set()
        return {("unit", u) for u in state.unit_ids} | donor
    if type(state) is UnitState:
        return {("unit", c) for c in state.children}
    return set()


def units_of(world: World, unit_ids: Iterable[str]) -> list[UnitState]:
    """These units and every unit derived from them, each once, in discovery order."""
    seen: set[str] = set()
    found: list[UnitState] = []
    queue = deque(unit_ids)
    while queue:
        unit_id = queue.popleft()
        if unit_id in seen:
            continue
        seen.add(unit_id)
        unit = get_unit(world, unit_id)
        if unit is None:
            continue
        found.append(unit)
        queue.extend(unit.children)
    return found
