"""HTTP views of /v1/runs: parse → one service or selector → serialize. Nothing else lives here."""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from flowtime_site.api import (
    PAGE_PARAMETERS,
    check_query_names,
    page_body,
    parse_page_request,
    single_query_value,
)
from runs import idempotency, openapi, openapi_examples, selectors, shapes
from runs.errors import InvalidParameter, InvalidRequest
from runs.orchestration import RunRequest, TelemetrySpec, create_run, delete_run
from runs.serializers import RunCreateSerializer, dry_run_body, run_detail_body, run_response_body
from runs.storage import data_root
from telemetry.services import capture_options

RUN_ID_PARAMETER = OpenApiParameter(
    "run_id",
    str,
    OpenApiParameter.PATH,
    description="A run id; anything else answers 404 run_not_found.",
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
)

LIST_PARAMETERS = [
    *PAGE_PARAMETERS,
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
    OpenApiParameter(
        "cursor",
        {"type": "string", "minLength": 1, "pattern": r"\S"},
        description=(
            "Keyset paging instead of page: `first` for the first page, then a `nextCursor` or "
            "`prevCursor` of an earlier answer (same ordering). Not combined with page."
        ),
    ),
]


def _query_flag(request: Request, name: str) -> bool:
    values = request.query_params.getlist(name)
    if not values:
        return False
    if len(values) > 1 or values[0].lower() not in {"true", "false"}:
        raise InvalidParameter(name, f"{name} must be true or false.")
    return values[0].lower() == "true"


def _telemetry_spec(telemetry: dict[str, Any] | None) -> TelemetrySpec | None:
    if not telemetry:
        return None
    on_demand = telemetry.get("captureOptions")
    return TelemetrySpec(
        capture_directory=telemetry.get("captureDirectory"),
        bindings=telemetry.get("bindings") or {},
        source_run_id=telemetry.get("sourceRunId"),
        capture_options=capture_options(on_demand, field="telemetry.captureOptions")
        if on_demand is not None
        else None,
    )


def run_request_from_body(data: dict[str, Any], *, dry_run_query: bool) -> RunRequest:
    options = data.get("options") or {}
    rng = data.get("rng") or {}
    return RunRequest(
        template_id=data["templateId"],
        mode=data.get("mode"),
        parameters=data.get("parameters") or {},
        telemetry=_telemetry_spec(data.get("telemetry")),
        deterministic_run_id=options.get("deterministicRunId", False),
        run_id=options.get("runId"),
        overwrite=options.get("overwriteExisting", False),
        seed=rng.get("seed"),
        dry_run=dry_run_query or options.get("dryRun", False),
        capture_base=data_root() / "telemetry",
    )


def cursor_page_body(page: selectors.RunCursorPage, *, page_size: int) -> shapes.RunCursorPage:
    return {
        "items": page.items,
        "pageSize": page_size,
        "nextCursor": page.next_cursor,
        "prevCursor": page.prev_cursor,
    }


class RunViewSet(viewsets.ViewSet):
    lookup_field = "run_id"
    # The id is one path segment (spec 07 §6): an unknown sub-path such as runs/<id>/metrics matches
    # no route and is a plain 404 not_found, never a lookup of run "<id>/metrics". A segment failing
    # the id pattern reaches the view, which answers run_not_found without disk access (spec 05 §5).
    lookup_value_regex = "[^/]+"

    @extend_schema(
        operation_id="runs_list",
        parameters=LIST_PARAMETERS,
        summary="List runs (paginated, filtered, ordered; served from the index)",
        examples=[openapi.response_example("A page of runs", openapi_examples.RUN_LIST_PAGE)],
        responses={200: openapi.RUN_LIST_RESPONSE, **openapi.problem_responses(openapi.LIST_CODES)},
    )
    def list(self, request: Request) -> Response:
        check_query_names(request.query_params, [p.name for p in LIST_PARAMETERS])
        cursor = single_query_value(request.query_params, "cursor")
        if cursor is not None:
            if "page" in request.query_params:
                raise InvalidParameter("cursor", "cursor and page cannot be combined; use one way of paging.")
            size = parse_page_request(request.query_params).page_size
            keyset = selectors.run_cursor_page(request.query_params, cursor=cursor, limit=size)
            return Response(cursor_page_body(keyset, page_size=size))
        page = parse_page_request(request.query_params)
        items, total = selectors.run_list_page(request.query_params, offset=page.offset, limit=page.page_size)
        return Response(page_body(items=items, total=total, page=page, request=request))

    @extend_schema(
        operation_id="runs_retrieve",
        parameters=[RUN_ID_PARAMETER],
        summary="One run, read from its directory",
        examples=[openapi.response_example("An order-system run", openapi_examples.RUN_RESPONSE)],
        responses={200: openapi.RunResponse, **openapi.problem_responses(openapi.RUN_READ_CODES)},
    )
    def retrieve(self, request: Request, run_id: str) -> Response:
        return Response(run_detail_body(run_id))

    @extend_schema(
        operation_id="runs_destroy",
        parameters=[RUN_ID_PARAMETER],
        summary="Delete a run (its directory and its index row)",
        responses={204: None, **openapi.problem_responses({404: ["run_not_found"]})},
    )
    def destroy(self, request: Request, run_id: str) -> Response:
        delete_run(run_id=run_id)
        return Response(status=204)

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
        return run_create_response(request, request.data)


def run_create_response(request: Request, data: Any) -> Response:
    """The whole answer of ``POST /v1/runs`` for a request body, ``Idempotency-Key`` included. The
    FlowTime UI facade calls it with its coerced body, so the two routes cannot differ (spec 07 §7.5)."""
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return _as_response(_create(request, data))
    stored = idempotency.idempotent_call(
        scope=idempotency.idempotency_scope(request.user),
        key=idempotency.idempotency_key_check(key),
        request_hash=idempotency.request_fingerprint(body=data, query=dict(request.query_params.lists())),
        produce=lambda: _create(request, data),
    )
    return _as_response(stored)


def _create(request: Request, data: dict[str, Any]) -> idempotency.StoredResponse:
    serializer = RunCreateSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    run_request = run_request_from_body(
        serializer.validated_data, dry_run_query=_query_flag(request, "dryRun")
    )
    outcome = create_run(run_request)
    if outcome.plan is not None:
        return idempotency.StoredResponse(200, dry_run_body(outcome.plan))
    # The body this request published, built in memory: a concurrent overwrite cannot change it.
    body = outcome.body or run_response_body(outcome.run_id, was_reused=outcome.was_reused)
    if outcome.was_reused:
        return idempotency.StoredResponse(200, body)
    return idempotency.StoredResponse(201, body, location=f"/v1/runs/{outcome.run_id}")


def _as_response(stored: idempotency.StoredResponse) -> Response:
    headers = {"Location": stored.location} if stored.location else {}
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(stored.body, status=stored.status, headers=headers)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition: in multiprocess mode (``FLOWTIME_METRICS_DIR``) the sum over every
    process that shares the directory, else this process's own counters and histograms."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
