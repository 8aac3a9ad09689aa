"""Keyset (cursor) paging of ``GET /v1/runs``: a cursor is the sort key of a page's edge row, signed.

A page after a cursor is read by seeking the ordering index to that key and walking ``limit`` entries,
so its cost does not grow with the depth of the page (``page=N`` steps over every earlier entry), and
rows inserted meanwhile never shift or repeat the rows of the pages that follow. Cursors are signed
with the project's secret key: a tampered or made-up cursor is refused, never trusted as a key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core import signing
from django.db import connection
from django.db.models import Q, QuerySet

from runs.errors import InvalidParameter
from runs.filters import ORDERINGS
from runs.models import Run

FIRST = "first"
"""The cursor value that asks for the first page (there is no row to start after yet)."""

_SALT = "flowtime.runs.cursor"
# Only this field of any ordering may be null (a run.json without createdUtc).
_NULLABLE = frozenset({"created_utc"})

Key = tuple[Any, ...]


@dataclass(frozen=True)
class RunCursor:
    """A position in one ordering: the sort key of an edge row, and the way to walk from it."""

    ordering: str
    key: Key
    backwards: bool
    # Whether the row of ``key`` itself belongs to the walk (the way back from a page that came out
    # empty because its rows were deleted starts at the cursor's own row).
    inclusive: bool = False


def bad_cursor(detail: str) -> InvalidParameter:
    return InvalidParameter("cursor", f"{detail} Start again with cursor={FIRST}.")


def cursor_encode(cursor: RunCursor) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in cursor.key]
    payload = {"o": cursor.ordering, "k": values, "b": int(cursor.backwards), "i": int(cursor.inclusive)}
    return signing.dumps(payload, salt=_SALT, compress=False)


def cursor_decode(token: str, *, ordering: str) -> RunCursor:
    """The cursor ``token`` stands for; ``invalid_parameter`` when it was not issued by this server or
    was issued for another ordering."""
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise bad_cursor("cursor is not one this server issued.") from None
    try:
        issued_for, values, backwards, inclusive = payload["o"], payload["k"], payload["b"], payload["i"]
        fields = ORDERINGS[issued_for]
        key = tuple(
            datetime.fromisoformat(value) if value is not None and field.lstrip("-") in _NULLABLE else value
            for field, value in zip(fields, values, strict=True)
        )
    except (KeyError, TypeError, ValueError):  # signed, yet not a cursor of this version
        raise bad_cursor("cursor is not one this server issued.") from None
    if issued_for != ordering:
        raise bad_cursor(f"cursor was issued for ordering={issued_for}, not ordering={ordering}.")
    return RunCursor(ordering=ordering, key=key, backwards=bool(backwards), inclusive=bool(inclusive))


def row_key(row: Mapping[str, Any], ordering: str) -> Key:
    return tuple(row[field.lstrip("-")] for field in ORDERINGS[ordering])


def rows_beyond(
    queryset: QuerySet[Run], *, cursor: RunCursor, fields: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` rows beyond ``cursor.key`` (or from it, when inclusive) in the walk (the
    ordering, or its reverse), in walk order. Each query is one range of the ordering index: the
    null keys of ``created_utc`` sit at one end of it (which end depends on the database) and are
    read as a range of their own."""
    walk = list(ORDERINGS[cursor.ordering])
    if cursor.backwards:
        walk = [field[1:] if field.startswith("-") else f"-{field}" for field in walk]
    ordered = queryset.order_by(*walk)
    steps = [(field.lstrip("-"), field.startswith("-")) for field in walk]
    if len(steps) == 1:
        (name, descending), (value,) = steps[0], cursor.key
        past = ("lt" if descending else "gt") + ("e" if cursor.inclusive else "")
        return list(ordered.filter(**{f"{name}__{past}": value}).values(*fields)[:limit])
    (name, descending), (tie_name, tie_descending) = steps
    value, tie_value = cursor.key
    tie = Q(**{f"{tie_name}__{'lt' if tie_descending else 'gt'}{'e' if cursor.inclusive else ''}": tie_value})
    # Where the null keys come in this walk: databases sort nulls as the largest (PostgreSQL) or the
    # smallest (SQLite) value, and this must match the ORDER BY the page mode uses.
    nulls_last = name in _NULLABLE and connection.features.nulls_order_largest != descending
    if value is None:
        rows = list(ordered.filter(tie, **{f"{name}__isnull": True}).values(*fields)[:limit])
        if len(rows) < limit and not nulls_last:
            rows += ordered.filter(**{f"{name}__isnull": False}).values(*fields)[: limit - len(rows)]
        return rows
    strictly, or_equal = ("lt", "lte") if descending else ("gt", "gte")
    # The first term is the index range; the second drops the rows of the cursor's own key up to it.
    beyond = Q(**{f"{name}__{or_equal}": value}) & (Q(**{f"{name}__{strictly}": value}) | tie)
    rows = list(ordered.filter(beyond).values(*fields)[:limit])
    if len(rows) < limit and nulls_last:
        rows += ordered.filter(**{f"{name}__isnull": True}).values(*fields)[: limit - len(rows)]
    return rows
