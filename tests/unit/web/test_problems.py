"""Refusals in the user's language: every rule the service can emit has an Arabic and an
English title, and a refused step names its rule and the input at fault."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from app.errors import PatientGroupConflict, SignatureRequired, UnitExpired
from app.web import problems
from app.web.problems import CONTEXT, input_at_fault, refusal, rules_emitted

LOCALE = Path(problems.__file__).resolve().parent / "locale"
ARABIC = re.compile(r"[\u0600-\u06FF]")


def _po(lang: str, path: Path | None = None) -> dict[str, str]:
    """rule → title of one language's problems.po (fuzzy and empty entries left out, as the
    app's loader leaves them out)."""
    with (path or LOCALE / lang / "LC_MESSAGES" / "problems.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {m.id: m.string for m in catalog
            if m.id and m.context == CONTEXT and m.string and not m.fuzzy}


def untitled(lang: str, path: Path | None = None) -> set[str]:
    return set(rules_emitted()) - set(_po(lang, path))


def _translations(lang: str) -> Translations:
    with (LOCALE / lang / "LC_MESSAGES" / "problems.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def test_the_rules_emitted_are_the_error_tree_and_the_edge() -> None:
    rules = rules_emitted()
    assert {"unit-expired", "patient-group-conflict", "signature-required", "outcome-unknown",
            "unavailable", "too-many-requests", "internal-error"} <= rules
    assert len(rules) > 140


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_rule_the_service_can_emit_has_a_title(lang: str) -> None:
    assert untitled(lang) == set()


def test_every_arabic_title_is_arabic() -> None:
    not_arabic = {rule for rule, title in _po("ar").items() if not ARABIC.search(title)}
    assert not_arabic == set()


def test_no_title_is_kept_for_a_rule_that_no_longer_exists() -> None:
    for lang in ("ar", "en"):
        assert set(_po(lang)) - rules_emitted() == set()


def test_a_rule_without_an_arabic_entry_is_found(tmp_path: Path) -> None:
    source = (LOCALE / "ar" / "LC_MESSAGES" / "problems.po").read_text(encoding="utf-8")
    entry = re.search(r'msgctxt "problem"\nmsgid "unit-expired"\nmsgstr "[^"]*"\n', source)
    assert entry is not None
    cut = tmp_path / "problems.po"
    cut.write_text(source.replace(entry.group(0), ""), encoding="utf-8")
    assert untitled("ar", cut) == {"unit-expired"}
    fuzzy = tmp_path / "fuzzy.po"
    fuzzy.write_text(source.replace(entry.group(0), "#, fuzzy\n" + entry.group(0)),
                     encoding="utf-8")
    assert untitled("ar", fuzzy) == {"unit-expired"}


def test_a_refusal_is_titled_in_arabic_with_its_rule_and_field() -> None:
    err = UnitExpired("unit A999926123456-E0398V00 expired at 2026-11-20T09:30:00Z",
                      field="data.unit_id")
    shown = refusal(err, _translations("ar"))
    assert (shown.rule, shown.title) == ("unit-expired", "الوحدة منتهية الصلاحية")
    assert shown.detail == err.detail and shown.input == "unit_id"
    assert shown.marks("unit_id") and not shown.marks("patient_id")
    english = refusal(PatientGroupConflict("A POS given, O NEG reserved", field="data.patient_abo"),
                      _translations("en"))
    assert english.title == PatientGroupConflict.title and english.input == "patient_abo"


def test_a_catalogue_without_the_rule_falls_back_to_the_english_title() -> None:
    shown = refusal(UnitExpired("expired"), Translations())
    assert shown.title == UnitExpired.title


def test_the_input_at_fault() -> None:
    assert input_at_fault("data.bedside_check.unit_scanned") == "bedside_check.unit_scanned"
    assert input_at_fault("signature") == "signature.password"
    assert input_at_fault("signature.meaning") == "signature.password"
    assert input_at_fault("signature.totp") == "signature.totp"
    assert input_at_fault("late_entry_reason") == "late_entry_reason"
    assert input_at_fault("X-CSRF-Token") is None and input_at_fault(None) is None
    marked = refusal(SignatureRequired("sign", field="signature", meaning="release"),
                     Translations())
    assert marked.marks("signature.password") and marked.extra == {"meaning": "release"}
    components = refusal(UnitExpired("x", field="data.components"), Translations())
    assert components.marks("components.0.volume_ml")
