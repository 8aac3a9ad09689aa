"""Declarative filters of ``GET /v1/runs`` (spec 05 §4); any bad value is a 400 naming the parameter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from runs.models import Run

ORDERINGS: dict[str, tuple[str, ...]] = {
    "createdUtc": ("created_utc", "run_id"),
    "-createdUtc": ("-created_utc", "-run_id"),
    "runId": ("run_id",),
    "-runId": ("-run_id",),
    "templateId": ("template_id", "run_id"),
    "-templateId": ("-template_id", "-run_id"),
}

BOOL_CHOICES = (("true", "true"), ("false", "false"))


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 bound, compared in UTC. PostgreSQL refuses offsets beyond ±15:59 (a 500 before),
    and a bound beyond the calendar once moved to UTC means no bound at all, or no run at all."""

    def filter(self, qs: QuerySet[Any], value: datetime | None) -> QuerySet[Any]:
        if value is None:
            return qs
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            beyond_start = value.year == datetime.min.year
            if (self.lookup_expr == "gte") == beyond_start:
                return qs  # after the first or before the last representable instant: every run
            return qs.none()
        return super().filter(qs, value)


class RunFilter(django_filters.FilterSet):
    mode = django_filters.ChoiceFilter(
        choices=(("simulation", "simulation"), ("telemetry", "telemetry")), method="filter_mode"
    )
    templateId = django_filters.CharFilter(method="filter_template")
    hasWarnings = django_filters.ChoiceFilter(choices=BOOL_CHOICES, method="filter_has_warnings")
    createdAfter = UtcDateTimeFilter(field_name="created_utc", lookup_expr="gte")
    createdBefore = UtcDateTimeFilter(field_name="created_utc", lookup_expr="lte")
    search = django_filters.CharFilter(method="filter_search")
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in ORDERINGS], method="filter_ordering"
    )

    class Meta:
        model = Run
        fields: list[str] = []

    def filter_mode(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return queryset.filter(mode=value)

    def filter_template(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return queryset.filter(template_key=value.lower())

    def filter_has_warnings(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return queryset.filter(warning_count__gt=0) if value == "true" else queryset.filter(warning_count=0)

    def filter_search(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return queryset.filter(Q(run_id__icontains=value) | Q(template_title__icontains=value))

    def filter_ordering(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return queryset.order_by(*ORDERINGS[value])

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by(*ORDERINGS["-createdUtc"])
        return super().filter_queryset(queryset)
