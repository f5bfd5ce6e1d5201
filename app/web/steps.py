"""A workbench form and the step it asks for: pure functions from the submitted fields to
the event's type and data, exactly as ``POST /v1/events`` takes them.

Each input is named by its path in the event's data (``unit_id``,
``bedside_check.second_checker_id``, ``components.0.volume_ml``), so a refusal's ``field``
(``data.unit_id``) marks the input at fault (``app.web.problems``). Values are converted
only as far as a form must (numbers, check boxes, lists, a scanned unit); everything else —
missing fields, wrong values, every rule — is the domain's to refuse, with its own rule.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from app.events.signatures import SIGNED_TYPES
from app.web.i18n import N_
from app.web.record import Step, new_event_id

Kind = Literal["scan", "din", "text", "int", "select", "check", "date", "datetime", "lines",
               "area"]
Scanner = Callable[[str, str], Awaitable[str]]
"""(scanned text, input name) → the unit id it names; raises a DomainError for the field.
It may read the site's stock (a DIN alone names the one unit of it held there)."""
Finish = Callable[[dict[str, Any], Mapping[str, str], Scanner], Awaitable[dict[str, Any]]]

_INTEGER = re.compile(r"^[+-]?[0-9]{1,9}$")
_LOCAL_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")


@dataclass(frozen=True, slots=True)
class Field:
    """One labelled input. ``label`` and ``hint`` are msgids of ``workbench.po``;
    ``options`` are (value, label msgid)."""

    name: str
    label: str
    kind: Kind = "text"
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()
    hint: str | None = None
    default: str = ""

    @property
    def input_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass(frozen=True, slots=True)
class Form:
    """A workbench form: the event type it records and its inputs. ``site`` is the data
    field filled with the person's own site (shown as an input only to a person without
    one: an admin)."""

    name: str
    event_type: str
    title: str
    fields: tuple[Field, ...]
    site: str | None = None
    finish: Finish | None = None
    note: str | None = None
    phone: bool = False
    """Laid out for a phone first (the mobile collection unit)."""
    keep: tuple[str, ...] = ()
    """Inputs whose values the next form starts with (the shipment being scanned in)."""

    @property
    def signed(self) -> bool:
        """Whether the form asks for the signature block (the step is signed in some case:
        ``app.events.signatures``; the domain says whether this one needed it)."""
        return self.event_type in SIGNED_TYPES

    def site_input(self, site_id: str | None) -> Field | None:
        """The site input, for a person with no site of their own."""
        if self.site is None or site_id is not None:
            return None
        return Field(self.site, N_("Site"))

    def inputs(self, site_id: str | None) -> tuple[Field, ...]:
        extra = self.site_input(site_id)
        return self.fields if extra is None else (extra, *self.fields)


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted path; a numeric part is a list index."""
    parts = path.split(".")
    here: Any = data
    for part, following in zip(parts, [*parts[1:], None], strict=True):
        if following is None:
            here[part if isinstance(here, dict) else int(part)] = value
            return
        child: Any = [] if following.isdigit() else {}
        if isinstance(here, dict):
            here = here.setdefault(part, child)
        else:
            index = int(part)
            while len(here) <= index:
                here.append([] if following.isdigit() else {})
            here = here[index]


def _integer(text: str) -> int | str:
    # Anything else is passed on as typed: the event's schema refuses it, naming the field.
    return int(text) if _INTEGER.fullmatch(text) else text


def _local_time(text: str, zone: str) -> str:
    # A datetime-local input has no zone: it is the time on the wall clock, in the zone the
    # pages show times in (``app.web.i18n``).
    if not _LOCAL_TIME.fullmatch(text):
        return text
    try:
        wall = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        return text
    return wall.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def value_of(item: Field, raw: str | None, scan: Scanner, zone: str = "UTC") -> Any:
    """One input's value for the event's data, or None to leave the field out."""
    if item.kind == "check":
        return raw is not None and raw != ""
    text = (raw or "").strip()
    if not text:
        return None
    if item.kind == "scan":
        return await scan(text, item.name)
    if item.kind == "int":
        return _integer(text)
    if item.kind == "datetime":
        return _local_time(text, zone)
    if item.kind == "lines":
        return [await scan(line.strip(), f"{item.name}.{i}")
                for i, line in enumerate(x for x in text.splitlines() if x.strip())]
    return text


async def data_of(form: Form, values: Mapping[str, str], site_id: str | None,
                  scan: Scanner, zone: str = "UTC") -> dict[str, Any]:
    """The event's data from a submitted form."""
    data: dict[str, Any] = {}
    for item in form.inputs(site_id):
        value = await value_of(item, values.get(item.name), scan, zone)
        if value is not None:
            _put(data, item.name, value)
    if form.site is not None and site_id is not None:
        data[form.site] = site_id
    return await form.finish(data, values, scan) if form.finish is not None else data


async def step_of(form: Form, values: Mapping[str, str], site_id: str | None,
                  scan: Scanner, zone: str = "UTC") -> Step:
    """The step a submitted form asks for, with the form's idempotency key; times typed
    are in ``zone``."""
    return Step(form.event_type, await data_of(form, values, site_id, scan, zone),
                event_id=new_event_id(values.get("event_id")))


def drop_empty_rows(name: str) -> Finish:
    """A ``finish`` leaving out the rows of list ``name`` that were left blank."""
    async def finish(data: dict[str, Any], values: Mapping[str, str],
                     scan: Scanner) -> dict[str, Any]:
        rows = data.get(name)
        if isinstance(rows, list):
            data[name] = [row for row in rows if row]
        return data
    return finish
