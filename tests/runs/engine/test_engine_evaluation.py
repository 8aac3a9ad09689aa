"""Whole-model evaluation: the worked models, backlog, determinism and cancellation (spec 02 §3, §11, §12)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runs.engine import Evaluation, Model, evaluate, load_model

HELLO = """
grid: {bins: 8, binSize: 1, binUnit: hours}
nodes:
  - id: demand
    kind: const
    values: [10, 10, 10, 10, 10, 10, 10, 10]
  - id: served
    kind: expr
    expr: demand * 0.8
"""

SHIFT_TEST = """
grid: {bins: 5, binSize: 1, binUnit: hours}
nodes:
  - {id: demand, values: [10, 20, 30, 40, 50]}
  - {id: previous, kind: expr, expr: "SHIFT(demand,1)"}
  - {id: total, kind: expr, expr: demand + previous}
"""


def test_hello_model() -> None:
    evaluation = evaluate(load_model(HELLO))
    assert isinstance(evaluation, Evaluation)
    assert evaluation.series["served"].tolist() == [8.0] * 8


def test_shift_model_without_schema_version() -> None:
    series = evaluate(load_model(SHIFT_TEST)).series
    assert series["previous"].tolist() == [0, 10, 20, 30, 40]
    assert series["total"].tolist() == [10, 30, 50, 70, 90]


def test_max_and_min_model(run_nodes) -> None:
    series = run_nodes(
        [
            {"id": "d", "values": [10, 20, 30, 40, 50, 60]},
            {"id": "c", "values": [15] * 6},
            {"id": "over", "kind": "expr", "expr": "MAX(0, d-c)"},
            {"id": "served", "kind": "expr", "expr": "MIN(d,c)"},
        ],
        6,
    )
    assert series["over"].tolist() == [0, 5, 15, 25, 35, 45]
    assert series["served"].tolist() == [10, 15, 15, 15, 15, 15]


def test_every_series_is_float64_of_grid_length(run_nodes) -> None:
    series = run_nodes(
        [
            {"id": "a", "values": [1, 2, 3]},
            {"id": "k", "kind": "expr", "expr": "3"},
            {"id": "p", "kind": "pmf", "pmf": {1: 1}},
            {"id": "q", "kind": "backlog", "inflow": "a", "outflow": "k"},
        ],
        3,
    )
    for values in series.values():
        assert values.dtype == np.float64
        assert values.shape == (3,)


# --- backlog -----------------------------------------------------------------------------------


def backlog(inflow: list[float], outflow: list[float], **extra: object) -> dict[str, np.ndarray]:
    doc = {
        "grid": {"bins": len(inflow), "binSize": 1, "binUnit": "hours"},
        "nodes": [
            {"id": "i", "values": inflow},
            {"id": "o", "values": outflow},
            {"id": "q", "kind": "backlog", "inflow": "i", "outflow": "o", **extra},
        ],
    }
    return evaluate(load_model(doc)).series


def test_backlog_with_initial_value() -> None:
    assert backlog([5, 5, 5, 0, 0], [3, 3, 8, 3, 3], initial=2)["q"].tolist() == [4, 6, 3, 0, 0]


def test_backlog_initial_from_topology() -> None:
    doc = {
        "grid": {"bins": 5, "binSize": 1, "binUnit": "hours"},
        "nodes": [
            {"id": "i", "values": [5, 5, 5, 0, 0]},
            {"id": "o", "values": [3, 3, 8, 3, 3]},
            {"id": "q", "kind": "backlog", "inflow": "i", "outflow": "o"},
        ],
        "topology": {
            "nodes": [
                {
                    "id": "Q",
                    "kind": "queue",
                    "semantics": {"queue": "q"},
                    "initialCondition": {"queueDepth": 2},
                }
            ]
        },
    }
    assert evaluate(load_model(doc)).series["q"].tolist() == [4, 6, 3, 0, 0]


def test_backlog_nan_propagates_from_its_bin_onward() -> None:
    q = backlog([1, math.nan, 1, 1], [0, 0, 0, 0])["q"]
    assert q[0] == 1
    assert all(math.isnan(v) for v in q[1:])


def test_backlog_equals_the_step_by_step_recurrence_on_integers() -> None:
    rng = np.random.default_rng(7)
    inflow = rng.integers(0, 20, 500).astype(float).tolist()
    outflow = rng.integers(0, 20, 500).astype(float).tolist()
    expected, level = [], 3.0
    for a, b in zip(inflow, outflow, strict=True):
        level = max(0.0, level + a - b)
        expected.append(level)
    assert backlog(inflow, outflow, initial=3)["q"].tolist() == expected


def test_backlog_never_drains_below_zero() -> None:
    assert backlog([0, 0, 4], [5, 5, 1])["q"].tolist() == [0, 0, 3]


# --- determinism and cancellation --------------------------------------------------------------

MIXED = {
    "grid": {"bins": 200, "binSize": 5, "binUnit": "minutes"},
    "rng": {"kind": "pcg32", "seed": 12345},
    "nodes": [
        {
            "id": "arrivals",
            "kind": "pmf",
            "pmf": {"values": [8, 10, 14], "probabilities": [0.3, 0.5, 0.2]},
            "sample": True,
        },
        {"id": "capacity", "values": [float(10 + (i % 7)) for i in range(200)]},
        {"id": "served", "kind": "expr", "expr": "MIN(arrivals, capacity) * 0.97"},
        {"id": "queue", "kind": "backlog", "inflow": "arrivals", "outflow": "served"},
        {
            "id": "ratio",
            "kind": "expr",
            "expr": "served / (SHIFT(queue, 1) + arrivals) - CLAMP(queue, 0, 3) / 7",
        },
    ],
}


def test_evaluating_twice_gives_identical_series() -> None:
    first = evaluate(load_model(MIXED)).series
    second = evaluate(load_model(MIXED)).series
    assert list(first) == list(second)
    for key in first:
        assert np.array_equal(first[key], second[key], equal_nan=True)


def test_one_model_evaluates_identically_twice() -> None:
    model = load_model(MIXED)
    first, second = evaluate(model).series, evaluate(model).series
    for key in first:
        assert np.array_equal(first[key], second[key], equal_nan=True)
        assert first[key] is not second[key]


def test_cancel_is_called_before_each_node_and_can_abort() -> None:
    model = load_model(SHIFT_TEST)
    calls: list[int] = []
    evaluate(model, cancel=lambda: calls.append(1))
    assert len(calls) == 3

    class Stop(Exception):
        pass

    def stop_after_two() -> None:
        calls.append(1)
        if len(calls) > 5:
            raise Stop

    with pytest.raises(Stop):
        evaluate(model, cancel=stop_after_two)


def test_model_is_immutable_and_exposes_its_order() -> None:
    model = load_model(SHIFT_TEST)
    assert isinstance(model, Model)
    assert model.order == ("demand", "previous", "total")
    with pytest.raises(AttributeError):
        model.order = ()  # type: ignore[misc]
    with pytest.raises(KeyError):
        model.node("nope")


def test_expressions_are_parsed_once_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_model(SHIFT_TEST)
    assert model.node("total").expr_tree is not None

    def no_parsing(text: str) -> None:
        raise AssertionError(f"evaluate re-parsed {text!r}")

    monkeypatch.setattr("runs.engine.evaluation.parse_expression", no_parsing)
    monkeypatch.setattr("runs.engine.expressions.parse_expression", no_parsing)
    assert evaluate(model).series["total"].tolist() == [10, 30, 50, 70, 90]
