"""The published JSON Schemas in schemas/ are exactly what the event models generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.events.registry import REGISTRY as MODELS
from app.events.schemas_gen import generate, schema_name

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize(("name", "text"), sorted(generate().items()))
def test_committed_schema_matches_the_model(name: str, text: str) -> None:
    path = SCHEMAS / name
    assert path.exists(), f"{name} missing: run python -m app.events.schemas_gen"
    assert path.read_text(encoding="utf-8") == text, (
        f"{name} drifted from its model: run python -m app.events.schemas_gen"
    )


def test_no_stale_schema_files() -> None:
    expected = set(generate())
    assert {p.name for p in SCHEMAS.glob("*.json")} == expected


def test_every_event_type_of_the_catalogue_is_published() -> None:
    v1 = {
        "SiteRegistered", "DonorRegistered", "DonorDeferred", "DonorReinstated",
        "DonationCollected", "UnitSplit", "UnitsPooled", "TestResultRecorded", "UnitReleased",
        "UnitQuarantined", "QuarantineLifted", "UnitStored", "TemperatureExcursionRecorded",
        "UnitShipped", "UnitReceived", "UnitReserved", "ReservationReleased", "UnitIssued",
        "UnitReturned", "UnitTransfused", "AdverseReactionReported", "UnitDiscarded",
        "UnitShippedForFractionation", "LookbackStarted", "LookbackAcknowledged",
    }
    v1_1 = {"PostDonationInformationReceived", "LookbackRecipientNotified", "LookbackClosed",
            "LabServiceAgreed", "SamplesDispatched", "DonorScreened", "UnitModified",
            "PatientGroupDetermined", "PatientAntibodyRecorded", "PatientRequirementRecorded",
            "TransfusionStarted"}
    donor_registry = {"DonorIdentityViewed", "DonorIdentityShredded"}  # issue 19
    catalogue = v1 | v1_1 | donor_registry  # v1.1 (RULES.md) keeps every v1 type and field
    assert set(MODELS) == catalogue
    index = json.loads((SCHEMAS / "index.json").read_text(encoding="utf-8"))
    assert {e["type"] for e in index["events"]} == catalogue
    assert all(e["schema"] == schema_name(e["type"]) for e in index["events"])


def test_the_contract_fields_are_in_each_schema() -> None:
    schema = json.loads((SCHEMAS / "DonationCollected.v1.json").read_text(encoding="utf-8"))
    assert set(schema["required"]) == {"din", "donor_id", "site_id", "collection_type",
                                       "product_code", "category", "volume_ml"}
    assert schema["properties"]["volume_ml"]["type"] == "integer"
    assert schema["additionalProperties"] is False
