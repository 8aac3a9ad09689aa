"""Load phase (spec 01 §1, §2, §3 phase 1): every template_invalid variant, with its path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from template_helpers import MINI, LoadText, WriteTemplate

from runs.errors import TemplateError
from templates_catalog.documents import MAX_TEMPLATE_BYTES, load_template
from templates_catalog.generation import generate_model


def variant(*replacements: tuple[str, str]) -> str:
    text = MINI
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def load_issues(load_text: LoadText, text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(TemplateError) as info:
        load_text(text)
    return [(i.code, i.path, i.message) for i in info.value.errors]


def test_mini_template_loads(load_text: LoadText) -> None:
    template = load_text()
    assert (template.id, template.title, template.version, template.mode) == (
        "mini",
        "Mini",
        "1.0.0",
        "simulation",
    )
    assert template.tags == ("test",)
    assert [p.name for p in template.parameters] == ["bins", "demand", "factor", "label", "src"]
    assert [p.telemetry_bindable for p in template.parameters] == [False, False, False, False, True]
    assert template.parameters[1].default == [1.0, 2.0, 3.0]
    assert template.file_name == "mini.yaml"


def test_file_hash_is_sha256_of_the_bytes(write_template: WriteTemplate) -> None:
    path = write_template()
    assert load_template(path).file_hash == "sha256:" + hashlib.sha256(MINI.encode()).hexdigest()


def test_bom_and_crlf_are_accepted(load_text: LoadText, write_template: WriteTemplate) -> None:
    path = write_template()
    path.write_bytes(b"\xef\xbb\xbf" + MINI.replace("\n", "\r\n").encode())
    assert load_template(path).id == "mini"


@pytest.mark.parametrize(
    ("replacements", "path", "fragment"),
    [
        pytest.param((("outputs:\n", "outputs: [\n"),), "$", "YAML error", id="yaml-syntax"),
        pytest.param(
            (("  title: Mini\n", "  title: Mini\n  id: other\n"),), "$", "duplicate key", id="duplicate-key"
        ),
        pytest.param(
            (("grid:\n", "extra: 1\ngrid:\n"),), "extra", "unknown key 'extra'", id="unknown-top-key"
        ),
        pytest.param(
            (('expr: "demand * ${factor}"}', 'expr: "demand * ${factor}", colour: red}'),),
            "nodes[1].colour",
            "unknown key",
            id="unknown-node-key",
        ),
        pytest.param(
            (("  description: A small", "  summary: x\n  description: A small"),),
            "metadata.summary",
            "unknown key",
            id="unknown-metadata-key",
        ),
        pytest.param((("id: mini", "id: Mini_1"),), "metadata.id", "id must match", id="bad-id"),
        pytest.param((("id: mini", "id: -mini"),), "metadata.id", "id must match", id="bad-id-leading-dash"),
        pytest.param(
            (("id: mini", 'id: "mini\\n"'),), "metadata.id", "id must match", id="id-trailing-newline"
        ),
        pytest.param(
            (("version: 1.0.0", 'version: "1.0.0\\n"'),), "metadata.version", "version", id="version-newline"
        ),
        pytest.param(
            (("version: 1.0.0", "version: \u0661.0.0"),),
            "metadata.version",
            "version",
            id="version-non-ascii",
        ),
        pytest.param(
            (("version: 1.0.0", "version: '1.0'"),), "metadata.version", "version", id="bad-version"
        ),
        pytest.param(
            (("version: 1.0.0", "version: 1.0.0+b"),), "metadata.version", "version", id="bad-version-plus"
        ),
        pytest.param(
            (("  title: Mini\n", "  title: ''\n"),), "metadata.title", "non-empty", id="empty-title"
        ),
        pytest.param(
            (('"demand * ${factor}"', '"demand * ${factor"'),),
            "nodes[1].expr",
            "malformed placeholder",
            id="unclosed",
        ),
        pytest.param(
            (('"demand * ${factor}"', '"demand * ${1x}"'),),
            "nodes[1].expr",
            "malformed placeholder",
            id="bad-name",
        ),
        pytest.param(
            (("      group: ${label}\n", '      group: ${label}\n      ui: {"${label}": 1}\n'),),
            "topology.nodes[0].ui.${label}",
            "not allowed in a key",
            id="placeholder-in-key",
        ),
        pytest.param(
            (('expr: "demand * ${factor}"}', 'expr: "demand * ${factor}", dependencies: [demand, other]}'),),
            "nodes[1].dependencies",
            "do not match",
            id="dependencies-mismatch",
        ),
        pytest.param(
            (("start: 2025-01-01T00:00:00Z", "start: 2025-01-01T00:00:00+02:00"),),
            "window.start",
            "UTC",
            id="window-offset",
        ),
        pytest.param(
            (("  binUnit: Minutes\n", "  binUnit: Minutes\n  start: 2025-01-02T00:00:00Z\n"),),
            "grid.start",
            "agree with window.start",
            id="grid-start-disagrees",
        ),
        pytest.param((("mode: simulation", "mode: batch"),), "mode", "simulation", id="bad-mode"),
        pytest.param(
            (("generator: flowtime-sim", "generator: other"),), "generator", "flowtime-sim", id="generator"
        ),
        pytest.param(
            (("schemaVersion: 1", "schemaVersion: 2"),), "schemaVersion", "must be 1", id="schema-version"
        ),
        pytest.param(
            (("{name: factor, type: number", "{name: factor, type: float"),),
            "parameters[2].type",
            "type",
            id="ptype",
        ),
        pytest.param(
            (("default: 0.5, minimum: 0,", "default: 0.5, minimum: 0, min: 1,"),),
            "parameters[2].min",
            "not both",
            id="min-alias-twice",
        ),
        pytest.param(
            (("default: 0.5, minimum: 0, maximum: 10", "default: 0.5, minimum: 5, maximum: 1"),),
            "parameters[2].minimum",
            "greater than maximum",
            id="min-above-max",
        ),
        pytest.param(
            (('default: "svc"}', 'default: "svc", minimum: 1}'),),
            "parameters[3].minimum",
            "integer, number and array",
            id="min-on-string",
        ),
        pytest.param(
            (("default: 0.5, minimum: 0, maximum: 10", "default: 20, minimum: 0, maximum: 10"),),
            "parameters[2].default",
            "default must be ≤ 10, got 20",
            id="default-above-max",
        ),
        pytest.param(
            (("{name: factor, type: number, default: 0.5", "{name: factor, type: number, default: '0.5'"),),
            "parameters[2].default",
            "must be a finite number",
            id="default-type",
        ),
        pytest.param(
            (('default: "svc"}', 'default: "svc", required: true}'),),
            "parameters[3].required",
            "required",
            id="required-disagrees",
        ),
        pytest.param(
            (('{name: src, type: string, default: ""}', '{name: src, type: string, default: "x.csv"}'),),
            "parameters[4].default",
            'must default to ""',
            id="bindable-default",
        ),
        pytest.param(
            (("items: {type: number}", "items: {type: string}"),),
            "parameters[1].items",
            "items",
            id="items-not-number",
        ),
        pytest.param(
            (("semantics: {arrivals: demand, served: served}", "semantics: {arrivals: demand}"),),
            "topology.nodes[0].semantics.served",
            "needs semantics.served",
            id="semantics-served-missing",
        ),
        pytest.param(
            (
                (
                    "semantics: {arrivals: demand, served: served}",
                    "semantics: {arrivals: demand, served: nope}",
                ),
            ),
            "topology.nodes[0].semantics.served",
            "not a node id",
            id="semantics-not-node",
        ),
        pytest.param(
            (('outputs:\n  - series: "*"\n', "outputs: []\n"),), "outputs", "at least 1", id="no-outputs"
        ),
        pytest.param(
            (("  binUnit: Minutes\n", "  binUnit: Minutes\n  binMinutes: 60\n"),),
            "grid.binMinutes",
            "unknown key",
            id="grid-unknown-key",
        ),
    ],
)
def test_template_invalid_variants(
    load_text: LoadText, replacements: tuple[tuple[str, str], ...], path: str, fragment: str
) -> None:
    issues = load_issues(load_text, variant(*replacements))
    assert [(code, p) for code, p, _ in issues] == [("template_invalid", path)]
    assert fragment in issues[0][2]


@pytest.mark.parametrize(
    ("new_name", "message"),
    [("1label", "name must match ^[A-Za-z_][A-Za-z0-9_]*$"), ("bins", "duplicate parameter name 'bins'")],
)
def test_bad_parameter_name_also_leaves_its_placeholder_unknown(
    load_text: LoadText, new_name: str, message: str
) -> None:
    issues = load_issues(
        load_text, variant(("{name: label, type: string", f"{{name: {new_name}, type: string"))
    )
    assert issues == [
        ("template_invalid", "parameters[3].name", message),
        ("placeholder_unknown", "topology.nodes[0].group", "unknown placeholder '${label}'"),
    ]


def test_missing_metadata(load_text: LoadText) -> None:
    text = variant(("metadata:\n  id: mini\n  title: Mini\n  version: 1.0.0\n", "meta_missing_marker:\n"))
    text = text.replace(
        "meta_missing_marker:\n  description: A small template for tests.\n  tags: [test]\n", ""
    )
    issues = load_issues(load_text, text)
    assert [(c, p) for c, p, _ in issues] == [("template_invalid", "metadata")]


def test_placeholder_unknown(load_text: LoadText) -> None:
    issues = load_issues(load_text, variant(('"demand * ${factor}"', '"MIN(demand, ${nope})"')))
    assert issues == [("placeholder_unknown", "nodes[1].expr", "unknown placeholder '${nope}'")]


def test_placeholders_in_parameters_section_are_not_checked(load_text: LoadText) -> None:
    template = load_text(variant(('default: "svc"', 'default: "${not_a_param}"')))
    assert template.parameter("label") is not None
    assert template.parameters[3].default == "${not_a_param}"


def test_all_issues_of_the_phase_are_collected(load_text: LoadText) -> None:
    text = variant(
        ("id: mini", "id: Bad"),
        ("version: 1.0.0", "version: x"),
        ('"demand * ${factor}"', '"demand * ${nope} + ${"'),
        ("{name: factor, type: number", "{name: factor, type: float"),
    )
    issues = load_issues(load_text, text)
    assert [(c, p) for c, p, _ in issues] == [
        ("template_invalid", "metadata.id"),
        ("template_invalid", "metadata.version"),
        ("template_invalid", "parameters[2].type"),
        ("template_invalid", "nodes[1].expr"),
        ("placeholder_unknown", "nodes[1].expr"),
    ]


def test_matching_dependencies_are_accepted_and_dropped(load_text: LoadText) -> None:
    template = load_text(
        variant(
            ('expr: "demand * ${factor}"}', 'expr: "MIN(demand, 1e5) * ${factor}", dependencies: [demand]}')
        )
    )
    generated = generate_model(template, parameters={})
    assert "dependencies" not in generated.tree["nodes"][1]
    assert "dependencies" not in generated.text


def test_expression_alias_and_pmf_policy(load_text: LoadText) -> None:
    text = variant(
        (
            '{id: served, kind: expr, expr: "demand * ${factor}"}',
            '{id: served, kind: expr, expression: "demand * 2"}',
        ),
        (
            "outputs:",
            "  - id: p\n    kind: pmf\n"
            "    pmf: {values: [1, 2], probabilities: [0.5, 0.5], policy: repeat}\noutputs:",
        ),
    )
    generated = generate_model(load_text(text), parameters={})
    assert generated.tree["nodes"][1] == {"id": "served", "kind": "expr", "expr": "demand * 2"}
    assert generated.tree["nodes"][2] == {
        "id": "p",
        "kind": "pmf",
        "pmf": {"values": [1, 2], "probabilities": [0.5, 0.5]},
    }


def test_template_larger_than_one_mebibyte(write_template: WriteTemplate) -> None:
    path = write_template(MINI + "#" * MAX_TEMPLATE_BYTES + "\n")
    with pytest.raises(TemplateError) as info:
        load_template(path)
    assert [(i.code, i.path) for i in info.value.errors] == [("template_invalid", "$")]
    assert "1 MiB" in info.value.errors[0].message


def test_trial_generation_reports_a_default_of_the_wrong_length(load_text: LoadText) -> None:
    issues = load_issues(load_text, variant(("default: 3, minimum: 1", "default: 4, minimum: 1")))
    assert issues == [
        ("template_invalid", "parameters[1].default", "default: demand has 3 elements but grid.bins is 4")
    ]


def test_trial_generation_passes_engine_codes_through(load_text: LoadText) -> None:
    with pytest.raises(TemplateError) as info:
        load_text(variant(('"demand * ${factor}"', '"FOO(demand) * ${factor}"')))
    assert info.value.code == "model_invalid"
    [issue] = info.value.errors
    assert (issue.code, issue.path, issue.message, issue.position) == (
        "function_unknown",
        "nodes[1].expr",
        "Unknown function: FOO",
        0,
    )


def test_trial_generation_can_be_skipped(load_text: LoadText) -> None:
    template = load_text(variant(('"demand * ${factor}"', '"FOO(demand)"')), trial_generation=False)
    with pytest.raises(TemplateError) as info:
        generate_model(template, parameters={})
    assert [i.code for i in info.value.errors] == ["function_unknown"]


def test_missing_file_raises_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_template(tmp_path / "absent.yaml")


def test_range_issues_name_the_key_as_written(load_text: LoadText) -> None:
    from runs.errors import TemplateError

    text = MINI.replace(
        '{name: label, type: string, default: "svc"}', '{name: label, type: string, default: "svc", min: 1}'
    )
    with pytest.raises(TemplateError) as caught:
        load_text(text)
    assert [(i.code, i.path) for i in caught.value.errors] == [("template_invalid", "parameters[3].min")]
