"""POST /v1/runs with ``telemetry.sourceRunId``: the source run is captured on demand, then bundled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import (
    DETERMINISTIC_ORDER_SYSTEM,
    ORDER_SYSTEM_RUN_ID,
    assert_problem,
    body_of,
    field_error,
    problem,
    run_dirs,
    tree_listing,
    writer,
)
from rest_framework.test import APIClient

from telemetry.capture import CaptureOptions
from telemetry.capture_ids import on_demand_capture_id
from telemetry.models import Capture

pytestmark = pytest.mark.django_db

BINDINGS = {
    "telemetryArrivals": "OrderService_arrivals.csv",
    "telemetryOrderCapacity": "OrderService_capacity.csv",
    "telemetryPaymentCapacity": "PaymentService_capacity.csv",
}
CAPTURE_ID = on_demand_capture_id(ORDER_SYSTEM_RUN_ID, CaptureOptions())


def on_demand_body(**telemetry: Any) -> dict[str, Any]:
    return {
        "templateId": "order-system",
        "telemetry": {"sourceRunId": ORDER_SYSTEM_RUN_ID, "bindings": BINDINGS, **telemetry},
        "options": {"deterministicRunId": True},
    }


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


@pytest.fixture
def source_run(client: APIClient) -> str:
    response = client.post("/v1/runs", DETERMINISTIC_ORDER_SYSTEM, format="json")
    assert response.status_code == 201, response.content
    return str(ORDER_SYSTEM_RUN_ID)


def window(client: APIClient, run_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=3")
    assert response.status_code == 200, response.content
    return {node["id"]: node["series"] for node in body_of(response)["nodes"]}


def test_on_demand_capture_id_is_derived_from_the_run_and_the_options() -> None:
    plain = on_demand_capture_id("run_a", CaptureOptions())

    assert plain.startswith("run_a.ondemand-") and len(plain) == len("run_a.ondemand-") + 12
    assert on_demand_capture_id("run_a", CaptureOptions()) == plain
    assert on_demand_capture_id("run_b", CaptureOptions()) != plain
    assert on_demand_capture_id("run_a", CaptureOptions(fill_nan=True)) != plain
    assert on_demand_capture_id("run_a", CaptureOptions(gap_mode="warn")) != plain


def test_run_from_a_source_run_equals_it_bin_by_bin(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    response = client.post("/v1/runs", on_demand_body(), format="json")

    assert response.status_code == 201, response.content
    body = body_of(response)
    run_id = body["metadata"]["runId"]
    assert body["metadata"]["mode"] == "telemetry"
    assert body["canReplay"] is True
    source, replayed = window(client, source_run), window(client, run_id)
    assert sorted(replayed) == sorted(source) == ["OrderService", "PaymentService"]
    for node_id, series in source.items():
        assert replayed[node_id] == series, node_id
    # order-system's default arrivals, read back from the capture's file.
    assert replayed["OrderService"]["arrivals"] == [10, 14, 18, 12]
    # The capture was published under its derived id and indexed.
    assert (data_root / "telemetry" / CAPTURE_ID / "manifest.json").is_file()
    assert list(Capture.objects.values_list("capture_id", "source_run_id")) == [(CAPTURE_ID, source_run)]
    # The run's provenance names the run it was captured from.
    provenance = json.loads((data_root / "runs" / run_id / "model" / "provenance.json").read_text())
    assert (provenance["sourceRunId"], provenance["captureId"]) == (source_run, CAPTURE_ID)


def test_an_existing_on_demand_capture_is_reused(client: APIClient, source_run: str, data_root: Path) -> None:
    first = client.post("/v1/runs", on_demand_body(), format="json")
    manifest = data_root / "telemetry" / CAPTURE_ID / "manifest.json"
    written = manifest.read_bytes()
    inode = manifest.stat().st_ino
    # Without a deterministic id a second run is made; the capture is not made again.
    again = client.post("/v1/runs", {**on_demand_body(), "options": None}, format="json")
    replay = client.post("/v1/runs", on_demand_body(), format="json")

    assert (first.status_code, again.status_code, replay.status_code) == (201, 201, 200)
    assert body_of(replay)["wasReused"] is True
    assert manifest.read_bytes() == written
    assert manifest.stat().st_ino == inode
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == [CAPTURE_ID]
    assert body_of(again)["inputHash"] == body_of(first)["inputHash"]


def test_an_on_demand_capture_made_by_post_captures_is_reused(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    made = client.post("/v1/captures", {"runId": source_run, "captureId": CAPTURE_ID}, format="json")
    assert made.status_code == 201
    written = (data_root / "telemetry" / CAPTURE_ID / "manifest.json").read_bytes()

    response = client.post("/v1/runs", on_demand_body(), format="json")

    assert response.status_code == 201, response.content
    assert (data_root / "telemetry" / CAPTURE_ID / "manifest.json").read_bytes() == written
    run_id = body_of(response)["metadata"]["runId"]
    copied = data_root / "runs" / run_id / "model" / "telemetry" / "telemetry-manifest.json"
    assert json.loads(copied.read_text())["provenance"] == json.loads(written)["provenance"]


def test_a_different_capture_under_the_derived_id_is_409_unless_overwrite(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    client.post("/v1/runs", {**on_demand_body(), "options": None}, format="json")
    manifest = data_root / "telemetry" / CAPTURE_ID / "manifest.json"
    document = json.loads(manifest.read_text())
    document["warnings"] = [
        {"code": "data_gap", "message": "edited by hand", "nodeId": "OrderService", "bins": [0]}
    ]
    manifest.write_text(json.dumps(document))

    conflict = client.post("/v1/runs", on_demand_body(), format="json")
    replaced = client.post(
        "/v1/runs",
        {**on_demand_body(), "options": {"deterministicRunId": True, "overwriteExisting": True}},
        format="json",
    )

    detail = (
        f"Capture '{CAPTURE_ID}' already exists; it differs from a new capture of run '{source_run}'; "
        f"delete it (DELETE /v1/captures/{CAPTURE_ID}) or pass options.overwriteExisting."
    )
    assert_problem(conflict, problem("capture_exists", 409, detail))
    assert replaced.status_code == 201, replaced.content
    assert json.loads(manifest.read_text())["warnings"] == []


def test_capture_options_name_another_capture(client: APIClient, source_run: str, data_root: Path) -> None:
    response = client.post(
        "/v1/runs", on_demand_body(captureOptions={"gapDetect": True, "gapFillNan": True}), format="json"
    )

    assert response.status_code == 201, response.content
    expected = on_demand_capture_id(source_run, CaptureOptions(gap_mode="warn", fill_nan=True))
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == [expected]


def test_dry_run_plans_the_capture_step_and_writes_nothing(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    before = tree_listing(data_root)

    response = client.post("/v1/runs?dryRun=true", on_demand_body(), format="json")

    assert response.status_code == 200, response.content
    plan = body_of(response)["plan"]
    assert plan["operations"] == [
        "generate_model",
        "capture",
        "verify_capture",
        "evaluate",
        "write_artifacts",
        "publish",
        "index",
    ]
    assert (plan["mode"], plan["sourceRunId"], plan["captureDirectory"]) == (
        "telemetry",
        source_run,
        f"telemetry/{CAPTURE_ID}",
    )
    assert tree_listing(data_root) == before
    created = client.post("/v1/runs", on_demand_body(), format="json")
    assert body_of(created)["metadata"]["runId"] == plan["predictedRunId"]


@pytest.mark.parametrize(
    ("telemetry", "detail", "field"),
    [
        (
            {"sourceRunId": ORDER_SYSTEM_RUN_ID, "captureDirectory": "x"},
            "telemetry needs exactly one of captureDirectory and sourceRunId.",
            "telemetry",
        ),
        (
            {"bindings": BINDINGS},
            "telemetry needs exactly one of captureDirectory and sourceRunId.",
            "telemetry",
        ),
        (
            {"captureDirectory": "x", "captureOptions": {"gapDetect": True}},
            "telemetry.captureOptions applies only to a capture made from telemetry.sourceRunId.",
            "telemetry.captureOptions",
        ),
    ],
)
def test_telemetry_source_conflicts_are_400(
    client: APIClient, source_run: str, telemetry: dict[str, Any], detail: str, field: str
) -> None:
    response = client.post("/v1/runs", {"templateId": "order-system", "telemetry": telemetry}, format="json")

    message = {
        "telemetry": "exactly one of captureDirectory and sourceRunId",
        "telemetry.captureOptions": "needs telemetry.sourceRunId",
    }[field]
    assert_problem(
        response,
        problem("invalid_request", 400, detail, errors=[field_error(field, "invalid_request", message)]),
    )


def test_both_gap_modes_on_demand_are_400(client: APIClient, source_run: str) -> None:
    response = client.post(
        "/v1/runs", on_demand_body(captureOptions={"gapDetect": True, "gapFillGaps": True}), format="json"
    )

    assert response.status_code == 400
    assert body_of(response)["errors"] == [
        field_error("telemetry.captureOptions.gapFillGaps", "invalid_request", "conflicts with gapDetect")
    ]


@pytest.mark.parametrize(
    "source", ["run_missing_0001", "../../etc", "../runs/" + ORDER_SYSTEM_RUN_ID, "/etc"]
)
def test_unknown_or_traversing_source_run_is_404_and_writes_nothing(
    client: APIClient, source_run: str, tmp_path: Path, source: str
) -> None:
    before = tree_listing(tmp_path)

    response = client.post("/v1/runs", on_demand_body(sourceRunId=source), format="json")

    assert_problem(response, problem("run_not_found", 404, f"Run '{source}' was not found."))
    assert tree_listing(tmp_path) == before


def test_damaged_source_run_is_409_run_invalid(client: APIClient, source_run: str, data_root: Path) -> None:
    (data_root / "runs" / source_run / "run.json").write_text("{not json")

    response = client.post("/v1/runs", on_demand_body(), format="json")

    assert response.status_code == 409
    assert body_of(response)["code"] == "run_invalid"
    assert run_dirs(data_root) == [source_run]
    assert not (data_root / "telemetry").exists()


def test_a_source_run_on_another_grid_is_capture_invalid(client: APIClient, data_root: Path) -> None:
    other = client.post("/v1/runs", {"templateId": "it-system-microservices"}, format="json")
    assert other.status_code == 201
    source = body_of(other)["metadata"]["runId"]

    response = client.post("/v1/runs", on_demand_body(sourceRunId=source), format="json")

    assert response.status_code == 422
    body = body_of(response)
    assert body["code"] == "capture_invalid"
    # order-system runs 4 bins of 5 minutes; it-system-microservices 6 bins of 60 minutes.
    assert [e["field"] for e in body["errors"]] == ["grid.bins", "grid.binSize"]
    assert not (data_root / "telemetry").exists()


def test_a_capture_published_meanwhile_with_the_same_content_is_kept(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    from telemetry.services import on_demand_capture_plan, on_demand_capture_publish

    grid = (4, 5, "minutes")  # order-system: 4 bins of 5 minutes
    first = on_demand_capture_plan(
        source_run_id=source_run, options=CaptureOptions(), bindings=BINDINGS, expected_grid=grid
    )
    second = on_demand_capture_plan(
        source_run_id=source_run, options=CaptureOptions(), bindings=BINDINGS, expected_grid=grid
    )
    assert first.plan is not None and second.plan is not None  # both planned before either published

    on_demand_capture_publish(first)
    written = (data_root / "telemetry" / CAPTURE_ID / "manifest.json").read_bytes()
    on_demand_capture_publish(second)  # loses the rename race, finds the same manifest hash: fine

    assert (data_root / "telemetry" / CAPTURE_ID / "manifest.json").read_bytes() == written
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == [CAPTURE_ID]
    third = on_demand_capture_plan(
        source_run_id=source_run, options=CaptureOptions(), bindings=BINDINGS, expected_grid=grid
    )
    assert third.plan is None  # now reused


def test_a_source_series_of_the_wrong_length_is_capture_invalid(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    # The capture keeps a short source series (warning length_mismatch); the bundle's row-count check
    # of the capture made in memory then refuses it, as it would refuse the published capture.
    series = data_root / "runs" / source_run / "series"
    arrivals = series / "order_arrivals@ORDER_ARRIVALS@DEFAULT.csv"
    arrivals.write_text("".join(arrivals.read_text().splitlines(keepends=True)[:-1]))

    response = client.post("/v1/runs", on_demand_body(), format="json")

    assert response.status_code == 422, response.content
    body = body_of(response)
    assert body["code"] == "capture_invalid"
    assert body["errors"] == [
        field_error(
            "OrderService_arrivals.csv",
            "capture_invalid",
            "Telemetry CSV 'OrderService_arrivals.csv' contained 3 points but expected 4.",
        )
    ]
    assert run_dirs(data_root) == [source_run]
    assert not (data_root / "telemetry").exists()
