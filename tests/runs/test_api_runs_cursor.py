"""GET /v1/runs?cursor=…: keyset paging beside page/pageSize (both directions, every ordering, with
filters, stable under inserts; a cursor not issued by the server is a 400)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_helpers import body_of
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from runs.filters import RunFilter, run_queryset_without_form
from runs.models import Run

pytestmark = pytest.mark.django_db

ORDERINGS = ["createdUtc", "-createdUtc", "runId", "-runId", "templateId", "-templateId"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def add_run(
    run_id: str, *, template: str = "alpha", mode: str = "simulation", created: datetime | None
) -> None:
    Run.objects.create(
        run_id=run_id, template_id=template, template_title=template.title(), mode=mode,
        created_utc=created, bins=4, bin_size=5, bin_unit="minutes", path=f"runs/{run_id}",
    )  # fmt: skip


@pytest.fixture
def runs() -> list[tuple[str, str, str, datetime | None]]:
    """13 runs: createdUtc ties, templateId ties, two without createdUtc."""
    specs = []
    for i in range(13):
        created = None if i in (4, 9) else T0 + timedelta(hours=i % 4)
        template = ["alpha", "beta", "gamma"][i % 3]
        mode = "telemetry" if i % 2 else "simulation"
        specs.append((f"r{i:02d}", template, mode, created))
        add_run(f"r{i:02d}", template=template, mode=mode, created=created)
    return specs


def expected_order(specs: list[tuple[str, str, str, datetime | None]], ordering: str) -> list[str]:
    """The ordering worked out in Python: ties by runId, a missing createdUtc sorted where this
    database sorts nulls (PostgreSQL: largest, SQLite: smallest)."""
    nulls_largest = connection.features.nulls_order_largest
    missing = datetime.max.replace(tzinfo=UTC) if nulls_largest else datetime.min.replace(tzinfo=UTC)

    def key(spec: tuple[str, str, str, datetime | None]) -> tuple[Any, ...]:
        run_id, template, _mode, created = spec
        return {
            "createdUtc": (created or missing, run_id),
            "runId": (run_id,),
            "templateId": (template, run_id),
        }[ordering.lstrip("-")]

    return [s[0] for s in sorted(specs, key=key, reverse=ordering.startswith("-"))]


def get(client: APIClient, **query: Any) -> dict[str, Any]:
    response = client.get("/v1/runs", query)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = body_of(response)
    return body


def walk_forward(client: APIClient, size: int, **query: Any) -> tuple[list[str], list[dict[str, Any]]]:
    pages = [get(client, cursor="first", pageSize=size, **query)]
    while pages[-1]["nextCursor"]:
        assert len(pages) < 50, "the walk does not end"
        pages.append(get(client, cursor=pages[-1]["nextCursor"], pageSize=size, **query))
    return [item["runId"] for page in pages for item in page["items"]], pages


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("size", [1, 3, 5, 13])
def test_cursor_pages_walk_every_ordering_both_ways(
    runs: list[tuple[str, str, str, datetime | None]], ordering: str, size: int
) -> None:
    client = APIClient()
    expected = expected_order(runs, ordering)

    seen, pages = walk_forward(client, size, ordering=ordering)

    assert seen == expected
    assert [len(page["items"]) for page in pages[:-1]] == [size] * (len(pages) - 1)
    assert pages[0]["prevCursor"] is None
    # Back from the last page to the first: the same rows, page by page in reverse.
    back = [pages[-1]]
    while back[-1]["prevCursor"]:
        assert len(back) < 50, "the walk does not end"
        back.append(get(client, cursor=back[-1]["prevCursor"], pageSize=size, ordering=ordering))
    assert [item["runId"] for page in reversed(back) for item in page["items"]] == expected
    assert [page["items"] for page in back] == [page["items"] for page in reversed(pages)]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_cursor_pages_keep_the_filters(
    runs: list[tuple[str, str, str, datetime | None]], ordering: str
) -> None:
    matching = [spec for spec in runs if spec[2] == "telemetry"]

    seen, pages = walk_forward(APIClient(), 2, ordering=ordering, mode="telemetry")

    assert len(pages) == 3

    assert seen == expected_order(matching, ordering)


def test_cursor_pages_are_stable_under_inserts(runs: list[tuple[str, str, str, datetime | None]]) -> None:
    client = APIClient()
    first = get(client, cursor="first", pageSize=4, ordering="createdUtc")
    shown = [item["runId"] for item in first["items"]]

    # Rows land before the cursor (older than every run) and after it (newer than every run).
    add_run("r99_old", created=T0 - timedelta(days=1))
    add_run("r98_new", created=T0 + timedelta(days=1))
    rest, _pages = [], [first]
    page = first
    while page["nextCursor"]:
        page = get(client, cursor=page["nextCursor"], pageSize=4, ordering="createdUtc")
        rest += [item["runId"] for item in page["items"]]

    # Nothing shown twice, nothing skipped; the older insert is behind the cursor, the newer ahead
    # (where it falls among the runs without createdUtc depends on where the database sorts nulls).
    after = expected_order([*runs, ("r98_new", "alpha", "simulation", T0 + timedelta(days=1))], "createdUtc")
    assert shown + rest == shown + [run_id for run_id in after if run_id not in shown]
    assert shown == expected_order(runs, "createdUtc")[:4]
    assert "r99_old" not in shown + rest
    # Page numbers, by contrast, shift: page 2 of 4 now starts one row earlier.
    assert get(client, page=2, pageSize=4, ordering="createdUtc")["items"][0]["runId"] == shown[-1]


def test_cursor_page_body(runs: list[tuple[str, str, str, datetime | None]]) -> None:
    client = APIClient()
    body = get(client, cursor="first", pageSize=1, ordering="runId")

    assert isinstance(body["nextCursor"], str) and body["nextCursor"]
    assert body == {
        "items": [
            {
                "runId": "r00",
                "templateId": "alpha",
                "templateTitle": "Alpha",
                "templateVersion": "",
                "mode": "simulation",
                "createdUtc": "2026-01-01T00:00:00Z",
                "warningCount": 0,
                "startUtc": None,
                "duration": None,
                "bins": 4,
                "canReplay": False,
            }
        ],
        "pageSize": 1,
        "nextCursor": body["nextCursor"],
        "prevCursor": None,
    }
    second = get(client, cursor=body["nextCursor"], pageSize=1, ordering="runId")
    assert [item["runId"] for item in second["items"]] == ["r01"]
    assert second["prevCursor"] is not None


def test_cursor_on_an_empty_listing() -> None:
    body = get(APIClient(), cursor="first")

    assert body == {"items": [], "pageSize": 50, "nextCursor": None, "prevCursor": None}


def test_cursor_past_deleted_rows_offers_the_way_back(
    runs: list[tuple[str, str, str, datetime | None]],
) -> None:
    client = APIClient()
    first = get(client, cursor="first", pageSize=12, ordering="runId")
    Run.objects.filter(run_id="r12").delete()

    after = get(client, cursor=first["nextCursor"], pageSize=12, ordering="runId")

    assert after["items"] == [] and after["nextCursor"] is None
    back = get(client, cursor=after["prevCursor"], pageSize=12, ordering="runId")
    assert [item["runId"] for item in back["items"]] == [f"r{i:02d}" for i in range(12)]
    assert back["nextCursor"] is None and back["prevCursor"] is None


def problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    body: dict[str, Any] = body_of(response)
    assert body["code"] == "invalid_parameter"
    assert body["errors"][0]["field"] == "cursor"
    return body


def test_a_tampered_cursor_is_refused(runs: list[tuple[str, str, str, datetime | None]]) -> None:
    client = APIClient()
    cursor = get(client, cursor="first", pageSize=2)["nextCursor"]
    payload, signature = cursor.rsplit(":", 1)
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + ":" + signature

    for bad in (tampered, cursor[:-1], "not-a-cursor", "e30:abc"):
        body = problem(client.get("/v1/runs", {"cursor": bad}))
        assert body == {
            "type": "/problems/invalid_parameter",
            "title": "Invalid query parameter",
            "status": 400,
            "detail": "cursor is not one this server issued. Start again with cursor=first.",
            "code": "invalid_parameter",
            "error": "cursor is not one this server issued. Start again with cursor=first.",
            "errors": [
                {
                    "field": "cursor",
                    "code": "invalid_parameter",
                    "message": "cursor is not one this server issued. Start again with cursor=first.",
                }
            ],
            "instance": "/v1/runs",
        }


def test_a_cursor_of_another_ordering_is_refused(runs: list[tuple[str, str, str, datetime | None]]) -> None:
    client = APIClient()
    cursor = get(client, cursor="first", pageSize=2, ordering="runId")["nextCursor"]

    body = problem(client.get("/v1/runs", {"cursor": cursor, "ordering": "-runId"}))

    assert body["detail"] == (
        "cursor was issued for ordering=runId, not ordering=-runId. Start again with cursor=first."
    )


def test_cursor_and_page_are_not_combined() -> None:
    body = problem(APIClient().get("/v1/runs", {"cursor": "first", "page": "2"}))

    assert body["detail"] == "cursor and page cannot be combined; use one way of paging."


def test_cursor_is_given_once_and_page_size_still_checked() -> None:
    client = APIClient()
    assert (
        problem(client.get("/v1/runs?cursor=first&cursor=first"))["detail"]
        == "cursor may be given only once."
    )
    response = client.get("/v1/runs", {"cursor": "first", "pageSize": "0"})
    assert response.status_code == 400
    assert body_of(response)["errors"][0]["field"] == "pageSize"


def test_a_cursor_page_is_a_bounded_number_of_queries(
    runs: list[tuple[str, str, str, datetime | None]],
) -> None:
    client = APIClient()
    cursor = get(client, cursor="first", pageSize=3)["nextCursor"]

    with CaptureQueriesContext(connection) as queries:
        get(client, cursor=cursor, pageSize=3)

    # The page (one index range), the look behind for prevCursor; no COUNT.
    assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
    assert not any("COUNT" in q["sql"] for q in queries.captured_queries)


# --- the listing's filters without the FilterSet form --------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "",
        "mode=telemetry",
        "templateId=Order-System",
        "templateId=%20order-system%20",
        "hasWarnings=true",
        "hasWarnings=false",
        "search=sim",
        "ordering=templateId",
        "mode=simulation&templateId=x&hasWarnings=false&search=a&ordering=-runId",
    ],
)
def test_valid_filters_build_the_filtersets_own_query(query: str) -> None:
    params = QueryDict(query)
    given = {name: params[name] for name in params}

    fast = run_queryset_without_form(given, Run.objects.all())
    filterset = RunFilter(data=params, queryset=Run.objects.all())

    assert filterset.is_valid()
    assert fast is not None
    assert str(fast.query) == str(filterset.qs.query)


@pytest.mark.parametrize(
    "query",
    [
        "mode=batch",
        "hasWarnings=TRUE",
        "ordering=created",
        "createdAfter=2026-01-01T00:00:00Z",
        "search=a%00b",
    ],
)
def test_values_the_form_must_judge_are_left_to_it(query: str) -> None:
    params = QueryDict(query)

    assert run_queryset_without_form({name: params[name] for name in params}, Run.objects.all()) is None
