"""Shared helpers for the telemetry tests: fixture copies, hand-made run directories, command calls."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from api_helpers import tree_listing as tree_listing  # re-exported for the telemetry tests
from command_helpers import run_command as run_command  # re-exported for the telemetry tests
from tests_fixtures import FIXTURE_BUNDLE

FIXTURE_FILES = [
    f"{node}_{metric}.csv"
    for node in ("LoadBalancer", "AuthService", "Database")
    for metric in ("arrivals", "served", "errors")
]
WORKED_INPUT_HASH = "sha256:5996be2d3a46c095b9a34727347a831d934d55a6d6441a36cd5279692ad4fc19"
WORKED_MANIFEST_HASH = "sha256:58b38577d33fdbade09116c9cf2a0c25caee7902aec7c32ba95bdfdd5a41d420"
WORKED_RUN_ID = "run_it-system-microservices_5996be2d3a46c095"


def copy_fixture(target: Path) -> Path:
    """A writable copy of the shipped capture (files only; the originals are read-only)."""
    target.mkdir(parents=True)
    for entry in sorted(FIXTURE_BUNDLE.iterdir()):
        shutil.copyfile(entry, target / entry.name)
    return target


def write_run_dir(
    run_dir: Path,
    *,
    model: str,
    series: dict[str, str],
    bins: int,
    points: dict[str, int] | None = None,
    run_json: dict[str, Any] | None = None,
) -> Path:
    """A minimal run directory written by hand: run.json, model/model.yaml, series index and CSVs.

    ``series`` maps node id → CSV text; series ids follow spec 03 §3.5.
    """
    (run_dir / "model").mkdir(parents=True)
    (run_dir / "series").mkdir()
    (run_dir / "model" / "model.yaml").write_text(model, encoding="utf-8")
    entries = []
    for node_id, text in series.items():
        sid = f"{node_id}@{node_id.upper()}@DEFAULT"
        (run_dir / "series" / f"{sid}.csv").write_text(text, encoding="utf-8", newline="")
        entries.append({"id": sid, "path": f"series/{sid}.csv", "points": (points or {}).get(node_id, bins)})
    grid = {"bins": bins, "binSize": 5, "binUnit": "minutes"}
    (run_dir / "series" / "index.json").write_text(json.dumps({"grid": grid, "series": entries}))
    document = (
        run_json
        if run_json is not None
        else {
            "runId": run_dir.name,
            "grid": grid,
            "scenarioHash": "sha256:" + "a" * 64,
            "modelHash": "sha256:" + "b" * 64,
        }
    )
    (run_dir / "run.json").write_text(json.dumps(document))
    return run_dir
