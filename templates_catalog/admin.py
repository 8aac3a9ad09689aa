from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from runs.admin import parameter_value_text

from .models import Template


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("template_id", "title", "version", "mode", "parameter_count", "file_name", "indexed_at")
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
        "parameter_table",
        "indexed_at",
    )
    fields = readonly_fields

    class Media:
        css = {"all": ("runs/admin.css",)}

    # The catalog directory is the truth; rows only change through sync_templates. Without change
    # permission the admin shows a read-only "View template" page with no save buttons.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Template | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Template | None = None) -> bool:
        return False

    @admin.display(description="parameters")
    def parameter_count(self, obj: Template) -> int:
        return len(obj.parameters or [])

    @admin.display(description="Parameters")
    def parameter_table(self, obj: Template) -> SafeString:
        parameters: list[dict[str, Any]] = list(obj.parameters or [])
        if not parameters:
            return mark_safe("—")

        def limits(spec: dict[str, Any]) -> str:
            low, high = spec.get("minimum"), spec.get("maximum")
            parts = []
            if low is not None:
                parts.append(f"≥ {parameter_value_text(low)}")
            if high is not None:
                parts.append(f"≤ {parameter_value_text(high)}")
            return ", ".join(parts) or "—"

        rows = [
            (
                spec.get("name", ""),
                spec.get("type", "") + (" (telemetry-bindable)" if spec.get("telemetryBindable") else ""),
                "required" if spec.get("required") else parameter_value_text(spec.get("default")),
                limits(spec),
                spec.get("description") or spec.get("title") or "",
            )
            for spec in parameters
        ]
        return format_html(
            '<table class="parameter-table"><thead><tr><th>name</th><th>type</th><th>default</th>'
            "<th>limits</th><th>description</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                rows,
            ),
        )
