from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Template


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("template_id", "title", "version", "mode", "file_name", "indexed_at")
    list_filter = ("mode",)
    search_fields = ("template_id", "title", "description")
    readonly_fields = (
        "template_id",
        "title",
        "version",
        "description",
        "tags",
        "mode",
        "file_name",
        "file_hash",
        "parameters",
        "indexed_at",
    )

    # The catalog directory is the truth; rows only change through sync_templates.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Template | None = None) -> bool:
        return False
