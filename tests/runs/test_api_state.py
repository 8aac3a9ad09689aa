"""HTTP contract of the time-travel state API (spec 06): ``/state``, ``/state_window``, ``/index``,
``/series`` and ``/model``, over hand-built runs (the §10 worked example) and real ``create_run`` runs.

Expected numbers come from the spec (06 §10, 01 §7 test vectors, the shipped capture's CSVs) or are
worked out in the test from those; never from the code's own output.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.http import HttpResponse
from replay_helpers import EXTRA_NODE_VALUES as EXTRA_VALUES
from replay_helpers import VALUES as WORKED_EXAMPLE
from replay_helpers import RunSpec, build_run, csv_text, load_golden
from rest_framework.test import APIClient
from tests_fixtures import FIXTURE_BUNDLE

from runs.orchestration import RunRequest, TelemetrySpec, create_run
from runs.replay import clear_caches

pytestmark = pytest.mark.django_db

TESTS_DIR = Path(__file__).resolve().parents[1]
STATE_GOLDEN_DIR = TESTS_DIR / "golden" / "state"
FIXTURE_CAPTURE = FIXTURE_BUNDLE

FIXTURE_RUN_ID = "run_state_fixture"
PROBLEM_JSON = "application/problem+json"
TITLES = {
    "invalid_parameter": "Invalid query parameter",
    "run_not_found": "Run not found",
    "series_not_found": "Series not found",
    "provenance_mismatch": "Provenance hashes disagree",
    "window_too_large": "State window too large",
    "mode_validation_failed": "Mode validation failed",
}
TEMPLATE_BINS = {
    "it-system-microservices": 6,
    "transportation-basic": 6,
    "manufacturing-line": 6,
    "supply-chain-multi-tier": 6,
    "network-reliability": 12,
    "order-system": 4,
    "support-queue": 12,
}

EXTRA_SERIES_ID = "extra_node@EXTRA_NODE@DEFAULT"


# --- helpers ------------------------------------------------------------------------------------


class StateClient:
    """An API client whose every response is checked for the data root's absolute path."""

    def __init__(self, data_root: Path) -> None:
        self._client = APIClient()
        self._forbidden = {str(data_root), str(data_root.resolve())}

    def get(self, path: str) -> HttpResponse:
        response: HttpResponse = self._client.get(path)
        text = response.content.decode("utf-8", "replace")
        for forbidden in self._forbidden:
            assert forbidden not in text, f"{path} leaks the data root"
        return response


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def api(data_root: Path) -> StateClient:
    return StateClient(data_root)


def dumps(value: Any) -> str:
    """JSON text keeping key order and telling ``10`` from ``10.0``: the form bodies are compared in."""
    return json.dumps(value)


def canon(value: float) -> int | float:
    """The project number rule: integral values are written as integers."""
    return int(value) if float(value).is_integer() else value


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def problem(code: str, status: int, detail: str, instance: str, field: str | None = None) -> dict[str, Any]:
    errors = [] if field is None else [{"field": field, "code": code, "message": detail}]
    return {
        "type": f"/problems/{code}",
        "title": TITLES[code],
        "status": status,
        "detail": detail,
        "code": code,
        "error": detail,
        "errors": errors,
        "instance": instance,
    }


def assert_problem(response: HttpResponse, expected: dict[str, Any]) -> None:
    assert response.status_code == expected["status"], response.content
    assert response["Content-Type"] == PROBLEM_JSON
    assert dumps(response.json()) == dumps(expected)  # type: ignore[attr-defined]


def body_of(response: HttpResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()  # type: ignore[attr-defined]


def write_fixture_run(
    data_root: Path,
    *,
    run_id: str = FIXTURE_RUN_ID,
    values: dict[str, dict[str, list[float]]] = WORKED_EXAMPLE,
    extra_values: list[float] = EXTRA_VALUES,
    start: str | None = "2025-01-01T00:00:00Z",
    run_warnings: list[Any] | None = None,
) -> str:
    """The spec 06 §10 run (telemetry mode, ``file://telemetry/<Node>_<metric>.csv`` semantics), plus
    one indexed model node outside the topology; returns the model hash H."""
    spec = RunSpec(
        run_id=run_id, values=values, extra_values=extra_values, start=start, run_warnings=run_warnings or []
    )
    return build_run(data_root, spec).model_hash


def simulation_run(template_id: str, **parameters: Any) -> str:
    return create_run(
        RunRequest(template_id=template_id, parameters=parameters, deterministic_run_id=True)
    ).run_id


def expected_metadata(
    data_root: Path, run_id: str, template_id: str, title: str, mode: str, edge_quality: str = "exact"
) -> dict[str, Any]:
    """The §2 envelope of a run written by ``create_run`` (H = sha256 of its model.yaml); every
    catalog template has a flow edge, hence ``edgeQuality`` ``exact`` (spec 07 §5.5)."""
    model_hash = sha256_of(data_root / "runs" / run_id / "model" / "model.yaml")
    base = f"runs/{run_id}/model"
    return {
        "runId": run_id,
        "templateId": template_id,
        "templateTitle": title,
        "templateVersion": "1.0.0",
        "mode": mode,
        "provenanceHash": model_hash,
        "telemetrySourcesResolved": mode == "telemetry",
        "schema": {"id": "time-travel/v1", "version": "1", "hash": model_hash},
        "storage": {
            "modelPath": f"{base}/model.yaml",
            "metadataPath": f"{base}/metadata.json",
            "provenancePath": f"{base}/provenance.json",
        },
        "edgeQuality": edge_quality,
    }


def window_series(body: dict[str, Any], node_id: str) -> dict[str, Any]:
    nodes = {node["id"]: node for node in body["nodes"]}
    series: dict[str, Any] = nodes[node_id]["series"]
    return series


# --- spec 06 §10: the worked example through HTTP -----------------------------------------------


def test_snapshot_bin1_matches_golden(api: StateClient, data_root: Path) -> None:
    model_hash = write_fixture_run(data_root)
    body = body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state?binIndex=1"))
    assert dumps(body) == dumps(load_golden("snapshot_bin1.json", model_hash))


def test_window_0_3_matches_golden(api: StateClient, data_root: Path) -> None:
    model_hash = write_fixture_run(data_root)
    body = body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state_window?startBin=0&endBin=3"))
    assert dumps(body) == dumps(load_golden("window_0_3.json", model_hash))


def test_worked_example_colours_per_bin(api: StateClient, data_root: Path) -> None:
    write_fixture_run(data_root)
    colours = [
        [
            node["derived"]["color"]
            for node in body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state?binIndex={i}"))["nodes"]
        ]
        for i in range(4)
    ]
    # Spec 06 §10: OrderService yellow, yellow, red, red; SupportQueue green, red, red, green.
    assert colours == [["yellow", "green"], ["yellow", "red"], ["red", "red"], ["red", "green"]]


def test_window_full_mode_adds_model_nodes_outside_the_topology(api: StateClient, data_root: Path) -> None:
    model_hash = write_fixture_run(data_root)
    body = body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state_window?startBin=1&endBin=2&mode=FULL"))
    golden = load_golden("window_0_3.json", model_hash)
    assert body["window"] == {"startBin": 1, "endBin": 2, "binCount": 2}
    assert body["timestampsUtc"] == ["2025-01-01T00:05:00Z", "2025-01-01T00:10:00Z"]
    assert dumps(body["nodes"][:2]) == dumps(
        [
            {**node, "series": {key: values[1:3] for key, values in node["series"].items()}}
            for node in golden["nodes"]
        ]
    )
    assert dumps(body["nodes"][2:]) == dumps(
        [
            {
                "id": "extra_node",
                "kind": "const",
                "series": {"values": [2.5, 3]},
                "telemetry": {"sources": [], "warnings": []},
            }
        ]
    )


def test_run_without_start_time_has_null_timestamps(api: StateClient, data_root: Path) -> None:
    model_hash = write_fixture_run(data_root, start=None)
    snapshot = body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state?binIndex=1"))
    golden = load_golden("snapshot_bin1.json", model_hash)
    golden["bin"] = {"index": 1, "startUtc": None, "endUtc": None, "durationMinutes": 5}
    assert dumps(snapshot) == dumps(golden)
    window = body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state_window?startBin=0&endBin=3"))
    golden = load_golden("window_0_3.json", model_hash)
    golden["timestampsUtc"] = None
    assert dumps(window) == dumps(golden)


def test_run_warnings_come_first_then_source_warnings(api: StateClient, data_root: Path) -> None:
    write_fixture_run(
        data_root,
        run_warnings=[
            "Bin 2 was estimated.",
            {"code": "data_gap", "message": "Gap in capacity."},
            {"code": "x"},
        ],
    )
    (data_root / "runs" / FIXTURE_RUN_ID / "model" / "telemetry" / "SupportQueue_queue.csv").unlink()
    expected = [
        {"code": "run_warning", "message": "Bin 2 was estimated.", "severity": "info", "nodeId": None},
        {"code": "run_warning", "message": "Gap in capacity.", "severity": "info", "nodeId": None},
        {
            "code": "telemetry_sources_missing",
            "message": "One or more telemetry sources could not be resolved for this run.",
            "severity": "warning",
            "nodeId": None,
        },
    ]
    snapshot = body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state?binIndex=1"))
    assert dumps(snapshot["warnings"]) == dumps(expected)
    queue_node = snapshot["nodes"][1]
    assert dumps(queue_node["telemetry"]["warnings"]) == dumps(
        [
            {
                "code": "telemetry_sources_unresolved",
                "message": "Source 'file://telemetry/SupportQueue_queue.csv' for queue could not be resolved "
                "for node 'SupportQueue'.",
                "severity": "warning",
            }
        ]
    )
    assert queue_node["metrics"]["queue"] is None
    assert queue_node["derived"]["latencyMinutes"] is None
    assert queue_node["derived"]["color"] == "gray"
    window = body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state_window?startBin=0&endBin=3"))
    assert dumps(window["warnings"]) == dumps(expected)
    assert window["metadata"]["telemetrySourcesResolved"] is False


@pytest.mark.parametrize(
    ("damage", "route"),
    [
        ("model/metadata.json", "state?binIndex=0"),
        ("model/model.yaml", "state_window?startBin=0&endBin=3"),
        ("run.json", "model"),
        ("series/index.json", "index"),
        (f"series/{EXTRA_SERIES_ID}.csv", "series/extra_node"),
    ],
)
def test_damaged_run_is_409_run_invalid(api: StateClient, data_root: Path, damage: str, route: str) -> None:
    write_fixture_run(data_root)
    (data_root / "runs" / FIXTURE_RUN_ID / damage).unlink()
    response = api.get(f"/v1/runs/{FIXTURE_RUN_ID}/{route}")
    assert response.status_code == 409, response.content
    assert response["Content-Type"] == PROBLEM_JSON
    body = response.json()  # type: ignore[attr-defined]
    assert (body["code"], body["title"], body["errors"]) == ("run_invalid", "Run directory is invalid", [])
    assert body["error"] == body["detail"]
    assert body["instance"] == f"/v1/runs/{FIXTURE_RUN_ID}/{route.split('?')[0]}"


def test_unparseable_model_is_409_run_invalid(api: StateClient, data_root: Path) -> None:
    write_fixture_run(data_root)
    (data_root / "runs" / FIXTURE_RUN_ID / "model" / "model.yaml").write_text("grid: [unclosed\n")
    response = api.get(f"/v1/runs/{FIXTURE_RUN_ID}/state?binIndex=0")
    assert response.status_code == 409
    assert response.json()["code"] == "run_invalid"  # type: ignore[attr-defined]


# --- every shipped template replays -------------------------------------------------------------


@pytest.mark.parametrize("template_id", sorted(TEMPLATE_BINS))
def test_every_template_run_replays_without_warnings(
    api: StateClient, data_root: Path, template_id: str
) -> None:
    run_id = simulation_run(template_id)
    bins = TEMPLATE_BINS[template_id]
    topology_ids = [
        node["id"]
        for node in yaml.safe_load((data_root / "runs" / run_id / "model" / "model.yaml").read_text())[
            "topology"
        ]["nodes"]
    ]

    detail = body_of(api.get(f"/v1/runs/{run_id}"))
    assert detail["canReplay"] is True
    assert detail["warnings"] == []

    for bin_index in (0, bins - 1):
        snapshot = body_of(api.get(f"/v1/runs/{run_id}/state?binIndex={bin_index}"))
        assert snapshot["metadata"] == detail["metadata"]
        assert snapshot["bin"]["index"] == bin_index
        assert snapshot["warnings"] == []
        assert [node["id"] for node in snapshot["nodes"]] == topology_ids
        assert [node["telemetry"]["warnings"] for node in snapshot["nodes"]] == [[]] * len(topology_ids)

    window = body_of(api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin={bins - 1}"))
    assert window["metadata"] == detail["metadata"]
    assert window["window"] == {"startBin": 0, "endBin": bins - 1, "binCount": bins}
    assert len(window["timestampsUtc"]) == bins
    assert window["warnings"] == []
    assert [node["id"] for node in window["nodes"]] == topology_ids
    for node in window["nodes"]:
        assert node["telemetry"]["warnings"] == []
        assert {key: len(values) for key, values in node["series"].items()} == {
            key: bins for key in node["series"]
        }


# Spec 01 §7 test vectors, as (template, topology node, window series key, vector).
SPEC_VECTORS = [
    ("it-system-microservices", "LoadBalancer", "served", [100, 150, 200, 180, 120, 80]),
    ("it-system-microservices", "Database", "served", [100, 150, 180, 180, 120, 80]),
    ("it-system-microservices", "Database", "errors", [0, 0, 20, 0, 0, 0]),
    ("transportation-basic", "TransitLine", "served", [10, 15, 20, 25, 18, 12]),
    ("transportation-basic", "TransitLine", "errors", [0, 0, 0, 0, 0, 0]),
    ("manufacturing-line", "AssemblyLine", "served", [90, 90, 80, 90, 90, 90]),
    ("manufacturing-line", "AssemblyLine", "errors", [4.5, 4.5, 4, 4.5, 4.5, 4.5]),
    ("manufacturing-line", "QualityControl", "served", [80, 80, 76, 80, 80, 80]),
    ("manufacturing-line", "PackagingStation", "served", [10.8] * 6),
    ("supply-chain-multi-tier", "Supplier", "served", [96, 144, 192, 168, 120, 72]),
    ("supply-chain-multi-tier", "Distributor", "served", [96, 144, 150, 150, 120, 72]),
    ("supply-chain-multi-tier", "Retailer", "served", [96, 120, 120, 120, 120, 72]),
    ("supply-chain-multi-tier", "Retailer", "errors", [0, 0, 40, 20, 0, 0]),
    (
        "network-reliability",
        "EdgeGateway",
        "served",
        [
            *[95.89999999999999, 115.08, 143.85, 172.62, 191.79999999999998, 182.20999999999998],
            *[163.03, 153.44, 134.26, 124.67, 105.49, 100.695],
        ],
    ),
    (
        "network-reliability",
        "CorePlatform",
        "served",
        [
            *[93.31069999999998, 111.97283999999999, 139.96605, *[145.95] * 5],
            *[130.63497999999998, 121.30391, 102.64177, 97.97623499999999],
        ],
    ),
    ("support-queue", "SupportQueue", "queue", [0, 0, 1, 5, 12, 19, 24, 25, 24, 21, 16, 10]),
    ("support-queue", "SupportQueue", "served", [8, 10, *[11] * 10]),
]


@pytest.mark.parametrize(("template_id", "node_id", "key", "vector"), SPEC_VECTORS)
def test_window_series_match_spec_vectors(
    api: StateClient, template_id: str, node_id: str, key: str, vector: list[float]
) -> None:
    run_id = simulation_run(template_id)
    body = body_of(
        api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin={TEMPLATE_BINS[template_id] - 1}")
    )
    assert dumps(window_series(body, node_id)[key]) == dumps(vector)


def test_order_system_window_whole_body(api: StateClient, data_root: Path) -> None:
    run_id = simulation_run("order-system")
    # Spec 01 §7: order-system vectors; the rest worked out here from the template's formulas.
    arrivals = [10, 14, 18, 12]
    order_errors = [0.5, 0.7000000000000001, 0.8, 0.6000000000000001]
    order_served = [9.5, 13.3, 15.2, 11.4]
    payment_served = [9.31, 13.034, 13.72, 11.172]
    payment_errors = [min(s, 14) * 0.02 for s in order_served]

    def derived(served: Sequence[float], arrivals: Sequence[float], capacity: float) -> dict[str, list[Any]]:
        return {
            "utilization": [canon(s / capacity) for s in served],
            "throughputRatio": [canon(s / a) for s, a in zip(served, arrivals, strict=True)],
        }

    order_derived = derived(order_served, arrivals, 16)
    payment_derived = derived(payment_served, order_served, 14)
    expected = {
        "metadata": expected_metadata(data_root, run_id, "order-system", "Order System", "simulation"),
        "window": {"startBin": 0, "endBin": 3, "binCount": 4},
        "timestampsUtc": [
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:05:00Z",
            "2025-01-01T00:10:00Z",
            "2025-01-01T00:15:00Z",
        ],
        "nodes": [
            {
                "id": "OrderService",
                "kind": "service",
                "series": {
                    "arrivals": arrivals,
                    "served": order_served,
                    "errors": order_errors,
                    "capacity": [16] * 4,
                    "utilization": order_derived["utilization"],
                    "throughputRatio": order_derived["throughputRatio"],
                },
                "telemetry": {"sources": [], "warnings": []},
            },
            {
                "id": "PaymentService",
                "kind": "service",
                "series": {
                    "arrivals": order_served,
                    "served": payment_served,
                    "errors": payment_errors,
                    "capacity": [14] * 4,
                    "utilization": payment_derived["utilization"],
                    "throughputRatio": payment_derived["throughputRatio"],
                },
                "telemetry": {"sources": [], "warnings": []},
            },
        ],
        # Spec 07 §5.2: the one edge OrderService:out -> PaymentService:in (weight 1) carries all of
        # OrderService's served.
        "edges": [
            {
                "id": "OrderService_to_PaymentService",
                "from": "OrderService",
                "to": "PaymentService",
                "edgeType": "topology",
                "weight": 1,
                "series": {"flowVolume": order_served},
            }
        ],
        "edgeWarnings": {},
        "warnings": [],
    }
    body = body_of(api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=3"))
    assert dumps(body) == dumps(expected)


def test_order_system_full_mode_lists_every_model_node(api: StateClient) -> None:
    run_id = simulation_run("order-system")
    body = body_of(api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=3&mode=full"))
    model_nodes = body["nodes"][2:]
    assert [node["id"] for node in body["nodes"][:2]] == ["OrderService", "PaymentService"]
    assert [(node["id"], node["kind"]) for node in model_nodes] == [
        ("order_arrivals", "const"),
        ("order_capacity", "const"),
        ("payment_capacity", "const"),
        ("order_errors", "expr"),
        ("order_served", "expr"),
        ("payment_errors", "expr"),
        ("payment_served", "expr"),
    ]
    by_id = {node["id"]: node for node in model_nodes}
    assert dumps(by_id["order_served"]) == dumps(
        {
            "id": "order_served",
            "kind": "expr",
            "series": {"values": [9.5, 13.3, 15.2, 11.4]},
            "telemetry": {"sources": [], "warnings": []},
        }
    )


def test_order_system_snapshot_bin0(api: StateClient, data_root: Path) -> None:
    run_id = simulation_run("order-system")
    body = body_of(api.get(f"/v1/runs/{run_id}/state?binIndex=0"))
    order, payment = body["nodes"]
    # Spec 01 §7: order_served[0] = 9.5, order_errors[0] = 0.5, payment_served[0] = 9.31.
    assert dumps(order["metrics"]) == dumps(
        {"arrivals": 10, "served": 9.5, "errors": 0.5, "queue": None, "capacity": 16, "externalDemand": None}
    )
    assert dumps(order["derived"]) == dumps(
        {"utilization": 9.5 / 16, "latencyMinutes": None, "throughputRatio": 9.5 / 10, "color": "green"}
    )
    assert payment["metrics"]["arrivals"] == 9.5
    assert payment["metrics"]["served"] == 9.31
    assert body["bin"] == {
        "index": 0,
        "startUtc": "2025-01-01T00:00:00Z",
        "endUtc": "2025-01-01T00:05:00Z",
        "durationMinutes": 5,
    }
    assert body["metadata"] == expected_metadata(
        data_root, run_id, "order-system", "Order System", "simulation"
    )


def test_support_queue_snapshot_whole_body(api: StateClient, data_root: Path) -> None:
    run_id = simulation_run("support-queue")
    # Spec 01 §7 at bin 7: ticket_arrivals 12 (intake capacity 18, nothing rejected),
    # queue_depth 25, tickets_resolved 11 = agent capacity; slaMinutes 10, 5-minute bins.
    latency = 25 / 11 * 5
    expected = {
        "metadata": expected_metadata(data_root, run_id, "support-queue", "Support Queue", "simulation"),
        "bin": {
            "index": 7,
            "startUtc": "2025-01-01T00:35:00Z",
            "endUtc": "2025-01-01T00:40:00Z",
            "durationMinutes": 5,
        },
        "nodes": [
            {
                "id": "Intake",
                "kind": "service",
                "metrics": {
                    "arrivals": 12,
                    "served": 12,
                    "errors": 0,
                    "queue": None,
                    "capacity": 18,
                    "externalDemand": None,
                },
                "derived": {
                    "utilization": 12 / 18,
                    "latencyMinutes": None,
                    "throughputRatio": 1,
                    "color": "green",
                },
                "telemetry": {"sources": [], "warnings": []},
            },
            {
                "id": "SupportQueue",
                "kind": "queue",
                "metrics": {
                    "arrivals": 12,
                    "served": 11,
                    "errors": None,
                    "queue": 25,
                    "capacity": 11,
                    "externalDemand": None,
                },
                "derived": {
                    "utilization": 1,
                    "latencyMinutes": latency,
                    "throughputRatio": 11 / 12,
                    # 11.36… minutes: above slaMin 10, within 1.5 × slaMin.
                    "color": "yellow",
                },
                "telemetry": {"sources": [], "warnings": []},
            },
        ],
        # Spec 07 §5.2: the single edge Intake:out -> SupportQueue:in carries Intake's served (12).
        "edges": [
            {
                "id": "Intake_to_SupportQueue",
                "from": "Intake",
                "to": "SupportQueue",
                "edgeType": "topology",
                "weight": 1,
                "flowVolume": 12,
                "series": {"flowVolume": [12]},
            }
        ],
        "edgeWarnings": {},
        "warnings": [],
    }
    body = body_of(api.get(f"/v1/runs/{run_id}/state?binIndex=7"))
    assert dumps(body) == dumps(expected)


# --- telemetry run with a deleted CSV -----------------------------------------------------------


def capture_values(name: str) -> list[int | float]:
    with (FIXTURE_CAPTURE / name).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return [canon(float(value)) for _index, value in rows]


def telemetry_run(data_root: Path) -> str:
    shutil.copytree(FIXTURE_CAPTURE, data_root / "telemetry" / "it-system-demo")
    outcome = create_run(
        RunRequest(
            template_id="it-system-microservices",
            mode="telemetry",
            telemetry=TelemetrySpec(
                capture_directory="it-system-demo",
                bindings={"telemetryRequestsSource": "LoadBalancer_arrivals.csv"},
            ),
            deterministic_run_id=True,
            capture_base=data_root / "telemetry",
        )
    )
    return outcome.run_id


def test_telemetry_run_replays_with_every_source_resolved(api: StateClient, data_root: Path) -> None:
    run_id = telemetry_run(data_root)
    detail = body_of(api.get(f"/v1/runs/{run_id}"))
    assert detail["canReplay"] is True
    body = body_of(api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=5"))
    assert body["metadata"] == expected_metadata(
        data_root, run_id, "it-system-microservices", "IT System with Microservices", "telemetry"
    )
    assert body["warnings"] == []
    for node in body["nodes"]:
        assert node["telemetry"] == {
            "sources": [
                f"file://telemetry/{node['id']}_{metric}.csv" for metric in ("arrivals", "served", "errors")
            ],
            "warnings": [],
        }
        assert dumps(node["series"]["served"]) == dumps(capture_values(f"{node['id']}_served.csv"))


def test_telemetry_run_with_a_deleted_csv_warns(api: StateClient, data_root: Path) -> None:
    run_id = telemetry_run(data_root)
    run_dir = data_root / "runs" / run_id
    body_of(api.get(f"/v1/runs/{run_id}/state?binIndex=0"))  # warm the caches first
    (run_dir / "model" / "telemetry" / "LoadBalancer_served.csv").unlink()

    source = "file://telemetry/LoadBalancer_served.csv"
    node_warning = {
        "code": "telemetry_sources_unresolved",
        "message": f"Source '{source}' for served could not be resolved for node 'LoadBalancer'.",
        "severity": "warning",
    }
    top_warning = {
        "code": "telemetry_sources_missing",
        "message": "One or more telemetry sources could not be resolved for this run.",
        "severity": "warning",
        "nodeId": None,
    }
    metadata = expected_metadata(
        data_root, run_id, "it-system-microservices", "IT System with Microservices", "telemetry"
    )
    metadata["telemetrySourcesResolved"] = False

    def node(node_id: str, capacity: int, *, served_missing: bool = False) -> dict[str, Any]:
        arrivals = capture_values(f"{node_id}_arrivals.csv")[0]
        served = None if served_missing else capture_values(f"{node_id}_served.csv")[0]
        errors = capture_values(f"{node_id}_errors.csv")[0]
        utilization = None if served is None else canon(served / capacity)
        metrics = ["arrivals", "errors"] if served_missing else ["arrivals", "served", "errors"]
        return {
            "id": node_id,
            "kind": "service",
            "metrics": {
                "arrivals": arrivals,
                "served": served,
                "errors": errors,
                "queue": None,
                "capacity": capacity,
                "externalDemand": None,
            },
            "derived": {
                "utilization": utilization,
                "latencyMinutes": None,
                "throughputRatio": None if served is None else canon(served / arrivals),
                "color": "gray" if utilization is None else "green" if utilization < 0.7 else "yellow",
            },
            "telemetry": {
                "sources": [f"file://telemetry/{node_id}_{metric}.csv" for metric in metrics],
                "warnings": [node_warning] if served_missing else [],
            },
        }

    def edge(source: str, target: str, flow: float | None) -> dict[str, Any]:
        return {
            "id": f"{source}_to_{target}",
            "from": source,
            "to": target,
            "edgeType": "topology",
            "weight": 1,
            "flowVolume": flow,
            "series": {"flowVolume": [flow]},
        }

    # Spec 01 §7: capacities 300, 250, 180 (template defaults).
    expected = {
        "metadata": metadata,
        "bin": {
            "index": 0,
            "startUtc": "2025-10-01T00:00:00Z",
            "endUtc": "2025-10-01T01:00:00Z",
            "durationMinutes": 60,
        },
        "nodes": [
            node("LoadBalancer", 300, served_missing=True),
            node("AuthService", 250),
            node("Database", 180),
        ],
        # Spec 07 §5.2: an unresolved served source gives flowVolume null; AuthService's served
        # (a single outgoing edge) passes through whole.
        "edges": [
            edge("LoadBalancer", "AuthService", None),
            edge("AuthService", "Database", capture_values("AuthService_served.csv")[0]),
        ],
        "edgeWarnings": {},
        "warnings": [top_warning],
    }
    body = body_of(api.get(f"/v1/runs/{run_id}/state?binIndex=0"))
    assert dumps(body) == dumps(expected)

    window = body_of(api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=5"))
    assert window["warnings"] == [top_warning]
    assert window["metadata"] == metadata
    balancer = window["nodes"][0]
    assert balancer["telemetry"]["warnings"] == [node_warning]
    assert balancer["series"]["served"] == [None] * 6
    assert balancer["series"]["throughputRatio"] == [None] * 6
    assert [node["telemetry"]["warnings"] for node in window["nodes"][1:]] == [[], []]

    # A required metric no longer resolves: the run cannot be replayed faithfully.
    assert body_of(api.get(f"/v1/runs/{run_id}"))["canReplay"] is False


# --- simulation validation, provenance ----------------------------------------------------------


def test_simulation_run_with_nan_served_is_422(api: StateClient, data_root: Path, settings: Any) -> None:
    run_id = simulation_run("order-system")
    body_of(api.get(f"/v1/runs/{run_id}/state?binIndex=0"))  # cached before the edit
    served_csv = data_root / "runs" / run_id / "series" / "order_served@ORDER_SERVED@DEFAULT.csv"
    served_csv.write_text(csv_text(["NaN", 13.3, 15.2, 11.4]), encoding="utf-8")

    detail = "Node 'OrderService' contains invalid values for served in simulation mode."
    for path in ("state?binIndex=2", "state_window?startBin=1&endBin=3"):
        instance = f"/v1/runs/{run_id}/{path.split('?')[0]}"
        assert_problem(
            api.get(f"/v1/runs/{run_id}/{path}"), problem("mode_validation_failed", 422, detail, instance)
        )
    assert body_of(api.get(f"/v1/runs/{run_id}"))["canReplay"] is False

    # §8 order: bin ranges and the window size are checked before simulation validation.
    assert api.get(f"/v1/runs/{run_id}/state?binIndex=4").json()["code"] == "invalid_parameter"  # type: ignore[attr-defined]
    settings.FLOWTIME_STATE_MAX_WINDOW_BINS = 2
    response = api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=3")
    assert response.json()["code"] == "window_too_large"  # type: ignore[attr-defined]


def test_simulation_run_missing_a_required_series_is_422(api: StateClient, data_root: Path) -> None:
    run_id = simulation_run("order-system")
    (data_root / "runs" / run_id / "series" / "order_served@ORDER_SERVED@DEFAULT.csv").unlink()
    detail = "Node 'OrderService' is missing required served series for simulation mode."
    instance = f"/v1/runs/{run_id}/state"
    assert_problem(
        api.get(f"{instance}?binIndex=0"), problem("mode_validation_failed", 422, detail, instance)
    )


def test_altered_run_json_model_hash_is_409(api: StateClient, data_root: Path) -> None:
    run_id = simulation_run("order-system")
    run_json = data_root / "runs" / run_id / "run.json"
    body_of(api.get(f"/v1/runs/{run_id}/state?binIndex=0"))
    document = json.loads(run_json.read_text(encoding="utf-8"))
    document["modelHash"] = "F" * 64  # bare hex is normalised to sha256: + lower case
    run_json.write_text(json.dumps(document), encoding="utf-8")

    model_hash = sha256_of(data_root / "runs" / run_id / "model" / "model.yaml")
    detail = f"run.json modelHash sha256:{'f' * 64} does not match the provenance hash {model_hash}."
    for path in ("state?binIndex=0", "state_window?startBin=0&endBin=3", "index", "model"):
        instance = f"/v1/runs/{run_id}/{path.split('?')[0]}"
        assert_problem(
            api.get(f"/v1/runs/{run_id}/{path}"), problem("provenance_mismatch", 409, detail, instance)
        )


# --- query parameters ---------------------------------------------------------------------------

REQUIRED = "{} query parameter is required and must be an integer."
BAD_QUERIES = [
    ("state", "", "binIndex", REQUIRED.format("binIndex")),
    ("state", "binIndex=", "binIndex", REQUIRED.format("binIndex")),
    ("state", "binIndex=abc", "binIndex", REQUIRED.format("binIndex")),
    ("state", "binIndex=1.0", "binIndex", REQUIRED.format("binIndex")),
    ("state", "binIndex=%201", "binIndex", REQUIRED.format("binIndex")),
    ("state", "binIndex=1234567890", "binIndex", REQUIRED.format("binIndex")),
    ("state", "binIndex=1&binIndex=1", "binIndex", REQUIRED.format("binIndex")),
    ("state", "binindex=1", "binIndex", REQUIRED.format("binIndex")),
    ("state", "binIndex=4", "binIndex", "binIndex must be between 0 and 3."),
    ("state", "binIndex=-1", "binIndex", "binIndex must be between 0 and 3."),
    ("state", "binIndex=999999999", "binIndex", "binIndex must be between 0 and 3."),
    ("state_window", "endBin=3", "startBin", REQUIRED.format("startBin")),
    ("state_window", "startBin=0", "endBin", REQUIRED.format("endBin")),
    ("state_window", "startBin=x&endBin=3", "startBin", REQUIRED.format("startBin")),
    ("state_window", "startBin=0&endBin=3e0", "endBin", REQUIRED.format("endBin")),
    ("state_window", "startBin=0&endBin=3&endBin=3", "endBin", REQUIRED.format("endBin")),
    ("state_window", "startBin=-1&endBin=3", "startBin", "startBin must be between 0 and 3."),
    ("state_window", "startBin=4&endBin=3", "startBin", "startBin must be between 0 and 3."),
    ("state_window", "startBin=0&endBin=4", "endBin", "endBin must be between 0 and 3."),
    ("state_window", "startBin=3&endBin=1", "endBin", "endBin must be greater than or equal to startBin."),
    ("state_window", "startBin=0&endBin=3&mode=bogus", "mode", "mode must be 'operational' or 'full'."),
    ("state_window", "startBin=0&endBin=3&mode=", "mode", "mode must be 'operational' or 'full'."),
    (
        "state_window",
        "startBin=0&endBin=3&mode=full&mode=full",
        "mode",
        "mode must be 'operational' or 'full'.",
    ),
]


@pytest.mark.parametrize(("route", "query", "field", "detail"), BAD_QUERIES)
def test_bad_query_parameters_are_400(
    api: StateClient, data_root: Path, route: str, query: str, field: str, detail: str
) -> None:
    write_fixture_run(data_root)
    response = api.get(f"/v1/runs/{FIXTURE_RUN_ID}/{route}?{query}")
    assert_problem(
        response, problem("invalid_parameter", 400, detail, f"/v1/runs/{FIXTURE_RUN_ID}/{route}", field)
    )


def test_query_syntax_is_checked_before_the_run_and_ranges_after(api: StateClient) -> None:
    # §8 order: query syntax → run load → bin ranges.
    assert_problem(
        api.get("/v1/runs/run_missing/state?binIndex=x"),
        problem(
            "invalid_parameter", 400, REQUIRED.format("binIndex"), "/v1/runs/run_missing/state", "binIndex"
        ),
    )
    assert_problem(
        api.get("/v1/runs/run_missing/state_window?startBin=0&endBin=999999"),
        problem(
            "run_not_found", 404, "Run 'run_missing' was not found.", "/v1/runs/run_missing/state_window"
        ),
    )


# --- window size ----------------------------------------------------------------------------------


def test_window_over_the_configured_limit_is_413(api: StateClient, data_root: Path, settings: Any) -> None:
    write_fixture_run(data_root)
    settings.FLOWTIME_STATE_MAX_WINDOW_BINS = 3
    instance = f"/v1/runs/{FIXTURE_RUN_ID}/state_window"
    assert_problem(
        api.get(f"{instance}?startBin=0&endBin=3"),
        problem(
            "window_too_large",
            413,
            "Requested bin range 4 exceeds maximum supported window size of 3.",
            instance,
        ),
    )
    assert body_of(api.get(f"{instance}?startBin=1&endBin=3"))["window"] == {
        "startBin": 1,
        "endBin": 3,
        "binCount": 3,
    }


def test_default_window_limit_is_500_bins(api: StateClient, data_root: Path) -> None:
    bins = 600
    ramp = [i % 7 + 1 for i in range(bins)]
    write_fixture_run(
        data_root,
        run_id="run_long",
        values={
            "OrderService": {"arrivals": ramp, "served": ramp, "capacity": [8] * bins},
            "SupportQueue": {"arrivals": ramp, "served": ramp, "queue": [0] * bins},
        },
        extra_values=[0] * bins,
    )
    instance = "/v1/runs/run_long/state_window"
    assert_problem(
        api.get(f"{instance}?startBin=0&endBin=500"),
        problem(
            "window_too_large",
            413,
            "Requested bin range 501 exceeds maximum supported window size of 500.",
            instance,
        ),
    )
    assert_problem(
        api.get(f"{instance}?startBin=99&endBin=599"),
        problem(
            "window_too_large",
            413,
            "Requested bin range 501 exceeds maximum supported window size of 500.",
            instance,
        ),
    )
    body = body_of(api.get(f"{instance}?startBin=100&endBin=599"))
    assert body["window"] == {"startBin": 100, "endBin": 599, "binCount": 500}
    assert body["timestampsUtc"][-1] == "2025-01-03T01:55:00Z"  # 599 × 5 minutes after the start
    assert body["nodes"][0]["series"]["served"] == ramp[100:]
    assert body["nodes"][0]["series"]["utilization"] == [canon(v / 8) for v in ramp[100:]]
    assert body["warnings"] == []


# --- not found ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_id", "directory"),
    [
        ("run_missing", None),
        # Ids failing the run-id regex are refused before any disk access: a valid run directory
        # under that name (or the data root itself, for "..") must not be found.
        ("-leading-dash", "-leading-dash"),
        ("has%20space", "has space"),
        ("a" * 129, "a" * 129),
        ("..", None),
        ("run_state_fixture.", None),
    ],
)
@pytest.mark.parametrize("route", ["state?binIndex=0", "state_window?startBin=0&endBin=0", "index", "model"])
def test_unknown_or_malformed_run_id_is_404(
    api: StateClient, data_root: Path, url_id: str, directory: str | None, route: str
) -> None:
    write_fixture_run(data_root)
    if directory is not None:
        write_fixture_run(data_root, run_id=directory)
    response = api.get(f"/v1/runs/{url_id}/{route}")
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == PROBLEM_JSON
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "run_not_found"
    assert body["detail"].startswith("Run '")
    assert body["error"] == body["detail"]
    assert body["errors"] == []


def test_unknown_run_problem_body(api: StateClient) -> None:
    assert_problem(
        api.get("/v1/runs/run_missing/state?binIndex=0"),
        problem("run_not_found", 404, "Run 'run_missing' was not found.", "/v1/runs/run_missing/state"),
    )


# --- /index, /series, /model --------------------------------------------------------------------


def test_index_drops_formats_and_completes_the_grid(api: StateClient, data_root: Path) -> None:
    write_fixture_run(data_root)
    body = body_of(api.get(f"/v1/runs/{FIXTURE_RUN_ID}/index"))
    assert dumps(body) == dumps(
        {
            "schemaVersion": 1,
            "grid": {
                "bins": 4,
                "binSize": 5,
                "binUnit": "minutes",
                "timezone": "UTC",
                "align": "left",
                "binMinutes": 5,
            },
            "series": [
                {
                    "id": EXTRA_SERIES_ID,
                    "kind": "flow",
                    "path": f"series/{EXTRA_SERIES_ID}.csv",
                    "unit": "entities/bin",
                    "componentId": "EXTRA_NODE",
                    "class": "DEFAULT",
                    "points": 4,
                    "hash": "sha256:" + "0" * 64,
                }
            ],
        }
    )


def test_index_of_a_real_run(api: StateClient, data_root: Path) -> None:
    run_id = simulation_run("order-system")
    series_dir = data_root / "runs" / run_id / "series"
    names = ["order_arrivals", "order_capacity", "payment_capacity", "order_errors", "order_served"]
    names += ["payment_errors", "payment_served"]
    body = body_of(api.get(f"/v1/runs/{run_id}/index"))
    assert body["grid"] == {
        "bins": 4,
        "binSize": 5,
        "binUnit": "minutes",
        "timezone": "UTC",
        "align": "left",
        "binMinutes": 5,
    }
    assert body["series"] == [
        {
            "id": f"{name}@{name.upper()}@DEFAULT",
            "kind": "flow",
            "path": f"series/{name}@{name.upper()}@DEFAULT.csv",
            "unit": "entities/bin",
            "componentId": name.upper(),
            "class": "DEFAULT",
            "points": 4,
            "hash": sha256_of(series_dir / f"{name}@{name.upper()}@DEFAULT.csv"),
        }
        for name in names
    ]


@pytest.mark.parametrize("series_id", ["order_served@ORDER_SERVED@DEFAULT", "order_served"])
def test_series_csv_by_id_or_prefix(api: StateClient, series_id: str) -> None:
    run_id = simulation_run("order-system")
    response = api.get(f"/v1/runs/{run_id}/series/{series_id}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    # Spec 01 §7: order_served [9.5, 13.3, 15.2, 11.4].
    assert response.content == b"t,value\n0,9.5\n1,13.3\n2,15.2\n3,11.4\n"


def test_series_csv_writes_canonical_numbers(api: StateClient, data_root: Path) -> None:
    write_fixture_run(data_root)
    run_dir = data_root / "runs" / FIXTURE_RUN_ID
    (run_dir / "series" / f"{EXTRA_SERIES_ID}.csv").write_text(
        "bin_index,value\n0,1.0\n1,2.50\n2,+3\n3,4e0\n"
    )
    response = api.get(f"/v1/runs/{FIXTURE_RUN_ID}/series/extra_node")
    assert response.status_code == 200
    assert response.content == b"t,value\n0,1\n1,2.5\n2,3\n3,4\n"


@pytest.mark.parametrize("series_id", ["order", "ORDER_SERVED", "order_served@ORDER", "nope"])
def test_unknown_series_is_404(api: StateClient, series_id: str) -> None:
    run_id = simulation_run("order-system")
    instance = f"/v1/runs/{run_id}/series/{series_id}"
    assert_problem(
        api.get(instance),
        problem("series_not_found", 404, f"Series '{series_id}' was not found in this run.", instance),
    )


def test_series_of_unknown_run_is_404(api: StateClient) -> None:
    instance = "/v1/runs/run_missing/series/x"
    assert_problem(
        api.get(instance), problem("run_not_found", 404, "Run 'run_missing' was not found.", instance)
    )


@pytest.mark.parametrize("accept", ["text/yaml", "text/csv", "text/*", "application/json", "*/*"])
def test_file_routes_answer_their_own_type_whatever_accept_asks(data_root: Path, accept: str) -> None:
    """A client asking for the model as YAML (or a series as CSV) gets it; errors stay JSON problems."""
    run_id = simulation_run("order-system")
    client = APIClient()
    model = client.get(f"/v1/runs/{run_id}/model", HTTP_ACCEPT=accept)
    assert model.status_code == 200, model.content
    assert model["Content-Type"] == "text/yaml; charset=utf-8"
    series = client.get(f"/v1/runs/{run_id}/series/order_served", HTTP_ACCEPT=accept)
    assert series.status_code == 200, series.content
    assert series.content == b"t,value\n0,9.5\n1,13.3\n2,15.2\n3,11.4\n"
    missing = client.get("/v1/runs/run_missing/model", HTTP_ACCEPT=accept)
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["code"] == "run_not_found"


@pytest.mark.parametrize("which", ["fixture", "order-system"])
def test_model_is_served_byte_for_byte(api: StateClient, data_root: Path, which: str) -> None:
    if which == "fixture":
        write_fixture_run(data_root)
        run_id = FIXTURE_RUN_ID
    else:
        run_id = simulation_run("order-system")
    response = api.get(f"/v1/runs/{run_id}/model")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/yaml; charset=utf-8"
    assert response.content == (data_root / "runs" / run_id / "model" / "model.yaml").read_bytes()


# --- overwrite: no stale cache ------------------------------------------------------------------


def test_state_after_overwrite_serves_the_new_run(api: StateClient, data_root: Path) -> None:
    run_id = "run_overwritten"
    create_run(RunRequest(template_id="order-system", run_id=run_id))
    before = body_of(api.get(f"/v1/runs/{run_id}/state?binIndex=0"))["nodes"][0]["metrics"]
    body_of(api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=3"))
    assert (before["arrivals"], before["served"]) == (10, 9.5)

    create_run(
        RunRequest(
            template_id="order-system",
            run_id=run_id,
            parameters={"orderArrivals": [20, 14, 18, 12]},
            overwrite=True,
        )
    )
    # By hand: MIN(20, 16) = 16; errors 16 × 0.05; served 16 − errors.
    errors = min(20, 16) * 0.05
    served = min(20, 16) - errors
    snapshot = body_of(api.get(f"/v1/runs/{run_id}/state?binIndex=0"))
    assert dumps(snapshot["nodes"][0]["metrics"]) == dumps(
        {
            "arrivals": 20,
            "served": served,
            "errors": errors,
            "queue": None,
            "capacity": 16,
            "externalDemand": None,
        }
    )
    assert snapshot["nodes"][0]["derived"]["utilization"] == served / 16
    assert snapshot["metadata"]["provenanceHash"] == sha256_of(
        data_root / "runs" / run_id / "model" / "model.yaml"
    )
    window = body_of(api.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=3"))
    assert window["nodes"][0]["series"]["arrivals"] == [20, 14, 18, 12]
    assert window["nodes"][0]["series"]["served"][0] == served
    model = api.get(f"/v1/runs/{run_id}/model").content
    assert b"values: [20, 14, 18, 12]" in model
