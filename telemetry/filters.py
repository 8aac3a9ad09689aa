"""Declarative filters of ``GET /v1/captures``; any bad value is a 400 naming the parameter."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from telemetry.models import Capture

DEFAULT_ORDER = ("-created_utc", "-capture_id")


class CaptureFilter(django_filters.FilterSet):
    sourceRunId = django_filters.CharFilter(field_name="source_run_id")
    templateId = django_filters.CharFilter(method="filter_template")

    class Meta:
        model = Capture
        fields: list[str] = []

    def filter_template(self, queryset: QuerySet[Capture], name: str, value: str) -> QuerySet[Capture]:
        return queryset.filter(template_key=value.lower())

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Newest first, ties broken by the id, so pages are stable.
        return super().filter_queryset(queryset.order_by(*DEFAULT_ORDER))
