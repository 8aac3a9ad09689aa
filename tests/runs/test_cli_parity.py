"""`create_run --json` prints exactly the API body; `reindex_runs` rebuilds the index from disk."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings: Any) -> APIClient:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    return APIClient()


def cli_json(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("create_run", *args, "--json", stdout=out, stderr=StringIO())
    body: dict[str, Any] = json.loads(out.getvalue())
    return body


def test_cli_json_equals_the_api_body(client: APIClient) -> None:
    cli_body = cli_json(
        "--template-id", "support-queue", "--param", "slaMinutes=15", "--seed", "7", "--deterministic-run-id"
    )  # fmt: skip
    api = client.post(
        "/v1/runs",
        {
            "templateId": "support-queue",
            "parameters": {"slaMinutes": 15},
            "rng": {"seed": 7},
            "options": {"deterministicRunId": True},
        },
        format="json",
    )
    assert api.status_code == 200  # the CLI made it; the API replays it
    api_body = api.json()
    assert api_body["wasReused"] is True
    assert cli_body["wasReused"] is False
    assert {**api_body, "wasReused": False} == cli_body
    assert client.get(f"/v1/runs/{cli_body['metadata']['runId']}").json() == cli_body


def test_cli_dry_run_json_equals_the_api_dry_run(client: APIClient) -> None:
    cli_body = cli_json("--template-id", "order-system", "--deterministic-run-id", "--dry-run")
    api = client.post(
        "/v1/runs?dryRun=true",
        {"templateId": "order-system", "options": {"deterministicRunId": True}},
        format="json",
    )
    assert api.status_code == 200
    assert api.json() == cli_body


def _copy_run_by_hand(data_root: Path, run_id: str, new_id: str) -> Path:
    source = data_root / "runs" / run_id
    target = data_root / "runs" / new_id
    shutil.copytree(source, target)
    run_json = json.loads((target / "run.json").read_text())
    run_json["runId"] = new_id
    (target / "run.json").write_text(json.dumps(run_json, indent=2) + "\n")
    return target


def test_reindex_adds_hand_copied_runs_and_prunes_missing_ones(client: APIClient, data_root: Path) -> None:
    made = cli_json("--template-id", "order-system", "--deterministic-run-id")
    run_id = made["metadata"]["runId"]
    _copy_run_by_hand(data_root, run_id, "copied-by-hand")
    listed = {item["runId"] for item in client.get("/v1/runs").json()["items"]}
    assert listed == {run_id}

    out = StringIO()
    call_command("reindex_runs", "--dry-run", stdout=out, stderr=StringIO())
    assert "Would index 2 runs." in out.getvalue()
    assert not Run.objects.filter(run_id="copied-by-hand").exists()

    call_command("reindex_runs", stdout=StringIO(), stderr=StringIO())
    listed_items = client.get("/v1/runs?ordering=runId").json()["items"]
    assert [item["runId"] for item in listed_items] == ["copied-by-hand", run_id]
    # createdUtc survives reindexing: it is read from run.json, never from mtimes (spec 03 §6).
    assert listed_items[1]["createdUtc"] == made["createdUtc"]
    run_json = json.loads((data_root / "runs" / run_id / "run.json").read_text())
    assert listed_items[1]["createdUtc"] == run_json["createdUtc"]

    shutil.rmtree(data_root / "runs" / "copied-by-hand")
    call_command("reindex_runs", stdout=StringIO(), stderr=StringIO())
    assert Run.objects.filter(run_id="copied-by-hand").exists()  # without --prune the row stays
    out = StringIO()
    call_command("reindex_runs", "--prune", stdout=out, stderr=StringIO())
    assert "Pruned 1 rows." in out.getvalue()
    assert not Run.objects.filter(run_id="copied-by-hand").exists()


def test_reindex_skips_broken_directories_and_staging(data_root: Path) -> None:
    cli_json("--template-id", "order-system", "--deterministic-run-id")
    (data_root / "runs" / "broken-run").mkdir()
    (data_root / "runs" / "broken-run" / "run.json").write_text("{not json")
    (data_root / "runs" / ".staging" / "abc").mkdir(parents=True)
    out = StringIO()
    call_command("reindex_runs", "--json", stdout=out, stderr=StringIO())
    report = json.loads(out.getvalue())
    assert report["indexed"] == 1
    assert [s["runId"] for s in report["skipped"]] == ["broken-run"]
    assert Run.objects.count() == 1


def test_reindex_is_idempotent(data_root: Path) -> None:
    cli_json("--template-id", "order-system", "--deterministic-run-id")
    call_command("reindex_runs", stdout=StringIO(), stderr=StringIO())
    first = list(Run.objects.values())
    call_command("reindex_runs", stdout=StringIO(), stderr=StringIO())
    second = list(Run.objects.values())
    for row in first + second:
        row.pop("indexed_at")
    assert first == second


def test_reindex_in_worker_processes_gives_the_same_rows(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runs import services

    cli_json("--template-id", "order-system", "--deterministic-run-id")
    cli_json("--template-id", "support-queue", "--deterministic-run-id")
    (data_root / "runs" / "broken-run").mkdir()
    services.runs_reindex(workers=1)
    inline = sorted(
        Run.objects.values_list("run_id", "template_id", "can_replay", "created_utc", "input_hash")
    )
    Run.objects.all().delete()

    monkeypatch.setattr(services, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(services, "CHUNK", 1)
    result = services.runs_reindex(workers=2)
    assert result.indexed == 2
    assert [name for name, _ in result.skipped] == ["broken-run"]
    parallel = sorted(
        Run.objects.values_list("run_id", "template_id", "can_replay", "created_utc", "input_hash")
    )
    assert parallel == inline
    assert len(parallel) == 2
