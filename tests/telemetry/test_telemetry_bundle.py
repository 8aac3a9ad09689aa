"""telemetry_bundle and the bundle service: the fixture, the worked example, errors (spec 04 §3, §5)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from telemetry_helpers import (
    FIXTURE_BUNDLE,
    FIXTURE_FILES,
    WORKED_INPUT_HASH,
    WORKED_MANIFEST_HASH,
    WORKED_RUN_ID,
    copy_fixture,
    run_command,
    tree_listing,
)

from runs import artifacts
from runs.canonical import canonical_json, sha256_prefixed
from runs.errors import CaptureError, TemplateError
from runs.models import Run
from telemetry.bundle import resolve_capture_for_run
from templates_catalog.generation import generate_model
from templates_catalog.selectors import template_get


def _series(run_dir: Path, node_id: str) -> list[float]:
    path = run_dir / "series" / f"{artifacts.series_id_for(node_id)}.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["t", "value"]
    return [float(value) for _, value in rows[1:]]


def _resolve(data_root: Path, directory: str = "it-system-telemetry", **bindings: str):  # type: ignore[no-untyped-def]
    return resolve_capture_for_run(
        capture_directory=directory,
        base=data_root / "telemetry",
        data_root=data_root,
        bindings=bindings,
    )


# --- the worked example (spec 04 §5), computed without the CLI ---------------------------------


def test_worked_example_hashes(data_root: Path, fixture_capture: Path) -> None:
    capture = _resolve(data_root)
    assert capture.display_path == "telemetry/it-system-telemetry"
    template = template_get(template_id="it-system-microservices")
    generated = generate_model(template, parameters={}, mode="telemetry")
    prepared = capture.prepare(generated)
    assert prepared.input_hash_part["manifestHash"] == WORKED_MANIFEST_HASH
    assert prepared.input_hash_part["files"] == {
        name: "sha256:" + hashlib.sha256((FIXTURE_BUNDLE / name).read_bytes()).hexdigest()
        for name in FIXTURE_FILES
    }
    input_hash = artifacts.input_hash(
        template_id=template.id,
        template_version=template.version,
        mode="telemetry",
        parameters=generated.parameters,
        telemetry=prepared.input_hash_part,
        rng_seed=None,
        model=None,
    )
    assert input_hash == WORKED_INPUT_HASH
    assert artifacts.deterministic_run_id(template.id, input_hash) == WORKED_RUN_ID


def test_worked_example_rewrite(data_root: Path, fixture_capture: Path) -> None:
    generated = generate_model(
        template_get(template_id="it-system-microservices"), parameters={}, mode="telemetry"
    )
    prepared = _resolve(data_root).prepare(generated)
    tree = yaml.safe_load(prepared.model_text)
    assert tree == prepared.tree
    nodes = {n["id"]: n for n in tree["nodes"]}
    assert nodes["user_requests"]["source"] == "file://telemetry/LoadBalancer_arrivals.csv"
    assert "source" not in nodes["load_balancer_capacity"]
    for node in tree["topology"]["nodes"]:
        for metric in ("arrivals", "served", "errors"):
            assert node["semantics"][metric] == f"file://telemetry/{node['id']}_{metric}.csv"
    assert tree["grid"]["startTimeUtc"] == "2025-10-01T00:00:00Z"
    assert tree["window"]["start"] == "2025-10-01T00:00:00Z"
    # The rewritten model's identity is recomputed (spec 01 §6: without provenance).
    expected_id = sha256_prefixed(canonical_json({k: v for k, v in tree.items() if k != "provenance"}))
    assert tree["provenance"]["modelId"] == expected_id != generated.model_id
    assert prepared.run_warnings == []
    assert prepared.model.grid.start_time_utc is not None


def test_prepare_copies_verified_bytes_and_the_normalised_manifest(
    data_root: Path, fixture_capture: Path, tmp_path: Path
) -> None:
    generated = generate_model(
        template_get(template_id="it-system-microservices"), parameters={}, mode="telemetry"
    )
    prepared = _resolve(data_root).prepare(generated)
    stage = tmp_path / "stage"
    stage.mkdir()
    prepared.copy_into(stage)
    telemetry = stage / "model" / "telemetry"
    assert sorted(p.name for p in telemetry.iterdir()) == sorted([*FIXTURE_FILES, "telemetry-manifest.json"])
    for name in FIXTURE_FILES:
        assert (telemetry / name).read_bytes() == (FIXTURE_BUNDLE / name).read_bytes()
    document = json.loads((telemetry / "telemetry-manifest.json").read_text(encoding="utf-8"))
    assert all(f["hash"].startswith("sha256:") for f in document["files"])
    assert document["provenance"]["scenarioHash"] == "sha256:demo"
    del document["provenance"]["capturedAtUtc"]
    assert sha256_prefixed(canonical_json(document)) == WORKED_MANIFEST_HASH


@pytest.mark.django_db
def test_worked_example_command(data_root: Path, tmp_path: Path, settings, cwd: Path) -> None:  # type: ignore[no-untyped-def]
    copy_fixture(tmp_path / "fixtures" / "it-system-telemetry")
    args = ("--capture-dir", "fixtures/it-system-telemetry", "--template", "it-system-microservices")

    refused = run_command("telemetry_bundle", *args, "--deterministic-run-id")
    assert refused.code == 1
    assert refused.stderr.startswith("path_forbidden: ")
    assert tree_listing(data_root / "runs") == []

    settings.FLOWTIME_TELEMETRY_ROOTS = "fixtures"  # relative: from the working directory
    created = run_command("telemetry_bundle", *args, "--deterministic-run-id")
    assert created.code == 0, created.stderr
    run_dir = data_root / "runs" / WORKED_RUN_ID
    assert created.stdout.splitlines() == [
        f"Run created: {WORKED_RUN_ID}",
        f"Directory: {run_dir}",
        "Mode: telemetry",
        "Template: it-system-microservices",
        "Telemetry files: 9 bound, 0 unbound",
    ]
    metadata = json.loads((run_dir / "model" / "metadata.json").read_text())
    assert metadata["inputHash"] == WORKED_INPUT_HASH
    assert metadata["mode"] == "telemetry"
    assert Run.objects.get(run_id=WORKED_RUN_ID).input_hash == WORKED_INPUT_HASH
    for name in FIXTURE_FILES:
        assert (run_dir / "model" / "telemetry" / name).read_bytes() == (FIXTURE_BUNDLE / name).read_bytes()
    assert _series(run_dir, "processed_requests") == [100, 150, 180, 180, 120, 80]
    assert _series(run_dir, "failed_requests") == [0, 0, 20, 0, 0, 0]
    assert _series(run_dir, "system_utilization") == [1, 1, 0.9, 1, 1, 1]
    assert json.loads((run_dir / "run.json").read_text())["warnings"] == []

    again = run_command("telemetry_bundle", *args, "--deterministic-run-id")
    assert again.code == 0
    assert again.stdout.splitlines()[0] == f"Run exists: {WORKED_RUN_ID} (reused)"


@pytest.mark.django_db
def test_state_reads_the_bundled_values(data_root: Path, fixture_capture: Path, cwd: Path) -> None:
    from runs.replay.state import state_snapshot

    result = run_command(
        "telemetry_bundle",
        "--capture-dir",
        str(fixture_capture),
        "--template",
        "it-system-microservices",
        "--bind",
        "telemetryRequestsSource=LoadBalancer_arrivals.csv",
        "--json",
    )
    assert result.code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["telemetryFiles"] == {"bound": 9, "unbound": 0}
    assert body["wasReused"] is False
    run_id = body["runId"]
    metadata = json.loads((data_root / "runs" / run_id / "model" / "metadata.json").read_text())
    assert metadata["parameters"]["telemetryRequestsSource"] == "file://telemetry/LoadBalancer_arrivals.csv"
    assert metadata["inputHash"] != WORKED_INPUT_HASH  # the binding is an input

    state = state_snapshot(data_root, run_id, {"binIndex": ["2"]})
    assert state["bin"]["startUtc"] == "2025-10-01T02:00:00Z"
    metrics = {node["id"]: node["metrics"] for node in state["nodes"]}
    # Values at bin 2 of the fixture's CSVs.
    expected: dict[str, dict[str, float]] = {}
    for name in FIXTURE_FILES:
        node, metric = name.removesuffix(".csv").split("_")
        rows = (FIXTURE_BUNDLE / name).read_text().splitlines()
        expected.setdefault(node, {})[metric] = float(rows[3].split(",")[1])
    assert expected["LoadBalancer"] == {"arrivals": 200, "served": 192, "errors": 8}
    for node, values in expected.items():
        for metric, value in values.items():
            assert metrics[node][metric] == value


@pytest.mark.django_db
def test_worked_example_capacity_and_round_trip(
    data_root: Path, fixture_capture: Path, tmp_path: Path
) -> None:
    """Spec 04 §5 steps 6–7: capacity from series/, and a capture of the run reproduces the fixture."""
    from runs.replay.state import state_snapshot

    created = run_command(
        "telemetry_bundle",
        "--capture-dir",
        str(fixture_capture),
        "--template",
        "it-system-microservices",
        "--deterministic-run-id",
    )
    assert created.code == 0, created.stderr
    run_dir = data_root / "runs" / WORKED_RUN_ID
    lb = next(
        n
        for n in state_snapshot(data_root, WORKED_RUN_ID, {"binIndex": ["2"]})["nodes"]
        if n["id"] == "LoadBalancer"
    )
    assert lb["metrics"]["capacity"] == 300
    assert lb["derived"]["utilization"] == 0.64
    assert lb["derived"]["throughputRatio"] == 0.96

    captured = run_command(
        "telemetry_capture", "--run-dir", str(run_dir), "--output", str(data_root / "telemetry" / "again")
    )
    assert captured.code == 0, captured.stderr
    manifest = json.loads((data_root / "telemetry" / "again" / "manifest.json").read_text())
    assert len(manifest["files"]) == 12
    fixture_hashes = {
        f["path"]: "sha256:" + f["hash"]
        for f in json.loads((FIXTURE_BUNDLE / "manifest.json").read_text())["files"]
    }
    for name in FIXTURE_FILES:
        assert (data_root / "telemetry" / "again" / name).read_bytes() == (FIXTURE_BUNDLE / name).read_bytes()
        assert next(f["hash"] for f in manifest["files"] if f["path"] == name) == fixture_hashes[name]
    capacity_files = sorted(f["path"] for f in manifest["files"] if f["metric"] == "Capacity")
    assert capacity_files == [
        "AuthService_capacity.csv",
        "Database_capacity.csv",
        "LoadBalancer_capacity.csv",
    ]
    assert (data_root / "telemetry" / "again" / "LoadBalancer_capacity.csv").read_text() == (
        "bin_index,value\n0,300\n1,300\n2,300\n3,300\n4,300\n5,300\n"
    )


# --- error cases: exit 1, nothing written --------------------------------------------------------


def _bundle(capture_dir: Path | str, *extra: str):  # type: ignore[no-untyped-def]
    return run_command(
        "telemetry_bundle", "--capture-dir", str(capture_dir), "--template", "it-system-microservices", *extra
    )


def _assert_nothing_written(data_root: Path) -> None:
    assert tree_listing(data_root / "runs") in ([], [".staging"])
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_edited_csv_is_a_hash_mismatch(data_root: Path, fixture_capture: Path) -> None:
    target = fixture_capture / "LoadBalancer_arrivals.csv"
    data = bytearray(target.read_bytes())
    data[-2] = ord("9")  # 80 → 89 in the last row
    target.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    result = _bundle(fixture_capture, "--deterministic-run-id")
    assert result.code == 1
    assert result.stderr.strip() == (
        "capture_hash_mismatch: Telemetry file 'LoadBalancer_arrivals.csv' "
        f"has sha256:{actual} but the manifest lists "
        "sha256:b0ff21c1c2f109f18daeff14d620242f3b0d5613a8263cd1333ff6cfd9a1b434.\n"
        "  - LoadBalancer_arrivals.csv: capture_hash_mismatch: hash mismatch"
    )
    _assert_nothing_written(data_root)


@pytest.mark.django_db
def test_missing_manifest_or_directory_is_capture_not_found(data_root: Path, fixture_capture: Path) -> None:
    missing_dir = _bundle(data_root / "telemetry" / "nope")
    assert missing_dir.code == 1
    assert missing_dir.stderr.startswith("capture_not_found: ")
    (fixture_capture / "manifest.json").unlink()
    no_manifest = _bundle(fixture_capture)
    assert no_manifest.code == 1
    assert no_manifest.stderr.startswith("capture_not_found: ")
    _assert_nothing_written(data_root)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "{ not json",
        json.dumps({"schemaVersion": 1, "files": []}),  # no grid
        json.dumps(
            {"schemaVersion": 1, "grid": {"bins": 6, "binSize": 60, "binUnit": "minutes"}}
        ),  # no files
        json.dumps(
            {
                "schemaVersion": 1,
                "grid": {"bins": 6, "binSize": 60, "binUnit": "minutes"},
                "files": [{"nodeId": "LoadBalancer", "path": "LoadBalancer_arrivals.csv", "points": 6}],
            }
        ),  # no metric, no hash
    ],
)
def test_invalid_manifest_is_capture_invalid(data_root: Path, fixture_capture: Path, text: str) -> None:
    (fixture_capture / "manifest.json").write_text(text)
    result = _bundle(fixture_capture)
    assert result.code == 1
    assert result.stderr.startswith("capture_invalid: ")
    _assert_nothing_written(data_root)


def _rewrite_file(capture: Path, name: str, text: str) -> None:
    (capture / name).write_text(text)
    manifest = json.loads((capture / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == name:
            entry["hash"] = hashlib.sha256(text.encode()).hexdigest()
    (capture / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.django_db
def test_wrong_row_count_names_the_file(data_root: Path, fixture_capture: Path) -> None:
    _rewrite_file(fixture_capture, "AuthService_served.csv", "bin_index,value\n0,1\n1,2\n2,3\n3,4\n4,5\n")
    result = _bundle(fixture_capture)
    assert result.code == 1
    assert result.stderr.strip() == (
        "capture_invalid: Telemetry CSV 'AuthService_served.csv' contained 5 points but expected 6.\n"
        "  - AuthService_served.csv: capture_invalid: Telemetry CSV 'AuthService_served.csv' contained 5 "
        "points but expected 6."
    )
    with pytest.raises(CaptureError) as excinfo:
        _resolve(data_root)
    assert [(e.path, e.code) for e in excinfo.value.errors] == [("AuthService_served.csv", "capture_invalid")]
    _assert_nothing_written(data_root)


@pytest.mark.django_db
def test_every_file_problem_is_collected(data_root: Path, fixture_capture: Path) -> None:
    _rewrite_file(fixture_capture, "AuthService_served.csv", "bin_index,value\n0,1\n")
    _rewrite_file(fixture_capture, "Database_served.csv", "bin_index,value\n0,1\n0,2\n2,3\n3,4\n4,5\n5,x\n")
    (fixture_capture / "Database_errors.csv").unlink()
    with pytest.raises(CaptureError) as excinfo:
        _resolve(data_root)
    assert excinfo.value.code == "capture_invalid"
    assert [e.path for e in excinfo.value.errors] == [
        "AuthService_served.csv",
        "Database_served.csv",
        "Database_errors.csv",
    ]
    assert "line 3" in excinfo.value.errors[1].message


@pytest.mark.django_db
def test_grid_mismatch_is_capture_invalid(data_root: Path, fixture_capture: Path) -> None:
    result = _bundle(fixture_capture, "--param", "binSize=30")
    assert result.code == 1
    # The problem line, then each issue on its own line (here the one issue, at the model's grid).
    first, *issues = result.stderr.strip().splitlines()
    assert first == "capture_invalid: The model's grid.binSize is 30 but the capture's is 60."
    assert len(issues) == 1 and issues[0].endswith(
        ": The model's grid.binSize is 30 but the capture's is 60."
    )
    _assert_nothing_written(data_root)


@pytest.mark.django_db
def test_binding_to_a_file_outside_the_manifest(data_root: Path, fixture_capture: Path) -> None:
    (fixture_capture / "extra.csv").write_text("bin_index,value\n0,1\n1,1\n2,1\n3,1\n4,1\n5,1\n")
    result = _bundle(fixture_capture, "--bind", "telemetryRequestsSource=extra.csv")
    assert result.code == 1
    assert result.stderr.startswith("binding_invalid: ")
    with pytest.raises(TemplateError) as excinfo:
        _resolve(data_root, telemetryRequestsSource="extra.csv")
    assert excinfo.value.errors[0].as_error_item()["field"] == "telemetry.bindings.telemetryRequestsSource"
    _assert_nothing_written(data_root)


@pytest.mark.django_db
def test_upper_case_prefixed_hashes_verify(data_root: Path, fixture_capture: Path) -> None:
    manifest = json.loads((fixture_capture / "manifest.json").read_text())
    for entry in manifest["files"]:
        entry["hash"] = "SHA256:" + entry["hash"].upper()
    (fixture_capture / "manifest.json").write_text(json.dumps(manifest))
    assert _resolve(data_root).manifest.manifest_hash == WORKED_MANIFEST_HASH


def test_file_for_an_unknown_node_is_copied_not_bound(
    data_root: Path, fixture_capture: Path, tmp_path: Path
) -> None:
    text = "bin_index,value\n0,1\n1,1\n2,1\n3,1\n4,1\n5,1\n"
    (fixture_capture / "Ghost_served.csv").write_text(text)
    manifest = json.loads((fixture_capture / "manifest.json").read_text())
    manifest["files"].append(
        {
            "nodeId": "Ghost",
            "metric": "Served",
            "path": "Ghost_served.csv",
            "hash": hashlib.sha256(text.encode()).hexdigest(),
            "points": 6,
        }
    )
    (fixture_capture / "manifest.json").write_text(json.dumps(manifest))
    generated = generate_model(
        template_get(template_id="it-system-microservices"), parameters={}, mode="telemetry"
    )
    prepared = _resolve(data_root).prepare(generated)
    assert prepared.run_warnings == [
        "Telemetry file 'Ghost_served.csv' names node 'Ghost', which is not in the topology; "
        "copied but not bound."
    ]
    assert prepared.unbound_paths == ("Ghost_served.csv",)
    assert "Ghost_served.csv" not in prepared.input_hash_part["files"]
    stage = tmp_path / "stage"
    prepared.copy_into(stage)
    assert (stage / "model" / "telemetry" / "Ghost_served.csv").read_text() == text


def test_case_insensitive_node_match_and_alias_keys(data_root: Path, fixture_capture: Path) -> None:
    manifest = json.loads((fixture_capture / "manifest.json").read_text())
    for entry in manifest["files"]:
        entry["nodeId"] = entry["nodeId"].lower()
    (fixture_capture / "manifest.json").write_text(json.dumps(manifest))
    generated = generate_model(
        template_get(template_id="it-system-microservices"), parameters={}, mode="telemetry"
    )
    prepared = _resolve(data_root).prepare(generated)
    assert len(prepared.bound_paths) == 9
    lb = next(n for n in prepared.tree["topology"]["nodes"] if n["id"] == "LoadBalancer")
    assert lb["semantics"]["served"] == "file://telemetry/LoadBalancer_served.csv"


# --- model-file runs ---------------------------------------------------------------------------

MODEL_FILE = """\
schemaVersion: 1
mode: telemetry
metadata: {id: lb-only, version: 2.0.0}
grid: {bins: 6, binSize: 60, binUnit: minutes}
topology:
  nodes:
    - id: LoadBalancer
      semantics: {arrivals: requests, served: served, errors: failed}
nodes:
  - {id: requests, kind: const, values: [0, 0, 0, 0, 0, 0]}
  - {id: capacity, kind: const, values: [190, 190, 190, 190, 190, 190], source: file:AuthService_arrivals.csv}
  - {id: served, kind: expr, expr: 'MIN(requests, capacity)'}
  - {id: failed, kind: expr, expr: requests - served}
"""


@pytest.mark.django_db
def test_model_file_run(data_root: Path, fixture_capture: Path, tmp_path: Path) -> None:
    model_path = tmp_path / "model.yaml"
    model_path.write_text(MODEL_FILE)
    provenance = tmp_path / "prov.json"
    provenance.write_text(json.dumps({"source": "ops-export", "modelId": "m-1"}))
    result = run_command(
        "telemetry_bundle",
        "--capture-dir",
        str(fixture_capture),
        "--model",
        str(model_path),
        "--provenance",
        str(provenance),
        "--deterministic-run-id",
    )
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    run_id = lines[0].removeprefix("Run created: ")
    assert lines[2:] == ["Mode: telemetry", "Template: lb-only", "Telemetry files: 4 bound, 5 unbound"]
    run_dir = data_root / "runs" / run_id
    tree = yaml.safe_load((run_dir / "model" / "model.yaml").read_text())
    nodes = {n["id"]: n for n in tree["nodes"]}
    assert nodes["requests"]["source"] == "file://telemetry/LoadBalancer_arrivals.csv"
    assert nodes["capacity"]["source"] == "file://telemetry/AuthService_arrivals.csv"
    # requests = LoadBalancer arrivals, capacity = AuthService arrivals (fixture values).
    assert _series(run_dir, "requests") == [100, 150, 200, 180, 120, 80]
    assert _series(run_dir, "served") == [95, 145, 192, 175, 115, 78]
    run_json = json.loads((run_dir / "run.json").read_text())
    assert len(run_json["warnings"]) == 5  # AuthService/Database files name nodes not in the topology
    assert json.loads((run_dir / "model" / "provenance.json").read_text()) == {
        "source": "ops-export",
        "modelId": "m-1",
    }

    # inputHash per spec 03 §4.1 for model-file runs, recomputed from what is on disk.
    manifest = json.loads((run_dir / "model" / "telemetry" / "telemetry-manifest.json").read_text())
    del manifest["provenance"]["capturedAtUtc"]
    bound = [
        "LoadBalancer_arrivals.csv",
        "LoadBalancer_served.csv",
        "LoadBalancer_errors.csv",
        "AuthService_arrivals.csv",
    ]
    document = {
        "templateId": "lb-only",
        "templateVersion": "2.0.0",
        "mode": "telemetry",
        "parameters": {},
        "telemetry": {
            "manifestHash": sha256_prefixed(canonical_json(manifest)),
            "files": {
                name: "sha256:" + hashlib.sha256((FIXTURE_BUNDLE / name).read_bytes()).hexdigest()
                for name in bound
            },
        },
        "rngSeed": None,
        "model": sha256_prefixed(canonical_json(tree)),
    }
    expected = sha256_prefixed(canonical_json(document))
    metadata = json.loads((run_dir / "model" / "metadata.json").read_text())
    assert metadata["inputHash"] == expected
    assert run_id == artifacts.deterministic_run_id("lb-only", expected)
    assert Run.objects.filter(run_id=run_id).exists()

    reused = run_command(
        "telemetry_bundle",
        "--capture-dir",
        str(fixture_capture),
        "--model",
        str(model_path),
        "--provenance",
        str(provenance),
        "--deterministic-run-id",
    )
    assert reused.stdout.splitlines()[0] == f"Run exists: {run_id} (reused)"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("file:///etc/passwd", "path_forbidden"),
        ("https://example.com/x.csv", "path_forbidden"),
        ("file://elsewhere/x.csv", "path_forbidden"),
        ("file:../LoadBalancer_arrivals.csv", "path_forbidden"),
        ("file:missing.csv", "binding_invalid"),
        ("file://telemetry/missing.csv", "binding_invalid"),
    ],
)
def test_model_file_sources_must_name_manifest_files(
    data_root: Path, fixture_capture: Path, tmp_path: Path, source: str, code: str
) -> None:
    model_path = tmp_path / "model.yaml"
    model_path.write_text(MODEL_FILE.replace("file:AuthService_arrivals.csv", f"'{source}'"))
    result = run_command(
        "telemetry_bundle", "--capture-dir", str(fixture_capture), "--model", str(model_path)
    )
    assert result.code == 1
    assert result.stderr.startswith(f"{code}: ")
    _assert_nothing_written(data_root)


@pytest.mark.django_db
def test_absolute_source_inside_the_capture_is_accepted(
    data_root: Path, fixture_capture: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "model.yaml"
    model_path.write_text(
        MODEL_FILE.replace(
            "file:AuthService_arrivals.csv", f"'file://{fixture_capture}/Database_arrivals.csv'"
        )
    )
    result = run_command(
        "telemetry_bundle", "--capture-dir", str(fixture_capture), "--model", str(model_path)
    )
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Telemetry files: 4 bound, 5 unbound"


@pytest.mark.parametrize(
    "args",
    [
        ("--model", "m.yaml", "--template", "it-system-microservices"),
        (),
        ("--model", "m.yaml", "--param", "bins=6"),
        ("--model", "m.yaml", "--bind", "x=y.csv"),
        ("--template", "it-system-microservices", "--run-id", "abc", "--deterministic-run-id"),
        ("--template", "it-system-microservices", "--run-id", "../evil"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], data_root: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as excinfo:
        run_command("telemetry_bundle", "--capture-dir", "x", *args)
    assert excinfo.value.returncode == 2
    assert tree_listing(data_root) == []


def test_dry_run_plan_parts(data_root: Path, fixture_capture: Path) -> None:
    capture = _resolve(data_root)
    assert capture.plan_files()[0] == {
        "nodeId": "LoadBalancer",
        "metric": "Arrivals",
        "path": "LoadBalancer_arrivals.csv",
    }
    assert len(capture.plan_files()) == 9
    assert capture.plan_warnings() == []


@pytest.mark.django_db
def test_interrupt_exits_130_and_leaves_no_stage(
    data_root: Path, fixture_capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runs.run_builder

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runs.run_builder, "evaluate", interrupted)
    model_path = tmp_path / "model.yaml"
    model_path.write_text(MODEL_FILE)
    result = run_command(
        "telemetry_bundle", "--capture-dir", str(fixture_capture), "--model", str(model_path)
    )
    assert result.code == 130
    _assert_nothing_written(data_root)


@pytest.mark.django_db
def test_grid_and_file_problems_are_reported_together(data_root: Path) -> None:
    """Spec 04 §3.1: failures of steps 2, 3 (but the hash) and 5 are collected first."""
    from runs.errors import CaptureError
    from runs.orchestration import RunRequest, TelemetrySpec, plan_run

    target = data_root / "telemetry" / "grid-off"
    shutil.copytree(FIXTURE_BUNDLE, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["grid"]["bins"] = 5  # the files hold 6 rows and the template makes 6 bins
    manifest["grid"]["binSize"] = 30
    (target / "manifest.json").write_text(json.dumps(manifest))
    request = RunRequest(
        template_id="it-system-microservices",
        mode="telemetry",
        telemetry=TelemetrySpec(capture_directory="grid-off"),
        capture_base=data_root / "telemetry",
    )
    with pytest.raises(CaptureError) as caught:
        plan_run(request)
    assert caught.value.code == "capture_invalid"
    fields = [issue.path for issue in caught.value.errors]
    assert fields == [*(f["path"] for f in manifest["files"]), "grid.bins", "grid.binSize"]
    assert caught.value.errors[0].message == (
        "Telemetry CSV 'LoadBalancer_arrivals.csv' contained 6 points but expected 5."
    )
    assert caught.value.errors[-1].message == "The model's grid.binSize is 60 but the capture's is 30."


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db
def test_template_bundle_shows_its_stages_as_a_bar_on_a_terminal_unless_json(
    data_root: Path, fixture_capture: Path
) -> None:
    from runs.orchestration import STAGES

    err = _Terminal()
    call_command(
        "telemetry_bundle",
        "--capture-dir",
        str(fixture_capture),
        "--template-id",
        "it-system-microservices",
        stdout=io.StringIO(),
        stderr=err,
    )
    assert "telemetry_bundle" in err.getvalue() and f"{len(STAGES)}/{len(STAGES)}" in err.getvalue()

    quiet = _Terminal()
    call_command(
        "telemetry_bundle",
        "--capture-dir",
        str(fixture_capture),
        "--template-id",
        "it-system-microservices",
        "--json",
        stdout=io.StringIO(),
        stderr=quiet,
    )
    assert quiet.getvalue() == ""
