"""Response bodies of /v1/runs, shared by the API and ``create_run --json`` so the two cannot differ."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from runs import artifacts, shapes
from runs.canonical import json_ready
from runs.errors import RunNotFound
from runs.orchestration import RunPlan
from runs.shapes import RunResponse
from runs.storage import data_root


def run_response_body(run_id: str, *, was_reused: bool = False) -> RunResponse:
    """The RunResponse of spec 05 §2, read from one version of the run directory (disk is canonical)."""
    from runs.replay.run_response import published_run_response

    root = data_root()
    return artifacts.read_snapshot(
        root / "runs", run_id, lambda: published_run_response(root, run_id, was_reused=was_reused)
    )


def run_detail_body(run_id: str) -> RunResponse:
    """``GET /v1/runs/{runId}``: the run from disk, its index row made or dropped to match (spec 05 §5),
    all from one version of the run."""
    from runs.orchestration import load_run
    from runs.replay.run_response import published_run_response

    def read() -> RunResponse:
        record = load_run(run_id)
        if record is None:
            raise RunNotFound(run_id[:140])
        return published_run_response(data_root(), record.run_id)

    return artifacts.read_snapshot(data_root() / "runs", run_id, read)


def dry_run_body(plan: RunPlan) -> RunResponse:
    """The 200 body of a dry run (spec 05 §3): what would happen, nothing written."""
    return {
        "isDryRun": True,
        "metadata": None,
        "canReplay": False,
        "warnings": [],
        "plan": plan_body(plan),
        # FlowTime UI clients type this as a boolean on every run body (spec 07 §8).
        "wasReused": False,
    }


def plan_body(plan: RunPlan) -> shapes.RunPlan:
    """The ``plan`` of a dry run's body."""
    capture = plan.telemetry
    request = plan.request
    return {
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


def unknown_field_message(name: str, known: list[str]) -> str:
    """``Unknown field 'params'; did you mean 'parameters'?`` (the hint only when one is close)."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else "."
    return f"Unknown field '{name}'{hint}"


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not declare: a typo (``params``) must not silently plan the defaults.

    Each unknown key becomes its own ``errors[]`` item, reported together with every other problem of
    the object; nested strict serializers prefix their own path (``options.deterministic``).
    """

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, list[serializers.ErrorDetail]] = {}
        if isinstance(data, Mapping):
            known = list(self.fields)
            for key in data:
                if key not in self.fields:
                    message = unknown_field_message(str(key), known)
                    unknown[str(key)] = [serializers.ErrorDetail(message, code="unknown_field")]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


@extend_schema_field({"type": "string", "nullable": True, "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"})
class RunIdField(JsonStringField):
    """A client-chosen run id; the pattern is checked by the service (its message names it)."""


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "pattern": r"^\s*([Ss][Ii][Mm][Uu][Ll][Aa][Tt][Ii][Oo][Nn]|[Tt][Ee][Ll][Ee][Mm][Ee][Tt][Rr][Yy])\s*$",
        "description": "simulation or telemetry, any case; default: telemetry when a capture is given.",
    }
)
class RunModeField(JsonStringField):
    """``simulation``/``telemetry``, trimmed, any case; checked by the service."""


class RunOptionsSerializer(StrictSerializer):
    """How the run id is chosen, and whether to plan only or replace an existing run."""

    deterministicRunId = JsonBooleanField(required=False, default=False)
    runId = RunIdField(required=False, allow_null=True, default=None, trim_whitespace=False)
    dryRun = JsonBooleanField(required=False, default=False)
    overwriteExisting = JsonBooleanField(required=False, default=False)


class CaptureOnDemandOptionsSerializer(StrictSerializer):
    gapFillNan = JsonBooleanField(required=False, default=False)
    gapDetect = JsonBooleanField(required=False, default=False)
    gapFillGaps = JsonBooleanField(required=False, default=False)


class TelemetryRequestSerializer(StrictSerializer):
    """The capture bundle a telemetry run reads (``captureDirectory``) or the run to capture on demand
    (``sourceRunId``): exactly one, checked by the service; and template parameters bound to its files."""

    captureDirectory = JsonPathField(
        trim_whitespace=False, min_length=1, required=False, allow_null=True, default=None
    )
    sourceRunId = JsonPathField(
        trim_whitespace=False, min_length=1, required=False, allow_null=True, default=None
    )
    captureOptions = CaptureOnDemandOptionsSerializer(required=False, allow_null=True, default=None)
    bindings = serializers.DictField(
        child=JsonPathField(trim_whitespace=False, min_length=1), required=False, allow_null=True
    )


class RngKindField(JsonStringField):
    """``pcg32`` in any case (spec 07 §7.5); anything else, blank included, has one message."""

    MESSAGE = "rng.kind must be 'pcg32'."

    def __init__(self, **kwargs: Any) -> None:
        kwargs["validators"] = [RegexValidator(r"^\s*[Pp][Cc][Gg]32\s*$", self.MESSAGE, code="invalid")]
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        blank = isinstance(data, str) and data.strip() == ""
        not_text = data is not None and data is not serializers.empty and not isinstance(data, str)
        if blank or not_text:
            raise serializers.ValidationError(self.MESSAGE, code="invalid")
        return super().run_validation(data)


class RngSerializer(StrictSerializer):
    """The run's random seed (recorded in the manifest and the inputHash)."""

    seed = JsonIntegerField(min_value=0, required=False, allow_null=True)
    # FlowTime UI sends {"kind": "pcg32", "seed": 123} (spec 07 §7.5); pcg32 is the engine's only RNG.
    kind = RngKindField(required=False, allow_null=True)


class RunCreateSerializer(StrictSerializer):
    """Shape checks only (JSON types, required keys); every rule about values lives in the service.

    FlowTime UI clients write nulls for absent objects, so ``null`` is accepted wherever the service
    has a default.
    """

    # Trimmed, so a blank id is "may not be blank"; the pattern states it for the schema.
    templateId = JsonStringField(max_length=200, min_length=1, validators=[RegexValidator(r"\S")])
    mode = RunModeField(required=False, allow_null=True)
    parameters = serializers.DictField(required=False, allow_null=True, default=dict)
    telemetry = TelemetryRequestSerializer(required=False, allow_null=True)
    options = RunOptionsSerializer(required=False, allow_null=True)
    rng = RngSerializer(required=False, allow_null=True)
