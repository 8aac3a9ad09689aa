"""State endpoints (spec 06): thin wrappers over ``runs.replay``."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from runs import openapi, replay
from runs.storage import data_root


def _query(request: Request) -> dict[str, list[str]]:
    return {key: request.query_params.getlist(key) for key in request.query_params}


@extend_schema(
    parameters=[OpenApiParameter("binIndex", int, required=True)],
    responses={200: openapi.StateSnapshot, 422: openapi.Problem, **openapi.READ_ERRORS},
)
@api_view(["GET"])
def state_view(request: Request, run_id: str) -> Response:
    return Response(replay.state_snapshot(data_root(), run_id, _query(request)))


@extend_schema(
    parameters=[
        OpenApiParameter("startBin", int, required=True),
        OpenApiParameter("endBin", int, required=True),
        OpenApiParameter("mode", str, enum=["operational", "full"]),
    ],
    responses={200: openapi.StateWindow, 413: openapi.Problem, 422: openapi.Problem, **openapi.READ_ERRORS},
)
@api_view(["GET"])
def state_window_view(request: Request, run_id: str) -> Response:
    body = replay.state_window(
        data_root(), run_id, _query(request), max_window_bins=settings.FLOWTIME_STATE_MAX_WINDOW_BINS
    )
    return Response(body)


@extend_schema(responses={200: openapi.SeriesIndex, **openapi.READ_ERRORS})
@api_view(["GET"])
def index_view(request: Request, run_id: str) -> Response:
    return Response(replay.index_body(data_root(), run_id))


@extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
@api_view(["GET"])
def series_view(request: Request, run_id: str, series_id: str) -> HttpResponse:
    text = replay.series_csv(data_root(), run_id, series_id)
    return HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")


@extend_schema(responses={(200, "text/yaml"): OpenApiTypes.STR})
@api_view(["GET"])
def model_view(request: Request, run_id: str) -> HttpResponse:
    return HttpResponse(replay.model_bytes(data_root(), run_id), content_type="text/yaml; charset=utf-8")


@extend_schema(
    parameters=[
        OpenApiParameter(
            "mode", str, enum=["operational", "full"], description="Any case; default operational."
        )
    ],
    responses={200: openapi.RunGraph, **openapi.READ_ERRORS},
)
@api_view(["GET"])
def graph_view(request: Request, run_id: str) -> Response:
    """The run's topology as nodes and edges (spec 07 §4); nothing is evaluated."""
    return Response(replay.run_graph(data_root(), run_id, _query(request)))
