"""HTTP views of /v1/runs: parse → one service or selector → serialize. Nothing else lives here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from flowtime_site.api import check_query_names, page_body, parse_page_request
from runs import idempotency, openapi, openapi_examples, selectors
from runs.errors import InvalidParameter, InvalidRequest, RunNotFound
from runs.orchestration import RunRequest, TelemetrySpec, create_run, load_run
from runs.serializers import RunCreateSerializer, dry_run_body, run_response_body
from runs.storage import data_root

LIST_PARAMETERS = [
    OpenApiParameter(
        "page", {"type": "integer", "minimum": 1, "maximum": 999_999_999}, description="Page number, from 1."
    ),
    OpenApiParameter(
        "pageSize",
        {"type": "integer", "minimum": 1, "maximum": 200},
        description="Items per page (default 50).",
    ),
    OpenApiParameter("mode", str, enum=["simulation", "telemetry"]),
    OpenApiParameter(
        "templateId",
        {"type": "string", "minLength": 1, "pattern": r"\S"},
        description="Exact template id, case-insensitive.",
    ),
    OpenApiParameter("hasWarnings", str, enum=["true", "false"]),
    OpenApiParameter(
        "createdAfter", OpenApiTypes.DATETIME, description="ISO 8601; runs created at or after."
    ),
    OpenApiParameter(
        "createdBefore", OpenApiTypes.DATETIME, description="ISO 8601; runs created at or before."
    ),
    OpenApiParameter(
        "search",
        {"type": "string", "minLength": 1, "pattern": r"\S"},
        description="Substring of runId or templateTitle.",
    ),
    OpenApiParameter(
        "ordering",
        str,
        enum=["createdUtc", "-createdUtc", "runId", "-runId", "templateId", "-templateId"],
    ),
]


def _query_flag(request: Request, name: str) -> bool:
    values = request.query_params.getlist(name)
    if not values:
        return False
    if len(values) > 1 or values[0].lower() not in {"true", "false"}:
        raise InvalidParameter(name, f"{name} must be true or false.")
    return values[0].lower() == "true"


def run_request_from_body(data: dict[str, Any], *, dry_run_query: bool) -> RunRequest:
    options = data.get("options") or {}
    telemetry = data.get("telemetry")
    rng = data.get("rng") or {}
    return RunRequest(
        template_id=data["templateId"],
        mode=data.get("mode"),
        parameters=data.get("parameters") or {},
        telemetry=TelemetrySpec(
            capture_directory=telemetry["captureDirectory"], bindings=telemetry.get("bindings") or {}
        )
        if telemetry
        else None,
        deterministic_run_id=options.get("deterministicRunId", False),
        run_id=options.get("runId"),
        overwrite=options.get("overwriteExisting", False),
        seed=rng.get("seed"),
        dry_run=dry_run_query or options.get("dryRun", False),
        capture_base=data_root() / "telemetry",
    )


class RunViewSet(viewsets.ViewSet):
    lookup_field = "run_id"
    # Anything after runs/ that no sub-route took (even ids holding an encoded "/") reaches the view,
    # which answers run_not_found for every id failing the pattern (spec 05 §5), without disk access.
    lookup_value_regex = ".+"

    @extend_schema(
        operation_id="runs_list",
        parameters=LIST_PARAMETERS,
        summary="List runs (paginated, filtered, ordered; served from the index)",
        examples=[openapi.response_example("A page of runs", openapi_examples.RUN_LIST_PAGE)],
        responses={200: openapi.RunListPage, **openapi.problem_responses(openapi.LIST_CODES)},
    )
    def list(self, request: Request) -> Response:
        check_query_names(request.query_params, [p.name for p in LIST_PARAMETERS])
        page = parse_page_request(request.query_params)
        items, total = selectors.run_list_page(request.query_params, offset=page.offset, limit=page.page_size)
        return Response(page_body(items=items, total=total, page=page, request=request))

    @extend_schema(
        operation_id="runs_retrieve",
        parameters=[
            OpenApiParameter(
                "run_id",
                str,
                OpenApiParameter.PATH,
                description="A run id; anything else answers 404 run_not_found.",
                pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
            )
        ],
        summary="One run, read from its directory",
        examples=[openapi.response_example("An order-system run", openapi_examples.RUN_RESPONSE)],
        responses={200: openapi.RunResponse, **openapi.problem_responses(openapi.RUN_READ_CODES)},
    )
    def retrieve(self, request: Request, run_id: str) -> Response:
        record = load_run(run_id)
        if record is None:
            raise RunNotFound(run_id[:140])
        return Response(run_response_body(record.run_id))

    @extend_schema(
        request=RunCreateSerializer,
        parameters=[
            OpenApiParameter(
                "dryRun",
                {"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"},
                description="true or false, any case; true plans only (like options.dryRun).",
            ),
            OpenApiParameter(
                idempotency.HEADER,
                str,
                OpenApiParameter.HEADER,
                description=(
                    "1–255 visible ASCII characters. A repeat with the same key and body within 24 h "
                    "returns the first answer with `Idempotent-Replayed: true`; another body is 422 "
                    "idempotency_key_reused; a repeat while the first still runs waits for its answer."
                ),
                pattern=r"^[\x21-\x7e]{1,255}$",
            ),
            OpenApiParameter(
                "Location",
                str,
                OpenApiParameter.HEADER,
                response=[201],
                description="/v1/runs/{runId} of the new run.",
            ),
            OpenApiParameter(
                "Idempotent-Replayed",
                str,
                OpenApiParameter.HEADER,
                response=[200, 201],
                enum=["true"],
                description="Present when the answer is the stored one of an earlier request with this key.",
            ),
        ],
        summary="Create a run from a template (or plan it: dry run)",
        description=(
            "201 with `Location` for a new run; 200 for a replayed deterministic run (`wasReused: true`) "
            "and for a dry run (`isDryRun: true`, nothing written). Unknown fields at any level are 400."
        ),
        examples=openapi.RUN_CREATE_EXAMPLES,
        responses={
            200: openapi.RunResponse,
            201: openapi.RunResponse,
            **openapi.problem_responses(openapi.RUN_CREATE_CODES),
        },
    )
    def create(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return _as_response(self._create(request))
        stored = idempotency.idempotent_call(
            scope=idempotency.idempotency_scope(request.user),
            key=idempotency.idempotency_key_check(key),
            request_hash=idempotency.request_fingerprint(
                body=request.data, query=dict(request.query_params.lists())
            ),
            produce=lambda: self._create(request),
        )
        return _as_response(stored)

    def _create(self, request: Request) -> idempotency.StoredResponse:
        serializer = RunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run_request = run_request_from_body(
            serializer.validated_data, dry_run_query=_query_flag(request, "dryRun")
        )
        outcome = create_run(run_request)
        if outcome.plan is not None:
            return idempotency.StoredResponse(200, dry_run_body(outcome.plan))
        body = run_response_body(outcome.run_id, was_reused=outcome.was_reused)
        if outcome.was_reused:
            return idempotency.StoredResponse(200, body)
        return idempotency.StoredResponse(201, body, location=f"/v1/runs/{outcome.run_id}")


def _as_response(stored: idempotency.StoredResponse) -> Response:
    headers = {"Location": stored.location} if stored.location else {}
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(stored.body, status=stored.status, headers=headers)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition of this process's counters and histograms."""
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
