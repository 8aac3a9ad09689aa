"""B3: ``GET /v1/runs/{runId}/state_window`` of 500 bins × 50 topology nodes, warm, vs the same request
re-reading every CSV (the replay caches cleared before each call).

The run is written by hand in the telemetry layout of spec 06 §10, scaled up: 40 services (arrivals,
served, errors, capacity) and 10 queues (arrivals, served, errors, queue, ``slaMin``), each metric a
``file://telemetry/<Node>_<metric>.csv`` under ``model/telemetry/``. Requests go through the whole
HTTP stack in-process (Django test ``Client``), and the body is rendered in full.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.harness import Figure, emit, log, median, ms, percentile, setup_django, temp_root

RUN_ID = "run_bench_state_window"
BINS = 500
SERVICES = 40
QUEUES = 10
SAMPLES = 40
BASELINE_SAMPLES = 30
URL = f"/v1/runs/{RUN_ID}/state_window?startBin=0&endBin={BINS - 1}"


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


def main() -> None:
    with temp_root("b3") as root:
        setup_django(root)
        from django.test import Client

        from runs.replay import clear_caches

        build_state_run(root / "data")
        client = Client()

        def get() -> tuple[float, int]:
            started = time.perf_counter()
            response = client.get(URL)
            body = response.content
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"state_window answered {response.status_code}: {body[:300]!r}")
            return elapsed, len(body)

        cold, size = get()
        body = json.loads(client.get(URL).content)
        assert len(body["nodes"]) == SERVICES + QUEUES and body["window"]["binCount"] == BINS, body["window"]
        for _ in range(5):
            get()
        warm = [get()[0] for _ in range(SAMPLES)]
        rereading: list[float] = []
        for _ in range(BASELINE_SAMPLES):
            clear_caches()
            rereading.append(get()[0])

    warm_p50, warm_p95, baseline_p50 = median(warm), percentile(warm, 0.95), median(rereading)
    log(f"B3 cold {ms(cold)}, warm p50 {ms(warm_p50)} p95 {ms(warm_p95)}, re-reading {ms(baseline_p50)}")
    speedup = baseline_p50 / warm_p50
    emit(
        [
            Figure(
                "B3a",
                f"state_window 500 bins × 50 nodes (test Client, {size / 1e6:.1f} MB body) warm p50 "
                f"{ms(warm_p50)} (p95 {ms(warm_p95)}; cold first request {ms(cold)})",
                "p50 ≤ 50 ms",
                warm_p50 <= 0.050,
            ),
            Figure(
                "B3b",
                f"warm is {speedup:.1f}× faster than re-reading the CSVs per request ({ms(baseline_p50)})",
                "≥ 5×",
                speedup >= 5,
            ),
        ]
    )


if __name__ == "__main__":
    main()
