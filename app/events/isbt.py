"""ISBT 128 identifiers: DIN, product code, unit id and ABO/RhD.

Every parser returns the stored (canonical) spelling or raises ``InvalidInput`` naming the
field and the reason, so a wrong check character, a malformed DIN or an unknown blood group is
a 422 that says what is wrong. The Mod 37-2 check character comes from python-stdnum.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from stdnum.iso7064 import mod_37_2

from app.errors import (
    DinCheckCharacter,
    InvalidDin,
    InvalidProductCode,
    InvalidUnitId,
    UnknownBloodGroup,
)

Abo = Literal["O", "A", "B", "AB"]
RhD = Literal["POS", "NEG"]

# Facility id: 5 characters, the first A-N, P-Z or 1-9 (never O or 0, which would read as a
# data identifier), then 4 alphanumerics; then a 2-digit year and a 6-digit sequence number.
_DIN_BODY: Final = r"[A-NP-Z1-9][A-Z0-9]{4}[0-9]{2}[0-9]{6}"
_DIN_RE: Final = re.compile(_DIN_BODY)
_CHECK_RE: Final = re.compile(_DIN_BODY + r"[0-9A-Z*]")
# Barcode form (data structure 001): "=" + DIN + two flag digits.
_BARCODE_RE: Final = re.compile("=" + _DIN_BODY + r"[0-9]{2}")
# Product code: product description code (letter + 4 digits), type of donation, then the
# division: its first character A-Z or 0, its second a-z or 0.
_PRODUCT_RE: Final = re.compile(r"[A-Z][0-9]{4}[0-9A-Za-z][A-Z0][a-z0]")
_CHECK_SET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
CHECKED_FLAGS: Final = range(60, 97)
"""Flags 60-96 carry 60 + the DIN's Mod 37-2 check value (ISBT 128 ST-001, data structure
001); 00-59 carry other information and are taken as given."""


def folds_into_ascii(value: str) -> bool:
    """Whether upper-casing turns a non-ASCII character into an ASCII one (U+017F long s → "S",
    U+0131 dotless i → "I"): such text would match an identifier it does not spell."""
    return any(not c.isascii() and c.upper().isascii() for c in value)


def barcode(din: str, flags: int | None = None) -> str:
    """The barcode form of a bare DIN: ``=`` + DIN + flags (by default, the check value)."""
    value = 60 + _CHECK_SET.index(check_character(din)) if flags is None else flags
    return f"={din}{value:02d}"


def check_character(din: str) -> str:
    """The ISO/IEC 7064 Mod 37-2 check character of a bare 13-character DIN."""
    return str(mod_37_2.calc_check_digit(din))


def parse_din(value: object, field: str = "din") -> str:
    """Normalise a DIN given bare, with its check character, or in barcode form, to bare."""
    if not isinstance(value, str) or not value.isascii():
        raise InvalidDin(f"{field} must be an ASCII string", field=field)
    text = value.strip().upper()
    if _DIN_RE.fullmatch(text):
        return text
    if _BARCODE_RE.fullmatch(text):
        bare, flags = text[1:14], int(text[14:])
        if flags in CHECKED_FLAGS:
            carried = 60 + _CHECK_SET.index(check_character(bare))
            if flags != carried:
                raise DinCheckCharacter(
                    f"{field}: flags {flags:02d} carry a check value that is wrong for {bare} "
                    f"(expected {carried})", field=field)
        elif flags > CHECKED_FLAGS.stop - 1:
            raise InvalidDin(f"{field}: flags {flags:02d} are not defined (00-96)", field=field)
        return bare
    if _CHECK_RE.fullmatch(text):
        din, given = text[:13], text[13]
        expected = check_character(din)
        if given != expected:
            raise DinCheckCharacter(
                f"{field}: check character {given!r} is wrong for {din} (expected {expected!r})",
                field=field,
            )
        return din
    raise InvalidDin(
        f"{field}: {value!r} is not a DIN (13 characters: facility letter + 4 alphanumerics, "
        "2-digit year, 6-digit sequence; optionally a check character or the '=' barcode form)",
        field=field,
    )


def parse_product_code(value: object, field: str = "product_code") -> str:
    """Validate an 8-character product code such as ``E0398V00``."""
    if not isinstance(value, str) or not _PRODUCT_RE.fullmatch(value.strip()):
        raise InvalidProductCode(
            f"{field}: {value!r} is not an ISBT 128 product code (letter + 4 digits, "
            "type of donation, 2-character division, e.g. E0398V00)",
            field=field,
        )
    return value.strip()


def unit_id_of(din: str, product_code: str) -> str:
    """The unit id: DIN + ``-`` + product code."""
    return f"{din}-{product_code}"


def parse_unit_id(value: object, field: str = "unit_id") -> str:
    """Validate a unit id; the DIN part may carry its check character or barcode form."""
    if not isinstance(value, str) or "-" not in value:
        raise InvalidUnitId(f"{field}: {value!r} is not DIN-product code", field=field)
    din_part, _, code_part = value.strip().rpartition("-")
    din = parse_din(din_part, field)
    code = parse_product_code(code_part, field)
    return unit_id_of(din, code)


def din_of_unit(unit_id: str) -> str:
    """The DIN part of a (valid) unit id."""
    return unit_id.split("-", 1)[0]


# ISBT 128 data structure 002 (Blood Groups [ABO and RhD]), table of "gg" codes. Each group has
# one code per intended-use variant (default, directed, emergency, autologous...): ranges.
_ISBT_GROUP_RANGES: Final[tuple[tuple[int, int, Abo, RhD | None], ...]] = (
    (91, 98, "O", "NEG"),
    (47, 54, "O", "POS"),
    (2, 9, "A", "NEG"),
    (58, 65, "A", "POS"),
    (13, 20, "B", "NEG"),
    (69, 76, "B", "POS"),
    (24, 31, "AB", "NEG"),
    (80, 87, "AB", "POS"),
    (55, 55, "O", None),
    (66, 66, "A", None),
    (77, 77, "B", None),
    (88, 88, "AB", None),
)
_ABO_WORDS: Final[dict[str, Abo]] = {"O": "O", "0": "O", "A": "A", "B": "B", "AB": "AB"}
_RHD_WORDS: Final[dict[str, RhD]] = {
    "+": "POS", "POS": "POS", "POSITIVE": "POS", "RHD+": "POS", "D+": "POS",
    "-": "NEG", "\u2212": "NEG", "NEG": "NEG", "NEGATIVE": "NEG", "RHD-": "NEG", "D-": "NEG",
}


def isbt_group(code: str) -> tuple[Abo, RhD | None] | None:
    """The ABO/RhD of a 2-digit ISBT 128 blood group code (``51`` → O POS), else None."""
    if len(code) != 2 or not code.isdigit():
        return None
    number = int(code)
    for low, high, abo, rhd in _ISBT_GROUP_RANGES:
        if low <= number <= high:
            return abo, rhd
    return None


def parse_abo(value: object, field: str = "abo") -> Abo:
    """ABO from ``O``/``A``/``B``/``AB`` (any case) or an ISBT 128 group code."""
    if isinstance(value, str) and not folds_into_ascii(value):
        text = value.strip().upper()
        if text in _ABO_WORDS:
            return _ABO_WORDS[text]
        coded = isbt_group(text)
        if coded is not None:
            return coded[0]
    raise UnknownBloodGroup(
        f"{field}: {value!r} is not an ABO group (O, A, B, AB or an ISBT 128 code)", field=field
    )


def parse_rhd(value: object, field: str = "rhd") -> RhD:
    """RhD from ``+``/``-``/``POS``/``NEG``/``positive``... or an ISBT 128 group code."""
    if isinstance(value, str) and not folds_into_ascii(value):
        text = value.strip().upper()
        if text in _RHD_WORDS:
            return _RHD_WORDS[text]
        coded = isbt_group(text)
        if coded is not None and coded[1] is not None:
            return coded[1]
    raise UnknownBloodGroup(
        f"{field}: {value!r} is not an RhD type (POS, NEG, +, - or an ISBT 128 code)",
        field=field,
    )


def parse_group(value: object, field: str = "blood_group") -> tuple[Abo, RhD]:
    """A combined group such as ``O NEG``, ``AB+``, ``A pos`` or ISBT ``62`` (A POS)."""
    if isinstance(value, str) and not folds_into_ascii(value):
        text = value.strip().upper()
        coded = isbt_group(text)
        if coded is not None and coded[1] is not None:
            return coded[0], coded[1]
        for abo_text in ("AB", "A", "B", "O", "0"):
            if text.startswith(abo_text):
                rest = text[len(abo_text):].strip()
                if rest in _RHD_WORDS:
                    return _ABO_WORDS[abo_text], _RHD_WORDS[rest]
    raise UnknownBloodGroup(f"{field}: {value!r} is not an ABO/RhD group", field=field)
