"""``GET /v1/healthz`` and ``GET /api/v1/healthz``: ServiceInfo for FlowTime's Health page (spec 07 §3).

Two cheap checks (one trivial query, the data root exists); either failing is a 503 problem whose
sentence the Health card shows. The body never carries a path, host name or environment dump.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from flowtime_site import shapes
from runs import openapi
from runs.canonical import format_timestamp
from runs.errors import ServiceUnavailable
from runs.storage import data_root
from runs.version import package_version

# Taken when the URL configuration is imported, i.e. when the process starts serving.
PROCESS_STARTED = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class ServiceInfo:
    version: str
    commit_hash: str | None
    build_time: str | None
    environment: str
    start_time: datetime
    uptime_seconds: int

    def as_body(self) -> shapes.ServiceInfo:
        return {
            "serviceName": "flowtime-runs",
            "apiVersion": "v1",
            "build": {
                "version": self.version,
                "commitHash": self.commit_hash,
                "buildTime": self.build_time,
                "environment": self.environment,
            },
            "status": "healthy",
            "startTime": format_timestamp(self.start_time),
            "uptime": iso_duration(self.uptime_seconds),
        }


def iso_duration(seconds: int) -> str:
    """Whole seconds as ``PT1H2M3S``: zero parts left out, ``PT0S`` for zero."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else "", f"{secs}S" if secs else ""]
    return "PT" + ("".join(parts) or "0S")


def service_health(*, now: datetime | None = None) -> ServiceInfo:
    """Check the database and the data root, then describe this process; ``ServiceUnavailable`` else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        raise ServiceUnavailable("Database unreachable.") from None
    if not data_root().is_dir():
        raise ServiceUnavailable("Data directory unavailable.")
    moment = now or datetime.now(UTC)
    environment = settings.FLOWTIME_ENVIRONMENT or ("development" if settings.DEBUG else "production")
    return ServiceInfo(
        version=package_version(),
        commit_hash=settings.FLOWTIME_COMMIT or None,
        build_time=settings.FLOWTIME_BUILD_TIME or None,
        environment=environment,
        start_time=PROCESS_STARTED,
        uptime_seconds=int((moment - PROCESS_STARTED).total_seconds()),
    )


@extend_schema(
    operation_id="service_health",
    summary="Service information for the Health page; the query string is ignored.",
    responses={200: openapi.ServiceInfo, 503: openapi.Problem},
)
@api_view(["GET"])
@permission_classes([AllowAny])  # always open, even when reads need authentication
def service_health_view(request: Request) -> Response:
    return Response(service_health().as_body())


@extend_schema(
    operation_id="ui_service_health",
    tags=["flowtime-ui-compat"],
    summary="The same ServiceInfo under FlowTime's Sim prefix.",
    responses={200: openapi.ServiceInfo, 503: openapi.Problem},
)
@api_view(["GET"])
@permission_classes([AllowAny])
def ui_service_health_view(request: Request) -> Response:
    return Response(service_health().as_body())
