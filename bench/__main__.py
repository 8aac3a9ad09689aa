"""``python -m bench [ID ...]``: run the benchmarks, print one table, record it in docs/performance.md.

Each benchmark runs in a process of its own (its own temporary data root and SQLite DB, its own
memory), one after the other so they do not compete for the cores. With IDs (``B1`` … ``B6``) only
those run and the document is left alone. Exits 1 only when a benchmark itself breaks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.harness import PROJECT_DIR, PYTHON, RESULT_PREFIX, Figure
from bench.report import machine_info, markdown_table, text_table, write_performance_doc

BENCHMARKS = {
    "B1": "bench.b1_run_create",
    "B2": "bench.b2_run_list",
    "B2C": "bench.b2_cursor",
    "B3": "bench.b3_state_window",
    "B4": "bench.b4_engine",
    "B5": "bench.b5_large_run",
    "B6": "bench.b6_reindex",
    "P1": "bench.p1_mlflow",
    "L1": "bench.l1_load",
}
COMMAND = "make bench  # = .venv/bin/python -m bench"


def run_one(bench_id: str, module: str) -> tuple[list[Figure], bool]:
    """The benchmark's figures, and whether it ran to the end."""
    print(f"{bench_id}: {module}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-m", module], cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True, check=False
    )
    print(f"  · {bench_id} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    figures = [
        Figure(**json.loads(line[len(RESULT_PREFIX) :]))
        for line in done.stdout.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
    crashed = done.returncode != 0 or not figures
    if crashed:
        figures.append(
            Figure(bench_id, f"{module} exited with {done.returncode}", "runs to the end", passed=False)
        )
    return figures, not crashed


def main(argv: list[str]) -> int:
    selected = [a.upper() for a in argv] or list(BENCHMARKS)
    unknown = [a for a in selected if a not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    started = time.perf_counter()
    figures: list[Figure] = []
    complete = True
    for bench_id in selected:
        found, ran = run_one(bench_id, BENCHMARKS[bench_id])
        figures.extend(found)
        complete = complete and ran
    total = time.perf_counter() - started
    machine = machine_info()
    print()
    print(text_table(figures))
    met = sum(f.passed for f in figures)
    print(f"\n{met}/{len(figures)} targets met in {total:.0f} s on {machine['summary']}")
    if selected == list(BENCHMARKS):
        path = write_performance_doc(markdown_table(figures), machine, total_seconds=total, command=COMMAND)
        print(f"table written to {path.relative_to(PROJECT_DIR)}")
    # A missed target is a finding (the table says so); only a benchmark that broke fails the command.
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
