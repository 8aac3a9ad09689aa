"""Staff view of the run index: list, filter, search, and a read-only page per run with its charts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from runs.admin_forms import CreateRunForm
from runs.canonical import format_number
from runs.engine.model import BIN_UNIT_MINUTES
from runs.errors import FlowtimeError, RunNotFound
from runs.models import Run
from runs.orchestration import create_run, delete_run, plan_run
from runs.serializers import plan_body
from runs.storage import data_root
from templates_catalog.selectors import template_get, template_list

UNIT_ABBREVIATIONS = {"minutes": "min", "hours": "h", "days": "d", "weeks": "wk"}


def parameter_value_text(value: Any) -> str:
    """A parameter value as people read it: numbers without a trailing .0, arrays comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, list):
        return ", ".join(parameter_value_text(item) for item in value)
    if value is None:
        return "—"
    if value == "":
        return "(empty)"
    return str(value)


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
    list_display = (
        "run_id",
        "template_id",
        "mode",
        "created_text",
        "grid_text",
        "duration_text",
        "warning_count",
        "can_replay",
    )
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
        "run_parameters",
        "series_charts",
    )
    fieldsets = (
        (None, {"fields": ("run_id", "template_id", "template_title", "template_version", "mode")}),
        ("Parameters (as the run was made, defaults applied)", {"fields": ("run_parameters",)}),
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

    change_list_template = "admin/runs/run/change_list.html"

    class Media:
        css = {"all": ("runs/admin.css",)}
        js = ("runs/charts.js",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Runs are made by the orchestration service (the "Create run" page), never as bare rows.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False

    # Deleting goes through runs.orchestration.delete_run: the directory first, then the row, so a
    # deleted run does not come back at the next reindex.
    def delete_model(self, request: HttpRequest, obj: Run) -> None:
        self._delete(obj.run_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        for run_id in list(queryset.values_list("run_id", flat=True)):
            self._delete(run_id)

    @staticmethod
    def _delete(run_id: str) -> None:
        try:
            delete_run(run_id=run_id)
        except RunNotFound:
            Run.objects.filter(run_id=run_id).delete()  # only the row was left

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> HttpResponse:
        super().response_delete(request, obj_display, obj_id)  # the success message
        # Back to the run list (Django sends view-only models to the admin index).
        return HttpResponseRedirect(reverse("admin:runs_run_changelist"))

    @admin.display(description="created (UTC)", ordering="created_utc")
    def created_text(self, obj: Run) -> str:
        return obj.created_utc.strftime("%Y-%m-%d %H:%M") if obj.created_utc else "—"

    @admin.display(description="bins × size", ordering="bins")
    def grid_text(self, obj: Run) -> str:
        return f"{obj.bins} × {obj.bin_size} {UNIT_ABBREVIATIONS.get(obj.bin_unit, obj.bin_unit)}"

    @admin.display(description="duration", ordering="duration")
    def duration_text(self, obj: Run) -> str:
        minutes = obj.bins * obj.bin_size * BIN_UNIT_MINUTES.get(obj.bin_unit, 0)
        if not minutes:
            return obj.duration or "—"
        hours, rest = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{rest} min" if rest else ""]
        return " ".join(p for p in parts if p)

    @admin.display(description="Parameters")
    def run_parameters(self, obj: Run) -> SafeString:
        body = self._disk(obj) or {}
        parameters = body.get("parameters")
        if parameters is None:
            return mark_safe("—")
        seed = (body.get("rng") or {}).get("seed")
        rows = [(name, parameter_value_text(value)) for name, value in parameters.items()]
        rows.append(("rng seed", "—" if seed is None else str(seed)))
        return format_html(
            '<table class="parameter-table"><thead><tr><th>name</th><th>value</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            format_html_join("", "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>", rows),
        )

    def get_urls(self) -> list[URLPattern]:
        create = path("create/", self.admin_site.admin_view(self.create_run_view), name="runs_run_create")
        return [create, *super().get_urls()]

    def create_run_view(self, request: HttpRequest) -> HttpResponse:
        """Pick a template, fill its parameters, preview (dry run) or create: one orchestration service."""
        if not request.user.has_perm("runs.add_run"):
            raise PermissionDenied
        templates = template_list()
        chosen = request.POST.get("template_id") or request.GET.get("template")
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Create run",
            "templates": templates,
            "template": None,
            "form": None,
            "plan": None,
            "error": None,
        }
        if chosen:
            try:
                template = template_get(template_id=chosen)
            except FlowtimeError as exc:
                context["error"] = f"{exc.code}: {exc.detail}"
                return TemplateResponse(request, "admin/runs/run/create_run.html", context, status=422)
            context["template"] = template
            form = CreateRunForm(request.POST if request.method == "POST" else None, template=template)
            context["form"] = form
            if request.method == "POST" and form.is_valid():
                dry_run = "_preview" in request.POST
                try:
                    if dry_run:
                        plan = plan_body(plan_run(form.run_request(dry_run=True)))
                        context["plan"] = plan
                        context["plan_parameters"] = [
                            (name, parameter_value_text(value)) for name, value in plan["parameters"].items()
                        ]
                    else:
                        outcome = create_run(form.run_request(dry_run=False))
                        verb = "Reused the existing" if outcome.was_reused else "Created"
                        messages.success(request, f"{verb} run {outcome.run_id}.")
                        return HttpResponseRedirect(
                            reverse("admin:runs_run_change", args=[quote(outcome.run_id)])
                        )
                except FlowtimeError as exc:
                    form.add_service_error(exc)
            status = 422 if request.method == "POST" and form.errors else 200
            return TemplateResponse(request, "admin/runs/run/create_run.html", context, status=status)
        return TemplateResponse(request, "admin/runs/run/create_run.html", context)

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

    def _disk(self, obj: Run) -> Mapping[str, Any] | None:
        from runs.serializers import run_response_body

        # Kept on the row object, which lives for one request: the ModelAdmin is a process-wide
        # singleton, and a cache on it would show a run as it was before an overwrite or an edit.
        body: Mapping[str, Any] | None = getattr(obj, "_run_response_body", None)
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
                '<figure class="node-chart" data-node="{}"><figcaption>{}</figcaption>{}'
                '<script type="application/json" class="chart-data">{}</script>'
                '<div class="chart-tip" role="status" hidden></div></figure>',
                chart.node_id,
                chart.node_id,
                mark_safe(chart.svg),  # built by runs.replay, all text escaped
                # JSON of numbers, nulls and colour names; "</" could still end the script element.
                mark_safe(chart.data.replace("</", "<\\/")),
            )
            for chart in charts
        ]
        return mark_safe("".join(parts))  # each part is format_html output
