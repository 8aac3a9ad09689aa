"""Spec 07 §4–§6 through HTTP: ``/graph``, flow ``edges`` on the state routes, and unknown sub-paths.

The edge values are worked out by hand from §5.2 (the arithmetic is written next to them). The whole
bodies are golden files under ``tests/golden/``: ``state/`` for the hand-written fixture runs,
``api/`` for the catalog run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from replay_helpers import VALUES, RunSpec, build_run, load_golden
from rest_framework.test import APIClient

from runs.orchestration import RunRequest, create_run
from runs.replay import clear_caches

pytestmark = pytest.mark.django_db

PROBLEM_JSON = "application/problem+json"
EDGES_RUN = "run_edges_fixture"

# The 06 §10 fixture plus a third node, Billing (served 5 in every bin), and eight edges:
EDGES: list[dict[str, Any]] = [
    # flow, w = 3, id built from the authored ends, ports included
    {"from": "OrderService:out", "to": "SupportQueue:in", "weight": 3},
    # flow, w = 1, no ports
    {"id": "os-billing", "from": "OrderService", "to": "Billing", "weight": 1},
    # leaves by the errors port: drawn by /graph, no flow
    {"from": "OrderService:errors", "to": "Billing:in"},
    # flow, weight 0 counts as 1, type "Throughput" (any case)
    {"id": "sq-billing", "from": "SupportQueue:OUT", "to": "Billing", "weight": 0, "type": "Throughput"},
    # flow, no weight: counts as 1, shown as 1
    {"from": "SupportQueue", "to": "Billing:in"},
    # repeats the id sq-billing: dropped everywhere
    {"id": "sq-billing", "from": "Billing", "to": "OrderService"},
    # an endpoint that is no node: dropped everywhere
    {"from": "Billing:out", "to": "Nowhere:in"},
    # typed, not throughput/topology: drawn with its type, no flow
    {"from": "Billing:out", "to": "OrderService:in", "type": "control", "weight": 2.5},
]
EDGE_VALUES: dict[str, dict[str, list[float]]] = {
    **VALUES,
    "Billing": {"arrivals": [6, 6, 6, 6], "served": [5, 5, 5, 5]},
}

# §5.2 by hand. W(OrderService) = 3 + 1 = 4, so f = 3/4 and 1/4; W(SupportQueue) = 1 + 1 = 2 (weight
# 0 and no weight both count as 1), so f = 1/2 each. Served (06 §10): OrderService 9, 6, 9, 4;
# SupportQueue 9, 6, 9, 4.
OS_TO_SQ = [9 * 3 / 4, 6 * 3 / 4, 9 * 3 / 4, 4 * 3 / 4]  # 6.75, 4.5, 6.75, 3
OS_TO_BILLING = [9 / 4, 6 / 4, 9 / 4, 4 / 4]  # 2.25, 1.5, 2.25, 1
SQ_HALF = [9 / 2, 6 / 2, 9 / 2, 4 / 2]  # 4.5, 3, 4.5, 2


def canon(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def flow_edges_by_hand(window: slice) -> list[dict[str, Any]]:
    def entry(edge_id: str, src: str, dst: str, edge_type: str, weight: float, values: list[float]) -> Any:
        return {
            "id": edge_id,
            "from": src,
            "to": dst,
            "edgeType": edge_type,
            "weight": weight,
            "series": {"flowVolume": [canon(v) for v in values[window]]},
        }

    return [
        entry("OrderService:out->SupportQueue:in", "OrderService", "SupportQueue", "topology", 3, OS_TO_SQ),
        entry("os-billing", "OrderService", "Billing", "topology", 1, OS_TO_BILLING),
        entry("sq-billing", "SupportQueue", "Billing", "Throughput", 0, SQ_HALF),
        entry("SupportQueue->Billing:in", "SupportQueue", "Billing", "topology", 1, SQ_HALF),
    ]


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def client(data_root: Path) -> Iterator[APIClient]:
    yield APIClient()


def dumps(value: Any) -> str:
    return json.dumps(value)


def body_of(response: HttpResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()  # type: ignore[attr-defined]


def edges_run(data_root: Path) -> str:
    spec = RunSpec(
        run_id=EDGES_RUN,
        values=EDGE_VALUES,
        topology_kinds={"Billing": "service"},
        edges=EDGES,
    )
    return build_run(data_root, spec).model_hash


def problem(code: str, status: int, detail: str, instance: str, field: str | None = None) -> dict[str, Any]:
    titles = {
        "not_found": "Not found",
        "run_not_found": "Run not found",
        "run_invalid": "Run directory is invalid",
        "invalid_parameter": "Invalid query parameter",
    }
    return {
        "type": f"/problems/{code}",
        "title": titles[code],
        "status": status,
        "detail": detail,
        "code": code,
        "error": detail,
        "errors": [] if field is None else [{"field": field, "code": code, "message": detail}],
        "instance": instance,
    }


def assert_problem(response: HttpResponse, expected: dict[str, Any]) -> None:
    assert response.status_code == expected["status"], response.content
    assert response["Content-Type"] == PROBLEM_JSON
    assert dumps(response.json()) == dumps(expected)  # type: ignore[attr-defined]


# --- /state and /state_window: flow edges ------------------------------------------------------


def test_window_with_weighted_and_port_qualified_edges_matches_golden(
    client: APIClient, data_root: Path
) -> None:
    model_hash = edges_run(data_root)
    body = body_of(client.get(f"/v1/runs/{EDGES_RUN}/state_window?startBin=0&endBin=3"))

    assert dumps(body["edges"]) == dumps(flow_edges_by_hand(slice(0, 4)))
    assert body["edgeWarnings"] == {}
    assert body["metadata"]["edgeQuality"] == "exact"
    assert list(body) == ["metadata", "window", "timestampsUtc", "nodes", "edges", "edgeWarnings", "warnings"]
    assert dumps(body) == dumps(load_golden("window_edges_0_3.json", model_hash))


def test_snapshot_with_weighted_and_port_qualified_edges_matches_golden(
    client: APIClient, data_root: Path
) -> None:
    model_hash = edges_run(data_root)
    body = body_of(client.get(f"/v1/runs/{EDGES_RUN}/state?binIndex=1"))

    # Bin 1: OrderService served 6 → 6 × 3/4 = 4.5 and 6 × 1/4 = 1.5; SupportQueue served 6 → 3, 3.
    expected = []
    for entry in flow_edges_by_hand(slice(1, 2)):
        value = entry["series"]["flowVolume"][0]
        expected.append(
            {
                **{k: v for k, v in entry.items() if k != "series"},
                "flowVolume": value,
                **{"series": entry["series"]},
            }
        )
    assert [e["flowVolume"] for e in expected] == [4.5, 1.5, 3, 3]
    assert dumps(body["edges"]) == dumps(expected)
    assert list(body) == ["metadata", "bin", "nodes", "edges", "edgeWarnings", "warnings"]
    assert dumps(body) == dumps(load_golden("snapshot_edges_bin1.json", model_hash))


def test_weights_three_and_one_give_six_and_two(client: APIClient, data_root: Path) -> None:
    # §5.2's worked value: A served 8 split 3 : 1 gives 6 and 2.
    values = {**VALUES, "OrderService": {**VALUES["OrderService"], "served": [8, 8, 8, 8]}}
    edges = [
        {"from": "OrderService:out", "to": "SupportQueue:in", "weight": 3},
        {"from": "OrderService:out", "to": "Billing:in", "weight": 1},
    ]
    spec = RunSpec(
        values={**values, "Billing": EDGE_VALUES["Billing"]},
        topology_kinds={"Billing": "service"},
        edges=edges,
    )
    build_run(data_root, spec)
    body = body_of(client.get("/v1/runs/run_state_fixture/state?binIndex=0"))
    assert [(e["to"], e["flowVolume"]) for e in body["edges"]] == [("SupportQueue", 6), ("Billing", 2)]


@pytest.mark.parametrize("first_weight", [{"weight": 0}, {}, {"weight": -2}, {"weight": "3"}])
def test_weights_zero_or_absent_count_as_one(
    client: APIClient, data_root: Path, first_weight: dict[str, Any]
) -> None:
    # §5.2: weights 0 and absent both count as 1: 8 / 2 = 4 each.
    values = {**VALUES, "OrderService": {**VALUES["OrderService"], "served": [8, 8, 8, 8]}}
    edges = [
        {"from": "OrderService:out", "to": "SupportQueue:in", **first_weight},
        {"from": "OrderService:out", "to": "Billing:in"},
    ]
    spec = RunSpec(
        values={**values, "Billing": EDGE_VALUES["Billing"]},
        topology_kinds={"Billing": "service"},
        edges=edges,
    )
    build_run(data_root, spec)
    body = body_of(client.get("/v1/runs/run_state_fixture/state?binIndex=0"))
    assert [e["flowVolume"] for e in body["edges"]] == [4, 4]


def test_the_one_edge_variant_of_section_5_7(client: APIClient, data_root: Path) -> None:
    build_run(data_root, RunSpec(edges=[{"from": "OrderService:out", "to": "SupportQueue:in"}]))
    window = body_of(client.get("/v1/runs/run_state_fixture/state_window?startBin=0&endBin=3"))
    snapshot = body_of(client.get("/v1/runs/run_state_fixture/state?binIndex=1"))

    assert window["metadata"]["edgeQuality"] == "exact"
    assert dumps({"edges": window["edges"], "edgeWarnings": window["edgeWarnings"]}) == dumps(
        {
            "edges": [
                {
                    "id": "OrderService:out->SupportQueue:in",
                    "from": "OrderService",
                    "to": "SupportQueue",
                    "edgeType": "topology",
                    "weight": 1,
                    "series": {"flowVolume": [9, 6, 9, 4]},
                }
            ],
            "edgeWarnings": {},
        }
    )
    assert dumps({"edges": snapshot["edges"], "edgeWarnings": snapshot["edgeWarnings"]}) == dumps(
        {
            "edges": [
                {
                    "id": "OrderService:out->SupportQueue:in",
                    "from": "OrderService",
                    "to": "SupportQueue",
                    "edgeType": "topology",
                    "weight": 1,
                    "flowVolume": 6,
                    "series": {"flowVolume": [6]},
                }
            ],
            "edgeWarnings": {},
        }
    )


def test_an_errors_port_edge_is_drawn_but_carries_no_flow(client: APIClient, data_root: Path) -> None:
    build_run(data_root, RunSpec(edges=[{"from": "OrderService:errors", "to": "SupportQueue"}]))
    snapshot = body_of(client.get("/v1/runs/run_state_fixture/state?binIndex=0"))
    graph = body_of(client.get("/v1/runs/run_state_fixture/graph"))

    assert snapshot["edges"] == []
    assert snapshot["metadata"]["edgeQuality"] == "missing"
    assert [edge["id"] for edge in graph["edges"]] == ["OrderService:errors->SupportQueue"]


def test_an_unresolved_served_source_gives_null_flow(client: APIClient, data_root: Path) -> None:
    spec = RunSpec(
        edges=[{"from": "OrderService:out", "to": "SupportQueue:in"}],
        missing_csv={("OrderService", "served")},
    )
    build_run(data_root, spec)
    snapshot = body_of(client.get("/v1/runs/run_state_fixture/state?binIndex=2"))
    window = body_of(client.get("/v1/runs/run_state_fixture/state_window?startBin=0&endBin=3"))

    assert snapshot["edges"][0]["flowVolume"] is None
    assert snapshot["edges"][0]["series"] == {"flowVolume": [None]}
    assert window["edges"][0]["series"] == {"flowVolume": [None, None, None, None]}


def test_edges_are_the_same_in_both_modes_and_edge_warnings_empty(client: APIClient, data_root: Path) -> None:
    edges_run(data_root)
    base = f"/v1/runs/{EDGES_RUN}/state_window?startBin=0&endBin=3"
    operational = body_of(client.get(base))
    full = body_of(client.get(base + "&mode=full"))

    assert len(full["nodes"]) > len(operational["nodes"])  # the modes really differ in nodes
    assert dumps(full["edges"]) == dumps(operational["edges"])
    assert operational["edgeWarnings"] == {} and full["edgeWarnings"] == {}
    assert body_of(client.get(f"/v1/runs/{EDGES_RUN}/state?binIndex=0"))["edgeWarnings"] == {}


def test_edge_quality_agrees_across_state_window_and_detail(client: APIClient) -> None:
    run_id = create_run(RunRequest(template_id="order-system", deterministic_run_id=True)).run_id
    qualities = {
        body_of(client.get(path))["metadata"]["edgeQuality"]
        for path in (
            f"/v1/runs/{run_id}",
            f"/v1/runs/{run_id}/state?binIndex=0",
            f"/v1/runs/{run_id}/state_window?startBin=0&endBin=3",
        )
    }
    assert qualities == {"exact"}


def test_a_run_without_edges_has_empty_edges_and_missing_quality(client: APIClient, data_root: Path) -> None:
    # The 06 §10 goldens (snapshot_bin1.json, window_0_3.json) hold the whole bodies; here the graph.
    build_run(data_root, RunSpec())
    snapshot = body_of(client.get("/v1/runs/run_state_fixture/state?binIndex=0"))
    assert (snapshot["edges"], snapshot["edgeWarnings"], snapshot["metadata"]["edgeQuality"]) == (
        [],
        {},
        "missing",
    )
    graph = body_of(client.get("/v1/runs/run_state_fixture/graph"))
    assert dumps(graph) == dumps(load_golden("graph_no_edges.json", ""))


# --- /graph ---------------------------------------------------------------------------------------


def test_graph_of_weighted_and_port_qualified_edges_matches_golden(
    client: APIClient, data_root: Path
) -> None:
    edges_run(data_root)
    body = body_of(client.get(f"/v1/runs/{EDGES_RUN}/graph"))

    # Dropped: the second sq-billing (repeated id) and Billing:out->Nowhere:in (no such node).
    assert [edge["id"] for edge in body["edges"]] == [
        "OrderService:out->SupportQueue:in",
        "os-billing",
        "OrderService:errors->Billing:in",
        "sq-billing",
        "SupportQueue->Billing:in",
        "Billing:out->OrderService:in",
    ]
    assert dumps(body) == dumps(load_golden("graph_edges.json", ""))


def test_graph_full_mode_of_the_fixture_adds_model_only_nodes(client: APIClient, data_root: Path) -> None:
    edges_run(data_root)
    body = body_of(client.get(f"/v1/runs/{EDGES_RUN}/graph?mode=FULL"))
    assert body["order"] == ["OrderService", "SupportQueue", "Billing", "extra_node"]
    assert body["nodes"][-1] == {"id": "extra_node", "kind": "const", "semantics": None, "ui": None}


def _it_system_run() -> str:
    return create_run(RunRequest(template_id="it-system-microservices", deterministic_run_id=True)).run_id


def test_graph_of_the_default_it_system_run(client: APIClient) -> None:
    run_id = _it_system_run()
    body = body_of(client.get(f"/v1/runs/{run_id}/graph"))
    # The §4 example, with the shipped template's edge ids and capacity semantics.
    golden = Path(__file__).resolve().parents[1] / "golden" / "api" / "graph_it_system.json"
    assert dumps(body) == dumps(json.loads(golden.read_text(encoding="utf-8")))


def test_graph_full_mode_adds_model_nodes_and_dependency_edges(client: APIClient) -> None:
    run_id = _it_system_run()
    operational = body_of(client.get(f"/v1/runs/{run_id}/graph"))
    body = body_of(client.get(f"/v1/runs/{run_id}/graph?mode=full"))

    model_nodes = [
        ("user_requests", "const"),
        ("load_balancer_capacity", "const"),
        ("auth_capacity", "const"),
        ("database_capacity", "const"),
        ("load_balanced_requests", "expr"),
        ("authenticated_requests", "expr"),
        ("processed_requests", "expr"),
        ("failed_requests", "expr"),
        ("system_utilization", "expr"),
    ]
    assert body["nodes"][:3] == operational["nodes"]
    assert [(n["id"], n["kind"]) for n in body["nodes"][3:]] == model_nodes
    assert all(n["semantics"] is None and n["ui"] is None for n in body["nodes"][3:])
    assert body["order"] == [n["id"] for n in body["nodes"]]

    expr = [
        ("user_requests", "load_balanced_requests"),
        ("load_balancer_capacity", "load_balanced_requests"),
        ("load_balanced_requests", "authenticated_requests"),
        ("auth_capacity", "authenticated_requests"),
        ("authenticated_requests", "processed_requests"),
        ("database_capacity", "processed_requests"),
        ("user_requests", "failed_requests"),
        ("processed_requests", "failed_requests"),
        ("processed_requests", "system_utilization"),
        ("user_requests", "system_utilization"),
    ]
    semantics = {
        "LoadBalancer": (
            "user_requests",
            "load_balanced_requests",
            "failed_requests",
            "load_balancer_capacity",
        ),
        "AuthService": (
            "load_balanced_requests",
            "authenticated_requests",
            "failed_requests",
            "auth_capacity",
        ),
        "Database": ("authenticated_requests", "processed_requests", "failed_requests", "database_capacity"),
    }
    expected_dependencies = [
        {
            "id": f"dep:{a}->{b}:expr",
            "from": a,
            "to": b,
            "weight": 1,
            "edgeType": "dependency",
            "field": "expr",
        }
        for a, b in expr
    ]
    for node, values in semantics.items():
        for key, value in zip(("arrivals", "served", "errors", "capacity"), values, strict=True):
            expected_dependencies.append(
                {
                    "id": f"dep:{value}->{node}:{key}",
                    "from": value,
                    "to": node,
                    "weight": 1,
                    "edgeType": "dependency",
                    "field": key,
                }
            )
    assert body["edges"][:2] == operational["edges"]
    assert dumps(body["edges"][2:]) == dumps(expected_dependencies)
    ids = [edge["id"] for edge in body["edges"]]
    assert len(ids) == len(set(ids)) == 24


def test_graph_full_mode_never_repeats_a_dependency(client: APIClient, data_root: Path) -> None:
    spec = RunSpec(
        mode="simulation",
        model_extra={},
        edges=[
            {"id": "dep:os_arrivals->OrderService:arrivals", "from": "SupportQueue", "to": "OrderService"}
        ],
    )
    build_run(data_root, spec)
    body = body_of(client.get("/v1/runs/run_state_fixture/graph?mode=full"))
    ids = [edge["id"] for edge in body["edges"]]
    # The authored topology edge already holds that id, so the semantics dependency is dropped.
    assert ids.count("dep:os_arrivals->OrderService:arrivals") == 1
    assert body["edges"][0]["edgeType"] == "topology"
    assert len(ids) == len(set(ids))


def test_graph_node_fields_resolve_aliases_defaults_and_ui(client: APIClient, data_root: Path) -> None:
    topology = {
        "nodes": [
            {
                "id": " Gate ",
                "semantics": {
                    "arrivals": " a_in ",
                    "served": "a_out",
                    "queueDepth": "depth",
                    "external_demand": "demand",
                    "errors": 5,
                    "slaMin": 2.0,
                },
                "ui": {"x": 10.0, "y": 20.5},
            },
            {"id": "Backlog", "kind": "backlog", "semantics": {"arrivals": "a_out", "served": "a_out"}},
        ],
        "edges": [{"from": "Gate:out", "to": "Backlog"}],
    }
    build_run(data_root, RunSpec(model_extra={"topology": topology}))
    body = body_of(client.get("/v1/runs/run_state_fixture/graph"))
    # kind defaults to service; aliases queueDepth/external_demand resolve; a number is not a string;
    # slaMin 2.0 and x 10.0 follow the number rule; the backlog node is not operational, so the edge
    # to it is dropped.
    assert dumps(body) == dumps(
        {
            "nodes": [
                {
                    "id": "Gate",
                    "kind": "service",
                    "semantics": {
                        "arrivals": "a_in",
                        "served": "a_out",
                        "errors": None,
                        "queue": "depth",
                        "capacity": None,
                        "externalDemand": "demand",
                        "slaMin": 2,
                    },
                    "ui": {"x": 10, "y": 20.5},
                }
            ],
            "edges": [],
            "order": ["Gate"],
        }
    )
    full = body_of(client.get("/v1/runs/run_state_fixture/graph?mode=full"))
    assert full["order"][:2] == ["Gate", "Backlog"]
    assert full["edges"][0]["id"] == "Gate:out->Backlog"


def test_graph_bad_mode_is_400(client: APIClient, data_root: Path) -> None:
    build_run(data_root, RunSpec())
    instance = "/v1/runs/run_state_fixture/graph"
    detail = "Invalid mode 'x'. Expected 'operational' or 'full'."
    assert_problem(
        client.get(instance + "?mode=x"), problem("invalid_parameter", 400, detail, instance, field="mode")
    )


def test_graph_ignores_flowtime_only_parameters(client: APIClient, data_root: Path) -> None:
    build_run(data_root, RunSpec())
    plain = body_of(client.get("/v1/runs/run_state_fixture/graph"))
    extra = body_of(
        client.get("/v1/runs/run_state_fixture/graph?kinds=service&edgeWeight=x&dependencyFields=a")
    )
    assert plain == extra


def test_graph_of_an_unknown_run_is_404(client: APIClient) -> None:
    instance = "/v1/runs/run_missing/graph"
    assert_problem(
        client.get(instance), problem("run_not_found", 404, "Run 'run_missing' was not found.", instance)
    )


def test_graph_of_a_run_without_topology_is_409(client: APIClient, data_root: Path) -> None:
    build_run(data_root, RunSpec(model_extra={"topology": {"nodes": []}}))
    instance = "/v1/runs/run_state_fixture/graph"
    assert_problem(client.get(instance), problem("run_invalid", 409, "The model has no topology.", instance))


@pytest.mark.parametrize(
    ("second", "detail"),
    [
        ({"kind": "service"}, "Topology node 1 has no id."),
        ({"id": " A "}, "Topology node id 'A' is used twice."),
    ],
)
def test_graph_and_state_of_a_topology_node_without_a_unique_id_are_409(
    client: APIClient, data_root: Path, second: dict[str, Any], detail: str
) -> None:
    semantics = {"arrivals": "a", "served": "b"}
    nodes = [{"id": "A", "semantics": semantics}, {**second, "semantics": semantics}]
    build_run(data_root, RunSpec(model_extra={"topology": {"nodes": nodes}}))
    for instance in ("/v1/runs/run_state_fixture/graph", "/v1/runs/run_state_fixture/state"):
        response = client.get(instance + ("?binIndex=0" if instance.endswith("state") else ""))
        assert_problem(response, problem("run_invalid", 409, detail, instance))


def test_a_run_whose_state_is_422_still_has_a_graph(client: APIClient, data_root: Path) -> None:
    spec = RunSpec(
        mode="simulation",
        csv_overrides={("OrderService", "served"): "t,value\n0,NaN\n1,NaN\n2,NaN\n3,NaN\n"},
    )
    build_run(data_root, spec)
    assert client.get("/v1/runs/run_state_fixture/state?binIndex=0").status_code == 422
    body = body_of(client.get("/v1/runs/run_state_fixture/graph"))
    assert body["order"] == ["OrderService", "SupportQueue"]


def test_a_run_with_disagreeing_hashes_still_has_a_graph(client: APIClient, data_root: Path) -> None:
    build_run(data_root, RunSpec(run_model_hash="sha256:" + "ab" * 32))
    assert client.get("/v1/runs/run_state_fixture/state?binIndex=0").status_code == 409
    assert body_of(client.get("/v1/runs/run_state_fixture/graph"))["order"] == [
        "OrderService",
        "SupportQueue",
    ]


# --- §6 routing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["metrics", "graph/x", "state/extra", "artifacts"])
def test_unknown_sub_paths_of_an_existing_run_are_plain_not_found(
    client: APIClient, data_root: Path, suffix: str
) -> None:
    build_run(data_root, RunSpec())
    path = f"/v1/runs/run_state_fixture/{suffix}"
    assert_problem(client.get(path + "?x=1"), problem("not_found", 404, f"No endpoint at {path}.", path))


def test_flowtime_only_routes_are_plain_not_found(client: APIClient) -> None:
    for path in ("/v1/artifacts", "/v1/engine/session", "/api/v1/drafts", "/v1/sweep"):
        assert_problem(client.get(path), problem("not_found", 404, f"No endpoint at {path}.", path))


def test_a_run_id_failing_the_pattern_is_run_not_found(client: APIClient) -> None:
    assert_problem(
        client.get("/v1/runs/-x/state?binIndex=0"),
        problem("run_not_found", 404, "Run '-x' was not found.", "/v1/runs/-x/state"),
    )
