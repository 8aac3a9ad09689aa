"""Declarative filters of ``GET /v1/runs`` (spec 05 §4); any bad value is a 400 naming the parameter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
DEFAULT_ORDERING = "-createdUtc"

BOOL_CHOICES = (("true", "true"), ("false", "false"))
MODE_CHOICES = (("simulation", "simulation"), ("telemetry", "telemetry"))


def by_mode(queryset: QuerySet[Run], value: str) -> QuerySet[Run]:
    return queryset.filter(mode=value)


def by_template(queryset: QuerySet[Run], value: str) -> QuerySet[Run]:
    return queryset.filter(template_key=value.lower())


def by_warnings(queryset: QuerySet[Run], value: str) -> QuerySet[Run]:
    return queryset.filter(warning_count__gt=0) if value == "true" else queryset.filter(warning_count=0)


def by_search(queryset: QuerySet[Run], value: str) -> QuerySet[Run]:
    return queryset.filter(Q(run_id__icontains=value) | Q(template_title__icontains=value))


def by_ordering(queryset: QuerySet[Run], value: str) -> QuerySet[Run]:
    return queryset.order_by(*ORDERINGS[value])


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
    mode = django_filters.ChoiceFilter(choices=MODE_CHOICES, method="filter_mode")
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
        return by_mode(queryset, value)

    def filter_template(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return by_template(queryset, value)

    def filter_has_warnings(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return by_warnings(queryset, value)

    def filter_search(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return by_search(queryset, value)

    def filter_ordering(self, queryset: QuerySet[Run], name: str, value: str) -> QuerySet[Run]:
        return by_ordering(queryset, value)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by(*ORDERINGS[DEFAULT_ORDERING])
        return super().filter_queryset(queryset)


# The parameters the listing can apply without building RunFilter's form, in its declaration order,
# with the values each accepts (None: any text). Building the form (a class made per request, its
# fields deep-copied twice) cost more than the whole query of a first page.
_WITHOUT_FORM: tuple[
    tuple[str, frozenset[str] | None, Callable[[QuerySet[Run], str], QuerySet[Run]]], ...
] = (
    ("mode", frozenset(value for value, _ in MODE_CHOICES), by_mode),
    ("templateId", None, by_template),
    ("hasWarnings", frozenset(value for value, _ in BOOL_CHOICES), by_warnings),
    ("search", None, by_search),
    ("ordering", frozenset(ORDERINGS), by_ordering),
)
_WITHOUT_FORM_NAMES = frozenset(name for name, _, _ in _WITHOUT_FORM)


def run_queryset_without_form(values: Mapping[str, str], queryset: QuerySet[Run]) -> QuerySet[Run] | None:
    """The queryset ``RunFilter`` builds for ``values`` (one value per name), or None when a value needs
    the form to decide: a date, a value outside its choices, a null character. ``RunFilter`` then
    builds the queryset or words the error, so answers and errors stay exactly the form's."""
    if not _WITHOUT_FORM_NAMES.issuperset(values):
        return None
    queryset = queryset.order_by(*ORDERINGS[DEFAULT_ORDERING])
    for name, choices, apply in _WITHOUT_FORM:
        if name not in values:
            continue
        value = values[name]
        if choices is None:
            value = value.strip()  # forms.CharField strips, and refuses null characters
            if not value or "\x00" in value:
                return None
        elif value not in choices:
            return None
        queryset = apply(queryset, value)
    return queryset
