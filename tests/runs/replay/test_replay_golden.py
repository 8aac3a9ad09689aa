"""Spec 06 §10: the worked example, compared with hand-written golden bodies (key order kept)."""

from __future__ import annotations

import json
from pathlib import Path

from replay_helpers import FixtureRun, as_sent, load_golden, q

from runs.replay import build_metadata, load_replay_run, state_snapshot, state_window


def test_snapshot_bin1_matches_golden(fixture_run: FixtureRun) -> None:
    body = state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=1))
    expected = load_golden("snapshot_bin1.json", fixture_run.model_hash)
    assert json.dumps(body) == json.dumps(expected)


def test_window_0_3_matches_golden(fixture_run: FixtureRun) -> None:
    body = as_sent(
        state_window(fixture_run.data_root, fixture_run.run_id, q(startBin=0, endBin=3), max_window_bins=500)
    )
    expected = load_golden("window_0_3.json", fixture_run.model_hash)
    assert json.dumps(body) == json.dumps(expected)


def test_colours_per_bin(fixture_run: FixtureRun) -> None:
    colours = []
    for index in range(4):
        body = state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=index))
        colours.append([node["derived"]["color"] for node in body["nodes"]])
    assert colours == [
        ["yellow", "green"],
        ["yellow", "red"],
        ["red", "red"],
        ["red", "green"],
    ]


def test_last_bin_timestamps_and_integral_derived(fixture_run: FixtureRun) -> None:
    body = state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=3))
    assert body["bin"] == {
        "index": 3,
        "startUtc": "2025-01-01T00:15:00Z",
        "endUtc": "2025-01-01T00:20:00Z",
        "durationMinutes": 5,
    }
    order, queue = body["nodes"]
    # 4 / 4 = 1 is written as the integer 1; 0 / 4 × 5 = 0 likewise.
    assert json.dumps(order["derived"]) == json.dumps(
        {"utilization": 1, "latencyMinutes": None, "throughputRatio": 0.4, "color": "red"}
    )
    assert json.dumps(queue["derived"]) == json.dumps(
        {"utilization": None, "latencyMinutes": 0, "throughputRatio": 0.8, "color": "green"}
    )


def test_metadata_builder_matches_the_state_envelope(fixture_run: FixtureRun) -> None:
    run = load_replay_run(fixture_run.data_root, fixture_run.run_id)
    body = state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=0))
    assert build_metadata(run) == body["metadata"]
    assert list(build_metadata(run)) == [
        "runId",
        "templateId",
        "templateTitle",
        "templateVersion",
        "mode",
        "provenanceHash",
        "telemetrySourcesResolved",
        "schema",
        "storage",
        "edgeQuality",
    ]


def test_no_absolute_path_in_any_body(fixture_run: FixtureRun, data_root: Path) -> None:
    snapshot = state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=0))
    window = as_sent(
        state_window(
            fixture_run.data_root,
            fixture_run.run_id,
            q(startBin=0, endBin=3, mode="full"),
            max_window_bins=500,
        )
    )
    for body in (snapshot, window):
        text = json.dumps(body)
        assert str(data_root) not in text
        assert str(data_root.resolve()) not in text
