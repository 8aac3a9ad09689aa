"""Staging and atomic publication of run directories (spec 03 §5, §7)."""

from __future__ import annotations

import errno
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from runs.artifacts.documents import get_key, read_json_file
from runs.artifacts.ids import is_valid_run_id, random_run_id
from runs.artifacts.reader import is_run_dir
from runs.artifacts.writer import restamp_run_id
from runs.canonical import normalise_hash
from runs.errors import InvalidRequest, RunExists

STAGING_DIR_NAME = ".staging"
STALE_STAGING_AGE = timedelta(hours=24)
_RANDOM_ID_ATTEMPTS = 20
# rename(2) reports an occupied target directory as EEXIST or ENOTEMPTY (ENOTDIR when it is a file).
_TARGET_TAKEN = {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR}

IdKind = Literal["deterministic", "explicit", "random"]


class Stage:
    """A staging directory under ``<runs_root>/.staging/``; ``published`` once renamed into place."""

    __slots__ = ("path", "published", "runs_root")

    def __init__(self, path: Path, runs_root: Path) -> None:
        self.path = path
        self.runs_root = runs_root
        self.published = False

    def __repr__(self) -> str:
        return f"Stage({self.path.name!r})"


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    run_dir: Path
    was_reused: bool
    replaced: bool


def _remove_quietly(path: Path) -> None:
    # Used only while another error is already propagating (or for garbage): that error matters more,
    # and anything left behind is removed by the 24 h staging cleanup.
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(FileNotFoundError):
            path.unlink()


def clean_stale_staging(runs_root: Path, *, max_age: timedelta = STALE_STAGING_AGE) -> int:
    """Delete ``.staging/`` entries last modified more than ``max_age`` ago; return how many."""
    staging = runs_root / STAGING_DIR_NAME
    if not staging.is_dir():
        return 0
    cutoff = time.time() - max_age.total_seconds()
    removed = 0
    for entry in sorted(staging.iterdir()):
        try:
            modified = entry.lstat().st_mtime
        except FileNotFoundError:
            continue
        if modified < cutoff:
            _remove_quietly(entry)
            removed += 1
    return removed


@contextmanager
def staged_run(runs_root: Path) -> Iterator[Stage]:
    """A fresh ``.staging/<uuid4 hex>/`` for one run; it is deleted on error or if never published."""
    staging = runs_root / STAGING_DIR_NAME
    staging.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(runs_root)
    path = staging / uuid.uuid4().hex
    path.mkdir()
    stage = Stage(path, runs_root)
    try:
        yield stage
    finally:
        if not stage.published:
            _remove_quietly(path)


def existing_input_hash(run_dir: Path) -> str | None:
    """The normalised ``inputHash`` of a published run's model/metadata.json, or ``None``."""
    try:
        metadata = read_json_file(run_dir / "model" / "metadata.json")
    except (OSError, ValueError):
        return None
    return normalise_hash(get_key(metadata, "inputHash"))


def find_reusable_run(runs_root: Path, run_id: str, input_hash: str) -> Path | None:
    """The published run ``run_id`` when its inputHash equals ``input_hash`` (reuse without evaluating)."""
    wanted = normalise_hash(input_hash)
    if wanted is None or not is_valid_run_id(run_id):
        return None
    run_dir = runs_root / run_id
    if not is_run_dir(run_dir):
        return None
    return run_dir if existing_input_hash(run_dir) == wanted else None


def _rename(source: Path, target: Path) -> bool:
    """``os.rename``; False when the target is taken, other errors propagate."""
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno in _TARGET_TAKEN:
            return False
        raise
    return True


def _publish_random(
    stage: Stage, runs_root: Path, run_id: str | None, created_utc: datetime, token: Callable[[], str] | None
) -> PublishResult:
    draw: Callable[[], str] = (
        (lambda: random_run_id(created_utc)) if token is None else (lambda: random_run_id(created_utc, token))
    )
    candidate = run_id or draw()
    stamped = run_id
    for _ in range(_RANDOM_ID_ATTEMPTS):
        if candidate != stamped:
            restamp_run_id(stage.path, candidate)
            stamped = candidate
        target = runs_root / candidate
        if _rename(stage.path, target):
            stage.published = True
            return PublishResult(candidate, target, was_reused=False, replaced=False)
        candidate = draw()
    raise RunExists(candidate, f"No free random run id after {_RANDOM_ID_ATTEMPTS} attempts.")


def _replace(stage: Stage, runs_root: Path, run_id: str) -> PublishResult:
    target = runs_root / run_id
    old = runs_root / STAGING_DIR_NAME / f"{uuid.uuid4().hex}.old"
    try:
        os.rename(target, old)
    except FileNotFoundError:
        # Nothing to replace (any more): publish as a new run.
        if _rename(stage.path, target):
            stage.published = True
            return PublishResult(run_id, target, was_reused=False, replaced=False)
        raise RunExists(run_id) from None
    try:
        moved = _rename(stage.path, target)
    except BaseException:
        os.rename(old, target)
        raise
    if not moved:
        # Another writer published this id between our two renames: its run stays, ours is dropped.
        _remove_quietly(old)
        raise RunExists(run_id)
    stage.published = True
    shutil.rmtree(old)
    return PublishResult(run_id, target, was_reused=False, replaced=True)


def publish_run(
    stage: Stage,
    *,
    runs_root: Path,
    run_id: str | None,
    id_kind: IdKind,
    overwrite: bool,
    input_hash: str | None,
    created_utc: datetime,
    token: Callable[[], str] | None = None,
) -> PublishResult:
    """Move the stage to ``<runs_root>/<runId>`` in one rename, following the table of spec 03 §5.

    ``random`` ids get a fresh suffix (and a re-stamped run.json) while the target exists; a
    deterministic id whose run has the same inputHash is reused and the stage discarded; otherwise an
    occupied id raises ``RunExists`` unless ``overwrite`` asks for an atomic replace.
    """
    if stage.published or not stage.path.is_dir():
        raise ValueError("the stage was already published or removed")
    if run_id is not None and not is_valid_run_id(run_id):
        raise InvalidRequest(f"Run id '{run_id}' is not a valid run id.")
    if id_kind == "random":
        return _publish_random(stage, runs_root, run_id, created_utc, token)
    if run_id is None:
        raise ValueError(f"a {id_kind} run id is required")
    if overwrite:
        return _replace(stage, runs_root, run_id)
    target = runs_root / run_id
    if _rename(stage.path, target):
        stage.published = True
        return PublishResult(run_id, target, was_reused=False, replaced=False)
    wanted = normalise_hash(input_hash)
    if id_kind == "deterministic" and wanted is not None and existing_input_hash(target) == wanted:
        _remove_quietly(stage.path)
        return PublishResult(run_id, target, was_reused=True, replaced=False)
    raise RunExists(run_id)
