from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from runs import home, state_views
from runs.views import RunViewSet, metrics_view
from templates_catalog.views import TemplateViewSet


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


router = SimpleRouter(trailing_slash=False)
router.register("runs", RunViewSet, basename="run")
router.register("templates", TemplateViewSet, basename="template")

RUN = "runs/<str:run_id>"

v1 = [
    path(f"{RUN}/state", state_views.state_view, name="run-state"),
    path(f"{RUN}/state_window", state_views.state_window_view, name="run-state-window"),
    path(f"{RUN}/index", state_views.index_view, name="run-index"),
    path(f"{RUN}/series/<str:series_id>", state_views.series_view, name="run-series"),
    path(f"{RUN}/model", state_views.model_view, name="run-model"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *router.urls,
]

urlpatterns = [
    path("", home.home_view, name="home"),
    path("docs/", home.docs_index_view, name="docs-index"),
    path("docs/<str:name>", home.doc_view, name="doc"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("v1/", include(v1)),
    path("admin/", admin.site.urls),
]

handler400 = "flowtime_site.problems.handler400"
handler403 = "flowtime_site.problems.handler403"
handler404 = "flowtime_site.problems.handler404"
handler500 = "flowtime_site.problems.handler500"
