"""A bounded schemathesis run against docs/openapi.yaml: generated requests (valid and invalid) to
every operation, each answer checked by schemathesis' checks (fixed seed, a few hundred cases).

Check configuration, and why (docs/api.md lists the same):
- ``positive_data_acceptance`` also expects 404 and 422: a schema-valid request may name a run or a
  template that does not exist (``run_not_found``, ``template_not_found``), or parameters the
  template refuses (``parameter_invalid``); the schema cannot list the catalog or the runs on disk.
- ``positive_data_acceptance`` also expects 400 on ``POST /v1/runs`` and ``/state_window``: a rule
  between two fields (``CROSS_FIELD_RULES``) cannot be written in OpenAPI 3.0; and on ``GET /v1/runs``,
  whose ``cursor`` is valid only when the server signed it (and never together with ``page``).
- ``max_response_time`` stays off: the machine is shared, time limits are measured in ``bench/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"

ACCEPTED = ["2xx", "401", "403", "404", "409", "422"]
# Operations with a rule between two fields that OpenAPI 3.0 cannot state; a schema-valid request
# may break it and get 400 (each rule has its own test in the suite).
CROSS_FIELD_RULES = {
    "runs_create": "options.runId with options.deterministicRunId; mode telemetry without a capture",
    "ui_orchestration_runs_create": "the same body rules as runs_create",
    "captures_create": "both gap modes at once (options.gapDetect with options.gapFillGaps)",
    "runs_state_window_retrieve": "startBin after endBin",
    # Not two fields, but the same limit of OpenAPI: a cursor is valid only when the server signed it.
    "runs_list": "cursor together with page; a cursor the server did not issue",
}

TOKEN = "f" * 40  # a DRF token key (40 characters), made for the fuzzing user by the fixture

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261206,
        "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {TOKEN}"}}},
        "generation": {"mode": "all", "max-examples": 20, "database": "none"},
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
        },
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
            }
            for operation_id in CROSS_FIELD_RULES
        ],
    }
)

schema = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Django closes database connections when a WSGI request ends; the test client turns that off,
    and so must this direct WSGI transport, or the test transaction's connection would be closed."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def token(db: None) -> str:
    user = User.objects.create_user("fuzzer")
    return Token.objects.create(user=user, key=TOKEN).key


@pytest.mark.django_db
@schema.parametrize()
# One data root and one database for all the examples of an operation is intended: later requests
# see the runs earlier ones made, as a client would.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
def test_api_follows_its_schema(case: Any, token: str, data_root: Path, keep_test_connection: None) -> None:
    case.call_and_validate()
