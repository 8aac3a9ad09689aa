"""Reads during a replace, and caches that stay coherent across processes (issue: defect 1, several hosts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from api_helpers import body_of, post_run, writer
from rest_framework.test import APIClient

from runs import artifacts
from runs.artifacts import GridInfo, RunContent, run_store, write_run_files
from runs.canonical import utc_now_seconds
from runs.models import Run

pytestmark = pytest.mark.django_db

RUN_ID = "replaced"


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


def make(client: APIClient, pattern: list[int]) -> dict[str, Any]:
    body = {
        "templateId": "it-system-microservices",
        "parameters": {"requestPattern": pattern},
        "options": {"runId": RUN_ID, "overwriteExisting": True},
    }
    response = post_run(client, body)
    assert response.status_code == 201, response.content
    result: dict[str, Any] = body_of(response)
    return result


def test_a_get_during_a_replace_finds_the_run_and_keeps_its_row(
    client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 1: replace was two renames; a GET between them answered 404 and deleted the index row."""
    make(client, [100, 150, 200, 180, 120, 80])
    seen: list[tuple[int, bool]] = []

    def look() -> None:
        response = client.get(f"/v1/runs/{RUN_ID}")
        seen.append((response.status_code, Run.objects.filter(run_id=RUN_ID).exists()))

    real_rename, real_exchange = os.rename, run_store.exchange_paths

    def rename(src: Any, dst: Any) -> None:
        real_rename(src, dst)
        if RUN_ID in (Path(src).name, Path(dst).name):
            look()

    def exchange(first: Path, second: Path) -> None:
        real_exchange(first, second)
        look()

    monkeypatch.setattr(run_store.os, "rename", rename)
    monkeypatch.setattr(run_store, "exchange_paths", exchange)
    make(client, [1, 2, 3, 4, 5, 6])
    monkeypatch.undo()
    assert seen != []
    assert set(seen) == {(200, True)}


def test_another_process_replacing_the_run_is_seen_on_the_next_read(
    client: APIClient, data_root: Path
) -> None:
    """Several hosts: this process's caches hold the old version; another host swaps the directory
    (no message reaches this process). The next read answers from the new version."""
    make(client, [100, 150, 200, 180, 120, 80])
    path = f"/v1/runs/{RUN_ID}/state_window?startBin=0&endBin=1"
    first = body_of(client.get(path))
    assert body_of(client.get(path)) == first  # warm caches
    runs_root = data_root / "runs"
    # What another host's writer does: stage a complete run and swap it in through the run store.
    with artifacts.staged_run(runs_root) as stage:
        model = (runs_root / RUN_ID / "model" / "model.yaml").read_text()
        series = []
        for csv in sorted((runs_root / RUN_ID / "series").glob("*.csv")):
            values = [float(line.split(",")[1]) for line in csv.read_text().splitlines()[1:]]
            node = csv.name.split("@", 1)[0]
            series.append((node, np.array(values) * (2 if node == "user_requests" else 1)))
        content = RunContent(
            model_text=model, series=series, grid=GridInfo(6, 60, "minutes"), engine_version="0.1.0"
        )
        write_run_files(stage.path, content, run_id=RUN_ID, created_utc=utc_now_seconds())
        assert run_store.publish_dir(stage, runs_root / RUN_ID, overwrite=True) == "replaced"
    second = body_of(client.get(path))
    assert second != first
    assert second["metadata"] == first["metadata"]
