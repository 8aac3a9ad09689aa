"""The front door at ``/``: what this service is, how many runs and templates it holds, where to go next."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from runs import selectors
from templates_catalog.selectors import template_list

LATEST_RUNS = 10
DOCS_DIR = Path(settings.BASE_DIR) / "docs"


def home_view(request: HttpRequest) -> HttpResponse:
    if settings.FLOWTIME_REQUIRE_AUTH_FOR_READS and not request.user.is_authenticated:
        # The API would refuse these reads; the front door does not show them either.
        return render(request, "runs/home.html", {"signed_out": True})
    latest, run_count = selectors.run_list_page({}, offset=0, limit=LATEST_RUNS)
    return render(
        request,
        "runs/home.html",
        {"run_count": run_count, "template_count": len(template_list()), "latest_runs": latest},
    )


def _doc_files() -> dict[str, Path]:
    return {path.name: path for path in sorted(DOCS_DIR.glob("*.md"))}


def docs_index_view(request: HttpRequest) -> HttpResponse:
    """The project's Markdown docs (``docs/*.md``), listed for a browser."""
    return render(request, "runs/docs_index.html", {"docs": list(_doc_files())})


def doc_view(request: HttpRequest, name: str) -> HttpResponse:
    """One Markdown file of ``docs/`` as plain text; only names in the listing, so no path escapes."""
    path = _doc_files().get(name)
    if path is None:
        raise Http404(name)
    return HttpResponse(path.read_bytes(), content_type="text/plain; charset=utf-8")
