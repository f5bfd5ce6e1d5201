"""The code systems and identifier namespaces the FHIR views use."""

from __future__ import annotations

from typing import Final

ISBT_PRODUCT_CODE: Final = "https://www.isbt128.org/uri/ProductDescriptionCode"
"""ISBT 128 product description codes (as in the FHIR R5 BiologicallyDerivedProduct example)."""
ISBT_DIN: Final = "https://www.isbt128.org/uri/donationidentificationnumber"
ISBT_ABO_RHD: Final = "https://www.isbt128.org/uri/ABORhD"
PRODUCT_STATUS: Final = "http://hl7.org/fhir/biologicallyderived-product-status"
PRODUCT_CATEGORY: Final = "http://hl7.org/fhir/product-category"
PROPERTY_TYPE: Final = "http://hl7.org/fhir/biologicallyderived-product-property-type-codes"
PROVENANCE_PARTICIPANT: Final = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
UCUM: Final = "http://unitsofmeasure.org"
AE_SERIOUSNESS: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_OUTCOME: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
PARTICIPATION_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
DATA_ABSENT_REASON: Final = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

LOCAL: Final = "https://bloodtrace.dev/fhir/"
UNIT_ID: Final = LOCAL + "NamingSystem/unit-id"
SITE_ID: Final = LOCAL + "NamingSystem/site-id"
API_KEY: Final = LOCAL + "NamingSystem/api-key"
DONOR: Final = LOCAL + "NamingSystem/donor-pseudonym"
PATIENT: Final = LOCAL + "NamingSystem/patient-pseudonym"
UNIT_STATUS: Final = LOCAL + "CodeSystem/unit-status"
HOLD_CAUSE: Final = LOCAL + "CodeSystem/hold-cause"
PROCESSING_STEP: Final = LOCAL + "CodeSystem/processing-step"
UNIT_ATTRIBUTE: Final = LOCAL + "CodeSystem/unit-attribute"
LOCAL_PROPERTY: Final = LOCAL + "CodeSystem/unit-property"
EVENT_TYPE: Final = LOCAL + "CodeSystem/event-type"
EVENT_ID: Final = LOCAL + "NamingSystem/event-id"
AE_CATEGORY: Final = LOCAL + "CodeSystem/adverse-event-category"
REACTION_TYPE: Final = LOCAL + "CodeSystem/reaction-type"
"""The coded reaction types of RULES §8 (the EU annual-report categories, FNHTR and allergic),
and ``uncoded`` for the free-text types of old records."""
IMPUTABILITY: Final = LOCAL + "CodeSystem/imputability"
CAUSALITY_METHOD: Final = LOCAL + "CodeSystem/causality-method"
REACTION_SEVERITY: Final = LOCAL + "StructureDefinition/reaction-severity"
LOG_POSITION: Final = LOCAL + "StructureDefinition/log-position"
LEAF_HASH: Final = LOCAL + "StructureDefinition/leaf-hash"
CHAIN_HASH: Final = LOCAL + "StructureDefinition/chain-hash"

# The default ("intended use not specified") ISBT 128 ABO/RhD code of each group.
ISBT_GROUP_CODES: Final = {
    ("O", "NEG"): "95", ("O", "POS"): "51", ("A", "NEG"): "06", ("A", "POS"): "62",
    ("B", "NEG"): "17", ("B", "POS"): "73", ("AB", "NEG"): "28", ("AB", "POS"): "84",
}
CATEGORY_KIND: Final = {
    "whole_blood": "fluid", "red_cells": "cells", "platelets": "cells", "granulocytes": "cells",
    "plasma": "fluid", "cryoprecipitate": "fluid",
}
