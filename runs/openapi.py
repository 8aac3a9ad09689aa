"""What the OpenAPI document says about /v1 beyond the shapes: the serializers generated from the
response shapes, the problem codes of each route, and the examples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer

from flowtime_site import shapes as site_shapes
from flowtime_site.shapes import serializer_for
from runs import openapi_examples, shapes
from templates_catalog import shapes as template_shapes


class SessionUnlessAnonymousWriteScheme(SessionScheme):
    """Our session authentication is published as the plain cookie scheme."""

    target_class = "flowtime_site.api.SessionUnlessAnonymousWrite"


# Each response shape is declared once as a TypedDict (``runs.shapes``, ``flowtime_site.shapes``) that
# its builder returns; these are the serializers generated from those declarations.
Problem = serializer_for(site_shapes.Problem)
ServiceInfo = serializer_for(site_shapes.ServiceInfo)
RunResponse = serializer_for(shapes.RunResponse)
RunListPage = serializer_for(site_shapes.Page[shapes.RunListItem], "RunListPage")
RunCursorPage = serializer_for(shapes.RunCursorPage)
RUN_LIST_RESPONSE = PolymorphicProxySerializer(
    component_name="RunListResponse",
    serializers=[RunListPage, RunCursorPage],
    resource_type_field_name=None,
    many=False,
)
StateSnapshot = serializer_for(shapes.StateSnapshot)
StateWindow = serializer_for(shapes.StateWindow)
SeriesIndex = serializer_for(shapes.SeriesIndex)
RunGraph = serializer_for(shapes.RunGraph)
UiTemplateSummary = serializer_for(shapes.UiTemplateSummary)
UiTemplateDetail = serializer_for(shapes.UiTemplateDetail)
UiTemplateCategories = serializer_for(shapes.UiTemplateCategories)
TemplateListPage = serializer_for(site_shapes.Page[template_shapes.TemplateSummary], "TemplateListPage")
TemplateDetail = serializer_for(template_shapes.TemplateDetail)


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
