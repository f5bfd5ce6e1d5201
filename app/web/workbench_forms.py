"""The workbenches' forms (WEB.md §2.3 to 2.5): one per step, each recording one event type of
the catalogue (``app/events/slices``, ``schemas/``). Labels, hints and option labels are
msgids of ``workbench.po``. A person is offered only the forms of the types their role may
record (``app.events.registry.ROLE_EVENTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from app.errors import DomainError
from app.events.registry import ROLE_EVENTS
from app.web.i18n import N_
from app.web.steps import Field, Form, Scanner, drop_empty_rows

ABO: Final = (("O", "O"), ("A", "A"), ("B", "B"), ("AB", "AB"))
RHD: Final = (("POS", N_("RhD positive")), ("NEG", N_("RhD negative")))
CATEGORIES: Final = (
    ("red_cells", N_("Red cells")), ("plasma", N_("Plasma")), ("platelets", N_("Platelets")),
    ("whole_blood", N_("Whole blood")), ("cryoprecipitate", N_("Cryoprecipitate")),
    ("buffy_coat", N_("Buffy coat")), ("granulocytes", N_("Granulocytes")))
SYSTEMS: Final = (("closed", N_("Closed system")), ("open", N_("Open system")))
YES_NO: Final = (("true", N_("Passed")), ("false", N_("Not passed")))

UNIT = Field("unit_id", N_("Unit"), "scan", hint=N_("Scan the unit: DIN, barcode or unit id"))
PATIENT = Field("patient_id", N_("Patient id (pseudonym)"))


async def _bedside(data: dict[str, Any], values: Mapping[str, str],
                   scan: Scanner) -> dict[str, Any]:
    """The bedside check is two scans, compared here with what is being given: the
    wristband must name the patient and the label must be the unit."""
    check = data.get("bedside_check")
    check = dict(check) if isinstance(check, dict) else {}
    wristband = (values.get("bedside_check.wristband_scanned") or "").strip()
    label = (values.get("bedside_check.unit_scanned") or "").strip()
    check["wristband_scanned"] = bool(wristband) and wristband == data.get("patient_id")
    try:
        check["unit_scanned"] = bool(label) and await scan(
            label, "bedside_check.unit_scanned") == data.get("unit_id")
    except DomainError:
        check["unit_scanned"] = False
    data["bedside_check"] = check
    return data


async def _screened(data: dict[str, Any], values: Mapping[str, str],
              scan: Scanner) -> dict[str, Any]:
    if isinstance(data.get("pass"), str):
        data["pass"] = {"true": True, "false": False}.get(data["pass"], data["pass"])
    return data


HOSPITAL: Final = (
    Form("receive", "UnitReceived", N_("Receive a shipment"), (
        UNIT, Field("shipment_id", N_("Shipment id")),
        Field("temp_dc", N_("Temperature on arrival (tenths of °C)"), "int", required=False,
              hint=N_("For example 45 for 4.5 °C")),
        Field("accepted", N_("Accepted"), "check", required=False, default="on"),
    ), site="site_id", keep=("shipment_id", "temp_dc"),
         note=N_("Each scan records the receipt at once; the form stays open for the next "
                 "unit of the shipment.")),
    Form("group", "PatientGroupDetermined", N_("Record the patient's group"), (
        PATIENT, Field("sample_id", N_("Sample id")),
        Field("abo", N_("ABO"), "select", options=ABO),
        Field("rhd", N_("RhD"), "select", options=RHD),
        Field("sample_collected_at", N_("Sample taken at"), "datetime"),
    )),
    Form("requirement", "PatientRequirementRecorded", N_("Record a requirement"), (
        PATIENT, Field("requirement", N_("Requirement"), "select", options=(
            ("irradiated", N_("Irradiated")), ("washed", N_("Washed")),
            ("cmv_negative", N_("CMV negative")), ("hbs_negative", N_("HBs negative")),
            ("hla_matched", N_("HLA matched")))),
        Field("until", N_("Until"), "date", required=False),
    )),
    Form("antibody", "PatientAntibodyRecorded", N_("Record an antibody"), (
        PATIENT, Field("antibody", N_("Antibody"), hint=N_("For example anti-K")),
    )),
    Form("reserve", "UnitReserved", N_("Reserve or crossmatch"), (
        UNIT, PATIENT,
        Field("patient_abo", N_("Patient ABO"), "select", options=ABO),
        Field("patient_rhd", N_("Patient RhD"), "select", options=RHD),
        Field("crossmatch", N_("Crossmatch"), "select", options=(
            ("compatible", N_("Compatible")), ("electronic", N_("Electronic")),
            ("incompatible", N_("Incompatible")))),
        Field("sample_id", N_("Sample id"), required=False),
    )),
    Form("issue", "UnitIssued", N_("Issue"), (
        UNIT, PATIENT, Field("ward", N_("Ward"), required=False),
        Field("emergency", N_("Emergency issue (uncrossmatched)"), "check", required=False),
        Field("justification", N_("Justification"), required=False),
        Field("physician_id", N_("Physician id"), required=False),
        Field("patient_abo", N_("Patient ABO"), "select", required=False, options=ABO),
        Field("patient_rhd", N_("Patient RhD"), "select", required=False, options=RHD),
        Field("anti_d_prophylaxis", N_("Anti-D prophylaxis given"), "check", required=False),
        Field("override_reason", N_("Override reason"), required=False),
    ), note=N_("An emergency issue and an override are signed.")),
    Form("start", "TransfusionStarted", N_("Bedside check and start"), (
        UNIT, PATIENT,
        Field("bedside_check.wristband_scanned", N_("Scan the patient's wristband"),
              hint=N_("It must name the patient above")),
        Field("bedside_check.unit_scanned", N_("Scan the unit's label at the bedside"),
              hint=N_("It must be the unit above")),
        Field("bedside_check.second_checker_id", N_("Second checker id"), required=False),
    ), finish=_bedside),
    Form("complete", "UnitTransfused", N_("Complete the transfusion"), (
        UNIT, PATIENT, Field("volume_ml", N_("Volume given (mL)"), "int", required=False),
        Field("stopped_reason", N_("Stopped early because"), required=False),
        Field("late_completion_reason", N_("Late completion reason"), required=False),
    )),
    Form("return", "UnitReturned", N_("Return a unit"), (
        UNIT, Field("reason", N_("Reason"), required=False),
        Field("temp_dc", N_("Temperature on return (tenths of °C)"), "int", required=False),
        Field("validated_shipper", N_("Came back in a validated shipper"), "check",
              required=False),
    )),
    Form("reaction", "AdverseReactionReported", N_("Report a reaction"), (
        UNIT, PATIENT,
        Field("reaction_type", N_("Reaction"), "select", options=(
            ("fnhtr", N_("Febrile non-haemolytic")), ("allergic", N_("Allergic")),
            ("anaphylaxis", N_("Anaphylaxis")), ("taco", N_("TACO")), ("trali", N_("TRALI")),
            ("abo_haemolysis", N_("ABO haemolysis")),
            ("other_alloimmune_haemolysis", N_("Other alloimmune haemolysis")),
            ("non_immune_haemolysis", N_("Non-immune haemolysis")),
            ("bacterial_infection", N_("Bacterial infection")),
            ("viral_infection", N_("Viral infection")),
            ("parasitic_infection", N_("Parasitic infection")), ("ptp", N_("PTP")),
            ("ta_gvhd", N_("TA-GvHD")), ("other", N_("Other")))),
        Field("severity", N_("Severity"), "select", options=(
            ("non_severe", N_("Non-severe")), ("severe", N_("Severe")),
            ("life_threatening", N_("Life-threatening")), ("death", N_("Death")))),
        Field("imputability", N_("Imputability"), "select", options=(
            ("not_assessable", N_("Not assessable")), ("excluded", N_("Excluded")),
            ("unlikely", N_("Unlikely")), ("possible", N_("Possible")),
            ("likely", N_("Likely")), ("certain", N_("Certain")))),
        Field("note", N_("Note"), "area", required=False),
    )),
)

MARKERS: Final = tuple((m, m) for m in (
    "HIV", "HBV", "HCV", "SYPHILIS", "HTLV", "ANTI_HBC", "WNV", "MALARIA", "CHAGAS", "HEV",
    "BACTERIA", "CMV", "ABO", "RHD"))
RESULTS: Final = (
    ("non_reactive", N_("Non-reactive")), ("reactive", N_("Reactive")),
    ("indeterminate", N_("Indeterminate")), ("positive", N_("Positive")),
    ("negative", N_("Negative")), *ABO, ("POS", N_("RhD positive")),
    ("NEG", N_("RhD negative")))


def _component(i: int) -> tuple[Field, ...]:
    required = i == 0
    return (Field(f"components.{i}.product_code", N_("Product code"), required=required),
            Field(f"components.{i}.category", N_("Category"), "select", required=required,
                  options=CATEGORIES),
            Field(f"components.{i}.volume_ml", N_("Volume (mL)"), "int", required=required))


BANK: Final = (
    Form("screen", "DonorScreened", N_("Donor screening"), (
        Field("donor_id", N_("Donor id")),
        Field("hb_g_l", N_("Haemoglobin (g/L)"), "int"),
        Field("pass", N_("Result"), "select", options=YES_NO),
        Field("reason", N_("Reason (when not passed)"), required=False),
    ), site="site_id", finish=_screened, phone=True),
    Form("collect", "DonationCollected", N_("Collection"), (
        Field("din", N_("DIN"), "din", hint=N_("Scan the DIN label")),
        Field("donor_id", N_("Donor id")),
        Field("collection_type", N_("Collection type"), "select", options=(
            ("whole_blood", N_("Whole blood")),
            ("apheresis_platelets", N_("Apheresis platelets")),
            ("apheresis_plasma", N_("Apheresis plasma")),
            ("apheresis_red_cells", N_("Apheresis red cells")))),
        Field("product_code", N_("Product code"), default="E0001V00"),
        Field("category", N_("Category"), "select", options=(
            ("whole_blood", N_("Whole blood")), *CATEGORIES[:3])),
        Field("volume_ml", N_("Volume (mL)"), "int", default="450"),
    ), site="site_id", phone=True),
    Form("split", "UnitSplit", N_("Split"), (
        UNIT, Field("system", N_("System"), "select", options=SYSTEMS),
        *_component(0), *_component(1), *_component(2),
    ), finish=drop_empty_rows("components")),
    Form("pool", "UnitsPooled", N_("Pool"), (
        Field("parent_unit_ids", N_("Units to pool, one scan per line"), "lines"),
        Field("din", N_("DIN of the pool"), "din"),
        Field("product_code", N_("Product code")),
        Field("category", N_("Category"), "select", options=CATEGORIES),
        Field("volume_ml", N_("Volume (mL)"), "int"),
    )),
    Form("modify", "UnitModified", N_("Modify"), (
        UNIT, Field("modification", N_("Modification"), "select", options=(
            ("irradiated", N_("Irradiated")), ("washed", N_("Washed")),
            ("thawed", N_("Thawed")), ("leukoreduced", N_("Leukoreduced")),
            ("volume_reduced", N_("Volume-reduced")),
            ("pathogen_reduced", N_("Pathogen-reduced")),
            ("resuspended", N_("Resuspended")))),
        Field("product_code", N_("New product code")),
        Field("system", N_("System"), "select", options=SYSTEMS),
        Field("device_id", N_("Device id"), required=False),
    )),
    Form("result", "TestResultRecorded", N_("Result entry"), (
        Field("din", N_("DIN"), "din", hint=N_("Scan the DIN label")),
        Field("marker", N_("Marker"), "select", options=MARKERS),
        Field("result", N_("Result"), "select", options=RESULTS),
        Field("test_kind", N_("Test"), "select", options=(
            ("screen", N_("Screen")), ("repeat", N_("Repeat")),
            ("confirmatory", N_("Confirmatory")), ("nat", N_("NAT")))),
        Field("sample_id", N_("Sample id"), required=False),
        Field("assay", N_("Assay"), required=False),
        Field("kit_lot", N_("Kit lot"), required=False),
    ), site="lab_site_id"),
    Form("release", "UnitReleased", N_("Release"), (UNIT,),
         note=N_("Release is signed: it certifies every mandatory test is clear.")),
    Form("store", "UnitStored", N_("Storage"), (
        UNIT, Field("location", N_("Location"), hint=N_("For example fridge 3")),
    ), site="site_id"),
    Form("ship", "UnitShipped", N_("Shipping"), (
        UNIT, Field("to_site_id", N_("To site")), Field("shipment_id", N_("Shipment id")),
    ), site="from_site_id"),
)

LOOKBACK: Final = (
    Form("acknowledge", "LookbackAcknowledged", N_("Acknowledge a unit"), (
        Field("lookback_id", N_("Lookback")), UNIT,
    ), site="site_id"),
    Form("notify", "LookbackRecipientNotified", N_("Record a recipient notified"), (
        Field("lookback_id", N_("Lookback")), UNIT, PATIENT,
    )),
    Form("close", "LookbackClosed", N_("Close a lookback"), (
        Field("lookback_id", N_("Lookback")),
        Field("outcome", N_("Outcome"), "select", options=(
            ("recipients_notified", N_("Recipients notified")),
            ("donor_confirmed_negative", N_("Donor confirmed negative")),
            ("recipients_not_traceable", N_("Recipients not traceable")))),
        Field("note", N_("Note"), "area", required=False),
    ), note=N_("Closing a lookback is signed.")),
)

ALL_FORMS: Final = (*HOSPITAL, *BANK, *LOOKBACK)

MEANINGS: Final = (N_("release"), N_("lift hold"), N_("emergency issue"), N_("override"),
                   N_("reinstate donor"), N_("close lookback"))
"""What a signature means (``app.events.signatures``), as the forms show it (``_(meaning)``)."""


def offered(forms: tuple[Form, ...], role: str) -> tuple[Form, ...]:
    """The forms of ``forms`` whose event type ``role`` may record."""
    allowed = ROLE_EVENTS.get(role, frozenset())
    return tuple(f for f in forms if f.event_type in allowed)


def form_named(forms: tuple[Form, ...], name: str) -> Form | None:
    return next((f for f in forms if f.name == name), None)
