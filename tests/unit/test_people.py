"""People (WEB.md §1) without a database: argon2id passwords, the password rules, the lock
after five failures in the window, and TOTP codes inside and outside the step window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.errors import PasswordTooCommon, PasswordTooShort
from app.people import passwords, totp
from app.people.lockout import LockPolicy, is_locked

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_argon2id_round_trip() -> None:
    hashed = passwords.hash_password("plasma fridge at ward 7")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106's 2nd profile
    assert "plasma" not in hashed
    assert passwords.verify_password(hashed, "plasma fridge at ward 7")
    assert not passwords.verify_password(hashed, "plasma fridge at ward 8")
    assert not passwords.verify_password("not a hash", "plasma fridge at ward 7")
    assert passwords.hash_password("plasma fridge at ward 7") != hashed  # salted
    light = passwords.hash_password("plasma fridge at ward 7", passwords.hasher(1, 8192))
    assert light.startswith("$argon2id$v=19$m=8192,t=1,p=4$")
    assert passwords.verify_password(light, "plasma fridge at ward 7")  # its own cost


def test_a_password_shorter_than_the_minimum_is_refused() -> None:
    with pytest.raises(PasswordTooShort) as caught:
        passwords.check_password("elevenchars")
    assert (caught.value.rule, caught.value.field) == ("password-too-short", "password")
    passwords.check_password("twelve chars")
    with pytest.raises(PasswordTooShort):
        passwords.check_password("twelve chars", min_length=16)


@pytest.mark.parametrize("common", ["password1234", "Password1234", "QWERTYUIOP123",
                                    "123456789012", "iloveyou2026"])
def test_a_common_password_is_refused_whatever_its_case(common: str) -> None:
    with pytest.raises(PasswordTooCommon) as caught:
        passwords.check_password(common)
    assert caught.value.rule == "password-common"


def test_no_composition_rules_a_long_lowercase_passphrase_is_fine() -> None:
    passwords.check_password("correct horse battery staple")
    passwords.check_password("a" * 11 + "b")


def test_the_shipped_list_has_a_few_thousand_entries() -> None:
    assert len(passwords.common_passwords()) > 3000


def test_generated_passwords_pass_the_rules_and_differ() -> None:
    made = {passwords.generate_password() for _ in range(20)}
    assert len(made) == 20
    for password in made:
        passwords.check_password(password)


def test_five_failures_in_fifteen_minutes_lock_and_the_lock_lifts_after_the_window() -> None:
    policy = LockPolicy()
    failures = [T0 + timedelta(minutes=3 * i) for i in range(4)]
    assert policy.lock_until(failures, failures[-1]) is None
    failures.append(T0 + timedelta(minutes=14))
    until = policy.lock_until(failures, failures[-1])
    assert until == failures[-1] + timedelta(minutes=15)
    assert is_locked(until, until - timedelta(seconds=1))
    assert not is_locked(until, until)
    assert not is_locked(None, T0)


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    policy = LockPolicy()
    failures = [T0 + timedelta(minutes=4 * i) for i in range(5)]  # 0..16 minutes
    assert policy.failures_in_window(failures, failures[-1]) == 4
    assert policy.lock_until(failures, failures[-1]) is None


def test_totp_accepted_inside_the_step_window_refused_outside() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, T0)
    assert totp.verify_code(secret, code, T0)
    assert totp.verify_code(secret, code, T0 + timedelta(seconds=30))  # one step of drift
    assert totp.verify_code(secret, code, T0 - timedelta(seconds=30))
    assert not totp.verify_code(secret, code, T0 + timedelta(seconds=90))
    assert not totp.verify_code(secret, code, T0 - timedelta(seconds=90))
    assert not totp.verify_code(secret, None, T0)
    assert not totp.verify_code(secret, "12345a", T0)
    assert totp.provisioning_uri(secret, "rana").startswith("otpauth://totp/")
