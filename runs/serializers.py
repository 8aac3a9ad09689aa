"""Response bodies of /v1/runs, shared by the API and ``create_run --json`` so the two cannot differ."""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers

from runs import artifacts
from runs.canonical import json_ready
from runs.errors import RunNotFound
from runs.orchestration import RunPlan
from runs.storage import data_root


def run_response_body(run_id: str, *, was_reused: bool = False) -> dict[str, Any]:
    """The RunResponse of spec 05 §2, read from one version of the run directory (disk is canonical)."""
    from runs.replay.run_response import published_run_response

    root = data_root()
    return artifacts.read_snapshot(
        root / "runs", run_id, lambda: published_run_response(root, run_id, was_reused=was_reused)
    )


def run_detail_body(run_id: str) -> dict[str, Any]:
    """``GET /v1/runs/{runId}``: the run from disk, its index row made or dropped to match (spec 05 §5),
    all from one version of the run."""
    from runs.orchestration import load_run
    from runs.replay.run_response import published_run_response

    def read() -> dict[str, Any]:
        record = load_run(run_id)
        if record is None:
            raise RunNotFound(run_id[:140])
        return published_run_response(data_root(), record.run_id)

    return artifacts.read_snapshot(data_root() / "runs", run_id, read)


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
            "sourceRunId": plan.on_demand.source_run_id if plan.on_demand is not None else None,
            "deterministicRunId": request.deterministic_run_id,
            "requestedRunId": request.run_id,
            "predictedRunId": plan.predicted_run_id,
            "parameters": json_ready(dict(plan.generated.parameters)),
            "telemetryBindings": dict(request.telemetry.bindings) if request.telemetry else {},
            "files": capture.plan_files() if capture is not None else [],
            "warnings": capture.plan_warnings() if capture is not None else [],
            "operations": plan.operations,
        },
        # FlowTime UI clients type this as a boolean on every run body (spec 07 §8).
        "wasReused": False,
    }


class JsonStringField(serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would quietly turn ``5`` into ``"5"``."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class JsonPathField(JsonStringField):
    """A path-like string. DRF refuses NUL characters with a 400 before any rule of ours runs; for
    paths the contract is 422 ``path_forbidden`` (spec 05 §8), which the path checks give."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class JsonBooleanField(serializers.BooleanField):
    """``true``/``false`` only: DRF's BooleanField also takes ``"yes"``, ``"on"``, ``1``…"""

    default_error_messages = {"invalid": "Must be a JSON boolean (true or false)."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class JsonIntegerField(serializers.IntegerField):
    """A JSON integer: no strings (``"42"``), booleans or floats (``42.0``)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class RunOptionsSerializer(serializers.Serializer):
    deterministicRunId = JsonBooleanField(required=False, default=False)
    runId = JsonStringField(required=False, allow_null=True, default=None, trim_whitespace=False)
    dryRun = JsonBooleanField(required=False, default=False)
    overwriteExisting = JsonBooleanField(required=False, default=False)


class CaptureOnDemandOptionsSerializer(serializers.Serializer):
    gapFillNan = JsonBooleanField(required=False, default=False)
    gapDetect = JsonBooleanField(required=False, default=False)
    gapFillGaps = JsonBooleanField(required=False, default=False)


class TelemetryRequestSerializer(serializers.Serializer):
    """Exactly one of ``captureDirectory`` and ``sourceRunId`` (checked by the service)."""

    captureDirectory = JsonPathField(trim_whitespace=False, required=False, allow_null=True, default=None)
    sourceRunId = JsonPathField(trim_whitespace=False, required=False, allow_null=True, default=None)
    captureOptions = CaptureOnDemandOptionsSerializer(required=False, allow_null=True, default=None)
    bindings = serializers.DictField(
        child=JsonPathField(trim_whitespace=False), required=False, allow_null=True
    )


class RngSerializer(serializers.Serializer):
    # FlowTime UI clients send {"kind": "pcg32", "seed": …}; the only generator is pcg32 (spec 07 §7.5).
    kind = serializers.JSONField(required=False, allow_null=True)
    seed = JsonIntegerField(min_value=0, required=False, allow_null=True)

    def validate_kind(self, value: Any) -> Any:
        if value is not None and not (isinstance(value, str) and value.lower() == "pcg32"):
            raise serializers.ValidationError("rng.kind must be 'pcg32'.", code="invalid")
        return value


class RunCreateSerializer(serializers.Serializer):
    """Shape checks only (JSON types, required keys); every rule about values lives in the service.

    FlowTime UI clients write nulls for absent objects, so ``null`` is accepted wherever the service
    has a default.
    """

    templateId = JsonStringField(max_length=200)
    mode = JsonStringField(required=False, allow_null=True)
    parameters = serializers.DictField(required=False, allow_null=True, default=dict)
    telemetry = TelemetryRequestSerializer(required=False, allow_null=True)
    options = RunOptionsSerializer(required=False, allow_null=True)
    rng = RngSerializer(required=False, allow_null=True)
