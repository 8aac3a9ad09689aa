"""B3: scrubbing through a run. ``GET /v1/runs/{runId}/state_window`` (460-bin windows) and
``GET /v1/runs/{runId}/state`` (one bin) of a 500-bin × 50-node run, a different window or bin on
every request, as a UI scrubbing through the run asks; vs the same requests re-reading every CSV (all
replay caches cleared before each call).

No request is repeated: windows slide over the run (460 and 459 bins, every start), bins are spread
over it, so no cache of a finished answer could serve them. The caches that remain hold whole-run
series (parsed CSVs, their JSON rendering, loaded run documents); what each buys is measured too, by
turning it off for a pass (a note under the table).

The run is written by hand in the telemetry layout of spec 06 §10, scaled up: 40 services (arrivals,
served, errors, capacity) and 10 queues (arrivals, served, errors, queue, ``slaMin``), each metric a
``file://telemetry/<Node>_<metric>.csv`` under ``model/telemetry/``. Requests go through the whole
HTTP stack in-process (Django test ``Client``), and the body is rendered in full.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.harness import Figure, emit, log, median, ms, percentile, setup_django, temp_root

RUN_ID = "run_bench_state_window"
BINS = 500
SERVICES = 40
QUEUES = 10
WINDOW_BINS = (460, 459)  # every start of each: 41 + 42 = 83 different windows
STATE_STEP = 6  # /state at bins 0, 6, 12, …: 84 different bins
BASELINE_SAMPLES = 20
VARIANT_SAMPLES = 20
WINDOW_P50, WINDOW_P95 = 0.008, 0.015
BASE = f"/v1/runs/{RUN_ID}"


def _csv(values: np.ndarray) -> str:
    return "t,value\n" + "".join(f"{i},{v:g}\n" for i, v in enumerate(values))


def build_state_run(data_root: Path) -> None:
    """Write the 500-bin × 50-node telemetry run under ``<data>/runs/``."""
    rng = np.random.default_rng(7)
    run_dir = data_root / "runs" / RUN_ID
    telemetry = run_dir / "model" / "telemetry"
    telemetry.mkdir(parents=True)
    (run_dir / "series").mkdir()
    topology: list[dict[str, Any]] = []
    for n in range(SERVICES + QUEUES):
        queue = n >= SERVICES
        node_id = f"Queue{n - SERVICES:02d}" if queue else f"Service{n:02d}"
        arrivals = np.round(rng.uniform(80, 200, BINS), 1)
        served = np.round(arrivals * rng.uniform(0.7, 1.0, BINS), 1)
        metrics = {"arrivals": arrivals, "served": served, "errors": np.round(arrivals - served, 1)}
        if queue:
            metrics["queue"] = np.round(rng.uniform(0, 50, BINS), 1)
        else:
            metrics["capacity"] = np.round(rng.uniform(150, 250, BINS), 1)
        semantics: dict[str, Any] = {}
        for metric, values in metrics.items():
            name = f"{node_id}_{metric}.csv"
            (telemetry / name).write_text(_csv(values), encoding="utf-8")
            semantics[metric] = f"file://telemetry/{name}"
        if queue:
            semantics["slaMin"] = 5
        topology.append({"id": node_id, "kind": "queue" if queue else "service", "semantics": semantics})
    model = {
        "schemaVersion": 1,
        "mode": "telemetry",
        "metadata": {"id": "bench-state", "title": "State window benchmark", "version": "1.0.0"},
        "grid": {"bins": BINS, "binSize": 5, "binUnit": "minutes", "startTimeUtc": "2025-01-01T00:00:00Z"},
        "topology": {"nodes": topology},
        "nodes": [{"id": "baseline", "kind": "const", "values": [1.0] * BINS}],
    }
    model_text = yaml.safe_dump(model, sort_keys=False, default_flow_style=None)
    model_hash = "sha256:" + hashlib.sha256(model_text.encode()).hexdigest()
    grid = {"bins": BINS, "binSize": 5, "binUnit": "minutes", "timezone": "UTC", "align": "left"}
    documents: dict[str, Any] = {
        "model/metadata.json": {
            "schemaVersion": 1,
            "templateId": "bench-state",
            "templateTitle": "State window benchmark",
            "templateVersion": "1.0.0",
            "mode": "telemetry",
            "modelHash": model_hash,
        },
        "run.json": {
            "schemaVersion": 1,
            "runId": RUN_ID,
            "engineVersion": "0.1.0",
            "source": "engine",
            "grid": grid,
            "modelHash": model_hash,
            "createdUtc": "2026-01-01T00:00:00Z",
            "warnings": [],
        },
        "model/provenance.json": {"source": "bench"},
        "series/index.json": {"schemaVersion": 1, "grid": grid, "series": []},
    }
    (run_dir / "model" / "model.yaml").write_text(model_text, encoding="utf-8")
    (run_dir / "spec.yaml").write_text(model_text, encoding="utf-8")
    for relative, document in documents.items():
        (run_dir / relative).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def window_urls() -> list[str]:
    urls = [
        f"{BASE}/state_window?startBin={start}&endBin={start + size - 1}"
        for size in WINDOW_BINS
        for start in range(BINS - size + 1)
    ]
    assert len(set(urls)) == len(urls)
    return urls


def state_urls() -> list[str]:
    return [f"{BASE}/state?binIndex={index}" for index in range(0, BINS, STATE_STEP)]


def main() -> None:
    with temp_root("b3") as root:
        setup_django(root)
        from django.test import Client

        from runs.replay import clear_caches
        from runs.replay.loading import clear_run_cache
        from runs.replay.rendered import RENDERED_CACHE

        build_state_run(root / "data")
        client = Client()

        def get(url: str) -> float:
            started = time.perf_counter()
            response = client.get(url)
            body = response.content
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {body[:300]!r}")
            return elapsed

        windows, states = window_urls(), state_urls()
        cold = get(windows[0])  # a fresh process: nothing parsed, rendered or loaded yet
        first = json.loads(client.get(windows[0]).content)
        last = json.loads(client.get(windows[-1]).content)
        assert len(first["nodes"]) == SERVICES + QUEUES, len(first["nodes"])
        assert first["window"] == {"startBin": 0, "endBin": 459, "binCount": 460}, first["window"]
        assert last["window"]["startBin"] == BINS - WINDOW_BINS[1], last["window"]
        shift = last["window"]["startBin"]  # the overlap of two windows holds the same numbers
        overlap = first["nodes"][0]["series"]["served"][shift:]
        assert overlap == last["nodes"][0]["series"]["served"][: len(overlap)]
        size = len(client.get(windows[0]).content)

        # Scrubbing: window and bin requests interleaved, each one asked once.
        window_times: list[float] = []
        state_times: list[float] = []
        for n in range(max(len(windows), len(states))):
            if n < len(windows):
                window_times.append(get(windows[n]))
            if n < len(states):
                state_times.append(get(states[n]))

        # Each cache's worth, and the baseline: the same windows, each asked warm and then with one
        # cache (or every cache) emptied just before it, interleaved so that machine load hits all alike.
        # Warm comes last: the request before it has refilled whatever was emptied.
        conditions: dict[str, Callable[[], None]] = {
            "loaded runs": clear_run_cache,
            "rendered series": RENDERED_CACHE.clear,
            "every cache": clear_caches,
            "warm": lambda: None,
        }
        variant: dict[str, list[float]] = {name: [] for name in conditions}
        for url in windows[:: max(1, len(windows) // VARIANT_SAMPLES)][:VARIANT_SAMPLES]:
            for name, empty in conditions.items():
                empty()
                variant[name].append(get(url))
        state_variant: dict[str, list[float]] = {"every cache": [], "warm": []}
        for url in states[:: max(1, len(states) // BASELINE_SAMPLES)][:BASELINE_SAMPLES]:
            for name in state_variant:
                conditions[name]()
                state_variant[name].append(get(url))

    w50, w95 = median(window_times), percentile(window_times, 0.95)
    s50, s95 = median(state_times), percentile(state_times, 0.95)
    p50 = {name: median(samples) for name, samples in variant.items()}
    warm = p50["warm"]
    rereading = p50["every cache"]
    state_warm, rereading_state = (median(state_variant[name]) for name in ("warm", "every cache"))
    log(
        f"B3 cold {ms(cold)}; windows p50 {ms(w50)} p95 {ms(w95)}; /state p50 {ms(s50)} p95 {ms(s95)}; "
        + "; ".join(f"{name} emptied {ms(value)}" for name, value in p50.items())
        + f"; /state warm {ms(state_warm)}, every cache emptied {ms(rereading_state)}"
    )
    speedup = rereading / warm
    emit(
        [
            Figure(
                "B3a",
                f"scrubbing: state_window of {len(window_times)} different 460/459-bin windows × 50 nodes "
                f"(test Client, {size / 1e6:.1f} MB body) p50 {ms(w50)}, p95 {ms(w95)} "
                f"(cold first request {ms(cold)})",
                "p50 ≤ 8 ms, p95 ≤ 15 ms",
                w50 <= WINDOW_P50 and w95 <= WINDOW_P95,
                note=(
                    f"B3a, what each cache buys ({VARIANT_SAMPLES} windows, each asked warm ({ms(warm)} p50) "
                    f"and with one cache emptied just before it): loaded-run cache {ms(p50['loaded runs'])} "
                    f"= {p50['loaded runs'] / warm:.1f}× warm, rendered-series cache "
                    f"{ms(p50['rendered series'])} = {p50['rendered series'] / warm:.1f}×, every cache "
                    f"(parsed CSVs and documents too; the B3b baseline) {ms(rereading)} = {speedup:.1f}×"
                ),
            ),
            Figure(
                "B3b",
                f"a warm window ({ms(warm)}) is {speedup:.1f}× faster than the same window re-reading every "
                f"CSV and document ({ms(rereading)}, all caches emptied before it; interleaved)",
                "≥ 5×",
                speedup >= 5,
            ),
            Figure(
                "B3c",
                f"scrubbing: /state of {len(state_times)} different bins × 50 nodes p50 {ms(s50)}, "
                f"p95 {ms(s95)}; warm {rereading_state / state_warm:.1f}× faster than re-reading every file "
                f"({ms(rereading_state)} vs {ms(state_warm)}, interleaved)",
                "p50 ≤ 8 ms, p95 ≤ 15 ms",
                s50 <= WINDOW_P50 and s95 <= WINDOW_P95,
            ),
        ]
    )


if __name__ == "__main__":
    main()
