"""The FHIR R5 mapping, validated by the fhir.resources models (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from fhir.resources.biologicallyderivedproduct import BiologicallyDerivedProduct
from fhir.resources.bundle import Bundle
from fhir.resources.provenance import Provenance

from app.fhir import mapping
from app.fhir import systems as s

UNIT = {
    "unit_id": "A999925000001-E0398V00", "din": "A999925000001", "product_code": "E0398V00",
    "category": "red_cells", "collection_type": "whole_blood", "donor_id": "DNR-00001",
    "volume_ml": 250, "abo": "A", "rhd": "POS", "status": "released",
    "collected_site_id": "BB1", "collected_at": datetime(2025, 3, 1, 8, tzinfo=UTC),
    "expires_at": datetime(2025, 4, 12, 8, tzinfo=UTC),
    "parents": [{"unit_id": "A999925000001-E0001V00", "kind": "split", "position": 4}],
}
ENTRY = {
    "position": 12, "event_id": "5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11", "type": "UnitIssued",
    "stream": "unit:A999925000001-E0398V00", "stream_version": 5, "schema_version": 1,
    "occurred_at": "2025-03-05T10:00:00.000000Z", "recorded_at": "2025-03-05T10:00:01.000000Z",
    "actor": {"key_id": "3f9c0e1d2a4b5c6d", "role": "hospital", "site_id": "H1"},
    "data": {"unit_id": "A999925000001-E0398V00", "patient_id": "PAT-0001"},
    "leaf_hash": "A" * 43 + "=", "chain_hash": "B" * 43 + "=",
}


def test_a_released_red_cell_unit_is_a_valid_available_product() -> None:
    resource = mapping.product(
        UNIT, donation={"donor_id": "DNR-00001", "site_id": "BB1"},
        collector={"key_id": "k1", "role": "collector", "site_id": "BB1"},
        storage_dc=(20, 60))
    product = BiologicallyDerivedProduct.model_validate(resource)
    assert product.productCode.coding[0].system == s.ISBT_PRODUCT_CODE
    assert product.productCode.coding[0].code == "E0398"
    assert product.biologicalSourceEvent.system == s.ISBT_DIN
    assert product.biologicalSourceEvent.value == "A999925000001"
    assert product.division == "00"
    assert product.productStatus.code == "available"
    assert product.parent[0].reference == "BiologicallyDerivedProduct/A999925000001-E0001V00"
    assert product.expirationDate.isoformat().startswith("2025-04-12T08:00:00")
    assert product.collection.source.identifier.value == "DNR-00001"
    assert product.collection.collector.identifier.value == "k1"
    assert product.storageTempRequirements.low.value == 2
    assert product.storageTempRequirements.high.value == 6
    aborhd = next(p for p in product.property if p.type.coding[0].code == "aborhd")
    assert aborhd.valueCodeableConcept.coding[0].code == "62"


def test_frozen_plasma_has_only_an_upper_bound_and_a_quarantined_unit_is_unavailable() -> None:
    plasma = UNIT | {"category": "plasma", "product_code": "E2555V00", "status": "quarantined",
                     "abo": None, "parents": []}
    resource = mapping.product(plasma, storage_dc=(None, -180))
    product = BiologicallyDerivedProduct.model_validate(resource)
    assert product.productStatus.code == "unavailable"
    assert product.storageTempRequirements.low is None
    assert product.storageTempRequirements.high.value == -18
    assert product.parent is None
    assert product.productCategory.code == "fluid"


def test_an_event_is_a_valid_provenance_naming_key_site_and_patient() -> None:
    resource = mapping.provenance(ENTRY)
    prov = Provenance.model_validate(resource)
    assert prov.id == "evt-12"
    assert [t.reference for t in prov.target] == [
        "BiologicallyDerivedProduct/A999925000001-E0398V00"]
    assert prov.activity.coding[0].code == "UnitIssued"
    assert prov.agent[0].who.identifier.value == "3f9c0e1d2a4b5c6d"
    assert prov.agent[0].onBehalfOf.identifier.value == "H1"
    assert prov.patient.identifier.value == "PAT-0001"


def test_a_split_targets_the_parent_and_every_component() -> None:
    split = ENTRY | {"type": "UnitSplit", "data": {
        "unit_id": "A999925000001-E0001V00", "components": [
            {"unit_id": "A999925000001-E0398V00"}, {"unit_id": "A999925000001-E2555V00"}]}}
    prov = Provenance.model_validate(mapping.provenance(split, "A999925000001-E0398V00"))
    assert len(prov.target) == 3


def test_a_search_is_a_valid_searchset_bundle() -> None:
    bundle = mapping.searchset(
        [mapping.product(UNIT), mapping.provenance(ENTRY)], "http://bt.test/v1/fhir",
        "http://bt.test/v1/fhir/BiologicallyDerivedProduct?biological-source-event=X")
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "searchset" and parsed.total == 2
    assert parsed.entry[0].fullUrl.endswith("/BiologicallyDerivedProduct/" + UNIT["unit_id"])


def test_a_modified_product_shows_its_processing_step_attributes_and_holds() -> None:
    from fhir.resources.biologicallyderivedproduct import BiologicallyDerivedProduct

    resource = mapping.product({
        "unit_id": "A999925000001-E0400V00", "din": "A999925000001",
        "product_code": "E0400V00", "category": "red_cells", "status": "quarantined",
        "abo": "O", "rhd": "NEG", "attributes": ["irradiated"],
        "parents": [{"unit_id": "A999925000001-E0398V00", "kind": "irradiated"}],
        "holds": [{"hold_id": "h1", "cause": "lookback", "reason": "lookback LB-1"}]})
    product = BiologicallyDerivedProduct.model_validate(resource)
    assert product.productStatus.code == "unavailable"
    assert product.productCode.coding[0].code == "E0400"
    values = {p.type.coding[0].code: p.valueCodeableConcept for p in product.property
              if p.valueCodeableConcept is not None}
    assert values["processing"].coding[0].code == "irradiated"
    assert values["attribute"].coding[0].code == "irradiated"
    assert values["hold"].coding[0].code == "lookback"
