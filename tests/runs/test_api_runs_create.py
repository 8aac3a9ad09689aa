"""POST /v1/runs (spec 05 §2, §3): every row of the outcome table, dry runs, and the body's shape."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from api_helpers import (
    DETERMINISTIC_ORDER_SYSTEM,
    ORDER_SYSTEM_INPUT_HASH,
    ORDER_SYSTEM_PARAMETERS,
    ORDER_SYSTEM_RUN_ID,
    TELEMETRY_REQUEST,
    assert_golden,
    assert_nothing_written,
    assert_problem,
    body_of,
    copy_capture,
    post_run,
    problem,
    run_dirs,
    scrub,
    staging_entries,
    tree_listing,
    writer,
)
from rest_framework.test import APIClient

from runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def series_values(run_dir: Path, file_name: str) -> list[str]:
    lines = (run_dir / "series" / file_name).read_text(encoding="utf-8").splitlines()
    return [line.split(",")[1] for line in lines[1:]]


def test_new_deterministic_run_is_201_with_location_and_matches_golden(
    client: APIClient, data_root: Path
) -> None:
    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Location"] == f"/v1/runs/{ORDER_SYSTEM_RUN_ID}"
    body = body_of(response)
    assert_golden("create_order_system.json", scrub(body))
    run_json = read_json(data_root / "runs" / ORDER_SYSTEM_RUN_ID / "run.json")
    assert body["createdUtc"] == run_json["createdUtc"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["createdUtc"])
    assert run_dirs(data_root) == [ORDER_SYSTEM_RUN_ID]
    assert staging_entries(data_root) == []
    row = Run.objects.get()
    assert (row.run_id, row.input_hash, row.mode, row.can_replay) == (
        ORDER_SYSTEM_RUN_ID,
        ORDER_SYSTEM_INPUT_HASH,
        "simulation",
        True,
    )


def test_same_deterministic_request_again_is_200_was_reused_and_writes_nothing(
    client: APIClient, data_root: Path
) -> None:
    first = body_of(post_run(client, DETERMINISTIC_ORDER_SYSTEM))
    run_dir = data_root / "runs" / ORDER_SYSTEM_RUN_ID
    before = {name: (run_dir / name).read_bytes() for name in tree_listing(run_dir) if "." in name}

    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)

    assert response.status_code == 200, response.content
    assert not response.has_header("Location")
    assert body_of(response) == {**first, "wasReused": True}
    assert {name: (run_dir / name).read_bytes() for name in before} == before
    assert run_dirs(data_root) == [ORDER_SYSTEM_RUN_ID]
    assert staging_entries(data_root) == []
    assert Run.objects.count() == 1


def test_explicit_run_id_that_exists_is_409_run_exists(client: APIClient, data_root: Path) -> None:
    request = {"templateId": "order-system", "options": {"runId": "my-run"}}
    created = post_run(client, request)
    assert created.status_code == 201, created.content
    assert created["Location"] == "/v1/runs/my-run"
    run_json = (data_root / "runs" / "my-run" / "run.json").read_bytes()

    response = post_run(client, request)

    assert_problem(response, problem("run_exists", 409, "Run 'my-run' already exists."))
    assert (data_root / "runs" / "my-run" / "run.json").read_bytes() == run_json
    assert run_dirs(data_root) == ["my-run"]
    assert Run.objects.count() == 1


def test_deterministic_id_whose_stored_input_hash_differs_is_409(client: APIClient, data_root: Path) -> None:
    post_run(client, DETERMINISTIC_ORDER_SYSTEM)
    metadata_path = data_root / "runs" / ORDER_SYSTEM_RUN_ID / "model" / "metadata.json"
    metadata = read_json(metadata_path)
    metadata["inputHash"] = "sha256:" + "0" * 64
    metadata_path.write_text(json.dumps(metadata), encoding="utf-8")

    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)

    assert_problem(
        response,
        problem(
            "run_exists",
            409,
            f"Run '{ORDER_SYSTEM_RUN_ID}' exists with different inputs; pass overwrite to replace it.",
        ),
    )


def test_overwrite_replaces_the_old_run(client: APIClient, data_root: Path) -> None:
    old = body_of(post_run(client, {"templateId": "order-system", "options": {"runId": "my-run"}}))
    new_request = {
        "templateId": "order-system",
        "parameters": {"orderArrivals": [1, 2, 3, 4]},
        "options": {"runId": "my-run", "overwriteExisting": True},
    }

    response = post_run(client, new_request)

    assert response.status_code == 201, response.content
    assert response["Location"] == "/v1/runs/my-run"
    body = body_of(response)
    assert body["metadata"]["runId"] == "my-run"
    assert body["wasReused"] is False
    assert body["inputHash"] != old["inputHash"]
    run_dir = data_root / "runs" / "my-run"
    # orderArrivals [1, 2, 3, 4] are all under capacity 16, so the order service sees exactly them.
    assert series_values(run_dir, "order_arrivals@ORDER_ARRIVALS@DEFAULT.csv") == ["1", "2", "3", "4"]
    assert read_json(run_dir / "model" / "metadata.json")["inputHash"] == body["inputHash"]
    assert run_dirs(data_root) == ["my-run"]
    assert staging_entries(data_root) == []
    assert Run.objects.get().input_hash == body["inputHash"]
    assert body_of(client.get("/v1/runs/my-run")) == body


def test_overwrite_of_a_deterministic_run_is_201(client: APIClient, data_root: Path) -> None:
    post_run(client, DETERMINISTIC_ORDER_SYSTEM)
    request = {
        "templateId": "order-system",
        "options": {"deterministicRunId": True, "overwriteExisting": True},
    }

    response = post_run(client, request)

    assert response.status_code == 201, response.content
    assert body_of(response)["wasReused"] is False
    assert run_dirs(data_root) == [ORDER_SYSTEM_RUN_ID]
    assert staging_entries(data_root) == []


def test_random_run_id_follows_the_format(client: APIClient, data_root: Path) -> None:
    response = post_run(client, {"templateId": "order-system"})

    assert response.status_code == 201, response.content
    run_id = body_of(response)["metadata"]["runId"]
    assert re.fullmatch(r"run_\d{8}T\d{6}Z_[0-9a-f]{8}", run_id)
    assert response["Location"] == f"/v1/runs/{run_id}"
    assert run_dirs(data_root) == [run_id]


def test_mode_is_trimmed_and_case_insensitive(client: APIClient) -> None:
    response = post_run(
        client,
        {"templateId": "order-system", "mode": " SIMULATION ", "options": {"deterministicRunId": True}},
    )

    assert response.status_code == 201, response.content
    assert body_of(response)["metadata"]["mode"] == "simulation"
    # The mode is part of the inputs, and " SIMULATION " means the same as no mode here.
    assert body_of(response)["metadata"]["runId"] == ORDER_SYSTEM_RUN_ID


def test_nulls_written_for_optional_fields_are_accepted(client: APIClient) -> None:
    """FlowTime UI clients write nulls; for these fields null means the same as missing."""
    response = post_run(
        client,
        {
            "templateId": "order-system",
            "mode": None,
            "telemetry": None,
            "options": {"deterministicRunId": True, "runId": None},
            "rng": None,
        },
    )

    assert response.status_code == 201, response.content
    assert body_of(response)["metadata"]["runId"] == ORDER_SYSTEM_RUN_ID


def test_null_parameters_and_options_mean_the_defaults(client: APIClient) -> None:
    response = post_run(client, {"templateId": "order-system", "parameters": None, "options": None})
    assert response.status_code == 201, response.content
    assert body_of(response)["isDryRun"] is False


def test_seed_is_part_of_the_inputs(client: APIClient) -> None:
    def predicted(rng: dict[str, Any] | None) -> str:
        body = {**DETERMINISTIC_ORDER_SYSTEM, "rng": rng}
        response = post_run(client, body, query="?dryRun=true")
        assert response.status_code == 200, response.content
        return str(body_of(response)["plan"]["predictedRunId"])

    assert predicted({"seed": 42}) == predicted({"seed": 42})
    assert predicted({"seed": 42}) != predicted({"seed": 43})
    assert predicted({"seed": 42}) != predicted(None)


# --- dry run (spec 05 §3) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "options"),
    [
        ("?dryRun=true", {"deterministicRunId": True}),
        ("?dryRun=TRUE", {"deterministicRunId": True}),
        ("", {"deterministicRunId": True, "dryRun": True}),
    ],
)
def test_dry_run_writes_nothing_and_predicts_the_id(
    client: APIClient, data_root: Path, query: str, options: dict[str, Any]
) -> None:
    response = post_run(client, {"templateId": "order-system", "options": options}, query=query)

    assert response.status_code == 200, response.content
    assert body_of(response) == {
        "isDryRun": True,
        "metadata": None,
        "canReplay": False,
        "warnings": [],
        "plan": {
            "templateId": "order-system",
            "mode": "simulation",
            "outputRoot": "runs",
            "captureDirectory": None,
            "sourceRunId": None,
            "deterministicRunId": True,
            "requestedRunId": None,
            "predictedRunId": ORDER_SYSTEM_RUN_ID,
            "parameters": ORDER_SYSTEM_PARAMETERS,
            "telemetryBindings": {},
            "files": [],
            "warnings": [],
            "operations": ["generate_model", "evaluate", "write_artifacts", "publish", "index"],
        },
        "wasReused": False,  # spec 07 §8: last key of every dry run
    }
    assert_nothing_written(data_root)

    real = post_run(client, DETERMINISTIC_ORDER_SYSTEM)
    assert real.status_code == 201
    assert body_of(real)["metadata"]["runId"] == ORDER_SYSTEM_RUN_ID


def test_dry_run_false_in_the_query_creates_the_run(client: APIClient, data_root: Path) -> None:
    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM, query="?dryRun=false")

    assert response.status_code == 201, response.content
    assert run_dirs(data_root) == [ORDER_SYSTEM_RUN_ID]


def test_dry_run_with_explicit_id_predicts_it(client: APIClient, data_root: Path) -> None:
    response = post_run(client, {"templateId": "order-system", "options": {"runId": "mine", "dryRun": True}})

    assert response.status_code == 200, response.content
    plan = body_of(response)["plan"]
    assert (plan["requestedRunId"], plan["predictedRunId"], plan["deterministicRunId"]) == (
        "mine",
        "mine",
        False,
    )
    assert_nothing_written(data_root)


def test_dry_run_validates_like_a_real_run(client: APIClient, data_root: Path) -> None:
    response = post_run(
        client, {"templateId": "order-system", "parameters": {"bins": 0}}, query="?dryRun=true"
    )

    assert_problem(
        response,
        problem(
            "parameter_invalid",
            422,
            "1 parameter is invalid.",
            errors=[{"field": "parameters.bins", "code": "minimum", "message": "must be ≥ 1, got 0"}],
        ),
    )
    assert_nothing_written(data_root)


def test_telemetry_dry_run_plans_the_capture_and_predicts_the_id(client: APIClient, data_root: Path) -> None:
    copy_capture(data_root)
    request = {**TELEMETRY_REQUEST, "options": {"deterministicRunId": True}}
    capture_before = tree_listing(data_root / "telemetry")

    response = post_run(client, request, query="?dryRun=true")

    assert response.status_code == 200, response.content
    body = body_of(response)
    assert_golden("dry_run_telemetry.json", body)
    assert run_dirs(data_root) == []
    assert staging_entries(data_root) == []
    assert Run.objects.count() == 0
    assert tree_listing(data_root / "telemetry") == capture_before

    real = post_run(client, request)
    assert real.status_code == 201, real.content
    assert body_of(real)["metadata"]["runId"] == body["plan"]["predictedRunId"]
    assert body_of(real)["metadata"]["mode"] == "telemetry"
