"""The web app's languages: every string shown is in a catalogue, every msgid has its Arabic
translation, and the language is chosen as WEB.md §2 says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.web.i18n import Formats, Languages, choose_language, compile_translations
from tests.support.web_messages import template_paths, unmarked_text, untranslated


@pytest.mark.parametrize("path", template_paths(), ids=lambda p: p.name)
def test_templates_show_no_text_outside_a_translation_call(path: Path) -> None:
    assert unmarked_text(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_unmarked_text() -> None:
    assert unmarked_text('<p>Units in stock</p>{{ _("fine") }}') == ["Units in stock"]
    assert unmarked_text('<input placeholder="Scan here">') == ["Scan here"]
    assert unmarked_text('<p>{% trans %}Hello{% endtrans %} {{ n|number }} · 42</p>') == []
    assert unmarked_text('{# a comment #}<!-- note --><b>{{ _("x") }}</b>') == []


def test_every_msgid_has_an_arabic_translation() -> None:
    assert untranslated("ar") == {}


def test_the_check_finds_a_msgid_without_arabic(tmp_path: Path) -> None:
    ar = tmp_path / "ar" / "LC_MESSAGES"
    ar.mkdir(parents=True)
    (ar / "x.po").write_text('msgid "Stock"\nmsgstr "المخزون"\n\nmsgid "Only in English"\n'
                             'msgstr ""\n\n#, fuzzy\nmsgid "Guessed"\nmsgstr "مخمن"\n',
                             encoding="utf-8")
    missing = untranslated("ar", tmp_path)
    assert "Only in English" in missing and "Guessed" in missing and "Stock" not in missing


def test_catalogues_of_one_language_are_merged(tmp_path: Path) -> None:
    ar = tmp_path / "ar" / "LC_MESSAGES"
    ar.mkdir(parents=True)
    (ar / "a.po").write_text('msgid "One"\nmsgstr "واحد"\n', encoding="utf-8")
    (ar / "b.po").write_text('msgid "Two"\nmsgstr "اثنان"\n', encoding="utf-8")
    merged = compile_translations("ar", tmp_path)
    assert (merged.gettext("One"), merged.gettext("Two")) == ("واحد", "اثنان")


@pytest.mark.parametrize(("query", "cookie", "accept", "chosen"), [
    ("ar", "en", "en", "ar"),
    (None, "ar", "en", "ar"),
    ("xx", None, "ar-SY,en;q=0.8", "ar"),
    (None, None, "fr, en-GB;q=0.9, ar;q=0.8", "en"),
    (None, None, "fr, ar;q=0.9, en;q=0.8", "ar"),
    (None, None, "ar;q=0, en;q=0.1", "en"),
    (None, None, None, "en"),
    (None, None, "de", "en"),
])
def test_the_language_is_the_query_then_the_cookie_then_accept_language(
        query: str | None, cookie: str | None, accept: str | None, chosen: str) -> None:
    assert choose_language(query, cookie, accept) == chosen


def test_numbers_and_dates_are_localised_with_latin_digits() -> None:
    when = dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)
    assert Formats("en").number(12345) == "12,345"
    assert Formats("ar").number(12345) == "12,345"
    assert Formats("en").date(when) == "3 Dec 2026"
    assert Formats("ar").date(when) == "3 ديسمبر 2026"
    assert Formats("en", "Asia/Damascus").datetime(when) == "3 Dec 2026 17:05"
    assert Formats("ar", "UTC").datetime(when.isoformat()) == "3 ديسمبر 2026 14:05"


def test_arabic_pages_are_right_to_left() -> None:
    languages = Languages(globals_={"static_url": lambda name: f"/static/{name}"})
    env = languages.env("ar")
    assert (env.globals["dir"], languages.env("en").globals["dir"]) == ("rtl", "ltr")
    assert env.from_string('{{ _("Sign in") }}').render() == "تسجيل الدخول"


def test_arabic_plurals_take_their_six_forms_after_merging() -> None:
    arabic = compile_translations("ar")
    forms = [arabic.ngettext("%(num)s unit", "%(num)s units", n) for n in (0, 1, 2, 3, 11, 100)]
    assert len(set(forms)) == 5 and forms[1] == "وحدة واحدة" and forms[2] == "وحدتان"


@given(st.text(max_size=200))
def test_any_accept_language_header_picks_a_language(header: str) -> None:
    assert choose_language(None, None, header) in ("en", "ar")
