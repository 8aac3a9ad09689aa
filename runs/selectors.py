"""Reads for /v1/runs: the listing comes from the index alone (no run directory is opened)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from runs import cursors
from runs.canonical import format_timestamp
from runs.errors import InvalidParameter
from runs.filters import DEFAULT_ORDERING, RunFilter, run_queryset_without_form
from runs.models import Run
from runs.shapes import RunListItem

LIST_FIELDS = (
    "run_id",
    "template_id",
    "template_title",
    "template_version",
    "mode",
    "created_utc",
    "warning_count",
    "start_utc",
    "duration",
    "bins",
    "can_replay",
)


def run_filter_queryset(params: Mapping[str, Any]) -> QuerySet[Run]:
    """Apply the §4 filters and ordering; the first invalid parameter becomes ``invalid_parameter``."""
    given: dict[str, str] = {}
    for name in RunFilter.base_filters:
        values = (
            params.getlist(name) if hasattr(params, "getlist") else [params[name]] if name in params else []
        )
        if len(values) > 1:
            raise InvalidParameter(name, f"{name} may be given only once.")
        if values:
            given[name] = str(values[0])
    queryset = run_queryset_without_form(given, Run.objects.all())
    if queryset is not None:
        return queryset
    filterset = RunFilter(data=params, queryset=Run.objects.all())
    if not filterset.is_valid():
        name, messages = next(iter(filterset.errors.items()))
        detail = f"{name}: {' '.join(str(m) for m in messages)}"
        choices = getattr(filterset.form.fields.get(name), "choices", None)
        if choices:
            detail += f" Allowed values: {', '.join(str(value) for value, _label in choices if value)}."
        raise InvalidParameter(name, detail)
    return filterset.qs


def run_list_item(row: Mapping[str, Any]) -> RunListItem:
    created = row["created_utc"]
    start = row["start_utc"]
    return {
        "runId": row["run_id"],
        "templateId": row["template_id"],
        "templateTitle": row["template_title"],
        "templateVersion": row["template_version"],
        "mode": row["mode"],
        "createdUtc": format_timestamp(created) if created is not None else None,
        "warningCount": row["warning_count"],
        "startUtc": format_timestamp(start) if start is not None else None,
        "duration": row["duration"] or None,
        "bins": row["bins"],
        "canReplay": row["can_replay"],
    }


def run_list_page(params: Mapping[str, Any], *, offset: int, limit: int) -> tuple[list[RunListItem], int]:
    queryset = run_filter_queryset(params)
    if offset == 0:
        # The first page walks the ordering index from its start: one query for the rows, and the
        # COUNT only when the page is full (a short first page is the whole result).
        first = [run_list_item(row) for row in queryset.values(*LIST_FIELDS)[:limit]]
        return first, len(first) if len(first) < limit else queryset.count()
    total = queryset.count()
    if offset >= total:
        return [], total
    # OFFSET makes the database step over every skipped row. Step over entries of the (covering)
    # ordering index instead, fetching only the page's keys, then load just those rows. Past the
    # middle, walk the index from the other end: the order is total (ties broken by runId), so the
    # reversed order is exactly the reverse, and no page skips more than half the result.
    if offset > total // 2:
        stop = total - offset
        keys = list(queryset.reverse().values_list("run_id", flat=True)[max(0, stop - limit) : stop])[::-1]
    else:
        keys = list(queryset.values_list("run_id", flat=True)[offset : offset + limit])
    rows = {row["run_id"]: row for row in Run.objects.filter(run_id__in=keys).values(*LIST_FIELDS)}
    # A row deleted between the two queries (a run deleted or pruned meanwhile) is simply not listed.
    return [run_list_item(rows[key]) for key in keys if key in rows], total


@dataclass(frozen=True)
class RunCursorPage:
    items: list[RunListItem]
    next_cursor: str | None
    prev_cursor: str | None


def run_cursor_page(params: Mapping[str, Any], *, cursor: str, limit: int) -> RunCursorPage:
    """The page of the filtered, ordered listing after (or before) ``cursor``, or the first page for
    ``cursors.FIRST``; no COUNT, so its cost does not grow with the listing."""
    queryset = run_filter_queryset(params)
    ordering = str(params.get("ordering") or DEFAULT_ORDERING)
    start = None if cursor == cursors.FIRST else cursors.cursor_decode(cursor, ordering=ordering)

    def beyond(
        key: cursors.Key, *, backwards: bool, limit: int, inclusive: bool = False
    ) -> list[dict[str, Any]]:
        position = cursors.RunCursor(ordering=ordering, key=key, backwards=backwards, inclusive=inclusive)
        return cursors.rows_beyond(queryset, cursor=position, fields=LIST_FIELDS, limit=limit)

    if start is None:
        rows = list(queryset.values(*LIST_FIELDS)[: limit + 1])
    else:
        rows = beyond(start.key, backwards=start.backwards, limit=limit + 1, inclusive=start.inclusive)
    backwards = start is not None and start.backwards
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    if rows:
        first, last = cursors.row_key(rows[0], ordering), cursors.row_key(rows[-1], ordering)
    elif start is None:  # nothing matches
        return RunCursorPage(items=[], next_cursor=None, prev_cursor=None)
    else:  # every row past the cursor went meanwhile: offer the way back (or on) from the cursor's row
        first = last = start.key
    around = not rows  # the cursor's own row was not shown on this page, so the way back includes it
    if backwards:
        has_prev = more
        has_next = bool(beyond(last, backwards=False, limit=1, inclusive=around))
    else:
        has_next = more
        has_prev = start is not None and bool(beyond(first, backwards=True, limit=1, inclusive=around))

    def token(key: cursors.Key, *, backwards: bool) -> str:
        position = cursors.RunCursor(ordering=ordering, key=key, backwards=backwards, inclusive=around)
        return cursors.cursor_encode(position)

    return RunCursorPage(
        items=[run_list_item(row) for row in rows],
        next_cursor=token(last, backwards=False) if has_next else None,
        prev_cursor=token(first, backwards=True) if has_prev else None,
    )
