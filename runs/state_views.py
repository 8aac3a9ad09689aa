"""State endpoints (spec 06): thin wrappers over ``runs.replay``."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, content_negotiation_class
from rest_framework.request import Request
from rest_framework.response import Response

from flowtime_site.renderers import FileBodyNegotiation
from runs import openapi, openapi_examples, replay
from runs.storage import data_root

# A bin number as the state API parses it (digits, at most 9); the run's own bins bound it further.
BIN_QUERY = {"type": "integer", "minimum": 0, "maximum": 999_999_999}


def _query(request: Request) -> dict[str, list[str]]:
    return {key: request.query_params.getlist(key) for key in request.query_params}


@extend_schema(
    summary="One bin of a run: every node's metrics and derived values",
    examples=[openapi.response_example("Bin 0 of an order-system run", openapi_examples.STATE_SNAPSHOT)],
    parameters=[OpenApiParameter("binIndex", BIN_QUERY, required=True)],
    responses={
        200: openapi.StateSnapshot,
        **openapi.problem_responses(
            {400: ["invalid_parameter"], **openapi.RUN_READ_CODES, 422: ["mode_validation_failed"]}
        ),
    },
)
@api_view(["GET"])
def state_view(request: Request, run_id: str) -> Response:
    return Response(replay.state_snapshot(data_root(), run_id, _query(request)))


@extend_schema(
    summary="A range of bins of a run: one series per node and metric",
    examples=[openapi.response_example("Bins 0..1 of an order-system run", openapi_examples.STATE_WINDOW)],
    parameters=[
        OpenApiParameter("startBin", BIN_QUERY, required=True),
        OpenApiParameter("endBin", BIN_QUERY, required=True),
        OpenApiParameter("mode", str, enum=["operational", "full"]),
    ],
    responses={
        200: openapi.StateWindow,
        **openapi.problem_responses(
            {
                400: ["invalid_parameter"],
                **openapi.RUN_READ_CODES,
                413: ["window_too_large"],
                422: ["mode_validation_failed"],
            }
        ),
    },
)
@api_view(["GET"])
def state_window_view(request: Request, run_id: str) -> Response:
    body = replay.state_window(
        data_root(), run_id, _query(request), max_window_bins=settings.FLOWTIME_STATE_MAX_WINDOW_BINS
    )
    return Response(body)


@extend_schema(
    summary="The run's series index: grid and one entry per series file",
    examples=[openapi.response_example("An order-system series index", openapi_examples.SERIES_INDEX)],
    responses={200: openapi.SeriesIndex, **openapi.problem_responses(openapi.RUN_READ_CODES)},
)
@api_view(["GET"])
def index_view(request: Request, run_id: str) -> Response:
    return Response(replay.index_body(data_root(), run_id))


@extend_schema(
    summary="One series as CSV (bin_index,value)",
    responses={
        (200, "text/csv"): OpenApiTypes.STR,
        **openapi.problem_responses({**openapi.RUN_READ_CODES, 404: ["run_not_found", "series_not_found"]}),
    },
)
@api_view(["GET"])
@content_negotiation_class(FileBodyNegotiation)
def series_view(request: Request, run_id: str, series_id: str) -> HttpResponse:
    text = replay.series_csv(data_root(), run_id, series_id)
    return HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")


@extend_schema(
    summary="The run's model as YAML",
    responses={(200, "text/yaml"): OpenApiTypes.STR, **openapi.problem_responses(openapi.RUN_READ_CODES)},
)
@api_view(["GET"])
@content_negotiation_class(FileBodyNegotiation)
def model_view(request: Request, run_id: str) -> HttpResponse:
    return HttpResponse(replay.model_bytes(data_root(), run_id), content_type="text/yaml; charset=utf-8")


@extend_schema(
    parameters=[
        OpenApiParameter(
            "mode", str, enum=["operational", "full"], description="Any case; default operational."
        )
    ],
    summary="A run's topology as nodes, edges and order (FlowTime UI Topology)",
    responses={200: openapi.RunGraph, **openapi.READ_ERRORS},
)
@api_view(["GET"])
def graph_view(request: Request, run_id: str) -> Response:
    """The run's topology as nodes and edges (spec 07 §4); nothing is evaluated."""
    return Response(replay.run_graph(data_root(), run_id, _query(request)))
