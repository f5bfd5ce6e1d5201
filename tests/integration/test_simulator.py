"""The simulator drives the real writer and rules: a small seeded network, with the rare
events made common so that every event type shows up in a few seconds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from app.bootstrap import Services
from app.errors import DomainError
from app.events.registry import REGISTRY as MODELS
from app.log.verify import verify_log
from app.sim.network import NetworkConfig, Rates
from app.sim.runner import send
from app.sim.simulator import Simulator
from app.sim.state import SimConfig
from app.store.batch import AppendResult
from app.store.log_reader import PgLogRows

END = datetime(2026, 3, 1, 12, tzinfo=UTC)

BUSY = Rates(
    reactive=(("HBV", 0.06), ("HCV", 0.02), ("SYPHILIS", 0.02), ("HIV", 0.01)),
    repeat_reactive_factor=1.0,
    repeatedly_reactive_share=0.5,
    confirmed_negative_share=0.5,
    bacteria_reactive=0.05,
    abo_mistype_share=0.05,
    wrong_card_share=0.1,
    lab_outage_share=0.1,
    information_rate=0.04,
    information_risk_share=0.5,
    information_lookback_share=0.5,
    untraceable_share=0.2,
    mistake_share=0.02,
    return_interval_days=(57, 70),
    early_attempt_share=0.05,
    platelet_share=0.6,
    platelet_pool_share=1.0,
    platelet_pool_wait_days=3,
    emergency_share=0.1,
    return_share=0.1,
    returned_late_share=0.05,
    excursion_share=0.03,
    damage_share=0.02,
    inspection_share=0.03,
    reactions_per_1000=(("fnhtr", 20), ("allergic", 20), ("taco", 5), ("anaphylaxis", 2),
                        ("bacterial_infection", 30), ("trali", 15), ("viral_infection", 10)),
    discordant_sample_share=0.05,
    antibody_share=0.1,
    cmv_requirement_share=0.3,
    stopped_share=0.05,
    late_completion_share=0.05,
    shipment_refused_share=0.03,
    receipt_out_of_range_share=0.03,
    irradiated_share=0.15,
    pathogen_reduced_share=0.3,
    erasure_share=0.03,
)
SMALL = SimConfig(network=NetworkConfig(banks=1, rates=BUSY), donations=260, days=100,
                  seed=12, end=END)


async def test_a_simulated_network_goes_through_the_rules(services: Services) -> None:
    sim = Simulator(SMALL)
    refusals: list[DomainError] = []
    for steps in sim.batches():
        outcomes = await send(services.writer, steps)
        assert all(isinstance(o, AppendResult | DomainError) for o in outcomes)
        refusals += [o for o in outcomes if isinstance(o, DomainError)]
        sim.settle(steps, outcomes)
    report = sim.report

    async with services.pool.acquire() as con:
        types = {r["type"] for r in await con.fetch("SELECT DISTINCT type FROM events")}
        head = await con.fetchval("SELECT position FROM log_head")
        steps = {r["kind"]: r["n"] for r in await con.fetch(
            "SELECT kind, count(*) AS n FROM rm_lineage GROUP BY kind")}
        sexes = {r["sex"] for r in await con.fetch(
            "SELECT DISTINCT convert_from(record, 'UTF8')::jsonb -> 'data' ->> 'sex' AS sex "
            "FROM events WHERE type = 'DonorRegistered'")}
        outliving = await con.fetchval(
            "SELECT count(*) FROM rm_lineage l JOIN rm_units p ON p.unit_id = l.parent_unit_id "
            "JOIN rm_units c ON c.unit_id = l.child_unit_id WHERE c.expires_at > p.expires_at")
    assert types == set(MODELS), f"never recorded: {sorted(set(MODELS) - types)}"
    assert {"DonorScreened", "UnitModified"} <= types

    # The v1.1 paths of RULES §4-6: donors of every sex screened (some deferred for low Hb),
    # early returns refused by the interval matrix, modifications at banks and hospitals,
    # arrivals outside the transport range held; no unit outlives its parent.
    assert {"split", "pool", "irradiated", "thawed", "pathogen_reduced"} <= set(steps)
    assert outliving == 0
    assert sexes == {"F", "M", "X", None}
    for path in ("low haemoglobin: screening failed, donor deferred",
                 "red cells irradiated at the blood bank", "platelets irradiated at the blood bank",
                 "platelets pathogen-reduced", "plasma thawed at a hospital",
                 "arrival outside the transport range: held"):
        assert report.paths[path], path
    assert {"donation-interval", "donor-deferred", "donor-screening-failed",
            "donor-screening-required", "din-check-character"} <= set(report.expected_refusals)

    # The patient side (RULES §7-8): patients grouped on two samples (a wrong blood in tube
    # blocks, two fresh samples resolve it), antibodies, requirements met by irradiated and
    # CMV-negative units, emergencies (a massive-haemorrhage pack too) crossmatched after,
    # RhD-positive platelets with anti-D or an override, late and stopped transfusions,
    # holding reactions, late returns; the hospital's mistakes are refused by their rule.
    for path in ("wrong blood in tube: second sample discordant, patient blocked",
                 "discordance resolved by two fresh samples",
                 "antibody found: serological crossmatch only",
                 "reserved for a patient who requires irradiated",
                 "reserved for a patient who requires cmv_negative",
                 "massive-haemorrhage pack issued uncrossmatched",
                 "emergency issue crossmatched afterwards",
                 "transfusion completed late, with its reason", "transfusion stopped",
                 "bacterial_infection: co-components held, donor deferred",
                 "trali: co-components held, donor deferred",
                 "returned late in a validated shipper: back to stock",
                 "returned late: discarded"):
        assert report.paths[path], path
    assert any(p.startswith("RhD-positive platelets to an RhD-negative patient")
               for p in report.paths)
    assert {"two-sample-rule", "patient-group-discordant", "patient-group-conflict",
            "electronic-crossmatch-not-allowed", "emergency-product-not-allowed",
            "bedside-check-failed", "start-window-exceeded", "transfusion-not-started",
            "late-completion-reason-required"} <= set(report.expected_refusals)
    # The sim's haemovigilance tally is what the rules accepted.
    assert sum(report.reactions.values()) == report.accepted["AdverseReactionReported"] > 0
    assert report.units_transfused == report.accepted["UnitTransfused"] > 0

    # Refusals happen (donors back too early, deferred donors) and are typed rule errors;
    # the sim's picture of the network never drifts from what the rules accepted.
    assert report.expected_refusals
    assert len(refusals) == report.refused
    assert not report.unexpectedly_accepted
    assert not report.unexpected_refusals, report.examples
    assert not report.drift, report.examples

    verified = await verify_log(PgLogRows(services.pool))
    assert verified.ok, verified
    assert verified.checked == head >= report.events


def test_the_same_seed_gives_the_same_commands() -> None:
    def commands(config: SimConfig) -> list[tuple[object, ...]]:
        sim = Simulator(config)
        out: list[tuple[object, ...]] = []
        for steps in sim.batches():
            sim.settle(steps, [None] * len(steps))
            out += [(s.type, s.data, s.actor, s.at, s.event_id) for s in steps]
        return out

    first = commands(SMALL)
    assert first == commands(SMALL)
    assert first != commands(replace(SMALL, seed=13))
