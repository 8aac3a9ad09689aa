"""Simulation run → capture → telemetry run of the same template: the same series, value for value."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from telemetry_helpers import run_command

from runs import artifacts
from runs.orchestration import RunRequest, TelemetrySpec, create_run

BINDINGS = {
    "telemetryArrivals": "OrderService_arrivals.csv",
    "telemetryOrderCapacity": "OrderService_capacity.csv",
    "telemetryPaymentCapacity": "PaymentService_capacity.csv",
}
ORDER_NODES = [
    "order_arrivals",
    "order_capacity",
    "payment_capacity",
    "order_errors",
    "order_served",
    "payment_errors",
    "payment_served",
]


def _series(run_dir: Path) -> dict[str, list[str]]:
    """Every series of a run as its CSV value texts, keyed by node id (from series/index.json)."""
    index = json.loads((run_dir / "series" / "index.json").read_text())
    out: dict[str, list[str]] = {}
    for entry in index["series"]:
        with (run_dir / entry["path"]).open(newline="") as handle:
            out[entry["id"].split("@")[0]] = [row[1] for row in list(csv.reader(handle))[1:]]
    return out


@pytest.mark.django_db
def test_order_system_round_trip(data_root: Path) -> None:
    simulation = create_run(RunRequest(template_id="order-system", deterministic_run_id=True))
    sim_dir = data_root / "runs" / simulation.run_id

    captured = run_command("telemetry_capture", "--run-dir", str(sim_dir))
    assert captured.code == 0, captured.stderr
    capture_dir = data_root / "telemetry" / simulation.run_id
    manifest = json.loads((capture_dir / "manifest.json").read_text())
    assert [(f["nodeId"], f["metric"]) for f in manifest["files"]] == [
        ("OrderService", "Arrivals"),
        ("OrderService", "Served"),
        ("OrderService", "Errors"),
        ("OrderService", "Capacity"),
        ("PaymentService", "Arrivals"),
        ("PaymentService", "Served"),
        ("PaymentService", "Errors"),
        ("PaymentService", "Capacity"),
    ]
    assert manifest["warnings"] == []
    assert manifest["window"] == {"startTimeUtc": "2025-01-01T00:00:00Z", "durationMinutes": 20}
    # Spec 01 §7 test vector, as captured.
    assert (
        capture_dir / "OrderService_served.csv"
    ).read_text() == "bin_index,value\n0,9.5\n1,13.3\n2,15.2\n3,11.4\n"

    telemetry = create_run(
        RunRequest(
            template_id="order-system",
            mode="telemetry",
            telemetry=TelemetrySpec(capture_directory=simulation.run_id, bindings=BINDINGS),
            deterministic_run_id=True,
        )
    )
    assert telemetry.mode == "telemetry"
    assert telemetry.run_id != simulation.run_id
    tel_dir = data_root / "runs" / telemetry.run_id

    sim_series, tel_series = _series(sim_dir), _series(tel_dir)
    assert list(tel_series) == ORDER_NODES
    for node in ORDER_NODES:
        assert tel_series[node] == sim_series[node], node
    assert tel_series["payment_served"] == ["9.31", "13.034", "13.72", "11.172"]

    # The bound inputs really came from the capture, not from the template's defaults.
    model = (tel_dir / "model" / "model.yaml").read_text()
    for file_name in BINDINGS.values():
        assert f"source: file://telemetry/{file_name}" in model
        assert (tel_dir / "model" / "telemetry" / file_name).read_bytes() == (
            capture_dir / file_name
        ).read_bytes()
    metadata = json.loads((tel_dir / "model" / "metadata.json").read_text())
    assert metadata["parameters"]["telemetryArrivals"] == "file://telemetry/OrderService_arrivals.csv"


@pytest.mark.django_db
def test_edited_capture_changes_the_telemetry_run(data_root: Path) -> None:
    """The comparison above can fail: a capture with other arrivals gives other derived series."""
    simulation = create_run(RunRequest(template_id="order-system", deterministic_run_id=True))
    sim_dir = data_root / "runs" / simulation.run_id
    out = data_root / "telemetry" / "edited"
    assert run_command("telemetry_capture", "--run-dir", str(sim_dir), "--output", str(out)).code == 0
    text = "bin_index,value\n0,20\n1,14\n2,18\n3,12\n"
    (out / "OrderService_arrivals.csv").write_text(text)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"][0]["hash"] = artifacts.model_hash(text.encode())
    (out / "manifest.json").write_text(json.dumps(manifest))

    result = run_command(
        "telemetry_bundle",
        "--capture-dir",
        str(out),
        "--template",
        "order-system",
        *[f"--bind={name}={file}" for name, file in BINDINGS.items()],
        "--json",
    )
    assert result.code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["telemetryFiles"] == {"bound": 8, "unbound": 0}
    tel = _series(data_root / "runs" / body["runId"])
    assert tel["order_arrivals"] == ["20", "14", "18", "12"]
    # MIN(20, 16) = 16 → order_errors 16 × 0.05 = 0.8, order_served 16 − 0.8 = 15.2 in bin 0.
    assert tel["order_errors"][0] == "0.8"
    assert tel["order_served"][0] == "15.2"
