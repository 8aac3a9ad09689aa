"""``/index``, ``/series/{seriesId}``, ``/model`` (spec 06 §9) and the ``canReplay`` flag (spec 05 §2)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runs.artifacts.run_store import snapshot_of_run
from runs.canonical import format_number
from runs.errors import FlowtimeError, RunInvalid, SeriesNotFound
from runs.replay.loading import BIN_UNIT_MINUTES, ReplayRun, SeriesEntry, load_replay_run
from runs.replay.metadata import ci_get, positive_int
from runs.replay.metrics import SeriesReader, load_node_series, required_metrics, simulation_problem
from runs.replay.series_cache import read_series
from runs.shapes import SeriesIndex, SeriesIndexEntry


def _index(run: ReplayRun) -> Mapping[str, Any]:
    if run.index is None:
        raise RunInvalid("The run has no readable series/index.json.")
    return run.index


def _grid_text(value: Any, default: str) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else default


@snapshot_of_run
def index_body(data_root: Path, run_id: str) -> SeriesIndex:
    """The ``/index`` body: the stored index with a completed ``grid`` and without ``formats``."""
    run = load_replay_run(data_root, run_id)
    index = _index(run)
    raw_grid = ci_get(index, "grid")
    stored = raw_grid if isinstance(raw_grid, Mapping) else {}
    bins = positive_int(ci_get(stored, "bins")) or run.grid.bins
    bin_size = positive_int(ci_get(stored, "binSize")) or run.grid.bin_size
    unit = ci_get(stored, "binUnit")
    unit_text = unit.strip().lower() if isinstance(unit, str) else ""
    if unit_text not in BIN_UNIT_MINUTES:
        unit_text = run.grid.bin_unit
    series = ci_get(index, "series")
    entries: list[SeriesIndexEntry] = [
        {
            "id": ci_get(raw, "id"),
            "kind": ci_get(raw, "kind"),
            "path": ci_get(raw, "path"),
            "unit": ci_get(raw, "unit"),
            "componentId": ci_get(raw, "componentId"),
            "class": ci_get(raw, "class"),
            "points": ci_get(raw, "points"),
            "hash": ci_get(raw, "hash"),
        }
        for raw in (series if isinstance(series, list) else [])
        if isinstance(raw, Mapping)
    ]
    schema_version = ci_get(index, "schemaVersion")
    return {
        "schemaVersion": schema_version if schema_version is not None else 1,
        "grid": {
            "bins": bins,
            "binSize": bin_size,
            "binUnit": unit_text,
            "timezone": _grid_text(ci_get(stored, "timezone"), "UTC"),
            "align": _grid_text(ci_get(stored, "align"), "left"),
            "binMinutes": bin_size * BIN_UNIT_MINUTES[unit_text],
        },
        "series": entries,
    }


def find_series_entry(run: ReplayRun, series_id: str) -> SeriesEntry:
    """The entry with that id, else the first whose id starts with ``seriesId@``; else 404."""
    _index(run)
    for entry in run.series_entries:
        if entry.id == series_id:
            return entry
    prefix = series_id + "@"
    for entry in run.series_entries:
        if entry.id.startswith(prefix):
            return entry
    raise SeriesNotFound(series_id)


@snapshot_of_run
def series_csv(data_root: Path, run_id: str, series_id: str) -> str:
    """The ``/series/{seriesId}`` text: ``t,value`` then ``i,value`` per bin, LF, canonical numbers."""
    run = load_replay_run(data_root, run_id)
    entry = find_series_entry(run, series_id)
    if entry.real_path is None:
        raise RunInvalid(f"The CSV of series '{entry.id}' is missing from the run.")
    parsed = read_series(entry.real_path, run.grid.bins)
    if parsed.malformed:
        raise RunInvalid(f"The CSV of series '{entry.id}' is not a valid series file.")
    lines = ["t,value"]
    lines.extend(f"{i},{format_number(v)}" for i, v in enumerate(parsed.values.tolist()))
    return "\n".join(lines) + "\n"


@snapshot_of_run
def model_bytes(data_root: Path, run_id: str) -> bytes:
    """The ``/model`` body: ``model/model.yaml`` byte for byte."""
    return load_replay_run(data_root, run_id).model_bytes


def can_replay(run: ReplayRun, *, read: SeriesReader = read_series) -> bool:
    """Artifacts complete, every required topology metric resolves, and (simulation) §3 passes."""
    if run.index is None or any(entry.real_path is None for entry in run.series_entries):
        return False
    if not (run.run_dir / "model" / "metadata.json").is_file():
        return False
    for node in run.topology:
        if any(node.metrics[m].status in ("absent", "unresolved") for m in required_metrics(node)):
            return False
    return run.mode != "simulation" or simulation_problem(load_node_series(run, read=read)) is None


def can_replay_dir(data_root: Path, run_id: str) -> bool:
    """``can_replay`` for a run by id; a run that does not load cannot replay."""
    try:
        return can_replay(load_replay_run(data_root, run_id))
    except FlowtimeError:
        return False
