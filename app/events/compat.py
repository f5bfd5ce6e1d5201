"""ABO/RhD compatibility of a unit with a patient, per component category, as tables.

Red cells (and whole blood and granulocytes, which carry red cells) must carry no antigen the
patient has antibodies to: a group O patient gets O only. Plasma is the reverse: it must carry
no antibody to the patient's antigens, so AB plasma suits everyone. Platelets and
cryoprecipitate are given across ABO groups in adult practice, so any group is accepted.
"""

from __future__ import annotations

from typing import Final

RED_CELLS_ABO: Final[dict[str, frozenset[str]]] = {
    "O": frozenset({"O"}),
    "A": frozenset({"A", "O"}),
    "B": frozenset({"B", "O"}),
    "AB": frozenset({"AB", "A", "B", "O"}),
}
"""Patient ABO → unit ABO groups it may receive as red cells."""

PLASMA_ABO: Final[dict[str, frozenset[str]]] = {
    "O": frozenset({"O", "A", "B", "AB"}),
    "A": frozenset({"A", "AB"}),
    "B": frozenset({"B", "AB"}),
    "AB": frozenset({"AB"}),
}
"""Patient ABO → unit ABO groups it may receive as plasma."""

WHOLE_BLOOD_ABO: Final[dict[str, frozenset[str]]] = {g: frozenset({g}) for g in RED_CELLS_ABO}
"""Whole blood carries both cells and plasma: identical ABO only."""

_ANY: Final = frozenset({"O", "A", "B", "AB"})

ABO_TABLES: Final[dict[str, dict[str, frozenset[str]]]] = {
    "red_cells": RED_CELLS_ABO,
    "granulocytes": RED_CELLS_ABO,
    "whole_blood": WHOLE_BLOOD_ABO,
    "plasma": PLASMA_ABO,
    "platelets": {g: _ANY for g in RED_CELLS_ABO},
    "cryoprecipitate": {g: _ANY for g in RED_CELLS_ABO},
}

RHD_MATTERS: Final = frozenset({"red_cells", "whole_blood", "granulocytes"})
"""Categories whose RhD must match: an RhD-negative patient gets RhD-negative units only."""


def compatible(category: str, unit_abo: str, unit_rhd: str, patient_abo: str,
               patient_rhd: str) -> bool:
    """Whether a unit of ``category`` may be given to a patient of that group."""
    if unit_abo not in ABO_TABLES[category][patient_abo]:
        return False
    return not (category in RHD_MATTERS and patient_rhd == "NEG" and unit_rhd != "NEG")


def emergency_allowed(category: str, unit_abo: str, unit_rhd: str,
                      known: tuple[str, str] | None, *, group_a_plasma: bool = False) -> bool:
    """Uncrossmatched emergency issue (RULES §7): platelets of any group; group-specific (or
    compatible) components when the patient's group is ``known``; otherwise group O RhD
    negative red cells, or group AB plasma (group A too when the catalogue allows)."""
    if category == "platelets":
        return True
    if known is not None:
        return compatible(category, unit_abo, unit_rhd, *known)
    if category == "red_cells":
        return unit_abo == "O" and unit_rhd == "NEG"
    if category == "plasma":
        return unit_abo == "AB" or (group_a_plasma and unit_abo == "A")
    return False
