"""Writes to the run index. The index mirrors disk: every function here reads the run directory first."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from runs import artifacts
from runs.errors import PruneRefused
from runs.index_rows import RowResult, index_row_fields, index_row_fields_of, index_rows_for
from runs.models import Run
from runs.storage import data_root


def run_is_indexed(*, run_id: str) -> bool:
    return Run.objects.filter(run_id=run_id).exists()


def run_index_refresh(*, run_id: str) -> Run | None:
    """Make the row for ``run_id`` match its directory: upsert it, or delete it if the run is gone.

    Returns the row, or ``None`` when there is no valid run directory.
    """
    if not artifacts.is_valid_run_id(run_id):
        return None
    run_dir = data_root() / "runs" / run_id
    if not artifacts.is_run_dir(run_dir):
        if not run_row_delete_if_absent(run_id=run_id):
            return run_index_refresh(run_id=run_id)  # published meanwhile
        return None
    fields = index_row_fields(data_root(), run_id)
    row, _ = Run.objects.update_or_create(run_id=run_id, defaults=fields)
    return row


@dataclass(frozen=True)
class WrittenDir:
    """What identifies the directory a create wrote: its inode (kept by the publishing rename) and the
    bytes of its run.json (which name the run and its creation second)."""

    device: int
    inode: int
    run_json: bytes


def written_dir(run_dir: Path) -> WrittenDir:
    st = os.stat(run_dir)
    return WrittenDir(st.st_dev, st.st_ino, (run_dir / "run.json").read_bytes())


def run_index_written(*, run_id: str, body: Mapping[str, Any], written: WrittenDir) -> Run | None:
    """Index a run this process just published from the RunResponse it built, without reading the run
    back; the same row ``run_index_refresh`` would compute. When the published directory is no longer
    the one written (replaced or deleted meanwhile), the row is refreshed from disk instead."""

    def ours() -> bool:
        try:
            return written_dir(data_root() / "runs" / run_id) == written
        except OSError:
            return False

    if not artifacts.is_valid_run_id(run_id) or not artifacts.read_snapshot(
        data_root() / "runs", run_id, ours
    ):
        return run_index_refresh(run_id=run_id)
    row, _ = Run.objects.update_or_create(run_id=run_id, defaults=index_row_fields_of(body, run_id))
    return row


def run_row_delete_if_absent(*, run_id: str) -> bool:
    """Delete the row of ``run_id`` if its run is absent at this moment; False when the run (re)appeared.

    A writer that publishes while this runs indexes after its rename, so checking again after the
    delete is enough: a row deleted in between is written back by the caller's refresh.
    """
    run_dir = data_root() / "runs" / run_id
    if artifacts.is_run_dir(run_dir):
        return False
    Run.objects.filter(run_id=run_id).delete()
    return not artifacts.is_run_dir(run_dir)


@dataclass(frozen=True)
class ReindexResult:
    indexed: int
    skipped: list[tuple[str, str]]
    pruned: int
    stale_staging_removed: int
    dry_run: bool


# Below this many runs, worker processes cost more to start than they save.
PARALLEL_THRESHOLD = 400
CHUNK = 250


def _row_results(data_root: Path, run_ids: list[str], workers: int) -> Iterator[list[RowResult]]:
    """Index rows in chunks, in order; computed in worker processes for large trees (parsing each
    run's model is CPU-bound, so cores help and threads would not)."""
    chunks = [run_ids[i : i + CHUNK] for i in range(0, len(run_ids), CHUNK)]
    if workers <= 1 or len(run_ids) < PARALLEL_THRESHOLD:
        for chunk in chunks:
            yield index_rows_for(data_root, chunk)
        return
    # spawn: workers import only the pure modules they need, never a copy of Django's connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(index_rows_for, [data_root] * len(chunks), chunks)


def runs_reindex(
    *,
    prune: bool = False,
    dry_run: bool = False,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> ReindexResult:
    """Rebuild index rows from every run directory (idempotent). ``prune`` drops rows without a dir;
    it refuses (``PruneRefused``) when the data root holds no run while rows exist, unless ``force``."""
    root_dir = data_root()
    root = root_dir / "runs"
    run_ids = [path.name for path in artifacts.iter_run_dirs(root)] if root.exists() else []
    if prune and not force and not run_ids and Run.objects.exists():
        # An unmounted volume or a mistyped FLOWTIME_DATA_DIR looks exactly like this; pruning would
        # empty an index that other hosts share.
        raise PruneRefused(
            f"The data root has no runs but the index has {Run.objects.count()} rows; "
            "check FLOWTIME_DATA_DIR, or pass --force to prune them all."
        )
    removed_staging = 0 if dry_run else artifacts.clean_stale_staging(root)
    total = len(run_ids)
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    done = 0
    for chunk in _row_results(root_dir, run_ids, workers or os.cpu_count() or 1):
        rows = []
        for run_id, fields, reason in chunk:
            if fields is None:
                skipped.append((run_id, reason or "not a run"))
                if not dry_run:  # the detail refuses it too: a row would list what cannot be served
                    Run.objects.filter(run_id=run_id).delete()
            else:
                seen.add(run_id)
                rows.append(Run(run_id=run_id, **fields))
        if rows and not dry_run:
            _upsert(rows)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    indexed = len(seen)
    pruned = 0
    if prune:
        gone = sorted(set(Run.objects.values_list("run_id", flat=True)) - seen)
        for run_id in gone:
            # Conditional, one row at a time: a run published since the scan above keeps its row.
            if dry_run:
                pruned += not artifacts.is_run_dir(root / run_id)
            elif run_row_delete_if_absent(run_id=run_id):
                pruned += 1
            else:
                run_index_refresh(run_id=run_id)
    return ReindexResult(indexed, skipped, pruned, removed_staging, dry_run)


UPDATED_FIELDS = [f.name for f in Run._meta.fields if f.name != "run_id"]


def _upsert(rows: list[Run]) -> None:
    with transaction.atomic():
        Run.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["run_id"], update_fields=UPDATED_FIELDS
        )
