"""What the run index stores for one run directory, computed from disk alone (no Django).

Kept apart from ``runs.services`` so ``reindex_runs`` can compute rows in worker processes that
never import Django or touch the database; the parent process writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runs import artifacts
from runs.canonical import parse_timestamp
from runs.errors import FlowtimeError
from runs.replay.run_response import published_run_response


@artifacts.snapshot_of_run
def index_row_fields(data_root: Path, run_id: str) -> dict[str, object]:
    """The index row of ``<data_root>/runs/<run_id>``, taken from the very RunResponse that
    ``GET /v1/runs/{runId}`` answers, so the listing and the detail cannot disagree. A run the detail
    refuses (``run_invalid``, ``provenance_mismatch``) raises the same error and gets no row."""
    return index_row_fields_of(published_run_response(data_root, run_id), run_id)


def index_row_fields_of(body: Mapping[str, Any], run_id: str) -> dict[str, object]:
    """The index row of the run whose RunResponse is ``body`` (one reader for the reindex, the refresh
    and the row a create writes from the body it answers)."""
    metadata, grid = body["metadata"], body["grid"]
    created, start = body["createdUtc"], grid["startUtc"]
    return {
        "template_id": metadata["templateId"],
        "template_key": metadata["templateId"].lower(),
        "template_title": metadata["templateTitle"] or "",
        "template_version": metadata["templateVersion"] or "",
        "mode": metadata["mode"],
        "created_utc": parse_timestamp(created) if created else None,
        "start_utc": parse_timestamp(start) if start else None,
        "duration": artifacts.iso_duration(grid["bins"], grid["binSize"], grid["binUnit"]),
        "bins": grid["bins"],
        "bin_size": grid["binSize"],
        "bin_unit": grid["binUnit"],
        "warning_count": len(body["warnings"]),
        "can_replay": body["canReplay"],
        "provenance_hash": metadata["provenanceHash"] or "",
        "input_hash": body["inputHash"] or "",
        "path": f"runs/{run_id}",
    }


RowResult = tuple[str, dict[str, object] | None, str | None]


def index_rows_for(data_root: Path, run_ids: Sequence[str]) -> list[RowResult]:
    """``(run_id, fields, None)`` per run, or ``(run_id, None, reason)`` for one that is skipped."""
    results: list[RowResult] = []
    for run_id in run_ids:
        if not artifacts.is_valid_run_id(run_id):
            results.append((run_id, None, "directory name is not a valid run id"))
            continue
        try:
            results.append((run_id, index_row_fields(data_root, run_id), None))
        except FlowtimeError as exc:
            results.append((run_id, None, f"{exc.code}: {exc.detail}"))
    return results
