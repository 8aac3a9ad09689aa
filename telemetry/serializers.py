"""Bodies of /v1/captures, and the shape checks of ``POST /v1/captures``."""

from __future__ import annotations

from runs.canonical import format_timestamp
from runs.serializers import (
    CaptureOnDemandOptionsSerializer,
    JsonBooleanField,
    JsonPathField,
    StrictSerializer,
)
from telemetry.manifest import CaptureManifest, plan_warning
from telemetry.models import Capture
from telemetry.shapes import CaptureListItem, CaptureResponse


def capture_body(capture_id: str, manifest: CaptureManifest) -> CaptureResponse:
    """One capture as the API shows it (POST, dry run and GET alike), built from its manifest.

    Nulls are written (the API's wire style), where the manifest file omits them (spec 04 §2.3).
    """
    document = manifest.document
    provenance = document.get("provenance") or {}
    window = document.get("window")
    return {
        "captureId": capture_id,
        "sourceRunId": provenance.get("runId"),
        # Relative to <data>/telemetry, the form telemetry.captureDirectory of POST /v1/runs takes.
        "captureDirectory": capture_id,
        "grid": {"bins": manifest.bins, "binSize": manifest.bin_size, "binUnit": manifest.bin_unit},
        "window": (
            {"startTimeUtc": window.get("startTimeUtc"), "durationMinutes": window.get("durationMinutes")}
            if isinstance(window, dict)
            else None
        ),
        "files": [
            {"path": f.path, "nodeId": f.node_id, "metric": f.metric, "points": f.points, "hash": f.hash}
            for f in manifest.files
        ],
        "warnings": [plan_warning(warning) for warning in manifest.warnings],
        "createdUtc": provenance.get("capturedAtUtc"),
    }


def capture_list_item(row: Capture) -> CaptureListItem:
    return {
        "captureId": row.capture_id,
        "sourceRunId": row.source_run_id or None,
        "templateId": row.template_id or None,
        "captureDirectory": row.capture_id,
        "createdUtc": format_timestamp(row.created_utc) if row.created_utc is not None else None,
        "startUtc": format_timestamp(row.start_utc) if row.start_utc is not None else None,
        "bins": row.bins,
        "binSize": row.bin_size,
        "binUnit": row.bin_unit,
        "fileCount": row.file_count,
        "warningCount": row.warning_count,
    }


class CaptureOptionsSerializer(CaptureOnDemandOptionsSerializer):
    """The gap options of ``telemetry.captureOptions``, and whether to replace or only plan."""

    overwriteExisting = JsonBooleanField(required=False, default=False)
    dryRun = JsonBooleanField(required=False, default=False)


class CaptureCreateSerializer(StrictSerializer):
    """Shape checks only; the id rules and everything about the run live in the service."""

    runId = JsonPathField(trim_whitespace=False, min_length=1, max_length=1000)
    # Absent or null: the run id. Blank is refused like any other name that cannot be a directory.
    captureId = JsonPathField(
        trim_whitespace=False,
        required=False,
        allow_null=True,
        min_length=1,
        default=None,
        max_length=1000,
    )
    options = CaptureOptionsSerializer(required=False, allow_null=True)
