"""Model schema and validation (spec 02 §1–§5, §10)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from runs.engine import DEFAULT_MAX_BINS, Edge, Grid, OutputSpec, load_model
from runs.errors import ModelError

HOURS_3 = {"bins": 3, "binSize": 1, "binUnit": "hours"}


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"grid": dict(HOURS_3), "nodes": [{"id": "a", "values": [1, 2, 3]}]}
    base.update(overrides)
    return base


def grid_doc(**grid: Any) -> dict[str, Any]:
    return doc(grid={**HOURS_3, **grid})


def codes(issues) -> list[tuple[str, str]]:
    return [(i.code, i.path) for i in issues]


# --- document ----------------------------------------------------------------------------------


def test_yaml_text_loads_and_unknown_keys_are_ignored() -> None:
    model = load_model(
        "schemaVersion: 1\nmode: simulation\nmetadata: {title: x}\nwindow: {}\n"
        "grid: {bins: 2, binSize: 5, binUnit: minutes}\n"
        "nodes:\n  - id: a\n    values: [1, 2]\n    extra: ignored\n"
    )
    assert model.schema_version == 1
    assert model.grid == Grid(2, 5, "minutes", None)
    assert model.nodes[0].values == (1.0, 2.0)
    assert model.raw["mode"] == "simulation"
    assert model.order == ("a",)
    assert model.node("a").kind == "const"


def test_bytes_with_bom_and_crlf_load() -> None:
    model = load_model(
        b"\xef\xbb\xbfgrid: {bins: 1, binSize: 1, binUnit: days}\r\nnodes: [{id: a, values: [4]}]\r\n"
    )
    assert model.grid.bin_unit == "days"


def test_yaml_errors_become_one_model_invalid_issue(model_issues) -> None:
    issues = model_issues("grid: {bins: 1\nnodes: [")
    assert codes(issues) == [("model_invalid", "")]
    issues = model_issues("a: 1\na: 2\n")
    assert codes(issues) == [("model_invalid", "")]
    assert "duplicate" in issues[0].message


def test_a_non_mapping_document_is_invalid(model_issues) -> None:
    assert codes(model_issues("- 1\n- 2\n")) == [("model_invalid", "")]


@pytest.mark.parametrize("version", [0, 2, -1, 999, "2", "one", True, None])
def test_schema_version_must_be_one(model_issues, version: object) -> None:
    issues = model_issues(doc(schemaVersion=version))
    assert codes(issues) == [("model_invalid", "schemaVersion")]
    assert "schemaVersion" in issues[0].message
    assert "1" in issues[0].message


@pytest.mark.parametrize("version", [1, "1", 1.0])
def test_schema_version_one_is_accepted(version: object) -> None:
    assert load_model(doc(schemaVersion=version)).schema_version == 1


def test_schema_version_defaults_to_one() -> None:
    assert load_model(doc()).schema_version == 1


@pytest.mark.parametrize(("key", "path"), [("arrivals", "arrivals"), ("route", "route")])
def test_legacy_top_level_forms_are_rejected_with_advice(model_issues, key: str, path: str) -> None:
    issues = model_issues(doc(**{key: {"x": 1}}))
    assert codes(issues) == [("model_invalid", path)]
    assert "instead" in issues[0].message


def test_legacy_bin_minutes_is_rejected(model_issues) -> None:
    issues = model_issues(doc(grid={"bins": 3, "binMinutes": 60}))
    assert codes(issues) == [("model_invalid", "grid.binMinutes")]
    assert "binSize and binUnit" in issues[0].message


def test_legacy_expression_key_is_rejected(node_issues) -> None:
    issues = node_issues(
        [{"id": "a", "values": [1, 2, 3]}, {"id": "b", "kind": "expr", "expression": "a * 2"}]
    )
    assert codes(issues) == [("model_invalid", "nodes[1].expression")]
    assert "'expr'" in issues[0].message


# --- grid --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bins", [0, -1, 10001, 2.5, "x", None, True])
def test_bins_out_of_range_or_not_integer(model_issues, bins: object) -> None:
    assert codes(model_issues(grid_doc(bins=bins))) == [("grid_invalid", "grid.bins")]


def test_max_bins_is_a_parameter(model_issues) -> None:
    assert DEFAULT_MAX_BINS == 10000
    big = doc(grid={**HOURS_3, "bins": 10000}, nodes=[{"id": "k", "kind": "expr", "expr": "1"}])
    assert load_model(big, max_bins=10000).grid.bins == 10000
    with pytest.raises(ModelError) as caught:
        load_model(doc(grid={"bins": 5, "binSize": 1, "binUnit": "hours"}), max_bins=4)
    assert codes(caught.value.errors) == [("grid_invalid", "grid.bins")]


@pytest.mark.parametrize("bins", [3, "3", 3.0, " 3 "])
def test_integer_fields_accept_ints_integral_floats_and_decimal_strings(bins: object) -> None:
    assert load_model(grid_doc(bins=bins)).grid.bins == 3


@pytest.mark.parametrize("size", [0, 1001, -5, 1.5])
def test_bin_size_out_of_range(model_issues, size: object) -> None:
    assert codes(model_issues(grid_doc(binSize=size))) == [("grid_invalid", "grid.binSize")]


@pytest.mark.parametrize("unit", ["seconds", "months", "years", "", None, 60])
def test_bin_unit_must_be_minutes_hours_days_or_weeks(model_issues, unit: object) -> None:
    assert codes(model_issues(grid_doc(binUnit=unit))) == [("grid_invalid", "grid.binUnit")]


@pytest.mark.parametrize(
    ("unit", "size", "minutes"),
    [
        ("minutes", 5, 5.0),
        ("Hours", 2, 120.0),
        ("DAYS", 1, 1440.0),
        ("weeks", 3, 30240.0),
        ("minutes", 1000, 1000.0),
    ],
)
def test_bin_minutes_follow_the_unit(unit: str, size: int, minutes: float) -> None:
    grid = load_model(grid_doc(binUnit=unit, binSize=size)).grid
    assert grid.bin_unit == unit.lower()
    assert grid.bin_minutes == minutes


@pytest.mark.parametrize(
    "start", ["2025-01-01T00:00:00Z", "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00"]
)
def test_start_time_in_utc(start: str) -> None:
    grid = load_model(grid_doc(startTimeUtc=start, binSize=30, binUnit="minutes")).grid
    assert grid.start_time_utc == datetime(2025, 1, 1, tzinfo=UTC)
    assert grid.bin_start(3) == datetime(2025, 1, 1, 1, 30, tzinfo=UTC)


def test_start_time_from_yaml_stays_exact() -> None:
    model = load_model(
        "grid: {bins: 2, binSize: 1, binUnit: hours, startTimeUtc: 2025-03-04T05:06:07Z}\n"
        "nodes: [{id: a, values: [1, 2]}]\n"
    )
    assert model.grid.bin_start(1) == datetime(2025, 3, 4, 6, 6, 7, tzinfo=UTC)


def test_no_start_time_gives_null_bin_starts() -> None:
    assert load_model(doc()).grid.bin_start(2) is None


@pytest.mark.parametrize("start", ["2025-01-01T00:00:00+01:00", "2025-01-01T00:00:00-05:00", "yesterday", 5])
def test_start_time_other_offsets_or_garbage_are_grid_invalid(model_issues, start: object) -> None:
    assert codes(model_issues(grid_doc(startTimeUtc=start))) == [("grid_invalid", "grid.startTimeUtc")]


def test_missing_grid_and_nodes(model_issues) -> None:
    assert codes(model_issues({})) == [("model_invalid", "grid"), ("model_invalid", "nodes")]


# --- nodes -------------------------------------------------------------------------------------


def test_values_length_mismatch_message(node_issues) -> None:
    issues = node_issues([{"id": "x", "values": [1, 2]}], bins=3)
    assert codes(issues) == [("values_length_mismatch", "nodes[0].values")]
    assert issues[0].message == "Node x: values length 2 != grid length 3"
    assert "values length" in issues[0].message


def test_length_checks_are_skipped_when_the_grid_is_invalid(model_issues) -> None:
    issues = model_issues(
        {"grid": {"bins": 0, "binSize": 1, "binUnit": "hours"}, "nodes": [{"id": "x", "values": [1, 2]}]}
    )
    assert codes(issues) == [("grid_invalid", "grid.bins")]


def test_nodes_must_be_a_non_empty_list(model_issues) -> None:
    assert codes(model_issues(doc(nodes={"a": {"values": [1, 2, 3]}}))) == [("model_invalid", "nodes")]
    assert codes(model_issues(doc(nodes=[]))) == [("model_invalid", "nodes")]
    assert codes(model_issues(doc(nodes=["a"]))) == [("model_invalid", "nodes[0]")]


@pytest.mark.parametrize("node_id", ["1a", "a-b", "", "a b", "x" * 129, None, 7])
def test_invalid_node_ids(node_issues, node_id: object) -> None:
    node = {"values": [1, 2, 3]} if node_id is None else {"id": node_id, "values": [1, 2, 3]}
    assert codes(node_issues([node])) == [("model_invalid", "nodes[0].id")]


def test_ids_are_case_sensitive_and_unique(node_issues) -> None:
    model = load_model(
        doc(
            nodes=[
                {"id": "a", "values": [1, 2, 3]},
                {"id": "A", "values": [4, 5, 6]},
                {"id": "_" + "x" * 127, "values": [0, 0, 0]},
            ]
        )
    )
    assert [n.id for n in model.nodes] == ["a", "A", "_" + "x" * 127]
    issues = node_issues([{"id": "a", "values": [1, 2, 3]}, {"id": "a", "values": [1, 2, 3]}])
    assert codes(issues) == [("model_invalid", "nodes[1].id")]
    assert "Duplicate" in issues[0].message


@pytest.mark.parametrize("kind", ["Const", "EXPR", "series", 3])
def test_kind_is_matched_exactly(node_issues, kind: object) -> None:
    assert codes(node_issues([{"id": "a", "kind": kind, "values": [1, 2, 3]}])) == [
        ("model_invalid", "nodes[0].kind")
    ]


def test_const_needs_values_or_source(node_issues) -> None:
    assert codes(node_issues([{"id": "a"}])) == [("model_invalid", "nodes[0].values")]
    assert codes(node_issues([{"id": "a", "source": ""}])) == [("model_invalid", "nodes[0].values")]
    assert codes(node_issues([{"id": "a", "values": [1, "2", 3]}])) == [("model_invalid", "nodes[0].values")]
    assert codes(node_issues([{"id": "a", "values": [1, True, 3]}])) == [("model_invalid", "nodes[0].values")]


def test_const_values_allow_nan_and_infinity() -> None:
    model = load_model(
        "grid: {bins: 3, binSize: 1, binUnit: hours}\nnodes: [{id: a, values: [.nan, .inf, -.inf]}]\n"
    )
    values = model.node("a").values
    assert values is not None
    assert values[0] != values[0]
    assert values[1:] == (float("inf"), float("-inf"))


def test_const_source_wins_and_skips_the_length_check() -> None:
    model = load_model(doc(nodes=[{"id": "a", "values": [1, 2], "source": "file:x.csv"}]))
    assert model.node("a").source == "file:x.csv"
    assert model.node("a").values is None


@pytest.mark.parametrize(
    "source", ["http://example.com/x.csv", "x.csv", "file://otherhost/x.csv", "file:a\\b.csv"]
)
def test_malformed_const_source_is_source_invalid_at_load(node_issues, source: str) -> None:
    assert codes(node_issues([{"id": "a", "source": source}])) == [("source_invalid", "nodes[0].source")]


@pytest.mark.parametrize("text", ["", "   ", None, 5])
def test_expr_must_be_a_non_blank_string(node_issues, text: object) -> None:
    node = {"id": "b", "kind": "expr"} if text is None else {"id": "b", "kind": "expr", "expr": text}
    assert codes(node_issues([node])) == [("model_invalid", "nodes[0].expr")]


def test_fields_of_other_kinds_are_ignored() -> None:
    model = load_model(doc(nodes=[{"id": "a", "kind": "expr", "expr": "2", "values": "nonsense", "pmf": 7}]))
    assert model.node("a").values is None
    assert model.node("a").pmf_values is None


def test_sample_must_be_a_boolean(node_issues) -> None:
    issues = node_issues(
        [{"id": "p", "kind": "pmf", "pmf": {"1": 1}, "sample": "yes"}], rng={"kind": "pcg32", "seed": 1}
    )
    assert codes(issues) == [("model_invalid", "nodes[0].sample")]


# --- backlog -----------------------------------------------------------------------------------


def backlog_nodes(**backlog: Any) -> list[dict[str, Any]]:
    return [
        {"id": "i", "values": [1, 1, 1]},
        {"id": "o", "values": [0, 0, 0]},
        {"id": "q", "kind": "backlog", "inflow": "i", "outflow": "o", **backlog},
    ]


def test_backlog_references_must_exist(node_issues) -> None:
    issues = node_issues(backlog_nodes(inflow="zz"))
    assert [(i.code, i.path, i.message) for i in issues] == [
        ("node_unknown", "nodes[2].inflow", "Unknown node: zz")
    ]
    assert codes(node_issues(backlog_nodes(outflow=None))) == [("model_invalid", "nodes[2].outflow")]


@pytest.mark.parametrize("initial", [-1, float("nan"), float("inf"), "2"])
def test_backlog_initial_must_be_finite_and_non_negative(node_issues, initial: object) -> None:
    assert codes(node_issues(backlog_nodes(initial=initial))) == [("model_invalid", "nodes[2].initial")]


def queue_topology(depth: float) -> dict[str, Any]:
    return {
        "nodes": [
            {
                "id": "Q",
                "kind": "queue",
                "semantics": {"queue": "q"},
                "initialCondition": {"queueDepth": depth},
            }
        ]
    }


def test_backlog_initial_defaults_to_zero_or_the_topology_queue_depth() -> None:
    assert load_model(doc(nodes=backlog_nodes())).node("q").initial == 0.0
    model = load_model(doc(nodes=backlog_nodes(), topology=queue_topology(4)))
    assert model.node("q").initial == 4.0
    model = load_model(doc(nodes=backlog_nodes(initial=4), topology=queue_topology(4)))
    assert model.node("q").initial == 4.0


def test_backlog_initial_must_agree_with_the_topology(node_issues) -> None:
    issues = node_issues(backlog_nodes(initial=2), topology=queue_topology(3))
    assert codes(issues) == [("model_invalid", "nodes[2].initial")]


# --- topology ----------------------------------------------------------------------------------


def topo_doc(topology: Any) -> dict[str, Any]:
    nodes = [{"id": "served", "values": [1, 2, 3]}, {"id": "depth", "values": [0, 0, 0]}]
    return doc(nodes=nodes, topology=topology)


def test_topology_is_parsed_with_aliases_folded() -> None:
    model = load_model(
        topo_doc(
            {
                "nodes": [
                    {
                        "id": "Svc",
                        "group": "g",
                        "ui": {"x": 1, "y": 2},
                        "semantics": {"served": "served", "errors": "", "arrivals": "file://telemetry/a.csv"},
                    },
                    {
                        "id": "Q",
                        "kind": "Queue",
                        "semantics": {"queueDepth": "depth", "external_demand": "served", "slaMin": 15},
                        "initialCondition": {"queueDepth": 2},
                    },
                ],
                "edges": [
                    {"id": "e1", "from": "Svc:out", "to": "Q", "weight": 0.5},
                    {"from": "Q", "to": "Svc"},
                ],
            }
        )
    )
    svc, queue = model.topology
    assert svc.kind == "service"
    assert svc.group == "g"
    assert dict(svc.semantics) == {
        "arrivals": "file://telemetry/a.csv",
        "served": "served",
        "errors": None,
        "queue": None,
        "capacity": None,
        "externalDemand": None,
    }
    assert queue.is_queue
    assert queue.semantics["queue"] == "depth"
    assert queue.semantics["externalDemand"] == "served"
    assert queue.sla_min == 15.0
    assert queue.initial_queue_depth == 2.0
    assert model.edges == (Edge("e1", "Svc", "out", "Q", None, 0.5), Edge(None, "Q", None, "Svc", None, 1.0))


@pytest.mark.parametrize(
    ("node", "code", "path"),
    [
        ({"id": "A:B"}, "model_invalid", "topology.nodes[0].id"),
        ({"id": ""}, "model_invalid", "topology.nodes[0].id"),
        ({"id": "x" * 129}, "model_invalid", "topology.nodes[0].id"),
        ({"id": "Q", "kind": "queue"}, "model_invalid", "topology.nodes[0].semantics.queue"),
        ({"id": "S", "semantics": {"queue": "nope"}}, "node_unknown", "topology.nodes[0].semantics.queue"),
        (
            {"id": "S", "semantics": {"queueDepth": "nope"}},
            "node_unknown",
            "topology.nodes[0].semantics.queueDepth",
        ),
        (
            {"id": "S", "semantics": {"queue": "depth", "queueDepth": "depth"}},
            "model_invalid",
            "topology.nodes[0].semantics.queueDepth",
        ),
        (
            {"id": "S", "semantics": {"externalDemand": "served", "external_demand": "served"}},
            "model_invalid",
            "topology.nodes[0].semantics.external_demand",
        ),
        (
            {"id": "S", "semantics": {"served": "http://x/y.csv"}},
            "source_invalid",
            "topology.nodes[0].semantics.served",
        ),
        ({"id": "S", "semantics": {"served": 5}}, "model_invalid", "topology.nodes[0].semantics.served"),
        ({"id": "S", "semantics": {"slaMin": 0}}, "model_invalid", "topology.nodes[0].semantics.slaMin"),
        ({"id": "S", "semantics": {"slaMin": -5}}, "model_invalid", "topology.nodes[0].semantics.slaMin"),
        (
            {"id": "S", "initialCondition": {"queueDepth": -1}},
            "model_invalid",
            "topology.nodes[0].initialCondition.queueDepth",
        ),
    ],
)
def test_topology_node_rules(model_issues, node: dict[str, Any], code: str, path: str) -> None:
    assert codes(model_issues(topo_doc({"nodes": [node]}))) == [(code, path)]


def test_duplicate_topology_ids(model_issues) -> None:
    issues = model_issues(topo_doc({"nodes": [{"id": "A"}, {"id": "A"}]}))
    assert codes(issues) == [("model_invalid", "topology.nodes[1].id")]


@pytest.mark.parametrize(
    ("edge", "path"),
    [
        ({"from": "Nope", "to": "A"}, "topology.edges[0].from"),
        ({"from": "A", "to": "B:"}, "topology.edges[0].to"),
        ({"to": "A"}, "topology.edges[0].from"),
        ({"from": "A", "to": "B", "weight": float("inf")}, "topology.edges[0].weight"),
        ({"from": "A", "to": "B", "weight": "1"}, "topology.edges[0].weight"),
    ],
)
def test_edge_rules(model_issues, edge: dict[str, Any], path: str) -> None:
    issues = model_issues(topo_doc({"nodes": [{"id": "A"}, {"id": "B"}], "edges": [edge]}))
    assert codes(issues) == [("model_invalid", path)]


# --- outputs -----------------------------------------------------------------------------------


def test_outputs_are_validated_and_kept() -> None:
    model = load_model(doc(outputs=[{"series": "*", "exclude": ["a"]}, {"series": "a", "as": "a.csv"}]))
    assert model.outputs == (OutputSpec("*", ("a",), None), OutputSpec("a", (), "a.csv"))


def test_outputs_unknown_ids(model_issues) -> None:
    issues = model_issues(doc(outputs=[{"series": "zz"}, {"series": "*", "exclude": ["a", "yy"]}]))
    assert codes(issues) == [("node_unknown", "outputs[0].series"), ("node_unknown", "outputs[1].exclude[1]")]


# --- rng ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "expected"), [(42, 42), ("42", 42), (-(2**63), -(2**63)), (2**64 - 1, 2**64 - 1), (7.0, 7)]
)
def test_rng_seed_range_and_forms(seed: object, expected: int) -> None:
    model = load_model(doc(rng={"kind": "PCG32", "seed": seed}))
    assert (model.rng_kind, model.rng_seed) == ("pcg32", expected)


@pytest.mark.parametrize(
    ("rng", "path"),
    [
        ({"kind": "mt19937", "seed": 1}, "rng.kind"),
        ({"seed": 1}, "rng.kind"),
        ({"kind": "pcg32"}, "rng.seed"),
        ({"kind": "pcg32", "seed": 2**64}, "rng.seed"),
        ({"kind": "pcg32", "seed": -(2**63) - 1}, "rng.seed"),
        ({"kind": "pcg32", "seed": "abc"}, "rng.seed"),
        ({"kind": "pcg32", "seed": 1.5}, "rng.seed"),
        ("pcg32", "rng"),
    ],
)
def test_rng_invalid(model_issues, rng: object, path: str) -> None:
    assert codes(model_issues(doc(rng=rng))) == [("rng_invalid", path)]


def test_sampling_without_rng_is_rng_invalid(node_issues) -> None:
    issues = node_issues([{"id": "p", "kind": "pmf", "pmf": {"1": 0.5, "2": 0.5}, "sample": True}])
    assert codes(issues) == [("rng_invalid", "nodes[0].sample")]


def test_no_rng_is_fine_without_sampling() -> None:
    model = load_model(doc(nodes=[{"id": "p", "kind": "pmf", "pmf": {"1": 0.5, "2": 0.5}}]))
    assert (model.rng_kind, model.rng_seed) == (None, None)


# --- collection order --------------------------------------------------------------------------


def test_all_issues_are_collected_in_document_order(model_issues) -> None:
    issues = model_issues(
        {
            "schemaVersion": 2,
            "grid": {"bins": 3, "binSize": 0, "binUnit": "hours"},
            "nodes": [
                {"id": "a", "kind": "expr", "expr": "b + 1"},
                {"id": "b", "kind": "expr", "expr": "a + zz"},
                {"id": "p", "kind": "pmf", "pmf": {}},
                {"id": "s", "kind": "pmf", "pmf": {"1": 1}, "sample": True},
            ],
            "topology": {"nodes": [{"id": "T", "semantics": {"served": "ghost"}}]},
            "outputs": [{"series": "ghost"}],
        }
    )
    assert codes(issues) == [
        ("model_invalid", "schemaVersion"),
        ("grid_invalid", "grid.binSize"),
        ("node_unknown", "nodes[1].expr"),
        ("pmf_invalid", "nodes[2].pmf"),
        ("node_unknown", "topology.nodes[0].semantics.served"),
        ("node_unknown", "outputs[0].series"),
        ("rng_invalid", "nodes[3].sample"),
        ("graph_cycle", "nodes"),
    ]
    assert issues[-1].nodes == ("a", "b")


def test_a_node_that_fails_to_parse_contributes_no_edges(node_issues) -> None:
    issues = node_issues(
        [{"id": "a", "kind": "expr", "expr": "b + "}, {"id": "b", "kind": "expr", "expr": "a"}]
    )
    assert codes(issues) == [("expr_syntax", "nodes[0].expr")]


def test_model_error_detail_counts_problems(model_issues) -> None:
    with pytest.raises(ModelError) as caught:
        load_model(doc(schemaVersion=3, grid={**HOURS_3, "bins": 0}))
    assert caught.value.code == "model_invalid"
    assert caught.value.detail == "The model has 2 problems."


def test_a_topology_kind_that_is_not_text_behaves_like_service() -> None:
    model = load_model(topo_doc({"nodes": [{"id": "S", "kind": 5}]}))
    assert model.topology[0].kind == "service"
    assert not model.topology[0].is_queue


def test_a_queue_naming_an_unknown_node_is_only_node_unknown(model_issues) -> None:
    issues = model_issues(topo_doc({"nodes": [{"id": "Q", "kind": "queue", "semantics": {"queue": "zz"}}]}))
    assert codes(issues) == [("node_unknown", "topology.nodes[0].semantics.queue")]


@pytest.mark.parametrize("node_id", ["a\n", "a\r", " a", "a b", "\u0430"])  # last: Cyrillic 'a'
def test_node_ids_are_matched_whole_and_ascii(model_issues, node_id: str) -> None:
    issues = model_issues(doc(nodes=[{"id": node_id, "values": [1, 2, 3]}]))
    assert codes(issues) == [("model_invalid", "nodes[0].id")]
