"""TOTP (RFC 6238, via ``pyotp``): 6 digits, 30-second steps, one step of clock drift either
way accepted."""

from __future__ import annotations

from datetime import datetime

import pyotp

STEP_SECONDS = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, user_id: str, issuer: str = "bloodtrace") -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=user_id, issuer_name=issuer)


def code_at(secret: str, at: datetime) -> str:
    """The code of the step that holds ``at``."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).at(at)


def verify_code(secret: str, code: str | None, at: datetime) -> bool:
    """Whether ``code`` is the code of the step at ``at`` or of one step either side."""
    if code is None or not code.isdigit():
        return False
    return pyotp.TOTP(secret, interval=STEP_SECONDS).verify(
        code, for_time=at, valid_window=DRIFT_STEPS)
