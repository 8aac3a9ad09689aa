"""The expression language (spec 02 §6 and the §12 vectors)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from runs.engine import ExpressionSyntaxError, parse_expression
from runs.engine.expressions import format_tree
from runs.errors import ModelError

NAN = math.nan


def const(node_id: str, values: list[float]) -> dict[str, object]:
    return {"id": node_id, "kind": "const", "values": values}


def expr(node_id: str, text: str) -> dict[str, object]:
    return {"id": node_id, "kind": "expr", "expr": text}


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "grouped"),
    [
        ("a+b*c", "(a + (b * c))"),
        ("a-b/c", "(a - (b / c))"),
        ("a-b-c", "((a - b) - c)"),
        ("a/b/c", "((a / b) / c)"),
        ("-a*2", "((-a) * 2)"),
        ("2 - -1", "(2 - (-1))"),
        ("(a+b)*2+SHIFT(c,1)", "(((a + b) * 2) + SHIFT(c, 1))"),
        ("min (a, b)", "MIN(a, b)"),
    ],
)
def test_parser_groups_by_precedence_and_left_associativity(text: str, grouped: str) -> None:
    assert format_tree(parse_expression(text)) == grouped


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        (".5", "Unexpected character '.'", 0),
        ("5.", "Expected digit after decimal point", 2),
        ("1e", "Expected digit in exponent", 2),
        ("1e+", "Expected digit in exponent", 3),
        ("MIN(a,)", "Unexpected character ')'", 6),
        ("a + ", "Unexpected end of expression", 4),
        ("a b", "Unexpected character 'b'", 2),
        ("(a + b", "Expected ')'", 6),
        ("a $ b", "Unexpected character '$'", 2),
        ("", "Unexpected end of expression", 0),
    ],
)
def test_syntax_errors_name_the_offending_character(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_expression(text)
    assert caught.value.message == message
    assert caught.value.position == position
    assert caught.value.errors[0].code == "expr_syntax"


def test_syntax_error_is_reported_by_load_model_with_node_path_and_position(node_issues) -> None:
    issues = node_issues([const("a", [1, 2, 3]), expr("x", "a + ")])
    assert [(i.code, i.path, i.position) for i in issues] == [("expr_syntax", "nodes[1].expr", 4)]


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse_expression("(" * 500 + "a" + ")" * 500)


def test_long_flat_chains_evaluate_without_recursion_limits(run_nodes) -> None:
    series = run_nodes([const("a", [1, 2]), expr("s", " + ".join(["a"] * 5000))], 2)
    assert series["s"].tolist() == [5000, 10000]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-a*2", [-2, -4]),
        ("2 - -1", [3, 3]),
        ("1.5e2", [150, 150]),
        ("1.5E+2 / 3", [50, 50]),
        ("25e-1", [2.5, 2.5]),
    ],
)
def test_valid_extension_forms(run_nodes, text: str, expected: list[float]) -> None:
    series = run_nodes([const("a", [1, 2]), expr("x", text)], 2)
    assert series["x"].tolist() == expected


# --- checks before evaluation ------------------------------------------------------------------


def test_unknown_function_at_the_name(node_issues) -> None:
    issues = node_issues([const("x", [1, 2, 3]), expr("y", "foo(x)")])
    assert [(i.code, i.path, i.position, i.message) for i in issues] == [
        ("function_unknown", "nodes[1].expr", 0, "Unknown function: foo")
    ]


def test_unknown_function_position_is_the_name_offset(node_issues) -> None:
    issues = node_issues([const("x", [1, 2, 3]), expr("y", "x + FOO(x)")])
    assert [(i.code, i.position, i.message) for i in issues] == [
        ("function_unknown", 4, "Unknown function: FOO")
    ]


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("MIN(a)", 0),
        ("MAX(a)", 0),
        ("MIN()", 0),
        ("a + SHIFT(a)", 4),
        ("CLAMP(a, 1)", 0),
        ("ABS(a, a)", 0),
        ("SHIFT(a, 1, 2)", 0),
    ],
)
def test_wrong_arity_at_the_name(node_issues, text: str, position: int) -> None:
    issues = node_issues([const("a", [1, 2, 3]), expr("y", text)])
    assert [(i.code, i.position) for i in issues] == [("function_arity", position)]


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("SHIFT(x,-1)", 8),
        ("SHIFT(x, 1.0)", 9),
        ("SHIFT(x, 1e0)", 9),
        ("SHIFT(x, n)", 9),
        ("SHIFT(x, (1))", 9),
        ("SHIFT(x, 1+1)", 9),
    ],
)
def test_shift_lag_must_be_a_digits_only_literal(node_issues, text: str, position: int) -> None:
    issues = node_issues([const("x", [1, 2, 3]), const("n", [1, 1, 1]), expr("y", text)])
    assert [(i.code, i.path, i.position) for i in issues] == [
        ("shift_lag_invalid", "nodes[2].expr", position)
    ]


def test_unknown_reference_at_the_identifier(node_issues) -> None:
    issues = node_issues([const("a", [1, 2, 3]), expr("y", "a + zz * MIN(a, qq)")])
    assert [(i.code, i.position, i.message) for i in issues] == [
        ("node_unknown", 4, "Unknown node: zz"),
        ("node_unknown", 16, "Unknown node: qq"),
    ]


def test_function_problems_are_raised_by_load_model_before_any_evaluation(tmp_path) -> None:
    # The source file does not exist; load_model must fail on the expression without looking.
    from runs.engine import load_model

    doc = {
        "grid": {"bins": 3, "binSize": 1, "binUnit": "hours"},
        "nodes": [{"id": "x", "source": "file:missing.csv"}, expr("y", "FOO(x) + MIN(x)")],
    }
    with pytest.raises(ModelError) as caught:
        load_model(doc)
    assert [(i.code, i.position) for i in caught.value.errors] == [
        ("function_unknown", 0),
        ("function_arity", 9),
    ]


# --- evaluation vectors (spec 02 §12) ----------------------------------------------------------


def test_shift_by_one(run_nodes) -> None:
    series = run_nodes([const("d", [10, 20, 30, 40]), expr("s", "SHIFT(d,1)")], 4)
    assert series["s"].tolist() == [0, 10, 20, 30]


def test_shift_inside_arithmetic(run_nodes) -> None:
    series = run_nodes(
        [
            const("a", [1, 2, 3, 4]),
            const("b", [2, 3, 4, 5]),
            const("c", [100, 200, 300, 400]),
            expr("r", "(a+b)*2+SHIFT(c,1)"),
        ],
        4,
    )
    assert series["r"].tolist() == [6, 110, 214, 318]


def test_constant_expression_fills_every_bin(run_nodes) -> None:
    series = run_nodes([expr("k", "42.5")], 4)
    assert series["k"].tolist() == [42.5, 42.5, 42.5, 42.5]
    assert series["k"].dtype == np.float64


def test_shift_by_two_and_beyond_the_grid(run_nodes) -> None:
    series = run_nodes([const("x", [100, 200, 300, 400, 500]), expr("s", "SHIFT(x,2)")], 5)
    assert series["s"].tolist() == [0, 0, 100, 200, 300]
    series = run_nodes([const("x", [1, 2, 3]), expr("s", "SHIFT(x,5)"), expr("t", "SHIFT(x, 3)")], 3)
    assert series["s"].tolist() == [0, 0, 0]
    assert series["t"].tolist() == [0, 0, 0]


def test_shift_by_zero_is_the_identity_and_a_separate_array(run_nodes) -> None:
    series = run_nodes([const("x", [1, 2, 3]), expr("s", "SHIFT(x, 0)"), expr("r", "x")], 3)
    assert series["s"].tolist() == [1, 2, 3]
    assert series["r"].tolist() == [1, 2, 3]
    assert not np.shares_memory(series["s"], series["x"])
    assert not np.shares_memory(series["r"], series["x"])


def test_shift_of_a_constant_and_a_huge_lag(run_nodes) -> None:
    series = run_nodes([expr("s", "SHIFT(5, 2)"), expr("z", "SHIFT(5, 99999999999999999999)")], 4)
    assert series["s"].tolist() == [0, 0, 5, 5]
    assert series["z"].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a+b*c", [1 + 2 * 3, 2 + 3 * 4]), ("a-b/c", [1 - 2 / 3, 2 - 3 / 4]), ("a-b-c", [1 - 2 - 3, 2 - 3 - 4])],
)
def test_precedence_in_values(run_nodes, text: str, expected: list[float]) -> None:
    series = run_nodes([const("a", [1, 2]), const("b", [2, 3]), const("c", [3, 4]), expr("r", text)], 2)
    assert series["r"].tolist() == expected


def test_division_by_zero_gives_zero_even_for_nan_and_nan_divisor_gives_nan(run_nodes) -> None:
    series = run_nodes([const("a", [1, 0, NAN, 1]), const("b", [0, 0, 0, NAN]), expr("q", "a/b")], 4)
    q = series["q"]
    assert q[:3].tolist() == [0, 0, 0]
    assert math.isnan(q[3])


def test_division_by_negative_zero_and_by_constant_zero(run_nodes) -> None:
    series = run_nodes(
        [
            const("a", [5, -5, NAN]),
            const("z", [-0.0, 0.0, -0.0]),
            expr("q", "a / z"),
            expr("k", "a / 0"),
            expr("m", "a / (1 - 1)"),
            expr("c", "7 / 0"),
            expr("h", "a / 2"),
        ],
        3,
    )
    assert series["q"].tolist() == [0, 0, 0]
    assert series["k"].tolist() == [0, 0, 0]
    assert series["m"].tolist() == [0, 0, 0]
    assert series["c"].tolist() == [0, 0, 0]
    assert series["h"][:2].tolist() == [2.5, -2.5]
    assert math.isnan(series["h"][2])


def test_min_of_three_is_the_elementwise_minimum(run_nodes) -> None:
    series = run_nodes(
        [const("a", [1, 5, 9]), const("b", [4, 2, 8]), const("c", [7, 6, 3]), expr("m", "MIN(a,b,c)")], 3
    )
    assert series["m"].tolist() == [1, 2, 3]


def test_min_and_max_propagate_nan(run_nodes) -> None:
    series = run_nodes(
        [const("a", [1, NAN]), const("b", [2, 0]), expr("lo", "MIN(a,b)"), expr("hi", "MAX(a,b)")], 2
    )
    assert series["lo"][0] == 1
    assert math.isnan(series["lo"][1])
    assert series["hi"][0] == 2
    assert math.isnan(series["hi"][1])


def test_clamp(run_nodes) -> None:
    series = run_nodes([const("v", [-5, 5, 15, NAN]), expr("c", "CLAMP(v,0,10)")], 4)
    assert series["c"][:3].tolist() == [0, 5, 10]
    assert math.isnan(series["c"][3])


def test_clamp_with_lo_above_hi_gives_lo(run_nodes) -> None:
    series = run_nodes([const("v", [-5, 5, 15]), expr("c", "CLAMP(v, 10, 0)")], 3)
    assert series["c"].tolist() == [10, 10, 10]


def test_abs_and_case_insensitive_names(run_nodes) -> None:
    series = run_nodes(
        [const("v", [-5, 5, -0.5]), expr("a", "abs(v)"), expr("m", "Max(v, 0)"), expr("s", "shift(v, 1)")], 3
    )
    assert series["a"].tolist() == [5, 5, 0.5]
    assert series["m"].tolist() == [0, 5, 0]
    assert series["s"].tolist() == [0, -5, 5]


def test_overflow_gives_infinity_without_warnings(run_nodes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        series = run_nodes(
            [
                const("a", [1e308, -1e308, 0]),
                expr("sq", "a * a * 10"),
                expr("z", "(a - a) / a"),
                expr("k", "1e308 * 10"),
            ],
            3,
        )
    assert series["sq"][:2].tolist() == [math.inf, math.inf]
    assert series["z"][:2].tolist() == [0, 0]
    assert series["z"][2] == 0  # 0/0 is 0 by the division rule
    assert series["k"].tolist() == [math.inf] * 3


def test_self_reference_is_a_cycle(node_issues) -> None:
    issues = node_issues([const("a", [1, 2, 3]), expr("q", "MAX(0, SHIFT(q, 1) + a)")])
    assert [(i.code, i.nodes, i.message) for i in issues] == [("graph_cycle", ("q",), "Graph has a cycle: q")]
