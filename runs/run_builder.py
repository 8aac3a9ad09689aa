"""The one way a run directory comes to exist: stage → evaluate → write → publish (spec 03 §7).

Used by the orchestration service (catalog runs, both modes) and by the telemetry bundle of model
files, so both get the same staging, atomic publication, replay and conflict rules. Pure Python: no
Django; indexing is the caller's business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from runs import artifacts
from runs.artifacts.run_store import IdKind
from runs.canonical import utc_now_seconds
from runs.engine import Evaluation, Model, evaluate
from runs.errors import RunExists

StageSink = Callable[[str, str], None]


def existing_target(
    runs_root: Path, run_id: str | None, *, id_kind: IdKind, overwrite: bool, input_hash: str
) -> bool:
    """Check the target id before paying for evaluation (publication re-checks atomically).

    True: a deterministic run with these very inputs exists, so it is replayed. False: the id is free,
    drawn later, or will be overwritten. ``RunExists`` otherwise.
    """
    if run_id is None or overwrite or not (runs_root / run_id).exists():
        return False
    if id_kind == "deterministic":
        if artifacts.find_reusable_run(runs_root, run_id, input_hash):
            return True
        raise RunExists(run_id, f"Run '{run_id}' exists with different inputs; pass overwrite to replace it.")
    raise RunExists(run_id)


def publish_new_run(
    *,
    runs_root: Path,
    run_id: str | None,
    id_kind: IdKind,
    overwrite: bool,
    input_hash: str,
    model: Model,
    make_content: Callable[[Evaluation, datetime], artifacts.RunContent],
    prepare_stage: Callable[[Path], None] | None = None,
    enter: StageSink | None = None,
    cancel: Callable[[], None] | None = None,
    describe: Callable[[Path, str], Any] | None = None,
) -> artifacts.PublishResult:
    """Evaluate ``model`` in a fresh staging directory, write the run there and publish it.

    ``prepare_stage`` fills the stage before evaluation (a telemetry run's ``model/telemetry/``, which
    its ``file:`` sources read, confined to the stage). ``enter`` hears each stage; ``cancel`` is
    checked between engine nodes. ``describe(stage_dir, run_id)`` builds the caller's answer from the
    stage before it is published (kept as ``description``), so it is exactly what this call wrote.
    Any failure leaves nothing behind.
    """
    report = enter or (lambda stage, detail: None)
    runs_root.mkdir(parents=True, exist_ok=True)
    created_utc = utc_now_seconds()  # one instant: createdUtc and receivedAtUtc (spec 03 §6)
    final_id = run_id or artifacts.random_run_id(created_utc)
    with artifacts.staged_run(runs_root) as stage:
        if prepare_stage is not None:
            prepare_stage(stage.path)
        report("evaluate", f"{len(model.nodes)} nodes × {model.grid.bins} bins")
        evaluation = evaluate(model, model_dir=stage.path / "model", confine_to=stage.path, cancel=cancel)
        report("write_artifacts", final_id)
        content = make_content(evaluation, created_utc)
        artifacts.write_run_files(stage.path, content, run_id=final_id, created_utc=created_utc)
        description = describe(stage.path, final_id) if describe is not None else None
        report("publish", final_id)
        result = artifacts.publish_run(
            stage,
            runs_root=runs_root,
            run_id=final_id,
            id_kind=id_kind,
            overwrite=overwrite,
            input_hash=input_hash,
            created_utc=created_utc,
        )
    if result.was_reused or result.run_id != final_id:
        return result  # not what this call wrote (a reused run, or a random id drawn again)
    return replace(result, description=description)


def series_of(evaluation: Evaluation) -> list[tuple[str, npt.NDArray[np.float64]]]:
    """Every evaluated node's series, in the model's node order (spec 03 §3.5)."""
    return list(evaluation.series.items())


def grid_of(model: Model) -> artifacts.GridInfo:
    """The grid fields the artifact writer records."""
    return artifacts.GridInfo(
        bins=model.grid.bins, bin_size=model.grid.bin_size, bin_unit=model.grid.bin_unit
    )
