"""Capture warnings travel with a telemetry run: RunResponse.warnings, warningCount, hasWarnings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient
from tests_fixtures import FIXTURE_BUNDLE

pytestmark = pytest.mark.django_db

GAP = {
    "code": "data_gap",
    "message": "Missing value at bin 3 for AuthService:Served.",
    "nodeId": "AuthService",
    "bins": [3],
}


@pytest.fixture
def client(settings: Any) -> APIClient:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    return APIClient()


@pytest.fixture
def bundle_with_warning(data_root: Path) -> str:
    target = data_root / "telemetry" / "demo-with-gap"
    shutil.copytree(FIXTURE_BUNDLE, target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest["warnings"] = [GAP]  # warnings are not covered by the file hashes
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return "demo-with-gap"


def _body(capture: str) -> dict[str, Any]:
    return {
        "templateId": "it-system-microservices",
        "telemetry": {
            "captureDirectory": capture,
            "bindings": {"telemetryRequestsSource": "LoadBalancer_arrivals.csv"},
        },
        "options": {"deterministicRunId": True},
    }


def test_capture_warnings_are_in_the_run_response_and_the_index(
    client: APIClient, bundle_with_warning: str
) -> None:
    plan = client.post("/v1/runs?dryRun=true", _body(bundle_with_warning), format="json")
    assert plan.status_code == 200
    assert plan.json()["plan"]["warnings"] == [GAP]

    created = client.post("/v1/runs", _body(bundle_with_warning), format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["metadata"]["mode"] == "telemetry"
    assert body["warnings"] == [
        {
            "code": "data_gap",
            "message": "Missing value at bin 3 for AuthService:Served.",
            "severity": "warning",
            "nodeId": "AuthService",
        }
    ]
    run_id = body["metadata"]["runId"]
    assert client.get(f"/v1/runs/{run_id}").json()["warnings"] == body["warnings"]

    listed = client.get("/v1/runs?hasWarnings=true").json()
    assert [(i["runId"], i["warningCount"]) for i in listed["items"]] == [(run_id, 1)]
    assert client.get("/v1/runs?hasWarnings=false").json()["totalCount"] == 0


def test_a_clean_run_has_no_warnings(client: APIClient) -> None:
    created = client.post("/v1/runs", {"templateId": "order-system"}, format="json")
    assert created.status_code == 201
    assert created.json()["warnings"] == []
    assert client.get("/v1/runs?hasWarnings=false").json()["totalCount"] == 1
