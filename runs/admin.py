"""Staff view of the run index: list, filter, search, and a read-only page per run with its charts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from runs.errors import FlowtimeError, RunNotFound
from runs.models import Run
from runs.storage import data_root


class HasWarningsFilter(admin.SimpleListFilter):
    title = "has warnings"
    parameter_name = "has_warnings"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Run]) -> QuerySet[Run]:
        if self.value() == "yes":
            return queryset.filter(warning_count__gt=0)
        if self.value() == "no":
            return queryset.filter(warning_count=0)
        return queryset


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("run_id", "template_id", "mode", "created_utc", "warning_count", "can_replay")
    list_filter = ("mode", "template_id", HasWarningsFilter, ("created_utc", admin.DateFieldListFilter))
    search_fields = ("run_id", "template_id", "template_title")
    ordering = ("-created_utc", "-run_id")
    date_hierarchy = None
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = (
        "run_id",
        "template_id",
        "template_title",
        "template_version",
        "mode",
        "created_utc",
        "start_utc",
        "duration",
        "bins",
        "bin_size",
        "bin_unit",
        "warning_count",
        "can_replay",
        "provenance_hash",
        "input_hash",
        "path",
        "indexed_at",
        "api_links",
        "run_metadata",
        "run_warnings",
        "series_charts",
    )
    fieldsets = (
        (None, {"fields": ("run_id", "template_id", "template_title", "template_version", "mode")}),
        # Charts first: staff look at a run before they read its hashes.
        ("Series by topology node", {"fields": ("series_charts",)}),
        ("API", {"fields": ("api_links",)}),
        ("Warnings", {"fields": ("warning_count", "run_warnings")}),
        ("Grid", {"fields": ("start_utc", "duration", "bins", "bin_size", "bin_unit")}),
        (
            "Provenance",
            {"fields": ("created_utc", "provenance_hash", "input_hash", "path", "indexed_at", "can_replay")},
        ),
        ("Metadata (as /state returns it)", {"fields": ("run_metadata",)}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        # Rows mirror run directories; deleting one here would only hide a run until the next reindex.
        # The "delete runs" action below removes the directory and the row together.
        return False

    actions = ("delete_runs",)

    def has_remove_run_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("runs.delete_run"))

    @admin.action(description="Delete selected runs (directory and index row)", permissions=("remove_run",))
    def delete_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        from runs.orchestration import delete_run

        deleted = 0
        for run_id in list(queryset.values_list("run_id", flat=True)):
            try:
                delete_run(run_id=run_id)
                deleted += 1
            except RunNotFound:
                pass  # deleted by someone else meanwhile: the row went with it
        self.message_user(request, f"Deleted {deleted} run(s).")

    @admin.display(description="API")
    def api_links(self, obj: Run) -> SafeString:
        base = f"/v1/runs/{obj.run_id}"
        last = max(obj.bins - 1, 0)
        links = [
            ("detail", base),
            ("state (bin 0)", f"{base}/state?binIndex=0"),
            ("state window", f"{base}/state_window?startBin=0&endBin={min(last, 499)}"),
            ("series index", f"{base}/index"),
            ("model", f"{base}/model"),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', ((url, label) for label, url in links))

    def _disk(self, obj: Run) -> dict[str, Any] | None:
        from runs.serializers import run_response_body

        # Kept on the row object, which lives for one request: the ModelAdmin is a process-wide
        # singleton, and a cache on it would show a run as it was before an overwrite or an edit.
        body: dict[str, Any] | None = getattr(obj, "_run_response_body", None)
        if body is None:
            try:
                body = run_response_body(obj.run_id)
            except FlowtimeError as exc:  # a damaged run still gets a page, with the reason shown
                body = {"error": f"{exc.code}: {exc.detail}"}
            obj._run_response_body = body  # type: ignore[attr-defined]
        return body

    @admin.display(description="Metadata")
    def run_metadata(self, obj: Run) -> SafeString:
        import json

        body = self._disk(obj) or {}
        shown = body.get("metadata") or body.get("error")
        return format_html("<pre>{}</pre>", json.dumps(shown, indent=2, ensure_ascii=False))

    @admin.display(description="Messages")
    def run_warnings(self, obj: Run) -> SafeString:
        body = self._disk(obj) or {}
        warnings = body.get("warnings") or []
        if not warnings:
            return mark_safe("—")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code> {} {}</li>",
                ((w.get("code"), w.get("nodeId") or "", w.get("message")) for w in warnings),
            ),
        )

    @admin.display(description="Charts")
    def series_charts(self, obj: Run) -> SafeString:
        from runs.replay import node_charts_svg

        try:
            charts = node_charts_svg(data_root(), obj.run_id)
        except FlowtimeError as exc:  # charts are a convenience: say why they are missing instead
            return format_html("<em>Charts unavailable: {}: {}</em>", exc.code, exc.detail)
        parts = [
            format_html(
                '<figure style="display:inline-block;margin:0 1em 1em 0">'
                "<figcaption>{}</figcaption>{}</figure>",
                chart.node_id,
                mark_safe(chart.svg),  # built by runs.replay, all text escaped
            )
            for chart in charts
        ]
        return mark_safe("".join(parts))  # each part is format_html output
