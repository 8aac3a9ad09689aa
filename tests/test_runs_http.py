"""Every request of docs/runs.http, executed in order against a live server, must succeed."""

from __future__ import annotations

import json
import re
import shlex
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

HTTP_FILE = Path(__file__).resolve().parent.parent / "docs" / "runs.http"


@dataclass
class Step:
    title: str
    name: str | None = None
    method: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    exec_args: str | None = None


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
            if m := re.match(r"^#\s*@name\s+(\w+)", comment):
                step.name = m.group(1)
            if m := re.match(r"^#\s*@exec\s+(.+)$", comment):
                step.exec_args = m.group(1)
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


def test_http_file_parses_into_the_documented_flow() -> None:
    _, steps = parse_http_file(HTTP_FILE.read_text(encoding="utf-8"))
    assert [s.method for s in steps] == [
        "GET", "GET", "POST", "POST", None, "POST", "GET", "GET", "GET", "GET", "GET", "DELETE",
    ]  # fmt: skip
    assert steps[4].exec_args is not None and steps[4].exec_args.startswith("telemetry_capture")


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_every_request_in_runs_http_succeeds(live_server: Any, settings: Any, data_root: Path) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    variables, steps = parse_http_file(HTTP_FILE.read_text(encoding="utf-8"))
    variables["base"] = live_server.url
    variables["dataDir"] = str(data_root)
    responses: dict[str, Any] = {}
    statuses: list[tuple[str, int]] = []
    for step in steps:
        if step.exec_args is not None:
            args = shlex.split(substitute(step.exec_args, variables, responses))
            call_command(*args, stdout=StringIO(), stderr=StringIO())
            continue
        assert step.method and step.url
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
        except urllib.error.HTTPError as exc:
            pytest.fail(f"{step.title}: {exc.code} {exc.read()[:500]!r}")
        statuses.append((step.title, status))
        if step.name is not None:
            assert content_type.startswith("application/json")
            responses[step.name] = json.loads(payload)
    assert all(200 <= status < 300 for _, status in statuses), statuses
    assert (
        dict(statuses)["4. Make the simulation run (201; the same body again answers 200 with wasReused)"]
        == 201
    )
    assert responses["plan"]["plan"]["predictedRunId"] == responses["simRun"]["metadata"]["runId"]
    assert responses["telemetryRun"]["metadata"]["mode"] == "telemetry"
    assert responses["telemetryRun"]["canReplay"] is True
    assert statuses[-1][0].startswith("12. Delete the simulation run")
    assert statuses[-1][1] == 204
