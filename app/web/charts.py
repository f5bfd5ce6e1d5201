"""Bar charts drawn by the server as SVG (hand-written: two kinds of bar chart need no
library, and nothing is fetched by the page). These functions place the bars; the templates
draw them. Right to left, the bars run from the right."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    key: str
    value: float | None
    x: int
    y: int
    w: int
    h: int
    label_x: int
    label_y: int
    value_x: int
    value_y: int
    capped: bool = False
    """The value is beyond the chart's scale (drawn to its end)."""


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    scale: float
    """The value at the chart's full length."""
    rtl: bool


def columns(items: list[tuple[str, float]], *, width: int = 460, height: int = 220,
            rtl: bool = False) -> Chart:
    """Vertical bars, one per item in order, labels under them and values above."""
    base, top, pad = height - 24, 20, 12
    scale = max([v for _, v in items] + [1.0])
    slot = (width - 2 * pad) / max(len(items), 1)
    bars = []
    for i, (key, value) in enumerate(items):
        index = len(items) - 1 - i if rtl else i
        x = int(pad + index * slot + slot * 0.15)
        w = max(int(slot * 0.7), 1)
        h = int((base - top) * value / scale)
        centre = x + w // 2
        bars.append(Bar(key, value, x, base - h, w, h, centre, height - 6, centre,
                        base - h - 4))
    return Chart(width, height, bars, scale, rtl)


def rows(items: list[tuple[str, float | None]], *, cap: float, width: int = 480,
         bar_h: int = 22, label_w: int = 200, rtl: bool = False) -> Chart:
    """Horizontal bars, one per item in order, labels beside them; a value above ``cap``
    (or None, no use at all) is drawn to the end and marked ``capped``."""
    gap, pad = 6, 6
    track = width - label_w - 2 * pad - 48
    height = pad * 2 + len(items) * (bar_h + gap)
    bars = []
    for i, (key, value) in enumerate(items):
        capped = value is None or value > cap
        length = track if capped else int(track * (value or 0.0) / cap)
        y = pad + i * (bar_h + gap)
        if rtl:
            start = width - pad - label_w
            x = start - length
            label_x, value_x = width - pad, x - 4
        else:
            x = pad + label_w
            label_x, value_x = pad, x + length + 4
        bars.append(Bar(key, value, x, y, length, bar_h, label_x, y + bar_h - 6, value_x,
                        y + bar_h - 6, capped))
    return Chart(width, height, bars, cap, rtl)
