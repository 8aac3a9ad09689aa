"""Request phase (spec 01 §2, §3 phase 2, §5): names, values, the bins rule and bindings."""

from __future__ import annotations

from typing import Any

import pytest
from template_helpers import CATALOG_DIR, MINI, LoadText

from runs.errors import TemplateError
from templates_catalog.documents import Template, load_template
from templates_catalog.generation import generate_model


@pytest.fixture(scope="module")
def it_system() -> Template:
    return load_template(CATALOG_DIR / "it-system-microservices.yaml")


@pytest.fixture(scope="module")
def manufacturing() -> Template:
    return load_template(CATALOG_DIR / "manufacturing-line.yaml")


def request_issues(template: Template, **kwargs: Any) -> list[tuple[str, str, str | None, str]]:
    kwargs.setdefault("parameters", {})
    with pytest.raises(TemplateError) as info:
        generate_model(template, **kwargs)
    return [(i.code, i.path, i.reason, i.message) for i in info.value.errors]


def test_bins_above_maximum_is_one_issue_and_skips_the_bins_rule(it_system: Template) -> None:
    with pytest.raises(TemplateError) as info:
        generate_model(it_system, parameters={"bins": 96})
    assert info.value.code == "parameter_invalid"
    assert info.value.status == 422
    assert info.value.detail == "1 parameter is invalid."
    assert [i.as_error_item() for i in info.value.errors] == [
        {"field": "parameters.bins", "code": "maximum", "message": "must be ≤ 48, got 96"}
    ]


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"bins": 1}, ("parameters.bins", "minimum", "must be ≥ 3, got 1")),
        ({"bins": "6"}, ("parameters.bins", "type", "must be an integer, got the string '6'")),
        ({"bins": True}, ("parameters.bins", "type", "must be an integer, got true")),
        ({"bins": 6.5}, ("parameters.bins", "type", "must be an integer, got 6.5")),
        (
            {"bins": 2**63},
            (
                "parameters.bins",
                "type",
                "must be an integer of magnitude below 2^63, got 9223372036854775808",
            ),
        ),
        (
            {"requestPattern": "abc"},
            ("parameters.requestPattern", "type", "must be an array of numbers, got the string 'abc'"),
        ),
        (
            {"requestPattern": [100, 150, 200, -1, 120, 80]},
            ("parameters.requestPattern[3]", "minimum", "must be ≥ 0, got -1"),
        ),
        (
            {"requestPattern": [100, 150, "x", 180, 120, 80]},
            ("parameters.requestPattern[2]", "type", "must be a finite number, got the string 'x'"),
        ),
        (
            {"requestPattern": [100, 150, 200, 180, 120, float("nan")]},
            ("parameters.requestPattern[5]", "type", "must be a finite number, got NaN"),
        ),
        (
            {"databaseCapacity": [180, 180, 180, 180, 180, 10001]},
            ("parameters.databaseCapacity[5]", "maximum", "must be ≤ 10000, got 10001"),
        ),
        (
            {"telemetryRequestsSource": "/etc/passwd"},
            (
                "parameters.telemetryRequestsSource",
                "telemetry_source",
                "telemetryRequestsSource is a telemetry source: "
                "set it through telemetry bindings, not a value",
            ),
        ),
        (
            {"telemetryRequestsSource": 5},
            ("parameters.telemetryRequestsSource", "type", "must be a string, got 5"),
        ),
    ],
)
def test_parameter_invalid(
    it_system: Template, parameters: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    assert request_issues(it_system, parameters=parameters) == [("parameter_invalid", *expected)]


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"qualityRate": 2}, ("parameters.qualityRate", "maximum", "must be ≤ 1, got 2")),
        (
            {"qualityRate": "0.9"},
            ("parameters.qualityRate", "type", "must be a finite number, got the string '0.9'"),
        ),
        (
            {"defectRate": float("inf")},
            ("parameters.defectRate", "type", "must be a finite number, got Infinity"),
        ),
        (
            {"productionRate": False},
            ("parameters.productionRate", "type", "must be a finite number, got false"),
        ),
    ],
)
def test_number_parameter_invalid(
    manufacturing: Template, parameters: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    assert request_issues(manufacturing, parameters=parameters) == [("parameter_invalid", *expected)]


def test_boolean_and_string_types(load_text: LoadText) -> None:
    network = load_template(CATALOG_DIR / "network-reliability.yaml")
    assert request_issues(network, parameters={"samplePmfs": 1}) == [
        ("parameter_invalid", "parameters.samplePmfs", "type", "must be true or false, got 1")
    ]
    assert request_issues(load_text(), parameters={"label": 5}) == [
        ("parameter_invalid", "parameters.label", "type", "must be a string, got 5")
    ]


def test_bins_rule_flags_every_array_that_fills_a_const_node(it_system: Template) -> None:
    issues = request_issues(it_system, parameters={"bins": 12, "requestPattern": [1, 2, 3, 4, 5, 6]})
    assert issues == [
        (
            "parameter_invalid",
            f"parameters.{name}",
            "length",
            f"{name} has 6 elements but grid.bins is 12",
        )
        for name in ("requestPattern", "loadBalancerCapacity", "authCapacity", "databaseCapacity")
    ]


def test_bins_rule_passes_when_the_arrays_fit(it_system: Template) -> None:
    generated = generate_model(
        it_system,
        parameters={
            "bins": 3,
            "requestPattern": [1, 2, 3],
            "loadBalancerCapacity": [5, 5, 5],
            "authCapacity": [5, 5, 5],
            "databaseCapacity": [2, 2, 2],
        },
    )
    assert generated.model.grid.bins == 3
    assert generated.tree["nodes"][0]["values"] == [1.0, 2.0, 3.0]


def test_required_parameter(load_text: LoadText) -> None:
    template = load_text(
        MINI.replace("{name: factor, type: number, default: 0.5,", "{name: factor, type: number,")
    )
    factor = template.parameter("factor")
    assert factor is not None and factor.required and factor.default is None
    assert request_issues(template) == [
        ("parameter_invalid", "parameters.factor", "required", "a value is required")
    ]
    assert generate_model(template, parameters={"factor": 2}).parameters["factor"] == 2.0


def test_null_means_not_supplied(it_system: Template) -> None:
    generated = generate_model(it_system, parameters={"bins": None})
    assert generated.parameters["bins"] == 6


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Bins", "Unknown parameter 'Bins'; did you mean 'bins'?"),
        ("BINSIZE", "Unknown parameter 'BINSIZE'; did you mean 'binSize'?"),
        ("foo", "Unknown parameter 'foo'"),
    ],
)
def test_parameter_unknown(it_system: Template, name: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        generate_model(it_system, parameters={name: 6})
    assert info.value.code == "parameter_unknown"
    assert info.value.detail == message
    assert [(i.code, i.path, i.message) for i in info.value.errors] == [
        ("parameter_unknown", f"parameters.{name}", message)
    ]


def test_unknown_names_first_sorted_then_declaration_order(it_system: Template) -> None:
    issues = request_issues(
        it_system,
        parameters={
            "zeta": 1,
            "telemetryRequestsSource": "x",
            "requestPattern": "abc",
            "alpha": 1,
            "bins": 96,
        },
    )
    assert [(code, path) for code, path, _, _ in issues] == [
        ("parameter_unknown", "parameters.alpha"),
        ("parameter_unknown", "parameters.zeta"),
        ("parameter_invalid", "parameters.bins"),
        ("parameter_invalid", "parameters.requestPattern"),
        ("parameter_invalid", "parameters.telemetryRequestsSource"),
    ]


def test_effective_parameters_are_canonical_and_in_declaration_order(it_system: Template) -> None:
    generated = generate_model(
        it_system,
        parameters={"requestPattern": [1, 2, 3, 4, 5, 6], "bins": 6.0, "telemetryRequestsSource": ""},
    )
    assert list(generated.parameters) == [
        "bins",
        "binSize",
        "requestPattern",
        "loadBalancerCapacity",
        "authCapacity",
        "databaseCapacity",
        "telemetryRequestsSource",
    ]
    assert generated.parameters["bins"] == 6 and type(generated.parameters["bins"]) is int
    assert generated.parameters["requestPattern"] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert all(type(v) is float for v in generated.parameters["requestPattern"])
    assert generated.parameters["telemetryRequestsSource"] == ""


def test_number_parameter_is_a_float(manufacturing: Template) -> None:
    generated = generate_model(manufacturing, parameters={"productionRate": 20})
    assert type(generated.parameters["productionRate"]) is float
    assert generated.tree["nodes"][5]["expr"] == "MIN(quality_control, 20 * 0.9)"


def test_bindings_in_simulation_mode(it_system: Template) -> None:
    issues = request_issues(it_system, bindings={"telemetryRequestsSource": "LoadBalancer_arrivals.csv"})
    assert issues == [
        (
            "binding_invalid",
            "telemetry.bindings.telemetryRequestsSource",
            None,
            "telemetry bindings are only allowed in telemetry mode",
        )
    ]


def test_binding_problems_are_collected(it_system: Template) -> None:
    issues = request_issues(
        it_system,
        mode="telemetry",
        bindings={"nope": "a.csv", "bins": "a.csv", "telemetryRequestsSource": "../x.csv"},
    )
    assert [(code, path) for code, path, _, _ in issues] == [
        ("binding_invalid", "telemetry.bindings.bins"),
        ("binding_invalid", "telemetry.bindings.nope"),
        ("binding_invalid", "telemetry.bindings.telemetryRequestsSource"),
    ]
    assert issues[0][3] == "'bins' is not a telemetry-bindable parameter"
    assert issues[1][3] == "'nope' is not a parameter of template 'it-system-microservices'"
    assert issues[2][3].startswith("the file name must match ^[A-Za-z0-9._-]+$")


@pytest.mark.parametrize("file_name", ["..", "a b.csv", "dir/x.csv", "", "x\\y.csv"])
def test_bad_binding_file_names(it_system: Template, file_name: str) -> None:
    issues = request_issues(it_system, mode="telemetry", bindings={"telemetryRequestsSource": file_name})
    assert [(c, p) for c, p, _, _ in issues] == [
        ("binding_invalid", "telemetry.bindings.telemetryRequestsSource")
    ]


def test_parameter_and_binding_issues_come_together(it_system: Template) -> None:
    issues = request_issues(it_system, parameters={"bins": 96}, bindings={"bins": "x.csv"})
    assert [(c, p) for c, p, _, _ in issues] == [
        ("parameter_invalid", "parameters.bins"),
        ("binding_invalid", "telemetry.bindings.bins"),
    ]


def test_telemetry_mode_without_bindings_uses_values(it_system: Template) -> None:
    generated = generate_model(it_system, parameters={}, mode="Telemetry")
    assert generated.mode == "telemetry"
    assert "source" not in generated.tree["nodes"][0]
    assert "    source:" not in generated.text.split("provenance:")[0]


def test_a_value_for_a_bound_parameter_is_still_checked(it_system: Template) -> None:
    bindings = {"telemetryRequestsSource": "LoadBalancer_arrivals.csv"}
    issues = request_issues(
        it_system, parameters={"telemetryRequestsSource": "x.csv"}, mode="telemetry", bindings=bindings
    )
    assert [(c, p, r) for c, p, r, _ in issues] == [
        ("parameter_invalid", "parameters.telemetryRequestsSource", "telemetry_source")
    ]
    generated = generate_model(
        it_system, parameters={"telemetryRequestsSource": ""}, mode="telemetry", bindings=bindings
    )
    assert generated.parameters["telemetryRequestsSource"] == "file://telemetry/LoadBalancer_arrivals.csv"


def test_generated_values_do_not_share_the_template_defaults(it_system: Template) -> None:
    generated = generate_model(it_system, parameters={})
    generated.parameters["requestPattern"].append(1.0)
    generated.tree["provenance"]["parameters"]["authCapacity"].append(1.0)
    assert it_system.parameter("requestPattern").default == [100, 150, 200, 180, 120, 80]  # type: ignore[union-attr]
    assert generate_model(it_system, parameters={}).parameters["authCapacity"] == [250.0] * 6
