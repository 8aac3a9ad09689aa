"""B6: ``runs_reindex`` (the service behind ``manage.py reindex_runs``) over 10,000 run directories.

The directories are clones of one real ``it-system-microservices`` run (see ``bench.run_dirs``), with
the index emptied first, so every run is read and written. Baseline: only opening and parsing each
run's ``run.json`` and ``model/metadata.json`` (the least any rebuild from disk has to read).
"""

from __future__ import annotations

import json
import time

from bench.harness import Figure, emit, log, setup_django, temp_root
from bench.run_dirs import clone_runs, create_source_run

RUNS = int(__import__("os").environ.get("BENCH_B6_RUNS", "10000"))


def main() -> None:
    with temp_root("b6") as root:
        setup_django(root)
        from runs.models import Run
        from runs.services import runs_reindex
        from runs.storage import runs_root

        started = time.perf_counter()
        source = create_source_run()
        clone_runs(source, runs_root(), RUNS - 1)
        Run.objects.all().delete()
        log(f"B6 {RUNS} run dirs in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        for run_dir in sorted(runs_root().iterdir()):
            if run_dir.name.startswith("."):
                continue
            json.loads((run_dir / "run.json").read_bytes())
            json.loads((run_dir / "model" / "metadata.json").read_bytes())
        baseline = time.perf_counter() - started

        started = time.perf_counter()
        result = runs_reindex()
        seconds = time.perf_counter() - started
        indexed = Run.objects.count()
        if result.indexed != RUNS or indexed != RUNS or result.skipped:
            raise RuntimeError(
                f"reindex indexed {result.indexed} ({indexed} rows), skipped {result.skipped[:3]}"
            )
    log(f"B6 reindex {seconds:.1f} s, reading run.json + metadata.json {baseline:.2f} s")
    emit(
        [
            Figure(
                "B6",
                f"runs_reindex over {RUNS:,} run dirs {seconds:.1f} s ({RUNS / seconds:.0f} runs/s) = "
                f"{seconds / baseline:.0f}× just reading each run.json + metadata.json ({baseline:.2f} s)",
                "≤ 15 s",
                seconds <= 15,
            )
        ]
    )


if __name__ == "__main__":
    main()
