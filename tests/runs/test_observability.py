"""Spec 05 §9: named JSON log events, X-Request-ID, and Prometheus counters that move."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from runs.observability import JsonLineFormatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings: object) -> APIClient:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True  # type: ignore[attr-defined]
    return APIClient()


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _events(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonLineFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "flowtime.runs"]


def test_run_created_event_and_counter(client: APIClient, caplog: pytest.LogCaptureFixture) -> None:
    labels = {"mode": "simulation", "template": "order-system"}
    before = _sample("flowtime_runs_created_total", labels)
    seconds_before = _sample("flowtime_run_create_seconds_count", {"mode": "simulation", "stage": "total"})
    with caplog.at_level(logging.INFO, logger="flowtime.runs"):
        response = client.post(
            "/v1/runs",
            {"templateId": "order-system", "options": {"deterministicRunId": True}},
            format="json",
            HTTP_X_REQUEST_ID="req-created-1",
        )
    assert response.status_code == 201
    run_id = response.json()["metadata"]["runId"]
    events = _events(caplog)
    names = [e["event"] for e in events]
    assert names[0] == "run_requested"
    assert "run_planned" in names
    stages = [e["stage"] for e in events if e["event"] == "run_stage"]
    assert stages == [
        "validate",
        "resolve_template",
        "generate_model",
        "evaluate",
        "write_artifacts",
        "publish",
        "index",
    ]
    created = [e for e in events if e["event"] == "run_created"]
    assert len(created) == 1
    assert created[0]["runId"] == run_id
    assert created[0]["templateId"] == "order-system"
    assert created[0]["mode"] == "simulation"
    assert isinstance(created[0]["durationMs"], float)
    assert {e["requestId"] for e in events} == {"req-created-1"}  # every run event names its request
    assert _sample("flowtime_runs_created_total", labels) == before + 1
    assert (
        _sample("flowtime_run_create_seconds_count", {"mode": "simulation", "stage": "total"})
        == seconds_before + 1
    )


def test_run_failed_event_and_counter(client: APIClient, caplog: pytest.LogCaptureFixture) -> None:
    labels = {"mode": "simulation", "template": "order-system", "code": "parameter_invalid"}
    before = _sample("flowtime_runs_failed_total", labels)
    with caplog.at_level(logging.INFO, logger="flowtime.runs"):
        response = client.post(
            "/v1/runs", {"templateId": "order-system", "parameters": {"bins": 0}}, format="json"
        )
    assert response.status_code == 422
    failed = [e for e in _events(caplog) if e["event"] == "run_failed"]
    assert len(failed) == 1
    assert failed[0]["code"] == "parameter_invalid"
    assert failed[0]["templateId"] == "order-system"
    assert failed[0]["mode"] == "simulation"
    assert _sample("flowtime_runs_failed_total", labels) == before + 1


def test_failed_run_with_unknown_template_does_not_grow_label_values(client: APIClient) -> None:
    response = client.post("/v1/runs", {"templateId": "no-such-template-xyz"}, format="json")
    assert response.status_code == 422
    labels = {"mode": "simulation", "template": "no-such-template-xyz", "code": "template_not_found"}
    assert REGISTRY.get_sample_value("flowtime_runs_failed_total", labels) is None
    assert (
        _sample(
            "flowtime_runs_failed_total",
            {"mode": "simulation", "template": "unknown", "code": "template_not_found"},
        )
        >= 1
    )


def test_reused_run_logs_run_reused(client: APIClient, caplog: pytest.LogCaptureFixture) -> None:
    body = {"templateId": "order-system", "options": {"deterministicRunId": True}}
    assert client.post("/v1/runs", body, format="json").status_code == 201
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="flowtime.runs"):
        again = client.post("/v1/runs", body, format="json")
    assert again.status_code == 200
    names = [e["event"] for e in _events(caplog)]
    assert "run_reused" in names
    assert "run_created" not in names


def test_request_id_is_echoed_or_generated(client: APIClient) -> None:
    given = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    made = client.get("/healthz")
    assert len(made["X-Request-ID"]) == 32
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert hostile["X-Request-ID"] != "bad id\nwith newline"


def test_request_log_line_has_method_path_status_duration(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="flowtime.http"):
        client.get("/v1/runs", HTTP_X_REQUEST_ID="req-1")
    lines = [json.loads(JsonLineFormatter().format(r)) for r in caplog.records if r.name == "flowtime.http"]
    assert lines[-1]["event"] == "http_request"
    assert lines[-1]["method"] == "GET"
    assert lines[-1]["path"] == "/v1/runs"
    assert lines[-1]["status"] == 200
    assert lines[-1]["requestId"] == "req-1"
    assert isinstance(lines[-1]["durationMs"], float)


def test_metrics_endpoint_serves_prometheus_text(client: APIClient) -> None:
    client.post("/v1/runs", {"templateId": "order-system"}, format="json")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'flowtime_runs_created_total{mode="simulation",template="order-system"}' in text
    assert "flowtime_run_create_seconds_bucket" in text
    assert 'flowtime_http_requests_total{method="POST",route="v1/runs",status="201"}' in text


def test_healthz(client: APIClient, data_root: Path) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_an_invalid_mode_does_not_become_a_label_value(client: APIClient) -> None:
    response = client.post("/v1/runs", {"templateId": "order-system", "mode": "zzz-mode"}, format="json")
    assert response.status_code == 400
    text = client.get("/metrics").content.decode()
    assert "zzz-mode" not in text
    assert 'flowtime_runs_failed_total{code="invalid_request",mode="invalid",template="unknown"}' in text


def test_every_event_after_planning_names_the_run_and_stages_carry_durations(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="flowtime.runs"):
        response = client.post(
            "/v1/runs", {"templateId": "order-system", "options": {"deterministicRunId": True}}, format="json"
        )
    run_id = response.json()["metadata"]["runId"]
    events = _events(caplog)
    planned_at = [e["event"] for e in events].index("run_planned")
    after = events[planned_at:]
    assert [(e["runId"], e["templateId"], e["mode"]) for e in after] == [
        (run_id, "order-system", "simulation")
    ] * len(after)
    stage_events = [e for e in events if e["event"] == "run_stage"]
    assert len(stage_events) == 7
    assert all(isinstance(e["durationMs"], float) and e["durationMs"] >= 0 for e in stage_events)


def test_a_random_id_is_named_from_the_stage_that_draws_it(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="flowtime.runs"):
        response = client.post("/v1/runs", {"templateId": "order-system"}, format="json")
    run_id = response.json()["metadata"]["runId"]
    stages = {e["stage"]: e["runId"] for e in _events(caplog) if e["event"] == "run_stage"}
    assert [stages[s] for s in ("write_artifacts", "publish", "index")] == [run_id] * 3


def test_run_failed_is_a_warning_for_a_refused_request(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="flowtime.runs"):
        client.post(
            "/v1/runs",
            {"templateId": "order-system", "parameters": {"bins": 0}, "options": {"runId": "mine"}},
            format="json",
        )
    failed = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    assert [r.levelno for r in failed] == [logging.WARNING]
    line = json.loads(JsonLineFormatter().format(failed[0]))
    assert (line["level"], line["runId"], line["code"]) == ("warning", "mine", "parameter_invalid")
    assert isinstance(line["durationMs"], float)


def test_run_failed_is_an_error_for_an_internal_failure(
    client: APIClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runs import run_builder

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(run_builder, "evaluate", broken)
    with caplog.at_level(logging.INFO, logger="flowtime.runs"):
        response = client.post(
            "/v1/runs", {"templateId": "order-system", "options": {"deterministicRunId": True}}, format="json"
        )
    assert response.status_code == 500
    failed = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    assert [r.levelno for r in failed] == [logging.ERROR]
    line = json.loads(JsonLineFormatter().format(failed[0]))
    assert (line["code"], line["stage"], line["templateId"]) == ("internal_error", "evaluate", "order-system")
    assert line["runId"].startswith("run_order-system_")


def test_ts_is_iso_8601_utc_with_milliseconds() -> None:
    record = logging.LogRecord("flowtime.runs", logging.INFO, __file__, 1, "x", None, None)
    record.created = 1_764_979_200.5  # 2025-12-06T00:00:00.500 UTC, worked out by hand

    line = json.loads(JsonLineFormatter().format(record))

    assert line["ts"] == "2025-12-06T00:00:00.500Z"
