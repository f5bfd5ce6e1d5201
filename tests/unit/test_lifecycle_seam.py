"""The seam with the writer: keys to load, lazy loading, lineage rounds, state round trips,
deterministic decisions, and evolve over stored events."""

from __future__ import annotations

from datetime import UTC, datetime

from app.events.catalogue import default_catalogue
from app.events.domain import LifecycleDomain
from app.events.lineage import lineage_next
from app.events.messages import Command, Key, NewEvent, StateNotLoaded, StoredEvent
from app.events.registry import decide, keys_needed
from app.events.state import State, dump_state, load_state
from tests.support.memory_world import InMemoryWorld
from tests.support.scene import PLATELETS, RED_CELLS, Scene, actor, din, scene


class LazyWorld:
    """Like the writer's world: keys not loaded yet raise StateNotLoaded."""

    def __init__(self, source: InMemoryWorld) -> None:
        self.source = source
        self.loaded: dict[Key, State | None] = {}

    def load(self, keys: list[Key]) -> None:
        for key in keys:
            self.loaded[key] = self.source.get(key)

    def get(self, key: Key) -> State | None:
        if key not in self.loaded:
            raise StateNotLoaded(key)
        return self.loaded[key]


def rounds_to_decide(world: LazyWorld, cmd: Command) -> tuple[list[NewEvent], int]:
    rounds = 0
    while True:
        try:
            return decide(world, cmd, default_catalogue()), rounds
        except StateNotLoaded as missing:
            rounds += 1
            world.load([missing.key])


def closure(source: InMemoryWorld, cmd: Command) -> list[Key]:
    """What a store loader does with keys_needed + lineage_next, round by round."""
    keys: list[Key] = []
    frontier: set[Key] = set()
    for key, deep in keys_needed(cmd):
        keys.append(key)
        if deep:
            frontier.add(key)
    seen = set(keys)
    while frontier:
        nxt: set[Key] = set()
        for key in frontier:
            state = source.get(key)
            if state is not None:
                nxt |= lineage_next(key, state) - seen
        seen |= nxt
        keys.extend(sorted(nxt))
        frontier = nxt
    return keys


def history(s: Scene) -> str:
    parent = s.collect()
    s.split(parent, [(RED_CELLS, "red_cells", 250), (PLATELETS, "platelets", 50)])
    other = s.collect()
    s.split(other, [(RED_CELLS, "red_cells", 250), (PLATELETS, "platelets", 50)])
    for p in (parent, other):
        s.test_all(p.split("-")[0])
    s.do("UnitsPooled", {"parent_unit_ids": [f"{din(1)}-{PLATELETS}", f"{din(2)}-{PLATELETS}"],
                         "din": din(900), "product_code": "E3090V00", "category": "platelets",
                         "volume_ml": 100}, actor("processing", "BB1"))
    return parent


def test_keys_needed_plus_lineage_closure_is_all_a_reactive_result_reads() -> None:
    s = scene()
    history(s)
    cmd = s.command("TestResultRecorded", {"din": din(1), "marker": "HIV", "result": "reactive",
                                           "lab_site_id": "LAB1"}, actor("lab", "LAB1"))
    world = LazyWorld(s.world)
    keys = closure(s.world, cmd)
    assert ("unit", f"{din(900)}-E3090V00") in keys   # reached through the pool
    world.load(keys)
    events, rounds = rounds_to_decide(world, cmd)
    # Only the donor of the donation is discovered lazily (its id is in the donation state).
    assert rounds <= 1
    assert events[0].type == "TestResultRecorded"


def test_lazy_loading_alone_also_reaches_the_answer() -> None:
    s = scene()
    history(s)
    cmd = s.command("LookbackStarted", {"lookback_id": "LB", "din": din(2), "marker": "HIV"},
                    actor("processing", "BB1"))
    lazy, _ = rounds_to_decide(LazyWorld(s.world), cmd)
    assert lazy == decide(s.world, cmd, default_catalogue())


def test_keys_needed_never_raises_on_bad_data() -> None:
    s = scene()
    for type_ in ("DonationCollected", "UnitSplit", "UnitsPooled", "TestResultRecorded",
                  "LookbackStarted", "UnitIssued", "Nope"):
        for data in ({}, {"din": 5, "unit_id": ["x"], "parent_unit_ids": "x"},
                     {"din": "nonsense", "unit_id": "a-b"}):
            # A malformed identifier names no key (decide refuses the command later).
            assert keys_needed(s.command(type_, data)) == [], (type_, data)


def test_keys_needed_for_a_unit_command_names_unit_donation_and_sites() -> None:
    s = scene()
    cmd = s.command("UnitShipped", {"unit_id": f"{din(1)}-E0001V00", "from_site_id": "BB1",
                                    "to_site_id": "H1", "shipment_id": "S"})
    assert {k for k, _ in keys_needed(cmd)} == {
        ("unit", f"{din(1)}-E0001V00"), ("donation", din(1)), ("site", "H1")}


def test_decisions_are_deterministic() -> None:
    s = scene()
    history(s)
    cmd = s.command("LookbackStarted", {"lookback_id": "LB", "din": din(1), "marker": "HIV"},
                    actor("processing", "BB1"))
    assert decide(s.world, cmd, default_catalogue()) == decide(s.world, cmd, default_catalogue())


def test_every_state_round_trips_through_json() -> None:
    s = scene()
    history(s)
    s.do("LookbackStarted", {"lookback_id": "LB", "din": din(1), "marker": "HIV"},
         actor("processing", "BB1"))
    kinds = set()
    for (kind, _), state in s.world.states.items():
        kinds.add(kind)
        assert load_state(kind, dump_state(state)) == state
    assert kinds == {"site", "donor", "donation", "unit", "lookback"}


def test_evolve_over_stored_events_rebuilds_the_same_world() -> None:
    s = scene()
    history(s)
    replay = InMemoryWorld()
    for i, e in enumerate(s.log, start=1):
        replay.apply([stored(e, i)])
    assert replay.states == s.world.states


def test_applying_the_decided_events_again_gives_the_same_world() -> None:
    s = scene()
    s.collect()
    again = InMemoryWorld()
    again.apply(s.log)
    assert again.states == s.world.states


def test_the_domain_adapter_speaks_the_writers_protocol() -> None:
    s = scene()
    domain = LifecycleDomain(default_catalogue())
    cmd = s.command("DonorRegistered", {"donor_id": "DNR-77"}, actor("collector", "BB1"))
    assert domain.keys_needed(cmd) == [(("donor", "DNR-77"), False)]
    [event] = domain.decide(s.world, cmd)
    changes = domain.evolve(s.world, event)
    [(key, state)] = changes.items()
    assert domain.load_state(key[0], domain.dump_state(state)) == state


def stored(e: NewEvent, position: int) -> StoredEvent:
    return StoredEvent(
        position=position, event_id=e.event_id, stream=e.stream, stream_version=1, type=e.type,
        schema_version=e.schema_version, data=e.data, occurred_at=e.occurred_at,
        recorded_at=datetime.now(UTC), actor=e.actor, record=b"", leaf_hash=b"",
        chain_hash=b"",
    )
