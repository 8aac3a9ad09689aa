"""The suite-wide response hook (``tests/openapi_contract.py``) reports each kind of disagreement."""

from __future__ import annotations

import json
from typing import Any

import pytest
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
    # /v1/templates: the runs listing answers one of two page shapes (page or cursor), so its
    # messages name the alternatives rather than the one broken rule.
    assert check("GET", "/v1/templates", 200, "application/json", [PAGE]) == [
        "GET /v1/templates → 200: at (body): [{'items': [], 'totalCount': 0, 'page': 1, 'pageSize': 50, "
        "'next': None, 'previous': None}] is not of type 'object'"
    ]


def test_an_undocumented_member_fails() -> None:
    problems = check("GET", "/v1/templates", 200, "application/json", {**PAGE, "extra": 1})

    assert problems == [
        "GET /v1/templates → 200: at (body): Additional properties are not allowed ('extra' was unexpected)"
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


def test_every_example_in_the_document_matches_its_schema() -> None:
    from openapi_contract import example_problems

    assert example_problems() == []


def test_every_operation_has_a_summary_and_the_main_ones_an_example() -> None:
    import yaml
    from openapi_contract import DOCUMENT

    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert [key for key, operation in operations.items() if not operation.get("summary")] == []
    with_examples = sorted(
        operation["operationId"]
        for operation in operations.values()
        if "examples" in str(operation.get("responses", {}))
        or "examples" in str(operation.get("requestBody"))
    )
    assert with_examples == [
        "runs_create",
        "runs_index_retrieve",
        "runs_list",
        "runs_retrieve",
        "runs_state_retrieve",
        "runs_state_window_retrieve",
        "templates_list",
        "templates_retrieve",
    ]


def test_browsable_pages_and_preflights_are_not_the_json_contract() -> None:
    assert contract_problems("GET", "/v1/runs", 200, "text/html; charset=utf-8", b"<html></html>") == []
    assert contract_problems("OPTIONS", "/v1/runs", 200, "application/json", b"{}") == []


def _cut_to(example: Any, real: Any) -> Any:
    """``real`` cut to the example's extent: lists to as many entries as the example keeps (the
    examples shorten long lists), everything else as it is."""
    if isinstance(example, dict) and isinstance(real, dict):
        return {key: _cut_to(example[key], value) if key in example else value for key, value in real.items()}
    if isinstance(example, list) and isinstance(real, list):
        return [_cut_to(item, value) for item, value in zip(example, real, strict=False)]
    return real


@pytest.mark.django_db
def test_the_published_examples_are_real_answers_of_this_server(settings: Any) -> None:
    """Each response example of ``runs.openapi_examples`` is what the server answers for the
    order-system run it describes (creation times masked, long lists cut to the example's entries)."""
    from api_helpers import body_of, scrub, writer

    from runs import openapi_examples as examples

    client = writer(settings)
    created = client.post(
        "/v1/runs", {"templateId": "order-system", "options": {"deterministicRunId": True}}, format="json"
    )
    run = f"/v1/runs/{examples.RUN_METADATA['runId']}"
    answers = {
        "RUN_RESPONSE": created,
        "DRY_RUN_RESPONSE": client.post(
            "/v1/runs",
            {"templateId": "order-system", "options": {"dryRun": True, "deterministicRunId": True}},
            format="json",
        ),
        "PARAMETER_PROBLEM": client.post(
            "/v1/runs", {"templateId": "order-system", "parameters": {"bins": 0}}, format="json"
        ),
        "RUN_LIST_PAGE": client.get("/v1/runs"),
        "TEMPLATE_LIST_PAGE": client.get("/v1/templates?search=order"),
        "TEMPLATE_DETAIL": client.get("/v1/templates/order-system"),
        "STATE_SNAPSHOT": client.get(f"{run}/state?binIndex=0"),
        "STATE_WINDOW": client.get(f"{run}/state_window?startBin=0&endBin=1"),
        "SERIES_INDEX": client.get(f"{run}/index"),
    }
    # Every example is checked here (RUN_METADATA and ORDER_SYSTEM_PARAMETERS are parts of them).
    parts = {"RUN_METADATA", "ORDER_SYSTEM_PARAMETERS"}
    assert set(answers) == {name for name in vars(examples) if name.isupper()} - parts
    for name, response in answers.items():
        example = getattr(examples, name)
        assert scrub(_cut_to(example, body_of(response))) == scrub(example), name
