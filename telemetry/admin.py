"""Staff view of the capture index: a read-only list and page per capture, and deletion through the
same service as ``DELETE /v1/captures/{id}`` (the directory goes first, then the row)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from runs.errors import FlowtimeError
from telemetry.models import Capture
from telemetry.serializers import capture_body
from telemetry.services import capture_delete, capture_index_refresh, read_capture_manifest


@admin.register(Capture)
class CaptureAdmin(admin.ModelAdmin):
    list_display = (
        "capture_id",
        "source_run_id",
        "template_id",
        "created_utc",
        "bins",
        "file_count",
        "warning_count",
    )
    list_filter = ("template_id",)
    search_fields = ("capture_id", "source_run_id", "template_id")
    ordering = ("-created_utc", "-capture_id")
    list_per_page = 50
    readonly_fields = (
        "capture_id",
        "source_run_id",
        "template_id",
        "created_utc",
        "start_utc",
        "bins",
        "bin_size",
        "bin_unit",
        "file_count",
        "warning_count",
        "manifest_hash",
        "path",
        "indexed_at",
        "api_link",
        "manifest",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Capture | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Capture) -> None:
        self._delete(obj.capture_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Capture]) -> None:
        for capture_id in list(queryset.values_list("capture_id", flat=True)):
            self._delete(capture_id)

    @staticmethod
    def _delete(capture_id: str) -> None:
        try:
            capture_delete(capture_id=capture_id)
        except FlowtimeError:
            # The directory is gone already (another request deleted it): the row follows the disk.
            capture_index_refresh(capture_id=capture_id)

    @admin.display(description="API")
    def api_link(self, obj: Capture) -> SafeString:
        return format_html('<a href="/v1/captures/{}">/v1/captures/{}</a>', obj.capture_id, obj.capture_id)

    @admin.display(description="Capture (as GET /v1/captures/{id} returns it)")
    def manifest(self, obj: Capture) -> SafeString:
        try:
            found = read_capture_manifest(obj.capture_id)
        except FlowtimeError as exc:
            return format_html("<em>{}: {}</em>", exc.code, exc.detail)
        if found is None:
            return format_html("<em>{}</em>", "The capture directory is gone.")
        body = capture_body(obj.capture_id, found)
        return format_html("<pre>{}</pre>", json.dumps(body, indent=2, ensure_ascii=False))
