"""Deleting runs (spec 03 §7.6): DELETE /v1/runs/{runId}, the admin action and ``manage.py delete_runs``.

A delete renames the run out of ``runs/`` in one step, then removes its files and its index row.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from api_helpers import (
    DETERMINISTIC_ORDER_SYSTEM,
    ORDER_SYSTEM_RUN_ID,
    assert_problem,
    body_of,
    post_run,
    problem,
    run_dirs,
    staging_entries,
    writer,
)
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from runs.errors import RunNotFound
from runs.models import Run
from runs.observability import JsonLineFormatter
from runs.orchestration import delete_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


def make_run(client: APIClient, run_id: str, template: str = "order-system", **extra: Any) -> None:
    body = {"templateId": template, "options": {"runId": run_id}, **extra}
    response = post_run(client, body)
    assert response.status_code == 201, response.content


def deleted_total() -> float:
    return REGISTRY.get_sample_value("flowtime_runs_deleted_total") or 0.0


def test_delete_answers_204_then_the_run_is_gone_everywhere(
    client: APIClient, data_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_run(client, "doomed")
    before = deleted_total()
    with caplog.at_level(logging.INFO, logger="flowtime.runs"):
        response = client.delete("/v1/runs/doomed")
    assert response.status_code == 204
    assert response.content == b""
    assert run_dirs(data_root) == []
    assert staging_entries(data_root) == []
    assert list(Run.objects.values_list("run_id", flat=True)) == []
    assert deleted_total() == before + 1
    formatter = JsonLineFormatter()
    events = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "flowtime.runs"]
    assert [e["runId"] for e in events if e["event"] == "run_deleted"] == ["doomed"]
    for path in ("/v1/runs/doomed", "/v1/runs/doomed/state?binIndex=0", "/v1/runs/doomed/index"):
        assert client.get(path).status_code == 404
    assert body_of(client.get("/v1/runs"))["items"] == []


def test_delete_of_a_missing_or_malformed_id_is_run_not_found(client: APIClient) -> None:
    assert_problem(
        client.delete("/v1/runs/nothing-here"),
        problem("run_not_found", 404, "Run 'nothing-here' was not found.", instance="/v1/runs/nothing-here"),
    )
    response = client.delete("/v1/runs/bad%20id")
    assert response.status_code == 404
    assert body_of(response)["code"] == "run_not_found"
    # An encoded '/' makes a path below the run route, which is no route at all (spec 07 §6).
    response = client.delete("/v1/runs/..%2Fescape")
    assert response.status_code == 404
    assert body_of(response)["code"] == "not_found"


def test_delete_needs_write_permission(settings: Any) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    make_run(APIClient(), "kept")
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = False
    response = APIClient().delete("/v1/runs/kept")
    assert response.status_code in (401, 403)
    assert body_of(response)["code"] in ("not_authenticated", "permission_denied")
    assert Run.objects.filter(run_id="kept").exists()


def test_delete_of_a_row_whose_directory_is_gone_drops_the_row(client: APIClient, data_root: Path) -> None:
    make_run(client, "orphan")
    import shutil

    shutil.rmtree(data_root / "runs" / "orphan")
    with pytest.raises(RunNotFound):
        delete_run(run_id="orphan")
    assert not Run.objects.filter(run_id="orphan").exists()


def test_a_deleted_run_can_be_created_again(client: APIClient) -> None:
    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)
    assert response.status_code == 201
    assert client.delete(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}").status_code == 204
    again = post_run(client, DETERMINISTIC_ORDER_SYSTEM)
    assert again.status_code == 201
    assert body_of(again)["wasReused"] is False
    assert client.get(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}").status_code == 200


def test_admin_delete_action_removes_directory_and_row(client: APIClient, data_root: Path) -> None:
    make_run(client, "admin-doomed")
    make_run(client, "admin-kept")
    User.objects.create_superuser("admin", "admin@example.com", "not-used")
    staff = Client()
    staff.force_login(User.objects.get(username="admin"))
    response = staff.post(
        "/admin/runs/run/",
        {"action": "delete_selected", "_selected_action": ["admin-doomed"], "post": "yes"},
    )
    assert response.status_code == 302
    assert run_dirs(data_root) == ["admin-kept"]
    assert list(Run.objects.values_list("run_id", flat=True)) == ["admin-kept"]


def test_admin_delete_action_needs_the_delete_permission(client: APIClient, data_root: Path) -> None:
    make_run(client, "guarded")
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_run"))
    staff = Client()
    staff.force_login(viewer)
    # The admin's own delete action, confirmed, as in the test above: only the permission stops it.
    staff.post(
        "/admin/runs/run/", {"action": "delete_selected", "_selected_action": ["guarded"], "post": "yes"}
    )
    assert run_dirs(data_root) == ["guarded"]
    assert list(Run.objects.values_list("run_id", flat=True)) == ["guarded"]


def _set_created(run_id: str, when: datetime) -> None:
    Run.objects.filter(run_id=run_id).update(created_utc=when)


def delete_runs(*args: str) -> str:
    out = StringIO()
    call_command("delete_runs", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_delete_runs_command_filters_and_dry_run(client: APIClient, data_root: Path) -> None:
    make_run(client, "old-order")
    make_run(client, "new-order")
    make_run(client, "old-other", template="it-system-microservices")
    old = datetime(2020, 1, 1, tzinfo=UTC)
    _set_created("old-order", old)
    _set_created("old-other", old)

    dry = delete_runs("--older-than", "30d", "--template-id", "ORDER-SYSTEM", "--dry-run")
    assert dry == "Would delete: old-order\nWould delete 1 runs.\n"
    assert run_dirs(data_root) == ["new-order", "old-order", "old-other"]

    done = delete_runs("--older-than", "30d", "--mode", "simulation", "--json")
    assert json.loads(done) == {
        "dryRun": False,
        "matched": ["old-order", "old-other"],
        "deleted": ["old-order", "old-other"],
    }
    assert run_dirs(data_root) == ["new-order"]
    assert list(Run.objects.values_list("run_id", flat=True)) == ["new-order"]


@pytest.mark.parametrize("args", [[], ["--older-than", "30 days"]])
def test_delete_runs_command_usage_errors(args: list[str]) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        delete_runs(*args)
