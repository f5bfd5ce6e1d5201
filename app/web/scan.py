"""What a barcode scanner (or a person) types into an identifier field, read as the unit or
donation it names (WEB.md §2): a DIN bare, a DIN with its ISO 7064 Mod 37-2 check
character, the ``=`` + DIN + flags barcode, or a unit id (DIN in any of those forms, ``-``,
product code). The ISBT 128 rules are ``app.events.isbt``'s: a wrong check character is a
``DinCheckCharacter`` refusal, anything else unreadable an ``InvalidInput`` one."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import InvalidDin
from app.events import isbt

MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Scanned:
    """The bare DIN, and the unit id when the text named one unit."""

    din: str
    unit_id: str | None = None


def read_scan(text: str, field: str = "q") -> Scanned:
    """The donation or unit ``text`` names. Surrounding blanks, a scanner's trailing
    control characters and lower case are forgiven; nothing else is guessed."""
    cleaned = text.strip().strip("\r\n\t\x00")
    if not cleaned or len(cleaned) > MAX_LENGTH:
        raise InvalidDin(f"{field}: scan or type a DIN, a barcode or a unit id", field=field)
    if "-" in cleaned:
        unit_id = isbt.parse_unit_id(cleaned, field)
        return Scanned(isbt.din_of_unit(unit_id), unit_id)
    return Scanned(isbt.parse_din(cleaned, field))
