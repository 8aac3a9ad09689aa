"""The admin's run pages: a read-only change page with one SVG chart per topology node, and a
changelist with filters and search over the run index."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client

from runs.models import Run
from runs.orchestration import RunRequest, create_run
from runs.replay import clear_caches
from runs.services import run_index_refresh

pytestmark = pytest.mark.django_db

CHART = re.compile(
    r'<figure class="node-chart"[^>]*><figcaption>([^<]*)</figcaption>(<svg\b.*?</svg>)'
    r'<script type="application/json" class="chart-data">[^<]*</script>'
    r'<div class="chart-tip" role="status" hidden></div></figure>',
    re.S,
)
CHARTS_FIELD = re.compile(r'<div class="form-row field-series_charts">(.*?)</fieldset>', re.S)
PATH = re.compile(r'<path d="([^"]*)"[^>]*data-series="([^"]*)"/>')


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    clear_caches()


@pytest.fixture
def admin_client(data_root: Path) -> Client:
    user = User.objects.create_superuser("admin", "admin@example.com", "not-used")
    client = Client()
    client.force_login(user)
    return client


def get_page(client: Client, data_root: Path, path: str) -> HttpResponse:
    response: HttpResponse = client.get(path)  # type: ignore[assignment]
    text = response.content.decode()
    assert str(data_root) not in text
    assert str(data_root.resolve()) not in text
    return response


def simulation_run(template_id: str) -> str:
    return create_run(RunRequest(template_id=template_id, deterministic_run_id=True)).run_id


def charts_of(html: str) -> list[tuple[str, list[str], list[int]]]:
    """(node id, series names in path order, points per path) for each chart in the Charts field."""
    field = CHARTS_FIELD.search(html)
    assert field is not None
    region = field.group(1)
    charts = CHART.findall(region)
    assert region.count("<svg") == len(charts)
    result = []
    for node_id, svg in charts:
        paths = PATH.findall(svg)
        assert svg.count("<path") == len(paths)
        result.append(
            (node_id, [name for _d, name in paths], [len(re.findall(r"[ML]", d)) for d, _name in paths])
        )
    return result


@pytest.mark.parametrize(
    ("template_id", "expected"),
    [
        # Spec 01 §7 topologies: errors only where the template sets them, queue only on queue nodes;
        # utilisation where a node has capacity, latency on queue nodes.
        (
            "support-queue",
            [
                ("Intake", ["arrivals", "served", "errors", "capacity", "utilization"]),
                (
                    "SupportQueue",
                    ["arrivals", "served", "capacity", "queue", "utilization", "latencyMinutes"],
                ),
            ],
        ),
        (
            "manufacturing-line",
            [
                ("AssemblyLine", ["arrivals", "served", "errors"]),
                ("QualityControl", ["arrivals", "served"]),
                ("PackagingStation", ["arrivals", "served"]),
            ],
        ),
        (
            "order-system",
            [
                ("OrderService", ["arrivals", "served", "errors", "capacity", "utilization"]),
                ("PaymentService", ["arrivals", "served", "errors", "capacity", "utilization"]),
            ],
        ),
    ],
)
def test_change_page_has_one_chart_per_topology_node(
    admin_client: Client, data_root: Path, template_id: str, expected: list[tuple[str, list[str]]]
) -> None:
    run_id = simulation_run(template_id)
    bins = Run.objects.get(run_id=run_id).bins
    response = get_page(admin_client, data_root, f"/admin/runs/run/{run_id}/change/")
    assert response.status_code == 200
    charts = charts_of(response.content.decode())
    assert [(node_id, names) for node_id, names, _points in charts] == expected
    # Every bin of these runs is finite: one unbroken line (one M, then L) over all bins per series.
    assert [points for _node, _names, points in charts] == [[bins] * len(names) for _node, names in expected]


def test_change_page_of_a_damaged_run_says_why_charts_are_missing(
    admin_client: Client, data_root: Path
) -> None:
    run_id = simulation_run("order-system")
    run_json = data_root / "runs" / run_id / "run.json"
    document = json.loads(run_json.read_text(encoding="utf-8"))
    document["modelHash"] = "sha256:" + "0" * 64
    run_json.write_text(json.dumps(document), encoding="utf-8")

    response = get_page(admin_client, data_root, f"/admin/runs/run/{run_id}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Charts unavailable: provenance_mismatch: run.json modelHash sha256:" in html
    assert charts_of(html) == []


def test_runs_are_read_only(admin_client: Client, data_root: Path) -> None:
    run_id = simulation_run("order-system")
    before = Run.objects.filter(run_id=run_id).values().get()

    response = admin_client.post(
        f"/admin/runs/run/{run_id}/change/", {"template_id": "changed", "warning_count": "7"}
    )
    assert response.status_code == 403
    assert Run.objects.filter(run_id=run_id).values().get() == before

    assert admin_client.get("/admin/runs/run/add/").status_code == 403
    assert admin_client.post("/admin/runs/run/add/", {"run_id": "run_new"}).status_code == 403
    assert list(Run.objects.values_list("run_id", flat=True)) == [run_id]

    page = get_page(admin_client, data_root, f"/admin/runs/run/{run_id}/change/").content.decode()
    assert 'name="_save"' not in page  # the view page offers no save button
    assert "<input" not in CHARTS_FIELD.search(page).group(1)  # type: ignore[union-attr]


def test_delete_removes_the_directory_and_the_row_after_confirmation(
    admin_client: Client, data_root: Path
) -> None:
    run_id = simulation_run("order-system")
    page = f"/admin/runs/run/{quote(run_id)}/delete/"
    confirm = get_page(admin_client, data_root, page)
    assert confirm.status_code == 200
    assert "Are you sure you want to delete the run" in confirm.content.decode()
    assert (data_root / "runs" / run_id).is_dir()  # asking changes nothing

    response = admin_client.post(page, {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == "/admin/runs/run/"
    assert not (data_root / "runs" / run_id).exists()
    assert not Run.objects.filter(run_id=run_id).exists()
    assert sorted(p.name for p in (data_root / "runs").iterdir()) == []  # no staging left either
    # Disk first: a reindex does not bring it back.
    run_index_refresh(run_id=run_id)
    assert not Run.objects.filter(run_id=run_id).exists()


def test_delete_of_a_row_whose_directory_is_gone_drops_the_row(admin_client: Client, data_root: Path) -> None:
    import shutil

    run_id = simulation_run("order-system")
    shutil.rmtree(data_root / "runs" / run_id)
    response = admin_client.post(f"/admin/runs/run/{quote(run_id)}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Run.objects.filter(run_id=run_id).exists()


def test_bulk_delete_action(admin_client: Client, data_root: Path) -> None:
    run_ids = [simulation_run("order-system"), simulation_run("support-queue")]
    response = admin_client.post(
        "/admin/runs/run/",
        {"action": "delete_selected", "_selected_action": run_ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert Run.objects.count() == 0
    assert [p.name for p in (data_root / "runs").iterdir() if p.name != ".staging"] == []


def test_bulk_delete_drops_a_row_whose_directory_is_gone(admin_client: Client, data_root: Path) -> None:
    import shutil

    run_ids = [simulation_run("order-system"), simulation_run("support-queue")]
    shutil.rmtree(data_root / "runs" / run_ids[0])
    response = admin_client.post(
        "/admin/runs/run/",
        {"action": "delete_selected", "_selected_action": run_ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert Run.objects.count() == 0
    assert not (data_root / "runs" / run_ids[1]).exists()


def test_run_page_shows_parameters_and_seed_as_a_table(admin_client: Client, data_root: Path) -> None:
    run_id = create_run(
        RunRequest(template_id="order-system", parameters={"orderErrorRate": 0.25}, seed=11)
    ).run_id
    html = get_page(admin_client, data_root, f"/admin/runs/run/{quote(run_id)}/change/").content.decode()
    assert "<tr><td><code>orderErrorRate</code></td><td><code>0.25</code></td></tr>" in html
    assert "<tr><td><code>orderArrivals</code></td><td><code>10, 14, 18, 12</code></td></tr>" in html
    assert "<tr><td><code>rng seed</code></td><td><code>11</code></td></tr>" in html


def test_run_list_shows_grid_duration_and_warnings(admin_client: Client, data_root: Path) -> None:
    simulation_run("order-system")  # 4 bins of 5 minutes
    html = get_page(admin_client, data_root, "/admin/runs/run/").content.decode()
    assert '<td class="field-grid_text">4 × 5 min</td>' in html
    assert '<td class="field-duration_text">20 min</td>' in html
    assert '<td class="field-warning_count">0</td>' in html
    assert 'href="/admin/runs/run/create/"' in html


@pytest.fixture
def indexed_runs(data_root: Path) -> dict[str, str]:
    """Three runs: order-system with one run warning, dated 2020; support-queue and it-system clean."""
    runs = {
        name: simulation_run(name) for name in ("order-system", "support-queue", "it-system-microservices")
    }
    run_json = data_root / "runs" / runs["order-system"] / "run.json"
    document = json.loads(run_json.read_text(encoding="utf-8"))
    document["warnings"] = ["Capacity data is partly estimated."]
    run_json.write_text(json.dumps(document), encoding="utf-8")
    run_index_refresh(run_id=runs["order-system"])
    Run.objects.filter(run_id=runs["order-system"]).update(created_utc=datetime(2020, 6, 1, tzinfo=UTC))
    Run.objects.filter(run_id=runs["support-queue"]).update(created_utc=datetime(2021, 6, 1, tzinfo=UTC))
    Run.objects.filter(run_id=runs["it-system-microservices"]).update(
        created_utc=datetime(2022, 6, 1, tzinfo=UTC)
    )
    return runs


def listed(client: Client, data_root: Path, query: str) -> list[str]:
    response = get_page(client, data_root, f"/admin/runs/run/{query}")
    assert response.status_code == 200
    return [row.run_id for row in response.context["cl"].result_list]  # type: ignore[attr-defined]


def test_changelist_lists_newest_first(
    admin_client: Client, data_root: Path, indexed_runs: dict[str, str]
) -> None:
    response = get_page(admin_client, data_root, "/admin/runs/run/")
    html = response.content.decode()
    assert listed(admin_client, data_root, "") == [
        indexed_runs["it-system-microservices"],
        indexed_runs["support-queue"],
        indexed_runs["order-system"],
    ]
    for title in ("By mode", "By template", "By has warnings", "By created (UTC)"):
        assert title in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?template_id=support-queue", ["support-queue"]),
        ("?mode=simulation", ["it-system-microservices", "support-queue", "order-system"]),
        ("?mode=telemetry", []),
        ("?has_warnings=yes", ["order-system"]),
        ("?has_warnings=no", ["it-system-microservices", "support-queue"]),
        (
            "?created_utc__gte=2021-01-01+00:00:00%2B00:00&created_utc__lt=2022-01-01+00:00:00%2B00:00",
            ["support-queue"],
        ),
        ("?q=support", ["support-queue"]),
        ("?q=IT+System", ["it-system-microservices"]),
        ("?q=nothing-matches", []),
        ("?q=order&has_warnings=no", []),
    ],
)
def test_changelist_filters_and_search(
    admin_client: Client, data_root: Path, indexed_runs: dict[str, str], query: str, expected: list[str]
) -> None:
    assert listed(admin_client, data_root, query) == [indexed_runs[name] for name in expected]


def test_warning_count_comes_from_the_run(indexed_runs: dict[str, str]) -> None:
    assert Run.objects.get(run_id=indexed_runs["order-system"]).warning_count == 1
    assert Run.objects.get(run_id=indexed_runs["support-queue"]).warning_count == 0


def test_change_page_shows_the_run_as_it_is_now(admin_client: Client, data_root: Path) -> None:
    run_id = simulation_run("order-system")
    page = f"/admin/runs/run/{run_id}/change/"
    assert (
        "Capacity data is partly estimated." not in get_page(admin_client, data_root, page).content.decode()
    )

    run_json = data_root / "runs" / run_id / "run.json"
    document = json.loads(run_json.read_text(encoding="utf-8"))
    document["warnings"] = ["Capacity data is partly estimated."]
    run_json.write_text(json.dumps(document), encoding="utf-8")

    # The page reads the run directory on every request: nothing from an earlier request is reused.
    assert "Capacity data is partly estimated." in get_page(admin_client, data_root, page).content.decode()
