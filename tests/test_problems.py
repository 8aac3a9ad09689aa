"""Errors raised outside DRF (plain Django views, host checks) leave as problem+json too (spec 05 §7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, RequestFactory

from flowtime_site import problems

PROBLEM_JSON = "application/problem+json"


def _body(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == PROBLEM_JSON
    body: dict[str, Any] = json.loads(response.content)
    assert body["error"] == body["detail"]
    assert body["type"] == f"/problems/{body['code']}"
    return body


def test_a_crash_in_a_plain_django_view_is_internal_error_without_a_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runs import views

    def explode() -> bytes:
        raise RuntimeError("/secret/server/path exploded")

    monkeypatch.setattr(views, "generate_latest", explode)
    response = Client(raise_request_exception=False).get("/metrics", HTTP_X_REQUEST_ID="req-500")
    assert response.status_code == 500
    body = _body(response)
    assert body["code"] == "internal_error"
    assert body["detail"] == "An internal error occurred (request id req-500)."
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_a_disallowed_host_is_a_400_problem() -> None:
    response = Client(raise_request_exception=False).get("/healthz", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert _body(response)["code"] == "invalid_request"


def test_an_unknown_route_outside_the_api_is_a_404_problem() -> None:
    response = Client().get("/nothing/here")
    assert response.status_code == 404
    assert _body(response) == {
        "type": "/problems/not_found",
        "title": "Not found",
        "status": 404,
        "detail": "Not found.",
        "code": "not_found",
        "error": "Not found.",
        "errors": [],
        "instance": "/nothing/here",
    }


def test_the_403_handler_renders_permission_denied() -> None:
    request = RequestFactory().get("/admin/secret")
    body = _body(problems.handler403(request))
    assert (body["status"], body["code"], body["instance"]) == (403, "permission_denied", "/admin/secret")
