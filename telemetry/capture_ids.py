"""Capture ids: the name of a capture directory directly under ``<data>/telemetry`` (spec 04 §1).

A capture id is one path segment obeying the relative-file-path rule of spec 04 §1 (no ``/``, ``\\``,
``:``, NUL, no ``.``/``..``), and it may not start with ``.``: dot names belong to the staging area.
On-demand captures (``telemetry.sourceRunId`` in ``POST /v1/runs``) get an id derived from the source
run id and the capture options, so the same request always names the same capture. Pure Python.
"""

from __future__ import annotations

from runs.canonical import canonical_json, sha256_prefixed
from telemetry.capture import CaptureOptions
from telemetry.paths import relative_path_problem

ON_DEMAND_MARKER = ".ondemand-"


def capture_id_problem(value: object) -> str | None:
    """Why ``value`` cannot name a capture directory, or ``None`` when it can."""
    if not isinstance(value, str) or value == "":
        return "must be a non-empty name"
    if "/" in value:
        return "must be a single name without '/'"
    problem = relative_path_problem(value)
    if problem is not None:
        return problem
    if value.startswith("."):
        return "must not start with '.'"
    return None


def is_valid_capture_id(value: object) -> bool:
    return capture_id_problem(value) is None


def on_demand_capture_id(source_run_id: str, options: CaptureOptions) -> str:
    """``<sourceRunId>.ondemand-<12 hex>``: the hash covers the run id and every capture option."""
    digest = sha256_prefixed(
        canonical_json(
            {"sourceRunId": source_run_id, "gapMode": options.gap_mode, "fillNan": options.fill_nan}
        )
    )
    return f"{source_run_id}{ON_DEMAND_MARKER}{digest.removeprefix('sha256:')[:12]}"
