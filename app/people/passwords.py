"""Passwords: argon2id hashes (``argon2-cffi``), the two rules (a minimum length and not a
common password, as NIST SP 800-63B asks, and no composition rules) and generated passwords.
"""

from __future__ import annotations

import secrets
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors import PasswordTooCommon, PasswordTooShort

MIN_LENGTH = 12
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/l/I: a generated password is read off a screen and typed once."""


TIME_COST = 3
MEMORY_KIB = 64 * 1024
"""argon2-cffi's defaults: RFC 9106's second recommended profile (argon2id, 3 passes over
64 MiB, 4 lanes)."""


@cache
def hasher(time_cost: int = TIME_COST, memory_kib: int = MEMORY_KIB) -> PasswordHasher:
    """An argon2id hasher of this cost. A hash names its own cost, so verifying one never
    depends on the cost configured now."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    text = files("app.people").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check_password(password: str, min_length: int = MIN_LENGTH) -> None:
    """Refuse a password shorter than ``min_length`` characters or on the common list."""
    if len(password) < min_length:
        raise PasswordTooShort(f"a password has at least {min_length} characters",
                               field="password", min_length=min_length)
    if password.lower() in common_passwords():
        raise PasswordTooCommon("this password is on the list of common passwords",
                                field="password")


def hash_password(password: str, using: PasswordHasher | None = None) -> str:
    """The argon2id PHC string of ``password`` (salted; slow on purpose)."""
    return (using or hasher()).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; never raises on a wrong one."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password(length: int = 20) -> str:
    """A random password that passes the rules (about 116 bits for 20 characters)."""
    while True:
        made = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if made.lower() not in common_passwords():
            return made
