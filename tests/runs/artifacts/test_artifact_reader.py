"""The tolerant reader and verify_run (spec 03 §6, §8; spec 05 §10)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from runs.artifacts import (
    GridInfo,
    RunContent,
    get_key,
    is_run_dir,
    iso_duration,
    iter_run_dirs,
    publish_run,
    read_json_file,
    read_run_summary,
    staged_run,
    verify_run,
    write_run_files,
)
from runs.errors import RunInvalid

MODEL = """schemaVersion: 1
mode: simulation
metadata:
  id: tiny-model
  title: Tiny model
  version: 2.1.0
grid:
  bins: 3
  binSize: 20
  binUnit: minutes
  startTimeUtc: "2025-01-01T00:00:00Z"
nodes:
  - {id: arrivals, values: [10, 20, 30]}
"""
INPUT_HASH = "sha256:" + "ab" * 32


def publish_ours(root: Path, run_id: str = "run_ours") -> Path:
    content = RunContent(
        model_text=MODEL,
        series=[("arrivals", np.array([10.0, 20.0, 30.0]))],
        grid=GridInfo(3, 20, "minutes"),
        engine_version="0.1.0",
        warnings=["w1", "w2"],
        template_id="tiny",
        template_title="Tiny",
        template_version="1.0.0",
        mode="simulation",
        input_hash=INPUT_HASH,
        parameters={},
    )
    created = datetime.now(UTC)
    with staged_run(root) as stage:
        write_run_files(stage.path, content, run_id=run_id, created_utc=created)
        result = publish_run(
            stage,
            runs_root=root,
            run_id=run_id,
            id_kind="explicit",
            overwrite=False,
            input_hash=INPUT_HASH,
            created_utc=created,
        )
    return result.run_dir


def test_created_utc_of_a_written_run_equals_run_json(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    recorded = json.loads((run_dir / "run.json").read_text())["createdUtc"]
    summary = read_run_summary(run_dir)
    assert summary.created_utc == recorded
    # Reading again from disk (a reindex) keeps the same value.
    assert read_run_summary(run_dir).created_utc == recorded


def test_created_utc_is_read_from_a_case_variant_key(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    text = (run_dir / "run.json").read_text().replace('"createdUtc"', '"CreatedUtc"')
    (run_dir / "run.json").write_text(text)
    (run_dir / "manifest.json").write_text("{}\n")
    assert read_run_summary(run_dir).created_utc == json.loads(text)["CreatedUtc"]


def test_created_utc_falls_back_to_manifest_then_none(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    run = json.loads((run_dir / "run.json").read_text())
    del run["createdUtc"]
    (run_dir / "run.json").write_text(json.dumps(run))
    (run_dir / "manifest.json").write_text('{"createdUtc": "2024-02-03T04:05:06.1234567+01:00"}')
    assert read_run_summary(run_dir).created_utc == "2024-02-03T03:05:06.123456Z"
    (run_dir / "manifest.json").unlink()
    assert read_run_summary(run_dir).created_utc is None


def test_summary_of_our_run(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    summary = read_run_summary(run_dir)
    model_hash = "sha256:" + hashlib.sha256(MODEL.encode()).hexdigest()
    assert summary.run_id == "run_ours"
    assert summary.template_id == "tiny"
    assert summary.template_title == "Tiny"
    assert summary.template_version == "1.0.0"
    assert summary.mode == "simulation"
    assert summary.start_utc == "2025-01-01T00:00:00Z"
    assert (summary.bins, summary.bin_size, summary.bin_unit) == (3, 20, "minutes")
    assert summary.duration == "PT1H"
    assert summary.warning_count == 2
    assert summary.provenance_hash == model_hash
    assert summary.model_hash == model_hash
    assert summary.input_hash == INPUT_HASH
    assert summary.model_file == "model/model.yaml"


FLOWTIME_SPEC = (
    "\ufeffschemaVersion: 1\r\n"
    "mode: Telemetry\r\n"
    "metadata:\r\n"
    "  id: order-system\r\n"
    "  title: Order system\r\n"
    "  version: 3.0.0\r\n"
    "grid:\r\n"
    "  bins: 24\r\n"
    "  binSize: 1\r\n"
    "  binUnit: Hours\r\n"
    "  startTimeUtc: 2025-10-01T00:00:00\r\n"
    "nodes:\r\n"
    "  - id: orders\r\n"
    "    values: [1, 2]\r\n"
)
SERIES_CSV = b"t,value\r\n0,1\r\n1,2\r\n"
SERIES_HEX = hashlib.sha256(SERIES_CSV).hexdigest()


def flowtime_run(root: Path) -> Path:
    """A run directory as FlowTime writes it: BOMs, CRLF, other key cases, spec.yaml only."""
    run_dir = root / "run_deterministic_2dce5ec5"
    (run_dir / "series").mkdir(parents=True)
    spec_bytes = FLOWTIME_SPEC.encode("utf-8")
    (run_dir / "spec.yaml").write_bytes(spec_bytes)
    model_hex = hashlib.sha256(spec_bytes).hexdigest()
    run_json = (
        "\ufeff{\r\n"
        '  "SchemaVersion": 1,\r\n'
        '  "RunId": "run_20251001T000000Z_12345678",\r\n'
        '  "Grid": {"Bins": 24, "BinSize": 1, "BinUnit": "hours"},\r\n'
        f'  "ModelHash": "{model_hex.upper()}",\r\n'
        '  "CreatedUtc": "2025-10-01T12:00:00.1234567Z",\r\n'
        '  "Warnings": ["gap", "late"],\r\n'
        '  "Series": [{"Id": "orders@ORDERS@DEFAULT", "Path": "series/orders@ORDERS@DEFAULT.csv"}]\r\n'
        "}\r\n"
    )
    (run_dir / "run.json").write_bytes(run_json.encode("utf-8"))
    manifest = (
        "\ufeff{\r\n"
        '  "scenarioHash": "sha256:demo",\r\n'
        f'  "modelHash": "sha256:{model_hex}",\r\n'
        '  "rng": {"kind": "pcg32", "seed": 123456},\r\n'
        f'  "seriesHashes": {{"orders@ORDERS@DEFAULT": "{SERIES_HEX}"}},\r\n'
        '  "provenance": null\r\n'
        "}\r\n"
    )
    (run_dir / "manifest.json").write_bytes(manifest.encode("utf-8"))
    index = (
        "\ufeff{\r\n"
        '  "series": [{"id": "orders@ORDERS@DEFAULT", "path": "series/orders@ORDERS@DEFAULT.csv",'
        ' "hash": "sha256:placeholder"}]\r\n'
        "}\r\n"
    )
    (run_dir / "series" / "index.json").write_bytes(index.encode("utf-8"))
    (run_dir / "series" / "orders@ORDERS@DEFAULT.csv").write_bytes(SERIES_CSV)
    return run_dir


def test_flowtime_run_is_read(tmp_path: Path) -> None:
    run_dir = flowtime_run(tmp_path)
    assert is_run_dir(run_dir)
    summary = read_run_summary(run_dir)
    spec_hash = "sha256:" + hashlib.sha256(FLOWTIME_SPEC.encode("utf-8")).hexdigest()
    assert summary.run_id == "run_deterministic_2dce5ec5"
    assert summary.template_id == "order-system"
    assert summary.template_title == "Order system"
    assert summary.template_version == "3.0.0"
    assert summary.mode == "telemetry"
    assert summary.created_utc == "2025-10-01T12:00:00.123456Z"
    assert summary.start_utc == "2025-10-01T00:00:00Z"
    assert (summary.bins, summary.bin_size, summary.bin_unit) == (24, 1, "hours")
    assert summary.duration == "P1D"
    assert summary.warning_count == 2
    assert summary.input_hash is None
    assert summary.model_hash == spec_hash
    assert summary.provenance_hash == spec_hash
    assert summary.model_file == "spec.yaml"


def test_verify_flowtime_run_reports_placeholders_unverifiable(tmp_path: Path) -> None:
    report = verify_run(flowtime_run(tmp_path))
    statuses = {(c.recorded_in, c.file): c.status for c in report.checks}
    assert statuses == {
        ("run.json", "spec.yaml"): "ok",
        ("manifest.json", "spec.yaml"): "ok",
        ("series/index.json", "series/orders@ORDERS@DEFAULT.csv"): "unverifiable",
        ("manifest.json", "series/orders@ORDERS@DEFAULT.csv"): "ok",
    }
    assert report.ok
    assert len(report.unverifiable) == 1


def test_verify_our_run_and_detect_tampering(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    report = verify_run(run_dir)
    assert report.ok
    assert [c.status for c in report.checks] == ["ok"] * 5
    assert [c.recorded_in for c in report.checks] == [
        "run.json",
        "manifest.json",
        "model/metadata.json",
        "series/index.json",
        "manifest.json",
    ]
    (run_dir / "series" / "arrivals@ARRIVALS@DEFAULT.csv").write_bytes(b"t,value\n0,10\n1,20\n2,31\n")
    tampered = verify_run(run_dir)
    assert not tampered.ok
    assert [c.status for c in tampered.failures] == ["mismatch", "mismatch"]
    (run_dir / "series" / "arrivals@ARRIVALS@DEFAULT.csv").unlink()
    assert [c.status for c in verify_run(run_dir).failures] == ["missing", "missing"]
    (run_dir / "model" / "model.yaml").write_text(MODEL + "# edited\n")
    model_checks = [c for c in verify_run(run_dir).checks if c.file == "model/model.yaml"]
    assert [c.status for c in model_checks] == ["mismatch"] * 3


def test_verify_does_not_follow_paths_out_of_the_run(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path / "runs")
    (tmp_path / "secret.csv").write_text("t,value\n")
    index = json.loads((run_dir / "series" / "index.json").read_text())
    index["series"][0]["path"] = "../../secret.csv"
    index["series"][0]["hash"] = "sha256:" + hashlib.sha256(b"t,value\n").hexdigest()
    (run_dir / "series" / "index.json").write_text(json.dumps(index))
    escaped = [c for c in verify_run(run_dir).checks if c.file == "../../secret.csv"]
    assert [c.status for c in escaped] == ["missing", "missing"]


def test_directories_that_are_not_runs(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    assert is_run_dir(run_dir)
    (run_dir / "model" / "model.yaml").unlink()
    assert is_run_dir(run_dir)  # spec.yaml still there
    (run_dir / "spec.yaml").unlink()
    assert not is_run_dir(run_dir)
    with pytest.raises(RunInvalid) as caught:
        read_run_summary(run_dir)
    assert caught.value.code == "run_invalid"
    assert "run_ours" in caught.value.detail
    assert str(tmp_path) not in caught.value.detail


def test_broken_run_json_is_run_invalid_without_absolute_paths(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    (run_dir / "run.json").write_text("{not json")
    assert not is_run_dir(run_dir)
    with pytest.raises(RunInvalid) as caught:
        read_run_summary(run_dir)
    assert (
        caught.value.detail == "Run 'run_ours' is not a valid run directory: run.json is not a JSON object."
    )
    (run_dir / "run.json").unlink()
    with pytest.raises(RunInvalid, match=r"run\.json is missing"):
        read_run_summary(run_dir)


def test_missing_index_is_not_a_run(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    (run_dir / "series" / "index.json").unlink()
    assert not is_run_dir(run_dir)
    assert not is_run_dir(tmp_path / "nowhere")
    with pytest.raises(RunInvalid, match=r"series/index\.json is missing"):
        read_run_summary(run_dir)


def test_iter_run_dirs_skips_hidden_entries_and_files(runs_root: Path) -> None:
    for name in ("run_b", "run_a", ".staging", ".hidden"):
        (runs_root / name).mkdir()
    (runs_root / "stray.txt").write_text("x")
    assert [p.name for p in iter_run_dirs(runs_root)] == ["run_a", "run_b"]
    assert list(iter_run_dirs(runs_root / "missing")) == []


def test_read_json_file_accepts_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b'\xef\xbb\xbf{\r\n  "a": 1\r\n}\r\n')
    assert read_json_file(path) == {"a": 1}
    path.write_text("[1, 2]")
    with pytest.raises(ValueError):
        read_json_file(path)


def test_get_key_prefers_exact_then_case_insensitive() -> None:
    assert get_key({"CreatedUtc": "b", "createdUtc": "a"}, "createdUtc") == "a"
    assert get_key({"CREATEDUTC": "c"}, "createdUtc") == "c"
    assert get_key({"other": 1}, "createdUtc") is None
    assert get_key({"other": 1}, "createdUtc", "d") == "d"
    assert get_key(None, "createdUtc") is None


@pytest.mark.parametrize(
    ("bins", "size", "unit", "expected"),
    [
        (6, 60, "minutes", "PT6H"),
        (1, 20, "minutes", "PT20M"),
        (24, 1, "hours", "P1D"),
        (3, 30, "minutes", "PT1H30M"),
        (2, 1, "weeks", "P14D"),
        (25, 1, "hours", "P1DT1H"),
        (288, 5, "minutes", "P1D"),
    ],
)
def test_iso_duration(bins: int, size: int, unit: str, expected: str) -> None:
    assert iso_duration(bins, size, unit) == expected


def test_summary_without_metadata_is_derived_from_the_model(tmp_path: Path) -> None:
    run_dir = publish_ours(tmp_path)
    (run_dir / "model" / "metadata.json").unlink()
    summary = read_run_summary(run_dir)
    assert summary.template_id == "tiny-model"
    assert summary.template_title == "Tiny model"
    assert summary.template_version == "2.1.0"
    assert summary.input_hash is None
    assert summary.provenance_hash == "sha256:" + hashlib.sha256(MODEL.encode()).hexdigest()
