"""Response bodies of /v1/runs, shared by the API and ``create_run --json`` so the two cannot differ."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from runs import artifacts
from runs.canonical import json_ready
from runs.orchestration import RunPlan, data_root


def _links(run_id: str, bins: int) -> dict[str, str]:
    base = f"/v1/runs/{run_id}"
    return {
        "self": base,
        "state": f"{base}/state?binIndex=0",
        "stateWindow": f"{base}/state_window?startBin=0&endBin={max(bins - 1, 0)}",
        "index": f"{base}/index",
        "model": f"{base}/model",
    }


def run_response_body(run_id: str, *, was_reused: bool = False) -> dict[str, Any]:
    """The RunResponse of spec 05 §2, read from the run directory (disk is canonical)."""
    from runs.replay import build_metadata, can_replay, load_replay_run, run_warnings

    root = data_root()
    replay_run = load_replay_run(root, run_id)
    summary = artifacts.read_run_summary(root / "runs" / run_id)
    return {
        "isDryRun": False,
        "metadata": build_metadata(replay_run),
        "plan": None,
        "warnings": run_warnings(replay_run),
        "canReplay": can_replay(replay_run),
        "wasReused": was_reused,
        "createdUtc": summary.created_utc,
        "inputHash": summary.input_hash,
        "grid": {
            "bins": summary.bins,
            "binSize": summary.bin_size,
            "binUnit": summary.bin_unit,
            "startUtc": summary.start_utc,
        },
        "links": _links(run_id, summary.bins),
    }


def dry_run_body(plan: RunPlan) -> dict[str, Any]:
    """The 200 body of a dry run (spec 05 §3): what would happen, nothing written."""
    capture = plan.telemetry
    request = plan.request
    return {
        "isDryRun": True,
        "metadata": None,
        "canReplay": False,
        "warnings": [],
        "plan": {
            "templateId": plan.template_id,
            "mode": plan.mode,
            "outputRoot": "runs",
            "captureDirectory": capture.display_path if capture is not None else None,
            "deterministicRunId": request.deterministic_run_id,
            "requestedRunId": request.run_id,
            "predictedRunId": plan.predicted_run_id,
            "parameters": json_ready(dict(plan.generated.parameters)),
            "telemetryBindings": dict(request.telemetry.bindings) if request.telemetry else {},
            "files": capture.plan_files() if capture is not None else [],
            "warnings": capture.plan_warnings() if capture is not None else [],
            "operations": plan.operations,
        },
    }


class RunOptionsSerializer(serializers.Serializer):
    deterministicRunId = serializers.BooleanField(required=False, default=False)
    runId = serializers.CharField(required=False, allow_null=True, default=None, trim_whitespace=False)
    dryRun = serializers.BooleanField(required=False, default=False)
    overwriteExisting = serializers.BooleanField(required=False, default=False)


class TelemetryRequestSerializer(serializers.Serializer):
    captureDirectory = serializers.CharField(trim_whitespace=False)
    bindings = serializers.DictField(child=serializers.CharField(trim_whitespace=False), required=False)


class RngSerializer(serializers.Serializer):
    seed = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class RunCreateSerializer(serializers.Serializer):
    """Shape checks only (types, required keys); every rule about values lives in the service."""

    templateId = serializers.CharField(max_length=200)
    mode = serializers.CharField(required=False, allow_null=True)
    parameters = serializers.DictField(required=False, default=dict)
    telemetry = TelemetryRequestSerializer(required=False, allow_null=True)
    options = RunOptionsSerializer(required=False)
    rng = RngSerializer(required=False, allow_null=True)
