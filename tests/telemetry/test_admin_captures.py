"""The admin's capture pages: a read-only list and page, and deletion through the capture service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_helpers import DETERMINISTIC_ORDER_SYSTEM, ORDER_SYSTEM_RUN_ID, writer
from django.contrib.auth.models import User
from django.test import Client

from telemetry.models import Capture

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(settings: Any, data_root: Path) -> Client:
    api = writer(settings)
    assert api.post("/v1/runs", DETERMINISTIC_ORDER_SYSTEM, format="json").status_code == 201
    for capture_id in ("first", "second"):
        created = api.post(
            "/v1/captures", {"runId": ORDER_SYSTEM_RUN_ID, "captureId": capture_id}, format="json"
        )
        assert created.status_code == 201
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "not-used"))
    return client


def test_changelist_lists_captures_read_only(admin_client: Client, data_root: Path) -> None:
    listing = admin_client.get("/admin/telemetry/capture/")
    page = admin_client.get("/admin/telemetry/capture/first/change/")

    text = listing.content.decode()
    assert listing.status_code == 200
    assert "first" in text and "second" in text and ORDER_SYSTEM_RUN_ID in text
    assert admin_client.get("/admin/telemetry/capture/add/").status_code == 403
    assert page.status_code == 200
    html = page.content.decode()
    assert "OrderService_arrivals.csv" in html
    assert 'name="capture_id"' not in html  # no editable field
    assert str(data_root) not in html


def test_delete_action_removes_the_directory_then_the_row(admin_client: Client, data_root: Path) -> None:
    response = admin_client.post(
        "/admin/telemetry/capture/",
        {"action": "delete_selected", "_selected_action": ["first"], "post": "yes"},
    )

    assert response.status_code == 302
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == ["second"]
    assert list(Capture.objects.values_list("capture_id", flat=True)) == ["second"]


def test_delete_page_removes_one_capture(admin_client: Client, data_root: Path) -> None:
    response = admin_client.post("/admin/telemetry/capture/second/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert sorted(p.name for p in (data_root / "telemetry").iterdir()) == ["first"]
    assert list(Capture.objects.values_list("capture_id", flat=True)) == ["first"]
