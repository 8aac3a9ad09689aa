"""The first hour and the staff view, in a real browser: Playwright driving the system's Chromium.

One live server and one browser for the module. Chromium is found through ``FLOWTIME_CHROMIUM`` or
``chromium`` on PATH; without it the module is skipped, unless ``FLOWTIME_REQUIRE_BROWSER=1`` (CI),
where a missing browser fails. Screenshots of every page land in ``var/screens/`` for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User

from runs.models import Run
from runs.orchestration import RunRequest, create_run

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SCREENS = Path(django_settings.BASE_DIR) / "var" / "screens"
PASSWORD = "browser-test-password"
TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    configured = os.environ.get("FLOWTIME_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _unavailable(reason: str) -> None:
    if os.environ.get("FLOWTIME_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (FLOWTIME_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    executable = chromium_path()
    if executable is None:
        _unavailable("no Chromium found: install the chromium package or set FLOWTIME_CHROMIUM")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests themselves
    # are plain synchronous code, which Django would otherwise refuse while that loop exists. Only for
    # this module: the setting is restored afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_superuser("staff", "staff@example.com", PASSWORD)


def log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{base}/admin/", page.inner_text("body")[:500]


def deterministic_run(template_id: str, **parameters: Any) -> str:
    request = RunRequest(template_id=template_id, parameters=parameters, deterministic_run_id=True)
    return create_run(request).run_id


def test_front_door_and_browsable_api(page: Any, live_server: Any) -> None:
    run_id = deterministic_run("order-system")
    page.goto(live_server.url + "/")
    assert page.title() == "FlowTime runs"
    assert page.inner_text("#run-count .number") == "1"
    assert page.inner_text("#template-count .number") == "7"
    assert page.locator(f"#latest-runs a:text-is('{run_id}')").count() == 1
    screenshot(page, "01-front-door")

    page.click("text=Browsable API")
    page.wait_for_url(re.compile(r".*/v1/runs\?format=api$"))
    body = page.inner_text(".response-info")
    assert '"totalCount": 1' in body
    assert run_id in body
    screenshot(page, "02-browsable-runs")

    # The same route with a browser's own Accept header, no ?format: still the HTML page.
    page.goto(f"{live_server.url}/v1/runs/{run_id}")
    assert '"parameters": {' in page.inner_text(".response-info")
    screenshot(page, "03-browsable-run-detail")


def test_admin_run_list_and_run_page_charts(page: Any, live_server: Any, staff: User) -> None:
    # orderErrorRate high enough that OrderService serves less than it could: arrivals 18 > capacity
    # 16 at bin 2 makes its utilisation 1 there, a red bin by the /state rules.
    run_id = deterministic_run("order-system", orderErrorRate=0.1)
    deterministic_run("support-queue")
    log_in(page, live_server.url)
    page.goto(live_server.url + "/admin/runs/run/")
    header = page.inner_text("#result_list thead")
    for column in ("BINS × SIZE", "DURATION", "WARNINGS"):
        assert column in header.upper()
    assert "4 × 5 min" in page.inner_text("#result_list tbody")
    screenshot(page, "04-admin-run-list")

    page.click(f"#result_list a:text-is('{run_id}')")
    page.wait_for_url(re.compile(rf".*/admin/runs/run/{quote(run_id)}/change/$"))
    chart = page.locator("figure.node-chart[data-node='OrderService']")
    svg = chart.locator("svg")
    time_labels = svg.locator("text.time-label").all_text_contents()
    assert time_labels[:2] == ["00:00", "00:05"]  # grid starts 2025-01-01T00:00Z, 5-minute bins
    legend = svg.locator(".legend .legend-item").evaluate_all("items => items.map(i => i.dataset.series)")
    assert legend[:4] == ["arrivals", "served", "errors", "capacity"]
    assert svg.locator("path[data-series='capacity']").count() == 1
    assert svg.locator("path[data-series='utilization']").count() == 1
    assert svg.locator("rect.state-red").count() >= 1
    table = page.inner_text(".field-run_parameters table")
    assert "orderErrorRate\t0.1" in table

    # Hover over the third bin (index 2) of a 4-bin chart: the read-out names it and its values.
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    plot_left, plot_width = 70 / 1000, 910 / 1000  # runs.replay.charts PLOT_LEFT, PLOT_WIDTH of WIDTH
    svg.hover(position={"x": box["width"] * (plot_left + plot_width * 2.5 / 4), "y": box["height"] * 0.4})
    tip = chart.locator(".chart-tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert "bin 2" in text
    assert "2025-01-01 00:10 – 00:15 UTC" in text
    assert "arrivals: 18" in text  # order-system's default orderArrivals [10, 14, 18, 12]
    assert "capacity: 16" in text
    screenshot(page, "05-admin-run-page")
    chart.screenshot(path=str(SCREENS / "05b-admin-run-chart-hover.png"))


def test_create_preview_and_delete_a_run_from_the_admin(
    page: Any, live_server: Any, staff: User, data_root: Path
) -> None:
    log_in(page, live_server.url)
    page.goto(live_server.url + "/admin/runs/run/")
    page.click("text=Create run")
    page.select_option("#id_template_choice", "order-system")
    page.click("#choose-template")
    assert page.input_value("#id_param_orderArrivals") == "10, 14, 18, 12"
    screenshot(page, "06-admin-create-form")

    # A wrong array length comes back inline with its code, nothing written.
    page.fill("#id_param_orderArrivals", "10, 14, 18")
    page.click("#preview-run")
    errors = page.inner_text(".field-param_orderArrivals .errorlist")
    assert "length: parameters.orderArrivals: orderArrivals has 3 elements but grid.bins is 4" in errors
    assert "parameter_invalid" in page.inner_text("#run-errors")
    screenshot(page, "07-admin-create-error")

    page.fill("#id_param_orderArrivals", "10, 20, 30, 12")
    page.fill("#id_param_orderErrorRate", "0.2")
    page.click("#preview-run")
    predicted = page.inner_text("#predicted-run-id")
    assert re.fullmatch(r"run_order-system_[0-9a-f]{16}", predicted)
    assert "orderErrorRate\t0.2" in page.inner_text("#planned-parameters")
    assert not Run.objects.exists() and not (data_root / "runs" / predicted).exists()
    screenshot(page, "08-admin-create-preview")

    page.click("#create-run")
    page.wait_for_url(re.compile(rf".*/admin/runs/run/{quote(predicted)}/change/$"))
    assert f"Created run {predicted}." in page.inner_text(".messagelist")
    assert (data_root / "runs" / predicted / "run.json").exists()
    screenshot(page, "09-admin-created-run")

    page.click("a.deletelink")
    assert "Are you sure" in page.inner_text("#content")
    screenshot(page, "10-admin-delete-confirm")
    with page.expect_navigation():
        page.click("#content input[type=submit]")
    assert page.url.endswith("/admin/runs/run/"), page.inner_text("body")[:800]
    assert not (data_root / "runs" / predicted).exists()
    assert not Run.objects.filter(run_id=predicted).exists()
    screenshot(page, "11-admin-after-delete")


def test_template_view_page_is_read_only_with_a_parameter_table(
    page: Any, live_server: Any, staff: User
) -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("sync_templates", stdout=StringIO())
    log_in(page, live_server.url)
    page.goto(live_server.url + "/admin/templates_catalog/template/order-system/change/")
    assert page.inner_text("#content h1") == "View template"
    assert page.locator("input[name=_save]").count() == 0
    headers = page.locator(".field-parameter_table table th").all_inner_texts()
    assert [h.lower() for h in headers] == ["name", "type", "default", "limits", "description"]
    screenshot(page, "12-admin-template-view")
