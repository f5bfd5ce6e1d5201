"""Pure identity rules: normalising a national id and a name, the pseudonym, blind indexes
and the salted commitment the log keeps. Nothing here touches a database.

- **National id**: NFKC, every Unicode decimal digit as its ASCII digit (Arabic-Indic digits
  too), spaces, dashes, dots and slashes removed, upper case; what is left must be 4-32 ASCII
  letters and digits.
- **Pseudonym**: ``HMAC-SHA256(pepper, normalised national id)`` as 64 lower-case hex
  characters: the same person gets the same pseudonym at every site.
- **Name**: NFKC, case-folded, runs of white space as one space, trimmed. The blind index of
  name and birth date is ``HMAC-SHA256(pepper, "name-dob\\x00" + name + "\\x00" + date)``;
  the prefix keeps it apart from pseudonyms (a normalised national id holds no ``\\x00``).
- **Commitment**: ``sha256:`` + hex of ``SHA-256(tag ‖ salt ‖ canonical identity JSON)``; the
  salt lives only inside the encrypted identity, so a shredded identity cannot be guessed back
  from the log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date
from typing import Final

import orjson

from app.errors import InvalidInput

_NATIONAL_ID: Final = re.compile(r"[A-Z0-9]{4,32}")
COMMITMENT_TAG: Final = b"bloodtrace identity commitment v1\x00"


def _separator(c: str) -> bool:
    """White space, any dash (Unicode ``Pd``), dots and slashes: how ids are written."""
    return c.isspace() or unicodedata.category(c) == "Pd" or c in "./"


def normalise_national_id(raw: str) -> str:
    """The canonical form of a national id, or ``InvalidInput`` (``national_id``)."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    text = "".join(c for c in text if not _separator(c)).upper()
    if not _NATIONAL_ID.fullmatch(text):
        raise InvalidInput("national_id must be 4-32 letters and digits (spaces and dashes "
                           "are ignored)", field="national_id")
    return text


def normalise_name(raw: str) -> str:
    """The canonical form of a name for look-ups (never stored in clear)."""
    text = " ".join(unicodedata.normalize("NFKC", raw).casefold().split())
    if not text:
        raise InvalidInput("name must not be empty", field="name")
    return text


def pseudonym(pepper: bytes, national_id: str) -> str:
    """The donor's network-wide pseudonym: HMAC-SHA256 of the normalised national id."""
    normalised = normalise_national_id(national_id).encode("ascii")
    return hmac.new(pepper, normalised, hashlib.sha256).hexdigest()


def name_dob_index(pepper: bytes, name: str, birth_date: date) -> bytes:
    """The blind index of a name and a birth date (search without a plaintext column)."""
    message = b"name-dob\x00" + normalise_name(name).encode() + b"\x00" + \
        birth_date.isoformat().encode()
    return hmac.new(pepper, message, hashlib.sha256).digest()


def commitment(identity: dict[str, object], salt: bytes) -> str:
    """The salted commitment to an identity that ``DonorRegistered`` carries."""
    canonical = orjson.dumps(identity, option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(COMMITMENT_TAG + salt + canonical).hexdigest()
