"""The stock page's arithmetic: exclusive expiry bands from the cumulative buckets of
``/v1/stock``, days of cover per site, and near-expiry units shared among short sites."""

from __future__ import annotations

from typing import Any

from app.projections.stock_view import (
    available_by_group,
    cover_by_site,
    stock_rows,
    suggest_transfers,
)


def count(site: str, category: str, abo: str, rhd: str, status: str, total: int,
          expired: int = 0, d1: int = 0, d3: int = 0, d7: int = 0) -> dict[str, Any]:
    return {"site_id": site, "category": category, "product_code": "E0398V00", "abo": abo,
            "rhd": rhd, "status": status, "total": total, "expired": expired,
            "within_24h": d1, "within_72h": d3, "within_7d": d7}


def test_cumulative_buckets_become_exclusive_bands() -> None:
    [row] = stock_rows([count("H1", "red_cells", "O", "NEG", "released", 10, 1, 3, 4, 7)])
    cell = row.groups["O-"]
    assert cell.bands == {"expired": 1, "within_24h": 2, "within_72h": 1, "within_7d": 3,
                          "later": 3}
    assert sum(cell.bands.values()) == cell.total == cell.available == 10


def test_statuses_and_product_codes_sum_into_one_cell_and_only_released_is_available() -> None:
    rows = stock_rows([
        count("H1", "red_cells", "A", "POS", "released", 4),
        count("H1", "red_cells", "A", "POS", "reserved", 2),
        count("H1", "red_cells", "A", "POS", "quarantined", 1),
        count("H1", "platelets", "A", "POS", "released", 3),
        count("BB", "red_cells", "O", "NEG", "released", 5),
    ])
    assert [(r.site_id, r.category) for r in rows] == [
        ("BB", "red_cells"), ("H1", "platelets"), ("H1", "red_cells")]
    h1 = rows[2]
    assert (h1.groups["A+"].total, h1.groups["A+"].available, h1.all.total) == (7, 4, 7)
    assert h1.groups["O-"].total == 0
    assert available_by_group(rows, "red_cells")["A+"] == 4
    assert available_by_group(rows)["A+"] == 7
    assert available_by_group(rows)["O-"] == 5


def cover(site: str, stock: int, daily: float, category: str = "red_cells"
          ) -> dict[str, Any]:
    return {"site_id": site, "category": category, "abo": "O", "rhd": "POS", "stock": stock,
            "used": 0, "daily_use": daily, "index_days": stock / daily if daily else None}


def test_days_of_cover_per_site_shortest_first_unused_last() -> None:
    sites = cover_by_site([cover("A", 10, 1.0), cover("A", 2, 1.0), cover("B", 3, 1.5),
                           cover("C", 4, 0.0), cover("D", 9, 1.0, "plasma")])
    assert [(s.site_id, s.stock, s.days) for s in sites] == [
        ("B", 3, 2.0), ("A", 12, 6.0), ("C", 4, None)]
    assert [s.site_id for s in cover_by_site([cover("D", 9, 1.0, "plasma")], None)] == ["D"]


def alert(units: list[str], short: list[tuple[str, int, float | None]]) -> dict[str, Any]:
    return {"site_id": "BB", "category": "platelets", "abo": "A", "rhd": "POS",
            "units": len(units), "first_expiry": "2026-12-05T07:00:00+00:00",
            "unit_ids": units,
            "short_sites": [{"site_id": s, "stock": n, "index_days": d} for s, n, d in short]}


def test_units_are_dealt_to_short_sites_shortest_first_each_unit_once() -> None:
    transfers = suggest_transfers([alert(["U1", "U2", "U3"],
                                         [("H2", 1, 0.5), ("H1", 0, 0.0)])])
    assert [(t.to_site, t.unit_ids) for t in transfers] == [("H1", ("U1", "U3")),
                                                            ("H2", ("U2",))]
    dealt = [u for t in transfers for u in t.unit_ids]
    assert sorted(dealt) == ["U1", "U2", "U3"] and len(set(dealt)) == 3
    assert all(t.from_site == "BB" and (t.abo, t.rhd) == ("A", "POS") for t in transfers)


def test_no_short_site_no_suggestion_and_more_sites_than_units() -> None:
    assert suggest_transfers([alert(["U1"], [])]) == []
    [only] = suggest_transfers([alert(["U1"], [("H1", 0, 0.0), ("H2", 0, 0.0),
                                                ("H3", 0, None)])])
    assert (only.to_site, only.unit_ids) == ("H1", ("U1",))
