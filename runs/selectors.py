"""Reads for /v1/runs: the listing comes from the index alone (no run directory is opened)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.models import Count, QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.sql.constants import MULTI
from django.utils.dateparse import parse_datetime

from flowtime_site.api import single_query_value
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
# A row of ``values(*LIST_FIELDS)`` as the tuple ``run_list_item`` reads.
_in_list_order = operator.itemgetter(*LIST_FIELDS)
_TIMESTAMPS = frozenset({"created_utc", "start_utc"})


def _list_columns(db: str) -> list[str | Cast]:
    """``LIST_FIELDS`` as selected. On SQLite the timestamps are selected as the text they are stored
    as: the driver would parse each into a datetime only for ``run_list_item`` to print it back, which
    on a page of 50 costs more than the query."""
    if connections[db].vendor != "sqlite":
        return list(LIST_FIELDS)
    return [Cast(name, TextField()) if name in _TIMESTAMPS else name for name in LIST_FIELDS]


def _timestamp_text(value: datetime | str | None) -> str | None:
    """The API's spelling of a listed timestamp (``format_timestamp``), from a datetime or from the
    text SQLite stores (``2025-01-01 00:00:13[.ffffff]``, naive UTC: the same digits, microseconds
    only when non-zero)."""
    if value is None:
        return None
    if isinstance(value, str):
        # Django's SQLite backend stores naive UTC as ``str(datetime)``: 19 or 26 characters, a space
        # between date and time. (A year before 1000 is written zero-padded there, unpadded by
        # ``format_timestamp``: such values take the parsing path.)
        if len(value) in (19, 26) and value[10] == " " and value[0] != "0":
            return value.replace(" ", "T", 1) + "Z"
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"unreadable stored timestamp {value!r}")
        value = parsed
    return format_timestamp(value)


def run_filter_values(params: Mapping[str, Any]) -> dict[str, str]:
    """The given §4 filter and ordering parameters, one value each, in ``RunFilter``'s order."""
    given: dict[str, str] = {}
    for name in RunFilter.base_filters:
        value = single_query_value(params, name)
        if value is not None:
            given[name] = value
    return given


def run_filter_queryset(params: Mapping[str, Any]) -> QuerySet[Run]:
    """Apply the §4 filters and ordering; the first invalid parameter becomes ``invalid_parameter``."""
    given = run_filter_values(params)
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


def driver_values_are_utc(db: str) -> bool:
    """Whether the driver's timestamps are aware, or naive in UTC (no DATABASES ``TIME_ZONE``): then
    ``run_list_item`` reads them as they come, which is what Django's converters would have made of
    them. Those converters cost two settings look-ups and a copy per timestamp, more on a page of 50
    than the query itself."""
    return connections[db].timezone in (None, UTC)


def list_rows(queryset: QuerySet[Run]) -> list[tuple[Any, ...]]:
    """The ``LIST_FIELDS`` of the rows of ``queryset`` (filtered, ordered, sliced), in that order, as
    the database driver returns them (see ``driver_values_are_utc``)."""
    if not driver_values_are_utc(queryset.db):
        return list(queryset.values_list(*LIST_FIELDS))
    compiler = queryset.values_list(*_list_columns(queryset.db)).query.get_compiler(queryset.db)
    # An empty filter (``none()``) answers no chunks without a query, as iterating the queryset would.
    return [row for chunk in compiler.execute_sql(MULTI) for row in chunk]


@dataclass(frozen=True)
class FirstPageSql:
    """The SQL (and parameters) of one listing's first page and of its COUNT, as Django compiles them."""

    db: str
    rows: tuple[str, tuple[Any, ...]]
    count: tuple[str, tuple[Any, ...]]

    def fetch_rows(self) -> list[tuple[Any, ...]]:
        with connections[self.db].cursor() as cursor:
            cursor.execute(*self.rows)
            return cursor.fetchall()

    def fetch_count(self) -> int:
        with connections[self.db].cursor() as cursor:
            cursor.execute(*self.count)
            return int(cursor.fetchone()[0])


@functools.lru_cache(maxsize=256)
def first_page_sql(given: tuple[tuple[str, str], ...], limit: int, db: str) -> FirstPageSql | None:
    """The first page's SQL for these filter values (``run_filter_values``) and page size, or None when
    the values need ``RunFilter``'s form (a date, a value it refuses).

    Building and compiling the two queries cost more than the database's work for a first page, and
    the listing is asked again and again with the same few filters (the UI's list and its filter
    pairs). The compiled text is kept per values, page size and database, never an answer: both
    queries run on every request. The COUNT is the query ``QuerySet.count()`` runs."""
    if not driver_values_are_utc(db):
        return None
    queryset = run_queryset_without_form(dict(given), Run.objects.using(db))
    if queryset is None:
        return None
    rows = queryset.values_list(*_list_columns(db))[:limit].query.get_compiler(db).as_sql()
    count = queryset.query.chain()
    count.clear_ordering(force=True)
    count.default_cols = False
    count.clear_select_fields()
    count.add_annotation(Count("*"), alias="__count", select=True)
    return FirstPageSql(db=db, rows=_frozen(rows), count=_frozen(count.get_compiler(db).as_sql()))


def _frozen(compiled: tuple[str, Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = compiled
    return sql, tuple(params)


def run_list_item(row: Sequence[Any]) -> RunListItem:
    """One listed run from its ``LIST_FIELDS`` values, in that order."""
    run_id, template_id, title, version, mode, created, warnings, start, duration, bins, can_replay = row
    return {
        "runId": run_id,
        "templateId": template_id,
        "templateTitle": title,
        "templateVersion": version,
        "mode": mode,
        "createdUtc": _timestamp_text(created),
        "warningCount": warnings,
        "startUtc": _timestamp_text(start),
        "duration": duration or None,
        "bins": bins,
        "canReplay": can_replay,
    }


def run_list_page(params: Mapping[str, Any], *, offset: int, limit: int) -> tuple[list[RunListItem], int]:
    if offset == 0:
        # The first page walks the ordering index from its start: one query for the rows, and the
        # COUNT only when the page is full (a short first page is the whole result).
        compiled = first_page_sql(tuple(run_filter_values(params).items()), limit, Run.objects.db)
        if compiled is not None:
            first = [run_list_item(row) for row in compiled.fetch_rows()]
            return first, len(first) if len(first) < limit else compiled.fetch_count()
        queryset = run_filter_queryset(params)
        first = [run_list_item(row) for row in list_rows(queryset[:limit])]
        return first, len(first) if len(first) < limit else queryset.count()
    queryset = run_filter_queryset(params)
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
    rows = {row[0]: row for row in list_rows(Run.objects.filter(run_id__in=keys))}
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
        items=[run_list_item(_in_list_order(row)) for row in rows],
        next_cursor=token(last, backwards=False) if has_next else None,
        prev_cursor=token(first, backwards=True) if has_prev else None,
    )
