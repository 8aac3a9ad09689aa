"""What the run index stores for one run directory, computed from disk alone (no Django).

Kept apart from ``runs.services`` so ``reindex_runs`` can compute rows in worker processes that
never import Django or touch the database; the parent process writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runs import artifacts
from runs.canonical import parse_timestamp
from runs.errors import FlowtimeError
from runs.replay import can_replay_dir


@artifacts.snapshot_of_run
def index_row_fields(data_root: Path, run_id: str) -> dict[str, object]:
    """The index row of ``<data_root>/runs/<run_id>``; ``RunInvalid`` when it is not a run."""
    summary = artifacts.read_run_summary(data_root / "runs" / run_id)
    return {
        "template_id": summary.template_id,
        "template_key": summary.template_id.lower(),
        "template_title": summary.template_title or "",
        "template_version": summary.template_version or "",
        "mode": summary.mode,
        "created_utc": parse_timestamp(summary.created_utc) if summary.created_utc else None,
        "start_utc": parse_timestamp(summary.start_utc) if summary.start_utc else None,
        "duration": summary.duration or "",
        "bins": summary.bins,
        "bin_size": summary.bin_size,
        "bin_unit": summary.bin_unit,
        "warning_count": summary.warning_count,
        "can_replay": can_replay_dir(data_root, run_id),
        "provenance_hash": summary.provenance_hash or "",
        "input_hash": summary.input_hash or "",
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
