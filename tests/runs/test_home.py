"""The front door (``/``), the docs pages and the browsable API for people in a browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import DETERMINISTIC_ORDER_SYSTEM, ORDER_SYSTEM_RUN_ID, PROBLEM_JSON, post_run, writer
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def test_front_door_counts_runs_and_templates_and_links_onwards(settings: Any) -> None:
    post_run(writer(settings), DETERMINISTIC_ORDER_SYSTEM)
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert '<div class="card" id="run-count"><div class="number">1</div>run\n' in html
    # Seven templates ship in templates_catalog/catalog/.
    assert '<div class="card" id="template-count"><div class="number">7</div>templates\n' in html
    assert f'<a href="/v1/runs/{ORDER_SYSTEM_RUN_ID}">{ORDER_SYSTEM_RUN_ID}</a>' in html
    for link in ("/v1/docs", "/v1/runs?format=api", "/admin/", "/docs/", "/admin/runs/run/create/"):
        assert f'href="{link}"' in html


def test_front_door_without_runs_says_how_to_make_one() -> None:
    html = Client().get("/").content.decode()
    assert "No runs yet." in html
    assert '<div class="number">0</div>runs' in html


def test_admin_view_site_lands_on_the_front_door() -> None:
    user = User.objects.create_superuser("admin", "admin@example.com", "x")
    client = Client()
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    assert '<a href="/">View site</a>' in html
    assert Client().get("/").status_code == 200


def test_docs_are_listed_and_served_as_text() -> None:
    client = Client()
    listing = client.get("/docs/").content.decode()
    assert '<a href="/docs/api.md">api.md</a>' in listing
    page = client.get("/docs/api.md")
    assert page["Content-Type"] == "text/plain; charset=utf-8"
    assert page.content == (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_bytes()


@pytest.mark.parametrize("name", ["openapi.yaml", "..%2Fpyproject.toml", "nope.md"])
def test_docs_serve_only_listed_markdown(name: str) -> None:
    response = Client().get(f"/docs/{name}")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_JSON


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/runs", {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}),
        ("/v1/runs?format=api", {}),
        ("/v1/templates", {"HTTP_ACCEPT": "text/html"}),
        ("/v1/templates/order-system?format=api", {}),
    ],
)
def test_browsable_api_for_browsers(path: str, headers: dict[str, str]) -> None:
    response = Client().get(path, **headers)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "Django REST framework" in html
    assert "&quot;totalCount&quot;" in html or "&quot;parameters&quot;" in html


def test_browsable_run_page_shows_the_body_pretty_printed(settings: Any) -> None:
    post_run(writer(settings), DETERMINISTIC_ORDER_SYSTEM)
    html = Client().get(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}", HTTP_ACCEPT="text/html").content.decode()
    assert "\n  &quot;isDryRun&quot;: false,\n" in html


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_json_stays_the_default(accept: str | None) -> None:
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = Client().get("/v1/runs", **headers)  # type: ignore[arg-type]
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["totalCount"] == 0


def test_errors_stay_problem_json_for_api_clients_and_are_html_for_browsers() -> None:
    api = Client().get("/v1/runs/nope")
    assert api.status_code == 404
    assert api["Content-Type"] == PROBLEM_JSON
    assert json.loads(api.content)["code"] == "run_not_found"
    browser = Client().get("/v1/runs/nope", HTTP_ACCEPT="text/html")
    assert browser.status_code == 404
    assert browser["Content-Type"] == "text/html; charset=utf-8"
    assert "run_not_found" in browser.content.decode()


def test_front_door_hides_runs_when_reads_need_an_account(settings: Any) -> None:
    post_run(writer(settings), DETERMINISTIC_ORDER_SYSTEM)
    settings.FLOWTIME_REQUIRE_AUTH_FOR_READS = True
    html = Client().get("/").content.decode()
    assert 'id="signed-out"' in html
    assert ORDER_SYSTEM_RUN_ID not in html and 'id="run-count"' not in html
    client = Client()
    client.force_login(User.objects.create_user("reader", password="pw"))
    assert ORDER_SYSTEM_RUN_ID in client.get("/").content.decode()
