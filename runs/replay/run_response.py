"""The RunResponse of spec 05 §2, built from one run directory: one reader for every field."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from runs.artifacts.ids import series_id_for
from runs.artifacts.reader import read_run_summary
from runs.canonical import json_ready
from runs.replay.loading import ReplayRun, load_replay_dir, load_replay_run
from runs.replay.metadata import build_metadata
from runs.replay.metrics import SeriesReader, run_warnings
from runs.replay.run_files import can_replay
from runs.replay.series_cache import FloatArray, ParsedSeries, read_series
from runs.shapes import RunLinks, RunResponse


def _links(run_id: str, bins: int) -> RunLinks:
    base = f"/v1/runs/{run_id}"
    return {
        "self": base,
        "state": f"{base}/state?binIndex=0",
        "stateWindow": f"{base}/state_window?startBin=0&endBin={max(bins - 1, 0)}",
        "index": f"{base}/index",
        "model": f"{base}/model",
    }


def _response(replay_run: ReplayRun, *, was_reused: bool, read: SeriesReader = read_series) -> RunResponse:
    # The index row is built from the same summary, so detail and listing always agree.
    summary = read_run_summary(replay_run.run_dir)
    return {
        "isDryRun": False,
        "metadata": build_metadata(replay_run),
        "plan": None,
        "warnings": [*summary.capture_warnings, *run_warnings(replay_run)],
        "canReplay": can_replay(replay_run, read=read),
        "wasReused": was_reused,
        "createdUtc": summary.created_utc,
        "inputHash": summary.input_hash,
        "grid": {
            "bins": summary.bins,
            "binSize": summary.bin_size,
            "binUnit": summary.bin_unit,
            "startUtc": summary.start_utc,
        },
        # (ours) what the run was made with, read back from its own files (metadata.json, manifest.json)
        "parameters": json_ready(dict(summary.parameters)),
        "rng": {"seed": summary.seed},
        "links": _links(replay_run.run_id, summary.bins),
    }


def published_run_response(data_root: Path, run_id: str, *, was_reused: bool = False) -> RunResponse:
    """The RunResponse of the published run ``run_id`` (call it inside a snapshot read)."""
    return _response(load_replay_run(data_root, run_id), was_reused=was_reused)


def staged_run_response(
    stage_dir: Path, run_id: str, *, written_series: Sequence[tuple[str, FloatArray]] = ()
) -> RunResponse:
    """The RunResponse of a run still in its private staging directory, as it will be published under
    ``run_id``: a POST answers with what it wrote, whatever other writers do after its rename.

    ``written_series`` are the ``(node id, values)`` the writer just wrote as ``series/<id>.csv``; the
    replay check takes them as a reader parses them back (a canonical CSV gives back every value
    exactly, ``-0`` as ``0``) instead of parsing the files again."""
    written: dict[str, ParsedSeries] = {}
    for node_id, values in written_series:
        array = np.asarray(values, dtype=np.float64) + 0.0  # -0.0 + 0.0 is 0.0, as the text "0" reads
        array.setflags(write=False)
        path = os.path.realpath(stage_dir / "series" / f"{series_id_for(node_id)}.csv")
        # An identity of its own: render caches keyed on series identity must never take this array
        # for another (a file's key is its inode; ``None`` would read as "all NaN").
        written[path] = ParsedSeries(
            array, malformed=False, valid=bool(np.isfinite(array).all()), identity=("written", object())
        )

    def read(real_path: str, bins: int) -> ParsedSeries:
        found = written.get(real_path)
        return found if found is not None and found.values.size == bins else read_series(real_path, bins)

    return _response(load_replay_dir(stage_dir, run_id), was_reused=False, read=read)
