"""Evaluation order and cycle reporting (spec 02 §7)."""

from __future__ import annotations

from runs.engine import evaluate, load_model
from runs.engine.ordering import cycle_members, kahn_order


def model_of(nodes: list[dict[str, object]], bins: int = 2):
    return load_model({"grid": {"bins": bins, "binSize": 1, "binUnit": "hours"}, "nodes": nodes})


def test_spec_example_order() -> None:
    model = model_of(
        [
            {"id": "total", "kind": "expr", "expr": "a + b"},
            {"id": "b", "kind": "expr", "expr": "c * 2"},
            {"id": "a", "values": [1, 2]},
            {"id": "c", "values": [3, 4]},
        ]
    )
    assert model.order == ("a", "c", "b", "total")
    evaluation = evaluate(model)
    assert evaluation.order == ("a", "c", "b", "total")
    # Series are keyed in definition order, not evaluation order.
    assert list(evaluation.series) == ["total", "b", "a", "c"]
    assert evaluation.series["total"].tolist() == [1 + 3 * 2, 2 + 4 * 2]


def test_dependents_are_released_in_definition_order() -> None:
    # x feeds z (defined first) and y; both become ready when x is popped, z before y.
    model = model_of(
        [
            {"id": "z", "kind": "expr", "expr": "x + w"},
            {"id": "w", "values": [0, 0]},
            {"id": "y", "kind": "expr", "expr": "x"},
            {"id": "x", "values": [1, 1]},
        ]
    )
    # Queue starts [w, x]; pop w (z still waits on x); pop x → z, y.
    assert model.order == ("w", "x", "z", "y")


def test_repeated_references_count_once() -> None:
    model = model_of(
        [{"id": "b", "kind": "expr", "expr": "a * a + SHIFT(a, 1)"}, {"id": "a", "values": [1, 2]}]
    )
    assert model.order == ("a", "b")
    assert model.node("b").inputs == ("a",)


def test_backlog_inputs_are_inflow_and_outflow() -> None:
    model = model_of(
        [
            {"id": "q", "kind": "backlog", "inflow": "i", "outflow": "o"},
            {"id": "o", "values": [0, 0]},
            {"id": "i", "values": [1, 1]},
        ]
    )
    assert model.order == ("o", "i", "q")


def test_two_node_cycle_message_and_nodes(node_issues) -> None:
    issues = node_issues(
        [{"id": "a", "kind": "expr", "expr": "b + 1"}, {"id": "b", "kind": "expr", "expr": "a + 1"}]
    )
    assert [(i.code, i.path, i.message, i.nodes) for i in issues] == [
        ("graph_cycle", "nodes", "Graph has a cycle: a, b", ("a", "b"))
    ]


def test_cycle_nodes_exclude_nodes_merely_downstream_and_follow_definition_order(node_issues) -> None:
    issues = node_issues(
        [
            {"id": "after", "kind": "expr", "expr": "c * 2"},
            {"id": "c", "kind": "expr", "expr": "b"},
            {"id": "free", "values": [1, 2, 3]},
            {"id": "b", "kind": "expr", "expr": "a + free"},
            {"id": "a", "kind": "expr", "expr": "c"},
            {"id": "self", "kind": "expr", "expr": "self + 1"},
        ]
    )
    assert [(i.code, i.nodes) for i in issues] == [("graph_cycle", ("c", "b", "a", "self"))]
    assert issues[0].message == "Graph has a cycle: c, b, a, self"


def test_unknown_references_are_left_out_of_the_cycle_check(node_issues) -> None:
    issues = node_issues(
        [{"id": "a", "kind": "expr", "expr": "b + zz"}, {"id": "b", "kind": "expr", "expr": "a"}]
    )
    assert [(i.code, i.nodes) for i in issues] == [("node_unknown", None), ("graph_cycle", ("a", "b"))]


def test_long_chains_and_long_cycles_do_not_hit_recursion_limits() -> None:
    n = 3000
    chain = [[i - 1] if i else [] for i in range(n)]
    assert kahn_order(chain) == list(range(n))
    ring = [[(i - 1) % n] for i in range(n)]
    assert kahn_order(ring) == []
    assert cycle_members(ring, list(range(n))) == list(range(n))


def test_cycle_members_ignore_acyclic_candidates() -> None:
    # 0 ⇄ 1, 2 reads 1 (downstream only), 3 reads itself.
    inputs = [[1], [0], [1], [3]]
    assert kahn_order(inputs) == []
    assert cycle_members(inputs, [0, 1, 2, 3]) == [0, 1, 3]
