"""GET /v1/runs/{runId} (spec 05 §5): read from disk, index repaired on the spot; createdUtc (spec 03 §6)."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from api_helpers import (
    DETERMINISTIC_ORDER_SYSTEM,
    ORDER_SYSTEM_INPUT_HASH,
    ORDER_SYSTEM_PARAMETERS,
    ORDER_SYSTEM_RUN_ID,
    assert_golden,
    assert_problem,
    body_of,
    post_run,
    problem,
    recorded_file_access,
    scrub,
    writer,
)
from django.core.management import call_command
from rest_framework.test import APIClient

from runs import services
from runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


@pytest.fixture
def created(client: APIClient) -> dict[str, Any]:
    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)
    assert response.status_code == 201, response.content
    body: dict[str, Any] = body_of(response)
    return body


def run_json_created(data_root: Path, run_id: str) -> str:
    return str(json.loads((data_root / "runs" / run_id / "run.json").read_text())["createdUtc"])


def listed(client: APIClient) -> dict[str, str]:
    response = client.get("/v1/runs")
    assert response.status_code == 200
    return {item["runId"]: item["createdUtc"] for item in body_of(response)["items"]}


def reindex(*args: str) -> None:
    call_command("reindex_runs", *args, stdout=StringIO(), stderr=StringIO())


def test_detail_matches_golden_and_the_create_body(client: APIClient, created: dict[str, Any]) -> None:
    response = client.get(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = body_of(response)
    assert_golden("detail_order_system.json", scrub(body))
    # One builder serves both: only a replay would differ (wasReused).
    assert body == created


def test_created_utc_in_the_list_equals_run_json_also_after_reindexing(
    client: APIClient, data_root: Path, created: dict[str, Any]
) -> None:
    """Spec 03 §6 required test: FlowTime's listing lost this value by matching keys case-sensitively."""
    on_disk = run_json_created(data_root, ORDER_SYSTEM_RUN_ID)

    assert listed(client) == {ORDER_SYSTEM_RUN_ID: on_disk}
    assert created["createdUtc"] == on_disk

    Run.objects.all().delete()
    reindex()
    assert listed(client) == {ORDER_SYSTEM_RUN_ID: on_disk}
    reindex()  # idempotent
    assert listed(client) == {ORDER_SYSTEM_RUN_ID: on_disk}


def test_created_utc_key_is_matched_case_insensitively_when_reindexing(
    client: APIClient, data_root: Path, created: dict[str, Any]
) -> None:
    run_json_path = data_root / "runs" / ORDER_SYSTEM_RUN_ID / "run.json"
    run_json = json.loads(run_json_path.read_text())
    value = run_json.pop("createdUtc")
    run_json["CreatedUTC"] = "2024-02-03T04:05:06Z"
    run_json_path.write_text(json.dumps(run_json))
    assert value != "2024-02-03T04:05:06Z"

    reindex()

    assert listed(client) == {ORDER_SYSTEM_RUN_ID: "2024-02-03T04:05:06Z"}


def copy_in_by_hand(data_root: Path, tmp_path: Path, run_id: str) -> None:
    """Take a run out of the data root and its index, then copy it back as another host would."""
    parked = tmp_path / "parked"
    shutil.move(data_root / "runs" / run_id, parked)
    Run.objects.all().delete()
    shutil.copytree(parked, data_root / "runs" / run_id)


def test_run_directory_without_a_row_answers_200_and_is_indexed(
    client: APIClient, data_root: Path, tmp_path: Path, created: dict[str, Any]
) -> None:
    copy_in_by_hand(data_root, tmp_path, ORDER_SYSTEM_RUN_ID)
    assert listed(client) == {}

    response = client.get(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}")

    assert response.status_code == 200, response.content
    assert body_of(response) == created
    row = Run.objects.get()
    assert (row.run_id, row.template_id, row.mode, row.input_hash, row.path) == (
        ORDER_SYSTEM_RUN_ID,
        "order-system",
        "simulation",
        ORDER_SYSTEM_INPUT_HASH,
        f"runs/{ORDER_SYSTEM_RUN_ID}",
    )
    assert listed(client) == {ORDER_SYSTEM_RUN_ID: created["createdUtc"]}


def test_hand_copied_run_is_listed_after_reindex_runs(
    client: APIClient, data_root: Path, tmp_path: Path, created: dict[str, Any]
) -> None:
    copy_in_by_hand(data_root, tmp_path, ORDER_SYSTEM_RUN_ID)
    assert listed(client) == {}

    reindex()

    assert listed(client) == {ORDER_SYSTEM_RUN_ID: run_json_created(data_root, ORDER_SYSTEM_RUN_ID)}


def test_row_whose_directory_is_gone_is_404_and_the_row_is_removed(
    client: APIClient, data_root: Path, created: dict[str, Any]
) -> None:
    shutil.rmtree(data_root / "runs" / ORDER_SYSTEM_RUN_ID)
    assert Run.objects.count() == 1

    response = client.get(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}")

    assert_problem(
        response,
        problem(
            "run_not_found",
            404,
            f"Run '{ORDER_SYSTEM_RUN_ID}' was not found.",
            instance=f"/v1/runs/{ORDER_SYSTEM_RUN_ID}",
        ),
    )
    assert Run.objects.count() == 0
    assert listed(client) == {}


def test_unknown_valid_id_is_404(client: APIClient) -> None:
    response = client.get("/v1/runs/run_nothing_here")

    assert_problem(
        response,
        problem(
            "run_not_found",
            404,
            "Run 'run_nothing_here' was not found.",
            instance="/v1/runs/run_nothing_here",
        ),
    )


@pytest.mark.parametrize(
    ("run_id", "quoted"),
    [
        (".hidden", ".hidden"),
        ("-dash-first", "-dash-first"),
        ("_underscore-first", "_underscore-first"),
        ("has space", "has%20space"),
        ("dollar$", "dollar%24"),
        ("ünïcode", "%C3%BCn%C3%AFcode"),
        ("x" * 129, "x" * 129),
        (".staging", ".staging"),
    ],
)
def test_id_failing_the_pattern_is_404_without_touching_the_disk(
    client: APIClient,
    data_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    created: dict[str, Any],
    run_id: str,
    quoted: str,
) -> None:
    def must_not_run(**kwargs: object) -> None:
        raise AssertionError("the index was refreshed for an invalid id")

    monkeypatch.setattr(services, "run_index_refresh", must_not_run)
    (data_root / "runs" / ".staging").mkdir(exist_ok=True)

    with recorded_file_access() as accesses:
        response = client.get(f"/v1/runs/{quoted}")

    assert_problem(
        response,
        problem("run_not_found", 404, f"Run '{run_id}' was not found.", instance=f"/v1/runs/{run_id}"),
    )
    assert [path for _, path in accesses if path.startswith(str(data_root))] == []


@pytest.mark.parametrize(
    "damage",
    ["series/index.json", "run.json"],
)
def test_a_damaged_run_directory_is_409_run_invalid(
    damage: str, client: APIClient, created: dict[str, Any], data_root: Path
) -> None:
    (data_root / "runs" / ORDER_SYSTEM_RUN_ID / damage).write_text("{not json", encoding="utf-8")
    response = client.get(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}")
    assert_problem(
        response,
        problem(
            "run_invalid",
            409,
            f"Run '{ORDER_SYSTEM_RUN_ID}' is damaged: run.json, series/index.json and a model file must all "
            "be readable.",
            instance=f"/v1/runs/{ORDER_SYSTEM_RUN_ID}",
        ),
    )


def test_an_index_failure_after_publication_does_not_fail_the_request(
    client: APIClient, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    real_refresh = services.run_index_refresh

    def locked(*, run_id: str, **_: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "run_index_refresh", locked)
    monkeypatch.setattr(services, "run_index_written", locked)  # the row a create writes from its body
    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)
    assert response.status_code == 201, response.content
    assert not Run.objects.filter(run_id=ORDER_SYSTEM_RUN_ID).exists()

    monkeypatch.setattr(services, "run_index_refresh", real_refresh)
    assert client.get(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}").status_code == 200
    assert Run.objects.filter(run_id=ORDER_SYSTEM_RUN_ID).exists()  # the read repaired the index


def test_detail_carries_the_parameters_after_defaults_and_the_seed(client: APIClient) -> None:
    """Three runs differing only in orderErrorRate used to look identical; the record now says which is
    which. Expected values are the request's own plus order-system.yaml's defaults, written out in
    api_helpers."""
    response = post_run(
        client, {"templateId": "order-system", "parameters": {"orderErrorRate": 0.125}, "rng": {"seed": 7}}
    )
    assert response.status_code == 201, response.content
    run_id = body_of(response)["metadata"]["runId"]
    detail = body_of(client.get(f"/v1/runs/{run_id}"))
    assert detail["parameters"] == {**ORDER_SYSTEM_PARAMETERS, "orderErrorRate": 0.125}
    assert detail["rng"] == {"seed": 7}
    assert body_of(response)["parameters"] == detail["parameters"]


def test_detail_parameters_come_from_the_run_files(client: APIClient, data_root: Path) -> None:
    """Disk is the record: an edit of model/metadata.json shows in the next GET."""
    created = body_of(post_run(client, DETERMINISTIC_ORDER_SYSTEM))
    metadata_path = data_root / "runs" / ORDER_SYSTEM_RUN_ID / "model" / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["parameters"] = {"bins": 4, "note": "edited"}
    metadata_path.write_text(json.dumps(metadata))
    assert created["parameters"]["bins"] == 4
    assert body_of(client.get(f"/v1/runs/{ORDER_SYSTEM_RUN_ID}"))["parameters"] == {
        "bins": 4,
        "note": "edited",
    }
