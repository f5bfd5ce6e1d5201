"""The audit page's pure parts: the CSV of a view (the API's fields and JSON values, formulas
disarmed) and the discard chart (stacked, proportional, inside the plot, mirrored in Arabic)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from app.web.audit_views import COLUMNS, csv_text, discard_chart

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 11, tzinfo=UTC)  # ten days


def _table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_csv_has_the_api_fields_and_its_json_values() -> None:
    rows = [{"kind": "late_completion", "unit_id": "U1", "site_id": "H-1", "patient_id": None,
             "at": datetime(2026, 11, 2, 8, 30, tzinfo=UTC), "reason": "=HYPERLINK(\"x\")",
             "anti_d_prophylaxis": False, "extra": "not a column"}]
    table = _table(csv_text("overrides", rows))
    assert table[0] == [name for name, _ in COLUMNS["overrides"]]
    assert table[1] == ["late_completion", "U1", "H-1", "", "2026-11-02T08:30:00+00:00",
                        "'=HYPERLINK(\"x\")", "false"]
    assert csv_text("overrides", []).endswith("anti_d_prophylaxis\r\n")


def test_numbers_and_days_are_written_as_the_api_writes_them() -> None:
    table = _table(csv_text("discards-by-actor", [
        {"actor_key": "k1", "actor_role": "inventory", "actor_site_id": "BB-1", "discards": 3,
         "fates": 8, "rate": 0.375}]))
    assert table[1] == ["k1", "inventory", "BB-1", "3", "8", "0.375"]
    table = _table(csv_text("discards-by-day", [
        {"day": date(2026, 11, 3), "reason": "expired", "discards": 2}]))
    assert table[1] == ["2026-11-03", "expired", "2"]


def test_the_chart_stacks_each_day_in_proportion_inside_the_plot() -> None:
    by_day = [{"day": date(2026, 11, 3), "reason": "expired", "discards": 4},
              {"day": date(2026, 11, 3), "reason": "broken", "discards": 2},
              {"day": "2026-11-05", "reason": "expired", "discards": 1}]
    chart = discard_chart(by_day, START, END)
    assert chart.total == 7
    assert [(r, n) for r, _, n in chart.legend] == [("expired", 5), ("broken", 2)]
    left, top, right, bottom = chart.plot
    assert all(left <= b.x and b.x + b.width <= right and top <= b.y and
               b.y + b.height <= bottom + 0.01 for b in chart.bars)
    third = [b for b in chart.bars if b.day == date(2026, 11, 3)]
    by_reason = {b.reason: b for b in third}
    assert abs(by_reason["expired"].height - 2 * by_reason["broken"].height) < 0.02
    assert abs(by_reason["expired"].y - (by_reason["broken"].y + by_reason["broken"].height)) \
        < 0.02  # stacked: broken sits on expired
    fifth = next(b for b in chart.bars if b.day == date(2026, 11, 5))
    assert abs(fifth.height * 4 - by_reason["expired"].height) < 0.02
    assert fifth.x > third[0].x  # later days to the right
    assert chart.y_ticks[0][1] == 0 and chart.y_ticks[-1][1] >= 6


def test_in_arabic_the_days_run_from_the_right() -> None:
    by_day = [{"day": date(2026, 11, 1), "reason": "expired", "discards": 1},
              {"day": date(2026, 11, 10), "reason": "expired", "discards": 1}]
    ltr, rtl = discard_chart(by_day, START, END), discard_chart(by_day, START, END, rtl=True)
    first = {c.day: c.x for c in ltr.bars}
    mirrored = {c.day: c.x for c in rtl.bars}
    assert first[date(2026, 11, 1)] < first[date(2026, 11, 10)]
    assert mirrored[date(2026, 11, 1)] > mirrored[date(2026, 11, 10)]
    assert len(ltr.x_ticks) == len(rtl.x_ticks) and rtl.rtl


def test_an_empty_period_draws_no_bar() -> None:
    chart = discard_chart([], START, END)
    assert chart.bars == [] and chart.total == 0 and chart.legend == []
