"""Languages of the web app (WEB.md §2): Arabic (right to left) and English.

Every ``locale/<lang>/LC_MESSAGES/*.po`` is read and compiled in memory when the app starts
(no build step), and the catalogues of one language are merged: each part of the app keeps
its own ``.po``. There is one Jinja environment per language, with that language's
translations and number and date filters installed.

Digits: Western (Latin) digits in both languages. The identifiers people scan and compare
(DINs, product codes, unit ids) are Latin, and mixing Arabic-Indic digits into dates and
counts beside them makes columns hard to compare; month and day names are Arabic.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

LANGUAGES: Final = ("en", "ar")
DEFAULT: Final = "en"
RTL: Final = frozenset({"ar"})
LOCALES: Final = {"en": "en_GB", "ar": "ar"}
"""The Babel locale of each language: British English writes day, month, year."""
DEFAULT_TIME_ZONE: Final = "Asia/Damascus"
LANG_COOKIE: Final = "lang"
ENDONYMS: Final = {"en": "English", "ar": "العربية"}
"""Each language's own name, shown as is in the language switch (never translated)."""
NONE: Final = "\u2013"
"""Shown for a value that is not there (an en dash)."""
HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
TEMPLATE_DIR = HERE / "templates"


def N_(message: str) -> str:
    """Marks a msgid kept in Python code and translated when shown (``_(error)``)."""
    return message


def catalogue_files(lang: str, root: Path = LOCALE_DIR) -> list[Path]:
    """Every ``.po`` of one language, in name order."""
    return sorted((root / lang / "LC_MESSAGES").glob("*.po"))


def _compiled(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


def compile_translations(lang: str, root: Path = LOCALE_DIR) -> Translations:
    """The merged translations of one language, compiled from its ``.po`` files in memory,
    with the language's plural rule (Arabic has six forms). Fuzzy entries are left out, as
    ``msgfmt`` leaves them out."""
    merged = _compiled(Catalog(locale=lang))
    for path in catalogue_files(lang, root):
        with path.open("rb") as fh:
            merged.merge(_compiled(read_po(fh, locale=lang, domain=path.stem)))
    return merged


def choose_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    """``?lang=`` first, then the ``lang`` cookie, then ``Accept-Language``, else English."""
    for chosen in (query, cookie):
        if chosen in LANGUAGES:
            return chosen
    return _from_accept(accept or "")


def _from_accept(header: str) -> str:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-", 1)[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT


@dataclass(frozen=True, slots=True)
class Formats:
    """Localised numbers and dates for one language (Latin digits, see the module), times
    shown in ``time_zone``."""

    lang: str
    time_zone: str = DEFAULT_TIME_ZONE

    @property
    def locale(self) -> Locale:
        return Locale.parse(LOCALES[self.lang])

    def number(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return NONE
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return str(format_decimal(value, format=pattern, locale=self.locale,
                                  numbering_system="latn"))

    def _local(self, value: dt.date | dt.datetime | str) -> dt.date | dt.datetime:
        when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        if isinstance(when, dt.datetime) and when.tzinfo is not None:
            return when.astimezone(ZoneInfo(self.time_zone))
        return when

    def date(self, value: dt.date | dt.datetime | str | None) -> str:
        """``3 Dec 2026`` / ``3 ديسمبر 2026``."""
        if value is None:
            return NONE
        return str(format_skeleton("yMMMd", self._local(value), locale=self.locale))

    def datetime(self, value: dt.datetime | str | None) -> str:
        """``3 Dec 2026 17:05`` (24-hour, in ``time_zone``)."""
        if value is None:
            return NONE
        when = self._local(value)
        assert isinstance(when, dt.datetime)
        return (f"{format_skeleton('yMMMd', when, locale=self.locale)} "
                f"{format_time(when, 'HH:mm', locale=self.locale)}")


class Languages:
    """The compiled catalogues and one Jinja environment per language, built once per app."""

    def __init__(self, template_dir: Path = TEMPLATE_DIR, locale_dir: Path = LOCALE_DIR,
                 globals_: Mapping[str, Any] | None = None,
                 time_zone: str = DEFAULT_TIME_ZONE) -> None:
        ZoneInfo(time_zone)  # an unknown zone stops the start
        self.time_zone = time_zone
        self.translations = {lang: compile_translations(lang, locale_dir) for lang in LANGUAGES}
        self.envs = {lang: self._env(lang, template_dir, globals_ or {}) for lang in LANGUAGES}

    def _env(self, lang: str, template_dir: Path, globals_: Mapping[str, Any]) -> Environment:
        env = Environment(loader=FileSystemLoader(template_dir),
                          autoescape=select_autoescape(default=True, default_for_string=True),
                          extensions=["jinja2.ext.i18n"], undefined=StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)
        env.install_gettext_translations(self.translations[lang], newstyle=True)  # type: ignore[attr-defined]
        formats = Formats(lang, self.time_zone)
        env.filters.update(number=formats.number, datetime=formats.datetime,
                           date=formats.date)
        env.globals.update(globals_, lang=lang, dir="rtl" if lang in RTL else "ltr",
                           endonyms=ENDONYMS)
        return env

    def gettext(self, lang: str, message: str) -> str:
        """A message of Python code (not a template) in ``lang``."""
        return str(self.translations[lang].gettext(message))

    def env(self, lang: str) -> Environment:
        return self.envs[lang]
