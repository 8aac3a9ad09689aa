"""Documentation-only serializers: the response shapes of /v1 as drf-spectacular publishes them.

The bodies themselves are built by ``runs.serializers`` and ``runs.replay`` (one builder each, shared
with the CLI); these classes only describe them for ``/v1/schema`` and ``docs/openapi.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema_serializer,
)
from rest_framework import serializers

from runs import openapi_examples


class SessionUnlessAnonymousWriteScheme(SessionScheme):
    """Our session authentication is published as the plain cookie scheme."""

    target_class = "flowtime_site.api.SessionUnlessAnonymousWrite"


class ProblemErrorItem(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
    position = serializers.IntegerField(required=False)
    nodes = serializers.ListField(child=serializers.CharField(), required=False)


class Problem(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    error = serializers.CharField(help_text="Same as detail (read by FlowTime UI clients).")
    errors = ProblemErrorItem(many=True)  # type: ignore[assignment]  # the wire name shadows a DRF attribute
    instance = serializers.CharField()


class SchemaInfo(serializers.Serializer):
    id = serializers.CharField()
    version = serializers.CharField()
    hash = serializers.CharField()


class StorageInfo(serializers.Serializer):
    modelPath = serializers.CharField()
    metadataPath = serializers.CharField()
    provenancePath = serializers.CharField(allow_null=True)


class RunMetadata(serializers.Serializer):
    runId = serializers.CharField()
    templateId = serializers.CharField()
    templateTitle = serializers.CharField()
    templateVersion = serializers.CharField()
    mode = serializers.ChoiceField(choices=["simulation", "telemetry"])
    provenanceHash = serializers.CharField()
    telemetrySourcesResolved = serializers.BooleanField()
    schema = SchemaInfo()
    storage = StorageInfo()
    edgeQuality = serializers.ChoiceField(
        choices=["exact", "missing"], help_text="exact when the model has a flow edge (spec 07 §5.5)"
    )


class RunWarning(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    severity = serializers.CharField()
    nodeId = serializers.CharField(allow_null=True)


class RunGrid(serializers.Serializer):
    bins = serializers.IntegerField()
    binSize = serializers.IntegerField()
    binUnit = serializers.CharField()
    startUtc = serializers.DateTimeField(allow_null=True)


class RunRng(serializers.Serializer):
    seed = serializers.IntegerField(
        allow_null=True, help_text="The seed the engine used (manifest.json rng.seed)."
    )


class RunLinks(serializers.Serializer):
    self = serializers.CharField()
    state = serializers.CharField()
    stateWindow = serializers.CharField()
    index = serializers.CharField()
    model = serializers.CharField()


class PlanFile(serializers.Serializer):
    nodeId = serializers.CharField()
    metric = serializers.CharField()
    path = serializers.CharField()


class PlanWarning(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    nodeId = serializers.CharField(allow_null=True)
    bins = serializers.ListField(child=serializers.IntegerField(), allow_null=True)


class RunPlan(serializers.Serializer):
    templateId = serializers.CharField()
    mode = serializers.CharField()
    outputRoot = serializers.CharField()
    captureDirectory = serializers.CharField(allow_null=True)
    sourceRunId = serializers.CharField(allow_null=True, help_text="The run captured on demand, if any.")
    deterministicRunId = serializers.BooleanField()
    requestedRunId = serializers.CharField(allow_null=True)
    predictedRunId = serializers.CharField(allow_null=True)
    parameters = serializers.DictField()
    telemetryBindings = serializers.DictField(child=serializers.CharField())
    files = PlanFile(many=True)
    warnings = PlanWarning(many=True)
    operations = serializers.ListField(child=serializers.CharField())


class RunResponse(serializers.Serializer):
    isDryRun = serializers.BooleanField()
    metadata = RunMetadata(allow_null=True)
    plan = RunPlan(allow_null=True)
    warnings = RunWarning(many=True)
    canReplay = serializers.BooleanField()
    wasReused = serializers.BooleanField(help_text="false for a new run and for every dry run")
    createdUtc = serializers.DateTimeField(required=False, allow_null=True)
    inputHash = serializers.CharField(required=False, allow_null=True)
    grid = RunGrid(required=False)
    parameters = serializers.DictField(
        required=False,
        help_text="(ours) The template parameters the run was made with, defaults applied "
        "(model/metadata.json).",
    )
    rng = RunRng(required=False)
    links = RunLinks(required=False)


class RunListItem(serializers.Serializer):
    runId = serializers.CharField()
    templateId = serializers.CharField()
    templateTitle = serializers.CharField()
    templateVersion = serializers.CharField()
    mode = serializers.CharField()
    createdUtc = serializers.DateTimeField(allow_null=True)
    warningCount = serializers.IntegerField()
    startUtc = serializers.DateTimeField(allow_null=True)
    duration = serializers.CharField(allow_null=True, help_text="ISO-8601 duration, e.g. PT6H")
    bins = serializers.IntegerField()
    canReplay = serializers.BooleanField()


class _Page(serializers.Serializer):
    totalCount = serializers.IntegerField()
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


@extend_schema_serializer(many=False)  # a list action answers one page object, not an array of them
class RunListPage(_Page):
    items = RunListItem(many=True)


@extend_schema_serializer(many=False)
class RunCursorPage(serializers.Serializer):
    """A page read with ``cursor``: no totalCount (counting would cost what keyset paging saves)."""

    items = RunListItem(many=True)
    pageSize = serializers.IntegerField()
    nextCursor = serializers.CharField(allow_null=True)
    prevCursor = serializers.CharField(allow_null=True)


RUN_LIST_RESPONSE = PolymorphicProxySerializer(
    component_name="RunListResponse",
    serializers=[RunListPage, RunCursorPage],
    resource_type_field_name=None,
    many=False,
)


class TemplateParameter(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["integer", "number", "boolean", "string", "array"])
    title = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    default = serializers.JSONField(allow_null=True)
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    required = serializers.BooleanField()  # type: ignore[assignment]  # the wire name shadows a DRF attribute
    telemetryBindable = serializers.BooleanField()


class TemplateSummary(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    version = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    mode = serializers.CharField()
    parameterCount = serializers.IntegerField()
    hash = serializers.CharField()


class TemplateDetail(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    version = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    mode = serializers.CharField()
    hash = serializers.CharField()
    parameters = TemplateParameter(many=True)
    telemetryBindable = serializers.ListField(child=serializers.CharField())


@extend_schema_serializer(many=False)
class TemplateListPage(_Page):
    items = TemplateSummary(many=True)


class StateMetrics(serializers.Serializer):
    arrivals = serializers.FloatField(allow_null=True)
    served = serializers.FloatField(allow_null=True)
    errors = serializers.FloatField(allow_null=True)  # type: ignore[assignment]  # the wire name shadows a DRF attribute
    queue = serializers.FloatField(allow_null=True)
    capacity = serializers.FloatField(allow_null=True)
    externalDemand = serializers.FloatField(allow_null=True)


class StateDerived(serializers.Serializer):
    utilization = serializers.FloatField(allow_null=True)
    latencyMinutes = serializers.FloatField(allow_null=True)
    throughputRatio = serializers.FloatField(allow_null=True)
    color = serializers.ChoiceField(choices=["gray", "green", "yellow", "red"])


class NodeWarning(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    severity = serializers.CharField()


class NodeTelemetry(serializers.Serializer):
    sources = serializers.ListField(child=serializers.CharField())
    warnings = NodeWarning(many=True)


class StateNode(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    metrics = StateMetrics()
    derived = StateDerived()
    telemetry = NodeTelemetry()


class StateBin(serializers.Serializer):
    index = serializers.IntegerField()
    startUtc = serializers.DateTimeField(allow_null=True)
    endUtc = serializers.DateTimeField(allow_null=True)
    durationMinutes = serializers.FloatField()


class EdgeFlowSeries(serializers.Serializer):
    flowVolume = serializers.ListField(child=serializers.FloatField(allow_null=True))


class StateEdge(serializers.Serializer):
    """A flow edge (spec 07 §5.3): the source's served split by weight."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``from`` is a Python keyword, so the fields are listed here in wire order.
        return {
            "id": serializers.CharField(),
            "from": serializers.CharField(help_text="Node id without port."),
            "to": serializers.CharField(help_text="Node id without port."),
            "edgeType": serializers.CharField(),
            "weight": serializers.FloatField(),
            "series": EdgeFlowSeries(),
        }


class SnapshotEdge(StateEdge):
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        series = fields.pop("series")
        fields["flowVolume"] = serializers.FloatField(
            allow_null=True, help_text="/state only: the value at binIndex."
        )
        fields["series"] = series
        return fields


class StateSnapshot(serializers.Serializer):
    metadata = RunMetadata()
    bin = StateBin()
    nodes = StateNode(many=True)
    edges = SnapshotEdge(many=True)
    edgeWarnings = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="Edge id → StateWarning[]; always {} in this project (spec 07 §5.4).",
    )
    warnings = RunWarning(many=True)


class WindowInfo(serializers.Serializer):
    startBin = serializers.IntegerField()
    endBin = serializers.IntegerField()
    binCount = serializers.IntegerField()


class WindowNode(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    series = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="arrivals, served, errors, throughputRatio always; others when present (spec 06 §6)",
    )
    telemetry = NodeTelemetry()


class StateWindow(serializers.Serializer):
    metadata = RunMetadata()
    window = WindowInfo()
    timestampsUtc = serializers.ListField(child=serializers.DateTimeField(), allow_null=True)
    nodes = WindowNode(many=True)
    edges = StateEdge(many=True)
    edgeWarnings = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="Edge id → StateWarning[]; always {} in this project (spec 07 §5.4).",
    )
    warnings = RunWarning(many=True)


class SeriesIndexEntry(serializers.Serializer):
    """One entry of ``series/index.json`` as stored (spec 03 §3.5); null where the file lacks a key."""

    id = serializers.CharField(allow_null=True)
    kind = serializers.CharField(allow_null=True)
    path = serializers.CharField(allow_null=True)
    unit = serializers.CharField(allow_null=True)
    componentId = serializers.CharField(allow_null=True)
    points = serializers.IntegerField(allow_null=True)
    hash = serializers.CharField(allow_null=True)


# ``class`` is a Python keyword, so it cannot be written as an attribute above.
SeriesIndexEntry._declared_fields["class"] = serializers.CharField(
    allow_null=True, help_text="The series class (DEFAULT when the run has no classes)."
)


class SeriesIndexGrid(serializers.Serializer):
    bins = serializers.IntegerField()
    binSize = serializers.IntegerField()
    binUnit = serializers.CharField()
    timezone = serializers.CharField()
    align = serializers.CharField()
    binMinutes = serializers.FloatField()


class SeriesIndex(serializers.Serializer):
    schemaVersion = serializers.IntegerField()
    grid = SeriesIndexGrid()
    series = SeriesIndexEntry(many=True)


class GraphNodeSemantics(serializers.Serializer):
    arrivals = serializers.CharField(allow_null=True)
    served = serializers.CharField(allow_null=True)
    errors = serializers.CharField(allow_null=True)  # type: ignore[assignment]  # the wire name shadows a DRF attribute
    queue = serializers.CharField(allow_null=True)
    capacity = serializers.CharField(allow_null=True)
    externalDemand = serializers.CharField(allow_null=True)
    slaMin = serializers.FloatField(allow_null=True)


class GraphNodeUi(serializers.Serializer):
    x = serializers.FloatField(allow_null=True)
    y = serializers.FloatField(allow_null=True)


class GraphNode(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    semantics = GraphNodeSemantics(allow_null=True)
    ui = GraphNodeUi(allow_null=True)


class GraphEdge(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "id": serializers.CharField(),
            "from": serializers.CharField(help_text="Authored endpoint, port kept."),
            "to": serializers.CharField(help_text="Authored endpoint, port kept."),
            "weight": serializers.FloatField(),
            "edgeType": serializers.CharField(help_text="topology, the authored type, or dependency"),
            "field": serializers.CharField(allow_null=True),
        }


class RunGraph(serializers.Serializer):
    nodes = GraphNode(many=True)
    edges = GraphEdge(many=True)
    order = serializers.ListField(child=serializers.CharField())


class BuildInfo(serializers.Serializer):
    version = serializers.CharField()
    commitHash = serializers.CharField(allow_null=True)
    buildTime = serializers.CharField(allow_null=True)
    environment = serializers.CharField()


class ServiceInfo(serializers.Serializer):
    """``GET /v1/healthz`` and ``/api/v1/healthz`` (spec 07 §3.2)."""

    serviceName = serializers.CharField()
    apiVersion = serializers.CharField()
    build = BuildInfo()
    status = serializers.CharField()
    startTime = serializers.DateTimeField()
    uptime = serializers.CharField(help_text="ISO-8601 duration in whole seconds, e.g. PT1H2M3S")


class UiTemplateSummary(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    narrative = serializers.CharField(allow_null=True, help_text="Always null.")
    category = serializers.CharField(help_text="Always general.")
    tags = serializers.ListField(child=serializers.CharField())
    version = serializers.CharField()
    captureKey = serializers.CharField(allow_null=True, help_text="Always null.")


class UiTemplateParameter(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["integer", "number", "boolean", "string", "array"])
    title = serializers.CharField()
    description = serializers.CharField()
    defaultValue = serializers.JSONField(allow_null=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)


class UiTemplateDetail(UiTemplateSummary):
    parameters = UiTemplateParameter(many=True)


def problem_responses(codes: Mapping[int, Sequence[str]]) -> dict[Any, OpenApiResponse]:
    """Documented problem answers of one route: each status with the codes it can carry. (401, 403
    and 500 are added to every operation by ``flowtime_site.openapi_hooks``.)"""
    return {
        (status, "application/problem+json"): OpenApiResponse(
            Problem, description=", ".join(f"`{code}`" for code in names)
        )
        for status, names in codes.items()
    }


RUN_READ_CODES: dict[int, list[str]] = {
    404: ["run_not_found"],
    409: ["run_invalid", "provenance_mismatch"],
}
RUN_CREATE_CODES: dict[int, list[str]] = {
    400: ["invalid_request"],
    404: ["run_not_found"],
    409: ["run_exists", "run_invalid", "capture_exists", "idempotency_key_in_progress"],
    413: ["request_too_large"],
    415: ["unsupported_media_type"],
    422: [
        "template_not_found",
        "template_invalid",
        "parameter_invalid",
        "parameter_unknown",
        "placeholder_unknown",
        "model_invalid",
        "capture_not_found",
        "capture_invalid",
        "capture_hash_mismatch",
        "binding_invalid",
        "path_forbidden",
        "idempotency_key_reused",
    ],
}
LIST_CODES: dict[int, list[str]] = {400: ["invalid_parameter"]}

ERRORS = problem_responses(RUN_CREATE_CODES)
READ_ERRORS = problem_responses({400: ["invalid_parameter"], **RUN_READ_CODES})


RUN_CREATE_EXAMPLES = [
    OpenApiExample(
        "Deterministic simulation run",
        summary="order-system with a deterministic id",
        description="The same body always gives the same run id; a repeat answers 200 with wasReused.",
        value={
            "templateId": "order-system",
            "mode": "simulation",
            "parameters": {"bins": 4},
            "options": {"deterministicRunId": True},
            "rng": {"seed": 42},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Telemetry run",
        summary="it-system-microservices from a capture bundle",
        description="The capture directory resolves under <data>/telemetry; bindings name its files.",
        value={
            "templateId": "it-system-microservices",
            "mode": "telemetry",
            "telemetry": {
                "captureDirectory": "it-system-demo",
                "bindings": {"telemetryRequestsSource": "LoadBalancer_arrivals.csv"},
            },
            "options": {"deterministicRunId": True},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Dry run",
        summary="Plan only: validate everything, write nothing",
        value={"templateId": "order-system", "options": {"dryRun": True, "deterministicRunId": True}},
        request_only=True,
    ),
]


def response_example(name: str, value: Any, status: int = 200) -> OpenApiExample:
    """A real answer of this server as the example of one status (``runs.openapi_examples``)."""
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status)])


RUN_CREATE_EXAMPLES += [
    response_example("Run created", openapi_examples.RUN_RESPONSE, 201),
    response_example("Dry run", openapi_examples.DRY_RUN_RESPONSE, 200),
    response_example("Invalid parameters", openapi_examples.PARAMETER_PROBLEM, 422),
]
