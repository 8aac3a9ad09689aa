"""Every request of docs/runs.http, executed in order against a live server, must succeed, with no
command in between: the whole flow, capture included, is HTTP."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from telemetry.capture import CaptureOptions
from telemetry.capture_ids import on_demand_capture_id

HTTP_FILE = Path(__file__).resolve().parent.parent / "docs" / "runs.http"


@dataclass
class Step:
    title: str
    name: str | None = None
    method: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    directives: list[str] = field(default_factory=list)


def parse_http_file(text: str) -> tuple[dict[str, str], list[Step]]:
    variables: dict[str, str] = {}
    steps: list[Step] = []
    blocks = re.split(r"^###\s*", text, flags=re.MULTILINE)
    for line in blocks[0].splitlines():
        m = re.match(r"^@(\w+)\s*=\s*(.+)$", line.strip())
        if m:
            variables[m.group(1)] = m.group(2).strip()
    for block in blocks[1:]:
        lines = block.splitlines()
        step = Step(title=lines[0].strip())
        i = 1
        while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
            comment = lines[i]
            if m := re.match(r"^#\s*@(\w+)\s*(.*)$", comment):
                step.directives.append(m.group(1))
                if m.group(1) == "name":
                    step.name = m.group(2).strip()
            i += 1
        if i < len(lines):
            step.method, step.url = lines[i].split(None, 1)
            i += 1
            while i < len(lines) and lines[i].strip():
                key, value = lines[i].split(":", 1)
                step.headers[key.strip()] = value.strip()
                i += 1
            step.body = "\n".join(lines[i:]).strip()
        steps.append(step)
    return variables, steps


def substitute(text: str, variables: dict[str, str], responses: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return variables[name]
        parts = name.split(".")
        node: Any = responses[parts[0]]
        assert parts[1:3] == ["response", "body"], name
        for key in parts[3:]:
            node = node[key]
        return str(node)

    return re.sub(r"\{\{([\w.]+)\}\}", value, text)


def test_http_file_is_the_documented_flow_with_no_command() -> None:
    text = HTTP_FILE.read_text(encoding="utf-8")
    _, steps = parse_http_file(text)

    assert "@exec" not in text
    assert {d for s in steps for d in s.directives} == {"name"}
    assert [(s.method, (s.url or "").split("?")[0].replace("{{base}}", "")) for s in steps] == [
        ("GET", "/v1/templates"),
        ("GET", "/v1/templates/order-system"),
        ("POST", "/v1/runs"),
        ("POST", "/v1/runs"),
        ("POST", "/v1/captures"),
        ("GET", "/v1/captures"),
        ("GET", "/v1/captures/{{capture.response.body.captureId}}"),
        ("POST", "/v1/runs"),
        ("POST", "/v1/runs"),
        ("GET", "/v1/runs"),
        ("GET", "/v1/runs/{{telemetryRun.response.body.metadata.runId}}"),
        ("GET", "/v1/runs/{{telemetryRun.response.body.metadata.runId}}/state"),
        ("GET", "/v1/runs/{{telemetryRun.response.body.metadata.runId}}/state_window"),
        ("GET", "/v1/runs/{{onDemandRun.response.body.metadata.runId}}/state_window"),
        ("GET", "/v1/runs/{{telemetryRun.response.body.metadata.runId}}/series/order_served"),
        ("DELETE", "/v1/captures/{{capture.response.body.captureId}}"),
        ("GET", "/v1/runs/{{telemetryRun.response.body.metadata.runId}}"),
        # spec 07: graph, health, the FlowTime UI facade
        ("GET", "/v1/runs/{{telemetryRun.response.body.metadata.runId}}/graph"),
        ("GET", "/v1/healthz"),
        ("GET", "/api/v1/healthz"),
        ("GET", "/api/v1/templates"),
        ("GET", "/api/v1/templates/it-system-microservices"),
        ("POST", "/api/v1/orchestration/runs"),
        ("POST", "/api/v1/orchestration/runs"),
        ("DELETE", "/v1/runs/{{simRun.response.body.metadata.runId}}"),
    ]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_every_request_in_runs_http_succeeds(live_server: Any, settings: Any, data_root: Path) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    variables, steps = parse_http_file(HTTP_FILE.read_text(encoding="utf-8"))
    variables["base"] = live_server.url
    responses: dict[str, Any] = {}
    statuses: list[tuple[str, int]] = []
    for step in steps:
        assert step.method and step.url, step.title
        request = urllib.request.Request(
            substitute(step.url, variables, responses),
            data=substitute(step.body, variables, responses).encode() if step.body else None,
            method=step.method,
            headers=step.headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
                content_type = response.headers.get("Content-Type", "")
                location = response.headers.get("Location")
        except urllib.error.HTTPError as exc:
            pytest.fail(f"{step.title}: {exc.code} {exc.read()[:500]!r}")
        statuses.append((step.title.split(".")[0], status))
        if step.name is not None:
            assert content_type.startswith("application/json")
            responses[step.name] = json.loads(payload)
        if step.method == "POST" and "/v1/captures" in step.url:
            assert location == "/v1/captures/order-demo"
    assert all(200 <= status < 300 for _, status in statuses), statuses
    by_step = dict(statuses)
    assert (by_step["4"], by_step["5"], by_step["8"], by_step["9"], by_step["16"]) == (
        201,
        201,
        201,
        201,
        204,
    )
    assert responses["plan"]["plan"]["predictedRunId"] == responses["simRun"]["metadata"]["runId"]
    sim_run = responses["simRun"]["metadata"]["runId"]
    assert responses["capture"]["sourceRunId"] == sim_run
    assert [item["captureId"] for item in responses["captures"]["items"]] == ["order-demo"]
    for name in ("telemetryRun", "onDemandRun"):
        assert responses[name]["metadata"]["mode"] == "telemetry"
        assert responses[name]["canReplay"] is True
    assert responses["afterDelete"]["canReplay"] is True
    # Both telemetry runs replay the simulation run's numbers bin by bin.
    windows = [
        {node["id"]: node["series"] for node in responses[name]["nodes"]}
        for name in ("telemetryWindow", "onDemandWindow")
    ]
    assert windows[0] == windows[1]
    assert windows[0]["OrderService"]["arrivals"] == [10, 14, 18, 12]
    # The deleted capture is gone; the one made on demand for step 9 stays.
    on_demand = on_demand_capture_id(sim_run, CaptureOptions())
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == [on_demand]
    assert responses["uiPreview"]["wasReused"] is False
    assert responses["uiRun"]["metadata"]["runId"] == responses["uiPreview"]["plan"]["predictedRunId"]
    assert statuses[-1] == ("25", 204)
