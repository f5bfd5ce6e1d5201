"""The words people see for the service's codes (statuses, categories, event types, hold
causes, fates and reasons, lineage and custody steps). Each label is a msgid of ``web.po``:
a template shows ``_(term(code))``; a code without a label is shown as it is."""

from __future__ import annotations

from typing import Final

from app.web.i18n import N_

TERMS: Final[dict[str, str]] = {
    # statuses
    "unreleased": N_("Not released"), "quarantined": N_("Quarantined"),
    "released": N_("Released"), "reserved": N_("Reserved"), "issued": N_("Issued"),
    "in_transit": N_("In transit"), "consumed": N_("Used to make other units"),
    "transfused": N_("Transfused"), "discarded": N_("Discarded"),
    "fractionated": N_("Sent for fractionation"),
    "reservation_released": N_("Reservation released"), "returned": N_("Returned"),
    # categories
    "whole_blood": N_("Whole blood"), "red_cells": N_("Red cells"),
    "platelets": N_("Platelets"), "plasma": N_("Plasma"),
    "cryoprecipitate": N_("Cryoprecipitate"), "granulocytes": N_("Granulocytes"),
    "buffy_coat": N_("Buffy coat"),
    # hold causes
    "test": N_("Test result"), "abo_discrepancy": N_("ABO discrepancy"),
    "lookback": N_("Lookback"), "post_donation_information": N_("Post-donation information"),
    "adverse_reaction": N_("Adverse reaction"), "temperature": N_("Temperature"),
    "receipt": N_("Receipt check"), "recall": N_("Recall"), "manual": N_("Manual hold"),
    # discard reasons
    "expired": N_("Expired"), "reactive_test": N_("Reactive test"), "damaged": N_("Damaged"),
    "recalled": N_("Recalled"), "returned_late": N_("Returned late"), "other": N_("Other"),
    # lineage and custody steps
    "split": N_("Split"), "pool": N_("Pooled"), "pooled": N_("Pooled"),
    "shipped": N_("Shipped"), "received": N_("Received"), "irradiated": N_("Irradiated"),
    "washed": N_("Washed"), "thawed": N_("Thawed"), "leukoreduced": N_("Leukoreduced"),
    "volume_reduced": N_("Volume reduced"), "pathogen_reduced": N_("Pathogen reduced"),
    "resuspended": N_("Resuspended"), "site": N_("At site"),
    # test results
    "non_reactive": N_("Non-reactive"), "reactive": N_("Reactive"),
    "indeterminate": N_("Indeterminate"), "screen": N_("Screen"), "nat": N_("NAT"),
    "confirmatory": N_("Confirmatory"), "positive": N_("Positive"), "negative": N_("Negative"),
    # event types of a unit's life
    "DonationCollected": N_("Collected"), "UnitSplit": N_("Split into components"),
    "UnitsPooled": N_("Pooled"), "UnitModified": N_("Modified"), "UnitStored": N_("Stored"),
    "TestResultRecorded": N_("Test result recorded"), "UnitReleased": N_("Released"),
    "UnitQuarantined": N_("Quarantined"), "QuarantineLifted": N_("Hold lifted"),
    "UnitShipped": N_("Shipped"), "UnitReceived": N_("Received"),
    "UnitReserved": N_("Reserved for a patient"),
    "ReservationReleased": N_("Reservation released"), "UnitIssued": N_("Issued"),
    "TransfusionStarted": N_("Transfusion started"), "UnitTransfused": N_("Transfused"),
    "UnitReturned": N_("Returned"), "UnitDiscarded": N_("Discarded"),
    "UnitShippedForFractionation": N_("Shipped for fractionation"),
    "TemperatureExcursionRecorded": N_("Temperature excursion"),
    "AdverseReactionReported": N_("Adverse reaction reported"),
    "LookbackStarted": N_("Lookback started"), "LookbackAcknowledged": N_("Lookback acknowledged"),
    "LookbackClosed": N_("Lookback closed"),
}


def term(code: object) -> str:
    """The msgid of a code's label, or the code itself."""
    text = "" if code is None else str(code)
    return TERMS.get(text, text)
