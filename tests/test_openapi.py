"""The committed OpenAPI document (docs/openapi.yaml) is what the code generates, without warnings."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


def test_schema_generates_without_warnings_and_matches_the_committed_file(tmp_path: Path) -> None:
    target = tmp_path / "openapi.yaml"
    # --fail-on-warn turns any generator warning into an error; --validate checks it against OpenAPI 3.
    call_command(
        "spectacular",
        "--file",
        str(target),
        "--validate",
        "--fail-on-warn",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    generated = target.read_text(encoding="utf-8")
    assert generated == COMMITTED.read_text(encoding="utf-8"), (
        "docs/openapi.yaml is stale: run `.venv/bin/python manage.py spectacular --file docs/openapi.yaml`"
    )


def test_schema_documents_every_public_route() -> None:
    text = COMMITTED.read_text(encoding="utf-8")
    for route in (
        "/v1/runs:",
        "/v1/runs/{run_id}:",
        "/v1/runs/{run_id}/state:",
        "/v1/runs/{run_id}/state_window:",
        "/v1/runs/{run_id}/index:",
        "/v1/runs/{run_id}/series/{series_id}:",
        "/v1/runs/{run_id}/model:",
        "/v1/templates:",
        "/v1/templates/{template_id}:",
    ):
        assert f"  {route}" in text, route


def test_schema_and_docs_are_served(client: object) -> None:
    from django.test import Client

    c = Client()
    schema = c.get("/v1/schema")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = c.get("/v1/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_docs_and_admin_assets_are_served_without_a_cdn() -> None:
    from django.test import Client

    c = Client()
    docs = c.get("/v1/docs").content.decode()
    assert "cdn.jsdelivr" not in docs and "unpkg" not in docs
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    asset = c.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
    css = c.get("/static/admin/css/base.css")  # DEBUG is off in tests, as in `make run`
    assert css.status_code == 200
