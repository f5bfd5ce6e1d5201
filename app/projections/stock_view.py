"""The national stock view, from the stock reads (``/v1/stock``, ``/stock/cover``,
``/stock/near-expiry``): counts by site, category and ABO/RhD with exclusive expiry bands,
days of cover per site, and suggested transfers of near-expiry units to sites short of
their group. Pure: the rows in, plain values out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

GROUPS: Final = (("O", "NEG"), ("O", "POS"), ("A", "NEG"), ("A", "POS"), ("B", "NEG"),
                 ("B", "POS"), ("AB", "NEG"), ("AB", "POS"))
BANDS: Final = ("expired", "within_24h", "within_72h", "within_7d", "later")
"""Exclusive bands: expired; up to 24 h; 24 to 72 h; 3 to 7 days; later."""
AVAILABLE: Final = frozenset({"released"})
"""Statuses a transfer or an issue can draw from now."""


def group_label(abo: str | None, rhd: str | None) -> str:
    return f"{abo or '?'}{'+' if rhd == 'POS' else '-' if rhd == 'NEG' else '?'}"


@dataclass
class Cell:
    """Units of one site, category and group: all held, those available (released), and
    each expiry band."""

    total: int = 0
    available: int = 0
    bands: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))

    def add(self, row: Mapping[str, Any]) -> None:
        total, cumulative = int(row["total"]), [int(row[b]) for b in BANDS[:-1]]
        self.total += total
        if row.get("status") in AVAILABLE:
            self.available += total
        previous = 0
        for band, upto in zip(BANDS, [*cumulative, total], strict=True):
            self.bands[band] += upto - previous
            previous = upto


@dataclass
class StockRow:
    site_id: str
    category: str
    groups: dict[str, Cell]
    """group label (``O-``, ``A+``...) → cell"""
    all: Cell


def stock_rows(counts: Iterable[Mapping[str, Any]]) -> list[StockRow]:
    """One row per site and category (product codes and statuses summed), by site then
    category."""
    rows: dict[tuple[str, str], StockRow] = {}
    for count in counts:
        key = (str(count["site_id"]), str(count["category"]))
        row = rows.get(key)
        if row is None:
            row = rows[key] = StockRow(key[0], key[1],
                                       {group_label(*g): Cell() for g in GROUPS}, Cell())
        label = group_label(count.get("abo"), count.get("rhd"))
        row.groups.setdefault(label, Cell()).add(count)
        row.all.add(count)
    return [rows[k] for k in sorted(rows)]


def available_by_group(rows: Iterable[StockRow], category: str | None = None
                       ) -> dict[str, int]:
    """Available units per group over every site (of one category, or all)."""
    totals = {group_label(*g): 0 for g in GROUPS}
    for row in rows:
        if category is None or row.category == category:
            for label, cell in row.groups.items():
                totals[label] = totals.get(label, 0) + cell.available
    return totals


@dataclass(frozen=True, slots=True)
class SiteCover:
    site_id: str
    stock: int
    daily_use: float
    days: float | None
    """stock ÷ daily use; None when nothing was used in the window."""


def cover_by_site(cover: Iterable[Mapping[str, Any]], category: str | None = "red_cells"
                  ) -> list[SiteCover]:
    """Days of cover per site (of one category, or of all summed), shortest first, those
    with no use last."""
    stock: dict[str, int] = {}
    use: dict[str, float] = {}
    for row in cover:
        if category is not None and row["category"] != category:
            continue
        site = str(row["site_id"])
        stock[site] = stock.get(site, 0) + int(row["stock"])
        use[site] = use.get(site, 0.0) + float(row["daily_use"] or 0)
    sites = [SiteCover(s, stock[s], round(use[s], 3),
                       round(stock[s] / use[s], 1) if use[s] else None) for s in stock]
    return sorted(sites, key=lambda c: (c.days is None, c.days or 0.0, c.site_id))


@dataclass(frozen=True, slots=True)
class Transfer:
    """Send ``unit_ids`` (released, expiring soon) from ``from_site`` to ``to_site``, which
    is short of their category and group."""

    from_site: str
    to_site: str
    category: str
    abo: str
    rhd: str
    unit_ids: tuple[str, ...]
    first_expiry: Any
    to_stock: int
    to_days: float | None


def suggest_transfers(alerts: Iterable[Mapping[str, Any]]) -> list[Transfer]:
    """For each near-expiry alert, its units shared among the short sites, the shortest
    (fewest days of cover, then least stock) first; a unit goes to one site only, and a site
    is given no more units than the alert holds. Alerts without a short site suggest
    nothing. Units are dealt in their order (first to expire first)."""
    transfers = []
    for alert in alerts:
        short = sorted(alert.get("short_sites") or [],
                       key=lambda s: (s["index_days"] if s["index_days"] is not None
                                      else float("inf"), s["stock"], s["site_id"]))
        units = list(alert["unit_ids"])
        if not short or not units:
            continue
        dealt: dict[str, list[str]] = {s["site_id"]: [] for s in short}
        for i, unit in enumerate(units):
            dealt[short[i % len(short)]["site_id"]].append(unit)
        for site in short:
            given = dealt[site["site_id"]]
            if given:
                transfers.append(Transfer(
                    str(alert["site_id"]), str(site["site_id"]), str(alert["category"]),
                    str(alert["abo"]), str(alert["rhd"]), tuple(given), alert["first_expiry"],
                    int(site["stock"]), site["index_days"]))
    return transfers
