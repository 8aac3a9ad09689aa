"""HTTP views of /v1/captures: parse → one service or selector → serialize. Nothing else lives here."""

from __future__ import annotations

from urllib.parse import quote

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from flowtime_site.api import PAGE_PARAMETERS, check_query_names, page_body, parse_page_request
from runs import openapi as run_openapi
from runs.errors import InvalidRequest
from telemetry import openapi, selectors
from telemetry.serializers import CaptureCreateSerializer, capture_body
from telemetry.services import CaptureRequest, capture_create, capture_delete, capture_options

CAPTURE_ID = OpenApiParameter(
    "capture_id",
    str,
    OpenApiParameter.PATH,
    description="A capture id (a directory name under <data>/telemetry); anything else answers 404.",
)


# Not blank, no NUL (which the filters refuse as invalid_parameter).
TEXT_FILTER = {"type": "string", "minLength": 1, "pattern": r"^[^\x00]*[^\s\x00][^\x00]*$"}
CAPTURE_LIST_PARAMETERS = [
    *PAGE_PARAMETERS,
    OpenApiParameter(
        "sourceRunId",
        TEXT_FILTER,
        description="Exact id of the captured run.",
    ),
    OpenApiParameter(
        "templateId",
        TEXT_FILTER,
        description="The source run's template, case-insensitive.",
    ),
]


class CaptureViewSet(viewsets.ViewSet):
    lookup_field = "capture_id"
    # Every id reaches the view, which answers capture_not_found for those that cannot name a capture.
    lookup_value_regex = ".+"

    @extend_schema(
        operation_id="captures_list",
        summary="List captures, newest first",
        parameters=CAPTURE_LIST_PARAMETERS,
        responses={
            200: openapi.CaptureListPage,
            **run_openapi.problem_responses({400: ["invalid_parameter"]}),
        },
    )
    def list(self, request: Request) -> Response:
        check_query_names(request.query_params, [p.name for p in CAPTURE_LIST_PARAMETERS])
        page = parse_page_request(request.query_params)
        items, total = selectors.capture_list_page(
            request.query_params, offset=page.offset, limit=page.page_size
        )
        return Response(page_body(items=items, total=total, page=page, request=request))

    @extend_schema(
        operation_id="captures_retrieve",
        summary="One capture, read from its manifest",
        parameters=[CAPTURE_ID],
        responses={
            200: openapi.CaptureResponse,
            **run_openapi.problem_responses({404: ["capture_not_found"], 422: ["capture_invalid"]}),
        },
    )
    def retrieve(self, request: Request, capture_id: str) -> Response:
        return Response(capture_body(capture_id, selectors.capture_get(capture_id=capture_id)))

    @extend_schema(
        operation_id="captures_create",
        summary="Capture a run as a telemetry bundle (or plan it: dry run)",
        request=CaptureCreateSerializer,
        responses={
            200: openapi.CaptureResponse,
            201: openapi.CaptureResponse,
            **run_openapi.problem_responses(
                {
                    400: ["invalid_request"],
                    404: ["run_not_found"],
                    409: ["run_invalid", "capture_exists"],
                    413: ["request_too_large"],
                    415: ["unsupported_media_type"],
                    422: ["capture_invalid", "capture_name_collision", "path_forbidden"],
                }
            ),
        },
    )
    def create(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        serializer = CaptureCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        options = data.get("options") or {}
        outcome = capture_create(
            CaptureRequest(
                run_id=data["runId"],
                capture_id=data.get("captureId"),
                options=capture_options(options, field="options"),
                overwrite=options.get("overwriteExisting", False),
                dry_run=options.get("dryRun", False),
            )
        )
        body = capture_body(outcome.capture_id, outcome.manifest)
        if outcome.dry_run:
            return Response(body, status=200)
        return Response(
            body, status=201, headers={"Location": f"/v1/captures/{quote(outcome.capture_id, safe='')}"}
        )

    @extend_schema(
        operation_id="captures_destroy",
        summary="Delete a capture (runs made from it keep their copy)",
        parameters=[CAPTURE_ID],
        responses={204: None, **run_openapi.problem_responses({404: ["capture_not_found"]})},
    )
    def destroy(self, request: Request, capture_id: str) -> Response:
        capture_delete(capture_id=capture_id)
        return Response(status=204)
