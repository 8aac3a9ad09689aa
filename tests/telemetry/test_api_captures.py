"""HTTP contract of /v1/captures: capture a run, list, read and delete captures (spec 04 over HTTP)."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from api_helpers import (
    DETERMINISTIC_ORDER_SYSTEM,
    ORDER_SYSTEM_RUN_ID,
    PROBLEM_JSON,
    assert_problem,
    body_of,
    field_error,
    problem,
    tree_listing,
    writer,
)
from django.core.management import call_command
from rest_framework.test import APIClient
from telemetry_helpers import write_run_dir

from telemetry.models import Capture

pytestmark = pytest.mark.django_db

# Capturing the order-system defaults writes these files (the topology's semantics, spec 04 §2.1).
ORDER_FILES = [
    ("OrderService_arrivals.csv", "OrderService", "Arrivals"),
    ("OrderService_served.csv", "OrderService", "Served"),
    ("OrderService_errors.csv", "OrderService", "Errors"),
    ("OrderService_capacity.csv", "OrderService", "Capacity"),
    ("PaymentService_arrivals.csv", "PaymentService", "Arrivals"),
    ("PaymentService_served.csv", "PaymentService", "Served"),
    ("PaymentService_errors.csv", "PaymentService", "Errors"),
    ("PaymentService_capacity.csv", "PaymentService", "Capacity"),
]
# order-system's default orderArrivals [10, 14, 18, 12], written as spec 04 §2.3 says.
ORDER_ARRIVALS_CSV = b"bin_index,value\n0,10\n1,14\n2,18\n3,12\n"


def problem_at(code: str, status: int, detail: str, **kwargs: Any) -> dict[str, Any]:
    return problem(code, status, detail, instance=kwargs.pop("instance", "/v1/captures"), **kwargs)


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


@pytest.fixture
def source_run(client: APIClient) -> str:
    response = client.post("/v1/runs", DETERMINISTIC_ORDER_SYSTEM, format="json")
    assert response.status_code == 201, response.content
    return str(ORDER_SYSTEM_RUN_ID)


def post_capture(client: APIClient, body: Any) -> Any:
    return client.post("/v1/captures", body, format="json")


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def expected_body(capture_id: str, capture_dir: Path, created: str) -> dict[str, Any]:
    return {
        "captureId": capture_id,
        "sourceRunId": ORDER_SYSTEM_RUN_ID,
        "captureDirectory": capture_id,
        "grid": {"bins": 4, "binSize": 5, "binUnit": "minutes"},
        "window": {"startTimeUtc": "2025-01-01T00:00:00Z", "durationMinutes": 20},
        "files": [
            {
                "path": name,
                "nodeId": node,
                "metric": metric,
                "points": 4,
                "hash": sha256_of(capture_dir / name),
            }
            for name, node, metric in ORDER_FILES
        ],
        "warnings": [],
        "createdUtc": created,
    }


def test_post_capture_publishes_the_run_and_answers_201(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    response = post_capture(client, {"runId": source_run})

    assert response.status_code == 201, response.content
    assert response["Location"] == f"/v1/captures/{source_run}"
    capture_dir = data_root / "telemetry" / source_run
    body = body_of(response)
    assert body == expected_body(source_run, capture_dir, body["createdUtc"])
    assert (capture_dir / "OrderService_arrivals.csv").read_bytes() == ORDER_ARRIVALS_CSV
    manifest = json.loads((capture_dir / "manifest.json").read_text())
    assert body["createdUtc"] == manifest["provenance"]["capturedAtUtc"]
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == [source_run]
    row = Capture.objects.get()
    assert (row.capture_id, row.source_run_id, row.template_id, row.file_count) == (
        source_run,
        source_run,
        "order-system",
        8,
    )
    # GET reads the same capture back from its manifest.
    assert body_of(client.get(f"/v1/captures/{source_run}")) == body


def test_post_capture_with_a_capture_id_and_options(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    response = post_capture(
        client,
        {"runId": source_run, "captureId": "order demo", "options": {"gapDetect": True, "gapFillNan": True}},
    )

    assert response.status_code == 201, response.content
    assert response["Location"] == "/v1/captures/order%20demo"
    assert body_of(response)["captureDirectory"] == "order demo"
    assert (data_root / "telemetry" / "order demo" / "manifest.json").is_file()
    assert body_of(client.get("/v1/captures/order demo"))["captureId"] == "order demo"


def test_dry_run_answers_200_with_the_same_body_and_writes_nothing(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    before = tree_listing(data_root)

    response = post_capture(client, {"runId": source_run, "options": {"dryRun": True}})

    assert response.status_code == 200, response.content
    assert "Location" not in response
    assert tree_listing(data_root) == before
    assert Capture.objects.count() == 0
    dry = body_of(response)
    published = body_of(post_capture(client, {"runId": source_run}))
    assert {**dry, "createdUtc": None} == {**published, "createdUtc": None}


def test_capture_exists_is_409_and_overwrite_replaces_it(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    first = body_of(post_capture(client, {"runId": source_run}))
    (data_root / "telemetry" / source_run / "extra.txt").write_text("left by hand")

    again = post_capture(client, {"runId": source_run})

    detail = (
        f"Capture '{source_run}' already exists; pass options.overwriteExisting to replace it, "
        "or choose another captureId."
    )
    assert_problem(again, problem_at("capture_exists", 409, detail))
    replaced = post_capture(client, {"runId": source_run, "options": {"overwriteExisting": True}})
    assert replaced.status_code == 201
    assert body_of(replaced)["files"] == first["files"]
    assert not (data_root / "telemetry" / source_run / "extra.txt").exists()
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == [source_run]


def test_a_directory_that_is_not_a_capture_is_never_replaced(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    occupied = data_root / "telemetry" / "occupied"
    occupied.mkdir(parents=True)
    (occupied / "notes.txt").write_text("mine")

    response = post_capture(
        client, {"runId": source_run, "captureId": "occupied", "options": {"overwriteExisting": True}}
    )

    assert response.status_code == 409
    assert body_of(response)["code"] == "capture_exists"
    assert (occupied / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("run_id", ["run_missing_0001", "../../etc", "run/../../x", "/etc/passwd", "a\x00b"])
def test_unknown_or_malformed_run_is_404(
    client: APIClient, source_run: str, data_root: Path, tmp_path: Path, run_id: str
) -> None:
    before = tree_listing(tmp_path)

    response = post_capture(client, {"runId": run_id})

    assert_problem(response, problem_at("run_not_found", 404, f"Run '{run_id}' was not found."))
    assert tree_listing(tmp_path) == before


def test_damaged_run_is_409_run_invalid(client: APIClient, source_run: str, data_root: Path) -> None:
    (data_root / "runs" / source_run / "series" / "index.json").unlink()

    response = post_capture(client, {"runId": source_run})

    detail = (
        f"Run '{source_run}' is damaged: run.json, series/index.json and a model file must all be readable."
    )
    assert_problem(response, problem_at("run_invalid", 409, detail))
    assert not (data_root / "telemetry").exists()


def test_unreadable_series_is_409_run_invalid(client: APIClient, source_run: str, data_root: Path) -> None:
    series = data_root / "runs" / source_run / "series" / "order_arrivals@ORDER_ARRIVALS@DEFAULT.csv"
    assert series.is_file()
    series.write_text("t,value\n0,ten\n1,14\n2,18\n3,12\n")

    response = post_capture(client, {"runId": source_run})

    detail = (
        f"Run '{source_run}' is damaged: Series 'order_arrivals@ORDER_ARRIVALS@DEFAULT.csv' line 2: "
        "value 'ten' is not a number."
    )
    assert_problem(response, problem_at("run_invalid", 409, detail))


def test_capture_name_collision_keeps_its_spec_04_code(client: APIClient, data_root: Path) -> None:
    model = (
        "grid: {bins: 1, binSize: 5, binUnit: minutes}\n"
        "topology:\n  nodes:\n"
        "    - {id: Svc, semantics: {arrivals: a, served: a}}\n"
        "    - {id: svc, semantics: {arrivals: b, served: b}}\n"
    )
    write_run_dir(
        data_root / "runs" / "run_hand_made",
        model=model,
        series={"a": "t,v\n0,1\n", "b": "t,v\n0,2\n"},
        bins=1,
    )
    # A run directory needs model/metadata.json to be a run at all, and hashes that agree (spec 06 §1).
    run_dir = data_root / "runs" / "run_hand_made"
    (run_dir / "model" / "metadata.json").write_text(
        '{"templateId": "hand-made", "mode": "simulation"}', encoding="utf-8"
    )
    run_json = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    run_json["modelHash"] = "sha256:" + hashlib.sha256(model.encode()).hexdigest()
    (run_dir / "run.json").write_text(json.dumps(run_json), encoding="utf-8")

    response = post_capture(client, {"runId": "run_hand_made"})

    detail = "Capture file names 'Svc_arrivals.csv' and 'svc_arrivals.csv' are equal ignoring case."
    assert_problem(response, problem_at("capture_name_collision", 422, detail))
    assert not (data_root / "telemetry").exists()


BAD_CAPTURE_IDS = [
    ("../escape", "must be a single name without '/'"),
    ("../../../../tmp/escape", "must be a single name without '/'"),
    ("a/b", "must be a single name without '/'"),
    ("/abs", "must be a single name without '/'"),
    ("..", "must not contain empty, '.' or '..' segments"),
    (".staging", "must not start with '.'"),
    ("x\\y", "must use '/' separators"),
    ("C:evil", "must not start with a drive letter"),
    ("nul\x00byte", "must not contain a NUL byte"),
    ("%2e%2e", "must not contain empty, '.' or '..' segments"),
    ("n" * 256, "is longer than any path the server accepts"),
]


@pytest.mark.parametrize(("capture_id", "why"), BAD_CAPTURE_IDS)
def test_bad_capture_id_is_400_and_writes_nothing(
    client: APIClient, source_run: str, tmp_path: Path, capture_id: str, why: str
) -> None:
    before = tree_listing(tmp_path)

    response = post_capture(client, {"runId": source_run, "captureId": capture_id})

    assert response.status_code == 400, response.content
    body = body_of(response)
    assert body["code"] == "invalid_request"
    assert body["errors"] == [field_error("captureId", "invalid_request", why)]
    assert tree_listing(tmp_path) == before


def test_blank_capture_id_is_400_and_writes_nothing(
    client: APIClient, source_run: str, tmp_path: Path
) -> None:
    before = tree_listing(tmp_path)

    response = post_capture(client, {"runId": source_run, "captureId": ""})

    assert response.status_code == 400, response.content
    body = body_of(response)
    assert body["code"] == "invalid_request"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("captureId", "blank")]
    assert tree_listing(tmp_path) == before


def test_both_gap_modes_is_400(client: APIClient, source_run: str) -> None:
    response = post_capture(
        client, {"runId": source_run, "options": {"gapDetect": True, "gapFillGaps": True}}
    )

    detail = (
        "options.gapDetect and options.gapFillGaps cannot both be true: a gap is either reported or filled."
    )
    assert_problem(
        response,
        problem_at(
            "invalid_request",
            400,
            detail,
            errors=[field_error("options.gapFillGaps", "invalid_request", "conflicts with gapDetect")],
        ),
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"runId": 5}, {"runId": "r", "options": {"dryRun": "yes"}}, {"runId": "r", "captureId": 3}, []],
)
def test_malformed_body_is_400(client: APIClient, body: Any) -> None:
    response = post_capture(client, body)

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM_JSON
    assert body_of(response)["code"] == "invalid_request"


def test_writes_need_permission(settings: Any, source_run: str, data_root: Path) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = False
    anonymous = APIClient()

    posted = anonymous.post("/v1/captures", {"runId": source_run}, format="json")
    deleted = anonymous.delete(f"/v1/captures/{source_run}")

    assert (posted.status_code, body_of(posted)["code"]) == (401, "not_authenticated")
    assert (deleted.status_code, body_of(deleted)["code"]) == (401, "not_authenticated")
    assert not (data_root / "telemetry").exists()
    assert anonymous.get("/v1/captures").status_code == 200


# --- GET ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("capture_id", ["nothing-here", "..", "..%2F..%2Fetc", ".staging", "a%5Cb"])
def test_unknown_capture_is_404(client: APIClient, capture_id: str) -> None:
    response = client.get(f"/v1/captures/{capture_id}")

    assert response.status_code == 404
    assert body_of(response)["code"] in {"capture_not_found", "not_found"}


def test_unknown_capture_body(client: APIClient) -> None:
    assert_problem(
        client.get("/v1/captures/nothing-here"),
        problem_at(
            "capture_not_found",
            404,
            "Capture 'nothing-here' was not found.",
            instance="/v1/captures/nothing-here",
        ),
    )


def test_capture_copied_in_by_hand_is_read_and_indexed_on_the_spot(
    client: APIClient, data_root: Path
) -> None:
    from telemetry_helpers import copy_fixture

    copy_fixture(data_root / "telemetry" / "it-system-telemetry")

    body = body_of(client.get("/v1/captures/it-system-telemetry"))

    assert body["sourceRunId"] == "time_travel_demo"
    assert body["grid"] == {"bins": 6, "binSize": 60, "binUnit": "minutes"}
    assert body["window"] == {"startTimeUtc": "2025-10-01T00:00:00Z", "durationMinutes": 360}
    assert body["createdUtc"] == "2025-10-15T00:00:00Z"
    # Bare-hex hashes of the FlowTime manifest come back normalised.
    assert body["files"][0] == {
        "path": "LoadBalancer_arrivals.csv",
        "nodeId": "LoadBalancer",
        "metric": "Arrivals",
        "points": 6,
        "hash": "sha256:b0ff21c1c2f109f18daeff14d620242f3b0d5613a8263cd1333ff6cfd9a1b434",
    }
    assert list(Capture.objects.values_list("capture_id", "template_id")) == [("it-system-telemetry", "")]


def test_list_filters_and_pages(client: APIClient, source_run: str, data_root: Path) -> None:
    from telemetry_helpers import copy_fixture

    for name in ("a-capture", "b-capture"):
        assert post_capture(client, {"runId": source_run, "captureId": name}).status_code == 201
    copy_fixture(data_root / "telemetry" / "it-system-telemetry")
    call_command("reindex_captures", stdout=StringIO())

    everything = body_of(client.get("/v1/captures"))
    by_run = body_of(client.get(f"/v1/captures?sourceRunId={source_run}"))
    by_template = body_of(client.get("/v1/captures?templateId=ORDER-SYSTEM&pageSize=1&page=2"))

    assert everything["totalCount"] == 3
    assert {item["captureId"] for item in everything["items"]} == {
        "a-capture",
        "b-capture",
        "it-system-telemetry",
    }
    assert sorted(item["captureId"] for item in by_run["items"]) == ["a-capture", "b-capture"]
    assert by_template["totalCount"] == 2
    assert [item["captureId"] for item in by_template["items"]] == ["a-capture"]  # newest first, ties by id
    assert by_template["previous"] == "/v1/captures?templateId=ORDER-SYSTEM&pageSize=1&page=1"
    assert by_template["next"] is None
    item = next(i for i in everything["items"] if i["captureId"] == "b-capture")
    assert item == {
        "captureId": "b-capture",
        "sourceRunId": source_run,
        "templateId": "order-system",
        "captureDirectory": "b-capture",
        "createdUtc": item["createdUtc"],
        "startUtc": "2025-01-01T00:00:00Z",
        "bins": 4,
        "binSize": 5,
        "binUnit": "minutes",
        "fileCount": 8,
        "warningCount": 0,
    }


@pytest.mark.parametrize("query", ["page=0", "pageSize=500", "sourceRunId=a&sourceRunId=b"])
def test_bad_list_parameters_are_400(client: APIClient, query: str) -> None:
    response = client.get(f"/v1/captures?{query}")

    assert response.status_code == 400
    assert body_of(response)["code"] == "invalid_parameter"


# --- DELETE ------------------------------------------------------------------------------------


def test_delete_removes_the_capture_and_its_row_and_runs_made_from_it_stay_replayable(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    post_capture(client, {"runId": source_run, "captureId": "order-demo"})
    made = client.post(
        "/v1/runs",
        {
            "templateId": "order-system",
            "telemetry": {
                "captureDirectory": "order-demo",
                "bindings": {"telemetryArrivals": "OrderService_arrivals.csv"},
            },
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    run_id = body_of(made)["metadata"]["runId"]

    deleted = client.delete("/v1/captures/order-demo")

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == []  # no staging left behind
    assert Capture.objects.count() == 0
    assert client.get("/v1/captures/order-demo").status_code == 404
    assert client.delete("/v1/captures/order-demo").status_code == 404
    state = client.get(f"/v1/runs/{run_id}/state_window?startBin=0&endBin=3")
    assert state.status_code == 200
    order = next(n for n in body_of(state)["nodes"] if n["id"] == "OrderService")
    assert order["series"]["arrivals"] == [10, 14, 18, 12]
    assert body_of(client.get(f"/v1/runs/{run_id}"))["canReplay"] is True


def test_delete_refuses_what_is_not_a_capture(client: APIClient, data_root: Path, tmp_path: Path) -> None:
    plain = data_root / "telemetry" / "plain"
    plain.mkdir(parents=True)
    (plain / "notes.txt").write_text("mine")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "manifest.json").write_text("{}")
    (data_root / "telemetry" / "link").symlink_to(outside)

    for capture_id in ("plain", "link", "..", "../outside"):
        response = client.delete(f"/v1/captures/{capture_id}")
        assert response.status_code == 404, capture_id

    assert (plain / "notes.txt").read_text() == "mine"
    assert (outside / "manifest.json").read_text() == "{}"


# --- index rebuild -----------------------------------------------------------------------------


def test_reindex_captures_rebuilds_and_prunes(client: APIClient, source_run: str, data_root: Path) -> None:
    post_capture(client, {"runId": source_run, "captureId": "kept"})
    Capture.objects.all().delete()
    Capture.objects.create(capture_id="gone", bins=1, bin_size=1, bin_unit="minutes", path="telemetry/gone")
    (data_root / "telemetry" / "not-a-capture").mkdir()

    out = StringIO()
    call_command("reindex_captures", "--prune", "--json", stdout=out)

    assert json.loads(out.getvalue()) == {
        "indexed": 1,
        "pruned": 1,
        "skipped": [],
        "staleStagingRemoved": 0,
        "dryRun": False,
    }
    assert list(Capture.objects.values_list("capture_id", "template_id")) == [("kept", "order-system")]


def test_reindex_captures_reports_in_words(client: APIClient, source_run: str, data_root: Path) -> None:
    post_capture(client, {"runId": source_run, "captureId": "kept"})
    assert post_capture(client, {"runId": source_run, "captureId": "broken"}).status_code == 201
    (data_root / "telemetry" / "broken" / "manifest.json").write_text("{not json")
    Capture.objects.create(capture_id="gone", bins=1, bin_size=1, bin_unit="minutes", path="telemetry/gone")

    dry, out, err = StringIO(), StringIO(), StringIO()
    call_command("reindex_captures", "--prune", "--dry-run", stdout=dry)
    call_command("reindex_captures", stdout=out, stderr=err)

    assert dry.getvalue().splitlines()[:2] == ["Would index 1 captures.", "Would prune 2 rows."]
    lines = out.getvalue().splitlines()
    assert lines[0] == "Indexed 1 captures."  # no prune line without --prune
    assert [line.split(":")[0] for line in lines[1:]] == ["Skipped broken"]
    assert lines[1].startswith("Skipped broken: capture_invalid: manifest.json is not valid JSON")
    assert err.getvalue() == ""
    assert Capture.objects.filter(capture_id="gone").exists()


def test_a_damaged_manifest_is_capture_invalid_and_left_out_of_the_index(
    client: APIClient, source_run: str, data_root: Path
) -> None:
    assert post_capture(client, {"runId": source_run, "captureId": "broken"}).status_code == 201
    (data_root / "telemetry" / "broken" / "manifest.json").write_text("{not json")

    response = client.get("/v1/captures/broken")
    out = StringIO()
    call_command("reindex_captures", "--prune", "--json", stdout=out)

    assert response.status_code == 422
    assert body_of(response)["code"] == "capture_invalid"
    assert str(data_root) not in response.content.decode()
    report = json.loads(out.getvalue())
    assert (report["indexed"], report["pruned"]) == (0, 1)
    assert [item["captureId"] for item in report["skipped"]] == ["broken"]
    assert report["skipped"][0]["reason"].startswith("capture_invalid: manifest.json is not valid JSON")
    assert Capture.objects.count() == 0
