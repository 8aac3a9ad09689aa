"""The suite-wide response hook (``tests/openapi_contract.py``) reports each kind of disagreement."""

from __future__ import annotations

import json

from openapi_contract import contract_problems

PAGE = {"items": [], "totalCount": 0, "page": 1, "pageSize": 50, "next": None, "previous": None}
PROBLEM = {
    "type": "/problems/run_not_found",
    "title": "Run not found",
    "status": 404,
    "detail": "Run 'x' was not found.",
    "code": "run_not_found",
    "error": "Run 'x' was not found.",
    "errors": [],
    "instance": "/v1/runs/x",
}


def check(method: str, path: str, status: int, content_type: str, body: object) -> list[str]:
    return contract_problems(method, path, status, content_type, json.dumps(body).encode())


def test_a_matching_page_and_problem_pass() -> None:
    assert check("GET", "/v1/runs", 200, "application/json", PAGE) == []
    assert check("GET", "/v1/runs/x", 404, "application/problem+json", PROBLEM) == []


def test_an_array_where_the_document_says_page_object_fails() -> None:
    assert check("GET", "/v1/runs", 200, "application/json", [PAGE]) == [
        "GET /v1/runs → 200: at (body): [{'items': [], 'totalCount': 0, 'page': 1, 'pageSize': 50, "
        "'next': None, 'previous': None}] is not of type 'object'"
    ]


def test_an_undocumented_member_fails() -> None:
    problems = check("GET", "/v1/runs", 200, "application/json", {**PAGE, "extra": 1})

    assert problems == [
        "GET /v1/runs → 200: at (body): Additional properties are not allowed ('extra' was unexpected)"
    ]


def test_an_undocumented_status_fails() -> None:
    assert check("GET", "/v1/templates", 418, "application/json", {}) == [
        "GET /v1/templates → 418: status 418 is not documented"
    ]


def test_an_error_sent_as_plain_json_fails() -> None:
    assert check("GET", "/v1/runs/x", 404, "application/json", PROBLEM) == [
        "GET /v1/runs/{run_id} → 404: content type application/json is not documented "
        "(application/problem+json)"
    ]


def test_an_undocumented_api_path_fails_but_unknown_routes_and_other_prefixes_pass() -> None:
    assert check("GET", "/v1/nowhere", 200, "application/json", {}) == [
        "/v1/nowhere is not a path of docs/openapi.yaml"
    ]
    assert check("GET", "/v1/nowhere", 404, "application/problem+json", PROBLEM) == []
    assert check("GET", "/healthz", 200, "application/json", {"status": "ok"}) == []
