"""The lineage of a unit laid out as a graph of parents and children, for a server-drawn SVG
(hand-written: a few boxes and curves need no charting library). Generations run from the
first donation's unit (column 0) to the last product made; right to left in Arabic."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 210, 66, 60, 16, 8


@dataclass(frozen=True, slots=True)
class Box:
    unit_id: str
    x: int
    y: int
    focus: bool
    node: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Curve:
    parent: str
    child: str
    kind: str
    path: str
    """An SVG path from the parent's side to the child's."""
    label_x: int
    label_y: int


@dataclass(frozen=True, slots=True)
class Layout:
    width: int
    height: int
    boxes: list[Box]
    curves: list[Curve]


def generations(unit_ids: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Each unit's generation: 0 for a unit with no parent in the graph, else one more than
    its latest parent (the longest path, so a pool sits after all it was made from)."""
    ids = list(dict.fromkeys(unit_ids))
    parents: dict[str, list[str]] = {u: [] for u in ids}
    for parent, child in edges:
        if parent in parents and child in parents:
            parents[child].append(parent)
    depth: dict[str, int] = {}

    def visit(unit: str, seen: frozenset[str]) -> int:
        if unit in depth:
            return depth[unit]
        if unit in seen:  # a cycle cannot happen in the log; never loop on one
            return 0
        depth[unit] = max((visit(p, seen | {unit}) + 1 for p in parents[unit]), default=0)
        return depth[unit]

    for unit in ids:
        visit(unit, frozenset())
    return depth


def layout(nodes: list[Mapping[str, Any]], edges: list[Mapping[str, Any]], focus: str,
           rtl: bool = False) -> Layout:
    """Boxes in columns by generation (in unit id order within one), and a curve per edge
    labelled with its kind (split, pool, irradiated...)."""
    by_id = {str(n["unit_id"]): n for n in nodes}
    pairs = [(str(e["parent_unit_id"]), str(e["child_unit_id"])) for e in edges]
    depth = generations(by_id, pairs)
    columns: dict[int, list[str]] = {}
    for unit in sorted(by_id):
        columns.setdefault(depth[unit], []).append(unit)
    n_cols = max(columns, default=-1) + 1
    n_rows = max((len(c) for c in columns.values()), default=0)
    width = PAD * 2 + n_cols * BOX_W + max(n_cols - 1, 0) * GAP_X
    height = PAD * 2 + n_rows * BOX_H + max(n_rows - 1, 0) * GAP_Y
    place: dict[str, tuple[int, int]] = {}
    boxes = []
    for col, units in sorted(columns.items()):
        offset = (height - PAD * 2 - (len(units) * BOX_H + (len(units) - 1) * GAP_Y)) // 2
        for row, unit in enumerate(units):
            x = PAD + col * (BOX_W + GAP_X)
            if rtl:
                x = width - x - BOX_W
            y = PAD + offset + row * (BOX_H + GAP_Y)
            place[unit] = (x, y)
            boxes.append(Box(unit, x, y, unit == focus, by_id[unit]))
    curves = []
    for edge, (parent, child) in zip(edges, pairs, strict=True):
        if parent not in place or child not in place:
            continue
        (px, py), (cx, cy) = place[parent], place[child]
        x1 = px if rtl else px + BOX_W
        x2 = cx + BOX_W if rtl else cx
        y1, y2 = py + BOX_H // 2, cy + BOX_H // 2
        mid = (x1 + x2) // 2
        curves.append(Curve(parent, child, str(edge.get("kind") or ""),
                            f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}",
                            mid, (y1 + y2) // 2 - 4))
    return Layout(width, height, boxes, curves)
