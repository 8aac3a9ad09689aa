"""Documentation-only serializers: the /v1/captures shapes as drf-spectacular publishes them.

The bodies are built by ``telemetry.serializers.capture_body`` and ``capture_list_item``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from runs.openapi import PlanWarning, _Page


class CaptureGrid(serializers.Serializer):
    bins = serializers.IntegerField()
    binSize = serializers.IntegerField()
    binUnit = serializers.CharField()


class CaptureWindow(serializers.Serializer):
    startTimeUtc = serializers.DateTimeField(allow_null=True)
    durationMinutes = serializers.FloatField(allow_null=True)


class CaptureFile(serializers.Serializer):
    path = serializers.CharField()
    nodeId = serializers.CharField()
    metric = serializers.CharField()
    points = serializers.IntegerField()
    hash = serializers.CharField()


class CaptureResponse(serializers.Serializer):
    captureId = serializers.CharField()
    sourceRunId = serializers.CharField(allow_null=True)
    captureDirectory = serializers.CharField(help_text="Relative to <data>/telemetry.")
    grid = CaptureGrid()
    window = CaptureWindow(allow_null=True)
    files = CaptureFile(many=True)
    warnings = PlanWarning(many=True)
    createdUtc = serializers.DateTimeField(allow_null=True)


class CaptureListItem(serializers.Serializer):
    captureId = serializers.CharField()
    sourceRunId = serializers.CharField(allow_null=True)
    templateId = serializers.CharField(allow_null=True)
    captureDirectory = serializers.CharField()
    createdUtc = serializers.DateTimeField(allow_null=True)
    startUtc = serializers.DateTimeField(allow_null=True)
    bins = serializers.IntegerField()
    binSize = serializers.IntegerField()
    binUnit = serializers.CharField()
    fileCount = serializers.IntegerField()
    warningCount = serializers.IntegerField()


# One page object, not a list of pages: drf-spectacular would wrap a `list` action's body in an array.
@extend_schema_serializer(many=False)
class CaptureListPage(_Page):
    items = CaptureListItem(many=True)
