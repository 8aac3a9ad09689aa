"""Spec 06 §10 variant table, and the §5/§6 shapes that vary with the model."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from replay_helpers import FixtureRun, as_sent, csv_text, load_golden, q

from runs.errors import ModeValidationFailed, ProvenanceMismatch, WindowTooLarge
from runs.replay import can_replay, load_replay_run, state_snapshot, state_window
from runs.replay import series_cache as series_cache_module

MakeRun = Callable[..., FixtureRun]


def window(run: FixtureRun, start: int = 0, end: int = 3, **extra: Any) -> dict[str, Any]:
    return as_sent(
        state_window(run.data_root, run.run_id, q(startBin=start, endBin=end, **extra), max_window_bins=500)
    )


def snapshot(run: FixtureRun, index: int) -> dict[str, Any]:
    return state_snapshot(run.data_root, run.run_id, q(binIndex=index))


def test_simulation_layout_gives_the_same_numbers(make_run: MakeRun) -> None:
    run = make_run(mode="simulation")
    golden = load_golden("snapshot_bin1.json", run.model_hash)
    body = snapshot(run, 1)
    assert body["metadata"]["mode"] == "simulation"
    assert body["metadata"]["telemetrySourcesResolved"] is False
    for node, expected in zip(body["nodes"], golden["nodes"], strict=True):
        assert json.dumps(node["metrics"]) == json.dumps(expected["metrics"])
        assert json.dumps(node["derived"]) == json.dumps(expected["derived"])
        assert node["telemetry"] == {"sources": [], "warnings": []}
    assert body["warnings"] == []
    golden_window = load_golden("window_0_3.json", run.model_hash)
    for node, expected in zip(window(run)["nodes"], golden_window["nodes"], strict=True):
        assert json.dumps(node["series"]) == json.dumps(expected["series"])
    assert can_replay(load_replay_run(run.data_root, run.run_id)) is True


def test_served_nan_at_bin_0_is_an_invalid_series_warning(make_run: MakeRun) -> None:
    run = make_run(csv_overrides={("OrderService", "served"): "t,value\n0,NaN\n1,6\n2,9\n3,4\n"})
    body = snapshot(run, 0)
    order = body["nodes"][0]
    assert order["metrics"]["served"] is None
    assert order["derived"] == {
        "utilization": None,
        "latencyMinutes": None,
        "throughputRatio": None,
        "color": "gray",
    }
    assert order["telemetry"]["warnings"] == [
        {"code": "telemetry_series_invalid", "message": "Invalid values in served.", "severity": "warning"}
    ]
    assert body["nodes"][1]["telemetry"]["warnings"] == []
    assert body["warnings"] == []  # node warnings are not repeated at the top
    series = window(run)["nodes"][0]["series"]
    assert series["served"] == [None, 6, 9, 4]
    assert series["utilization"] == [None, 6 / 7, 1, 1]
    assert series["throughputRatio"] == [None, 0.6, 0.9, 0.4]


def test_simulation_with_served_all_nan_fails_validation(make_run: MakeRun) -> None:
    run = make_run(
        mode="simulation",
        csv_overrides={("OrderService", "served"): "t,value\n0,NaN\n1,nan\n2,NAN\n3,NaN\n"},
    )
    message = "Node 'OrderService' contains invalid values for served in simulation mode."
    with pytest.raises(ModeValidationFailed) as snap:
        snapshot(run, 0)
    assert (snap.value.status, snap.value.code, snap.value.detail) == (422, "mode_validation_failed", message)
    with pytest.raises(ModeValidationFailed) as win:
        window(run)
    assert win.value.detail == message
    assert can_replay(load_replay_run(run.data_root, run.run_id)) is False


def test_simulation_missing_required_queue_series(make_run: MakeRun) -> None:
    run = make_run(mode="simulation", semantics_overrides={("SupportQueue", "queue"): "no_such_node"})
    with pytest.raises(ModeValidationFailed) as err:
        snapshot(run, 0)
    assert err.value.detail == "Node 'SupportQueue' is missing required queue series for simulation mode."


def test_simulation_optional_metric_problems_are_warnings(make_run: MakeRun) -> None:
    run = make_run(
        mode="simulation",
        csv_overrides={("OrderService", "capacity"): "t,value\n0,12\n1,7\n2,\n3,4\n"},
        semantics_overrides={("SupportQueue", "errors"): "ghost"},
    )
    body = snapshot(run, 1)
    assert body["nodes"][0]["telemetry"]["warnings"] == [
        {"code": "telemetry_series_invalid", "message": "Invalid values in capacity.", "severity": "warning"}
    ]
    assert body["nodes"][1]["telemetry"]["warnings"] == [
        {
            "code": "telemetry_sources_unresolved",
            "message": "Source 'ghost' for errors could not be resolved for node 'SupportQueue'.",
            "severity": "warning",
        }
    ]
    assert body["warnings"] == [
        {
            "code": "telemetry_sources_missing",
            "message": "One or more telemetry sources could not be resolved for this run.",
            "severity": "warning",
            "nodeId": None,
        }
    ]


def test_served_file_missing(make_run: MakeRun) -> None:
    run = make_run(missing_csv={("OrderService", "served")})
    body = snapshot(run, 1)
    assert body["metadata"]["telemetrySourcesResolved"] is False
    order = body["nodes"][0]
    assert order["telemetry"]["sources"] == [
        "file://telemetry/OrderService_arrivals.csv",
        "file://telemetry/OrderService_errors.csv",
        "file://telemetry/OrderService_capacity.csv",
    ]
    assert order["telemetry"]["warnings"] == [
        {
            "code": "telemetry_sources_unresolved",
            "message": (
                "Source 'file://telemetry/OrderService_served.csv' for served could not be resolved "
                "for node 'OrderService'."
            ),
            "severity": "warning",
        }
    ]
    assert order["metrics"]["served"] is None
    assert order["derived"]["color"] == "gray"
    assert body["warnings"] == [
        {
            "code": "telemetry_sources_missing",
            "message": "One or more telemetry sources could not be resolved for this run.",
            "severity": "warning",
            "nodeId": None,
        }
    ]
    assert can_replay(load_replay_run(run.data_root, run.run_id)) is False


@pytest.mark.parametrize(
    "capacity",
    [
        "file:///etc/hosts",
        "file:../../../x.csv",
        "file:/etc/hosts",
        "file://otherhost/x.csv",
        "file:C:/x.csv",
        "file://telemetry/..%2F..%2F..%2Fx.csv",
        "http://example.com/x.csv",
    ],
)
def test_capacity_outside_the_run_is_unresolved_and_never_opened(
    make_run: MakeRun, data_root: Path, monkeypatch: pytest.MonkeyPatch, capacity: str
) -> None:
    # A readable target exists where the escaping relative forms would land.
    (data_root / "x.csv").write_text("t,value\n0,1\n1,1\n2,1\n3,1\n")
    (data_root.parent / "x.csv").write_text("t,value\n0,1\n1,1\n2,1\n3,1\n")
    run = make_run(semantics_overrides={("OrderService", "capacity"): capacity})
    opened: list[str] = []
    real_open = os.open

    def recording_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(series_cache_module.os, "open", recording_open)
    body = snapshot(run, 1)
    order = body["nodes"][0]
    assert order["metrics"]["capacity"] is None
    assert order["derived"]["utilization"] is None
    assert order["derived"]["color"] == "gray"
    assert order["telemetry"]["warnings"] == [
        {
            "code": "telemetry_sources_unresolved",
            "message": f"Source '{capacity}' for capacity could not be resolved for node 'OrderService'.",
            "severity": "warning",
        }
    ]
    assert capacity not in order["telemetry"]["sources"]
    assert not any(p.endswith(("hosts", "/x.csv")) for p in opened)
    assert all(str(run.run_dir.resolve()) in p for p in opened if p.endswith(".csv"))
    assert body["warnings"][0]["code"] == "telemetry_sources_missing"
    # The window still reports the capacity series (its key is set), all null.
    assert window(run)["nodes"][0]["series"]["utilization"] == [None, None, None, None]


def test_symlink_escaping_the_run_is_unresolved(make_run: MakeRun, data_root: Path) -> None:
    outside = data_root / "secret.csv"
    outside.write_text(csv_text([1, 1, 1, 1]))
    run = make_run()
    target = run.run_dir / "model" / "telemetry" / "OrderService_capacity.csv"
    target.unlink()
    target.symlink_to(outside)
    order = snapshot(run, 1)["nodes"][0]
    assert order["metrics"]["capacity"] is None
    assert order["telemetry"]["warnings"][0]["code"] == "telemetry_sources_unresolved"


def test_symlink_inside_the_run_resolves(make_run: MakeRun) -> None:
    run = make_run(semantics_overrides={("OrderService", "capacity"): "file:telemetry/link.csv"})
    (run.run_dir / "model" / "telemetry" / "link.csv").symlink_to(
        run.run_dir / "model" / "telemetry" / "OrderService_capacity.csv"
    )
    order = snapshot(run, 1)["nodes"][0]
    assert order["metrics"]["capacity"] == 7
    assert order["telemetry"]["sources"][-1] == "file:telemetry/link.csv"


def test_percent_escapes_are_decoded_once(make_run: MakeRun) -> None:
    run = make_run(
        semantics_overrides={("OrderService", "capacity"): "file://telemetry/Order%53ervice_capacity.csv"}
    )
    order = snapshot(run, 1)["nodes"][0]
    assert order["metrics"]["capacity"] == 7
    assert order["telemetry"]["warnings"] == []


def test_no_start_time_gives_null_timestamps(make_run: MakeRun) -> None:
    run = make_run(start=None)
    body = snapshot(run, 2)
    assert body["bin"] == {"index": 2, "startUtc": None, "endUtc": None, "durationMinutes": 5}
    assert window(run, 1, 2)["timestampsUtc"] is None


def test_run_json_model_hash_differs(make_run: MakeRun) -> None:
    run = make_run(run_model_hash="sha256:" + "ab" * 32)
    with pytest.raises(ProvenanceMismatch) as err:
        snapshot(run, 0)
    assert (err.value.status, err.value.code) == (409, "provenance_mismatch")


def test_bare_upper_case_run_hash_is_normalised_before_comparing(make_run: MakeRun) -> None:
    run = make_run()
    run_json = run.run_dir / "run.json"
    data = json.loads(run_json.read_text())
    data["modelHash"] = run.model_hash.removeprefix("sha256:").upper()
    run_json.write_text(json.dumps(data))
    assert snapshot(run, 0)["metadata"]["provenanceHash"] == run.model_hash


def test_window_limit(fixture_run: FixtureRun) -> None:
    with pytest.raises(WindowTooLarge) as err:
        state_window(fixture_run.data_root, fixture_run.run_id, q(startBin=0, endBin=3), max_window_bins=3)
    assert (err.value.status, err.value.code, err.value.detail) == (
        413,
        "window_too_large",
        "Requested bin range 4 exceeds maximum supported window size of 3.",
    )
    body = as_sent(
        state_window(fixture_run.data_root, fixture_run.run_id, q(startBin=1, endBin=3), max_window_bins=3)
    )
    assert body["window"] == {"startBin": 1, "endBin": 3, "binCount": 3}
    assert body["timestampsUtc"] == ["2025-01-01T00:05:00Z", "2025-01-01T00:10:00Z", "2025-01-01T00:15:00Z"]
    assert body["nodes"][0]["series"]["served"] == [6, 9, 4]


def test_full_mode_adds_model_only_nodes(fixture_run: FixtureRun) -> None:
    body = window(fixture_run, mode="FULL")
    assert [n["id"] for n in body["nodes"]] == ["OrderService", "SupportQueue", "extra_node"]
    assert body["nodes"][2] == {
        "id": "extra_node",
        "kind": "const",
        "series": {"values": [1, 2.5, 3, 4]},
        "telemetry": {"sources": [], "warnings": []},
    }


def test_operational_mode_hides_model_kinds_and_full_shows_them(make_run: MakeRun) -> None:
    run = make_run(topology_kinds={"OrderService": "expr"})
    assert [n["id"] for n in window(run)["nodes"]] == ["SupportQueue"]
    assert [n["id"] for n in window(run, mode="operational")["nodes"]] == ["SupportQueue"]
    full = window(run, mode="full")
    assert [n["id"] for n in full["nodes"]] == ["OrderService", "SupportQueue", "extra_node"]
    # A non-service, non-queue kind: utilization still comes from capacity.
    assert full["nodes"][0]["kind"] == "expr"
    assert full["nodes"][0]["series"]["utilization"] == [0.75, 6 / 7, 1, 1]


def test_simulation_full_mode_lists_every_indexed_model_node(make_run: MakeRun) -> None:
    body = window(make_run(mode="simulation"), mode="full")
    metrics = ["arrivals", "served", "errors"]
    assert [n["id"] for n in body["nodes"]] == [
        "OrderService",
        "SupportQueue",
        *[f"os_{m}" for m in [*metrics, "capacity"]],
        *[f"sq_{m}" for m in [*metrics, "queue"]],
        "extra_node",
    ]
    assert body["nodes"][5]["series"] == {"values": [12, 7, 9, 4]}


def test_node_id_semantics_report_the_nodes_file_source(make_run: MakeRun) -> None:
    run = make_run(mode="simulation")
    model_path = run.run_dir / "model" / "model.yaml"
    text = model_path.read_text().replace(
        "- id: os_arrivals\n  kind: const\n",
        "- id: os_arrivals\n  kind: const\n  source: file://telemetry/OrderService_arrivals.csv\n",
    )
    assert "source: file://" in text
    model_path.write_text(text)
    meta = json.loads((run.run_dir / "model" / "metadata.json").read_text())
    meta.pop("modelHash")
    (run.run_dir / "model" / "metadata.json").write_text(json.dumps(meta))
    run_json = json.loads((run.run_dir / "run.json").read_text())
    run_json.pop("modelHash")
    (run.run_dir / "run.json").write_text(json.dumps(run_json))
    body = snapshot(run, 1)
    assert body["nodes"][0]["telemetry"]["sources"] == ["file://telemetry/OrderService_arrivals.csv"]
    assert body["nodes"][0]["metrics"]["arrivals"] == 10  # still read from series/
    # A node source is a file: reference, and no file: semantics value is unresolved.
    assert body["metadata"]["telemetrySourcesResolved"] is True


def test_optional_series_keys_follow_the_semantics(make_run: MakeRun) -> None:
    run = make_run(
        semantics_overrides={
            ("OrderService", "capacity"): None,
            ("OrderService", "errors"): None,
            ("SupportQueue", "externalDemand"): "file://telemetry/SupportQueue_arrivals.csv",
        }
    )
    nodes = window(run)["nodes"]
    assert list(nodes[0]["series"]) == ["arrivals", "served", "errors", "throughputRatio"]
    assert nodes[0]["series"]["errors"] == [None, None, None, None]
    assert list(nodes[1]["series"]) == [
        "arrivals",
        "served",
        "errors",
        "externalDemand",
        "queue",
        "latencyMinutes",
        "throughputRatio",
    ]
    assert nodes[1]["series"]["externalDemand"] == [9, 7, 9, 5]
    # The duplicate file (case-insensitive) is listed once.
    assert nodes[1]["telemetry"]["sources"].count("file://telemetry/SupportQueue_arrivals.csv") == 1
    snap = snapshot(run, 0)["nodes"]
    assert snap[0]["metrics"] == {
        "arrivals": 10,
        "served": 9,
        "errors": None,
        "queue": None,
        "capacity": None,
        "externalDemand": None,
    }
    assert snap[1]["metrics"]["externalDemand"] == 9


def test_queue_latency_edge_cases(make_run: MakeRun) -> None:
    run = make_run(
        csv_overrides={
            ("SupportQueue", "served"): "t,value\n0,0\n1,-1\n2,Infinity\n3,4\n",
            ("SupportQueue", "arrivals"): "t,value\n0,0\n1,7\n2,9\n3,5\n",
        }
    )
    series = window(run)["nodes"][1]["series"]
    # served ≤ 0 or non-finite → null latency; arrivals = 0 → null ratio; -1/7 stays a number.
    assert series["latencyMinutes"] == [None, None, None, 0]
    assert series["throughputRatio"] == [None, -1 / 7, None, 0.8]
    assert series["served"] == [0, -1, None, 4]


@pytest.mark.parametrize("sla", ["0", "-1", "'5'", "null"])
def test_queue_colour_needs_a_positive_numeric_sla(make_run: MakeRun, sla: str) -> None:
    run = make_run(model_extra={})
    model_path = run.run_dir / "model" / "model.yaml"
    model_path.write_text(model_path.read_text().replace("slaMin: 5", f"slaMin: {sla}"))
    meta_path = run.run_dir / "model" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("modelHash")
    meta_path.write_text(json.dumps(meta))
    run_json_path = run.run_dir / "run.json"
    run_json = json.loads(run_json_path.read_text())
    run_json.pop("modelHash")
    run_json_path.write_text(json.dumps(run_json))
    assert snapshot(run, 0)["nodes"][1]["derived"]["color"] == "gray"


def test_utilization_colour_thresholds(make_run: MakeRun) -> None:
    # served/capacity: 0.69 green, 0.7 yellow, 0.89 yellow, 0.9 red
    run = make_run(
        csv_overrides={
            ("OrderService", "served"): "t,value\n0,69\n1,70\n2,89\n3,90\n",
            ("OrderService", "capacity"): "t,value\n0,100\n1,100\n2,100\n3,100\n",
        }
    )
    colours = [snapshot(run, i)["nodes"][0]["derived"]["color"] for i in range(4)]
    assert colours == ["green", "yellow", "yellow", "red"]


def test_latency_colour_thresholds(make_run: MakeRun) -> None:
    # slaMin 5, binMinutes 5: latency = queue/served × 5 → 5 green, 7.5 yellow, 7.55 red
    run = make_run(
        csv_overrides={
            ("SupportQueue", "served"): "t,value\n0,100\n1,100\n2,100\n3,100\n",
            ("SupportQueue", "queue"): "t,value\n0,100\n1,150\n2,151\n3,0\n",
        }
    )
    colours = [snapshot(run, i)["nodes"][1]["derived"]["color"] for i in range(4)]
    assert colours == ["green", "yellow", "red", "green"]


def test_run_warnings_come_first(make_run: MakeRun) -> None:
    run = make_run(
        run_warnings=["engine said so", {"code": "x", "message": "object warning"}, 42],
        missing_csv={("SupportQueue", "errors")},
    )
    body = snapshot(run, 0)
    assert body["warnings"] == [
        {"code": "run_warning", "message": "engine said so", "severity": "info", "nodeId": None},
        {"code": "run_warning", "message": "object warning", "severity": "info", "nodeId": None},
        {
            "code": "telemetry_sources_missing",
            "message": "One or more telemetry sources could not be resolved for this run.",
            "severity": "warning",
            "nodeId": None,
        },
    ]


def test_telemetry_mode_without_file_references(make_run: MakeRun) -> None:
    run = make_run(mode="simulation")
    meta_path = run.run_dir / "model" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["mode"] = "Telemetry"
    meta_path.write_text(json.dumps(meta))
    body = snapshot(run, 0)
    assert body["metadata"]["mode"] == "telemetry"
    assert body["metadata"]["telemetrySourcesResolved"] is False
    assert body["warnings"] == [
        {
            "code": "telemetry_sources_missing",
            "message": "Telemetry mode run resolved no telemetry sources.",
            "severity": "warning",
            "nodeId": None,
        }
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"value\n0,1\n",
        b"t,value\n0,1\n0,2\n",  # duplicate index
        b"t,value\n0,1\n9,2\n",  # index out of range
        b"t,value\n-1,1\n",
        b"t,value\nx,1\n",
        b"t,value\n0,abc\n",
        b"t,value\n0,1,2\n",
        b"t,value\n0,1_0\n",
        b"\xff\xfe\x00garbage",
    ],
)
def test_malformed_csv_is_all_null_and_invalid_never_an_error(make_run: MakeRun, content: bytes) -> None:
    run = make_run()
    (run.run_dir / "model" / "telemetry" / "OrderService_capacity.csv").write_bytes(content)
    body = window(run)
    order = body["nodes"][0]
    assert order["series"]["capacity"] == [None, None, None, None]
    assert order["series"]["utilization"] == [None, None, None, None]
    assert order["telemetry"]["warnings"] == [
        {"code": "telemetry_series_invalid", "message": "Invalid values in capacity.", "severity": "warning"}
    ]


def test_tolerant_csv_forms(make_run: MakeRun) -> None:
    run = make_run(
        csv_overrides={
            ("OrderService", "capacity"): "\ufeffBIN_INDEX , Value\r\n3, 4\r\n0,1.2E+1\r\n1,7\r\n2,\r\n",
        }
    )
    order = window(run)["nodes"][0]
    # Rows in any order, BOM, CRLF, exponent; the empty value is null (and makes the metric invalid).
    assert order["series"]["capacity"] == [12, 7, None, 4]
    assert order["telemetry"]["warnings"][0]["message"] == "Invalid values in capacity."
