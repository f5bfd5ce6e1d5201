"""Refusals in the user's language (WEB.md §2): a step the service refused is shown in the
form that asked for it, titled in Arabic or English, with its rule named and the input at
fault marked.

The titles live in ``locale/<lang>/LC_MESSAGES/problems.po`` under the context ``problem``,
keyed by the rule (the problem type's slug, as in ``https://bloodtrace.dev/problems/<rule>``).
The ``detail`` is the domain's own sentence, which names values (a unit id, a time) and is
kept as written, in English. ``rules_emitted`` lists every rule the service can answer
with, so a test can hold the catalogues to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

from app.api.problems import edge_rules
from app.errors import DomainError

CONTEXT: Final = "problem"
"""The ``msgctxt`` of the problem titles in the catalogues."""
_SIGNATURE_INPUT: Final = "signature.password"


class Translations(Protocol):
    def pgettext(self, context: str, message: str) -> str | object: ...


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    found: list[type[DomainError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def rules_emitted() -> frozenset[str]:
    """Every rule a refusal of the service can carry: each ``DomainError`` class's (the
    store's translated driver errors included) and those of the HTTP edge itself."""
    import app.store.errors  # noqa: F401  (its DomainError subclasses must be defined)

    classes: list[type[DomainError]] = [DomainError, *_subclasses(DomainError)]
    # Only the service's own: a test's or a plug-in's subclass is not a rule it emits.
    return frozenset(c.rule for c in classes
                     if c.__module__ == "app" or c.__module__.startswith("app.")) | edge_rules()


def input_at_fault(field: str | None) -> str | None:
    """The form input a refusal's ``field`` points at. Forms name their inputs by the
    envelope path without ``data.`` (``unit_id``, ``bedside_check.unit_scanned``); a
    missing or wrong signature points at the password input."""
    if not field:
        return None
    if field.startswith("data."):
        return field.removeprefix("data.")
    if field == "signature" or field.startswith("signature."):
        return _SIGNATURE_INPUT if field != "signature.totp" else field
    if field in ("occurred_at", "late_entry_reason", "event_id"):
        return field
    return None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused step, ready for a template."""

    rule: str
    title: str
    """In the user's language (the English title when a catalogue lacks the rule)."""
    detail: str
    field: str | None
    input: str | None
    """The name of the form input to mark, when the refusal points at one."""
    extra: dict[str, Any]

    def marks(self, name: str) -> bool:
        """Whether the input named ``name`` is the one at fault (or inside it)."""
        return self.input is not None and (
            name == self.input or name.startswith(self.input + "."))


def title_of(rule: str, fallback: str, translations: Translations) -> str:
    """The rule's title in the language of ``translations``; ``fallback`` when missing."""
    title = translations.pgettext(CONTEXT, rule)
    return title if isinstance(title, str) and title and title != rule else fallback


def refusal(err: DomainError, translations: Translations) -> Refusal:
    """``err`` as the page shows it, in the language of ``translations``."""
    return Refusal(rule=err.rule, title=title_of(err.rule, err.title, translations),
                   detail=err.detail, field=err.field, input=input_at_fault(err.field),
                   extra=dict(err.extra))
