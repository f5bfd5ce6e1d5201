"""The audit page's views, pure: their columns, their CSV, and the discard chart's geometry.

Each view is a list of rows as the audit read services return them (the same as the
``/v1/audit/...`` JSON). The CSV has the API's field names as its header and each cell as the
API's JSON writes it (times in RFC 3339, numbers as they are, booleans ``true``/``false``,
null empty), so that a download and the API give the same figures. A text cell that a
spreadsheet would run as a formula (``= + - @``, tab, CR) gets a leading apostrophe (OWASP's
CSV-injection advice): reasons and ids are typed by people.

The chart is hand-written SVG geometry (stacked bars per UTC day, one colour per reason): a
charting library would add a dependency, or a vendored script, for a few rectangles.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import orjson

from app.web.i18n import N_

COLUMNS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "custody-gaps": (("unit_id", N_("Unit")), ("din", N_("DIN")), ("category", N_("Category")),
                     ("abo", N_("ABO")), ("rhd", N_("RhD")), ("from_site_id", N_("From")),
                     ("to_site_id", N_("To")), ("shipment_id", N_("Shipment")),
                     ("shipped_at", N_("Shipped")),
                     ("hours_in_transit", N_("Hours in transit"))),
    "unfated": (("unit_id", N_("Unit")), ("din", N_("DIN")), ("category", N_("Category")),
                ("abo", N_("ABO")), ("rhd", N_("RhD")), ("status", N_("Status")),
                ("custodian_site_id", N_("Held by")), ("in_transit_to", N_("In transit to")),
                ("expires_at", N_("Expired"))),
    "discards-by-reason": (("reason", N_("Reason")), ("discards", N_("Discards"))),
    "discards-by-site": (("site_id", N_("Site")), ("reason", N_("Reason")),
                         ("discards", N_("Discards"))),
    "discards-by-actor": (("actor_key", N_("Recorded by")), ("actor_role", N_("Role")),
                          ("actor_site_id", N_("Site")), ("discards", N_("Discards")),
                          ("fates", N_("Final fates recorded")), ("rate", N_("Discard rate"))),
    "discards-by-day": (("day", N_("Day")), ("reason", N_("Reason")),
                        ("discards", N_("Discards"))),
    "emergency": (("unit_id", N_("Unit")), ("site_id", N_("Site")),
                  ("patient_id", N_("Patient")), ("issued_at", N_("Issued")),
                  ("crossmatch", N_("Crossmatch")), ("crossmatched_at", N_("Crossmatched")),
                  ("overdue", N_("Crossmatch overdue"))),
    "overrides": (("kind", N_("Override")), ("unit_id", N_("Unit")), ("site_id", N_("Site")),
                  ("patient_id", N_("Patient")), ("at", N_("When")), ("reason", N_("Reason")),
                  ("anti_d_prophylaxis", N_("Anti-D prophylaxis"))),
    "late-entries": (("position", N_("Position")), ("type", N_("Step")),
                     ("stream", N_("Stream")), ("occurred_at", N_("Happened")),
                     ("recorded_at", N_("Recorded")), ("hours_late", N_("Hours late")),
                     ("reason", N_("Reason given")), ("actor_key", N_("Recorded by")),
                     ("actor_role", N_("Role")), ("actor_site_id", N_("Site")),
                     ("event_id", N_("Event"))),
}
"""View → its (field, column heading msgid) in order."""

DISCARD_VIEWS: Final = ("discards-by-reason", "discards-by-site", "discards-by-actor",
                        "discards-by-day")
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")


def as_api_json(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows as the API's JSON holds them (dates and times as strings)."""
    loaded: list[dict[str, Any]] = orjson.loads(orjson.dumps(list(rows)))
    return loaded


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA) else value
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()  # a nested value, as JSON


def csv_text(view: str, rows: Iterable[Mapping[str, Any]]) -> str:
    """The view as CSV: the API's field names, then one line per row (RFC 4180, CRLF)."""
    fields = [name for name, _ in COLUMNS[view]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for row in as_api_json(rows):
        writer.writerow([_cell(row.get(name)) for name in fields])
    return out.getvalue()


# --- the discard chart -------------------------------------------------------------------------

PALETTE: Final = ("#b3261e", "#1f5fa8", "#c77700", "#2e7d32", "#6a3d9a", "#00838f",
                  "#8d6e63", "#546e7a")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 260, 44, 28, 12


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    day: date
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    legend: list[tuple[str, str, int]]
    """(reason, colour, total) by total, largest first."""
    y_ticks: list[tuple[float, int]]
    """(y, value) of the horizontal grid lines."""
    x_ticks: list[tuple[float, date]]
    plot: tuple[int, int, int, int]
    """left, top, right, bottom of the plotting area."""
    total: int
    rtl: bool


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _nice(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 4:
            return step
    return (top // 4) + 1


def discard_chart(by_day: Sequence[Mapping[str, Any]], start: datetime, end: datetime,
                  rtl: bool = False) -> Chart:
    """Stacked bars of discards per UTC day of ``[start, end)``, one colour per reason; right
    to left, the days run from the right (as the shell's charts) and the scale stands right."""
    days = _days(start, end)
    totals: dict[str, int] = {}
    per_day: dict[date, list[tuple[str, int]]] = {d: [] for d in days}
    for row in by_day:
        day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(row["day"])
        reason, count = str(row["reason"]), int(row["discards"])
        totals[reason] = totals.get(reason, 0) + count
        per_day.setdefault(day, []).append((reason, count))
    order = sorted(totals, key=lambda r: (-totals[r], r))
    colour = {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(order)}
    highest = max((sum(c for _, c in v) for v in per_day.values()), default=0)
    step = _nice(max(highest, 1))
    scale_top = step * max(1, -(-highest // step))
    left, right = (8, WIDTH - LEFT) if rtl else (LEFT, WIDTH - 8)
    bottom = HEIGHT - BOTTOM
    slot = (right - left) / max(len(days), 1)

    def x_of(i: int) -> float:
        return left + (len(days) - 1 - i if rtl else i) * slot

    bars: list[Bar] = []
    for i, day in enumerate(days):
        y = float(bottom)
        for reason, count in sorted(per_day.get(day, []), key=lambda rc: order.index(rc[0])):
            h = (bottom - TOP) * count / scale_top
            y -= h
            bars.append(Bar(round(x_of(i) + slot * 0.1, 2), round(y, 2),
                            round(slot * 0.8, 2), round(h, 2), colour[reason], day, reason,
                            count))
    y_ticks = [(round(bottom - (bottom - TOP) * v / scale_top, 2), v)
               for v in range(0, scale_top + 1, step)]
    every = max(1, len(days) // 6)
    x_ticks = [(round(x_of(i) + slot / 2, 2), d) for i, d in enumerate(days) if i % every == 0]
    return Chart(WIDTH, HEIGHT, bars, [(r, colour[r], totals[r]) for r in order], y_ticks,
                 x_ticks, (left, TOP, right, bottom), sum(totals.values()), rtl)
