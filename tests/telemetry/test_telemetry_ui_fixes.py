"""Telemetry-path fixes found by the FlowTime UI interop work (issue 11).

- A bound parameter's array is not used, so its length is not enforced (spec 01 §2 telemetry exception).
- Runs made with ``telemetry_bundle --model`` are telemetry runs (spec 03 §3.3).
- ``telemetry_bundle`` prints every problem, one per line.
- A bundle's ``model.yaml`` is written by the canonical writer of spec 01 §6, never by ``yaml.safe_dump``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient
from telemetry_helpers import run_command

from runs.errors import TemplateError
from runs.orchestration import RunRequest, TelemetrySpec, create_run, plan_run
from templates_catalog.model_yaml import dump_model_yaml

pytestmark = pytest.mark.django_db

BINS = 288
# 288 bins of order-system, with values that differ per bin so a wrong length or an unused file shows.
ARRIVALS = [float(10 + (i % 7)) for i in range(BINS)]
ORDER_CAPACITY = [16.0] * BINS
PAYMENT_CAPACITY = [14.0] * BINS


def capture_288(data_root: Path) -> Path:
    """A 288-bin order-system capture under ``<data>/telemetry/order-288``, made from a simulation run."""
    source = create_run(
        RunRequest(
            template_id="order-system",
            parameters={
                "bins": BINS,
                "orderArrivals": ARRIVALS,
                "orderCapacity": ORDER_CAPACITY,
                "paymentCapacity": PAYMENT_CAPACITY,
            },
            deterministic_run_id=True,
        )
    )
    output = data_root / "telemetry" / "order-288"
    result = run_command(
        "telemetry_capture", "--run-dir", str(data_root / "runs" / source.run_id), "--output", str(output)
    )
    assert result.code == 0, result.stderr
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["grid"]["bins"] == BINS
    return output


def source_model(data_root: Path) -> Path:
    """The model.yaml of the simulation run the capture was taken from (the only published run)."""
    (run_dir,) = [p for p in (data_root / "runs").iterdir() if not p.name.startswith(".")]
    return run_dir / "model" / "model.yaml"


def telemetry_request(parameters: dict[str, Any], bindings: dict[str, str]) -> RunRequest:
    return RunRequest(
        template_id="order-system",
        mode="telemetry",
        parameters=parameters,
        telemetry=TelemetrySpec(capture_directory="order-288", bindings=bindings),
        deterministic_run_id=True,
    )


def test_a_telemetry_run_needs_no_orders_array(data_root: Path) -> None:
    capture_288(data_root)
    # No orderArrivals: its default has 4 elements, but the bound capture file supplies the values.
    request = telemetry_request(
        {"bins": BINS, "orderCapacity": ORDER_CAPACITY, "paymentCapacity": PAYMENT_CAPACITY},
        {"telemetryArrivals": "OrderService_arrivals.csv"},
    )
    outcome = create_run(request)

    assert outcome.mode == "telemetry"
    run_dir = data_root / "runs" / outcome.run_id
    model = yaml.safe_load((run_dir / "model" / "model.yaml").read_text())
    arrivals = next(node for node in model["nodes"] if node["id"] == "order_arrivals")
    assert arrivals["source"] == "file://telemetry/OrderService_arrivals.csv"
    # The series comes from the capture: the 288 values the source run was given.
    index = json.loads((run_dir / "series" / "index.json").read_text())
    entry = next(e for e in index["series"] if e["id"].split("@")[0] == "order_arrivals")
    rows = (run_dir / entry["path"]).read_text().splitlines()[1:]
    assert [float(row.split(",")[1]) for row in rows] == ARRIVALS


def test_every_bound_array_may_be_omitted(data_root: Path) -> None:
    capture_288(data_root)
    request = telemetry_request(
        {"bins": BINS},
        {
            "telemetryArrivals": "OrderService_arrivals.csv",
            "telemetryOrderCapacity": "OrderService_capacity.csv",
            "telemetryPaymentCapacity": "PaymentService_capacity.csv",
        },
    )
    assert create_run(request).mode == "telemetry"


def test_an_unbound_array_is_still_checked(data_root: Path) -> None:
    capture_288(data_root)
    request = telemetry_request({"bins": BINS}, {"telemetryArrivals": "OrderService_arrivals.csv"})
    with pytest.raises(TemplateError) as excinfo:
        plan_run(request)
    assert [(i.path, i.reason) for i in excinfo.value.errors] == [
        ("parameters.orderCapacity", "length"),
        ("parameters.paymentCapacity", "length"),
    ]


def test_a_bound_array_still_passes_its_type_and_limit_checks(data_root: Path) -> None:
    capture_288(data_root)
    request = telemetry_request(
        {
            "bins": BINS,
            "orderArrivals": [-1],
            "orderCapacity": ORDER_CAPACITY,
            "paymentCapacity": PAYMENT_CAPACITY,
        },
        {"telemetryArrivals": "OrderService_arrivals.csv"},
    )
    with pytest.raises(TemplateError) as excinfo:
        plan_run(request)
    assert [(i.path, i.reason) for i in excinfo.value.errors] == [("parameters.orderArrivals[0]", "minimum")]


def test_in_simulation_mode_the_bins_rule_applies(data_root: Path) -> None:
    with pytest.raises(TemplateError) as excinfo:
        plan_run(RunRequest(template_id="order-system", parameters={"bins": BINS}))
    assert [i.path for i in excinfo.value.errors] == [
        "parameters.orderArrivals",
        "parameters.orderCapacity",
        "parameters.paymentCapacity",
    ]


def test_a_model_file_bundle_is_a_telemetry_run(data_root: Path, tmp_path: Path) -> None:
    capture = capture_288(data_root)
    source = source_model(data_root)
    assert yaml.safe_load(source.read_text())["mode"] == "simulation"

    result = run_command("telemetry_bundle", "--capture-dir", str(capture), "--model", str(source), "--json")
    assert result.code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["mode"] == "telemetry"
    run_dir = data_root / "runs" / printed["runId"]
    assert json.loads((run_dir / "model" / "metadata.json").read_text())["mode"] == "telemetry"
    # The state API reads the same label.
    state = APIClient().get(f"/v1/runs/{printed['runId']}/state?binIndex=0")
    assert state.json()["metadata"]["mode"] == "telemetry"  # type: ignore[attr-defined]

    listed = run_command("telemetry_bundle", "--capture-dir", str(capture), "--model", str(source))
    assert "Mode: telemetry" in listed.stdout


def test_bundle_model_yaml_is_written_by_the_canonical_writer(data_root: Path) -> None:
    capture = capture_288(data_root)
    source = source_model(data_root)
    result = run_command("telemetry_bundle", "--capture-dir", str(capture), "--model", str(source), "--json")
    assert result.code == 0, result.stderr
    run_id = json.loads(result.stdout)["runId"]
    text = (data_root / "runs" / run_id / "model" / "model.yaml").read_text(encoding="utf-8")

    assert text == dump_model_yaml(yaml.safe_load(text))  # a fixed point of the writer
    # 288 numbers in one flow-style line, never folded at 80 columns as yaml.safe_dump does.
    values_lines = [line for line in text.splitlines() if line.strip().startswith("values:")]
    assert values_lines and all(line.rstrip().endswith("]") for line in values_lines)
    assert max(len(line) for line in values_lines) > 80
    # A source the rewrite added to a const node sits where spec 01 §6 puts it: after values.
    lines = text.splitlines()
    at = lines.index("  - id: order_arrivals")
    assert [line.split(":")[0].strip() for line in lines[at : at + 4]] == ["- id", "kind", "values", "source"]


def test_catalog_telemetry_model_is_written_by_the_canonical_writer(data_root: Path) -> None:
    capture_288(data_root)
    outcome = create_run(
        telemetry_request(
            {"bins": BINS},
            {
                "telemetryArrivals": "OrderService_arrivals.csv",
                "telemetryOrderCapacity": "OrderService_capacity.csv",
                "telemetryPaymentCapacity": "PaymentService_capacity.csv",
            },
        )
    )
    text = (data_root / "runs" / outcome.run_id / "model" / "model.yaml").read_text(encoding="utf-8")
    assert text == dump_model_yaml(yaml.safe_load(text))
    # semantics keys created by the rewrite keep the order of spec 01 §6
    model = yaml.safe_load(text)
    for node in model["topology"]["nodes"]:
        keys = list(node["semantics"])
        order = ["arrivals", "served", "errors", "queue", "capacity", "externalDemand", "slaMin"]
        assert keys == sorted(keys, key=order.index)


def test_every_model_problem_is_printed_one_per_line(data_root: Path, tmp_path: Path) -> None:
    capture = capture_288(data_root)
    model = yaml.safe_load(source_model(data_root).read_text(encoding="utf-8"))
    for node in model["nodes"]:
        if node["id"] == "order_errors":
            node["expr"] = "MIN(order_arrivals, nope1)"
        if node["id"] == "payment_errors":
            node["expr"] = "MIN(order_served, nope2)"
    broken = tmp_path / "broken.yaml"
    broken.write_text(dump_model_yaml(model), encoding="utf-8")

    result = run_command("telemetry_bundle", "--capture-dir", str(capture), "--model", str(broken))

    assert result.code == 1
    first, *issues = result.stderr.strip().splitlines()
    assert first == "model_invalid: The model has 2 problems."
    assert len(issues) == 2
    assert issues[0].startswith("  - nodes[") and "nope1" in issues[0]
    assert issues[1].startswith("  - nodes[") and "nope2" in issues[1]
