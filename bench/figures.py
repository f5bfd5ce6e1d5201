"""One row of the results table, and the table itself (terminal and Markdown)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

COLUMNS = ("figure", "measured", "limit (same run)", "ratio", "target", "")


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    measured: str
    limit: str = "-"
    ratio: str = "-"
    target: str = "-"
    status: str = ""
    """PASS, MISS or empty (no target): a miss never fails the run."""

    def cells(self) -> tuple[str, ...]:
        return (self.name, self.measured, self.limit, self.ratio, self.target, self.status)


def rate(name: str, per_s: float, limit_per_s: float | None, limit_label: str,
         target: float | None, unit: str = "ev/s") -> Figure:
    """A throughput, its ratio to the limit, PASS when at least ``target``."""
    limit = f"{limit_per_s:,.0f} {unit} ({limit_label})" if limit_per_s else "-"
    ratio = f"{per_s / limit_per_s:.2f}" if limit_per_s else "-"
    status = "" if target is None else ("PASS" if per_s >= target else "MISS")
    return Figure(name, f"{per_s:,.0f} {unit}", limit, ratio,
                  f">= {target:,.0f} {unit}" if target else "-", status)


def against_limit(name: str, per_s: float, limit_per_s: float | None, limit_label: str,
                  goal: float, unit: str = "ev/s", limit_unit: str | None = None) -> Figure:
    """A throughput whose goal is a ratio to the limit measured in the same run (issue 16;
    the machine's load moves both): PASS when ``per_s / limit_per_s`` is at least ``goal``."""
    ratio = per_s / limit_per_s if limit_per_s else 0.0
    limit = f"{limit_per_s:,.0f} {limit_unit or unit} ({limit_label})" if limit_per_s else "-"
    return Figure(name, f"{per_s:,.0f} {unit}", limit, f"{ratio:.2f}" if limit_per_s else "-",
                  f">= {goal:g}x the limit", "PASS" if ratio >= goal else "MISS")


def latency(name: str, p50: float, p99: float, floor_ms: float | None,
            target_p99: float | None) -> Figure:
    """p50/p99 in ms; the limit is the floor (a bare round trip), the ratio floor/p50."""
    limit = f"{floor_ms:.2f} ms (SELECT 1)" if floor_ms else "-"
    ratio = f"{floor_ms / p50:.2f}" if floor_ms and p50 else "-"
    status = "" if target_p99 is None else ("PASS" if p99 <= target_p99 else "MISS")
    return Figure(name, f"p50 {p50:.2f} / p99 {p99:.2f} ms", limit, ratio,
                  f"p99 <= {target_p99:g} ms" if target_p99 else "-", status)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def p50_p99(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile(samples, 99)


def render(console: Console, title: str, figures: list[Figure], notes: list[str]) -> None:
    table = Table(title=title, title_justify="left")
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("figure", "target") else "right")
    for fig in figures:
        style = {"PASS": "green", "MISS": "red"}.get(fig.status)
        table.add_row(*fig.cells(), style=style)
    console.print(table)
    for note in notes:
        console.print(f"- {note}", highlight=False)


def markdown(title: str, figures: list[Figure], notes: list[str]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(fig.cells()) + " |" for fig in figures]
    lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"
