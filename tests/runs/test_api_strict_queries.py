"""Strict list queries: an empty value or an unknown name is a 400 ``invalid_parameter`` naming the
parameter (and, for unknown names, the accepted ones), so nobody believes a filter applied."""

from __future__ import annotations

import pytest
from api_helpers import assert_problem, body_of, field_error, problem
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

RUN_PARAMETERS = (
    "page, pageSize, mode, templateId, hasWarnings, createdAfter, createdBefore, search, ordering, cursor"
)
TEMPLATE_PARAMETERS = "page, pageSize, mode, tag, search"


def invalid_parameter(path: str, name: str, detail: str) -> dict[str, object]:
    return problem(
        "invalid_parameter",
        400,
        detail,
        instance=path,
        errors=[field_error(name, "invalid_parameter", detail)],
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/runs", "createdBefore"),
        ("/v1/runs", "createdAfter"),
        ("/v1/runs", "mode"),
        ("/v1/runs", "hasWarnings"),
        ("/v1/runs", "ordering"),
        ("/v1/runs", "templateId"),
        ("/v1/runs", "search"),
        ("/v1/runs", "page"),
        ("/v1/templates", "tag"),
        ("/v1/templates", "mode"),
        ("/v1/templates", "search"),
    ],
)
def test_empty_value_is_invalid_parameter(path: str, name: str) -> None:
    response = APIClient().get(f"{path}?{name}=")

    detail = f"{name} must not be empty; leave it out to not filter."
    assert_problem(response, invalid_parameter(path, name, detail))


def test_unknown_parameter_names_itself_the_closest_and_the_accepted_ones() -> None:
    response = APIClient().get("/v1/runs?template=order-system")

    detail = (
        "Unknown query parameter 'template'. Did you mean 'templateId'? "
        f"Accepted parameters: {RUN_PARAMETERS}."
    )
    assert_problem(response, invalid_parameter("/v1/runs", "template", detail))


def test_unknown_template_list_parameter_without_a_close_name() -> None:
    response = APIClient().get("/v1/templates?colour=red")

    detail = f"Unknown query parameter 'colour'. Accepted parameters: {TEMPLATE_PARAMETERS}."
    assert_problem(response, invalid_parameter("/v1/templates", "colour", detail))


@pytest.mark.parametrize("path", ["/v1/runs?format=json", "/v1/templates?format=json&mode=simulation"])
def test_format_stays_accepted(path: str) -> None:
    response = APIClient().get(path)

    assert response.status_code == 200, response.content
    assert "items" in body_of(response)
