"""Strict request bodies (issue: typos were silently ignored): every unknown key at any level is a
400 ``invalid_request`` with one ``errors[]`` item per key, and a "did you mean" when one is close."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_helpers import assert_problem, body_of, field_error, post_run, problem, run_dirs, writer
from rest_framework.test import APIClient

from runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


def test_misspelt_parameters_is_refused_with_a_hint(client: APIClient, data_root: Path) -> None:
    response = post_run(client, {"templateId": "order-system", "params": {"bins": 3}})

    message = "Unknown field 'params'; did you mean 'parameters'?"
    assert_problem(
        response,
        problem("invalid_request", 400, message, errors=[field_error("params", "unknown_field", message)]),
    )
    assert run_dirs(data_root) == []
    assert Run.objects.count() == 0


def test_unknown_nested_option_names_its_path(client: APIClient, data_root: Path) -> None:
    response = post_run(client, {"templateId": "order-system", "options": {"deterministic": True}})

    message = "Unknown field 'deterministic'; did you mean 'deterministicRunId'?"
    assert_problem(
        response,
        problem(
            "invalid_request",
            400,
            message,
            errors=[field_error("options.deterministic", "unknown_field", message)],
        ),
    )
    assert run_dirs(data_root) == []


def test_every_unknown_field_is_listed_with_the_other_problems(client: APIClient) -> None:
    body = {
        "templateId": 7,
        "colour": "red",
        "telemetry": {"captureDirectory": "x", "bindigns": {}},
        "rng": {"seed": 1, "algorithm": "mt"},
    }
    response = post_run(client, body)

    assert_problem(
        response,
        problem(
            "invalid_request",
            400,
            "4 fields are invalid.",
            errors=[
                field_error("templateId", "invalid", "Not a valid string."),
                field_error(
                    "telemetry.bindigns",
                    "unknown_field",
                    "Unknown field 'bindigns'; did you mean 'bindings'?",
                ),
                field_error("rng.algorithm", "unknown_field", "Unknown field 'algorithm'."),
                field_error("colour", "unknown_field", "Unknown field 'colour'."),
            ],
        ),
    )


def test_the_body_flowtime_ui_sends_stays_accepted(client: APIClient, data_root: Path) -> None:
    """Spec 07 §7.5: ``rng.kind`` and ``rng.seed: null`` and every option the UI writes."""
    body = {
        "templateId": "order-system",
        "mode": "simulation",
        "parameters": {"bins": 4},
        "telemetry": None,
        "rng": {"kind": "PCG32", "seed": None},
        "options": {"dryRun": True, "deterministicRunId": True, "overwriteExisting": False, "runId": None},
    }
    response = post_run(client, body)

    assert response.status_code == 200, response.content
    assert body_of(response)["isDryRun"] is True


def test_rng_kind_other_than_pcg32_is_invalid_request(client: APIClient) -> None:
    response = post_run(client, {"templateId": "order-system", "rng": {"kind": "mt", "seed": 1}})

    message = "rng.kind must be 'pcg32'."
    assert_problem(
        response,
        problem("invalid_request", 400, message, errors=[field_error("rng.kind", "invalid", message)]),
    )


def test_blank_rng_kind_has_the_same_message(client: APIClient) -> None:
    response = post_run(client, {"templateId": "order-system", "rng": {"kind": " "}})

    message = "rng.kind must be 'pcg32'."
    assert_problem(
        response,
        problem("invalid_request", 400, message, errors=[field_error("rng.kind", "invalid", message)]),
    )
