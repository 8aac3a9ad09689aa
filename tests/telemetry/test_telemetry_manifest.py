"""Capture manifests: FlowTime tolerance, validation and the normalised form (spec 04 §2.3, §3.1, §3.3)."""

from __future__ import annotations

import json

import pytest
from telemetry_helpers import FIXTURE_BUNDLE, WORKED_MANIFEST_HASH

from runs.errors import CaptureError, PathForbidden
from telemetry.manifest import parse_manifest

HEX = "ab" * 32


def _manifest(**overrides: object) -> dict:
    document: dict = {
        "schemaVersion": 1,
        "grid": {"bins": 2, "binSize": 1, "binUnit": "hours"},
        "files": [{"nodeId": "Api", "metric": "Served", "path": "Api_served.csv", "hash": HEX, "points": 2}],
    }
    document.update(overrides)
    return document


def _parse(document: dict) -> object:
    return parse_manifest(json.dumps(document).encode())


def test_fixture_normalises_to_the_worked_example_hash() -> None:
    manifest = parse_manifest((FIXTURE_BUNDLE / "manifest.json").read_bytes())
    assert manifest.manifest_hash == WORKED_MANIFEST_HASH
    assert manifest.files[0].hash == "sha256:b0ff21c1c2f109f18daeff14d620242f3b0d5613a8263cd1333ff6cfd9a1b434"
    assert manifest.document["provenance"] == {
        "runId": "time_travel_demo",
        "scenarioHash": "sha256:demo",
        "modelHash": "sha256:demo-model",
        "capturedAtUtc": "2025-10-15T00:00:00Z",
    }
    assert list(manifest.document) == ["schemaVersion", "window", "grid", "files", "warnings", "provenance"]


def test_captured_at_does_not_change_the_manifest_hash() -> None:
    first = _parse(_manifest(provenance={"runId": "r", "capturedAtUtc": "2025-01-01T00:00:00Z"}))
    second = _parse(_manifest(provenance={"runId": "r", "capturedAtUtc": "2030-01-01T00:00:00Z"}))
    other_run = _parse(_manifest(provenance={"runId": "x", "capturedAtUtc": "2030-01-01T00:00:00Z"}))
    assert first.manifest_hash == second.manifest_hash != other_run.manifest_hash  # type: ignore[attr-defined]


def test_keys_any_case_bom_hash_forms_and_null_window() -> None:
    document = {
        "SchemaVersion": 1,
        "window": None,
        "GRID": {"Bins": 2, "binsize": 1, "binUnit": "HOURS"},
        "files": [
            {
                "NodeId": "Api",
                "METRIC": "served",
                "Path": "Api_served.csv",
                "hash": "SHA256:" + HEX.upper(),
                "points": 2,
            }
        ],
        "warnings": [{"code": "data_gap", "message": "m", "nodeId": None, "bins": [1]}],
        "provenance": {"runId": "r", "modelHash": None},
    }
    raw = b"\xef\xbb\xbf" + json.dumps(document).encode()
    manifest = parse_manifest(raw)
    assert manifest.document == {
        "schemaVersion": 1,
        "grid": {"bins": 2, "binSize": 1, "binUnit": "hours"},
        "files": [
            {
                "nodeId": "Api",
                "metric": "Served",
                "path": "Api_served.csv",
                "hash": "sha256:" + HEX,
                "points": 2,
            }
        ],
        "warnings": [{"code": "data_gap", "message": "m", "bins": [1]}],
        "provenance": {"runId": "r"},
    }


def test_every_problem_is_collected() -> None:
    document = _manifest(
        schemaVersion=2,
        grid={"bins": 0, "binSize": "x", "binUnit": "fortnights"},
        files=[
            {"nodeId": " ", "metric": "Latency", "path": "", "hash": "sha256:demo", "points": -1},
            {"nodeId": "A", "metric": "Served", "path": "a.csv", "hash": HEX, "points": 1},
            {"nodeId": "B", "metric": "Errors", "path": "A.CSV", "hash": HEX, "points": 1},
        ],
    )
    with pytest.raises(CaptureError) as excinfo:
        _parse(document)
    assert excinfo.value.code == "capture_invalid"
    assert [issue.path for issue in excinfo.value.errors] == [
        "schemaVersion",
        "grid.bins",
        "grid.binSize",
        "grid.binUnit",
        "files[0].nodeId",
        "files[0].metric",
        "files[0].path",
        "files[0].hash",
        "files[0].points",
        "files[2].path",
    ]
    assert excinfo.value.detail == "The capture has 10 problems."


def test_missing_required_fields() -> None:
    with pytest.raises(CaptureError) as excinfo:
        _parse({"schemaVersion": 1})
    assert [issue.path for issue in excinfo.value.errors] == ["grid", "files"]


def test_duplicate_basenames_in_different_directories() -> None:
    files = [
        {"nodeId": "A", "metric": "Served", "path": "x/a.csv", "hash": HEX, "points": 1},
        {"nodeId": "B", "metric": "Served", "path": "y/A.csv", "hash": HEX, "points": 1},
    ]
    with pytest.raises(CaptureError) as excinfo:
        _parse(_manifest(files=files))
    assert [issue.path for issue in excinfo.value.errors] == ["files[1].path"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b"\xff\xfe"])
def test_not_a_json_object(raw: bytes) -> None:
    with pytest.raises(CaptureError) as excinfo:
        parse_manifest(raw)
    assert excinfo.value.code == "capture_invalid"


@pytest.mark.parametrize(
    "path", ["../secret.csv", "/etc/passwd", "a\\b.csv", "C:x.csv", "%2e%2e/x.csv", "./a.csv"]
)
def test_manifest_paths_that_leave_the_capture_are_forbidden(path: str) -> None:
    files = [{"nodeId": "A", "metric": "Served", "path": path, "hash": HEX, "points": 1}]
    with pytest.raises(PathForbidden):
        _parse(_manifest(files=files))
