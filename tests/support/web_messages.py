"""What the web app shows people, read from its source: the msgids its templates and Python
code mark for translation, and any text a template shows without marking it."""

from __future__ import annotations

import html
import re
from pathlib import Path

from babel.messages.extract import extract
from jinja2 import Environment, nodes
from jinja2.ext import babel_extract

from app.web.i18n import LANGUAGES, LOCALE_DIR, TEMPLATE_DIR, catalogue_files

WEB = TEMPLATE_DIR.parent
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
_TAG = re.compile(r"<[^>]*>", re.S)
_VISIBLE_ATTR = re.compile(r"\b(placeholder|title|alt|aria-label|aria-description|label)"
                           r"\s*=\s*\"([^\"{]*)\"", re.I)
_WORD = re.compile(r"[^\W\d_]", re.U)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_NOT_SHOWN = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)


def template_paths(root: Path = TEMPLATE_DIR) -> list[Path]:
    return sorted(root.rglob("*.html")) + sorted(root.rglob("*.svg"))


def msgids(root: Path = WEB) -> dict[str, str]:
    """msgid → where it is used, from every template and every Python module of ``root``."""
    found: dict[str, str] = {}
    for path in template_paths(root / "templates"):
        with path.open("rb") as fh:
            for lineno, _, message, _ in babel_extract(fh, KEYWORDS, [], {
                    "extensions": "jinja2.ext.i18n", "trimmed": "false"}):
                text = message[0] if isinstance(message, tuple) else message
                if text:  # a plural's msgid is its singular
                    found.setdefault(text, f"{path.name}:{lineno}")
    for path in sorted(root.rglob("*.py")):
        with path.open("rb") as fh:
            for lineno, message, _, _ in extract("python", fh, KEYWORDS):
                text = message[0] if isinstance(message, tuple) else message
                if text:
                    found.setdefault(text, f"{path.name}:{lineno}")
    return found


def unmarked_text(source: str) -> list[str]:
    """Text a template shows (between tags, or in a visible attribute) that is not inside a
    translation call: literal template data holding a letter."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    data = "".join(node.data for node in env.parse(source).find_all(nodes.TemplateData))
    data = _NOT_SHOWN.sub(" ", _COMMENT.sub(" ", data))
    shown = [m.group(2) for m in _VISIBLE_ATTR.finditer(data)]
    shown += [html.unescape(part) for part in _TAG.sub("\n", data).split("\n")]
    return [text.strip() for text in shown if _WORD.search(text)]


def untranslated(lang: str = "ar", root: Path = LOCALE_DIR) -> dict[str, str]:
    """msgids (used in the source, or in any language's catalogue) with no translation in
    ``lang``'s merged catalogues."""
    from babel.messages.pofile import read_po

    translated: dict[str, bool] = {}
    wanted = dict(msgids())
    for other in LANGUAGES:
        for path in catalogue_files(other, root):
            with path.open("rb") as fh:
                for message in read_po(fh, locale=other):
                    key = message.id[0] if isinstance(message.id, tuple) else message.id
                    if key:
                        wanted.setdefault(key, f"{other}/{path.name}")
                    if other == lang and key:
                        strings = (message.string if isinstance(message.string, tuple)
                                   else (message.string,))
                        translated[key] = translated.get(key, False) or (
                            all(strings) and not message.fuzzy)
    return {key: where for key, where in wanted.items() if not translated.get(key)}
