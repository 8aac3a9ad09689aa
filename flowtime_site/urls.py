from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from flowtime_site.health import service_health_view, ui_service_health_view
from runs import flowtime_ui_views, home, state_views
from runs.views import RunViewSet, metrics_view
from telemetry.views import CaptureViewSet
from templates_catalog.views import TemplateViewSet


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


router = SimpleRouter(trailing_slash=False)
router.register("runs", RunViewSet, basename="run")
router.register("templates", TemplateViewSet, basename="template")
router.register("captures", CaptureViewSet, basename="capture")

RUN = "runs/<str:run_id>"

v1 = [
    path(f"{RUN}/state", state_views.state_view, name="run-state"),
    path(f"{RUN}/state_window", state_views.state_window_view, name="run-state-window"),
    path(f"{RUN}/index", state_views.index_view, name="run-index"),
    path(f"{RUN}/series/<str:series_id>", state_views.series_view, name="run-series"),
    path(f"{RUN}/model", state_views.model_view, name="run-model"),
    path(f"{RUN}/graph", state_views.graph_view, name="run-graph"),
    path("healthz", service_health_view, name="service-health"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *router.urls,
]

# FlowTime's web UI calls these on its "Sim" service; here they share the one origin (spec 07 §7).
api_v1 = [
    path("healthz", ui_service_health_view, name="ui-health"),
    path("templates", flowtime_ui_views.ui_templates_view, name="ui-templates"),
    path(
        "templates/categories", flowtime_ui_views.ui_template_categories_view, name="ui-template-categories"
    ),
    path("templates/<str:template_id>", flowtime_ui_views.ui_template_view, name="ui-template"),
    path("orchestration/runs", flowtime_ui_views.ui_orchestration_runs_view, name="ui-orchestration-runs"),
]

urlpatterns = [
    path("", home.home_view, name="home"),
    path("docs/", home.docs_index_view, name="docs-index"),
    path("docs/<str:name>", home.doc_view, name="doc"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("v1/", include(v1)),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]

handler400 = "flowtime_site.problems.handler400"
handler403 = "flowtime_site.problems.handler403"
handler404 = "flowtime_site.problems.handler404"
handler500 = "flowtime_site.problems.handler500"
