"""The charts' bars: proportional to their values, inside the chart, mirrored right to
left, and a value past the scale drawn to the end and marked."""

from __future__ import annotations

from app.web.charts import columns, rows


def test_columns_are_proportional_and_inside_the_chart() -> None:
    chart = columns([("O-", 10), ("O+", 40), ("A+", 0)], width=300, height=200)
    heights = {b.key: b.h for b in chart.bars}
    assert heights["O+"] == 4 * heights["O-"] and heights["A+"] == 0
    assert all(0 <= b.x and b.x + b.w <= 300 and 0 <= b.y <= 200 for b in chart.bars)
    assert [b.key for b in sorted(chart.bars, key=lambda b: b.x)] == ["O-", "O+", "A+"]


def test_columns_run_from_the_right_in_arabic() -> None:
    chart = columns([("O-", 1), ("O+", 2)], rtl=True)
    assert [b.key for b in sorted(chart.bars, key=lambda b: b.x)] == ["O+", "O-"]


def test_rows_cap_long_cover_and_mark_it() -> None:
    chart = rows([("H1", 2.0), ("H2", 4.0), ("H3", 50.0), ("H4", None)], cap=14, width=460)
    by = {b.key: b for b in chart.bars}
    assert abs(by["H2"].w - 2 * by["H1"].w) <= 1
    assert by["H3"].capped and by["H4"].capped and not by["H1"].capped
    assert by["H3"].w == by["H4"].w == max(b.w for b in chart.bars)
    assert all(b.x + b.w <= 460 for b in chart.bars)


def test_rows_grow_leftwards_in_arabic() -> None:
    ltr = rows([("H1", 7.0)], cap=14)
    rtl = rows([("H1", 7.0)], cap=14, rtl=True)
    assert ltr.bars[0].w == rtl.bars[0].w
    assert rtl.bars[0].x + rtl.bars[0].w < rtl.bars[0].label_x
    assert ltr.bars[0].label_x < ltr.bars[0].x
