"""GET /v1/runs (spec 05 §4): pagination, every filter and ordering, served from the index alone.

Rows are written straight into the index: the listing must not need (or open) a run directory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_helpers import (
    TELEMETRY_REQUEST,
    assert_golden,
    body_of,
    copy_capture,
    post_run,
    recorded_file_access,
    scrub,
    writer,
)
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from runs.models import Run
from runs.selectors import run_filter_queryset

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def make_row(run_id: str, **overrides: Any) -> Run:
    fields: dict[str, Any] = {
        "template_id": "order-system",
        "template_title": "Order System",
        "template_version": "1.0.0",
        "mode": "simulation",
        "created_utc": at("2026-01-01T00:00:00Z"),
        "start_utc": at("2025-01-01T00:00:00Z"),
        "duration": "PT20M",
        "bins": 4,
        "bin_size": 5,
        "bin_unit": "minutes",
        "warning_count": 0,
        "can_replay": True,
        "path": f"runs/{run_id}",
    }
    fields.update(overrides)
    return Run.objects.create(run_id=run_id, **fields)


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["runId"] for item in body_of(response)["items"]]


def test_empty_index_lists_nothing(client: APIClient) -> None:
    response = client.get("/v1/runs")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body_of(response) == {
        "items": [],
        "totalCount": 0,
        "page": 1,
        "pageSize": 50,
        "next": None,
        "previous": None,
    }


def test_item_shape(client: APIClient) -> None:
    make_row("run_a", warning_count=2, can_replay=False)
    make_row(
        "run_b",
        template_id="it-system-microservices",
        template_title="IT System with Microservices",
        mode="telemetry",
        created_utc=None,
        start_utc=None,
        duration="",
        bins=6,
        bin_size=60,
    )

    response = client.get("/v1/runs?ordering=runId")

    assert response.status_code == 200
    assert body_of(response) == {
        "items": [
            {
                "runId": "run_a",
                "templateId": "order-system",
                "templateTitle": "Order System",
                "templateVersion": "1.0.0",
                "mode": "simulation",
                "createdUtc": "2026-01-01T00:00:00Z",
                "warningCount": 2,
                "startUtc": "2025-01-01T00:00:00Z",
                "duration": "PT20M",
                "bins": 4,
                "canReplay": False,
            },
            {
                "runId": "run_b",
                "templateId": "it-system-microservices",
                "templateTitle": "IT System with Microservices",
                "templateVersion": "1.0.0",
                "mode": "telemetry",
                "createdUtc": None,
                "warningCount": 0,
                "startUtc": None,
                "duration": None,
                "bins": 6,
                "canReplay": True,
            },
        ],
        "totalCount": 2,
        "page": 1,
        "pageSize": 50,
        "next": None,
        "previous": None,
    }


# --- pagination ----------------------------------------------------------------------------------


@pytest.fixture
def five_runs() -> list[str]:
    run_ids = [f"run_{i}" for i in range(1, 6)]
    for i, run_id in enumerate(run_ids):
        make_row(run_id, created_utc=at(f"2026-01-0{i + 1}T00:00:00Z"))
    return run_ids


def page(client: APIClient, query: str) -> dict[str, Any]:
    response = client.get(f"/v1/runs?{query}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = body_of(response)
    return {key: value for key, value in body.items() if key != "items"} | {
        "ids": [item["runId"] for item in body["items"]]
    }


def test_pages_walk_the_listing_with_links(client: APIClient, five_runs: list[str]) -> None:
    # Default ordering is newest first.
    assert page(client, "pageSize=2") == {
        "ids": ["run_5", "run_4"],
        "totalCount": 5,
        "page": 1,
        "pageSize": 2,
        "next": "/v1/runs?pageSize=2&page=2",
        "previous": None,
    }
    assert page(client, "pageSize=2&page=2") == {
        "ids": ["run_3", "run_2"],
        "totalCount": 5,
        "page": 2,
        "pageSize": 2,
        "next": "/v1/runs?pageSize=2&page=3",
        "previous": "/v1/runs?pageSize=2&page=1",
    }
    assert page(client, "page=3&pageSize=2") == {
        "ids": ["run_1"],
        "totalCount": 5,
        "page": 3,
        "pageSize": 2,
        "next": None,
        "previous": "/v1/runs?page=2&pageSize=2",
    }


def test_page_past_the_end_is_200_and_empty(client: APIClient, five_runs: list[str]) -> None:
    assert page(client, "page=9&pageSize=2") == {
        "ids": [],
        "totalCount": 5,
        "page": 9,
        "pageSize": 2,
        "next": None,
        # Points back at the last page that has items.
        "previous": "/v1/runs?page=3&pageSize=2",
    }


def test_links_keep_the_filters(client: APIClient, five_runs: list[str]) -> None:
    body = page(client, "mode=simulation&pageSize=1&page=2")

    assert body["next"] == "/v1/runs?mode=simulation&pageSize=1&page=3"
    assert body["previous"] == "/v1/runs?mode=simulation&pageSize=1&page=1"
    assert ids(client.get(body["next"])) == ["run_3"]


def test_default_page_size_is_50_and_the_maximum_200(client: APIClient) -> None:
    Run.objects.bulk_create(
        [
            Run(
                run_id=f"run_{i:03d}",
                template_id="order-system",
                template_key="order-system",
                mode="simulation",
                created_utc=at("2026-01-01T00:00:00Z"),
                bins=4,
                bin_size=5,
                bin_unit="minutes",
                path=f"runs/run_{i:03d}",
            )
            for i in range(201)
        ]
    )

    default = page(client, "")
    assert (len(default["ids"]), default["pageSize"], default["totalCount"]) == (50, 50, 201)
    largest = page(client, "pageSize=200")
    assert (len(largest["ids"]), largest["next"]) == (200, "/v1/runs?pageSize=200&page=2")
    assert page(client, "pageSize=200&page=2")["ids"] == ["run_000"]


# --- filters -------------------------------------------------------------------------------------


@pytest.fixture
def mixed_runs() -> None:
    make_row("run_sim_1", created_utc=at("2026-01-01T00:00:00Z"))
    make_row("run_sim_2", created_utc=at("2026-01-02T00:00:00Z"), warning_count=3)
    make_row(
        "run_tel_1",
        template_id="It-System-Microservices",
        template_title="IT System with Microservices",
        mode="telemetry",
        created_utc=at("2026-01-03T00:00:00Z"),
        warning_count=1,
    )
    make_row("run_undated", template_title="Unknown Title", created_utc=None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mode=simulation", ["run_sim_2", "run_sim_1", "run_undated"]),
        ("mode=telemetry", ["run_tel_1"]),
        ("templateId=order-system", ["run_sim_2", "run_sim_1", "run_undated"]),
        ("templateId=ORDER-SYSTEM", ["run_sim_2", "run_sim_1", "run_undated"]),
        ("templateId=it-system-microservices", ["run_tel_1"]),
        ("templateId=order", []),
        ("hasWarnings=true", ["run_tel_1", "run_sim_2"]),
        ("hasWarnings=false", ["run_sim_1", "run_undated"]),
        ("createdAfter=2026-01-02T00:00:00Z", ["run_tel_1", "run_sim_2"]),
        ("createdAfter=2026-01-02T00:00:01Z", ["run_tel_1"]),
        ("createdBefore=2026-01-02T00:00:00Z", ["run_sim_2", "run_sim_1"]),
        ("createdBefore=2026-01-01T23:59:59Z", ["run_sim_1"]),
        ("createdAfter=2026-01-01T12:00:00%2B00:00&createdBefore=2026-01-02T12:00:00Z", ["run_sim_2"]),
        ("createdAfter=2026-01-02T01:00:00%2B01:00", ["run_tel_1", "run_sim_2"]),
        ("search=tel", ["run_tel_1"]),
        ("search=SIM_", ["run_sim_2", "run_sim_1"]),
        ("search=microservices", ["run_tel_1"]),
        ("search=unknown title", ["run_undated"]),
        ("search=nothing-matches", []),
        ("mode=simulation&hasWarnings=false&search=undated", ["run_undated"]),
    ],
)
def test_filters(client: APIClient, mixed_runs: None, query: str, expected: list[str]) -> None:
    # Ordered by runId: where a null createdUtc sorts differs between databases.
    response = client.get(f"/v1/runs?{query}&ordering=runId")

    assert ids(response) == sorted(expected)
    assert body_of(response)["totalCount"] == len(expected)


# --- ordering ------------------------------------------------------------------------------------


@pytest.fixture
def tied_runs() -> None:
    # Two pairs share createdUtc and two share templateId, so only the runId tie-break orders them.
    make_row("run_b", template_id="beta", created_utc=at("2026-01-02T00:00:00Z"))
    make_row("run_d", template_id="alpha", created_utc=at("2026-01-01T00:00:00Z"))
    make_row("run_a", template_id="beta", created_utc=at("2026-01-02T00:00:00Z"))
    make_row("run_c", template_id="alpha", created_utc=at("2026-01-01T00:00:00Z"))
    make_row("run_e", template_id="gamma", created_utc=at("2026-01-03T00:00:00Z"))


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", ["run_e", "run_b", "run_a", "run_d", "run_c"]),
        ("-createdUtc", ["run_e", "run_b", "run_a", "run_d", "run_c"]),
        ("createdUtc", ["run_c", "run_d", "run_a", "run_b", "run_e"]),
        ("runId", ["run_a", "run_b", "run_c", "run_d", "run_e"]),
        ("-runId", ["run_e", "run_d", "run_c", "run_b", "run_a"]),
        ("templateId", ["run_c", "run_d", "run_a", "run_b", "run_e"]),
        ("-templateId", ["run_e", "run_b", "run_a", "run_d", "run_c"]),
    ],
)
def test_orderings_break_ties_by_run_id(
    client: APIClient, tied_runs: None, ordering: str, expected: list[str]
) -> None:
    query = f"ordering={ordering}" if ordering else ""
    assert ids(client.get(f"/v1/runs?{query}")) == expected
    # The same order holds page by page.
    paged = [
        run_id
        for number in (1, 2, 3)
        for run_id in ids(client.get(f"/v1/runs?{query}&pageSize=2&page={number}"))
    ]
    assert paged == expected


@pytest.mark.parametrize(
    ("ordering", "order_by"),
    [
        ("", ("-created_utc", "-run_id")),
        ("createdUtc", ("created_utc", "run_id")),
        ("-createdUtc", ("-created_utc", "-run_id")),
        ("runId", ("run_id",)),
        ("-runId", ("-run_id",)),
        ("templateId", ("template_id", "run_id")),
        ("-templateId", ("-template_id", "-run_id")),
    ],
)
def test_every_ordering_asks_the_database_for_the_run_id_tie_break(
    ordering: str, order_by: tuple[str, ...]
) -> None:
    """SQLite often returns ties in runId order anyway (via the composite indexes), so the listing
    tests above would not notice a lost tie-break; the query itself must carry it."""
    queryset = run_filter_queryset(QueryDict(f"ordering={ordering}" if ordering else ""))

    assert queryset.query.order_by == order_by


# --- served from the index alone -----------------------------------------------------------------


def test_listing_is_a_bounded_number_of_queries_and_opens_no_file(
    client: APIClient, settings: Any, data_root: Path
) -> None:
    # Real run directories exist, so reading them would be possible (and must not happen).
    rw = writer(settings)
    for run_id in ("run-one", "run-two"):
        assert post_run(rw, {"templateId": "order-system", "options": {"runId": run_id}}).status_code == 201
    for i in range(30):
        make_row(f"run_row_{i:02d}")

    client.get("/healthz")  # start the handler first: WhiteNoise indexes static assets once at start-up
    with CaptureQueriesContext(connection) as queries, recorded_file_access() as accesses:
        response = client.get("/v1/runs?pageSize=100&mode=simulation&ordering=runId&search=run")

    assert response.status_code == 200
    assert body_of(response)["totalCount"] == 32
    assert len(queries.captured_queries) <= 3, [q["sql"] for q in queries.captured_queries]
    assert accesses == []


# --- both modes, end to end ----------------------------------------------------------------------


def test_list_of_a_simulation_and_a_telemetry_run_matches_golden(settings: Any, data_root: Path) -> None:
    rw = writer(settings)
    copy_capture(data_root)
    simulation = post_run(rw, {"templateId": "order-system", "options": {"deterministicRunId": True}})
    telemetry = post_run(rw, TELEMETRY_REQUEST)
    assert simulation.status_code == 201, simulation.content
    assert telemetry.status_code == 201, telemetry.content
    telemetry_id = body_of(telemetry)["metadata"]["runId"]

    response = rw.get("/v1/runs?ordering=templateId")

    assert response.status_code == 200
    assert_golden("list_both_modes.json", scrub(body_of(response), {telemetry_id: "<telemetryRunId>"}))


@pytest.mark.parametrize(
    "ordering", ["createdUtc", "-createdUtc", "runId", "-runId", "templateId", "-templateId"]
)
@pytest.mark.parametrize("page_size", [1, 2, 3, 5])
def test_pages_from_either_end_join_into_the_full_ordering(ordering: str, page_size: int) -> None:
    """Pages past the middle are read from the other end of the index; together they must still be
    exactly the ordering, ties included (worked out here with Python's sort)."""
    from datetime import UTC, datetime

    from runs.models import Run

    stamps = [datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 11, tzinfo=UTC)]
    specs = [(f"r{i:02d}", ["alpha", "beta", "gamma"][i % 3], stamps[i % 2]) for i in range(11)]
    for run_id, template, created in specs:
        Run.objects.create(
            run_id=run_id, template_id=template, mode="simulation", created_utc=created,
            bins=4, bin_size=5, bin_unit="minutes", path=f"runs/{run_id}",
        )  # fmt: skip
    key = ordering.lstrip("-")
    field = {"createdUtc": 2, "runId": 0, "templateId": 1}[key]
    expected = [s[0] for s in sorted(specs, key=lambda s: (s[field], s[0]), reverse=ordering.startswith("-"))]

    client = APIClient()
    seen: list[str] = []
    page = 1
    while True:
        body = client.get(f"/v1/runs?ordering={ordering}&pageSize={page_size}&page={page}").json()
        if not body["items"]:
            break
        seen += [item["runId"] for item in body["items"]]
        page += 1
    assert seen == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # +16:19 is valid ISO 8601 but beyond what PostgreSQL stores: compared in UTC, never a 500.
        ("createdAfter=2000-01-01T05:55:15%2B16:19", 1),
        ("createdBefore=2000-01-01T05:55:15%2B16:19", 0),
        # Beyond the calendar once in UTC: no bound at all, or no run at all.
        ("createdAfter=0001-01-01T00:00:00%2B01:00", 1),
        ("createdBefore=0001-01-01T00:00:00%2B01:00", 0),
        ("createdBefore=9999-12-31T23:59:59-01:00", 1),
        ("createdAfter=9999-12-31T23:59:59-01:00", 0),
    ],
)
def test_created_bounds_with_any_offset_are_compared_in_utc(
    api_client_for_bounds: APIClient, query: str, expected: int
) -> None:
    response = api_client_for_bounds.get(f"/v1/runs?{query}")
    assert response.status_code == 200, response.content
    assert response.json()["totalCount"] == expected


@pytest.fixture
def api_client_for_bounds(settings: Any) -> APIClient:
    from runs.orchestration import RunRequest, create_run

    create_run(RunRequest(template_id="order-system"))
    return APIClient()


def test_listed_timestamps_are_spelled_the_same_whatever_their_digits(client: APIClient) -> None:
    """The first page, a deep page and a cursor page print one spelling: UTC, ``Z``, microseconds
    only when there are some (SQLite hands the list its stored text, other pages parse datetimes)."""
    make_row("a-micro", created_utc=at("2026-03-04T05:06:07.123456Z"), start_utc=at("2025-01-02T03:04:05.5Z"))
    make_row("b-whole", created_utc=at("2026-03-04T05:06:06Z"), start_utc=None)
    make_row("c-offset", created_utc=datetime.fromisoformat("2026-03-04T07:06:05+02:00"))
    make_row("d-ancient", created_utc=datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC))
    expected = {
        "a-micro": ("2026-03-04T05:06:07.123456Z", "2025-01-02T03:04:05.500000Z"),
        "b-whole": ("2026-03-04T05:06:06Z", None),
        "c-offset": ("2026-03-04T05:06:05Z", "2025-01-01T00:00:00Z"),
        "d-ancient": ("999-01-02T03:04:05Z", "2025-01-01T00:00:00Z"),  # format_timestamp's spelling
    }
    first = body_of(client.get("/v1/runs"))["items"]
    deep = body_of(client.get("/v1/runs?pageSize=1&page=2"))["items"]
    cursor = body_of(client.get("/v1/runs?cursor=first"))["items"]
    for items in (first, deep, cursor):
        for item in items:
            assert (item["createdUtc"], item["startUtc"]) == expected[item["runId"]]
    assert [item["runId"] for item in first] == ["a-micro", "b-whole", "c-offset", "d-ancient"]
    assert deep[0]["runId"] == "b-whole"
