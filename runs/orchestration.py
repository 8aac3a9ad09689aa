"""The orchestration service: the one path from a run request to a published, indexed run (spec 05 §1).

The API, the admin and ``manage.py create_run`` all call ``plan_run`` / ``create_run`` / ``load_run``,
so they cannot drift. Disk first, then the row: a run exists once its directory has been renamed into
place; the index row follows and can always be rebuilt from disk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db import DatabaseError

from runs import artifacts, engine
from runs.errors import (
    FlowtimeError,
    InvalidRequest,
    Issue,
    RunCancelled,
    RunInvalid,
    RunNotFound,
)
from runs.observability import log_event, timed
from runs.replay.run_response import staged_run_response
from runs.run_builder import existing_target, grid_of, publish_new_run, series_of
from runs.storage import data_root, runs_root
from runs.version import package_version
from templates_catalog.generation import GeneratedModel, generate_model
from templates_catalog.selectors import template_get

if TYPE_CHECKING:
    from runs.services import WrittenDir
    from runs.shapes import RunResponse

STAGES: tuple[str, ...] = (
    "validate",
    "resolve_template",
    "generate_model",
    "resolve_telemetry",
    "capture",
    "evaluate",
    "write_artifacts",
    "publish",
    "index",
)


IdKind = Literal["deterministic", "explicit", "random"]
ProgressSink = Callable[[str, str], None]


class CancelToken:
    """Set from another thread (a signal handler, a disconnect) to stop a run between stages."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise RunCancelled()


@dataclass(frozen=True)
class TelemetrySpec:
    """Where a telemetry run's capture comes from: exactly one of ``capture_directory`` (an existing
    capture) and ``source_run_id`` (a run captured on demand with ``capture_options``)."""

    capture_directory: str | None = None
    bindings: Mapping[str, str] = field(default_factory=dict)
    source_run_id: str | None = None
    capture_options: Any | None = None  # telemetry.capture.CaptureOptions; only with source_run_id


@dataclass(frozen=True)
class RunRequest:
    """What a caller asks for; validated by ``plan_run``. ``capture_base`` is where relative capture
    directories resolve: ``<data>/telemetry`` for the API, the working directory for the CLI."""

    template_id: str
    mode: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    telemetry: TelemetrySpec | None = None
    deterministic_run_id: bool = False
    run_id: str | None = None
    overwrite: bool = False
    seed: int | None = None
    dry_run: bool = False
    capture_base: Path | None = None
    provenance: Mapping[str, Any] | None = None  # a supplied provenance document wins (spec 03 §3.3)


@dataclass(frozen=True)
class RunPlan:
    request: RunRequest
    template_id: str
    template_title: str
    template_version: str
    mode: str
    generated: GeneratedModel
    input_hash: str
    id_kind: IdKind
    predicted_run_id: str | None
    telemetry: Any | None = None  # telemetry.bundle.ResolvedCapture when mode is telemetry
    prepared: Any | None = None  # telemetry.bundle.PreparedTelemetry: the rewritten model
    on_demand: Any | None = None  # telemetry.services.OnDemandCapture for telemetry.sourceRunId

    @property
    def model_text(self) -> str:
        return str(self.prepared.model_text) if self.prepared is not None else self.generated.text

    @property
    def tree(self) -> Mapping[str, Any]:
        return self.prepared.tree if self.prepared is not None else self.generated.tree

    @property
    def model(self) -> engine.Model:
        return self.prepared.model if self.prepared is not None else self.generated.model

    @property
    def operations(self) -> list[str]:
        ops = ["generate_model"]
        if self.on_demand is not None:
            ops.append("capture")
        if self.telemetry is not None:
            ops.append("verify_capture")
        return [*ops, "evaluate", "write_artifacts", "publish", "index"]


@dataclass(frozen=True)
class RunOutcome:
    """What ``create_run`` did. For a dry run ``plan`` is set, nothing was written, and ``run_id`` is
    the predicted id (empty when the id would be random)."""

    run_id: str
    was_reused: bool
    input_hash: str
    mode: str
    template_id: str
    # The RunResponse built in memory from what this call published; None for a reused run.
    body: RunResponse | None = None
    plan: RunPlan | None = None

    @property
    def is_dry_run(self) -> bool:
        return self.plan is not None


def _normalise_mode(value: str | None) -> str | None:
    if value is None:
        return None
    mode = value.strip().lower()
    if mode not in {"simulation", "telemetry"}:
        raise InvalidRequest(
            f"mode must be 'simulation' or 'telemetry', got '{value}'.",
            errors=[Issue("invalid_request", "mode", "must be 'simulation' or 'telemetry'")],
        )
    return mode


def _check_options(request: RunRequest) -> IdKind:
    if request.seed is not None and (
        isinstance(request.seed, bool) or not isinstance(request.seed, int) or request.seed < 0
    ):
        raise InvalidRequest(
            "rng.seed must be an integer ≥ 0.",
            errors=[Issue("invalid_request", "rng.seed", "must be an integer ≥ 0")],
        )
    if request.run_id is not None and request.deterministic_run_id:
        raise InvalidRequest(
            "options.runId cannot be combined with options.deterministicRunId.",
            errors=[Issue("invalid_request", "options.runId", "conflicts with deterministicRunId")],
        )
    if request.run_id is not None:
        if not artifacts.is_valid_run_id(request.run_id):
            raise InvalidRequest(
                "options.runId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$.",
                errors=[Issue("invalid_request", "options.runId", "does not match the run id pattern")],
            )
        return "explicit"
    return "deterministic" if request.deterministic_run_id else "random"


def _check_telemetry_source(spec: TelemetrySpec) -> None:
    """Exactly one of ``captureDirectory`` and ``sourceRunId``; capture options only with the latter."""
    if (spec.capture_directory is None) == (spec.source_run_id is None):
        raise InvalidRequest(
            "telemetry needs exactly one of captureDirectory and sourceRunId.",
            errors=[Issue("invalid_request", "telemetry", "exactly one of captureDirectory and sourceRunId")],
        )
    if spec.capture_options is not None and spec.source_run_id is None:
        raise InvalidRequest(
            "telemetry.captureOptions applies only to a capture made from telemetry.sourceRunId.",
            errors=[Issue("invalid_request", "telemetry.captureOptions", "needs telemetry.sourceRunId")],
        )


def plan_run(request: RunRequest, *, progress: ProgressSink | None = None) -> RunPlan:
    """Validate everything a real run would and work out its id and hashes; writes nothing."""
    report = progress or (lambda stage, detail: None)
    report("validate", "checking the request")
    mode_override = _normalise_mode(request.mode)
    id_kind = _check_options(request)

    report("resolve_template", request.template_id)
    template = template_get(template_id=request.template_id)

    mode = mode_override or ("telemetry" if request.telemetry is not None else "simulation")
    if mode == "telemetry" and request.telemetry is None:
        raise InvalidRequest(
            "telemetry.captureDirectory is required in telemetry mode.",
            errors=[Issue("invalid_request", "telemetry.captureDirectory", "required in telemetry mode")],
        )
    if request.telemetry is not None:
        _check_telemetry_source(request.telemetry)

    bindings: dict[str, str] = dict(request.telemetry.bindings) if request.telemetry else {}
    if mode == "telemetry":
        from telemetry.paths import check_relative_path

        # Binding values are paths first: traversal is path_forbidden (spec 04 §1) before any
        # file-name rule of generation can call it binding_invalid.
        for name in sorted(bindings):
            check_relative_path(bindings[name], field=f"telemetry.bindings.{name}", what="Binding")
    report("generate_model", template.id)
    generated = generate_model(
        template,
        parameters=request.parameters,
        mode=mode,
        bindings=bindings or None,
        seed=request.seed,
        max_bins=settings.FLOWTIME_MAX_BINS,
    )

    resolved_capture = None
    prepared = None
    on_demand = None
    if mode == "telemetry" and request.telemetry is not None:
        from telemetry.bundle import grid_key, resolve_capture_for_run

        spec = request.telemetry
        if spec.source_run_id is not None:
            from telemetry.capture import CaptureOptions
            from telemetry.services import on_demand_capture_plan

            report("resolve_telemetry", spec.source_run_id)
            # Captured in memory and checked like a published capture; create_run publishes it.
            on_demand = on_demand_capture_plan(
                source_run_id=spec.source_run_id,
                options=spec.capture_options or CaptureOptions(),
                bindings=bindings,
                expected_grid=grid_key(generated.model),
                overwrite=request.overwrite,
            )
            resolved_capture = on_demand.resolved
        else:
            report("resolve_telemetry", str(spec.capture_directory))
            # After generation (the stage order of spec 05 §1), so the grid check of spec 04 §3.1 step 5
            # is reported together with every other capture problem.
            resolved_capture = resolve_capture_for_run(
                capture_directory=str(spec.capture_directory),
                base=request.capture_base or (data_root() / "telemetry"),
                data_root=data_root(),
                bindings=bindings,
                extra_roots=settings.FLOWTIME_TELEMETRY_ROOTS,
                expected_grid=grid_key(generated.model),
            )
        prepared = resolved_capture.prepare(generated, max_bins=settings.FLOWTIME_MAX_BINS)

    telemetry_part = prepared.input_hash_part if prepared is not None else None
    input_hash = artifacts.input_hash(
        template_id=template.id,
        template_version=template.version,
        mode=mode,
        parameters=generated.parameters,
        telemetry=telemetry_part,
        rng_seed=request.seed if request.seed is not None else generated.model.rng_seed,
        model=None,
    )
    predicted: str | None = None
    if id_kind == "deterministic":
        predicted = artifacts.deterministic_run_id(template.id, input_hash)
    elif id_kind == "explicit":
        predicted = request.run_id
    plan = RunPlan(
        request=request,
        template_id=template.id,
        template_title=template.title,
        template_version=template.version,
        mode=mode,
        generated=generated,
        input_hash=input_hash,
        id_kind=id_kind,
        predicted_run_id=predicted,
        telemetry=resolved_capture,
        prepared=prepared,
        on_demand=on_demand,
    )
    log_event(
        "run_planned",
        runId=predicted,
        templateId=template.id,
        mode=mode,
        inputHash=input_hash,
        code=None,
        durationMs=None,
    )
    return plan


def _existing_run_outcome(plan: RunPlan, run_id: str) -> RunOutcome:
    from runs.services import run_index_refresh, run_is_indexed

    if not run_is_indexed(run_id=run_id):  # published by another host, or its index write failed
        run_index_refresh(run_id=run_id)
    return RunOutcome(
        run_id=run_id,
        was_reused=True,
        input_hash=plan.input_hash,
        mode=plan.mode,
        template_id=plan.template_id,
    )


def _check_target_before_work(plan: RunPlan) -> RunOutcome | None:
    """Answer a replay, or a conflict, before paying for evaluation (publish re-checks atomically)."""
    replay = existing_target(
        runs_root(),
        plan.predicted_run_id,
        id_kind=plan.id_kind,
        overwrite=plan.request.overwrite,
        input_hash=plan.input_hash,
    )
    return _existing_run_outcome(plan, str(plan.predicted_run_id)) if replay else None


def create_run(
    request: RunRequest,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressSink | None = None,
) -> RunOutcome:
    """Make (or replay) the run a request describes. Failure or cancellation leaves nothing behind;
    a dry run (``request.dry_run``) only plans and writes nothing at all."""
    from runs import metrics
    from runs.services import run_index_refresh, run_index_written

    if request.dry_run:
        plan = plan_run(request, progress=progress)
        return RunOutcome(
            run_id=plan.predicted_run_id or "",
            was_reused=False,
            input_hash=plan.input_hash,
            mode=plan.mode,
            template_id=plan.template_id,
            plan=plan,
        )
    report = progress or (lambda stage, detail: None)
    checkpoint = cancel.raise_if_cancelled if cancel is not None else (lambda: None)
    mode_label = (request.mode or ("telemetry" if request.telemetry else "simulation")).strip().lower()
    if mode_label not in {"simulation", "telemetry"}:
        mode_label = "invalid"  # a label value, so request text must not become one
    log_event(
        "run_requested",
        runId=request.run_id,
        templateId=request.template_id,
        mode=mode_label,
        code=None,
        durationMs=None,
    )
    started = time.perf_counter()
    stage_name = "validate"
    stage_started: float | None = None
    # What every event after planning names: the planned id (null only for a random id until it is
    # drawn, at write_artifacts), the resolved template and mode.
    known = {"runId": request.run_id, "templateId": request.template_id}

    def close_stage() -> None:
        nonlocal stage_started
        if stage_started is None:
            return
        seconds = time.perf_counter() - stage_started
        stage_started = None
        metrics.observe_stage(mode=mode_label, stage=stage_name, seconds=seconds)
        log_event(
            "run_stage",
            stage=stage_name,
            runId=known["runId"],
            templateId=known["templateId"],
            mode=mode_label,
            code=None,
            durationMs=round(seconds * 1000, 3),
        )

    def enter(stage: str, detail: str) -> None:
        nonlocal stage_name, stage_started
        close_stage()
        if stage in {"write_artifacts", "publish", "index"}:
            known["runId"] = detail  # these stages are reported with the final run id
        stage_name, stage_started = stage, time.perf_counter()
        report(stage, detail)
        # Once published the run exists (disk is the truth): indexing always completes, so the
        # directory never goes without its row. Before that, each stage starts with a cancel check.
        if stage != "index":
            checkpoint()

    with timed() as clock:
        try:
            plan = plan_run(request, progress=enter)
            mode_label = plan.mode
            known.update(runId=plan.predicted_run_id, templateId=plan.template_id)
            if plan.on_demand is not None:
                from telemetry.services import on_demand_capture_publish

                enter("capture", plan.on_demand.capture_id)
                on_demand_capture_publish(plan.on_demand)
            reused = _check_target_before_work(plan)
            if reused is not None:
                close_stage()
                log_event(
                    "run_reused",
                    runId=reused.run_id,
                    templateId=plan.template_id,
                    mode=plan.mode,
                    code=None,
                    durationMs=round((time.perf_counter() - started) * 1000, 3),
                )
                return reused
            outcome, written = _build_and_publish(plan, enter=enter, checkpoint=checkpoint)
            enter("index", outcome.run_id)
            try:
                if outcome.body is not None and written is not None:
                    # The row comes from the body this call answers, not from reading the run back.
                    run_index_written(run_id=outcome.run_id, body=outcome.body, written=written)
                else:
                    run_index_refresh(run_id=outcome.run_id)
            except DatabaseError as exc:
                # The run is published and complete; only its index row is missing. Reads repair it
                # (GET /v1/runs/{id}, reindex_runs), so the request still succeeds.
                log_event(
                    "run_index_failed",
                    runId=outcome.run_id,
                    templateId=plan.template_id,
                    mode=plan.mode,
                    code="index_failed",
                    error=type(exc).__name__,
                    durationMs=None,
                    level=logging.ERROR,
                )
            close_stage()
        except BaseException as exc:
            if isinstance(exc, FlowtimeError):
                code = exc.code
            else:
                code = "internal_error" if isinstance(exc, Exception) else "interrupted"
            metrics.run_failed(mode=mode_label, template=_template_label(request, stage_name), code=code)
            # A refused request is the client's to fix (warning); anything else is ours (error).
            internal = not isinstance(exc, FlowtimeError) or exc.status >= 500
            log_event(
                "run_failed",
                runId=known["runId"],
                templateId=known["templateId"],
                mode=mode_label,
                code=code,
                stage=stage_name,
                durationMs=round((time.perf_counter() - started) * 1000, 3),
                level=logging.ERROR if internal else logging.WARNING,
            )
            raise
    if not outcome.was_reused:  # another request published the same run first
        metrics.run_created(mode=plan.mode, template=plan.template_id, seconds=clock["ms"] / 1000)
    log_event(
        "run_reused" if outcome.was_reused else "run_created",
        runId=outcome.run_id,
        templateId=plan.template_id,
        mode=plan.mode,
        code=None,
        durationMs=clock["ms"],
    )
    return outcome


def _template_label(request: RunRequest, stage_reached: str) -> str:
    """The metric label for a template: a request's own text only once it named a real template, so
    unknown ids cannot grow the label set without bound."""
    return "unknown" if stage_reached in {"validate", "resolve_template"} else request.template_id


def _run_provenance(plan: RunPlan) -> Mapping[str, Any] | None:
    """The supplied provenance document, else the model's; a run captured on demand also records the
    run it was captured from and the capture id."""
    provenance = plan.request.provenance or plan.tree.get("provenance")
    if plan.on_demand is None:
        return provenance
    return {
        **(dict(provenance) if isinstance(provenance, Mapping) else {}),
        "sourceRunId": plan.on_demand.source_run_id,
        "captureId": plan.on_demand.capture_id,
    }


def _build_and_publish(
    plan: RunPlan, *, enter: Callable[[str, str], None], checkpoint: Callable[[], None]
) -> tuple[RunOutcome, WrittenDir | None]:
    """Publish the run; also returns what identifies the directory written (None when the outcome
    is not what this call wrote)."""
    request = plan.request
    prepared = plan.prepared

    written_series: list[tuple[str, Any]] = []

    def make_content(evaluation: engine.Evaluation, created_utc: datetime) -> artifacts.RunContent:
        written_series[:] = series_of(evaluation)
        return artifacts.RunContent(
            model_text=plan.model_text,
            model_tree=plan.tree,
            model_document=plan.generated.document if prepared is None else None,
            series=written_series,
            grid=grid_of(plan.model),
            run_seed=request.seed,
            model_seed=plan.model.rng_seed,
            warnings=list(prepared.run_warnings) if prepared is not None else [],
            template_id=plan.template_id,
            template_title=plan.template_title,
            template_version=plan.template_version,
            mode=plan.mode,
            input_hash=plan.input_hash,
            parameters=plan.generated.parameters,
            generated_at_utc=created_utc,
            provenance=_run_provenance(plan),
            engine_version=package_version(),
        )

    result = publish_new_run(
        runs_root=runs_root(),
        run_id=plan.predicted_run_id,
        id_kind=plan.id_kind,
        overwrite=request.overwrite,
        input_hash=plan.input_hash,
        model=plan.model,
        make_content=make_content,
        prepare_stage=prepared.copy_into if prepared is not None else None,
        enter=enter,
        cancel=checkpoint,
        describe=lambda stage_dir, run_id: _describe_stage(stage_dir, run_id, written_series),
    )
    body, written = result.description if result.description is not None else (None, None)
    outcome = RunOutcome(
        run_id=result.run_id,
        was_reused=result.was_reused,
        input_hash=plan.input_hash,
        mode=plan.mode,
        template_id=plan.template_id,
        body=body,
    )
    return outcome, written


def _describe_stage(
    stage_dir: Path, run_id: str, written_series: list[tuple[str, Any]]
) -> tuple[RunResponse, WrittenDir]:
    """The RunResponse of the staged run (its series taken from memory) and the identity of its
    directory (kept by the publishing rename)."""
    from runs.services import written_dir

    body = staged_run_response(stage_dir, run_id, written_series=written_series)
    return body, written_dir(stage_dir)


@dataclass(frozen=True)
class RunRecord:
    """A published run as found on disk; ``path`` is relative to the data root."""

    run_id: str
    path: str


def load_run(run_id: str) -> RunRecord | None:
    """The run ``run_id`` from disk (canonical), or ``None``; the index row is made or dropped to match.

    Ids failing the run-id pattern are ``None`` before any disk access. A directory that is not a
    complete run raises ``RunInvalid``.
    """
    from runs.services import run_index_refresh, run_is_indexed

    if not artifacts.is_valid_run_id(run_id):
        return None
    run_dir = runs_root() / run_id
    if not run_dir.is_dir():
        run_index_refresh(run_id=run_id)  # drops a row whose directory is gone
        return None
    if not artifacts.is_run_dir(run_dir):
        raise RunInvalid(
            f"Run '{run_id}' is damaged: run.json, series/index.json and a model file must all be readable."
        )
    if not run_is_indexed(run_id=run_id):
        run_index_refresh(run_id=run_id)  # copied in by hand or written by another host (spec 05 §5)
    return RunRecord(run_id=run_id, path=f"runs/{run_id}")


def delete_run(*, run_id: str) -> None:
    """Delete the run ``run_id``: its directory leaves ``runs/`` in one rename, then its files and its
    index row go. ``RunNotFound`` when there is no such run (of several concurrent deletes, one wins).

    A reader at the same instant sees the whole run or none (spec 03 §7).
    """
    from runs import metrics
    from runs.services import run_index_refresh, run_row_delete_if_absent

    with timed() as clock:
        if not artifacts.is_valid_run_id(run_id):
            raise RunNotFound(run_id[:140])
        if not artifacts.delete_run_dir(runs_root(), run_id):
            run_index_refresh(run_id=run_id)  # a row left by a run deleted elsewhere goes too
            raise RunNotFound(run_id)
        if not run_row_delete_if_absent(run_id=run_id):
            run_index_refresh(run_id=run_id)  # re-created meanwhile: its row stays, up to date
    metrics.run_deleted()
    log_event("run_deleted", runId=run_id, code=None, durationMs=clock["ms"])
