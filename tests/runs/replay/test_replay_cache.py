"""Spec 06 §11: CSVs parsed once per file version, bounded memory, and never stale after a rename."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from replay_helpers import FixtureRun, RunSpec, as_sent, build_run, q

from runs.replay import configure_series_cache, state_snapshot, state_window
from runs.replay.loading import RUN_CACHE, configure_run_cache
from runs.replay.rendered import RENDERED_CACHE, configure_rendered_cache
from runs.replay.series_cache import SERIES_CACHE, ParsedSeries, SizedCache, parse_series_csv

MakeRun = Callable[..., FixtureRun]


def test_each_csv_is_parsed_once(fixture_run: FixtureRun) -> None:
    before = SERIES_CACHE.misses  # other tests in the same process may have parsed files already
    state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=0))
    first = SERIES_CACHE.misses
    assert first - before == 8  # 4 metrics × 2 nodes
    for index in range(4):
        state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=index))
    state_window(fixture_run.data_root, fixture_run.run_id, q(startBin=0, endBin=3), max_window_bins=500)
    assert SERIES_CACHE.misses == first


def test_publishing_rename_serves_the_new_run(fixture_run: FixtureRun, data_root: Path) -> None:
    before = state_snapshot(data_root, fixture_run.run_id, q(binIndex=1))
    assert before["nodes"][0]["metrics"]["served"] == 6

    # Write the replacement into a staging dir with the same sizes and mtimes, then publish as spec
    # 03 §7 does: old run aside, new one renamed into place.
    staging = data_root / "runs" / ".staging"
    new_dir = staging / "new"
    spec = RunSpec(csv_overrides={("OrderService", "served"): "t,value\n0,9\n1,5\n2,9\n3,4\n"})
    build_run(data_root, spec, target=new_dir)
    old_csv = fixture_run.run_dir / "model" / "telemetry" / "OrderService_served.csv"
    new_csv = new_dir / "model" / "telemetry" / "OrderService_served.csv"
    assert old_csv.stat().st_size == new_csv.stat().st_size
    stamp = old_csv.stat().st_mtime_ns
    os.utime(new_csv, ns=(stamp, stamp))
    os.rename(fixture_run.run_dir, staging / "old")
    os.rename(new_dir, fixture_run.run_dir)
    shutil.rmtree(staging / "old")

    after = state_snapshot(data_root, fixture_run.run_id, q(binIndex=1))
    assert after["nodes"][0]["metrics"]["served"] == 5
    assert after["nodes"][0]["derived"]["utilization"] == 5 / 7
    window = _window(fixture_run)
    assert window["nodes"][0]["series"]["served"] == [9, 5, 9, 4]


def test_changed_model_is_reread(fixture_run: FixtureRun, data_root: Path) -> None:
    assert (
        state_snapshot(data_root, fixture_run.run_id, q(binIndex=0))["metadata"]["templateVersion"] == "1.0.0"
    )
    path = fixture_run.run_dir / "model" / "metadata.json"
    path.write_text(path.read_text().replace('"1.0.0"', '"2.0.0"'))
    assert (
        state_snapshot(data_root, fixture_run.run_id, q(binIndex=0))["metadata"]["templateVersion"] == "2.0.0"
    )


def _series(n: int) -> ParsedSeries:
    values = np.zeros(n)
    return ParsedSeries(values, malformed=False, valid=True)


def test_lru_is_bounded_by_value_count() -> None:
    cache: SizedCache[ParsedSeries] = SizedCache(10, lambda series: int(series.values.size))
    keys = [((f"/f{i}", 0, i, 0, 0), 4) for i in range(3)]
    cache.put(keys[0], _series(4))
    cache.put(keys[1], _series(4))
    assert cache.get(keys[0]) is not None  # 0 is now the most recently used
    cache.put(keys[2], _series(4))  # 12 > 10: the least recently used (1) goes
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) is not None and cache.get(keys[2]) is not None
    assert cache.total_size == 8
    cache.put((("/big", 0, 9, 0, 0), 11), _series(11))  # larger than the bound: not kept
    assert len(cache) == 2
    cache.configure(4)
    assert len(cache) == 1 and cache.total_size == 4


def test_configured_bound_applies_to_requests(fixture_run: FixtureRun) -> None:
    previous = SERIES_CACHE.max_size
    try:
        configure_series_cache(max_values=4)
        state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=0))
        assert SERIES_CACHE.total_size <= 4
        body = state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=1))
        assert body["nodes"][0]["metrics"]["served"] == 6  # correct, just re-parsed
    finally:
        configure_series_cache(max_values=previous)


def test_parse_rules() -> None:
    parsed = parse_series_csv(b"t,value\n2,-Infinity\n0,1e-05\n1,\n", 4)
    assert parsed.malformed is False and parsed.valid is False
    assert parsed.values.tolist()[0] == 1e-05
    assert np.isnan(parsed.values[1]) and np.isneginf(parsed.values[2]) and np.isnan(parsed.values[3])
    assert parse_series_csv(b"t,value\n0,1\n1,2\n", 2).valid is True
    assert parse_series_csv(b"t,value\n0,1\n1,2\n", 2).values.flags.writeable is False
    assert parse_series_csv(b"time,value\n0,1\n", 1).malformed is True


def test_oversized_file_is_refused_unread(make_run: MakeRun) -> None:
    run = make_run()
    path = run.run_dir / "model" / "telemetry" / "OrderService_capacity.csv"
    path.write_text("t,value\n0,12\n1,7\n2,9\n3,4\n" + "#" * 200_000 + "\n")
    body = state_snapshot(run.data_root, run.run_id, q(binIndex=1))
    assert body["nodes"][0]["metrics"]["capacity"] is None


def test_canonical_fast_path_agrees_with_the_full_parser() -> None:
    """Files as our writers produce them take a fast path; the same content in another accepted form
    (CRLF, spaces) takes the full parser. Both must read the same values."""
    from runs.artifacts import series_csv_bytes

    rng = np.random.default_rng(7)
    raw, digits = rng.random(300) * 1000, rng.integers(0, 6, 300)
    values = np.array([round(x, int(d)) for x, d in zip(raw, digits, strict=True)])
    values[[3, 50]] = np.nan
    values[7] = np.inf
    values[8] = -np.inf
    values[9] = 1e-05
    values[10] = 1 / 3
    canonical = series_csv_bytes(values)
    head, rest = canonical.split(b"\n12,", 1)
    with_gap = head + b"\n12,\n" + rest.split(b"\n", 1)[1]  # bin 12 written as an empty value
    for data in (canonical, with_gap):
        fast = parse_series_csv(data, 300)
        slow = parse_series_csv(data.replace(b"\n", b"\r\n").replace(b",", b" , "), 300)
        assert not fast.malformed and not slow.malformed
        assert np.array_equal(fast.values, slow.values, equal_nan=True)
        assert fast.valid is slow.valid is False
    assert np.isnan(parse_series_csv(with_gap, 300).values[12])
    assert np.array_equal(parse_series_csv(canonical, 300).values, values, equal_nan=True)


# --- the loaded-run and rendered-series caches never outlive a change on disk; no body is reused --


def _window(fixture_run: FixtureRun, start: int = 0, end: int = 3) -> dict[str, Any]:
    body = state_window(
        fixture_run.data_root, fixture_run.run_id, q(startBin=start, endBin=end), max_window_bins=500
    )
    return as_sent(body)


def test_no_window_body_is_reused(fixture_run: FixtureRun) -> None:
    first = state_window(
        fixture_run.data_root, fixture_run.run_id, q(startBin=0, endBin=3), max_window_bins=500
    )
    again = state_window(
        fixture_run.data_root, fixture_run.run_id, q(startBin=0, endBin=3), max_window_bins=500
    )
    assert again is not first and again["nodes"] is not first["nodes"]


def test_windows_are_slices_of_one_rendering(fixture_run: FixtureRun) -> None:
    misses = RENDERED_CACHE.misses
    whole = _window(fixture_run)
    rendered_once = RENDERED_CACHE.misses
    assert rendered_once > misses
    for start, end in ((1, 3), (0, 0), (2, 2), (3, 3), (0, 2)):
        part = _window(fixture_run, start, end)
        assert part["window"] == {"startBin": start, "endBin": end, "binCount": end - start + 1}
        assert part["timestampsUtc"] == whole["timestampsUtc"][start : end + 1]
        for node, full in zip(part["nodes"], whole["nodes"], strict=True):
            assert node["series"] == {key: values[start : end + 1] for key, values in full["series"].items()}
    assert RENDERED_CACHE.misses == rendered_once  # no new rendering for another window


def test_deleting_a_csv_in_place_is_seen_at_once(fixture_run: FixtureRun) -> None:
    before = _window(fixture_run)
    assert before["warnings"] == []
    (fixture_run.run_dir / "model" / "telemetry" / "OrderService_served.csv").unlink()
    after = _window(fixture_run)
    assert [w["code"] for w in after["warnings"]] == ["telemetry_sources_missing"]
    assert after["nodes"][0]["series"]["served"] == [None, None, None, None]
    assert after["metadata"]["telemetrySourcesResolved"] is False


def test_rewriting_a_csv_in_place_is_seen_at_once(fixture_run: FixtureRun) -> None:
    assert _window(fixture_run)["nodes"][0]["series"]["served"] == [9, 6, 9, 4]
    # A different size as well as a new mtime: in-place edits are operator actions, never ours.
    path = fixture_run.run_dir / "model" / "telemetry" / "OrderService_served.csv"
    path.write_text("bin_index,value\n0,9.5\n1,6\n2,9\n3,4\n", encoding="utf-8")
    assert _window(fixture_run)["nodes"][0]["series"]["served"] == [9.5, 6, 9, 4]


def test_editing_run_json_in_place_is_seen_at_once(fixture_run: FixtureRun) -> None:
    assert _window(fixture_run)["warnings"] == []
    run_json = fixture_run.run_dir / "run.json"
    document = json.loads(run_json.read_text(encoding="utf-8"))
    document["warnings"] = ["edited by hand"]
    run_json.write_text(json.dumps(document), encoding="utf-8")
    assert _window(fixture_run)["warnings"] == [
        {"code": "run_warning", "message": "edited by hand", "severity": "info", "nodeId": None}
    ]


def test_bodies_are_the_same_with_the_rendered_and_run_caches_off(fixture_run: FixtureRun) -> None:
    warm_window, warm_snapshot = _window(fixture_run), _snapshot(fixture_run)
    previous_bytes, previous_runs = RENDERED_CACHE.max_size, RUN_CACHE.max_size
    try:
        configure_rendered_cache(max_bytes=0)
        configure_run_cache(max_runs=0)
        assert len(RENDERED_CACHE) == 0 and len(RUN_CACHE) == 0
        assert _window(fixture_run) == warm_window
        assert _snapshot(fixture_run) == warm_snapshot
        assert len(RENDERED_CACHE) == 0 and len(RUN_CACHE) == 0  # nothing was kept
    finally:
        configure_rendered_cache(max_bytes=previous_bytes)
        configure_run_cache(max_runs=previous_runs)


def _snapshot(fixture_run: FixtureRun) -> dict[str, Any]:
    return state_snapshot(fixture_run.data_root, fixture_run.run_id, q(binIndex=2))
