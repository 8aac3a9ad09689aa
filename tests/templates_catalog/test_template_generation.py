"""The generated model (spec 01 §6): bytes, key order, modelId, provenance, seeds, sources."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from template_helpers import CATALOG_DIR, MINI, LoadText

from runs.canonical import canonical_json
from runs.engine import evaluate
from runs.engine.yaml_loader import load_yaml
from runs.errors import TemplateError
from templates_catalog.documents import load_template
from templates_catalog.generation import generate_model
from templates_catalog.model_yaml import NeedsParsing, dump_model_yaml, format_float, parsed_form

MINI_MODEL = """\
schemaVersion: 1
generator: flowtime-sim
mode: simulation
metadata:
  id: mini
  title: Mini
  description: A small template for tests.
  version: 1.0.0
  tags:
    - test
window:
  start: "2025-01-01T00:00:00Z"
grid:
  bins: 3
  binSize: 60
  binUnit: minutes
  startTimeUtc: "2025-01-01T00:00:00Z"
topology:
  nodes:
    - id: Svc
      group: svc
      semantics:
        arrivals: demand
        served: served
nodes:
  - id: demand
    kind: const
    values: [1, 2, 3]
  - id: served
    kind: expr
    expr: demand * 0.5
outputs:
  - series: "*"
provenance:
  source: flowtime-runs
  generator: flowtime-runs/0.1.0
  templateId: mini
  templateVersion: 1.0.0
  mode: simulation
  modelId: {model_id}
  schemaVersion: 1
  parameters:
    bins: 3
    demand: [1, 2, 3]
    factor: 0.5
    label: svc
    src: ""
"""


def _model_id(tree: dict[str, Any]) -> str:
    without = {k: v for k, v in tree.items() if k != "provenance"}
    return "sha256:" + hashlib.sha256(canonical_json(without)).hexdigest()


def test_mini_model_text_is_exact(load_text: LoadText) -> None:
    generated = generate_model(load_text(), parameters={})
    assert generated.model_id == _model_id(generated.tree)
    assert generated.text == MINI_MODEL.replace("{model_id}", generated.model_id)
    assert load_yaml(generated.text) == generated.tree
    assert evaluate(generated.model).series["served"].tolist() == [0.5, 1, 1.5]


def test_text_is_utf8_lf_without_bom(load_text: LoadText) -> None:
    text = generate_model(load_text(MINI.replace("title: Mini", "title: Mini – ünï")), parameters={}).text
    data = text.encode("utf-8")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data and "\t" not in text
    assert "  title: Mini – ünï\n" in text


def test_two_generations_are_byte_identical(load_text: LoadText) -> None:
    template = load_text()
    first = generate_model(template, parameters={"factor": 0.25}, seed=3)
    second = generate_model(load_text(), parameters={"factor": 0.25}, seed=3)
    assert first.text == second.text
    assert first.model_id == second.model_id
    assert first.text.encode() == second.text.encode()


@pytest.mark.parametrize("template_id", ["it-system-microservices", "network-reliability", "support-queue"])
def test_shipped_models_repeat_and_round_trip(template_id: str) -> None:
    template = load_template(CATALOG_DIR / f"{template_id}.yaml")
    first = generate_model(template, parameters={})
    second = generate_model(load_template(CATALOG_DIR / f"{template_id}.yaml"), parameters={})
    assert first.text == second.text
    assert load_yaml(first.text) == first.tree


def test_no_wall_clock_time_in_the_model(load_text: LoadText) -> None:
    text = generate_model(load_text(), parameters={}).text
    today = datetime.now(UTC)
    assert today.strftime("%Y-%m-%d") not in text
    assert str(today.year) not in text
    # The only timestamps are the template's window start.
    assert text.count("2025-01-01T00:00:00Z") == 2


def test_model_id_is_unaffected_by_provenance(load_text: LoadText) -> None:
    plain = generate_model(load_text(), parameters={})
    custom = generate_model(load_text(MINI + "provenance:\n  source: my-pipeline\n"), parameters={})
    assert custom.tree["provenance"]["source"] == "my-pipeline"
    assert plain.tree["provenance"]["source"] == "flowtime-runs"
    assert custom.text != plain.text
    assert custom.model_id == plain.model_id == _model_id(plain.tree)


def test_provenance(load_text: LoadText) -> None:
    generated = generate_model(load_text(), parameters={"bins": 2, "demand": [4, 5]})
    assert generated.tree["provenance"] == {
        "source": "flowtime-runs",
        "generator": "flowtime-runs/0.1.0",
        "templateId": "mini",
        "templateVersion": "1.0.0",
        "mode": "simulation",
        "modelId": generated.model_id,
        "schemaVersion": 1,
        "parameters": {"bins": 2, "demand": [4.0, 5.0], "factor": 0.5, "label": "svc", "src": ""},
    }
    assert generated.parameters == generated.tree["provenance"]["parameters"]


@pytest.mark.parametrize(
    "parameters",
    [
        {"bins": 2, "demand": [1, 2]},
        {"demand": [1, 2, 4]},
        {"factor": 0.6},
        {"label": "other"},
    ],
)
def test_changing_any_parameter_changes_the_text(load_text: LoadText, parameters: dict[str, Any]) -> None:
    template = load_text()
    base = generate_model(template, parameters={})
    changed = generate_model(template, parameters=parameters)
    assert changed.text != base.text
    assert changed.model_id != base.model_id


def test_binding_changes_the_text(load_text: LoadText) -> None:
    template = load_text()
    unbound = generate_model(template, parameters={}, mode="telemetry")
    bound = generate_model(template, parameters={}, mode="telemetry", bindings={"src": "a.csv"})
    assert bound.text != unbound.text and bound.model_id != unbound.model_id
    assert bound.tree["nodes"][0] == {
        "id": "demand",
        "kind": "const",
        "values": [1, 2, 3],
        "source": "file://telemetry/a.csv",
    }


def test_seed_override_adds_rng(load_text: LoadText) -> None:
    base = generate_model(load_text(), parameters={})
    seeded = generate_model(load_text(), parameters={}, seed=7)
    assert "rng" not in base.tree
    assert seeded.tree["rng"] == {"kind": "pcg32", "seed": 7}
    assert 'outputs:\n  - series: "*"\nrng:\n  kind: pcg32\n  seed: 7\nprovenance:\n' in seeded.text
    assert seeded.model_id != base.model_id


def test_seed_override_replaces_the_template_seed() -> None:
    template = load_template(CATALOG_DIR / "network-reliability.yaml")
    assert generate_model(template, parameters={}).tree["rng"] == {"kind": "pcg32", "seed": 42}
    seeded = generate_model(template, parameters={}, seed=99)
    assert seeded.tree["rng"] == {"kind": "pcg32", "seed": 99}
    assert seeded.parameters["rngSeed"] == 42
    assert seeded.model.rng_seed == 99


def test_empty_sources_are_dropped(load_text: LoadText) -> None:
    generated = generate_model(load_text(), parameters={"src": ""})
    assert generated.tree["nodes"][0] == {"id": "demand", "kind": "const", "values": [1, 2, 3]}


KEY_ORDER_TEMPLATE = """\
outputs:
  - {description: everything, id: o1, filename: all.csv, exclude: [q], source: "*"}
nodes:
  - {dependencies: [], source: "", values: [1, 2], kind: const, id: demand}
  - {expression: "demand * 0.5", id: served, kind: expr}
  - {outflow: served, inflow: demand, kind: backlog, id: q}
topology:
  edges:
    - {weight: 2, to: "B:in", from: "Svc:out", id: e1}
  nodes:
    - id: Svc
      ui: {x: 1, y: 2}
      initialCondition: {queueDepth: 0}
      semantics:
        slaMin: 5
        external_demand: demand
        queueDepth: q
        capacity: served
        served: served
        arrivals: demand
      group: g
      kind: queue
    - {semantics: {served: served, arrivals: served}, id: B}
grid: {binUnit: HOURS, binSize: 1, bins: 2, start: "2025-03-01T12:00:00.250000+00:00"}
metadata: {tags: [], description: "", version: 2.0.0-rc.1, title: Order, id: order}
mode: TELEMETRY
"""


def test_key_order_renames_and_normalisation(load_text: LoadText) -> None:
    generated = generate_model(load_text(KEY_ORDER_TEMPLATE), parameters={})
    assert list(generated.tree) == [
        "schemaVersion",
        "generator",
        "mode",
        "metadata",
        "grid",
        "topology",
        "nodes",
        "outputs",
        "provenance",
    ]
    assert generated.text.split("provenance:")[0] == (
        "schemaVersion: 1\n"
        "generator: flowtime-sim\n"
        "mode: telemetry\n"
        "metadata:\n"
        "  id: order\n"
        "  title: Order\n"
        "  version: 2.0.0-rc.1\n"
        "grid:\n"
        "  bins: 2\n"
        "  binSize: 1\n"
        "  binUnit: hours\n"
        '  startTimeUtc: "2025-03-01T12:00:00.250000Z"\n'
        "topology:\n"
        "  nodes:\n"
        "    - id: Svc\n"
        "      kind: queue\n"
        "      group: g\n"
        "      semantics:\n"
        "        arrivals: demand\n"
        "        served: served\n"
        "        queue: q\n"
        "        capacity: served\n"
        "        externalDemand: demand\n"
        "        slaMin: 5\n"
        "      initialCondition:\n"
        "        queueDepth: 0\n"
        "      ui:\n"
        "        x: 1\n"
        "        y: 2\n"
        "    - id: B\n"
        "      semantics:\n"
        "        arrivals: served\n"
        "        served: served\n"
        "  edges:\n"
        "    - id: e1\n"
        "      from: Svc:out\n"
        "      to: B:in\n"
        "      weight: 2\n"
        "nodes:\n"
        "  - id: demand\n"
        "    kind: const\n"
        "    values: [1, 2]\n"
        "  - id: served\n"
        "    kind: expr\n"
        "    expr: demand * 0.5\n"
        "  - id: q\n"
        "    kind: backlog\n"
        "    inflow: demand\n"
        "    outflow: served\n"
        "outputs:\n"
        '  - series: "*"\n'
        "    exclude:\n"
        "      - q\n"
        "    as: all.csv\n"
    )
    assert generated.tree["provenance"]["parameters"] == {}
    assert evaluate(generated.model).series["q"].tolist() == [0.5, 1.5]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-05, "1.0e-05"),
        (1.5e-07, "1.5e-07"),
        (1e16, "1.0e+16"),
        (2.0, "2"),
        (0.1, "0.1"),
        (-3.0, "-3"),
        (float("nan"), ".nan"),
        (float("inf"), ".inf"),
        (float("-inf"), "-.inf"),
    ],
)
def test_float_dump_rule(value: float, text: str) -> None:
    assert format_float(value) == text


def test_floats_read_back_as_floats() -> None:
    text = dump_model_yaml({"values": [1e-05, float("nan"), float("inf"), float("-inf"), 2.5]})
    assert text == "values: [1.0e-05, .nan, .inf, -.inf, 2.5]\n"
    values = load_yaml(text)["values"]
    assert values[0] == 1e-05 and type(values[0]) is float
    assert math.isnan(values[1]) and values[2:] == [math.inf, -math.inf, 2.5]


def test_tiny_number_parameter_in_values_and_expressions(load_text: LoadText) -> None:
    generated = generate_model(load_text(), parameters={"demand": [1e-05, 2, 3], "factor": 1e-05})
    assert "    values: [1.0e-05, 2, 3]\n" in generated.text
    assert "    expr: demand * 1e-05\n" in generated.text
    assert "    factor: 1.0e-05\n" in generated.text


@pytest.mark.parametrize(
    "value",
    ["", "*", "yes", "No", "null", "~", "123", "1.5", "0x1F", ".nan", "2025-01-01", "a: b", "a #b", "- x",
     "x:", "'q'", '"dq"', "tab\there", "line\nbreak", "\u2028", "\x7f", "\x85", "é", "😀", " lead",
     "trail ", "@x", "%x", "`x", "{a}", "[a]", "!tag", "&anchor", "|", ">", "?", "\\", "=", "<<"],
)  # fmt: skip
def test_any_string_round_trips(value: str) -> None:
    text = dump_model_yaml({"key": value, "list": [value, {"k": value}]})
    assert load_yaml(text) == {"key": value, "list": [value, {"k": value}]}


def test_engine_codes_pass_through_from_generation(load_text: LoadText) -> None:
    with pytest.raises(TemplateError) as info:
        generate_model(load_text(), parameters={}, max_bins=2)
    assert info.value.code == "model_invalid"
    assert [(i.code, i.path) for i in info.value.errors] == [("grid_invalid", "grid.bins")]


def test_invalid_mode_override_is_a_programming_error(load_text: LoadText) -> None:
    with pytest.raises(ValueError):
        generate_model(load_text(), parameters={}, mode="batch")


def typed(value: Any) -> Any:
    """``value`` with every scalar's type and repr spelled out (``100 == 100.0``, ``0.0 == -0.0``)."""
    if isinstance(value, dict):
        return {typed(k): typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize("template_id", ["it-system-microservices", "network-reliability", "support-queue"])
def test_the_generated_document_is_the_parse_of_the_generated_text(template_id: str) -> None:
    generated = generate_model(load_template(CATALOG_DIR / f"{template_id}.yaml"), parameters={}, seed=3)
    assert typed(generated.document) == typed(load_yaml(generated.text))


TRICKY_FLOATS = [100.0, -0.0, 0.0, -7.0, 1.5, 1e-05, 5e-324, 1e15, 9999999999999998.0, 1e16, 1e300,
                 -1e300, math.nan, math.inf, -math.inf, 0.1 + 0.2]  # fmt: skip
TRICKY_STRINGS = ["", "*", "yes", "No", "null", "~", "123", "1.5", "0x1F", ".nan", "2025-01-01", "a: b",
                  "a #b", "- x", "x:", "tab\there", "line\nbreak", "\r", "\u2028", "\x85", "\ufeff", "é",
                  "😀", " lead", "trail ", "=", "<<", "12:30", "1_000", "0o7"]  # fmt: skip


def test_the_parsed_form_is_what_a_reader_gets_back_from_the_written_text() -> None:
    tree: dict[Any, Any] = {
        "floats": TRICKY_FLOATS,
        "mixed": [1, 2.0, True, None, "x", [], {}, [1.0, "y"], {"k": -0.0}],
        "ints": [0, -1, 10**30],
        "tuple": (1.0, 2.5),
        "strings": TRICKY_STRINGS,
        "byKey": {value: value for value in TRICKY_STRINGS},
        1: "int key", 2.0: "float key", False: "bool key", None: "null key",
        "k" * 990: "a long key",
    }  # fmt: skip
    assert typed(parsed_form(tree)) == typed(load_yaml(dump_model_yaml(tree)))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=20,
    )
)
@settings(max_examples=200, deadline=None)
def test_any_tree_reads_back_as_its_parsed_form(value: Any) -> None:
    tree = {"value": value}
    assert typed(parsed_form(tree)) == typed(load_yaml(dump_model_yaml(tree)))


def test_a_key_too_long_for_a_reader_is_left_to_the_parser() -> None:
    with pytest.raises(NeedsParsing):
        parsed_form({"k" * 1000: 1})


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes"])
def test_the_parsed_form_refuses_what_the_writer_refuses(value: Any) -> None:
    message = f"cannot write {type(value).__name__} into a model"
    with pytest.raises(TypeError, match=message):
        dump_model_yaml({"value": value})
    with pytest.raises(TypeError, match=message):
        parsed_form({"value": value})
