"""The admin's "Create run" page: a form generated from the template's parameter schema, a dry-run
preview, creation through the orchestration service, and the service's errors inline with their codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_helpers import ORDER_SYSTEM_RUN_ID
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.test import Client

from runs.models import Run

pytestmark = pytest.mark.django_db
PAGE = "/admin/runs/run/create/"
DEFAULTS = {
    "template_id": "order-system",
    "param_bins": "4",
    "param_binSize": "5",
    "param_orderArrivals": "10, 14, 18, 12",
    "param_orderCapacity": "16, 16, 16, 16",
    "param_paymentCapacity": "14, 14, 14, 14",
    "param_orderErrorRate": "0.05",
    "param_paymentErrorRate": "0.02",
    "deterministic_run_id": "on",
}


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def test_template_picker_lists_the_catalog(staff: Client) -> None:
    html = staff.get(PAGE).content.decode()
    assert '<option value="order-system">Order System (order-system, simulation)</option>' in html
    assert 'id="create-run-form"' not in html


def test_form_is_generated_from_the_parameter_schema(staff: Client) -> None:
    html = staff.get(PAGE + "?template=order-system").content.decode()
    # Integer with limits and default (order-system.yaml: bins 1..288, default 4).
    assert 'name="param_bins" value="4" min="1" max="288"' in html
    assert "Number of time bins. Type: integer; ≥ 1 and ≤ 288. Default: 4." in html
    # Arrays: the default as comma-separated text, the length in the help.
    assert 'name="param_orderArrivals" value="10, 14, 18, 12"' in html
    assert "Type: array of 4 numbers, comma-separated (one per bin)" in html
    # Telemetry-bindable parameters cannot take a value in a simulation run: not offered.
    assert "param_telemetryArrivals" not in html


def test_preview_shows_the_predicted_id_and_writes_nothing(staff: Client, data_root: Path) -> None:
    response = staff.post(PAGE, {**DEFAULTS, "_preview": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    # The defaults of order-system with a deterministic id: the id the API golden tests know.
    assert f'<strong id="predicted-run-id">{ORDER_SYSTEM_RUN_ID}</strong>' in html
    assert "generate_model → evaluate → write_artifacts → publish → index" in html
    assert not (data_root / "runs").exists() or not any((data_root / "runs").iterdir())
    assert not Run.objects.exists()


def test_create_lands_on_the_run_page(staff: Client, data_root: Path) -> None:
    response = staff.post(PAGE, {**DEFAULTS, "_create": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/runs/run/{quote(ORDER_SYSTEM_RUN_ID)}/change/"
    assert (data_root / "runs" / ORDER_SYSTEM_RUN_ID / "run.json").is_file()
    assert Run.objects.filter(run_id=ORDER_SYSTEM_RUN_ID).exists()
    page = staff.get(response["Location"]).content.decode()
    assert f"Created run {ORDER_SYSTEM_RUN_ID}." in page
    again = staff.post(PAGE, {**DEFAULTS, "_create": "1"})
    assert again.status_code == 302
    assert f"Reused the existing run {ORDER_SYSTEM_RUN_ID}." in staff.get(again["Location"]).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"param_orderArrivals": "10, 14, 18"},
            "param_orderArrivals",
            "length: parameters.orderArrivals: orderArrivals has 3 elements but grid.bins is 4",
        ),
        (
            {"param_orderArrivals": "10, x, 18, 12"},
            "param_orderArrivals",
            "type: parameters.orderArrivals: must be an array of numbers, got the string",
        ),
        (
            {"run_id": "bad id!", "deterministic_run_id": ""},
            "run_id",
            "invalid_request: options.runId: does not match the run id pattern",
        ),
    ],
)
def test_service_errors_are_shown_inline_with_their_codes(
    staff: Client, data_root: Path, changes: dict[str, Any], field: str, message: str
) -> None:
    response = staff.post(PAGE, {**DEFAULTS, **changes, "_create": "1"})
    assert response.status_code == 422
    errors = response.context["form"].errors  # type: ignore[index]
    assert any(e.startswith(message) for e in errors[field]), errors
    assert errors["__all__"]
    assert not Run.objects.exists()


def test_form_limits_are_checked_before_the_service(staff: Client) -> None:
    response = staff.post(PAGE, {**DEFAULTS, "param_bins": "999", "_preview": "1"})
    assert response.status_code == 422
    assert response.context["form"].errors["param_bins"] == [  # type: ignore[index]
        "Ensure this value is less than or equal to 288."
    ]


def test_unknown_template_says_so(staff: Client) -> None:
    response = staff.get(PAGE + "?template=order-sytem")
    assert response.status_code == 422
    assert "template_not_found: Template &#x27;order-sytem&#x27; was not found." in response.content.decode()


def test_staff_without_add_permission_is_refused() -> None:
    client = Client()
    client.force_login(User.objects.create_user("viewer", "v@example.com", "pw", is_staff=True))
    assert client.get(PAGE).status_code == 403
