"""Canonical run directories: ids, hashes, the writer, atomic publication and the tolerant reader (spec 03).

Pure Python and numpy; no Django.
"""

from runs.artifacts.documents import get_key, load_model_mapping, read_json_file
from runs.artifacts.hashes import input_hash, input_hash_document, model_hash, scenario_hash
from runs.artifacts.ids import (
    RUN_ID_PATTERN,
    component_id_for,
    deterministic_run_id,
    is_valid_run_id,
    random_run_id,
    series_id_for,
)
from runs.artifacts.metadata import derive_metadata, manifest_provenance
from runs.artifacts.reader import (
    HashCheck,
    RunSummary,
    VerifyReport,
    capture_warnings,
    is_run_dir,
    iso_duration,
    iter_run_dirs,
    model_file_for,
    read_run_summary,
    verify_run,
)
from runs.artifacts.run_store import (
    STAGING_DIR_NAME,
    PublishResult,
    Stage,
    atomic_exchange_available,
    clean_stale_staging,
    delete_run_dir,
    find_reusable_run,
    publish_dir,
    publish_run,
    read_snapshot,
    run_version,
    snapshot_of_run,
    staged_dir,
    staged_run,
)
from runs.artifacts.series_csv import format_values, series_csv_bytes, series_csv_text
from runs.artifacts.writer import (
    GridInfo,
    RunContent,
    WrittenRun,
    metadata_document,
    restamp_run_id,
    write_run_files,
)

__all__ = [
    "RUN_ID_PATTERN",
    "STAGING_DIR_NAME",
    "GridInfo",
    "HashCheck",
    "PublishResult",
    "RunContent",
    "RunSummary",
    "Stage",
    "VerifyReport",
    "WrittenRun",
    "atomic_exchange_available",
    "capture_warnings",
    "clean_stale_staging",
    "component_id_for",
    "delete_run_dir",
    "derive_metadata",
    "deterministic_run_id",
    "find_reusable_run",
    "format_values",
    "get_key",
    "input_hash",
    "input_hash_document",
    "is_run_dir",
    "is_valid_run_id",
    "iso_duration",
    "iter_run_dirs",
    "load_model_mapping",
    "manifest_provenance",
    "metadata_document",
    "model_file_for",
    "model_hash",
    "publish_dir",
    "publish_run",
    "random_run_id",
    "read_json_file",
    "read_run_summary",
    "read_snapshot",
    "restamp_run_id",
    "run_version",
    "scenario_hash",
    "series_csv_bytes",
    "series_csv_text",
    "series_id_for",
    "snapshot_of_run",
    "staged_dir",
    "staged_run",
    "verify_run",
    "write_run_files",
]
