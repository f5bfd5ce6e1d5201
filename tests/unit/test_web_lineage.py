"""The lineage graph's layout: generations from the first unit, one box per unit, a curve
per parent-child link, mirrored for right-to-left pages."""

from __future__ import annotations

from app.web.lineage import BOX_W, PAD, generations, layout


def node(unit_id: str) -> dict[str, str]:
    return {"unit_id": unit_id, "category": "red_cells", "status": "released"}


def edge(parent: str, child: str, kind: str = "split") -> dict[str, str]:
    return {"parent_unit_id": parent, "child_unit_id": child, "kind": kind}


def test_a_pool_comes_after_every_unit_it_was_made_from() -> None:
    depth = generations(["WB1", "WB2", "P1", "PL2", "POOL"],
                        [("WB1", "P1"), ("WB2", "PL2"), ("P1", "POOL"), ("WB2", "POOL")])
    assert depth == {"WB1": 0, "WB2": 0, "P1": 1, "PL2": 1, "POOL": 2}


def test_a_cycle_does_not_loop() -> None:
    assert set(generations(["A", "B"], [("A", "B"), ("B", "A")])) == {"A", "B"}


def test_a_split_lays_children_in_the_next_column() -> None:
    drawn = layout([node("WB"), node("RC"), node("PL")],
                   [edge("WB", "RC"), edge("WB", "PL")], focus="RC")
    at = {b.unit_id: (b.x, b.y) for b in drawn.boxes}
    assert at["RC"][0] == at["PL"][0] > at["WB"][0]
    assert at["RC"][1] != at["PL"][1]
    assert [b.unit_id for b in drawn.boxes if b.focus] == ["RC"]
    assert {(c.parent, c.child, c.kind) for c in drawn.curves} == {("WB", "RC", "split"),
                                                                  ("WB", "PL", "split")}
    assert all(b.x + BOX_W <= drawn.width and b.y >= 0 for b in drawn.boxes)


def test_right_to_left_mirrors_the_columns() -> None:
    nodes, edges = [node("WB"), node("RC")], [edge("WB", "RC")]
    ltr, rtl = layout(nodes, edges, "RC"), layout(nodes, edges, "RC", rtl=True)
    x = {b.unit_id: b.x for b in ltr.boxes}
    x_rtl = {b.unit_id: b.x for b in rtl.boxes}
    assert x["WB"] < x["RC"] and x_rtl["WB"] > x_rtl["RC"]
    assert x_rtl["WB"] == ltr.width - x["WB"] - BOX_W


def test_a_unit_alone_is_one_box() -> None:
    drawn = layout([node("U")], [], "U")
    assert len(drawn.boxes) == 1 and drawn.curves == []
    assert drawn.width == BOX_W + 2 * PAD
