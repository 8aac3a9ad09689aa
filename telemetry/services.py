"""Telemetry writes: captures as a resource (spec 04 §2, over HTTP), the capture index, captures made on
demand for ``POST /v1/runs``, and model-file bundles. Disk first, then the index row.

Every capture publication (API, on-demand, ``telemetry_capture``) goes through ``capture_publish`` and
every deletion through ``capture_delete``: one place turns a capture plan into a directory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from runs import artifacts
from runs.canonical import parse_timestamp
from runs.errors import (
    CaptureError,
    CaptureNotFound,
    FlowtimeError,
    InvalidRequest,
    Issue,
    RunInvalid,
    RunNotFound,
)
from runs.models import Run
from runs.services import ReindexResult, run_index_refresh
from runs.storage import data_root, runs_root
from runs.version import package_version
from telemetry.bundle import (
    BundleOutcome,
    GridKey,
    ResolvedCapture,
    bundle_model_file_run,
    resolve_capture_for_run,
    resolve_planned_capture,
)
from telemetry.capture import (
    CaptureOptions,
    CapturePlan,
    GapMode,
    plan_capture,
    publish_capture,
    withdraw_capture,
)
from telemetry.capture_ids import capture_id_problem, is_valid_capture_id, on_demand_capture_id
from telemetry.manifest import CaptureManifest, parse_manifest
from telemetry.models import Capture
from telemetry.paths import MANIFEST_NAME, read_confined_file


def telemetry_root() -> Path:
    return data_root() / "telemetry"


# --- reading a capture directory ----------------------------------------------------------------


def capture_dir_of(capture_id: str) -> Path | None:
    """``<data>/telemetry/<captureId>`` when it is a real directory (no symlink) holding a manifest."""
    if not is_valid_capture_id(capture_id):
        return None
    path = telemetry_root() / capture_id
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISDIR(info.st_mode) or not os.path.lexists(path / MANIFEST_NAME):
        return None
    return path


def read_capture_manifest(capture_id: str) -> CaptureManifest | None:
    """The parsed manifest of capture ``capture_id``, ``None`` when there is no such capture.

    A manifest that does not validate raises ``capture_invalid`` (or ``path_forbidden``).
    """
    path = capture_dir_of(capture_id)
    if path is None:
        return None
    raw = read_confined_file(path, MANIFEST_NAME, field="captureId")
    return parse_manifest(raw) if raw is not None else None


def planned_manifest(plan: CapturePlan) -> CaptureManifest:
    return parse_manifest(plan.manifest_bytes())


# --- the capture index --------------------------------------------------------------------------


def _source_template(source_run_id: str) -> str:
    """The template of the capture's source run: from the run index, else its directory, else ''."""
    if not artifacts.is_valid_run_id(source_run_id):
        return ""
    indexed = Run.objects.filter(run_id=source_run_id).values_list("template_id", flat=True).first()
    if indexed is not None:
        return indexed
    run_dir = runs_root() / source_run_id
    if not artifacts.is_run_dir(run_dir):
        return ""
    try:
        return artifacts.read_run_summary(run_dir).template_id
    except FlowtimeError:
        return ""


def _timestamp_or_none(value: object) -> object:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def capture_row_fields(capture_id: str, manifest: CaptureManifest) -> dict[str, object]:
    """The index row of one capture, from its manifest (and its source run's template)."""
    provenance = manifest.document.get("provenance") or {}
    run_id = provenance.get("runId")
    source_run_id = run_id if isinstance(run_id, str) else ""
    template_id = _source_template(source_run_id)
    return {
        "source_run_id": source_run_id[:128],
        "template_id": template_id,
        "template_key": template_id.lower(),
        "created_utc": _timestamp_or_none(provenance.get("capturedAtUtc")),
        "start_utc": _timestamp_or_none(manifest.start_time_utc),
        "bins": manifest.bins,
        "bin_size": manifest.bin_size,
        "bin_unit": manifest.bin_unit,
        "file_count": len(manifest.files),
        "warning_count": len(manifest.warnings),
        "manifest_hash": manifest.manifest_hash,
        "path": f"telemetry/{capture_id}",
    }


def capture_index_refresh(*, capture_id: str) -> Capture | None:
    """Make the row of ``capture_id`` match its directory: upsert it, or drop it when the directory is
    gone or its manifest does not validate. Returns the row, or ``None``."""
    try:
        manifest = read_capture_manifest(capture_id)
    except FlowtimeError:
        manifest = None
    if manifest is None:
        Capture.objects.filter(capture_id=capture_id).delete()
        return None
    row, _ = Capture.objects.update_or_create(
        capture_id=capture_id, defaults=capture_row_fields(capture_id, manifest)
    )
    return row


def captures_reindex(
    *, prune: bool = False, dry_run: bool = False, progress: Callable[[int, int], None] | None = None
) -> ReindexResult:
    """Rebuild capture rows from every capture directory under ``<data>/telemetry`` (idempotent).

    Directories without ``manifest.json`` are not captures and are passed over; ``prune`` drops rows
    whose directory is gone.
    """
    root = telemetry_root()
    removed_staging = 0 if dry_run else artifacts.clean_stale_staging(root)
    names = [p.name for p in artifacts.iter_run_dirs(root)] if root.is_dir() else []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for done, name in enumerate(names, start=1):
        problem = capture_id_problem(name)
        if problem is not None:
            skipped.append((name, f"directory name {problem}"))
        else:
            try:
                manifest = read_capture_manifest(name)  # None: no capture directory (no manifest)
            except FlowtimeError as exc:
                skipped.append((name, f"{exc.code}: {exc.detail}"))
            else:
                if manifest is not None:
                    seen.add(name)
                    if not dry_run:
                        Capture.objects.update_or_create(
                            capture_id=name, defaults=capture_row_fields(name, manifest)
                        )
        if progress is not None:
            progress(done, len(names))
    pruned = 0
    if prune:
        gone = sorted(set(Capture.objects.values_list("capture_id", flat=True)) - seen)
        pruned = len(gone)
        if not dry_run:
            Capture.objects.filter(capture_id__in=gone).delete()
    return ReindexResult(len(seen), skipped, pruned, removed_staging, dry_run)


# --- capture, publish, delete -------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureRequest:
    """``POST /v1/captures``: capture run ``run_id`` into ``<data>/telemetry/<capture_id or run_id>``."""

    run_id: str
    capture_id: str | None = None
    options: CaptureOptions = field(default_factory=CaptureOptions)
    overwrite: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class CaptureOutcome:
    capture_id: str
    manifest: CaptureManifest
    dry_run: bool
    replaced: bool


def capture_options(switches: Mapping[str, Any], *, field: str) -> CaptureOptions:
    """The switches of spec 04 §4 from a request body's object at ``field`` (``gapFillNan``,
    ``gapDetect``, ``gapFillGaps``; absent is false). The CLI's "last one wins" has no order in JSON,
    so asking for both gap modes is a conflict (``invalid_request``)."""
    gap_fill_nan = bool(switches.get("gapFillNan", False))
    gap_detect = bool(switches.get("gapDetect", False))
    gap_fill_gaps = bool(switches.get("gapFillGaps", False))
    if gap_detect and gap_fill_gaps:
        raise InvalidRequest(
            f"{field}.gapDetect and {field}.gapFillGaps cannot both be true: "
            "a gap is either reported or filled.",
            errors=[Issue("invalid_request", f"{field}.gapFillGaps", "conflicts with gapDetect")],
        )
    gap_mode: GapMode = "fill_zero" if gap_fill_gaps else "warn" if gap_detect else "ignore"
    return CaptureOptions(gap_mode=gap_mode, fill_nan=gap_fill_nan)


def _source_run_dir(run_id: str) -> Path:
    """The published run a capture reads; ``run_not_found`` for ids failing the pattern (before any
    disk access) and for missing runs, ``run_invalid`` for a damaged directory."""
    from runs.orchestration import load_run

    if not isinstance(run_id, str) or load_run(run_id) is None:
        raise RunNotFound(str(run_id)[:140])
    return runs_root() / run_id


def _capture_exists(capture_id: str, *, hint: str) -> CaptureError:
    # The capture module names absolute paths in its message (right for the CLI, never for the API).
    return CaptureError("capture_exists", f"Capture '{capture_id}' already exists; {hint}")


def _plan(source_run_id: str, capture_id: str, options: CaptureOptions, *, overwrite: bool) -> CapturePlan:
    run_dir = _source_run_dir(source_run_id)
    try:
        return plan_capture(
            run_dir=run_dir,
            data_root=data_root(),
            output_dir=telemetry_root() / capture_id,
            extra_roots=settings.FLOWTIME_TELEMETRY_ROOTS,
            options=options,
            overwrite=overwrite,
        )
    except CaptureError as exc:
        if exc.code == "run_artifact_invalid":
            raise RunInvalid(f"Run '{source_run_id}' is damaged: {exc.detail}") from exc
        if exc.code == "capture_exists":
            raise _capture_exists(
                capture_id, hint="pass options.overwriteExisting to replace it, or choose another captureId."
            ) from exc
        raise


def capture_publish(plan: CapturePlan, *, overwrite: bool) -> None:
    """The one place a capture directory is published (spec 04 §2.4: stage, one rename), by the API and
    ``telemetry_capture`` alike; then its index row, when it lies directly under ``<data>/telemetry``."""
    publish_capture(plan, overwrite=overwrite)
    if plan.output_dir.parent == Path(os.path.realpath(telemetry_root())):
        capture_index_refresh(capture_id=plan.output_dir.name)


def _publish_capture(plan: CapturePlan, *, capture_id: str, overwrite: bool) -> None:
    """``capture_publish`` with the API's wording for ``capture_exists`` (no server path in it)."""
    try:
        capture_publish(plan, overwrite=overwrite)
    except CaptureError as exc:
        if exc.code == "capture_exists":
            raise _capture_exists(
                capture_id,
                hint="another request published it first; pass options.overwriteExisting to replace it.",
            ) from exc
        raise


def _checked_capture_id(value: str | None, *, default: str) -> str:
    capture_id = default if value is None else value
    problem = capture_id_problem(capture_id)
    if problem is not None:
        shown = capture_id[:140] if isinstance(capture_id, str) else capture_id
        raise InvalidRequest(
            f"captureId '{shown}' {problem}.", errors=[Issue("invalid_request", "captureId", problem)]
        )
    return capture_id


def capture_create(request: CaptureRequest) -> CaptureOutcome:
    """Capture a published run (spec 04 §2) into ``<data>/telemetry/<captureId>``; a dry run writes nothing.

    ``run_not_found``, ``run_invalid``, ``capture_exists`` (409 without overwrite), ``invalid_request``
    for a captureId that cannot name a directory, and the capture codes of spec 04.
    """
    if not artifacts.is_valid_run_id(request.run_id):
        raise RunNotFound(str(request.run_id)[:140])
    capture_id = _checked_capture_id(request.capture_id, default=request.run_id)
    plan = _plan(request.run_id, capture_id, request.options, overwrite=request.overwrite)
    manifest = planned_manifest(plan)
    if not request.dry_run:
        _publish_capture(plan, capture_id=capture_id, overwrite=request.overwrite)
    return CaptureOutcome(
        capture_id=capture_id,
        manifest=manifest,
        dry_run=request.dry_run,
        replaced=plan.target_state == "replace" and not request.dry_run,
    )


def capture_delete(*, capture_id: str) -> None:
    """Remove a capture: one rename out of ``<data>/telemetry``, then the files, then the row.

    Runs made from it keep their own copy of its files (``model/telemetry/``) and stay replayable.
    """
    path = capture_dir_of(capture_id)
    if path is None or not withdraw_capture(path):
        if is_valid_capture_id(capture_id):
            capture_index_refresh(capture_id=capture_id)
        raise CaptureNotFound(capture_id[:140])
    Capture.objects.filter(capture_id=capture_id).delete()


# --- captures made on demand by POST /v1/runs --------------------------------------------------


@dataclass(frozen=True)
class OnDemandCapture:
    """The capture a run request asked for by ``telemetry.sourceRunId``.

    ``plan`` is ``None`` when an identical capture (same manifest hash) exists and is reused.
    """

    capture_id: str
    source_run_id: str
    resolved: ResolvedCapture
    plan: CapturePlan | None
    overwrite: bool


def on_demand_capture_plan(
    *,
    source_run_id: str,
    options: CaptureOptions,
    bindings: Mapping[str, str],
    expected_grid: GridKey,
    overwrite: bool = False,
) -> OnDemandCapture:
    """Capture ``source_run_id`` in memory under its deterministic capture id and check it as the bundle
    would; reuse the published capture of that id when its manifest hash is the same. Writes nothing."""
    if not artifacts.is_valid_run_id(source_run_id):
        raise RunNotFound(str(source_run_id)[:140])
    capture_id = on_demand_capture_id(source_run_id, options)
    try:
        existing = read_capture_manifest(capture_id)
    except FlowtimeError:
        existing = None  # a damaged capture: different by definition
    target_taken = os.path.lexists(telemetry_root() / capture_id)
    plan = _plan(source_run_id, capture_id, options, overwrite=overwrite or existing is not None)
    wanted = planned_manifest(plan)
    if existing is not None and existing.manifest_hash == wanted.manifest_hash:
        resolved = resolve_capture_for_run(
            capture_directory=capture_id,
            base=telemetry_root(),
            data_root=data_root(),
            bindings=bindings,
            extra_roots=settings.FLOWTIME_TELEMETRY_ROOTS,
            expected_grid=expected_grid,
        )
        return OnDemandCapture(capture_id, source_run_id, resolved, None, overwrite=False)
    if target_taken and not overwrite:
        raise _capture_exists(
            capture_id,
            hint=(
                f"it differs from a new capture of run '{source_run_id}'; delete it "
                f"(DELETE /v1/captures/{capture_id}) or pass options.overwriteExisting."
            ),
        )
    resolved = resolve_planned_capture(
        capture_dir=plan.output_dir,
        display_path=f"telemetry/{capture_id}",
        manifest=wanted,
        files={f.binding.file_name: f.data for f in plan.files},
        bindings=bindings,
        expected_grid=expected_grid,
    )
    return OnDemandCapture(capture_id, source_run_id, resolved, plan, overwrite=overwrite)


def on_demand_capture_publish(capture: OnDemandCapture) -> None:
    """Publish a planned on-demand capture; one published meanwhile with the same manifest hash is kept."""
    if capture.plan is None:
        return
    try:
        _publish_capture(capture.plan, capture_id=capture.capture_id, overwrite=capture.overwrite)
    except CaptureError as exc:
        if exc.code != "capture_exists":
            raise
        try:
            existing = read_capture_manifest(capture.capture_id)
        except FlowtimeError:
            existing = None
        if existing is None or existing.manifest_hash != capture.resolved.manifest.manifest_hash:
            raise
        capture_index_refresh(capture_id=capture.capture_id)


# --- model-file bundles ------------------------------------------------------------------------


def telemetry_model_run_create(
    *,
    capture_directory: str,
    capture_base: Path,
    model_path: Path,
    provenance_path: Path | None = None,
    run_id: str | None = None,
    deterministic_run_id: bool = False,
    overwrite: bool = False,
) -> BundleOutcome:
    """Bundle a capture with a model file into a run (spec 04 §3), publish it, then index it."""
    root = data_root()
    capture = resolve_capture_for_run(
        capture_directory=capture_directory,
        base=capture_base,
        data_root=root,
        bindings={},
        extra_roots=settings.FLOWTIME_TELEMETRY_ROOTS,
    )
    outcome = bundle_model_file_run(
        capture=capture,
        model_path=model_path,
        data_root=root,
        engine_version=package_version(),
        provenance_path=provenance_path,
        run_id=run_id,
        deterministic_run_id=deterministic_run_id,
        overwrite=overwrite,
        max_bins=settings.FLOWTIME_MAX_BINS,
    )
    run_index_refresh(run_id=outcome.run_id)
    return outcome
