"""telemetry_capture: bindings, file names, gaps and NaN, manifest, dry run, publication (spec 04 §2)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from telemetry_helpers import run_command, tree_listing, write_run_dir

from runs.errors import CaptureError, PathForbidden
from telemetry.capture import CaptureOptions, plan_capture
from telemetry.models import Capture

# telemetry_capture indexes what it publishes under <data>/telemetry (the capture index).
pytestmark = pytest.mark.django_db

MODEL = """\
schemaVersion: 1
grid: {bins: 4, binSize: 5, binUnit: minutes, startTimeUtc: '2025-01-01T00:00:00Z'}
topology:
  nodes:
    - id: OrderService
      semantics: {arrivals: arrivals, served: served}
nodes:
  - {id: arrivals, kind: const, values: [1, 2, 3, 4]}
  - {id: served, kind: const, values: [1, 2, 3, 4]}
outputs:
  - {series: '*'}
"""
# arrivals: bin 1 is a gap, bin 2 NaN. served: +inf at bin 0, a gap at bin 2, -Infinity at bin 3.
ARRIVALS_CSV = "t,value\n0,1\n1,\n2,NaN\n3,4\n"
SERVED_CSV = "t,value\r\n0,inf\r\n1,2.5\r\n2, \r\n\r\n3,-Infinity\r\n"


@pytest.fixture
def gappy_run(tmp_path: Path) -> Path:
    return write_run_dir(
        tmp_path / "src" / "run_gappy",
        model=MODEL,
        series={"arrivals": ARRIVALS_CSV, "served": SERVED_CSV},
        bins=4,
    )


def _capture(run_dir: Path, *flags: str) -> tuple[dict, dict[str, str]]:
    result = run_command("telemetry_capture", "--run-dir", str(run_dir), *flags)
    assert result.code == 0, result.stderr
    out_dir = run_dir.parent.parent / "data" / "telemetry" / run_dir.name
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    files = {f["path"]: (out_dir / f["path"]).read_text(encoding="utf-8") for f in manifest["files"]}
    return manifest, files


def _gap(node: str, metric: str, i: int) -> dict:
    return {
        "code": "data_gap",
        "message": f"Missing value at bin {i} for {node}:{metric}.",
        "nodeId": node,
        "bins": [i],
    }


def _nan(code: str, node: str, metric: str, i: int) -> dict:
    verb = {"nan_detected": "Detected", "nan_fill": "Filled"}[code]
    return {
        "code": code,
        "message": f"{verb} NaN/∞ at bin {i} for {node}:{metric}.",
        "nodeId": node,
        "bins": [i],
    }


def test_default_keeps_gaps_silently_and_reports_nan(gappy_run: Path) -> None:
    manifest, files = _capture(gappy_run)
    assert files["OrderService_arrivals.csv"] == "bin_index,value\n0,1\n1,\n2,NaN\n3,4\n"
    assert files["OrderService_served.csv"] == "bin_index,value\n0,Infinity\n1,2.5\n2,\n3,-Infinity\n"
    assert manifest["warnings"] == [
        _nan("nan_detected", "OrderService", "Arrivals", 2),
        _nan("nan_detected", "OrderService", "Served", 0),
        _nan("nan_detected", "OrderService", "Served", 3),
    ]


def test_gap_detect_warns_for_gaps_and_writes_them_empty(gappy_run: Path) -> None:
    manifest, files = _capture(gappy_run, "--gap-detect")
    assert files["OrderService_arrivals.csv"] == "bin_index,value\n0,1\n1,\n2,NaN\n3,4\n"
    assert manifest["warnings"] == [
        _gap("OrderService", "Arrivals", 1),
        _nan("nan_detected", "OrderService", "Arrivals", 2),
        _nan("nan_detected", "OrderService", "Served", 0),
        _gap("OrderService", "Served", 2),
        _nan("nan_detected", "OrderService", "Served", 3),
    ]


def test_gap_fill_gaps_writes_zero_and_warns(gappy_run: Path) -> None:
    manifest, files = _capture(gappy_run, "--gap-fill-gaps")
    assert files["OrderService_arrivals.csv"] == "bin_index,value\n0,1\n1,0\n2,NaN\n3,4\n"
    assert files["OrderService_served.csv"] == "bin_index,value\n0,Infinity\n1,2.5\n2,0\n3,-Infinity\n"
    assert [w["code"] for w in manifest["warnings"]] == [
        "data_gap",
        "nan_detected",
        "nan_detected",
        "data_gap",
        "nan_detected",
    ]


def test_gap_fill_nan_zeroes_non_finite_values_only(gappy_run: Path) -> None:
    manifest, files = _capture(gappy_run, "--gap-fill-nan")
    assert files["OrderService_arrivals.csv"] == "bin_index,value\n0,1\n1,\n2,0\n3,4\n"
    assert files["OrderService_served.csv"] == "bin_index,value\n0,0\n1,2.5\n2,\n3,0\n"
    assert manifest["warnings"] == [
        _nan("nan_fill", "OrderService", "Arrivals", 2),
        _nan("nan_fill", "OrderService", "Served", 0),
        _nan("nan_fill", "OrderService", "Served", 3),
    ]


def test_combined_fill_options(gappy_run: Path) -> None:
    manifest, files = _capture(gappy_run, "--gap-fill-gaps", "--gap-fill-nan")
    assert files["OrderService_arrivals.csv"] == "bin_index,value\n0,1\n1,0\n2,0\n3,4\n"
    assert files["OrderService_served.csv"] == "bin_index,value\n0,0\n1,2.5\n2,0\n3,0\n"
    assert manifest["warnings"] == [
        _gap("OrderService", "Arrivals", 1),
        _nan("nan_fill", "OrderService", "Arrivals", 2),
        _nan("nan_fill", "OrderService", "Served", 0),
        _gap("OrderService", "Served", 2),
        _nan("nan_fill", "OrderService", "Served", 3),
    ]


@pytest.mark.parametrize(
    ("flags", "arrivals_bin_1"),
    [(("--gap-detect", "--gap-fill-gaps"), "0"), (("--gap-fill-gaps", "--gap-detect"), "")],
)
def test_last_gap_mode_wins(gappy_run: Path, flags: tuple[str, ...], arrivals_bin_1: str) -> None:
    manifest, files = _capture(gappy_run, *flags)
    assert files["OrderService_arrivals.csv"].splitlines()[2] == f"1,{arrivals_bin_1}"
    assert manifest["warnings"][0] == _gap("OrderService", "Arrivals", 1)


def test_manifest_is_exactly_spec_shaped(gappy_run: Path) -> None:
    manifest, files = _capture(gappy_run, "--gap-fill-nan")
    out_dir = gappy_run.parent.parent / "data" / "telemetry" / "run_gappy"
    raw = (out_dir / "manifest.json").read_bytes()
    assert raw.endswith(b"}\n") and not raw.startswith(b"\xef\xbb\xbf")
    assert "∞".encode() in raw  # written as UTF-8, not \u221e
    assert list(manifest) == ["schemaVersion", "window", "grid", "files", "warnings", "provenance"]
    assert manifest["window"] == {"startTimeUtc": "2025-01-01T00:00:00Z", "durationMinutes": 20}
    assert manifest["grid"] == {"bins": 4, "binSize": 5, "binUnit": "minutes"}
    arrivals_bytes = (out_dir / "OrderService_arrivals.csv").read_bytes()
    assert manifest["files"][0] == {
        "nodeId": "OrderService",
        "metric": "Arrivals",
        "path": "OrderService_arrivals.csv",
        "hash": "sha256:" + hashlib.sha256(arrivals_bytes).hexdigest(),
        "points": 4,
    }
    assert [f["metric"] for f in manifest["files"]] == ["Arrivals", "Served"]
    provenance = manifest["provenance"]
    assert list(provenance) == ["runId", "scenarioHash", "modelHash", "capturedAtUtc"]
    assert provenance["runId"] == "run_gappy"
    assert provenance["scenarioHash"] == "sha256:" + "a" * 64
    assert provenance["capturedAtUtc"].endswith("Z") and "." not in provenance["capturedAtUtc"]
    assert set(files) == {"OrderService_arrivals.csv", "OrderService_served.csv"}


def test_nulls_are_omitted_from_the_manifest(tmp_path: Path, data_root: Path) -> None:
    model = MODEL.replace(", startTimeUtc: '2025-01-01T00:00:00Z'", "")
    run = write_run_dir(
        tmp_path / "src" / "flowtime_run",
        model=model,
        series={"arrivals": "t,value\n0,1\n1,2\n2,3\n", "served": "t,value\n0,1\n1,2\n2,3\n3,4\n"},
        bins=4,
        run_json={"runId": "other", "grid": {"bins": 4, "binSize": 5, "binUnit": "minutes"}},
    )
    manifest, _ = _capture(run)
    assert manifest["window"] == {"durationMinutes": 20}
    assert manifest["provenance"].keys() == {"runId", "capturedAtUtc"}
    # A length mismatch names the source CSV and has no bins key at all.
    assert manifest["warnings"] == [
        {
            "code": "length_mismatch",
            "message": "Series 'arrivals@ARRIVALS@DEFAULT.csv' contained 3 points but expected 4.",
            "nodeId": "OrderService",
        }
    ]
    assert manifest["files"][0]["points"] == 3


def test_human_output_and_default_location(gappy_run: Path, data_root: Path) -> None:
    result = run_command("telemetry_capture", "--run-dir", str(gappy_run), "--gap-detect")
    out_dir = data_root / "telemetry" / "run_gappy"
    assert result.code == 0
    assert result.stdout.splitlines() == [
        "Run ID: run_gappy",
        f"Output Directory: {out_dir}",
        "Files (2):",
        "  - OrderService_arrivals.csv (OrderService:Arrivals, source=arrivals@ARRIVALS@DEFAULT)",
        "  - OrderService_served.csv (OrderService:Served, source=served@SERVED@DEFAULT)",
        "  - data_gap: Missing value at bin 1 for OrderService:Arrivals.",
        "  - nan_detected: Detected NaN/∞ at bin 2 for OrderService:Arrivals.",
        "  - nan_detected: Detected NaN/∞ at bin 0 for OrderService:Served.",
        "  - data_gap: Missing value at bin 2 for OrderService:Served.",
        "  - nan_detected: Detected NaN/∞ at bin 3 for OrderService:Served.",
        f"Capture complete. Manifest written to {out_dir / 'manifest.json'}",
    ]
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == ["run_gappy"]  # no staging left
    # Published through the same service as POST /v1/captures, so the capture index has it.
    assert list(Capture.objects.values_list("capture_id", "source_run_id", "file_count")) == [
        ("run_gappy", "run_gappy", 2)
    ]


def test_dry_run_prints_the_plan_and_writes_nothing(gappy_run: Path, data_root: Path) -> None:
    before = tree_listing(data_root)
    result = run_command("telemetry_capture", "--run-dir", str(gappy_run), "--dry-run", "--gap-fill-gaps")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Run ID: run_gappy"
    assert lines[1] == f"Output Directory: {data_root / 'telemetry' / 'run_gappy'}"
    assert "  - OrderService_served.csv (OrderService:Served, source=served@SERVED@DEFAULT)" in lines
    assert "  - data_gap: Missing value at bin 2 for OrderService:Served." in lines
    assert lines[-1] == "Dry-run complete. No files were written."
    assert tree_listing(data_root) == before


def test_dry_run_json_is_the_plan(gappy_run: Path, data_root: Path) -> None:
    result = run_command("telemetry_capture", "--run-dir", str(gappy_run), "--dry-run", "--json")
    body = json.loads(result.stdout)
    assert body["isDryRun"] is True
    assert body["runId"] == "run_gappy"
    assert body["outputDirectory"] == str(data_root / "telemetry" / "run_gappy")
    assert body["files"] == [
        {
            "nodeId": "OrderService",
            "metric": "Arrivals",
            "sourceSeriesId": "arrivals@ARRIVALS@DEFAULT",
            "path": "OrderService_arrivals.csv",
        },
        {
            "nodeId": "OrderService",
            "metric": "Served",
            "sourceSeriesId": "served@SERVED@DEFAULT",
            "path": "OrderService_served.csv",
        },
    ]
    assert [w["bins"] for w in body["warnings"]] == [[2], [0], [3]]
    assert body["manifestPath"] is None
    assert not (data_root / "telemetry").exists()


def test_existing_capture_needs_overwrite(gappy_run: Path, data_root: Path) -> None:
    assert run_command("telemetry_capture", "--run-dir", str(gappy_run)).code == 0
    out_dir = data_root / "telemetry" / "run_gappy"
    first = (out_dir / "OrderService_arrivals.csv").read_bytes()
    again = run_command("telemetry_capture", "--run-dir", str(gappy_run), "--gap-fill-gaps")
    assert again.code == 1
    assert again.stderr.startswith("capture_exists: ")
    assert (out_dir / "OrderService_arrivals.csv").read_bytes() == first
    replaced = run_command("telemetry_capture", "--run-dir", str(gappy_run), "--gap-fill-gaps", "--overwrite")
    assert replaced.code == 0, replaced.stderr
    assert (out_dir / "OrderService_arrivals.csv").read_text() == "bin_index,value\n0,1\n1,0\n2,NaN\n3,4\n"
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == ["run_gappy"]


def test_empty_target_is_replaced_but_foreign_content_is_never_touched(
    gappy_run: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "data" / "telemetry" / "empty"
    empty.mkdir(parents=True)
    assert run_command("telemetry_capture", "--run-dir", str(gappy_run), "--output", str(empty)).code == 0
    assert (empty / "manifest.json").is_file()

    foreign = tmp_path / "data" / "telemetry" / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    for flags in ((), ("--overwrite",)):
        result = run_command("telemetry_capture", "--run-dir", str(gappy_run), "--out", str(foreign), *flags)
        assert result.code == 1
        assert result.stderr.startswith("capture_exists: ")
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_output_outside_allowed_roots_is_forbidden(gappy_run: Path, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    result = run_command(
        "telemetry_capture", "--run-dir", str(gappy_run), "--output", str(tmp_path / "elsewhere")
    )
    assert result.code == 1
    assert result.stderr.startswith("path_forbidden: ")
    assert not (tmp_path / "elsewhere").exists()

    settings.FLOWTIME_TELEMETRY_ROOTS = str(tmp_path / "extra")
    allowed = run_command(
        "telemetry_capture", "--run-dir", str(gappy_run), "--output", str(tmp_path / "extra" / "cap")
    )
    assert allowed.code == 0, allowed.stderr
    assert (tmp_path / "extra" / "cap" / "manifest.json").is_file()


def test_output_through_a_symlinked_ancestor_is_forbidden(
    gappy_run: Path, tmp_path: Path, data_root: Path
) -> None:
    (data_root / "telemetry").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (data_root / "telemetry" / "link").symlink_to(tmp_path / "elsewhere")
    result = run_command(
        "telemetry_capture",
        "--run-dir",
        str(gappy_run),
        "--output",
        str(data_root / "telemetry" / "link" / "cap"),
    )
    assert result.code == 1
    assert result.stderr.startswith("path_forbidden: ")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_file_names_are_sanitised_and_collisions_refused(tmp_path: Path, data_root: Path) -> None:
    model = """\
grid: {bins: 2, binSize: 5, binUnit: minutes}
topology:
  nodes:
    - {id: Order Service, semantics: {served: a}}
    - {id: order/service, semantics: {served: b}}
nodes:
  - {id: a, values: [1, 2]}
  - {id: b, values: [1, 2]}
"""
    csv = "t,value\n0,1\n1,2\n"
    run = write_run_dir(tmp_path / "src" / "r1", model=model, series={"a": csv, "b": csv}, bins=2)
    result = run_command("telemetry_capture", "--run-dir", str(run))
    assert result.code == 1
    assert result.stderr.startswith(
        "capture_name_collision: Capture file names 'Order_Service_served.csv' and 'order_service_served.csv'"
    )
    assert not (data_root / "telemetry").exists()

    single = write_run_dir(
        tmp_path / "src" / "r2",
        model=model.replace("order/service", "Billing"),
        series={"a": csv, "b": csv},
        bins=2,
    )
    plan = plan_capture(run_dir=single, data_root=data_root)
    assert [f.binding.file_name for f in plan.files] == ["Order_Service_served.csv", "Billing_served.csv"]


def test_fallback_uses_outputs_when_the_topology_binds_nothing(tmp_path: Path, data_root: Path) -> None:
    model = """\
grid: {bins: 2, binSize: 5, binUnit: minutes}
nodes:
  - {id: a, values: [1, 2]}
  - {id: b, values: [3, 4]}
  - {id: c, values: [5, 6]}
  - {id: d, values: [7, 8]}
outputs:
  - {series: a, as: out/Checkout_Queue_Depth.csv}
  - {series: b, as: Billing__served}
  - {series: c, as: _errors.csv}
  - {series: d, as: nothing_here.csv}
  - {series: '*'}
"""
    csv = "t,value\n0,1\n1,2\n"
    run = write_run_dir(tmp_path / "src" / "fb", model=model, series=dict.fromkeys("abcd", csv), bins=2)
    plan = plan_capture(run_dir=run, data_root=data_root)
    assert [(f.binding.node_id, f.binding.metric.name, f.binding.file_name) for f in plan.files] == [
        # `_queue_depth` is tried before `_queue`, so the node is "Checkout", not "Checkout_Queue".
        ("Checkout", "QueueDepth", "Checkout_queue_depth.csv"),
        ("Billing", "Served", "Billing_served.csv"),
    ]


def test_file_semantics_are_captured_from_the_model_directory(tmp_path: Path, data_root: Path) -> None:
    model = """\
grid: {bins: 2, binSize: 5, binUnit: minutes}
topology:
  nodes:
    - id: Api
      semantics: {arrivals: 'file://telemetry/in.csv', served: 'file:extra/out.csv', errors: unknown_thing}
nodes:
  - {id: a, values: [1, 2]}
"""
    run = write_run_dir(tmp_path / "src" / "fs", model=model, series={"a": "t,value\n0,1\n1,2\n"}, bins=2)
    (run / "model" / "telemetry").mkdir()
    (run / "model" / "telemetry" / "in.csv").write_text("bin_index,value\n0,0.10000000000000001\n1,7\n")
    (run / "model" / "extra").mkdir()
    (run / "model" / "extra" / "out.csv").write_text("bin_index,value\n0,1\n")
    plan = plan_capture(run_dir=run, data_root=data_root)
    assert [(f.binding.source_id, f.data.decode()) for f in plan.files] == [
        ("model/telemetry/in.csv", "bin_index,value\n0,0.1\n1,7\n"),
        ("model/extra/out.csv", "bin_index,value\n0,1\n"),
    ]
    assert plan.warnings == (
        {
            "code": "length_mismatch",
            "message": "Series 'out.csv' contained 1 points but expected 2.",
            "nodeId": "Api",
            "bins": None,  # in the plan every warning has the four keys; the manifest drops the null
        },
    )


@pytest.mark.parametrize(
    "uri",
    ["file:///etc/passwd", "file:/etc/passwd", "file://evil.example/x.csv", "file:../../../outside.csv"],
)
def test_file_semantics_may_not_leave_the_run(tmp_path: Path, data_root: Path, uri: str) -> None:
    model = (
        "grid: {bins: 1, binSize: 5, binUnit: minutes}\n"
        f"topology:\n  nodes:\n    - {{id: Api, semantics: {{served: '{uri}'}}}}\n"
        "nodes:\n  - {id: a, values: [1]}\n"
    )
    run = write_run_dir(tmp_path / "src" / "escape", model=model, series={"a": "t,value\n0,1\n"}, bins=1)
    (tmp_path / "outside.csv").write_text("bin_index,value\n0,1\n")
    with pytest.raises(PathForbidden):
        plan_capture(run_dir=run, data_root=data_root)


def test_run_errors(tmp_path: Path, gappy_run: Path) -> None:
    missing = run_command("telemetry_capture", "--run-dir", str(tmp_path / "nope"))
    assert missing.code == 1 and missing.stderr.startswith("run_not_found: ")

    (gappy_run / "series" / "index.json").write_text("{not json")
    broken = run_command("telemetry_capture", "--run-dir", str(gappy_run))
    assert broken.code == 1 and broken.stderr.startswith("run_artifact_invalid: ")


def test_unparseable_value_names_file_and_line(tmp_path: Path, data_root: Path) -> None:
    run = write_run_dir(
        tmp_path / "src" / "bad",
        model=MODEL,
        series={"arrivals": "t,value\n0,1\n1,abc\n2,3\n3,4\n", "served": ARRIVALS_CSV},
        bins=4,
    )
    with pytest.raises(CaptureError) as excinfo:
        plan_capture(run_dir=run, data_root=data_root, options=CaptureOptions())
    assert excinfo.value.code == "run_artifact_invalid"
    assert (
        excinfo.value.detail == "Series 'arrivals@ARRIVALS@DEFAULT.csv' line 3: value 'abc' is not a number."
    )


def test_interrupt_exits_130_and_removes_the_stage(
    gappy_run: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import telemetry.capture

    calls: list[Path] = []

    def interrupted(path: Path, data: bytes) -> None:
        calls.append(path)
        raise KeyboardInterrupt

    monkeypatch.setattr(telemetry.capture, "write_file_durably", interrupted)
    result = run_command("telemetry_capture", "--run-dir", str(gappy_run))
    assert result.code == 130
    assert calls  # the interrupt came while staging
    assert tree_listing(data_root) == ["telemetry"]
