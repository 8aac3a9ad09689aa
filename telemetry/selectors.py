"""Reads of /v1/captures: the listing comes from the index alone; one capture is read from its manifest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from flowtime_site.api import single_query_value
from runs.errors import CaptureNotFound, InvalidParameter
from telemetry.capture_ids import is_valid_capture_id
from telemetry.filters import CaptureFilter
from telemetry.manifest import CaptureManifest
from telemetry.models import Capture
from telemetry.serializers import capture_list_item
from telemetry.services import capture_index_refresh, read_capture_manifest
from telemetry.shapes import CaptureListItem


def capture_filter_queryset(params: Mapping[str, Any]) -> QuerySet[Capture]:
    for name in CaptureFilter.base_filters:
        single_query_value(params, name)  # refuses a repeated filter
    filterset = CaptureFilter(data=params, queryset=Capture.objects.all())
    if not filterset.is_valid():
        name, messages = next(iter(filterset.errors.items()))
        raise InvalidParameter(name, f"{name}: {' '.join(str(m) for m in messages)}")
    return filterset.qs


def capture_list_page(
    params: Mapping[str, Any], *, offset: int, limit: int
) -> tuple[list[CaptureListItem], int]:
    queryset = capture_filter_queryset(params)
    total = queryset.count()
    rows = list(queryset[offset : offset + limit]) if offset < total else []
    return [capture_list_item(row) for row in rows], total


def capture_get(*, capture_id: str) -> CaptureManifest:
    """The manifest of capture ``capture_id``, read from disk (canonical); the index row is made or
    dropped to match. Ids that cannot name a capture are ``capture_not_found`` without disk access."""
    if not is_valid_capture_id(capture_id):
        raise CaptureNotFound(str(capture_id)[:140])
    manifest = read_capture_manifest(capture_id)
    if manifest is None or not Capture.objects.filter(capture_id=capture_id).exists():
        capture_index_refresh(capture_id=capture_id)
    if manifest is None:
        raise CaptureNotFound(capture_id[:140])
    return manifest
