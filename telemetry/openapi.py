"""The /v1/captures response shapes as the OpenAPI document publishes them (from ``telemetry.shapes``)."""

from __future__ import annotations

from flowtime_site.shapes import Page, serializer_for
from telemetry import shapes

CaptureResponse = serializer_for(shapes.CaptureResponse)
CaptureListPage = serializer_for(Page[shapes.CaptureListItem], "CaptureListPage")
