"""B5: ``create_run`` of a 50-node × 10,000-bin model end to end (template → generate → evaluate →
write → publish → index), timed and with its peak RSS, in a child process of its own.

The template is written into a temporary ``FLOWTIME_TEMPLATES_DIR``: nine capacity-limited stages in a
chain (capacity, served, failed, backlog, utilisation each), a sampled PMF, two totals. The request
passes ``bins=10000`` and two 10,000-element arrays, as a client would. Baseline: ``evaluate`` of the
same generated model in the same process (the engine's share of the work).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.harness import (
    PROJECT_DIR,
    PYTHON,
    RESULT_PREFIX,
    Figure,
    bench_env,
    emit,
    log,
    median,
    ms,
    peak_rss_mb,
    temp_root,
)

TEMPLATE_ID = "bench-large"
BINS = 10_000
STAGES = 9
RUNS = 3


def template_yaml() -> str:
    """A catalog template of exactly 50 nodes over ``bins`` (3..10000)."""
    nodes = [
        "  - {id: demand, kind: const, values: '${demand}'}",
        "  - {id: capacity_base, kind: const, values: '${capacity}'}",
        "  - id: reliability\n    kind: pmf\n    sample: true\n"
        "    pmf: {values: [1.0, 0.9, 0.6], probabilities: [0.8, 0.15, 0.05]}",
    ]
    topology: list[str] = []
    edges: list[str] = []
    for k in range(STAGES):
        inflow = "demand" if k == 0 else f"served_{k - 1}"
        nodes += [
            f"  - {{id: cap_{k}, kind: expr, expr: 'capacity_base * reliability * {1 + k / 10:g}'}}",
            f"  - {{id: served_{k}, kind: expr, expr: 'MIN({inflow}, cap_{k})'}}",
            f"  - {{id: failed_{k}, kind: expr, expr: '{inflow} - served_{k}'}}",
            f"  - {{id: backlog_{k}, kind: backlog, inflow: {inflow}, outflow: cap_{k}}}",
            f"  - {{id: util_{k}, kind: expr, expr: 'served_{k} / cap_{k}'}}",
        ]
        topology.append(
            f"    - id: Stage{k}\n      kind: service\n      semantics: {{arrivals: {inflow}, "
            f"served: served_{k}, errors: failed_{k}, capacity: cap_{k}}}"
        )
        if k:
            edges.append(f"    - {{id: s{k - 1}_to_s{k}, from: 'Stage{k - 1}:out', to: 'Stage{k}:in'}}")
    failed_sum = " + ".join(f"failed_{k}" for k in range(STAGES))
    nodes += [
        f"  - {{id: total_failed, kind: expr, expr: '{failed_sum}'}}",
        f"  - {{id: end_to_end, kind: expr, expr: 'served_{STAGES - 1} / demand'}}",
    ]
    assert len(nodes) == 50
    return "\n".join(
        [
            "schemaVersion: 1",
            "generator: flowtime-sim",
            "mode: simulation",
            "metadata:",
            f"  id: {TEMPLATE_ID}",
            "  title: Large benchmark model",
            "  version: 1.0.0",
            "window: {start: 2025-01-01T00:00:00Z, timezone: UTC}",
            "parameters:",
            "  - {name: bins, type: integer, default: 6, minimum: 3, maximum: 10000}",
            "  - {name: binSize, type: integer, default: 5, minimum: 1, maximum: 60}",
            "  - {name: demand, type: array, items: {type: number}, default: [100, 150, 200, 180, 120, 8]}",
            "  - {name: capacity, type: array, items: {type: number}, default: [150, 150, 150, 150, 150, 9]}",
            "  - {name: rngSeed, type: integer, default: 42}",
            "grid: {bins: '${bins}', binSize: '${binSize}', binUnit: minutes}",
            "topology:",
            "  nodes:",
            *topology,
            "  edges:",
            *edges,
            "nodes:",
            *nodes,
            "outputs:",
            "  - series: '*'",
            "rng: {kind: pcg32, seed: '${rngSeed}'}",
            "",
        ]
    )


def child() -> None:
    """Runs in the benchmark's own process: warm up, then time ``create_run`` and report peak RSS."""
    import django
    import numpy as np

    django.setup()
    from runs.engine import evaluate
    from runs.orchestration import RunRequest, create_run, plan_run

    create_run(RunRequest(template_id=TEMPLATE_ID))  # warm: catalog scan, imports, DB connection
    rng = np.random.default_rng(5)
    parameters = {
        "bins": BINS,
        "demand": rng.uniform(50, 250, BINS).round(1).tolist(),
        "capacity": rng.uniform(100, 200, BINS).round(1).tolist(),
    }
    request = RunRequest(template_id=TEMPLATE_ID, parameters=parameters)
    rss_before = peak_rss_mb()
    times = []
    stages: dict[str, list[float]] = {}
    for _ in range(RUNS):
        marks: list[tuple[str, float]] = []

        def mark(stage: str, detail: str, marks: list[tuple[str, float]] = marks) -> None:
            marks.append((stage, time.perf_counter()))

        started = time.perf_counter()
        create_run(request, progress=mark)
        finished = time.perf_counter()
        times.append(finished - started)
        # Each stage lasts from its report to the next one's (the last one to the end).
        for (stage, at), (_, until) in zip(marks, [*marks[1:], ("end", finished)], strict=True):
            stages.setdefault(stage, []).append(until - at)
    rss_peak = peak_rss_mb()
    model = plan_run(request).model
    assert len(model.nodes) == 50 and model.grid.bins == BINS
    evaluate_times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        evaluate(model)
        evaluate_times.append(time.perf_counter() - started)
    result = {
        "times": times,
        "stages": {stage: median(values) for stage, values in stages.items()},
        "evaluate": evaluate_times,
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_peak,
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def main() -> None:
    with temp_root("b5") as root:
        templates = root / "templates"
        templates.mkdir()
        (templates / f"{TEMPLATE_ID}.yaml").write_text(template_yaml(), encoding="utf-8")
        env = bench_env(root, FLOWTIME_TEMPLATES_DIR=str(templates))
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "-v0", "--noinput"], cwd=PROJECT_DIR, env=env, check=True
        )
        done = subprocess.run(
            [PYTHON, "-m", "bench.b5_large_run", "--child"],
            cwd=PROJECT_DIR,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        runs = sorted(p for p in (root / "data" / "runs").iterdir() if not p.name.startswith("."))
        run_bytes = sum(f.stat().st_size for f in runs[-1].rglob("*") if f.is_file())
    line = next(x for x in done.stdout.splitlines() if x.startswith(RESULT_PREFIX))
    result = json.loads(line[len(RESULT_PREFIX) :])
    seconds, evaluate_s = median(result["times"]), median(result["evaluate"])
    peak, before = result["rss_peak_mb"], result["rss_before_mb"]
    breakdown = ", ".join(f"{stage} {ms(value)}" for stage, value in result["stages"].items())
    run_times = ", ".join(f"{t:.2f}" for t in result["times"])
    log(f"B5 create_run {run_times} s, evaluate {ms(evaluate_s)}, rss {peak:.0f} MB")
    log(f"B5 stages: {breakdown}")
    emit(
        [
            Figure(
                "B5a",
                f"create_run 50 nodes × 10,000 bins end to end {seconds:.2f} s (median of {RUNS}) = "
                f"{seconds / evaluate_s:.0f}× its evaluation alone ({ms(evaluate_s)}); "
                f"run dir {run_bytes / 1e6:.1f} MB",
                "≤ 0.35 s",
                seconds <= 0.35,
                note=f"stages (median): {breakdown}",
            ),
            Figure(
                "B5b",
                f"peak RSS of the process {peak:.0f} MB ({peak - before:+.0f} MB over the "
                f"{before:.0f} MB after Django setup + warm-up + request)",
                "≤ 150 MB",
                peak <= 150,
            ),
        ]
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        child()
    else:
        main()
