"""Prometheus metrics of run creation (spec 05 §9), served as text at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RUNS_CREATED = Counter(
    "flowtime_runs_created_total", "Runs created (published and indexed).", ["mode", "template"]
)
RUNS_FAILED = Counter(
    "flowtime_runs_failed_total", "Run requests that failed, by error code.", ["mode", "template", "code"]
)
RUNS_DELETED = Counter("flowtime_runs_deleted_total", "Runs deleted (directory and index row).")
RUN_CREATE_SECONDS = Histogram(
    "flowtime_run_create_seconds",
    "Time spent creating runs, by mode and stage ('total' for the whole run).",
    ["mode", "stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def run_created(*, mode: str, template: str, seconds: float) -> None:
    RUNS_CREATED.labels(mode=mode, template=template).inc()
    RUN_CREATE_SECONDS.labels(mode=mode, stage="total").observe(seconds)


def run_failed(*, mode: str, template: str, code: str) -> None:
    RUNS_FAILED.labels(mode=mode, template=template, code=code).inc()


def observe_stage(*, mode: str, stage: str, seconds: float) -> None:
    RUN_CREATE_SECONDS.labels(mode=mode, stage=stage).observe(seconds)


def run_deleted() -> None:
    RUNS_DELETED.inc()
