"""FHIR R5 over HTTP: read, search by DIN, Provenance by target; every answer validated by
the fhir.resources models."""

from __future__ import annotations

from fhir.resources.biologicallyderivedproduct import BiologicallyDerivedProduct
from fhir.resources.bundle import Bundle
from fhir.resources.provenance import Provenance

from app.events.isbt import check_character
from tests.e2e.api_world import Net, din

FHIR_JSON = "application/fhir+json"


async def test_product_read_search_and_provenance_are_valid_r5(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1)
    await net.transfuse(red, "PAT-0001")

    response = await net.get("hospital@H1", f"/v1/fhir/BiologicallyDerivedProduct/{red}")
    assert response.status_code == 200 and response.headers["content-type"] == FHIR_JSON
    product = BiologicallyDerivedProduct.model_validate(response.json())
    assert product.id == red
    assert product.productCode.coding[0].code == "E0398"
    assert product.biologicalSourceEvent.value == din(1)
    assert product.productStatus.code == "unavailable"  # transfused
    assert product.parent[0].reference.endswith(f"{din(1)}-E0001V00")
    assert product.collection.source.identifier.value == "DNR-00001"
    assert product.collection.collectedDateTime is not None
    assert product.storageTempRequirements.high.value == 6

    form = din(1) + check_character(din(1))
    search = await net.get("admin", "/v1/fhir/BiologicallyDerivedProduct",
                           **{"biological-source-event": form})
    bundle = Bundle.model_validate(search.json())
    assert bundle.type == "searchset"
    ids = {e.resource.id for e in bundle.entry}
    assert ids == {f"{din(1)}-E0001V00", red, f"{din(1)}-E2555V00"}
    for entry in bundle.entry:
        BiologicallyDerivedProduct.model_validate(entry.resource.model_dump())

    # A site key's search leaves out units its site never touched: H1 only got the red cells.
    mine = Bundle.model_validate((await net.get(
        "hospital@H1", "/v1/fhir/BiologicallyDerivedProduct",
        **{"biological-source-event": din(1)})).json())
    assert [e.resource.id for e in mine.entry] == [red]

    prov = await net.get("hospital@H1", "/v1/fhir/Provenance",
                         target=f"BiologicallyDerivedProduct/{red}")
    bundle = Bundle.model_validate(prov.json())
    history = (await net.get("hospital@H1", f"/v1/units/{red}/history")).json()["events"]
    assert bundle.total == len(history)
    activities = []
    for entry in bundle.entry:
        resource = Provenance.model_validate(entry.resource.model_dump())
        assert f"BiologicallyDerivedProduct/{red}" in [t.reference for t in resource.target]
        activities.append(resource.activity.coding[0].code)
    assert activities == [e["type"] for e in history]


async def test_fhir_errors_are_problems(client, make_key):
    net = await Net(client, make_key).setup()
    missing = await net.get("admin", f"/v1/fhir/BiologicallyDerivedProduct/{din(4)}-E0398V00")
    assert (missing.status_code, missing.json()["rule"]) == (404, "unit-not-found")
    empty = await net.get("admin", "/v1/fhir/BiologicallyDerivedProduct",
                          **{"biological-source-event": din(4)})
    assert Bundle.model_validate(empty.json()).total == 0
    bad = await net.get("admin", "/v1/fhir/Provenance", target="Patient/PAT-0001-XXXXXX")
    assert (bad.status_code, bad.json()["field"]) == (422, "target")
    assert (await net.get("admin", "/v1/fhir/BiologicallyDerivedProduct")).status_code == 422
