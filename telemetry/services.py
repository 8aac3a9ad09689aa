"""Telemetry writes that touch the run index: a model-file bundle, published and then indexed."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from runs.services import run_index_refresh
from runs.storage import data_root
from runs.version import package_version
from telemetry.bundle import BundleOutcome, bundle_model_file_run, resolve_capture_for_run


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
