"""Twenty identical POST /v1/captures at once against a real server: one capture, one 201, the rest
409 capture_exists, and no staging directory left behind (spec 04 §2.4: one rename publishes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import DETERMINISTIC_ORDER_SYSTEM, ORDER_SYSTEM_RUN_ID
from live_helpers import at_once, post_json

from telemetry.models import Capture

CLIENTS = 20


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_of_one_run_and_one_id(live_server: Any, settings: Any, data_root: Path) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    assert live_server.url.startswith(("http://localhost:", "http://127.0.0.1:"))
    status, _ = post_json(f"{live_server.url}/v1/runs", DETERMINISTIC_ORDER_SYSTEM)
    assert status == 201
    body = {"runId": ORDER_SYSTEM_RUN_ID, "captureId": "race"}
    answers = at_once(CLIENTS, lambda _index: post_json(f"{live_server.url}/v1/captures", body))
    assert len(answers) == CLIENTS, answers
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (CLIENTS - 1), answers
    assert {b["code"] for s, b in answers if s == 409} == {"capture_exists"}
    telemetry = data_root / "telemetry"
    assert sorted(p.name for p in telemetry.iterdir()) == ["race"]  # no .staging left behind
    created = next(b for s, b in answers if s == 201)
    manifest = json.loads((telemetry / "race" / "manifest.json").read_text())
    assert [f["hash"] for f in created["files"]] == [f["hash"] for f in manifest["files"]]
    assert sorted(p.name for p in (telemetry / "race").iterdir()) == sorted(
        ["manifest.json", *(f["path"] for f in manifest["files"])]
    )
    assert list(Capture.objects.values_list("capture_id", flat=True)) == ["race"]
