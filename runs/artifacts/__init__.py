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
from runs.artifacts.publication import (
    PublishResult,
    Stage,
    clean_stale_staging,
    find_reusable_run,
    publish_run,
    staged_run,
)
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
    "GridInfo",
    "HashCheck",
    "PublishResult",
    "RunContent",
    "RunSummary",
    "Stage",
    "VerifyReport",
    "WrittenRun",
    "capture_warnings",
    "clean_stale_staging",
    "component_id_for",
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
    "publish_run",
    "random_run_id",
    "read_json_file",
    "read_run_summary",
    "restamp_run_id",
    "scenario_hash",
    "series_csv_bytes",
    "series_csv_text",
    "series_id_for",
    "staged_run",
    "verify_run",
    "write_run_files",
]
