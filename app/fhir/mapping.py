"""Unit state, log entries and reaction reports → FHIR R5 ``BiologicallyDerivedProduct``,
``Provenance``, ``AdverseEvent`` and search ``Bundle`` resources, as plain JSON-ready dicts.
Pure: no I/O, no web framework.

References to sites, donors, patients and API keys are logical (by identifier): the service
keeps no Organization or Patient resources, and donors and patients are pseudonyms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from app.fhir import systems as s

JSON = dict[str, Any]


def _time(value: Any) -> str | None:
    """A FHIR dateTime/instant from a datetime or an RFC 3339 string."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _ref(kind: str, system: str, value: str, display: str | None = None) -> JSON:
    ref: JSON = {"type": kind, "identifier": {"system": system, "value": value}}
    if display is not None:
        ref["display"] = display
    return ref


def _site(site_id: str) -> JSON:
    return _ref("Organization", s.SITE_ID, site_id, site_id)


def _celsius(tenths: int) -> JSON:
    value: int | float = tenths // 10 if tenths % 10 == 0 else tenths / 10
    return {"value": value, "unit": "°C", "system": s.UCUM, "code": "Cel"}


def _coding(system: str, code: str, display: str | None = None) -> JSON:
    coding: JSON = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _properties(unit: Mapping[str, Any]) -> list[JSON]:
    props: list[JSON] = []
    abo, rhd = unit.get("abo"), unit.get("rhd")
    if abo is not None and rhd is not None and (abo, rhd) in s.ISBT_GROUP_CODES:
        props.append({
            "type": {"coding": [_coding(s.PROPERTY_TYPE, "aborhd", "ABORhD")]},
            "valueCodeableConcept": {
                "coding": [_coding(s.ISBT_ABO_RHD, s.ISBT_GROUP_CODES[(abo, rhd)])],
                "text": f"{abo} {rhd}"},
        })
    if unit.get("collection_type"):
        props.append({"type": {"coding": [_coding(s.PROPERTY_TYPE, "collectiontype",
                                                  "Collection Type")]},
                      "valueString": str(unit["collection_type"])})
    props.append({"type": {"coding": [_coding(s.LOCAL_PROPERTY, "status")]},
                  "valueCodeableConcept": {"coding": [_coding(s.UNIT_STATUS,
                                                              str(unit["status"]))]}})
    for parent in unit.get("parents") or ():
        step = parent.get("kind") if isinstance(parent, Mapping) else None
        if step is not None:
            # How this product was made from its parent: split, pool, or a modification
            # (irradiated, washed, thawed...): the processing steps, R5 having no element.
            props.append({"type": {"coding": [_coding(s.LOCAL_PROPERTY, "processing")]},
                          "valueCodeableConcept": {"coding": [_coding(s.PROCESSING_STEP,
                                                                      str(step))],
                                                   "text": f"{step} from {parent['unit_id']}"}})
    for attribute in unit.get("attributes") or ():
        props.append({"type": {"coding": [_coding(s.LOCAL_PROPERTY, "attribute")]},
                      "valueCodeableConcept": {"coding": [_coding(s.UNIT_ATTRIBUTE,
                                                                  str(attribute))]}})
    for hold in unit.get("holds") or ():
        props.append({"type": {"coding": [_coding(s.LOCAL_PROPERTY, "hold")]},
                      "valueCodeableConcept": {
                          "coding": [_coding(s.HOLD_CAUSE, str(hold["cause"]))],
                          "text": str(hold["reason"])}})
    if unit.get("transfusion_started_at") is not None:
        # The transfusion as a period from its start (R5 properties take no dateTime).
        props.append({"type": {"coding": [_coding(s.LOCAL_PROPERTY, "transfusion-started")]},
                      "valuePeriod": {"start": _time(unit["transfusion_started_at"])}})
    if unit.get("returned_late"):
        props.append({"type": {"coding": [_coding(s.LOCAL_PROPERTY, "returned-late")]},
                      "valueBoolean": True})
    if unit.get("volume_ml") is not None:
        props.append({"type": {"coding": [_coding(s.LOCAL_PROPERTY, "volume")]},
                      "valueQuantity": {"value": int(unit["volume_ml"]), "unit": "mL",
                                        "system": s.UCUM, "code": "mL"}})
    return props


_PRODUCT_STATUS: dict[str, tuple[str, str]] = {
    "released": ("available", "Available"),
    "reserved": ("allocated", "Allocated"),
    "issued": ("issued", "Issued"),
}
"""Unit status → FHIR R5 ``biologicallyderived-product-status``; a held unit, and every other
status, is ``unavailable``."""


def _product_status(unit: Mapping[str, Any]) -> tuple[str, str]:
    """The FHIR status of a unit. A unit whose transfusion started is in the patient: issued,
    whatever hold was placed since. A held unit, one returned late (it may only be
    discarded), and every status not listed are ``unavailable``."""
    status = str(unit["status"])
    if status == "issued" and unit.get("transfusion_started_at") is not None:
        return _PRODUCT_STATUS["issued"]
    if unit.get("holds") or unit.get("returned_late"):
        return "unavailable", "Unavailable"
    return _PRODUCT_STATUS.get(status, ("unavailable", "Unavailable"))


def product(
    unit: Mapping[str, Any],
    *,
    donation: Mapping[str, Any] | None = None,
    collector: Mapping[str, Any] | None = None,
    storage_dc: tuple[int | None, int | None] | None = None,
) -> JSON:
    """A unit (a row of unit state with ``parents``) as a ``BiologicallyDerivedProduct``.

    ``donation`` gives the collection (donor pseudonym, time, site), ``collector`` the actor
    of the collection event, ``storage_dc`` the category's range in tenths of °C.
    """
    code = str(unit.get("product_code") or "")
    resource: JSON = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": unit["unit_id"],
        "identifier": [{"system": s.UNIT_ID, "value": unit["unit_id"]}],
        "biologicalSourceEvent": {"system": s.ISBT_DIN, "value": unit["din"]},
        "productStatus": _coding(s.PRODUCT_STATUS, *_product_status(unit)),
        "property": _properties(unit),
    }
    category = unit.get("category")
    if category in s.CATEGORY_KIND:
        resource["productCategory"] = _coding(s.PRODUCT_CATEGORY, s.CATEGORY_KIND[category])
    if len(code) == 8:
        resource["productCode"] = {"coding": [_coding(s.ISBT_PRODUCT_CODE, code[:5])],
                                   "text": f"{code} ({category})" if category else code}
        resource["division"] = code[6:]
    parents = [p["unit_id"] for p in unit.get("parents", ())]
    if parents:
        resource["parent"] = [{"reference": f"BiologicallyDerivedProduct/{p}"} for p in parents]
    if unit.get("expires_at") is not None:
        resource["expirationDate"] = _time(unit["expires_at"])
    site = unit.get("collected_site_id") or (donation or {}).get("site_id")
    if site:
        resource["processingFacility"] = [_site(str(site))]
    collection = _collection(unit, donation, collector)
    if collection:
        resource["collection"] = collection
    if storage_dc is not None and storage_dc != (None, None):
        low, high = storage_dc
        resource["storageTempRequirements"] = (
            ({"low": _celsius(low)} if low is not None else {})
            | ({"high": _celsius(high)} if high is not None else {}))
    return resource


def _collection(unit: Mapping[str, Any], donation: Mapping[str, Any] | None,
                collector: Mapping[str, Any] | None) -> JSON:
    collection: JSON = {}
    if collector is not None and collector.get("key_id"):
        collection["collector"] = _ref(
            "PractitionerRole", s.API_KEY, str(collector["key_id"]),
            f"{collector.get('role')} key of {collector.get('site_id') or 'the network'}")
    donor = unit.get("donor_id") or (donation or {}).get("donor_id")
    if donor:
        collection["source"] = _ref("Patient", s.DONOR, str(donor), "donor (pseudonym)")
    collected = unit.get("collected_at") or (donation or {}).get("collected_at")
    if collected is not None:
        collection["collectedDateTime"] = _time(collected)
    return collection


def units_named(data: Mapping[str, Any]) -> list[str]:
    """Every unit id an event's data names (the unit, parents, components, units found)."""
    found: list[str] = []
    if isinstance(data.get("unit_id"), str):
        found.append(data["unit_id"])
    for name in ("parent_unit_ids",):
        found.extend(u for u in data.get(name) or () if isinstance(u, str))
    for name in ("components", "units"):
        found.extend(c["unit_id"] for c in data.get(name) or ()
                     if isinstance(c, Mapping) and isinstance(c.get("unit_id"), str))
    return list(dict.fromkeys(found))


def provenance(entry: Mapping[str, Any], target_unit_id: str | None = None) -> JSON:
    """One log entry (a feed entry) as a ``Provenance``: what happened (``activity``), to
    which units (``target``), when, by which key for which site, with its log position and
    hashes as extensions."""
    data: Mapping[str, Any] = entry.get("data") or {}
    units = units_named(data)
    if target_unit_id is not None and target_unit_id not in units:
        units.insert(0, target_unit_id)
    actor: Mapping[str, Any] = entry.get("actor") or {}
    agent: JSON = {
        "type": {"coding": [_coding(s.PROVENANCE_PARTICIPANT, "author", "Author")]},
        "who": _ref("Device", s.API_KEY, str(actor.get("key_id")),
                    f"{actor.get('role')} key"),
    }
    if actor.get("site_id"):
        agent["onBehalfOf"] = _site(str(actor["site_id"]))
    resource: JSON = {
        "resourceType": "Provenance",
        "id": f"evt-{entry['position']}",
        "extension": [
            {"url": s.LOG_POSITION, "valueInteger64": str(entry["position"])},
            {"url": s.LEAF_HASH, "valueBase64Binary": entry["leaf_hash"]},
            {"url": s.CHAIN_HASH, "valueBase64Binary": entry["chain_hash"]},
        ],
        "target": [{"reference": f"BiologicallyDerivedProduct/{u}"} for u in units]
        or [{"identifier": {"system": s.LOCAL + "NamingSystem/stream",
                            "value": str(entry["stream"])}}],
        "occurredDateTime": _time(entry["occurred_at"]),
        "recorded": _time(entry["recorded_at"]),
        "activity": {"coding": [_coding(s.EVENT_TYPE, str(entry["type"]))],
                     "text": str(entry["type"])},
        "agent": [agent],
    }
    if isinstance(data.get("patient_id"), str):
        resource["patient"] = _ref("Patient", s.PATIENT, data["patient_id"],
                                   "patient (pseudonym)")
    return resource


def _patient_subject(patient_id: Any) -> JSON:
    """The patient as a logical reference, or masked (``data-absent-reason``) when the key
    may not see the pseudonym: ``subject`` is required in R5."""
    if isinstance(patient_id, str):
        return _ref("Patient", s.PATIENT, patient_id, "patient (pseudonym)")
    return {"extension": [{"url": s.DATA_ABSENT_REASON, "valueCode": "masked"}]}


def adverse_event(reaction: Mapping[str, Any], serious_severities: Sequence[str]) -> JSON:
    """A reported transfusion reaction (a row of ``rm_reactions``) as an R5 ``AdverseEvent``:
    the reaction type coded (``uncoded`` with the old record's free text), seriousness from
    the severity, a fatal outcome for a death, the unit as the suspect entity with the
    imputability as its causality, and the reporting site as informant."""
    severity = str(reaction["severity"])
    code = str(reaction["reaction_type"])
    reported = reaction.get("reported_type")
    serious = severity in serious_severities
    resource: JSON = {
        "resourceType": "AdverseEvent",
        "id": str(reaction["event_id"]),
        "extension": [
            {"url": s.LOG_POSITION, "valueInteger64": str(reaction["position"])},
            {"url": s.REACTION_SEVERITY, "valueCode": severity},
        ],
        "identifier": [{"system": s.EVENT_ID, "value": str(reaction["event_id"])}],
        "status": "completed",
        "actuality": "actual",
        "category": [{"coding": [_coding(s.AE_CATEGORY, "transfusion-reaction",
                                         "Transfusion reaction")]}],
        "code": {"coding": [_coding(s.REACTION_TYPE, code, code.replace("_", " "))],
                 "text": str(reported) if reported else code.replace("_", " ")},
        "subject": _patient_subject(reaction.get("patient_id")),
        "occurrenceDateTime": _time(reaction["occurred_at"]),
        "recordedDate": _time(reaction["recorded_at"]),
        "seriousness": {"coding": [_coding(s.AE_SERIOUSNESS, *(
            ("serious", "Serious") if serious else ("non-serious", "Non-serious")))],
            "text": severity.replace("_", " ")},
        "suspectEntity": [{
            "instanceReference": {"reference":
                                  f"BiologicallyDerivedProduct/{reaction['unit_id']}"},
            "causality": {
                "assessmentMethod": {"coding": [_coding(
                    s.CAUSALITY_METHOD, "isbt-imputability",
                    "ISBT haemovigilance imputability")]},
                "entityRelatedness": {"coding": [_coding(
                    s.IMPUTABILITY, str(reaction["imputability"]),
                    str(reaction["imputability"]).replace("_", " "))]},
            },
        }],
    }
    if severity == "death":
        resource["outcome"] = [{"coding": [_coding(s.AE_OUTCOME, "fatal", "Fatal")]}]
    if reaction.get("site_id"):
        resource["participant"] = [{
            "function": {"coding": [_coding(s.PARTICIPATION_TYPE, "INF", "informant")]},
            "actor": _site(str(reaction["site_id"]))}]
    return resource


def searchset(resources: Sequence[JSON], base_url: str, self_url: str) -> JSON:
    """A search result ``Bundle`` of ``resources`` (all matches: no paging)."""
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                   "search": {"mode": "match"}} for r in resources],
    }
