"""``${name}`` substitution on the parsed tree (spec 01 §4): the table, inline text, no injection."""

from __future__ import annotations

import pytest
from template_helpers import MINI, LoadText

from runs.engine.yaml_loader import load_yaml
from runs.errors import TemplateError
from templates_catalog.generation import generate_model
from templates_catalog.substitution import inline_text, number_text, scan_placeholders, substitute_tree


def test_table_number_inline() -> None:
    assert substitute_tree("base_load * ${multiplier}", {"multiplier": 2.0}) == "base_load * 2"


def test_table_quoted_placeholder_in_a_flow_list_stays_typed() -> None:
    tree = load_yaml('values: ["${arrival_rate}", 150]')
    result = substitute_tree(tree, {"arrival_rate": 80})
    assert result == {"values": [80, 150]}
    assert type(result["values"][0]) is int


def test_table_quoted_whole_placeholder_becomes_an_int() -> None:
    result = substitute_tree(load_yaml('seed: "${randomSeed}"'), {"randomSeed": 12345})
    assert result == {"seed": 12345}
    assert type(result["seed"]) is int


def test_table_several_placeholders_in_one_pass() -> None:
    assert substitute_tree("${a} * ${b} + ${a}", {"a": 3, "b": 1e-5}) == "3 * 1e-05 + 3"


def test_table_string_value_is_one_scalar() -> None:
    label = "x: [1]\n- y"
    assert substitute_tree("${label}", {"label": label}) == label


def test_table_unknown_placeholder(load_text: LoadText) -> None:
    with pytest.raises(TemplateError) as info:
        load_text(MINI.replace('"demand * ${factor}"', '"MIN(demand, ${nope})"'))
    assert [(i.code, i.path) for i in info.value.errors] == [("placeholder_unknown", "nodes[1].expr")]


def test_quoting_never_changes_the_result() -> None:
    values = {"demand": [1.0, 2.0], "seed": 5}
    plain = substitute_tree(load_yaml("values: ${demand}\nseed: ${seed}"), values)
    quoted = substitute_tree(load_yaml("values: \"${demand}\"\nseed: '${seed}'"), values)
    assert plain == quoted == {"values": [1.0, 2.0], "seed": 5}


def test_a_list_stays_a_list_and_is_copied() -> None:
    values = {"demand": [1.0, 2.0]}
    result = substitute_tree({"a": "${demand}", "b": "${demand}"}, values)
    assert result == {"a": [1.0, 2.0], "b": [1.0, 2.0]}
    result["a"].append(3.0)
    assert values["demand"] == [1.0, 2.0] and result["b"] == [1.0, 2.0]


def test_inserted_text_is_never_rescanned() -> None:
    assert substitute_tree("svc-${label}", {"label": "${bins}", "bins": 3}) == "svc-${bins}"


def test_keys_are_never_substituted() -> None:
    assert substitute_tree({"${a}": "${a}"}, {"a": 1}) == {"${a}": 1}


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0, "2"), (0.9, "0.9"), (1e-05, "1e-05"), (-3.0, "-3"), (12.5, "12.5"), (1e16, "1e+16")],
)
def test_number_inline_text(value: float, text: str) -> None:
    assert number_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(-3, "-3"), (True, "true"), (False, "false"), ("abc", "abc"), ([1.0, 2.5], "[1, 2.5]"), (0.9, "0.9")],
)
def test_inline_text_per_type(value: object, text: str) -> None:
    assert inline_text(value) == text


def test_scan_placeholders() -> None:
    assert scan_placeholders("a ${x} ${y_1}").names == ("x", "y_1")
    assert scan_placeholders("a ${x").malformed == (2,)
    assert scan_placeholders("${} ${ok} ${9}").malformed == (0, 10)
    assert scan_placeholders("$x {y} $ {z}") == scan_placeholders("")


def test_yaml_cannot_be_injected_through_a_string_parameter(load_text: LoadText) -> None:
    template = load_text()
    label = "x: [1]\n- y\nnodes: []\n'\"# ${bins}"
    generated = generate_model(template, parameters={"label": label})
    reread = load_yaml(generated.text)
    assert reread["topology"]["nodes"][0]["group"] == label
    assert reread["nodes"] == generated.tree["nodes"]
    assert len(reread["nodes"]) == 2
    assert reread == generated.tree


def test_inline_number_text_in_an_expression(load_text: LoadText) -> None:
    template = load_text()
    for factor, expr in ((2, "demand * 2"), (0.9, "demand * 0.9"), (1e-05, "demand * 1e-05")):
        generated = generate_model(template, parameters={"factor": factor})
        assert generated.tree["nodes"][1]["expr"] == expr
        assert f"    expr: {expr}\n" in generated.text
