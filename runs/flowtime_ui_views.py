"""``/api/v1/``: the routes FlowTime's web UI calls on its "Sim" service (spec 07 §7), as thin views over
the catalog and ``POST /v1/runs``. Their OpenAPI tag is ``flowtime-ui-compat``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from flowtime_site.api import single_query_value
from runs import openapi, shapes
from runs.flowtime_ui import UI_CATEGORY, coerce_ui_run_body, ui_template_get, ui_template_list
from runs.serializers import RunCreateSerializer
from runs.views import run_create_response

TAG = "flowtime-ui-compat"


@extend_schema(
    operation_id="ui_templates_list",
    summary="FlowTime UI: the template catalog as a bare array",
    tags=[TAG],
    parameters=[
        OpenApiParameter("category", str, description="general (any case) or empty: all; else none.")
    ],
    responses={200: openapi.UiTemplateSummary(many=True)},
)
@api_view(["GET"])
def ui_templates_view(request: Request) -> Response:
    """Every template as a bare array, ordered by id."""
    return Response(ui_template_list(category=single_query_value(request.query_params, "category")))


@extend_schema(
    operation_id="ui_templates_categories",
    summary="FlowTime UI: the template categories",
    tags=[TAG],
    responses={200: openapi.UiTemplateCategories},
)
@api_view(["GET"])
def ui_template_categories_view(request: Request) -> Response:
    body: shapes.UiTemplateCategories = {"categories": [UI_CATEGORY]}
    return Response(body)


@extend_schema(
    operation_id="ui_templates_retrieve",
    summary="FlowTime UI: one template with its parameter list",
    tags=[TAG],
    responses={200: openapi.UiTemplateDetail, 404: openapi.Problem},
)
@api_view(["GET"])
def ui_template_view(request: Request, template_id: str) -> Response:
    return Response(ui_template_get(template_id=template_id))


@extend_schema(
    operation_id="ui_orchestration_runs_create",
    tags=[TAG],
    summary="POST /v1/runs after the UI's coercions: array parameters may be comma-joined strings, "
    'booleans "true"/"false".',
    request=RunCreateSerializer,
    parameters=[OpenApiParameter("dryRun", str, enum=["true", "false"])],
    responses={200: openapi.RunResponse, 201: openapi.RunResponse, **openapi.ERRORS},
)
@api_view(["POST"])
def ui_orchestration_runs_view(request: Request) -> Response:
    data = request.data
    return run_create_response(request, coerce_ui_run_body(data) if isinstance(data, dict) else data)
