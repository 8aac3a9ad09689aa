"""Writes to the run index. The index mirrors disk: every function here reads the run directory first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from runs import artifacts
from runs.canonical import parse_timestamp
from runs.errors import FlowtimeError
from runs.models import Run


def _data_root() -> Path:
    return Path(settings.FLOWTIME_DATA_DIR)


def _row_fields(run_dir: Path) -> dict[str, object]:
    from runs.replay import can_replay_dir

    summary = artifacts.read_run_summary(run_dir)
    return {
        "template_id": summary.template_id,
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
        "can_replay": can_replay_dir(_data_root(), run_dir.name),
        "provenance_hash": summary.provenance_hash or "",
        "input_hash": summary.input_hash or "",
        "path": f"runs/{run_dir.name}",
    }


def run_is_indexed(*, run_id: str) -> bool:
    return Run.objects.filter(run_id=run_id).exists()


def run_index_refresh(*, run_id: str) -> Run | None:
    """Make the row for ``run_id`` match its directory: upsert it, or delete it if the run is gone.

    Returns the row, or ``None`` when there is no valid run directory.
    """
    if not artifacts.is_valid_run_id(run_id):
        return None
    run_dir = _data_root() / "runs" / run_id
    if not artifacts.is_run_dir(run_dir):
        Run.objects.filter(run_id=run_id).delete()
        return None
    fields = _row_fields(run_dir)
    fields["template_key"] = str(fields["template_id"]).lower()
    row, _ = Run.objects.update_or_create(run_id=run_id, defaults=fields)
    return row


@dataclass(frozen=True)
class ReindexResult:
    indexed: int
    skipped: list[tuple[str, str]]
    pruned: int
    stale_staging_removed: int
    dry_run: bool


BATCH = 500


def runs_reindex(
    *,
    prune: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ReindexResult:
    """Rebuild index rows from every run directory (idempotent). ``prune`` drops rows without a dir."""
    root = _data_root() / "runs"
    removed_staging = 0 if dry_run else artifacts.clean_stale_staging(root)
    run_dirs = list(artifacts.iter_run_dirs(root)) if root.exists() else []
    total = len(run_dirs)
    skipped: list[tuple[str, str]] = []
    pending: list[Run] = []
    seen: set[str] = set()
    indexed = 0
    for i, run_dir in enumerate(run_dirs, start=1):
        if not artifacts.is_valid_run_id(run_dir.name):
            skipped.append((run_dir.name, "directory name is not a valid run id"))
        else:
            try:
                fields = _row_fields(run_dir)
            except FlowtimeError as exc:
                skipped.append((run_dir.name, f"{exc.code}: {exc.detail}"))
            else:
                seen.add(run_dir.name)
                fields["template_key"] = str(fields["template_id"]).lower()
                pending.append(Run(run_id=run_dir.name, **fields))
                indexed += 1
        if len(pending) >= BATCH or (i == total and pending):
            if not dry_run:
                _upsert(pending)
            pending = []
        if progress is not None:
            progress(i, total)
    pruned = 0
    if prune:
        gone = sorted(set(Run.objects.values_list("run_id", flat=True)) - seen)
        pruned = len(gone)
        if not dry_run:
            for start in range(0, len(gone), BATCH):
                Run.objects.filter(run_id__in=gone[start : start + BATCH]).delete()
    return ReindexResult(indexed, skipped, pruned, removed_staging, dry_run)


UPDATED_FIELDS = [f.name for f in Run._meta.fields if f.name != "run_id"]


def _upsert(rows: list[Run]) -> None:
    with transaction.atomic():
        Run.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["run_id"], update_fields=UPDATED_FIELDS
        )
