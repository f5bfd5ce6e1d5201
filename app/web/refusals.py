"""The refusals of the look-up pages (unit and scan), said in the person's language with the
rule named. A refused workbench step is rendered by the workbench's own problem view."""

from __future__ import annotations

from typing import Final

from app.api.problems import http_status
from app.errors import (
    DinCheckCharacter,
    DomainError,
    DonationNotFound,
    InvalidDin,
    InvalidProductCode,
    InvalidUnitId,
    SiteScopeViolation,
    UnitNotFound,
)
from app.web.i18n import N_

LOOKUP_REFUSALS: Final[dict[str, str]] = {
    DinCheckCharacter.rule: N_("The check character does not match this DIN (ISO 7064 "
                               "Mod 37-2): scan it again or type it carefully."),
    InvalidDin.rule: N_("This is not a DIN, a barcode or a unit id."),
    InvalidUnitId.rule: N_("This is not a DIN, a barcode or a unit id."),
    InvalidProductCode.rule: N_("The product code of this unit id is not valid."),
    UnitNotFound.rule: N_("No unit has this id."),
    DonationNotFound.rule: N_("No donation has this DIN."),
    SiteScopeViolation.rule: N_("This unit is not in your site's records."),
}
"""rule → msgid"""


def lookup_refusal(error: DomainError) -> tuple[str, str, int] | None:
    """(msgid, rule, HTTP status) of a look-up refusal, the status as the API gives it
    (``app.api.problems.http_status``); None for any other error."""
    message = LOOKUP_REFUSALS.get(error.rule)
    if message is None:
        return None
    return message, error.rule, http_status(error)
