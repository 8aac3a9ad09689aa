"""P1: run search against a real peer, MLflow's SQLite tracking store, at 10,000 and 100,000 runs.

The same runs go into both stores: our index rows (``Run``) and MLflow runs whose tags carry the
template id, the mode and whether the run has warnings, with the run's created time as MLflow's
``start_time``. Each query shape asks both for the first page of the 50 newest runs:

- ours through the whole Django/DRF stack (routing, middleware, filters, COUNT, rendering) with the
  test ``Client``, in this process;
- MLflow's ``MlflowClient.search_runs`` on its SQLite store, in this process.

Timings alternate ours/MLflow query by query, so both see the same machine state, and the answers
are checked equal (the same 50 runs in the same order) before anything is timed. MLflow is installed
only by the ``bench`` extra (``pip install -e '.[bench]'``); without it this benchmark reports that.
The MLflow rows are written with SQL into the schema MLflow's own migrations created, because
100,000 ``create_run`` calls would take most of an hour; the searches go through MLflow's API.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.b2_run_list import TEMPLATES, add_rows
from bench.harness import Figure, emit, log, median, ms, setup_django, temp_root
from bench.run_dirs import EPOCH

LEVELS = tuple(int(n) for n in os.environ.get("P1_LEVELS", "10000,100000").split(","))
PAGE_SIZE = 50
REPEATS = 30
TARGET = 10.0

# (label, our query string, MLflow filter string)
SHAPES: tuple[tuple[str, dict[str, str], str], ...] = (
    ("unfiltered", {}, ""),
    (
        "template + mode",
        {"templateId": "order-system", "mode": "telemetry"},
        "tags.templateId = 'order-system' AND tags.mode = 'telemetry'",
    ),
    ("warnings", {"hasWarnings": "true"}, "tags.hasWarnings = 'true'"),
)


def mlflow_uuid(i: int) -> str:
    return f"{i:032x}"


def our_index(run_id: str) -> int:
    return int(run_id.rsplit("_", 1)[1])


def mlflow_store(root: Path) -> tuple[Any, str, Path]:
    """An MLflow client on a fresh SQLite tracking store (schema made by MLflow), and its experiment."""
    from mlflow.tracking import MlflowClient

    db = root / "mlflow.sqlite3"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment_id = client.create_experiment("flowtime-runs", artifact_location=str(root / "mlartifacts"))
    return client, experiment_id, db


def add_mlflow_runs(db: Path, experiment_id: str, start: int, stop: int) -> None:
    """MLflow runs ``start..stop-1`` with the very fields of ``bench.b2_run_list.add_rows``."""
    connection = sqlite3.connect(db)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
    epoch_ms = int(EPOCH.timestamp() * 1000)
    run_rows: list[tuple[Any, ...]] = []
    tag_rows: list[tuple[str, str, str]] = []
    for i in range(start, stop):
        template_id, _ = TEMPLATES[i % len(TEMPLATES)]
        mode = "telemetry" if i % 3 == 0 else "simulation"
        started = epoch_ms + 13_000 * i
        values = {
            "run_uuid": mlflow_uuid(i),
            "name": f"run_row_{i:07d}",
            "source_type": "LOCAL",
            "source_name": "",
            "entry_point_name": "",
            "user_id": "bench",
            "status": "FINISHED",
            "start_time": started,
            "end_time": started + 1000,
            "source_version": "",
            "lifecycle_stage": "active",
            "artifact_uri": f"mlartifacts/{mlflow_uuid(i)}",
            "experiment_id": int(experiment_id),
            "deleted_time": None,
        }
        run_rows.append(tuple(values.get(column) for column in columns))
        tag_rows += [
            ("templateId", template_id, mlflow_uuid(i)),
            ("mode", mode, mlflow_uuid(i)),
            ("hasWarnings", "true" if i % 5 == 0 else "false", mlflow_uuid(i)),
        ]
    placeholders = ", ".join("?" for _ in columns)
    with connection:
        connection.executemany(f"INSERT INTO runs ({', '.join(columns)}) VALUES ({placeholders})", run_rows)
        connection.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tag_rows)
    connection.close()


def ours(client: Any, query: dict[str, str]) -> list[int]:
    response = client.get("/v1/runs", {**query, "pageSize": PAGE_SIZE})
    if response.status_code != 200:
        raise RuntimeError(
            f"GET /v1/runs {query} answered {response.status_code}: {response.content[:300]!r}"
        )
    return [our_index(item["runId"]) for item in response.json()["items"]]


def theirs(client: Any, experiment_id: str, filter_string: str) -> list[int]:
    page = client.search_runs(
        [experiment_id],
        filter_string=filter_string,
        max_results=PAGE_SIZE,
        order_by=["attributes.start_time DESC"],
    )
    return [int(run.info.run_id, 16) for run in page]


def alternate(first: Callable[[], object], second: Callable[[], object]) -> tuple[float, float]:
    """Median seconds of each, timed alternately ``REPEATS`` times after two warm-up rounds."""
    for _ in range(2):
        first()
        second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        first()
        a.append(time.perf_counter() - started)
        started = time.perf_counter()
        second()
        b.append(time.perf_counter() - started)
    return median(a), median(b)


def main() -> None:
    # Benchmarks stay off the network: MLflow would otherwise report usage telemetry.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    try:
        import mlflow
    except ImportError:
        emit([Figure("P1", "MLflow is not installed (pip install -e '.[bench]')", f"≥ {TARGET:.0f}×", False)])
        return
    with temp_root("p1") as root:
        setup_django(root)
        from django.test import Client

        client = Client()
        ml_client, experiment_id, db = mlflow_store(root)
        figures: list[Figure] = []
        made = 0
        for level in LEVELS:
            started = time.perf_counter()
            add_rows(made, level)
            add_mlflow_runs(db, experiment_id, made, level)
            made = level
            log(f"P1 {level} runs in both stores in {time.perf_counter() - started:.1f} s")
            for label, query, filter_string in SHAPES:
                mine, peer = ours(client, query), theirs(ml_client, experiment_id, filter_string)
                if mine != peer or len(mine) != PAGE_SIZE:
                    raise RuntimeError(f"P1 {label}: the answers differ: {mine[:5]}… vs {peer[:5]}…")
                our_s, their_s = alternate(
                    lambda q=query: ours(client, q),  # type: ignore[misc]
                    lambda f=filter_string: theirs(ml_client, experiment_id, f),  # type: ignore[misc]
                )
                ratio = their_s / our_s
                log(f"P1 {level} {label}: ours {ms(our_s)}, MLflow {ms(their_s)}, {ratio:.1f}×")
                figures.append(
                    Figure(
                        f"P1 {level // 1000}k {label}",
                        f"first page of 50: {ratio:.1f}× faster than MLflow {mlflow.__version__} "
                        f"({ms(our_s)} vs {ms(their_s)})",
                        f"≥ {TARGET:.0f}×",
                        ratio >= TARGET,
                    )
                )
        emit(figures)


if __name__ == "__main__":
    main()
